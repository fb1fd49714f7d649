/* handler.c - the pool's thread in the parent: it sends pending chunks
 * to workers with room, takes results, and looks at the workers often
 * enough that a dead one is noticed within about CHECK_NS + IDLE_WAIT
 * (docs/pool.md). Submitting threads wake it with a nudge through the
 * result queue, so it sleeps in one place. */
#include <stdlib.h>
#include <string.h>

#include "core/pool/pool.h"

#define IDLE_WAIT 0.05      /* seconds asleep on the result queue at most */
#define CHECK_NS  20000000u /* between looks at the workers while busy */
#define BATCH     64        /* results taken before sending more chunks */

/* Takes one message, waiting up to timeout: 1 if something came (a
 * message, or word that one was lost), 0 if not. */
static int receive(mp_pool *pool, double timeout)
{
    size_t len = 0;
    /* As the workers do (worker.c): a look first, then a wait. */
    int rc = mp_queue_get_bytes_into(pool->results, pool->rbuf, pool->rcap, &len, 0);
    if (rc == MP_EEMPTY && timeout > 0)
        rc =
            mp_queue_get_bytes_into(pool->results, pool->rbuf, pool->rcap, &len, timeout);
    if (rc == MP_ETOOSHORT) {
        unsigned char *bigger = realloc(pool->rbuf, len);
        if (!bigger) return 0; /* the message waits until memory allows */
        pool->rbuf = bigger;
        pool->rcap = len;
        rc = mp_queue_get_bytes_into(pool->results, pool->rbuf, pool->rcap, &len, 0);
    }
    if (rc == 0) pool_take_result(pool, pool->rbuf, len);
    /* MP_EOWNERDEAD: a worker died writing its result; the death is
     * settled when the worker is looked at. */
    return rc == 0 || rc == MP_EOWNERDEAD;
}

void pool_drain(mp_pool *pool)
{
    while (receive(pool, 0)) {
    }
}

/* A failure record for a chunk whose task failed: its message is the
 * first item of body, a pickled list. */
static mp_task_error *task_failure(const pool_result_head *h, const void *body,
                                   size_t len)
{
    mp_obj *list = NULL;
    const char *text = "";
    size_t n = 0;
    if (mp_obj_loads(body, len, &list) == 0 && mp_obj_len(list) == 1) {
        const char *s = mp_obj_str_data(mp_obj_item(list, 0), &n);
        if (s) text = s;
    }
    mp_task_error *err =
        n ? pool_error_new(MP_ETASK, "%.*s", (int)(n > 255 ? 255 : n), text)
          : pool_error_new(MP_ETASK, "the task returned %d", (int)h->status);
    mp_obj_free(list);
    if (err) {
        err->value = h->status;
        err->index = (size_t)h->index;
    }
    return err;
}

void pool_take_result(mp_pool *pool, const void *msg, size_t len)
{
    pool_result_head h;
    const void *body;
    size_t blen;
    if (pool_wire_parse_result(msg, len, &h, &body, &blen) < 0) return;
    if (h.worker == POOL_NUDGE) {
        mp_store32(&pool->nudged, 0, MP_RELEASE);
        return;
    }
    if (h.worker >= (uint32_t)pool->nworkers) return;
    mp_obj *values = NULL;
    mp_task_error *err = NULL;
    if (h.status == 0) {
        int rc = mp_obj_loads(body, blen, &values);
        if (rc < 0)
            err = pool_error_new(rc, "pool: a result could not be read: %s",
                                 mp_last_error());
    } else {
        err = task_failure(&h, body, blen);
    }
    mp_os_mutex_lock(pool->mu);
    pool_worker *w = &pool->workers[h.worker];
    pool_chunk *c = w->head;
    if (!c || c->id != h.id) { /* not what this worker holds: never expected */
        mp_os_mutex_unlock(pool->mu);
        mp_obj_free(values);
        free(err);
        return;
    }
    w->head = c->next;
    if (!w->head) w->tail = NULL;
    w->inflight--;
    w->full = 0;
    uint64_t ns = h.elapsed_ns ? h.elapsed_ns : 1;
    w->chunk_ns = w->chunk_ns ? (3 * w->chunk_ns + ns) / 4 : ns;
    pool->unready_deaths = 0;
    pool_job_end_chunk(c, values, err);
    mp_os_mutex_unlock(pool->mu);
}

/* 1 when no chunk is pending or held by a worker. Under the mutex. */
static int all_done(const mp_pool *pool)
{
    if (pool->pending) return 0;
    for (int i = 0; i < pool->nworkers; i++)
        if (pool->workers[i].inflight) return 0;
    return 1;
}

/* After close, with every chunk done: tells each worker to stop and
 * waits for them to exit. */
static void stop_workers(mp_pool *pool)
{
    static const unsigned char stop = POOL_MSG_STOP;
    for (int i = 0; i < pool->nworkers; i++)
        if (pool->workers[i].proc)
            mp_queue_put_bytes(pool->workers[i].tasks, &stop, 1, MP_FOREVER);
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

void pool_handler_main(void *arg)
{
    mp_pool *pool = arg;
    uint64_t last_check = mp_os_now_ns();
    for (;;) {
        mp_os_mutex_lock(pool->mu);
        if (pool->state == POOL_TERMINATE) {
            mp_os_mutex_unlock(pool->mu);
            break;
        }
        pool_dispatch(pool);
        uint64_t pace = pool_pace_ns(pool);
        int done = all_done(pool);
        int closing = pool->state == POOL_CLOSE;
        mp_os_mutex_unlock(pool->mu);
        if (closing && done) {
            stop_workers(pool);
            break;
        }
        if (pace) mp_os_sleep_ns(pace);
        int got = receive(pool, pace ? 0 : IDLE_WAIT);
        for (int k = 0; got && k < BATCH && receive(pool, 0); k++) {
        }
        uint64_t now = mp_os_now_ns();
        if (!got || now - last_check >= CHECK_NS) {
            pool_check_workers(pool);
            last_check = now;
        }
    }
    mp_os_mutex_lock(pool->mu);
    pool->handler_done = 1;
    mp_os_cond_broadcast(pool->cv);
    mp_os_mutex_unlock(pool->mu);
}
