/* submit.c - the calls that give a pool work: apply, map, starmap, imap
 * and their async forms. Each makes a job, encodes its chunks on the
 * caller's thread (so that the handler only moves bytes) and hands them
 * to the handler without taking the pool's mutex: a thread that submits
 * in a loop would otherwise wait on the handler at every call. */
#include <stdio.h>
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
    mp__pool_wire_result_head(head, &h);
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

/* Chunks go to the handler in groups, as they are pickled, so that the
 * workers start while a large map is still being pickled: the first
 * group small, each next one twice as large, up to GROUP_MAX chunks or
 * GROUP_BYTES of messages. */
#define GROUP_FIRST 16
#define GROUP_MAX   4096
#define GROUP_BYTES ((size_t)256 << 10)
/* Each group's messages are one allocation, headed by the link to the
 * job's previous one (job->msgs, freed with the job). */
#define BLOCK_HEAD sizeof(void *)

/* Pickles chunks [seq, ...) into one block until the group is full: the
 * chunk after the last made, or 0 on failure. */
static size_t make_group(pool_job *job, const pool_fn_place *place, mp_obj *const *items,
                         int wrap, size_t seq, size_t max, int *rc)
{
    pool_wire_buf b = {NULL, BLOCK_HEAD, 0};
    size_t from = seq, chunksize = job->chunksize;
    for (; *rc == 0 && seq < job->nchunks && seq - from < max && b.used < GROUP_BYTES;
         seq++) {
        size_t first = seq * chunksize, left = job->nitems - first;
        job->chunks[seq].job = job;
        *rc = pool_wire_task(place, items + first, left < chunksize ? left : chunksize,
                             wrap, &b, &job->chunks[seq].len);
    }
    unsigned char *block = *rc == 0 ? fit(&b) : b.bytes;
    if (block) {
        memcpy(block, &job->msgs, BLOCK_HEAD);
        job->msgs = block;
    }
    if (*rc < 0) return 0;
    unsigned char *at = block + BLOCK_HEAD;
    for (size_t k = from; k < seq; k++) {
        pool_chunk *c = &job->chunks[k];
        c->msg = at;
        at += c->len;
        c->id = mp_add64(&job->pool->next_id, 1, MP_RELAXED);
        pool_wire_set_id(c->msg, c->id);
    }
    return seq;
}

/* Pushes chunks [from, to) on the incoming stack, last first, so that the
 * handler, which reverses the stack, sees every job's in order. */
static void push(mp_pool *pool, pool_job *job, size_t from, size_t to)
{
    pool_chunk *top = &job->chunks[to - 1];
    for (size_t seq = to - 1; seq > from; seq--)
        job->chunks[seq].next = &job->chunks[seq - 1];
    uint64_t old = mp_load64(&pool->incoming, MP_RELAXED);
    do {
        job->chunks[from].next = (pool_chunk *)(uintptr_t)old;
    } while (!mp_cas64(&pool->incoming, &old, (uint64_t)(uintptr_t)top, MP_SEQ_CST));
}

/* Hands chunks [from, to) over (none for an empty job) if the pool is
 * open: 0, or MP_ESTATE. */
static int hand_over(mp_pool *pool, pool_job *job, size_t from, size_t to)
{
    int rc = 0;
    /* Counted before open is read, so that pool_shut, which clears open
     * and then waits for the count to fall to 0, never misses a push. */
    mp_add32(&pool->submitting, 1, MP_SEQ_CST);
    if (!mp_load32(&pool->open, MP_SEQ_CST))
        rc = mp_set_error(MP_ESTATE, "pool is not running");
    else if (to > from)
        push(pool, job, from, to);
    mp_sub32(&pool->submitting, 1, MP_RELEASE);
    if (rc == 0 && to > from && mp_load32(&pool->idle, MP_SEQ_CST)) pool_nudge(pool);
    return rc;
}

/* A submission that failed after some of its chunks went out: the rest,
 * [from, nchunks), end with the failure, and the caller lets go of the
 * job, which ends when the chunks out do. */
static void fail_rest(pool_job *job, size_t from, int code)
{
    mp_pool *pool = job->pool;
    char why[sizeof((mp_task_error *)0)->message];
    snprintf(why, sizeof why, "%s", mp_last_error());
    mp_os_mutex_lock(pool->mu);
    for (size_t seq = from; seq < job->nchunks; seq++) {
        job->chunks[seq].job = job;
        pool_job_end_chunk(&job->chunks[seq], NULL, 0, pool_error_new(code, "%s", why));
    }
    pool_job_release_unlock(job);
}

int pool_submit(mp_pool *pool, pool_job *job, mp_pool_fn fn, mp_obj *const *items,
                int wrap)
{
    pool_fn_place place;
    int rc = pool_wire_fn((void (*)(void))fn, &place);
    if (rc == 0 && !job->nchunks) rc = hand_over(pool, job, 0, 0);
    size_t done = 0;
    for (size_t max = GROUP_FIRST; rc == 0 && done < job->nchunks;) {
        size_t to = make_group(job, &place, items, wrap, done, max, &rc);
        if (rc == 0) rc = hand_over(pool, job, done, to);
        if (rc == 0) done = to;
        max = max * 2 < GROUP_MAX ? max * 2 : GROUP_MAX;
    }
    if (rc < 0 && done)
        fail_rest(job, done, rc);
    else if (rc < 0)
        pool_job_discard(job);
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
        rc = pool_submit(pool, job, fn, list, kind != JOB_APPLY && !star);
        if (rc == 0) *out = job;
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
