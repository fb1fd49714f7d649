/* inbox.c - what the result queue brings the handler: a chunk's results
 * or failure from a worker, or a nudge from a submitting thread. */
#include <stdlib.h>
#include <string.h>

#include "core/pool/pool.h"

int mp__pool_receive_local(mp_pool *pool, double timeout)
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
    if (rc == 0) mp__pool_take_result(pool, pool->rbuf, len);
    /* MP_EOWNERDEAD: a worker died writing its result; the death is
     * settled when the worker is looked at. */
    return rc == 0 || rc == MP_EOWNERDEAD;
}

void pool_drain(mp_pool *pool)
{
    while (mp__pool_receive_local(pool, 0)) {
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

void mp__pool_take_result(mp_pool *pool, const void *msg, size_t len)
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
    mp_task_error *err = h.status == 0 ? NULL : task_failure(&h, body, blen);
    mp_os_mutex_lock(pool->mu);
    pool_worker *w = &pool->workers[h.worker];
    pool_chunk *c = w->head;
    /* Not what this worker holds: the late result of a worker already
     * settled as dead (written as it was killed and published by the next
     * writer that took its lock over, or sent by a process Wine let run an
     * instant past its end). Its chunk has ended already. */
    if (!c || c->id != h.id) {
        mp_os_mutex_unlock(pool->mu);
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
    pool_job_end_chunk(c, body, blen, err);
    mp_os_mutex_unlock(pool->mu);
}
