/* sync_lock.c - lock_1p, lock_2p: a Lock (mproc/synchronize.h) taken and
 * released COUNT times in each of NPROC processes.
 *
 *     sync_lock 1 COUNT         ->  "<ns per acquire + release> ns/op"
 *     sync_lock NPROC COUNT     ->  "<increments per second, all processes> incr/s"
 *
 * NPROC 1 runs in this process: mp_lock_acquire(l, MP_FOREVER) and
 * mp_lock_release with nothing between, the uncontended cost of the pair.
 * NPROC > 1 spawns that many children which each, COUNT times, take the
 * lock, add one to a counter in a raw shared Array (no lock of its own)
 * and release it; the rate is all increments over the time from the start
 * barrier until the last child is done. The final count is checked.
 * Compare raw_sync lock, the same with a robust process-shared pthread
 * mutex. */
#include "mp_bench.h"

static void take_release(mp_lock *l, int64_t count)
{
    for (int64_t i = 0; i < count; i++) {
        BENCH_CHECK(mp_lock_acquire(l, MP_FOREVER));
        BENCH_CHECK(mp_lock_release(l));
    }
}

static void increment(mp_lock *l, volatile int64_t *counter, int64_t count)
{
    for (int64_t i = 0; i < count; i++) {
        BENCH_CHECK(mp_lock_acquire(l, MP_FOREVER));
        *counter += 1;
        BENCH_CHECK(mp_lock_release(l));
    }
}

static int worker(const mp_args *args)
{
    mp_lock *l = mp_args_lock(args, 0);
    mp_array *counter = mp_args_array(args, 1);
    mp_array *ctl = mp_args_array(args, 2);
    int64_t count, id;
    BENCH_CHECK(mp_args_get_int(args, 3, &count));
    BENCH_CHECK(mp_args_get_int(args, 4, &id));
    ctl_arrive(ctl);
    increment(l, (volatile int64_t *)mp_array_data(counter), count);
    ctl_stamp(ctl, (size_t)id, bench_now_ns());
    return 0;
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t nproc = bench_arg_u64(argc, argv, 1, "NPROC");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");
    if (nproc > 64) bench_die("sync_lock: at most 64 processes");

    mp_lock *l;
    BENCH_CHECK(mp_lock_new(&l));
    if (nproc == 1) {
        take_release(l, (int64_t)(count / 100 + 1)); /* warm the lock's line and code */
        uint64_t t0 = bench_now_ns();
        take_release(l, (int64_t)count);
        uint64_t ns = bench_now_ns() - t0;
        if (mp_lock_locked(l) != 0) bench_die("sync_lock: the lock is still held");
        bench_report((double)ns / (double)count, "ns/op");
        mp_lock_free(l);
        return 0;
    }

    mp_array *counter, *ctl = ctl_new(nproc);
    BENCH_CHECK(mp_array_new_raw(&counter, 'q', 1));
    mp_process *procs[64];
    for (uint64_t i = 0; i < nproc; i++)
        procs[i] =
            bench_start(worker, mp_args_of(l, counter, ctl, (int64_t)count, (int64_t)i),
                        MP_START_DEFAULT);
    uint64_t t0 = ctl_start(ctl, (int64_t)nproc);
    uint64_t t_end = 0;
    for (uint64_t i = 0; i < nproc; i++) {
        bench_join(procs[i]);
        uint64_t t = ctl_stamp_of(ctl, i);
        if (t > t_end) t_end = t;
    }
    int64_t total = 0;
    BENCH_CHECK(mp_array_get_int(counter, 0, &total));
    if ((uint64_t)total != nproc * count)
        bench_die("sync_lock: counted %lld, expected %llu", (long long)total,
                  (unsigned long long)(nproc * count));
    bench_report(bench_per_s(nproc * count, t_end - t0), "incr/s");
    mp_array_free(ctl);
    mp_array_free(counter);
    mp_lock_free(l);
    return 0;
}
