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
    timed_map(p, chunksize, count);
    return 0;
}
