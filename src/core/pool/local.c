/* local.c - the backend of local worker processes: each has a task queue
 * of its own that only the handler writes, all write one result queue
 * that only the handler reads, and a raw shared array holds one word per
 * worker, the id of the chunk it has begun (pool.h). */
#include <stdio.h>
#include <stdlib.h>

#include "core/pool/pool.h"
#include "mproc/array.h"

static mp_atomic_u64 *slot_word(mp_pool *pool, int i)
{
    return (mp_atomic_u64 *)mp_array_data(pool->slots) + i;
}

static int local_start(mp_pool *pool, int i)
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
    mp_os_mutex_unlock(pool->mu);
    mp__pool_worker_up(pool, i, mp_process_pid(p));
    return 0;
}

static int local_send(mp_pool *pool, int i, const void *msg, size_t len)
{
    return mp_queue_put_bytes(pool->workers[i].tasks, msg, len, 0);
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

/* Settles dead worker i: the chunks it took from its queue fail (one,
 * unless results were lost with it), those it never took go back. */
static void bury(mp_pool *pool, int i)
{
    pool_worker *w = &pool->workers[i];
    /* Every result it put is in the queue now: take them before deciding
     * what it died holding (after this look at it, not an earlier one:
     * starting a worker takes a while). */
    pool_drain(pool);
    mp_process *p = w->proc;
    mp_queue *tasks = w->tasks;
    int code = 0;
    mp_process_exitcode(p, &code);
    mp_os_mutex_lock(pool->mu);
    size_t left = take_back(w);
    size_t taken = w->inflight > left ? w->inflight - left : 0;
    pool_settle(pool, i, taken, mp_load64(slot_word(pool, i), MP_ACQUIRE), code,
                mp_process_pid(p), mp_process_name(p));
    w->proc = NULL;
    w->tasks = NULL;
    mp_os_mutex_unlock(pool->mu);
    mp_process_free(p);
    mp_queue_free(tasks);
}

static void local_check(mp_pool *pool)
{
    for (int i = 0; i < pool->nworkers; i++) {
        pool_worker *w = &pool->workers[i];
        if (w->proc && mp_process_is_alive(w->proc) != 0) continue;
        if (w->proc) bury(pool, i);
        mp_os_mutex_lock(pool->mu);
        int want = pool_wants_workers(pool);
        if (want) pool_dispatch(pool); /* a broken pool fails what waits */
        mp_os_mutex_unlock(pool->mu);
        if (want) local_start(pool, i); /* on failure, tried again next time */
    }
}

/* Waits for every worker to exit and releases it. */
static void reap(mp_pool *pool)
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
        w->live = 0;
        mp_os_mutex_unlock(pool->mu);
        mp_process_free(p);
        mp_queue_free(tasks);
    }
}

static void local_stop(mp_pool *pool)
{
    static const unsigned char stop = POOL_MSG_STOP;
    for (int i = 0; i < pool->nworkers; i++)
        if (pool->workers[i].proc)
            mp_queue_put_bytes(pool->workers[i].tasks, &stop, 1, MP_FOREVER);
    reap(pool);
}

static void local_kill(mp_pool *pool)
{
    for (int i = 0; i < pool->nworkers; i++)
        if (pool->workers[i].proc) mp_process_kill(pool->workers[i].proc);
    reap(pool);
}

/* Its parts are the pool's own (pool.c): no data of its own to release. */
const pool_backend pool_local_backend = {
    1,           local_start, local_send, mp__pool_receive_local,
    local_check, local_stop,  local_kill, NULL};
