/* backend.c - the pool's side of MPI workers: a pool_backend whose
 * workers are ranks of a communicator (the world's duplicate, or the
 * intercommunicator of a spawn). Only the pool's handler thread calls
 * MPI while the pool lives; the caller's thread calls it while the pool
 * starts and ends. A task message is copied and sent without waiting;
 * its request is completed at the next receive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pool/mpi/mpi_pool.h"

#define CHECK_EVERY 0.1  /* seconds between looks at the workers' pids while waiting */
#define PROGRESS_AT 1024 /* sends on their way that are tested at every receive */

typedef struct mpi_worker {
    int rank;    /* in comm */
    int present; /* serves this pool: it must be told to stop */
    int ready;   /* its hello came */
    int bye;     /* its bye came */
    int same_host;
    double heard; /* MPI_Wtime of its latest message, or of its start */
    int64_t pid;
    uint64_t sent; /* task messages sent to it */
    char name[64];
} mpi_worker;

typedef struct mpi_pool {
    MPI_Comm comm;
    int spawned; /* its workers are ranks 0.. of group */
    int group;
    int stopped;
    uint64_t gen;
    int n;
    mpi_worker *w;
    double deadline; /* seconds of silence that mean a worker is dead */
    /* task messages on their way, and their copies */
    MPI_Request *reqs;
    void **bufs;
    int *done;
    size_t nreqs, capreqs;
    unsigned char *rbuf;
    size_t rcap;
} mpi_pool;

static mpi_pool *of(mp_pool *pool)
{
    return pool->backend_data;
}

/* Completes the sends MPI has finished with, freeing their copies. */
static void progress(mpi_pool *m)
{
    if (!m->nreqs) return;
    int outcount = 0;
    MPI_Testsome((int)m->nreqs, m->reqs, &outcount, m->done, MPI_STATUSES_IGNORE);
    if (outcount <= 0) return;
    size_t k = 0;
    for (size_t i = 0; i < m->nreqs; i++) {
        if (m->reqs[i] == MPI_REQUEST_NULL) {
            free(m->bufs[i]);
            continue;
        }
        m->reqs[k] = m->reqs[i];
        m->bufs[k++] = m->bufs[i];
    }
    m->nreqs = k;
}

static int mpi_start(mp_pool *pool, int i)
{
    mpi_pool *m = of(pool);
    mpi_worker *w = &m->w[i];
    void *init = NULL;
    size_t ilen = 0;
    int rc = mp_obj_dumps(pool->initargs, &init, &ilen);
    if (rc < 0) return rc;
    size_t plen = pool->init_loc_len, len = 16 + plen + ilen;
    unsigned char *msg = malloc(len);
    if (!msg) {
        mp_free(init);
        return mp_set_error(MP_ENOMEM, "mpi pool: out of memory");
    }
    mpi_put64(msg, m->gen);
    mpi_put64(msg + 8, (uint64_t)(uint32_t)i | (uint64_t)plen << 32);
    if (plen) memcpy(msg + 16, pool->init_loc, plen);
    memcpy(msg + 16 + plen, init, ilen);
    mp_free(init);
    rc = len > (size_t)mpi_piece_size()
             ? mp_set_error(MP_ETOOBIG, "mpi pool: initargs too large")
             : MPI_Send(msg, (int)len, MPI_BYTE, w->rank, TAG_START, m->comm);
    free(msg);
    if (rc != 0) return rc < 0 ? rc : mp_set_error(MP_ESYS, "mpi pool: MPI_Send failed");
    w->present = 1;
    w->heard = MPI_Wtime();
    snprintf(w->name, sizeof w->name, "MPIPoolWorker-%d", w->rank);
    mp__pool_worker_up(pool, i, 0);
    return 0;
}

static int mpi_send(mp_pool *pool, int i, const void *msg, size_t len)
{
    mpi_pool *m = of(pool);
    if (m->nreqs == m->capreqs) {
        size_t cap = m->capreqs ? 2 * m->capreqs : 64;
        MPI_Request *r = realloc(m->reqs, cap * sizeof *r);
        if (r) m->reqs = r;
        void **b = realloc(m->bufs, cap * sizeof *b);
        if (b) m->bufs = b;
        int *d = realloc(m->done, cap * sizeof *d);
        if (d) m->done = d;
        if (!r || !b || !d) return MP_EFULL;
        m->capreqs = cap;
    }
    void *copy = malloc(len);
    if (!copy) return MP_EFULL;
    memcpy(copy, msg, len);
    MPI_Request req;
    if (MPI_Isend(copy, (int)len, MPI_BYTE, m->w[i].rank, TAG_TASK, m->comm, &req) !=
        MPI_SUCCESS) {
        free(copy);
        return MP_EFULL;
    }
    m->reqs[m->nreqs] = req;
    m->bufs[m->nreqs++] = copy;
    m->w[i].sent++;
    return 0;
}

/* The worker at rank r of comm, or -1. */
static int worker_of(const mpi_pool *m, int r)
{
    int i = m->spawned ? r : r - 1;
    return i >= 0 && i < m->n && m->w[i].rank == r ? i : -1;
}

static void hello(mp_pool *pool, int i, const unsigned char *p, size_t len)
{
    mpi_pool *m = of(pool);
    mpi_worker *w = &m->w[i];
    if (len < 24 || mpi_get64(p) != m->gen) return;
    int status = (int)(int64_t)mpi_get64(p + 8);
    w->pid = (int64_t)mpi_get64(p + 16);
    size_t hlen = len - 24;
    w->same_host =
        hlen == strlen(mpi__state.host) && memcmp(p + 24, mpi__state.host, hlen) == 0;
    /* The tests take every worker for a remote one, so that only the
     * heartbeats can tell a death (docs/distributed.md). */
    if (getenv("MPROC_MPI_TEST_REMOTE")) w->same_host = 0;
    w->ready = 1;
    if (status == 0) {
        mp__pool_worker_up(pool, i, w->pid);
        return;
    }
    /* It runs none of this pool's tasks, but waits for the stop. */
    mp__pool_worker_died(pool, i, 0, POOL_SLOT_STARTING, status, w->pid, w->name);
}

/* A result of worker i (rank src) sent in pieces after its length
 * (TAG_BIG). */
static void big(mp_pool *pool, int i, int src, const unsigned char *p, size_t len)
{
    mpi_pool *m = of(pool);
    if (len < 8) return;
    size_t total = (size_t)mpi_get64(p), piece = mpi_piece_size();
    unsigned char *all = malloc(total ? total : 1);
    for (size_t at = 0; at < total; at += piece) {
        size_t n = total - at < piece ? total - at : piece;
        unsigned char none;
        /* Received even without memory, into nothing (truncated): the
         * pieces must not stay to block the worker's later messages. */
        MPI_Recv(all ? all + at : &none, all ? (int)n : 0, MPI_BYTE, src, TAG_PIECE,
                 m->comm, MPI_STATUS_IGNORE);
        m->w[i].heard = MPI_Wtime();
    }
    if (all) mp__pool_take_result(pool, all, total);
    free(all);
}

/* Takes one message from any worker: 1 if one came. */
static int take_one(mp_pool *pool)
{
    mpi_pool *m = of(pool);
    int flag = 0;
    MPI_Message msg;
    MPI_Status st;
    MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, m->comm, &flag, &msg, &st);
    if (!flag) return 0;
    size_t len = 0;
    if (mpi_take(&msg, &st, &m->rbuf, &m->rcap, &len) < 0) return 1;
    int i = worker_of(m, st.MPI_SOURCE);
    if (i < 0) return 1;
    m->w[i].heard = MPI_Wtime(); /* TAG_BEAT says no more than that */
    switch (st.MPI_TAG) {
    case TAG_RESULT:
        mp__pool_take_result(pool, m->rbuf, len);
        break;
    case TAG_HELLO:
        hello(pool, i, m->rbuf, len);
        break;
    case TAG_BIG:
        big(pool, i, st.MPI_SOURCE, m->rbuf, len);
        break;
    case TAG_BYE:
        if (len >= 8 && mpi_get64(m->rbuf) == m->gen) m->w[i].bye = 1;
        break;
    default:
        break;
    }
    return 1;
}

static int mpi_receive(mp_pool *pool, double timeout)
{
    mpi_pool *m = of(pool);
    double end = MPI_Wtime() + timeout;
    uint64_t backoff = 0;
    /* Testing every send costs in proportion to their number: done when
     * nothing came, or when many wait. */
    if (m->nreqs >= PROGRESS_AT) progress(m);
    for (;;) {
        if (take_one(pool) || mp__pool_receive_local(pool, 0)) return 1;
        progress(m);
        double left = end - MPI_Wtime();
        if (left <= 0) return 0;
        /* Nothing from MPI: wait for a nudge a little, the longer the
         * longer nothing came. */
        double wait = (double)mpi_backoff_next(&backoff) * 1e-9;
        if (mp__pool_receive_local(pool, wait < left ? wait : left)) return 1;
    }
}

/* A worker on this machine whose process is gone, or one silent for the
 * deadline (every message it sent has been taken: a beat waiting in
 * MPI's queue is not silence). */
static int gone(mp_pool *pool, mpi_worker *w)
{
    mpi_pool *m = of(pool);
    if (w->same_host && w->pid > 0 && !mp__pool_pid_alive(w->pid)) return 1;
    if (MPI_Wtime() - w->heard < m->deadline) return 0;
    while (take_one(pool)) {
    }
    return MPI_Wtime() - w->heard >= m->deadline;
}

static void mpi_check(mp_pool *pool)
{
    mpi_pool *m = of(pool);
    for (int i = 0; i < m->n; i++) {
        mpi_worker *w = &m->w[i];
        if (!w->present || !gone(pool, w)) continue;
        w->present = 0;
        mpi_mark_dead(m->comm, w->rank);
        /* Its messages are all in: what it held began with its first. */
        while (take_one(pool)) {
        }
        const pool_worker *pw = &pool->workers[i];
        uint64_t begun = pw->head ? pw->head->id : POOL_SLOT_STARTING;
        if (!w->ready) begun = POOL_SLOT_STARTING;
        if (pw->live)
            mp__pool_worker_died(pool, i, begun == POOL_SLOT_STARTING ? 0 : 1, begun, -1,
                                 w->pid, w->name);
    }
}

/* Tells every worker this pool is over and waits for each to say bye,
 * or to be seen gone. */
static void mpi_stop(mp_pool *pool)
{
    mpi_pool *m = of(pool);
    if (m->stopped) return;
    m->stopped = 1;
    for (int i = 0; i < m->n; i++) {
        mpi_worker *w = &m->w[i];
        if (!w->present) continue;
        unsigned char stop[16];
        mpi_put64(stop, m->gen);
        mpi_put64(stop + 8, w->sent);
        MPI_Send(stop, 16, MPI_BYTE, w->rank, TAG_STOP, m->comm);
    }
    double next_check = MPI_Wtime() + CHECK_EVERY;
    uint64_t backoff = 0;
    for (;;) {
        int waiting = 0;
        for (int i = 0; i < m->n; i++)
            waiting += m->w[i].present && !m->w[i].bye;
        if (!waiting) break;
        progress(m);
        if (take_one(pool)) {
            backoff = 0;
            continue;
        }
        if (MPI_Wtime() >= next_check) {
            mpi_check(pool);
            next_check = MPI_Wtime() + CHECK_EVERY;
        }
        mpi_backoff(&backoff);
    }
    /* The sends a worker took before it stopped are complete by now;
     * those of a dead worker never will be: their copies stay. */
    progress(m);
}

static void mpi_release(void *data)
{
    mpi_pool *m = data;
    int clean = 1;
    for (int i = 0; i < m->n; i++)
        if (m->w && m->w[i].present && !m->w[i].bye) clean = 0;
    /* Sends to a dead worker: their copies are leaked, since MPI may still
     * read them. */
    for (size_t i = 0; i < m->nreqs; i++)
        MPI_Request_free(&m->reqs[i]);
    if (m->spawned && !clean) mpi__state.groups[m->group].damaged = 1;
    free(m->w);
    free(m->reqs);
    free(m->bufs);
    free(m->done);
    free(m->rbuf);
    free(m);
    mpi__state.pool_open = 0;
}

const pool_backend mpi_backend = {0,         mpi_start, mpi_send, mpi_receive,
                                  mpi_check, mpi_stop,  mpi_stop, mpi_release};

static int check_config(const mp_mpi_pool_config *cfg)
{
    if (cfg->mode != MP_MPI_AUTO && cfg->mode != MP_MPI_WORLD &&
        cfg->mode != MP_MPI_SPAWN)
        return mp_set_error(MP_EINVAL, "mpi pool: unknown mode %d", (int)cfg->mode);
    if (cfg->processes < 0)
        return mp_set_error(MP_EINVAL, "mpi pool: processes must be at least 1, not %d",
                            cfg->processes);
    if (cfg->initargs) {
        mp_obj_type t = mp_obj_type_of(cfg->initargs);
        if (t != MP_OBJ_TUPLE && t != MP_OBJ_LIST)
            return mp_set_error(MP_EINVAL, "mpi pool: initargs must be a tuple or list");
    }
    if (!mpi__state.started || mpi__state.finalized || mpi__state.rank != 0)
        return mp_set_error(MP_ESTATE, "mpi pool: call mp_mpi_main first (and not after "
                                       "mp_mpi_finalize)");
    if (mpi__state.pool_open)
        return mp_set_error(MP_ESTATE,
                            "mpi pool: another MPI pool of this process lives");
    return 0;
}

/* The communicator and ranks of n workers: the world's, or new ones. */
static int find_workers(const mp_mpi_pool_config *cfg, mpi_pool *m, int *n)
{
    mpi_state *st = &mpi__state;
    int spawn = cfg->mode == MP_MPI_SPAWN || (cfg->mode == MP_MPI_AUTO && st->size == 1);
    if (!spawn) {
        if (st->size < 2)
            return mp_set_error(MP_EUNSUPPORTED,
                                "mpi pool: the world has no rank but this one");
        *n = cfg->processes ? cfg->processes : st->size - 1;
        if (*n > st->size - 1)
            return mp_set_error(MP_EINVAL, "mpi pool: %d workers asked, the world has %d",
                                *n, st->size - 1);
        m->comm = st->world;
        return 0;
    }
    *n = cfg->processes ? cfg->processes : mp_process_cpu_count();
    if (*n < 1) *n = 1;
    m->spawned = 1;
    for (int g = 0; g < st->ngroups; g++) {
        if (st->groups[g].n >= *n && !st->groups[g].damaged) {
            m->group = g;
            m->comm = st->groups[g].comm;
            return 0;
        }
    }
    if (st->ngroups == MPI_GROUPS_MAX)
        return mp_set_error(MP_ESTATE,
                            "mpi pool: %d spawns made already; ask the first "
                            "pool for as many workers as any later one",
                            MPI_GROUPS_MAX);
    const char *cmd = cfg->command ? cfg->command : st->self;
    if (!cmd) return mp_set_error(MP_EINVAL, "mpi pool: no command to spawn");
    int *errs = calloc((size_t)*n, sizeof *errs);
    if (!errs) return mp_set_error(MP_ENOMEM, "mpi pool: out of memory");
    MPI_Comm comm = MPI_COMM_NULL;
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    int rc = MPI_Comm_spawn(cmd, MPI_ARGV_NULL, *n, MPI_INFO_NULL, 0, MPI_COMM_SELF,
                            &comm, errs);
    free(errs);
    if (rc != MPI_SUCCESS) {
        char why[MPI_MAX_ERROR_STRING];
        int wlen = 0;
        MPI_Error_string(rc, why, &wlen);
        return mp_set_error(MP_ESYS, "mpi pool: MPI_Comm_spawn of %s failed: %.*s", cmd,
                            wlen, why);
    }
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    m->group = st->ngroups++;
    st->groups[m->group] = (mpi_group){comm, *n, 0, NULL};
    m->comm = comm;
    return 0;
}

int mp_mpi_pool_new(mp_pool **out, const mp_mpi_pool_config *cfg)
{
    mp__clear_error();
    if (!out || !cfg) return mp_set_error(MP_EINVAL, "mpi pool: NULL argument");
    *out = NULL;
    int rc = check_config(cfg);
    if (rc < 0) return rc;
    mpi_pool *m = calloc(1, sizeof *m);
    if (!m) return mp_set_error(MP_ENOMEM, "mpi pool: out of memory");
    m->comm = MPI_COMM_NULL;
    mpi__state.pool_open = 1;
    int n = 0;
    rc = find_workers(cfg, m, &n);
    if (rc == 0) {
        m->n = n;
        m->w = calloc((size_t)n, sizeof *m->w);
        if (!m->w) rc = mp_set_error(MP_ENOMEM, "mpi pool: out of memory");
    }
    if (rc < 0) {
        mpi_release(m);
        return rc;
    }
    m->gen = ++mpi__state.gen;
    const char *dl = getenv("MPROC_MPI_DEADLINE");
    m->deadline = dl && atof(dl) > 0 ? atof(dl) : DEADLINE;
    for (int i = 0; i < n; i++)
        m->w[i].rank = m->spawned ? i : i + 1;
    mp_pool_config pc = {n, cfg->initializer, cfg->initargs, 0, MP_START_DEFAULT};
    return mp__pool_new_backend(out, &pc, n, &mpi_backend, m);
}
