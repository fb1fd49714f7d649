/* sync_semaphore.c - semaphore_1p: a Semaphore (mproc/synchronize.h) of
 * value 1 acquired and released COUNT times in this process.
 *
 *     sync_semaphore COUNT      ->  "<ns per acquire + release> ns/op"
 *
 * mp_semaphore_acquire(s, MP_FOREVER) and mp_semaphore_release with
 * nothing between: the uncontended cost of the pair, as Python's
 * multiprocessing.Semaphore(1) acquire() + release() (py_peer.py) and a
 * process-shared POSIX sem_t's sem_wait + sem_post (raw_sync semaphore).
 * The value is checked at the end. */
#include "mp_bench.h"

static void take_release(mp_semaphore *s, int64_t count)
{
    for (int64_t i = 0; i < count; i++) {
        BENCH_CHECK(mp_semaphore_acquire(s, MP_FOREVER));
        BENCH_CHECK(mp_semaphore_release(s));
    }
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t count = bench_arg_u64(argc, argv, 1, "COUNT");

    mp_semaphore *s;
    BENCH_CHECK(mp_semaphore_new(&s, 1));
    take_release(s, (int64_t)(count / 100 + 1)); /* warm the line and the code */
    uint64_t t0 = bench_now_ns();
    take_release(s, (int64_t)count);
    uint64_t ns = bench_now_ns() - t0;
    if (mp_semaphore_get_value(s) != 1)
        bench_die("sync_semaphore: value %lld at the end, expected 1",
                  (long long)mp_semaphore_get_value(s));
    bench_report((double)ns / (double)count, "ns/op");
    mp_semaphore_free(s);
    return 0;
}
