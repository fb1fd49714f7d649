/* workers.c - the pool's workers seen from the parent: starting one,
 * giving it chunks, and settling what a dead one held.
 *
 * A worker is given at most a window of chunks ahead: enough to cover
 * about WINDOW_NS of its work, so that short tasks stream without a round
 * trip each while a long task keeps no other waiting behind it. */
#include <stdio.h>
#include <stdlib.h>

#include "core/pool/pool.h"
#include "mproc/array.h"

#define WINDOW_NS     2000000u /* docs/pool.md */
#define WINDOW_MAX    256u
#define UNREADY_LIMIT 8 /* mproc/pool.h */
#define PACE_MIN_HELD 4
#define PACE_MIN_NS   20000u
#define PACE_MAX_NS   1000000u

static mp_atomic_u64 *slot_word(mp_pool *pool, int i)
{
    return (mp_atomic_u64 *)mp_array_data(pool->slots) + i;
}

int pool_worker_start(mp_pool *pool, int i)
{
    pool_worker *w = &pool->workers[i];
    mp_queue *tasks = NULL;
    mp_process *p = NULL;
    char name[64];
    int rc = mp_simple_queue_new(&tasks);
    mp_store64(slot_word(pool, i), POOL_SLOT_STARTING, MP_RELEASE);
    mp_obj *init = NULL;
    if (rc == 0 && pool->init_loc) {
        init = mp_obj_bytes(pool->init_loc, pool->init_loc_len);
        if (!init) rc = mp_set_error(MP_ENOMEM, "pool: out of memory");
    }
    if (rc == 0)
        rc = mp_process_new(&p, mp__pool_worker_main,
                            mp_args_of(tasks, pool->results, pool->slots, i,
                                       init ? init : mp_obj_none(), pool->initargs,
                                       pool->maxtasks, pool_layout_mark()));
    if (rc == 0) {
        snprintf(name, sizeof name, "%sPoolWorker-%u",
                 pool->method == MP_START_FORK ? "Fork" : "Spawn", ++pool->named);
        rc = mp_process_set_name(p, name);
    }
    if (rc == 0) rc = mp_process_set_daemon(p, 1);
    if (rc == 0 && pool->method != MP_START_DEFAULT)
        rc = mp_process_set_start_method(p, pool->method);
    if (rc == 0) rc = mp_process_start(p);
    mp_obj_free(init);
    if (rc < 0) {
        mp_process_free(p);
        mp_queue_free(tasks);
        return rc;
    }
    mp_os_mutex_lock(pool->mu);
    w->proc = p;
    w->tasks = tasks;
    w->given = 0;
    w->full = 0;
    mp_os_mutex_unlock(pool->mu);
    return 0;
}

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
        if (!w->proc || w->full || w->inflight >= window(pool, w)) continue;
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
            pool_job_end_chunk(
                c, NULL, 0,
                pool_error_new(MP_EWORKERDIED,
                               "the pool's workers die before they are ready "
                               "(does the initializer fail?)"));
            continue;
        }
        int i = pick(pool);
        if (i < 0) return;
        pool_worker *w = &pool->workers[i];
        if (mp_queue_put_bytes(w->tasks, c->msg, c->len, 0) < 0) {
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
        if (!w->proc) continue;
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

/* How many of the chunks sent to worker i are still in its task queue,
 * taking them out so that nothing can take them any more: a process the
 * OS already calls dead may still run for an instant (Wine ends a killed
 * process's threads after it signals its handle). A message a dead
 * reader left half-read comes out whole; a dropped one counts too. */
static size_t take_back(pool_worker *w)
{
    size_t left = 0;
    for (;;) {
        void *data = NULL;
        size_t len = 0;
        int rc = mp_queue_get_bytes(w->tasks, &data, &len, 0);
        if (rc != 0 && rc != MP_EOWNERDEAD) break;
        mp_free(data);
        left++;
    }
    return left;
}

/* Settles what dead worker i held (under the mutex): the chunks it took
 * from its queue fail (one, unless results were lost with it), those it
 * never took go back to be sent again. */
static void settle(mp_pool *pool, int i, int exitcode, int64_t pid, const char *name)
{
    pool_worker *w = &pool->workers[i];
    uint64_t begun = mp_load64(slot_word(pool, i), MP_ACQUIRE);
    if (begun == POOL_SLOT_STARTING) {
        if (++pool->unready_deaths >= UNREADY_LIMIT) pool->broken = 1;
    } else {
        pool->unready_deaths = 0;
    }
    size_t left = take_back(w);
    size_t taken = w->inflight > left ? w->inflight - left : 0;
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
}

/* 1 if the pool still needs worker slots filled. */
static int wants_workers(const mp_pool *pool)
{
    if (pool->broken || pool->state == POOL_TERMINATE) return 0;
    return pool->state == POOL_RUN || pool->pending;
}

void pool_check_workers(mp_pool *pool)
{
    for (int i = 0; i < pool->nworkers; i++) {
        pool_worker *w = &pool->workers[i];
        if (w->proc && mp_process_is_alive(w->proc) != 0) continue;
        if (w->proc) {
            /* Every result it put is in the queue now: take them before
             * deciding what it died holding (after this look at it, not
             * an earlier one: starting a worker takes a while). */
            pool_drain(pool);
            mp_process *p = w->proc;
            mp_queue *tasks = w->tasks;
            int code = 0;
            mp_process_exitcode(p, &code);
            int64_t pid = mp_process_pid(p);
            mp_os_mutex_lock(pool->mu);
            settle(pool, i, code, pid, mp_process_name(p));
            w->proc = NULL;
            w->tasks = NULL;
            mp_os_mutex_unlock(pool->mu);
            mp_process_free(p);
            mp_queue_free(tasks);
        }
        mp_os_mutex_lock(pool->mu);
        int want = wants_workers(pool);
        if (want) pool_dispatch(pool); /* a broken pool fails what waits */
        mp_os_mutex_unlock(pool->mu);
        if (want) pool_worker_start(pool, i); /* on failure, tried again next time */
    }
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

void pool_workers_kill(mp_pool *pool)
{
    for (int i = 0; i < pool->nworkers; i++)
        if (pool->workers[i].proc) mp_process_kill(pool->workers[i].proc);
    pool_workers_reap(pool);
}

void pool_workers_reap(mp_pool *pool)
{
    for (int i = 0; i < pool->nworkers; i++) {
        pool_worker *w = &pool->workers[i];
        if (!w->proc) continue;
        mp_process_join(w->proc, MP_FOREVER);
        mp_os_mutex_lock(pool->mu);
        mp_process *p = w->proc;
        mp_queue *tasks = w->tasks;
        w->proc = NULL;
        w->tasks = NULL;
        mp_os_mutex_unlock(pool->mu);
        mp_process_free(p);
        mp_queue_free(tasks);
    }
}
