/* main.c - MPI's life in this process: mp_mpi_main() starts it and
 * decides the process's role (leader, world rank that serves, spawned
 * worker); mp_mpi_finalize() ends it, sending the world's ranks home. */
#include <stdlib.h>
#include <string.h>

#include "core/pool/mpi/mpi_pool.h"

mpi_state mpi__state;

int mp_mpi_world_size(void)
{
    mp__clear_error();
    if (!mpi__state.started)
        return mp_set_error(MP_ESTATE, "mpi: mp_mpi_main was not called");
    return mpi__state.size;
}

void mp_mpi_finalize(void)
{
    mpi_state *st = &mpi__state;
    if (!st->started || st->finalized || st->rank != 0) return;
    st->finalized = 1;
    /* The program finalized MPI itself: nothing can be sent any more. */
    int done = 0;
    MPI_Finalized(&done);
    if (done) return;
    /* A send to a dead rank would wait forever. */
    unsigned char none = 0;
    for (int r = 1; r < st->size; r++)
        if (!st->world_dead || !st->world_dead[r])
            MPI_Send(&none, 0, MPI_BYTE, r, TAG_EXIT, st->world);
    MPI_Comm_free(&st->world);
    free(st->world_dead);
    st->world_dead = NULL;
    for (int g = 0; g < st->ngroups; g++) {
        mpi_group *gr = &st->groups[g];
        /* The exit says whether the group lost a worker: then Open MPI's
         * runtime may no longer finish a finalize (docs/distributed.md). */
        unsigned char damaged = (unsigned char)(gr->damaged != 0);
        for (int r = 0; r < gr->n; r++)
            if (!gr->dead || !gr->dead[r])
                MPI_Send(&damaged, 1, MPI_BYTE, r, TAG_EXIT, gr->comm);
        /* Disconnecting waits for every worker of the group, forever for
         * a dead one. */
        if (gr->damaged)
            MPI_Comm_free(&gr->comm);
        else
            MPI_Comm_disconnect(&gr->comm);
        free(gr->dead);
        gr->dead = NULL;
    }
    st->ngroups = 0;
    free(st->self);
    st->self = NULL;
    if (st->ours) MPI_Finalize();
}

void mpi_mark_dead(MPI_Comm comm, int r)
{
    mpi_state *st = &mpi__state;
    if (comm == st->world) {
        if (!st->world_dead) st->world_dead = calloc((size_t)st->size, 1);
        if (st->world_dead && r >= 0 && r < st->size) st->world_dead[r] = 1;
        return;
    }
    for (int g = 0; g < st->ngroups; g++) {
        mpi_group *gr = &st->groups[g];
        if (gr->comm != comm) continue;
        gr->damaged = 1;
        if (!gr->dead) gr->dead = calloc((size_t)gr->n, 1);
        if (gr->dead && r >= 0 && r < gr->n) gr->dead[r] = 1;
    }
}

static void at_exit(void)
{
    mp_mpi_finalize();
}

/* A worker's end: MPI finalized, the process gone, main never run. A
 * spawned worker whose group lost another leaves without a disconnect or
 * a finalize: after a death Open MPI 4.1's finalize may wait forever on
 * its runtime (the parent has freed, not disconnected, the group). */
static void serve_and_exit(MPI_Comm comm, int lead, int spawned)
{
    int abandon = 0;
    int code = mpi_serve(comm, lead, &abandon);
    if (spawned && abandon) exit(code);
    if (spawned)
        MPI_Comm_disconnect(&comm);
    else
        MPI_Comm_free(&comm);
    if (mpi__state.ours) MPI_Finalize();
    exit(code);
}

int mp_mpi_main(int *argc, char ***argv)
{
    mp__clear_error();
    mpi_state *st = &mpi__state;
    if (st->started) return 0;
    int inited = 0, provided = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
            return mp_set_error(MP_ESYS, "mpi: MPI_Init_thread failed");
        st->ours = 1;
    } else {
        MPI_Query_thread(&provided);
    }
    /* The pool's thread makes the calls while the pool lives. */
    if (provided < MPI_THREAD_SERIALIZED)
        return mp_set_error(MP_EUNSUPPORTED,
                            "mpi: MPI gives thread level %d, the pool needs "
                            "MPI_THREAD_SERIALIZED",
                            provided);
    st->started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &st->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &st->size);
    int hlen = 0;
    MPI_Get_processor_name(st->host, &hlen);
    st->host[hlen > 0 && hlen <= MPI_MAX_PROCESSOR_NAME ? hlen : 0] = '\0';
    MPI_Comm parent = MPI_COMM_NULL;
    MPI_Comm_get_parent(&parent);
    if (parent != MPI_COMM_NULL) {
        MPI_Comm_set_errhandler(parent, MPI_ERRORS_RETURN);
        st->rank = -1; /* not a leader: finalize is the parent's */
        serve_and_exit(parent, 0, 1);
    }
    /* Every rank of the world makes the duplicate: a collective call. */
    MPI_Comm_dup(MPI_COMM_WORLD, &st->world);
    MPI_Comm_set_errhandler(st->world, MPI_ERRORS_RETURN);
    if (st->rank != 0) serve_and_exit(st->world, 0, 0);
    if (argv && *argv && (*argv)[0]) {
        size_t n = strlen((*argv)[0]) + 1;
        st->self = malloc(n);
        if (st->self) memcpy(st->self, (*argv)[0], n);
    }
    atexit(at_exit);
    return 0;
}
