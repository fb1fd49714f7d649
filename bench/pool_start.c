/* pool_start.c - pool_start: a Pool(2) created, one map of a 3-item list
 * run on it, closed, joined and freed, COUNT times, in microseconds per
 * time.
 *
 *     pool_start COUNT    ->  "<us per pool> us"
 *
 * What `p = Pool(2); p.map(f, [0, 1, 2]); p.close(); p.join()` costs
 * (py_peer.py pool_start, and pool_start_futures for a
 * ProcessPoolExecutor(2) with one map and shutdown): starting both
 * workers with mproc's default start method, their first task, and their
 * exit. One untimed time first loads the executable and libraries into
 * the page cache. */
#include "mp_bench.h"

static int trivial(const mp_obj *args, mp_obj **result)
{
    (void)args;
    (void)result; /* left NULL: None */
    return 0;
}

static void one(const mp_obj *items)
{
    mp_pool *p;
    mp_obj *out = NULL;
    BENCH_CHECK(mp_pool_new(&p, 2, NULL, NULL, 0));
    BENCH_CHECK(mp_pool_map(p, trivial, items, 0, &out));
    if (mp_obj_len(out) != 3) bench_die("pool_start: %zu results", mp_obj_len(out));
    mp_obj_free(out);
    BENCH_CHECK(mp_pool_close(p));
    BENCH_CHECK(mp_pool_join(p));
    mp_pool_free(p);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t count = bench_arg_u64(argc, argv, 1, "COUNT");
    mp_obj *items = MP_LIST(mp_obj_int(0), mp_obj_int(1), mp_obj_int(2));
    if (!items) bench_die("pool_start: out of memory");
    one(items);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < count; i++)
        one(items);
    uint64_t ns = bench_now_ns() - t0;
    mp_obj_free(items);
    bench_report((double)ns / 1e3 / (double)count, "us");
    return 0;
}
