/* pool_map.c - pool_map_1, pool_map_1000: Pool(2).map of a trivial task
 * over COUNT ints in chunks of CHUNKSIZE, in tasks per second.
 *
 *     pool_map CHUNKSIZE COUNT    ->  "<tasks per second> tasks/s"
 *
 * What `with Pool(2) as p: p.map(f, range(COUNT), chunksize=CHUNKSIZE)`
 * costs once the workers are up (py_peer.py pool_map, and
 * pool_map_futures for ProcessPoolExecutor.map): the pool is started and
 * one small map is run untimed first, so the clock covers sending the
 * items, running the task on each and collecting the result list. The
 * task does nothing and gives None, so what is timed is the pool. */
#include "pool_work.h"

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t chunksize = bench_arg_u64(argc, argv, 1, "CHUNKSIZE");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");
    mp_pool *p;
    BENCH_CHECK(mp_pool_new(&p, 2, NULL, NULL, 0));
    mp_obj *warm = int_list(count / 100 + 10), *items = int_list(count);
    map_once(p, warm, (size_t)chunksize);
    uint64_t t0 = bench_now_ns();
    map_once(p, items, (size_t)chunksize);
    uint64_t ns = bench_now_ns() - t0;
    BENCH_CHECK(mp_pool_close(p));
    BENCH_CHECK(mp_pool_join(p));
    mp_pool_free(p);
    mp_obj_free(warm);
    mp_obj_free(items);
    bench_report(bench_per_s(count, ns), "tasks/s");
    return 0;
}
