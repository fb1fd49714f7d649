"""mpi4py_peer.py - pool_mpi_map_1's peer: mpi4py's MPIPoolExecutor.map
of a trivial task on the same ranks as bench/pool_mpi_map.c.

    mpirun -n 3 python3 -m mpi4py.futures mpi4py_peer.py map CHUNKSIZE COUNT
        -> "<tasks per second> tasks/s"

Rank 0 runs this script; mpi4py.futures makes ranks 1 and 2 its workers.
The executor is started and one small map run untimed first, as in
pool_mpi_map.c; the clock covers the map and collecting its results.
"""
import sys
import time

from mpi4py.futures import MPIPoolExecutor


def task(x):
    return None  # the trivial task of pool_mpi_map.c: nothing, and None


def pool_map(chunksize, count):
    with MPIPoolExecutor() as ex:
        warm = list(ex.map(task, range(count // 100 + 10), chunksize=chunksize))
        if len(warm) != count // 100 + 10:
            sys.exit("mpi4py_peer: warm-up lost results")
        t0 = time.perf_counter()
        results = list(ex.map(task, range(count), chunksize=chunksize))
        elapsed = time.perf_counter() - t0
    if len(results) != count:
        sys.exit(f"mpi4py_peer: {len(results)} results for {count} items")
    print(f"{count / elapsed:.6g} tasks/s")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "map":
        sys.exit("usage: mpi4py_peer.py map CHUNKSIZE COUNT")
    pool_map(int(sys.argv[2]), int(sys.argv[3]))
