/* raw_copy.c - the raw limits for moving a block through memory.
 *
 *     raw_copy memcpy SIZE COUNT   ->  "<GiB/s> GiB/s"
 *     raw_copy slice SIZE COUNT    ->  "<GiB/s> GiB/s"
 *
 * memcpy: one process copies SIZE bytes from one buffer to another COUNT
 * times (alternating between two pairs so the compiler cannot drop a
 * copy): the ceiling of any transport that copies the bytes once, and
 * queue_bulk's raw record (a queue copies twice, in and out, but may do
 * both at once on two cores).
 *
 * slice: array_slice without mproc. A forked child memcpys SIZE bytes
 * into shared memory, the parent memcpys them out; they hand over through
 * a turn counter beside the data (release / acquire), the waiting side
 * yielding the CPU between looks, exactly as array_slice takes turns but
 * with no lock. */
#include "raw_shm.h"

static double copy_only(uint64_t size, uint64_t count)
{
    unsigned char *a = bench_xmalloc(2 * size), *b = bench_xmalloc(2 * size);
    memset(a, 0x5a, 2 * size);
    memset(b, 0xa5, 2 * size);
    for (int k = 0; k < 2; k++) /* touch and warm both halves */
        memcpy(b + (uint64_t)k * size, a + (uint64_t)k * size, size);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < count; i++) {
        uint64_t off = (i & 1) * size;
        a[off] = (unsigned char)i;
        memcpy(b + off, a + off, size);
        __asm__ volatile("" ::: "memory"); /* every copy happens */
    }
    uint64_t ns = bench_now_ns() - t0;
    if (b[(count - 1) % 2 * size] != (unsigned char)(count - 1)) bench_die("memcpy lost");
    return bench_gib_per_s(size * count, ns);
}

struct slice {
    uint64_t turn;
    unsigned char pad[56];
    unsigned char data[];
};

struct job {
    struct slice *s;
    shm_ctl *ctl;
    uint64_t size, count;
};

static void wait_turn(struct slice *s, uint64_t want)
{
    while (__atomic_load_n(&s->turn, __ATOMIC_ACQUIRE) != want)
        bench_yield();
}

static int writer(void *arg)
{
    struct job *j = arg;
    unsigned char *src = bench_payload(j->size);
    shm_ctl_arrive(j->ctl);
    for (uint64_t i = 0; i < j->count; i++) {
        bench_stamp_msg(src, j->size, i);
        wait_turn(j->s, 2 * i);
        memcpy(j->s->data, src, j->size);
        __atomic_store_n(&j->s->turn, 2 * i + 1, __ATOMIC_RELEASE);
    }
    return 0;
}

static double slice(uint64_t size, uint64_t count)
{
    struct job j = {shm_anon(sizeof(struct slice) + size), shm_ctl_new(), size, count};
    unsigned char *dst = bench_xmalloc(size);
    pid_t pid = fork_worker(writer, &j);
    uint64_t t0 = shm_ctl_start(j.ctl, 1);
    for (uint64_t i = 0; i < count; i++) {
        wait_turn(j.s, 2 * i + 1);
        memcpy(dst, j.s->data, size);
        __atomic_store_n(&j.s->turn, 2 * i + 2, __ATOMIC_RELEASE);
        if (size >= 8 && bench_msg_seq(dst, size) != i) bench_die("raw_copy: slice lost");
    }
    uint64_t ns = bench_now_ns() - t0;
    wait_worker(pid);
    return bench_gib_per_s(size * count, ns);
}

int main(int argc, char **argv)
{
    const char *mode = bench_arg_str(argc, argv, 1, "memcpy|slice");
    uint64_t size = bench_arg_u64(argc, argv, 2, "SIZE");
    uint64_t count = bench_arg_u64(argc, argv, 3, "COUNT");
    if (strcmp(mode, "memcpy") == 0)
        bench_report(copy_only(size, count), "GiB/s");
    else if (strcmp(mode, "slice") == 0)
        bench_report(slice(size, count), "GiB/s");
    else
        bench_die("raw_copy: mode is memcpy or slice, not '%s'", mode);
    return 0;
}
