/* value_incr.c - value_incr_*: `with v.get_lock(): v.value += 1` in C,
 * COUNT times in each of NPROC processes.
 *
 *     value_incr NPROC COUNT      ->  "<ns per increment> ns/op"
 *
 * NPROC 1 runs in this process: the uncontended cost of lock, get, set,
 * unlock (the get and set take the recursive lock again, as Python's do).
 * NPROC > 1 spawns that many children that increment the same Value at
 * once; the time is from the start barrier until the last child is done,
 * divided by all increments, so it is the cost of one increment when the
 * lock is fought over. The final value is checked. */
#include "mp_bench.h"

static void increment(mp_value *v, int64_t count)
{
    for (int64_t i = 0; i < count; i++) {
        int64_t x = 0;
        BENCH_CHECK(mp_value_lock(v));
        BENCH_CHECK(mp_value_get_int(v, &x));
        BENCH_CHECK(mp_value_set_int(v, x + 1));
        BENCH_CHECK(mp_value_unlock(v));
    }
}

static int worker(const mp_args *args)
{
    mp_value *v = mp_args_value(args, 0);
    mp_array *ctl = mp_args_array(args, 1);
    int64_t count, id;
    BENCH_CHECK(mp_args_get_int(args, 2, &count));
    BENCH_CHECK(mp_args_get_int(args, 3, &id));
    ctl_arrive(ctl);
    increment(v, count);
    ctl_stamp(ctl, (size_t)id, bench_now_ns());
    return 0;
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t nproc = bench_arg_u64(argc, argv, 1, "NPROC");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");
    if (nproc > 64) bench_die("value_incr: at most 64 processes");

    mp_value *v;
    BENCH_CHECK(mp_value_new(&v, 'q'));
    uint64_t ns;
    if (nproc == 1) {
        increment(v, (int64_t)(count / 100 + 1)); /* warm the lock's line and code */
        BENCH_CHECK(mp_value_set_int(v, 0));
        uint64_t t0 = bench_now_ns();
        increment(v, (int64_t)count);
        ns = bench_now_ns() - t0;
    } else {
        mp_array *ctl = ctl_new(nproc);
        mp_process *procs[64];
        for (uint64_t i = 0; i < nproc; i++)
            procs[i] = bench_start(worker, mp_args_of(v, ctl, (int64_t)count, (int64_t)i),
                                   MP_START_DEFAULT);
        uint64_t t0 = ctl_start(ctl, (int64_t)nproc);
        uint64_t t_end = 0;
        for (uint64_t i = 0; i < nproc; i++) {
            bench_join(procs[i]);
            uint64_t t = ctl_stamp_of(ctl, i);
            if (t > t_end) t_end = t;
        }
        ns = t_end - t0;
        mp_array_free(ctl);
    }
    int64_t total = 0;
    BENCH_CHECK(mp_value_get_int(v, &total));
    if ((uint64_t)total != nproc * count)
        bench_die("value_incr: counted %lld, expected %llu", (long long)total,
                  (unsigned long long)(nproc * count));
    bench_report((double)ns / (double)(nproc * count), "ns/op");
    mp_value_free(v);
    return 0;
}
