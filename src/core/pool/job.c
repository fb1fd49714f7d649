/* job.c - a submission: its chunks' ends, failures, waiting, and the
 * references that keep a job and its pool alive. Everything here runs
 * under the pool's mutex unless it says otherwise. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pool/pool.h"

int pool_job_new(mp_pool *pool, enum pool_job_kind kind, size_t nitems, size_t chunksize,
                 pool_job **out)
{
    *out = NULL;
    pool_job *job = calloc(1, sizeof *job);
    if (!job) return mp_set_error(MP_ENOMEM, "pool: out of memory");
    job->pool = pool;
    job->kind = kind;
    job->user = 1;
    job->nitems = nitems;
    job->nchunks = nitems ? (nitems + chunksize - 1) / chunksize : 0;
    size_t n = job->nchunks ? job->nchunks : 1;
    job->values = calloc(n, sizeof *job->values);
    job->errors = calloc(n, sizeof *job->errors);
    if (kind == JOB_IMAP_UNORDERED) job->order = calloc(n, sizeof *job->order);
    if (!job->values || !job->errors || (kind == JOB_IMAP_UNORDERED && !job->order)) {
        free(job->values);
        free(job->errors);
        free(job->order);
        free(job);
        return mp_set_error(MP_ENOMEM, "pool: out of memory");
    }
    mp_os_mutex_lock(pool->mu);
    pool->refs++;
    mp_os_mutex_unlock(pool->mu);
    *out = job;
    return 0;
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

/* What a chunk ends with when even its failure record could not be made. */
static mp_task_error no_memory = {MP_ENOMEM, 0, 0, 0, 0, "out of memory"};

static void free_job(pool_job *job)
{
    for (size_t i = 0; i < job->nchunks; i++) {
        mp_obj_free(job->values[i]);
        if (job->errors[i] != &no_memory) free(job->errors[i]);
    }
    mp_obj_free(job->assembled);
    free(job->values);
    free(job->errors);
    free(job->order);
    free(job);
}

void pool_job_end_chunk(pool_chunk *c, mp_obj *values, mp_task_error *err)
{
    pool_job *job = c->job;
    mp_pool *pool = job->pool;
    if (!values && !err) err = &no_memory;
    /* Waiters need waking when the job has its answer, and for an
     * iterator at each chunk; a map of many chunks wakes its caller once. */
    int wake = job->kind == JOB_IMAP || job->kind == JOB_IMAP_UNORDERED;
    if (err) {
        err->index += c->first;
        if (!job->first_failed) {
            job->first_failed = c->seq + 1;
            wake = 1;
        }
    }
    job->values[c->seq] = values;
    job->errors[c->seq] = err;
    if (job->order) job->order[job->ended] = c->seq;
    if (++job->ended == job->nchunks) wake = 1;
    free(c->msg);
    free(c);
    if (wake) mp_os_cond_broadcast(pool->cv);
    if (job->ended == job->nchunks && !job->user) {
        free_job(job);
        pool->refs--; /* never the last: the handler's caller holds one */
    }
}

void pool_unref_unlock(mp_pool *pool)
{
    int last = --pool->refs == 0;
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
