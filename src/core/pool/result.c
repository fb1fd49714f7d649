/* result.c - AsyncResult: the handle of an apply or map job, waiting for
 * its end, and its value or failure. A job's results are written under
 * the mutex, each once, so once every chunk has ended they are read
 * without it; they are decoded here, on the caller's thread. */
#include <string.h>

#include "base/deadline.h"
#include "core/pickle/pickle.h"
#include "core/pool/pool.h"

/* The job has its answer: every chunk ended, or one failed (Python's map
 * is ready at the first failure). */
static int has_ended(pool_job *job)
{
    return job->ended == job->nchunks || job->first_failed;
}

/* Waits (under the mutex) up to deadline: 0, or MP_ETIMEDOUT. */
static int wait_end(pool_job *job, uint64_t deadline)
{
    return pool_job_wait(job, has_ended, deadline) ? 0 : MP_ETIMEDOUT;
}

/* The failure, if the job failed, as the call's error. */
static int failure(pool_job *job)
{
    if (!job->first_failed) return 0;
    return pool_error_report(job->errors[job->first_failed - 1]);
}

/* A map's list of results, in order: built once every chunk has ended,
 * straight from the chunks' pickles where the fast decoder takes them,
 * else chunk by chunk. */
static int assemble(pool_job *job)
{
    if (job->assembled) return 0;
    if (mp__pickle_fast_loads_lists(job->bytes, job->at, job->len, job->nchunks,
                                    job->nitems, &job->assembled))
        return 0;
    mp_obj *list = mp_obj_list(0);
    if (!list) return mp_set_error(MP_ENOMEM, "pool: out of memory");
    int rc = 0;
    for (size_t c = 0; rc == 0 && c < job->nchunks; c++) {
        mp_obj *chunk = NULL;
        rc = pool_job_chunk_values(job, c, &chunk);
        size_t n = rc == 0 ? mp_obj_len(chunk) : 0;
        for (size_t i = 0; i < n && rc == 0; i++) {
            mp_obj *item = mp_obj_copy(mp_obj_item(chunk, i));
            if (!item || mp_obj_append(list, item) < 0) {
                mp_obj_free(item);
                rc = mp_set_error(MP_ENOMEM, "pool: out of memory");
            }
        }
        mp_obj_free(chunk);
    }
    if (rc < 0) {
        mp_obj_free(list);
        return rc;
    }
    job->assembled = list;
    return 0;
}

/* Waits for the job's end and points *out at its value (the job's). */
static int value_of(pool_job *job, uint64_t deadline, const mp_obj **out)
{
    mp_os_mutex_lock(job->pool->mu);
    int rc = wait_end(job, deadline);
    if (rc == 0) rc = failure(job);
    mp_os_mutex_unlock(job->pool->mu);
    if (rc < 0) return rc;
    if (job->kind != JOB_APPLY) {
        rc = assemble(job);
        if (rc == 0) *out = job->assembled;
        return rc;
    }
    if (!job->decoded) rc = pool_job_chunk_values(job, 0, &job->decoded);
    if (rc == 0) *out = mp_obj_item(job->decoded, 0);
    if (rc == 0 && !*out) rc = mp_set_error(MP_EPROTO, "pool: a task gave no result");
    return rc;
}

int pool_result_take(pool_job *job, mp_obj **out)
{
    const mp_obj *v = NULL;
    int rc = value_of(job, MP_NO_DEADLINE, &v);
    if (rc < 0) return rc;
    if (v == job->assembled) {
        *out = job->assembled;
        job->assembled = NULL;
        return 0;
    }
    *out = mp_obj_copy(v);
    return *out ? 0 : mp_set_error(MP_ENOMEM, "pool: out of memory");
}

static pool_job *job_of(mp_async_result *r)
{
    return (pool_job *)r;
}

int mp_async_result_get(mp_async_result *result, double timeout, const mp_obj **out)
{
    mp_clear_error();
    if (!result || !out) return mp_set_error(MP_EINVAL, "get: NULL argument");
    *out = NULL;
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    return value_of(job_of(result), mp_deadline(timeout), out);
}

int mp_async_result_wait(mp_async_result *result, double timeout)
{
    mp_clear_error();
    if (!result) return mp_set_error(MP_EINVAL, "wait: NULL result");
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    pool_job *job = job_of(result);
    mp_os_mutex_lock(job->pool->mu);
    rc = wait_end(job, mp_deadline(timeout));
    mp_os_mutex_unlock(job->pool->mu);
    return rc;
}

int mp_async_result_ready(mp_async_result *result)
{
    if (!result) return mp_set_error(MP_EINVAL, "ready: NULL result");
    pool_job *job = job_of(result);
    mp_os_mutex_lock(job->pool->mu);
    int ready = has_ended(job);
    mp_os_mutex_unlock(job->pool->mu);
    return ready;
}

int mp_async_result_successful(mp_async_result *result)
{
    mp_clear_error();
    if (!result) return mp_set_error(MP_EINVAL, "successful: NULL result");
    pool_job *job = job_of(result);
    mp_os_mutex_lock(job->pool->mu);
    int rc = has_ended(job) ? !job->first_failed
                            : mp_set_error(MP_ESTATE, "the result is not ready");
    mp_os_mutex_unlock(job->pool->mu);
    return rc;
}

int mp_async_result_error(mp_async_result *result, mp_task_error *err)
{
    mp_clear_error();
    if (!result || !err) return mp_set_error(MP_EINVAL, "error: NULL argument");
    pool_job *job = job_of(result);
    mp_os_mutex_lock(job->pool->mu);
    int rc = 0;
    if (!has_ended(job))
        rc = mp_set_error(MP_ESTATE, "the result is not ready");
    else if (!job->first_failed)
        rc = mp_set_error(MP_ESTATE, "the task did not fail");
    else
        *err = *job->errors[job->first_failed - 1];
    mp_os_mutex_unlock(job->pool->mu);
    return rc;
}

void mp_async_result_free(mp_async_result *result)
{
    if (!result) return;
    pool_job *job = job_of(result);
    mp_os_mutex_lock(job->pool->mu);
    pool_job_release_unlock(job);
}
