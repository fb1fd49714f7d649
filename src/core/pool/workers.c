/* workers.c - the pool's workers seen from the parent, whatever the
 * backend: giving them chunks, and settling what a dead one held.
 *
 * A worker is given at most a window of chunks ahead: enough to cover
 * about WINDOW_NS of its work, so that short tasks stream without a round
 * trip each while a long task keeps no other waiting behind it. */
#include <stdio.h>
#include <stdlib.h>

#include "core/pool/pool.h"

#define WINDOW_NS     2000000u /* docs/pool.md */
#define WINDOW_MAX    256u
#define UNREADY_LIMIT 8 /* mproc/pool.h */
#define PACE_MIN_HELD 4
#define PACE_MIN_NS   20000u
#define PACE_MAX_NS   1000000u

/* How many chunks worker w may hold now (docs/pool.md, "The parts"). */
static size_t window(const mp_pool *pool, const pool_worker *w)
{
    size_t n = 2;
    if (w->chunk_ns) n = WINDOW_NS / w->chunk_ns;
    if (n < 1) n = 1;
    if (n > WINDOW_MAX) n = WINDOW_MAX;
    if (pool->maxtasks) {
        size_t left = (size_t)pool->maxtasks - w->given;
        if (n > w->inflight + left) n = w->inflight + left;
    }
    return n;
}

/* The worker that should take the next chunk: the least busy one with
 * room, or -1. */
static int pick(mp_pool *pool)
{
    int best = -1;
    for (int i = 0; i < pool->nworkers; i++) {
        pool_worker *w = &pool->workers[i];
        if (!w->live || w->full || w->inflight >= window(pool, w)) continue;
        if (best < 0 || w->inflight < pool->workers[best].inflight) best = i;
    }
    return best;
}

void pool_dispatch(mp_pool *pool)
{
    while (pool->pending) {
        pool_chunk *c = pool->pending;
        if (pool->broken) {
            pool->pending = c->next;
            if (!pool->pending) pool->pending_tail = NULL;
            pool_job_end_chunk(c, NULL, 0,
                               pool_error_new(MP_EWORKERDIED, "%s", pool->broken_why));
            continue;
        }
        int i = pick(pool);
        if (i < 0) return;
        pool_worker *w = &pool->workers[i];
        if (pool->backend->send(pool, i, c->msg, c->len) < 0) {
            w->full = 1; /* tried again once a result frees room */
            continue;
        }
        pool->pending = c->next;
        if (!pool->pending) pool->pending_tail = NULL;
        c->next = NULL;
        if (w->tail)
            w->tail->next = c;
        else
            w->head = c;
        w->tail = c;
        w->inflight++;
        w->given++;
    }
}

uint64_t pool_pace_ns(const mp_pool *pool)
{
    uint64_t pace = PACE_MAX_NS;
    int live = 0;
    for (int i = 0; i < pool->nworkers; i++) {
        const pool_worker *w = &pool->workers[i];
        if (!w->live) continue;
        live++;
        /* A worker short of work, or of slow tasks, needs the handler to
         * answer its next result at once. */
        if (w->inflight < PACE_MIN_HELD || !w->chunk_ns || w->chunk_ns * 8 > WINDOW_NS)
            return 0;
        uint64_t half = w->inflight * w->chunk_ns / 2;
        if (half < pace) pace = half;
    }
    return live && pace >= PACE_MIN_NS ? pace : 0;
}

/* Puts the list head..tail back at the front of the pending list. */
static void requeue(mp_pool *pool, pool_chunk *head, pool_chunk *tail)
{
    if (!head) return;
    tail->next = pool->pending;
    if (!pool->pending) pool->pending_tail = tail;
    pool->pending = head;
}

void pool_settle(mp_pool *pool, int i, size_t taken, uint64_t begun, int exitcode,
                 int64_t pid, const char *name)
{
    pool_worker *w = &pool->workers[i];
    if (begun == POOL_SLOT_STARTING) {
        if (++pool->unready_deaths >= UNREADY_LIMIT) {
            pool->broken = 1;
            pool->broken_why = "the pool's workers die before they are ready "
                               "(does the initializer fail?)";
        }
    } else {
        pool->unready_deaths = 0;
    }
    for (; taken > 0 && w->head; taken--) {
        pool_chunk *c = w->head;
        w->head = c->next;
        if (!w->head) w->tail = NULL;
        mp_task_error *err = pool_error_new(
            MP_EWORKERDIED, "worker %s (pid %lld) died with exit code %d %s", name,
            (long long)pid, exitcode,
            c->id == begun ? "while running the task" : "holding the task");
        if (err) {
            err->pid = pid;
            err->exitcode = exitcode;
        }
        pool_job_end_chunk(c, NULL, 0, err);
    }
    requeue(pool, w->head, w->tail);
    w->head = w->tail = NULL;
    w->inflight = 0;
    w->chunk_ns = 0;
    w->live = 0;
    if (!pool->backend->replaces) {
        int left = 0;
        for (int k = 0; k < pool->nworkers; k++)
            left += pool->workers[k].live;
        if (!left) {
            pool->broken = 1;
            pool->broken_why = "every worker of the pool has died";
        }
    }
}

void mp__pool_worker_died(mp_pool *pool, int i, size_t taken, uint64_t begun,
                          int exitcode, int64_t pid, const char *name)
{
    mp_os_mutex_lock(pool->mu);
    pool_settle(pool, i, taken, begun, exitcode, pid, name);
    pool_dispatch(pool); /* a broken pool fails what waits */
    mp_os_mutex_unlock(pool->mu);
}

void mp__pool_worker_up(mp_pool *pool, int i, int64_t pid)
{
    mp_os_mutex_lock(pool->mu);
    pool->workers[i].live = 1;
    pool->workers[i].pid = pid;
    pool->workers[i].given = 0;
    pool->workers[i].full = 0;
    mp_os_mutex_unlock(pool->mu);
}

int pool_wants_workers(const mp_pool *pool)
{
    if (pool->broken || pool->state == POOL_TERMINATE) return 0;
    return pool->state == POOL_RUN || pool->pending;
}

void pool_fail_all(mp_pool *pool, int code, const char *why)
{
    for (int i = 0; i < pool->nworkers; i++) {
        pool_worker *w = &pool->workers[i];
        requeue(pool, w->head, w->tail);
        w->head = w->tail = NULL;
        w->inflight = 0;
    }
    while (pool->pending) {
        pool_chunk *c = pool->pending;
        pool->pending = c->next;
        pool_job_end_chunk(c, NULL, 0, pool_error_new(code, "%s", why));
    }
    pool->pending_tail = NULL;
}
