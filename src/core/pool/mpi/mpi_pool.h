/* mpi_pool.h - the Pool's MPI backend, built apart as mproc::mpi: the one
 * part of mproc that includes mpi.h. It reaches the pool only through
 * the mp__pool_* calls that core/pool/pool.h exports.
 *
 * Files: main.c (MPI's life in this process, and which role it has),
 * serve.c (a worker rank's loop), backend.c (the pool's side), xfer.c
 * (messages of any size, and waiting on MPI without spinning a core).
 * docs/distributed.md tells the protocol. */
#ifndef MP_CORE_POOL_MPI_MPI_POOL_H
#define MP_CORE_POOL_MPI_MPI_POOL_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "core/pool/pool.h"
#include "mproc/mpi.h"

/* The messages between a pool (the leader) and a worker rank. Between
 * one pair they arrive in the order sent, whatever their tag. */
enum mpi_tag {
    TAG_START = 1, /* leader: generation, place, initializer, initargs */
    TAG_HELLO,     /* worker: generation, initializer's status, pid, host */
    TAG_TASK,      /* leader: a task message (core/pool/wire.c) */
    TAG_RESULT,    /* worker: a result message, whole */
    TAG_BIG,       /* worker: the length of a result sent in pieces */
    TAG_PIECE,     /* worker: one piece of it */
    TAG_STOP,      /* leader: generation, task messages sent: drop the rest */
    TAG_BYE,       /* worker: generation, after a stop */
    TAG_EXIT,      /* leader: leave mp_mpi_main (1 byte: the group lost a worker) */
    TAG_BEAT       /* worker: generation, every BEAT_NS while it serves a pool */
};

/* A worker serving a pool says it lives every BEAT_NS, from a thread of
 * its own, also while a task runs; the pool takes a worker it has heard
 * nothing from for DEADLINE seconds (MPROC_MPI_DEADLINE in the
 * environment sets another) as dead. docs/distributed.md. */
#define BEAT_NS  1000000000u
#define DEADLINE 30.0

/* Workers this process spawned: kept until mp_mpi_finalize, and lent to
 * each later pool that wants no more of them, because Open MPI 4.1's
 * spawn now and then hangs when a process repeats it
 * (docs/distributed.md). */
#define MPI_GROUPS_MAX 8
typedef struct mpi_group {
    MPI_Comm comm; /* the intercommunicator of the spawn */
    int n;
    int damaged;         /* a worker was seen dead, or did not stop: never
                            disconnect it, nor lend it again */
    unsigned char *dead; /* per rank: seen dead, never to be sent to */
} mpi_group;

/* What this process knows of MPI (main.c). */
typedef struct mpi_state {
    int started;    /* mp_mpi_main ran */
    int ours;       /* and initialized MPI: finalize it at the end */
    int finalized;  /* mp_mpi_finalize ran */
    MPI_Comm world; /* rank 0 leads its own duplicate of the world */
    int rank, size; /* in the world */
    int pool_open;  /* an MPI pool lives (one at a time) */
    uint64_t gen;   /* pools made so far, numbering their messages */
    char host[MPI_MAX_PROCESSOR_NAME + 1];
    char *self;                /* argv[0], the program a spawn starts */
    unsigned char *world_dead; /* per rank of the world: seen dead */
    mpi_group groups[MPI_GROUPS_MAX];
    int ngroups;
} mpi_state;
extern mpi_state mpi__state;

/* Serves pools of the leader (rank lead of comm) until told to exit: 0,
 * or 70 for a broken protocol. *abandon: the exit said the group lost a
 * worker. serve.c */
int mpi_serve(MPI_Comm comm, int lead, int *abandon);

/* Rank r of comm (the world's duplicate or a group's) was seen dead: the
 * finalize sends it nothing, and its group is never disconnected. */
void mpi_mark_dead(MPI_Comm comm, int r);

/* ---- xfer.c ---- */

/* In a worker, its main thread and its heartbeat thread take turns at MPI
 * (MPI_THREAD_SERIALIZED) under this lock; NULL in the leader, where only
 * the pool's thread calls MPI while the pool lives. */
extern mp_os_mutex *mpi__lock;
void mpi_lock(void);
void mpi_unlock(void);

/* The largest count one MPI call moves: Open MPI counts are int; a larger
 * message goes in pieces of this size (MPROC_MPI_PIECE in the environment
 * sets a smaller one, for tests). */
size_t mpi_piece_size(void);

/* Sends a worker's result message: whole under TAG_RESULT, or as its
 * length under TAG_BIG then pieces under TAG_PIECE. */
int mpi_send_result(MPI_Comm comm, int dest, const void *msg, size_t len);

/* Waits for the next message from src (MPI_ANY_SOURCE: anyone) polling
 * with a growing sleep, so that an idle process does not spin a core as
 * MPI's blocking calls do. */
void mpi_probe_wait(MPI_Comm comm, int src, MPI_Message *m, MPI_Status *st);

/* How long to wait when nothing came: *backoff_ns (0 to start) grows by
 * doubling from a microsecond to a millisecond. mpi_backoff sleeps that
 * long. */
uint64_t mpi_backoff_next(uint64_t *backoff_ns);
void mpi_backoff(uint64_t *backoff_ns);

/* Takes the message m (count bytes by st) into *buf, growing it. */
int mpi_take(MPI_Message *m, const MPI_Status *st, unsigned char **buf, size_t *cap,
             size_t *len);

/* Little-endian fields of the messages of this backend. */
void mpi_put64(unsigned char *w, uint64_t v);
uint64_t mpi_get64(const unsigned char *p);

/* The MPI pool's backend (backend.c). */
extern const pool_backend mpi_backend;

#endif
