/* submit.c - the calls that give a pool work: apply, map, starmap, imap
 * and their async forms. Each makes a job, encodes its chunks on the
 * caller's thread (so that the handler only moves bytes), appends them to
 * the pending list and nudges the handler. */
#include <stdlib.h>

#include "base/deadline.h"
#include "core/pool/pool.h"

void pool_nudge(mp_pool *pool)
{
    if (mp_xchg32(&pool->nudged, 1, MP_ACQUIRE)) return;
    unsigned char head[POOL_RESULT_HEAD_SIZE];
    pool_result_head h = {POOL_NUDGE, 0, 0, 0, 0};
    pool_wire_result_head(head, &h);
    /* Without waiting: a full result queue, or a worker writing a long
     * result, means the handler has a reason to wake anyway, and it looks
     * at the pending list at every turn. */
    if (mp_queue_put_bytes(pool->results, head, sizeof head, 0) < 0)
        mp_store32(&pool->nudged, 0, MP_RELEASE);
}

static void free_chunks(pool_chunk *c)
{
    while (c) {
        pool_chunk *next = c->next;
        free(c->msg);
        free(c);
        c = next;
    }
}

/* Builds job's chunks into a list (*head), each with its id set. */
static int make_chunks(mp_pool *pool, pool_job *job, const void *loc, size_t loclen,
                       mp_obj *const *items, size_t chunksize, int wrap,
                       pool_chunk **head)
{
    pool_chunk **link = head;
    *head = NULL;
    for (size_t seq = 0; seq < job->nchunks; seq++) {
        pool_chunk *c = calloc(1, sizeof *c);
        if (!c) return mp_set_error(MP_ENOMEM, "pool: out of memory");
        *link = c;
        link = &c->next;
        c->job = job;
        c->seq = seq;
        c->first = seq * chunksize;
        c->count =
            job->nitems - c->first < chunksize ? job->nitems - c->first : chunksize;
        int rc = pool_wire_task(loc, loclen, items + c->first, c->count, wrap, &c->msg,
                                &c->len);
        if (rc < 0) return rc;
        c->id = mp_add64(&pool->next_id, 1, MP_RELAXED);
        pool_wire_set_id(c->msg, c->id);
    }
    return 0;
}

int pool_submit(mp_pool *pool, pool_job *job, mp_pool_fn fn, mp_obj *const *items,
                size_t chunksize, int wrap)
{
    void *loc = NULL;
    size_t loclen = 0;
    pool_chunk *list = NULL;
    int rc = pool_wire_fn((void (*)(void))fn, &loc, &loclen);
    if (rc == 0) rc = make_chunks(pool, job, loc, loclen, items, chunksize, wrap, &list);
    free(loc);
    mp_os_mutex_lock(pool->mu);
    if (rc == 0 && pool->state != POOL_RUN)
        rc = mp_set_error(MP_ESTATE, "pool is not running");
    if (rc < 0) {
        job->nchunks = 0; /* none was given out */
        mp_os_mutex_unlock(pool->mu);
        free_chunks(list);
        return rc;
    }
    if (list) {
        pool_chunk *tail = list;
        while (tail->next)
            tail = tail->next;
        if (pool->pending_tail)
            pool->pending_tail->next = list;
        else
            pool->pending = list;
        pool->pending_tail = tail;
    }
    mp_os_mutex_unlock(pool->mu);
    if (list) pool_nudge(pool);
    return 0;
}

/* ---- the public calls --------------------------------------------------- */

static int is_seq(const mp_obj *o)
{
    mp_obj_type t = o ? mp_obj_type_of(o) : MP_OBJ_NONE;
    return t == MP_OBJ_LIST || t == MP_OBJ_TUPLE;
}

/* Python's Pool._map_async: about four chunks per worker. */
static size_t default_chunksize(const mp_pool *pool, size_t n)
{
    size_t per = (size_t)pool->nworkers * 4;
    size_t size = n / per;
    return n % per ? size + 1 : size;
}

/* The items of seq as an array of borrowed pointers (*out freed by the
 * caller); starmap's must each be a tuple or list. */
static int item_array(const mp_obj *seq, int star, mp_obj ***out)
{
    size_t n = mp_obj_len(seq);
    mp_obj **items = malloc((n ? n : 1) * sizeof *items);
    if (!items) return mp_set_error(MP_ENOMEM, "pool: out of memory");
    for (size_t i = 0; i < n; i++) {
        items[i] = mp_obj_item(seq, i);
        if (star && !is_seq(items[i])) {
            int rc =
                mp_set_error(MP_EINVAL, "starmap: item %zu is a %s, not a tuple or list",
                             i, mp_obj_type_name(items[i]));
            free(items);
            return rc;
        }
    }
    *out = items;
    return 0;
}

/* Every submission: checks, a job, its chunks. */
static int start_job(mp_pool *pool, mp_pool_fn fn, const mp_obj *items, size_t chunksize,
                     enum pool_job_kind kind, int star, pool_job **out)
{
    mp_clear_error();
    *out = NULL;
    if (!pool || !fn) return mp_set_error(MP_EINVAL, "pool: NULL pool or function");
    if (!is_seq(items))
        return mp_set_error(MP_EINVAL, "pool: items must be a list or tuple");
    mp_obj **array = NULL;
    const mp_obj *one = items;
    size_t n = 1;
    int rc = 0;
    if (kind != JOB_APPLY) {
        rc = item_array(items, star, &array);
        n = mp_obj_len(items);
    }
    if (rc < 0) return rc;
    if (kind == JOB_APPLY || chunksize == 0)
        chunksize = kind == JOB_MAP ? default_chunksize(pool, n) : 1;
    if (chunksize == 0) chunksize = 1;
    pool_job *job;
    rc = pool_job_new(pool, kind, n, chunksize, &job);
    if (rc == 0) {
        mp_obj *const *list = array ? array : (mp_obj *const *)&one;
        rc = pool_submit(pool, job, fn, list, chunksize, kind != JOB_APPLY && !star);
        if (rc < 0) {
            mp_os_mutex_lock(pool->mu);
            pool_job_release_unlock(job);
        } else {
            *out = job;
        }
    }
    free(array);
    return rc;
}

/* A job handed to the caller as an AsyncResult. */
static int async_job(mp_pool *pool, mp_pool_fn fn, const mp_obj *items, size_t chunksize,
                     enum pool_job_kind kind, int star, mp_async_result **result)
{
    if (!result) return mp_set_error(MP_EINVAL, "pool: NULL result");
    pool_job *job;
    int rc = start_job(pool, fn, items, chunksize, kind, star, &job);
    *result = (mp_async_result *)job;
    return rc;
}

/* A job handed to the caller as an iterator. */
static int iter_job(mp_pool *pool, mp_pool_fn fn, const mp_obj *items, size_t chunksize,
                    enum pool_job_kind kind, mp_pool_iter **it)
{
    if (!it) return mp_set_error(MP_EINVAL, "pool: NULL iterator");
    *it = NULL;
    pool_job *job;
    int rc = start_job(pool, fn, items, chunksize, kind, 0, &job);
    if (rc == 0) rc = pool_iter_new(job, it);
    return rc;
}

int mp_pool_apply_async(mp_pool *pool, mp_pool_fn fn, const mp_obj *args,
                        mp_async_result **result)
{
    return async_job(pool, fn, args, 1, JOB_APPLY, 1, result);
}

int mp_pool_map_async(mp_pool *pool, mp_pool_fn fn, const mp_obj *items, size_t chunksize,
                      mp_async_result **result)
{
    return async_job(pool, fn, items, chunksize, JOB_MAP, 0, result);
}

int mp_pool_starmap_async(mp_pool *pool, mp_pool_fn fn, const mp_obj *items,
                          size_t chunksize, mp_async_result **result)
{
    return async_job(pool, fn, items, chunksize, JOB_MAP, 1, result);
}

int mp_pool_imap(mp_pool *pool, mp_pool_fn fn, const mp_obj *items, size_t chunksize,
                 mp_pool_iter **it)
{
    return iter_job(pool, fn, items, chunksize, JOB_IMAP, it);
}

int mp_pool_imap_unordered(mp_pool *pool, mp_pool_fn fn, const mp_obj *items,
                           size_t chunksize, mp_pool_iter **it)
{
    return iter_job(pool, fn, items, chunksize, JOB_IMAP_UNORDERED, it);
}

/* The synchronous calls: the async one, then its value taken. */
static int finish(pool_job *job, int rc, mp_obj **out)
{
    if (rc == 0) rc = pool_result_take(job, out);
    if (job) {
        mp_os_mutex_lock(job->pool->mu);
        pool_job_release_unlock(job);
    }
    return rc;
}

int mp_pool_apply(mp_pool *pool, mp_pool_fn fn, const mp_obj *args, mp_obj **out)
{
    if (!out) return mp_set_error(MP_EINVAL, "pool: NULL out");
    *out = NULL;
    pool_job *job = NULL;
    int rc = start_job(pool, fn, args, 1, JOB_APPLY, 1, &job);
    return finish(job, rc, out);
}

static int map_sync(mp_pool *pool, mp_pool_fn fn, const mp_obj *items, size_t chunksize,
                    int star, mp_obj **out)
{
    if (!out) return mp_set_error(MP_EINVAL, "pool: NULL out");
    *out = NULL;
    pool_job *job = NULL;
    int rc = start_job(pool, fn, items, chunksize, JOB_MAP, star, &job);
    return finish(job, rc, out);
}

int mp_pool_map(mp_pool *pool, mp_pool_fn fn, const mp_obj *items, size_t chunksize,
                mp_obj **out)
{
    return map_sync(pool, fn, items, chunksize, 0, out);
}

int mp_pool_starmap(mp_pool *pool, mp_pool_fn fn, const mp_obj *items, size_t chunksize,
                    mp_obj **out)
{
    return map_sync(pool, fn, items, chunksize, 1, out);
}
