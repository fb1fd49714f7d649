/* submit.c - the calls that give a pool work: apply, map, starmap, imap
 * and their async forms. Each makes a job, encodes its chunks on the
 * caller's thread (so that the handler only moves bytes) and hands them
 * to the handler without taking the pool's mutex: a thread that submits
 * in a loop would otherwise wait on the handler at every call. */
#include <stdlib.h>
#include <string.h>

#include "base/deadline.h"
#include "core/obj/obj_internal.h"
#include "core/pool/pool.h"

#define COPY_OUT_MAX 4096

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

/* The encoder's guesses leave room, and the messages wait in the pending
 * list: the buffer cut to its length. A small one is copied out instead,
 * so that the encoder's buffer goes back to the heap whole and the next
 * submission's takes it again: cut, it left a hole no later buffer fit,
 * and a loop of applies grew the heap by the whole buffer at every call
 * (docs/pool.md, "Memory"). */
static unsigned char *fit(pool_wire_buf *b)
{
    unsigned char *out = NULL;
    if (b->used && b->used <= COPY_OUT_MAX) {
        out = malloc(b->used);
        if (out) {
            memcpy(out, b->bytes, b->used);
            free(b->bytes);
        }
    } else if (b->used) {
        out = realloc(b->bytes, b->used);
    }
    return out ? out : b->bytes;
}

/* Makes job's chunks, their messages back to back in one buffer (an
 * allocation per chunk costs a map of one-item chunks more than its
 * pickling, docs/pool.md "Memory"), each with its id. */
static int make_chunks(mp_pool *pool, pool_job *job, const pool_fn_place *place,
                       mp_obj *const *items, size_t chunksize, int wrap)
{
    pool_wire_buf b = {NULL, 0, 0};
    int rc = 0;
    for (size_t seq = 0; rc == 0 && seq < job->nchunks; seq++) {
        pool_chunk *c = &job->chunks[seq];
        size_t first = seq * chunksize, left = job->nitems - first;
        c->job = job;
        rc = pool_wire_task(place, items + first, left < chunksize ? left : chunksize,
                            wrap, &b, &c->len);
    }
    job->msgs = rc == 0 ? fit(&b) : b.bytes;
    unsigned char *at = job->msgs;
    for (size_t seq = 0; rc == 0 && seq < job->nchunks; seq++) {
        pool_chunk *c = &job->chunks[seq];
        c->msg = at;
        at += c->len;
        c->id = mp_add64(&pool->next_id, 1, MP_RELAXED);
        pool_wire_set_id(c->msg, c->id);
    }
    return rc;
}

/* Pushes job's chunks on the incoming stack, last first, so that the
 * handler, which reverses the stack, sees every job's in order. */
static void push(mp_pool *pool, pool_job *job)
{
    pool_chunk *top = &job->chunks[job->nchunks - 1];
    for (size_t seq = job->nchunks - 1; seq > 0; seq--)
        job->chunks[seq].next = &job->chunks[seq - 1];
    uint64_t old = mp_load64(&pool->incoming, MP_RELAXED);
    do {
        job->chunks[0].next = (pool_chunk *)(uintptr_t)old;
    } while (!mp_cas64(&pool->incoming, &old, (uint64_t)(uintptr_t)top, MP_SEQ_CST));
}

int pool_submit(mp_pool *pool, pool_job *job, mp_pool_fn fn, mp_obj *const *items,
                size_t chunksize, int wrap)
{
    pool_fn_place place;
    int rc = pool_wire_fn((void (*)(void))fn, &place);
    if (rc == 0 && job->nchunks)
        rc = make_chunks(pool, job, &place, items, chunksize, wrap);
    /* Counted before open is read, so that pool_shut, which clears open
     * and then waits for the count to fall to 0, never misses a push. */
    mp_add32(&pool->submitting, 1, MP_SEQ_CST);
    if (rc == 0 && !mp_load32(&pool->open, MP_SEQ_CST))
        rc = mp_set_error(MP_ESTATE, "pool is not running");
    if (rc == 0 && job->nchunks) push(pool, job);
    mp_sub32(&pool->submitting, 1, MP_RELEASE);
    if (rc == 0 && job->nchunks && mp_load32(&pool->idle, MP_SEQ_CST)) pool_nudge(pool);
    return rc;
}

void pool_take_incoming(mp_pool *pool)
{
    uint64_t top = mp_xchg64(&pool->incoming, 0, MP_ACQUIRE);
    if (!top) return;
    pool_chunk *c = (pool_chunk *)(uintptr_t)top, *first = NULL;
    pool_chunk *last = c;
    while (c) {
        pool_chunk *next = c->next;
        c->next = first;
        first = c;
        c = next;
    }
    if (pool->pending_tail)
        pool->pending_tail->next = first;
    else
        pool->pending = first;
    pool->pending_tail = last;
}

void pool_shut(mp_pool *pool)
{
    mp_store32(&pool->open, 0, MP_SEQ_CST);
    while (mp_load32(&pool->submitting, MP_SEQ_CST))
        mp_os_yield();
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

/* starmap's items must each be a tuple or list. */
static int check_star_items(const mp_obj *seq)
{
    size_t n = mp_obj_len(seq);
    for (size_t i = 0; i < n; i++) {
        const mp_obj *item = mp_obj_item(seq, i);
        if (!is_seq(item))
            return mp_set_error(MP_EINVAL,
                                "starmap: item %zu is a %s, not a tuple or list", i,
                                mp_obj_type_name(item));
    }
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
    size_t n = kind == JOB_APPLY ? 1 : mp_obj_len(items);
    int rc = kind != JOB_APPLY && star ? check_star_items(items) : 0;
    if (rc < 0) return rc;
    if (kind == JOB_APPLY || chunksize == 0)
        chunksize = kind == JOB_MAP ? default_chunksize(pool, n) : 1;
    if (chunksize == 0) chunksize = 1;
    pool_job *job;
    rc = pool_job_new(pool, kind, n, chunksize, &job);
    if (rc == 0) {
        /* An apply's one item is its argument tuple; a map's, the list's. */
        mp_obj *one = (mp_obj *)items;
        mp_obj *const *list = kind == JOB_APPLY ? &one : mp_obj__seq_items(items);
        rc = pool_submit(pool, job, fn, list, chunksize, kind != JOB_APPLY && !star);
        if (rc < 0)
            pool_job_discard(job);
        else
            *out = job;
    }
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
