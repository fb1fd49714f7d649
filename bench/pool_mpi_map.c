/* pool_mpi_map.c - pool_mpi_map_1: the Pool on MPI ranks (mproc::mpi),
 * map of a trivial task over COUNT ints in chunks of CHUNKSIZE, in tasks
 * per second.
 *
 *     mpirun -n 3 pool_mpi_map CHUNKSIZE COUNT  ->  "<tasks per second> tasks/s"
 *
 * Rank 0 maps, ranks 1 and 2 work: what mpi4py_peer.py measures with
 * MPIPoolExecutor.map on the same ranks, and pool_map.c with a local
 * Pool(2). The pool is started and one small map run untimed first. Built
 * only with MPROC_WITH_MPI (bench/run turns it on where it finds MPI). */
#include <mproc/mpi.h>

#include "pool_work.h"

int main(int argc, char **argv)
{
    BENCH_CHECK(mp_mpi_main(&argc, &argv));
    uint64_t chunksize = bench_arg_u64(argc, argv, 1, "CHUNKSIZE");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");
    mp_mpi_pool_config cfg = {MP_MPI_AUTO, 0, NULL, NULL, NULL};
    mp_pool *p;
    BENCH_CHECK(mp_mpi_pool_new(&p, &cfg));
    timed_map(p, chunksize, count);
    return 0;
}
