/* job.c - a submission: its chunks' ends, failures, waiting, and the
 * references that keep a job and its pool alive. Everything here runs
 * under the pool's mutex unless it says otherwise. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pool/pool.h"

/* What a chunk ends with when even its failure record could not be made. */
static mp_task_error no_memory = {MP_ENOMEM, 0, 0, 0, 0, "out of memory"};

static void free_job(pool_job *job)
{
    for (size_t i = 0; i < job->nchunks; i++)
        if (job->errors[i] != &no_memory) free(job->errors[i]);
    mp_obj_free(job->assembled);
    mp_obj_free(job->decoded);
    if (job->bytes != job->small) free(job->bytes);
    for (unsigned char *b = job->msgs, *next; b; b = next) {
        memcpy(&next, b, sizeof next); /* each block starts with the link */
        free(b);
    }
    free(job);
}

/* Room for n of size bytes, on an alignment every part needs. */
static size_t part(size_t n, size_t size)
{
    size_t align = sizeof(uint64_t) > sizeof(void *) ? sizeof(uint64_t) : sizeof(void *);
    return (n * size + align - 1) / align * align;
}

int pool_job_new(mp_pool *pool, enum pool_job_kind kind, size_t nitems, size_t chunksize,
                 pool_job **out)
{
    *out = NULL;
    size_t nchunks = nitems ? (nitems + chunksize - 1) / chunksize : 0;
    size_t n = nchunks ? nchunks : 1;
    int unordered = kind == JOB_IMAP_UNORDERED;
    /* One allocation for the job, its chunks and their records: an apply
     * costs one besides its message (docs/pool.md, "Memory"). */
    size_t per = sizeof(pool_chunk) + sizeof(mp_task_error *) + 2 * sizeof(size_t) +
                 (unordered ? sizeof(size_t) : 0);
    if (n > (SIZE_MAX - sizeof(pool_job)) / (2 * per))
        return mp_set_error(MP_ENOMEM, "pool: out of memory");
    size_t at_chunks = part(1, sizeof(pool_job));
    size_t at_errors = at_chunks + part(n, sizeof(pool_chunk));
    size_t at_at = at_errors + part(n, sizeof(mp_task_error *));
    size_t at_len = at_at + part(n, sizeof(size_t));
    size_t at_order = at_len + part(n, sizeof(size_t));
    size_t size = at_order + (unordered ? part(n, sizeof(size_t)) : 0);
    unsigned char *block = calloc(1, size);
    if (!block) return mp_set_error(MP_ENOMEM, "pool: out of memory");
    pool_job *job = (pool_job *)block;
    job->pool = pool;
    job->kind = kind;
    job->user = 1;
    job->nitems = nitems;
    job->chunksize = chunksize;
    job->nchunks = nchunks;
    job->chunks = (pool_chunk *)(block + at_chunks);
    job->errors = (mp_task_error **)(block + at_errors);
    job->at = (size_t *)(block + at_at);
    job->len = (size_t *)(block + at_len);
    job->order = unordered ? (size_t *)(block + at_order) : NULL;
    job->bytes = job->small;
    job->bcap = sizeof job->small;
    mp_add32(&pool->refs, 1, MP_RELAXED);
    *out = job;
    return 0;
}

void pool_job_discard(pool_job *job)
{
    mp_pool *pool = job->pool;
    job->nchunks = 0; /* no failure records to free */
    free_job(job);
    mp_os_mutex_lock(pool->mu);
    pool_unref_unlock(pool);
}

mp_task_error *pool_error_new(int code, const char *fmt, ...)
{
    mp_task_error *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return e;
}

/* Appends a chunk's result pickle to the job's buffer: 0, or MP_ENOMEM. */
static int keep_bytes(pool_job *job, size_t seq, const void *body, size_t len)
{
    if (len > job->bcap - job->blen) {
        size_t cap = job->bcap < 256 ? 256 : job->bcap;
        while (cap - job->blen < len)
            cap *= 2;
        int small = job->bytes == job->small;
        unsigned char *b = realloc(small ? NULL : job->bytes, cap);
        if (!b) return MP_ENOMEM;
        if (small) memcpy(b, job->small, job->blen);
        job->bytes = b;
        job->bcap = cap;
    }
    memcpy(job->bytes + job->blen, body, len);
    job->at[seq] = job->blen;
    job->len[seq] = len;
    job->blen += len;
    return 0;
}

int pool_job_chunk_values(pool_job *job, size_t seq, mp_obj **list)
{
    int rc = mp_obj_loads(job->bytes + job->at[seq], job->len[seq], list);
    if (rc == 0 && mp_obj_type_of(*list) != MP_OBJ_LIST) {
        mp_obj_free(*list);
        *list = NULL;
        rc = mp_set_error(MP_EPROTO, "pool: a worker sent results that are not a list");
    }
    return rc;
}

void pool_job_end_chunk(pool_chunk *c, const void *body, size_t len, mp_task_error *err)
{
    pool_job *job = c->job;
    mp_pool *pool = job->pool;
    size_t seq = (size_t)(c - job->chunks);
    /* No body and no record: the record could not be made. */
    if (!err && (!body || keep_bytes(job, seq, body, len) < 0)) err = &no_memory;
    /* Waiters need waking when the job has its answer, and for an
     * iterator at each chunk; a map of many chunks wakes its caller once. */
    int wake = job->kind == JOB_IMAP || job->kind == JOB_IMAP_UNORDERED;
    if (err) {
        err->index += seq * job->chunksize;
        if (!job->first_failed) {
            job->first_failed = seq + 1;
            wake = 1;
        }
    }
    job->errors[seq] = err;
    if (job->order) job->order[job->ended] = seq;
    if (++job->ended == job->nchunks) wake = 1;
    if (wake) mp_os_cond_broadcast(pool->cv);
    if (job->ended == job->nchunks && !job->user) {
        free_job(job);
        /* never the last: the handler's caller holds one */
        mp_sub32(&pool->refs, 1, MP_RELAXED);
    }
}

void pool_unref_unlock(mp_pool *pool)
{
    int last = mp_sub32(&pool->refs, 1, MP_SEQ_CST) == 1;
    mp_os_mutex_unlock(pool->mu);
    if (!last) return;
    mp_os_cond_free(pool->cv);
    mp_os_mutex_free(pool->mu);
    free(pool);
}

void pool_job_release_unlock(pool_job *job)
{
    mp_pool *pool = job->pool;
    job->user = 0;
    if (job->ended < job->nchunks) {
        mp_os_mutex_unlock(pool->mu);
        return;
    }
    free_job(job);
    pool_unref_unlock(pool);
}

int pool_job_wait(pool_job *job, int (*pred)(pool_job *), uint64_t deadline)
{
    mp_pool *pool = job->pool;
    while (!pred(job)) {
        if (mp_os_now_ns() >= deadline) return 0;
        mp_os_cond_wait_until(pool->cv, pool->mu, deadline);
    }
    return 1;
}

int pool_error_report(const mp_task_error *err)
{
    if (err->code == MP_ETASK)
        return mp_set_error(MP_ETASK, "task of item %zu failed with %d: %s", err->index,
                            err->value, err->message);
    return mp_set_error(err->code, "%s", err->message);
}
