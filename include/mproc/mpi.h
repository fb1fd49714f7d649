/* mproc/mpi.h - the Pool on MPI ranks (library mproc::mpi, built with
 * -DMPROC_WITH_MPI=ON; mpi4py's MPIPoolExecutor is the Python precedent).
 *
 * The pool these calls make is an ordinary mp_pool: every call of
 * mproc/pool.h works on it, with the same tasks, the same pickled
 * arguments and results, chunksize, imap and imap_unordered. Only where
 * the workers run differs:
 *   - static world: `mpirun -n N ./app`: rank 0 runs main and the other
 *     N - 1 ranks serve its pools;
 *   - spawn: a program started alone (or as one rank) starts its workers
 *     with MPI_Comm_spawn, running the same program.
 * Either way the program calls mp_mpi_main() first thing in main (after
 * mp_main(), when it also starts local processes).
 *
 * What differs from local workers (docs/distributed.md): a worker is not
 * replaced when it dies; maxtasksperchild is refused; terminate cannot
 * interrupt a task a remote rank runs (it drops the tasks not begun and
 * waits for the running ones); one MPI pool lives at a time in a process,
 * and while it lives the program must not call MPI itself unless it
 * initialized MPI with MPI_THREAD_MULTIPLE. Where MPI lets the job
 * survive a worker's death, the pool sees it by pid on its own machine
 * and by the worker's silence (no heartbeat for 30 s) on any other;
 * docs/distributed.md says what happens where MPI does not. */
#ifndef MPROC_MPI_H
#define MPROC_MPI_H

#include "pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Initializes MPI (unless the program already did, with at least
 * MPI_THREAD_SERIALIZED) and decides what this process is. In rank 0 of
 * the world, or a program started alone, it returns 0 and main goes on;
 * MPI is finalized at exit (or by mp_mpi_finalize()). In every other rank
 * and in a spawned worker it serves pools until the leader finalizes,
 * then exits the process with 0 (70 if the leader broke the protocol):
 * it never returns there. MP_EUNSUPPORTED if MPI gives too little thread
 * support; MP_ESYS if MPI fails. */
MP_API int mp_mpi_main(int *argc, char ***argv);

/* Where a pool's workers come from. */
typedef enum mp_mpi_mode {
    MP_MPI_AUTO = 0, /* the world's other ranks if there are any, else spawn */
    MP_MPI_WORLD,    /* ranks 1 .. processes of the world */
    MP_MPI_SPAWN     /* processes new ones, with MPI_Comm_spawn */
} mp_mpi_mode;

typedef struct mp_mpi_pool_config {
    mp_mpi_mode mode;
    /* WORLD: how many ranks serve, 0 for all but rank 0; SPAWN: how many
     * to start, 0 for mp_process_cpu_count(). */
    int processes;
    mp_pool_init_fn initializer; /* NULL: none */
    const mp_obj *initargs;      /* tuple or list for initializer; NULL: () */
    /* SPAWN: the program to start, which must call mp_mpi_main() first;
     * NULL: this program (argv[0] as mp_mpi_main() saw it). */
    const char *command;
} mp_mpi_pool_config;

/* Starts a pool on MPI ranks; the caller owns *pool and frees it with
 * mp_pool_free(). A worker whose initializer fails serves no task of this
 * pool. MP_EINVAL for a bad config (more ranks than the world has, a
 * negative count, bad initargs) or NULL; MP_ESTATE before mp_mpi_main(),
 * after mp_mpi_finalize(), or while another MPI pool of this process
 * lives; MP_EUNSUPPORTED for WORLD without other ranks; MP_ESYS if MPI
 * fails to spawn. */
MP_API int mp_mpi_pool_new(mp_pool **pool, const mp_mpi_pool_config *config);

/* The number of ranks in the world (1 for a program started alone), or
 * MP_ESTATE before mp_mpi_main(). */
MP_API int mp_mpi_world_size(void);

/* Tells the world's serving ranks to exit and finalizes MPI, if
 * mp_mpi_main() initialized it. Called at exit if not before; every MPI
 * pool must be freed first. Idempotent. */
MP_API void mp_mpi_finalize(void);

#ifdef __cplusplus
}
#endif
#endif
