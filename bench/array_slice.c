/* array_slice.c - array_slice_*: a SIZE-byte slice written into a shared
 * Array by one process and read out by another, COUNT times.
 *
 *     array_slice SIZE COUNT      ->  "<GiB/s> GiB/s"
 *
 * The Array is 'c' (bytes, as Python's Array('c')): an 8-byte turn counter
 * at element 0, the slice from element 64. A spawned child writes
 * (`a[64:64+SIZE] = data`, mp_array_write) when the counter is even and
 * bumps it; the parent reads (`a[64:64+SIZE]`, mp_array_read into its own
 * buffer) when it is odd and bumps it. A side waits for its turn looking
 * at the counter through mp_array_data (Python: get_obj()), yielding the
 * CPU between looks, then takes the Array's lock (recursive, so the write
 * or read inside takes it again cheaply), moves the slice and bumps the
 * counter, so the handover needs nothing but the Array. GiB/s counts the
 * bytes that reached the reader, from the start barrier to the last read:
 * the figure to hold against moving the same bytes through a pipe. */
#include "mp_bench.h"

#define SLICE_AT 64

/* Waits for the turn counter to equal want, then (under the lock) runs
 * one write or read of the slice and bumps the counter. The waiting side
 * looks at the counter without the lock, as raw_copy's slice does: a look
 * under the lock would collide with the other side's 1 MiB copy and put
 * the looker to sleep, which times the wake-up, not the slice. */
static void take_turn(mp_array *a, int64_t want, int writing, unsigned char *buf,
                      size_t size)
{
    int64_t *turn = mp_array_data(a);
    while (__atomic_load_n(turn, __ATOMIC_ACQUIRE) != want)
        bench_yield();
    BENCH_CHECK(mp_array_lock(a, NULL));
    if (writing)
        BENCH_CHECK(mp_array_write(a, SLICE_AT, size, buf));
    else
        BENCH_CHECK(mp_array_read(a, SLICE_AT, size, buf));
    __atomic_store_n(turn, want + 1, __ATOMIC_RELEASE);
    BENCH_CHECK(mp_array_unlock(a));
}

static int writer(const mp_args *args)
{
    mp_array *a = mp_args_array(args, 0);
    mp_array *ctl = mp_args_array(args, 1);
    int64_t size, count;
    BENCH_CHECK(mp_args_get_int(args, 2, &size));
    BENCH_CHECK(mp_args_get_int(args, 3, &count));
    unsigned char *src = bench_payload((size_t)size);
    ctl_arrive(ctl);
    for (int64_t i = 0; i < count; i++) {
        bench_stamp_msg(src, (size_t)size, (uint64_t)i);
        take_turn(a, 2 * i, 1, src, (size_t)size);
    }
    free(src);
    return 0;
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t size = bench_arg_u64(argc, argv, 1, "SIZE");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");

    mp_array *a;
    BENCH_CHECK(mp_array_new(&a, 'c', SLICE_AT + size));
    mp_array *ctl = ctl_new(0);
    mp_process *p = bench_start(writer, mp_args_of(a, ctl, (int64_t)size, (int64_t)count),
                                MP_START_DEFAULT);
    unsigned char *dst = bench_xmalloc((size_t)size);

    uint64_t t0 = ctl_start(ctl, 1);
    for (uint64_t i = 0; i < count; i++) {
        take_turn(a, 2 * (int64_t)i + 1, 0, dst, (size_t)size);
        if (size >= 8 && bench_msg_seq(dst, (size_t)size) != i)
            bench_die("array_slice: read slice %llu, found %llu", (unsigned long long)i,
                      (unsigned long long)bench_msg_seq(dst, (size_t)size));
    }
    uint64_t ns = bench_now_ns() - t0;

    bench_join(p);
    bench_report(bench_gib_per_s(size * count, ns), "GiB/s");
    free(dst);
    mp_array_free(ctl);
    mp_array_free(a);
    return 0;
}
