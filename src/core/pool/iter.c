/* iter.c - imap and imap_unordered: results handed out one by one, in
 * the order of the items or in the order their chunks ended. */
#include <stdint.h>
#include <stdlib.h>

#include "base/deadline.h"
#include "core/pool/pool.h"

struct mp_pool_iter {
    pool_job *job;
    size_t pos;  /* chunks handed out: a chunk number (imap) or a place in order */
    size_t item; /* items of the current chunk handed out */
    int failed;  /* the latest next gave last */
    mp_task_error last;
    mp_obj *list; /* the current chunk's results, decoded */
};

int pool_iter_new(pool_job *job, mp_pool_iter **it)
{
    mp_pool_iter *i = calloc(1, sizeof *i);
    if (!i) {
        mp_os_mutex_lock(job->pool->mu);
        pool_job_release_unlock(job);
        return mp_set_error(MP_ENOMEM, "pool: out of memory");
    }
    i->job = job;
    *it = i;
    return 0;
}

/* The chunk the iterator hands out next, once it has ended; SIZE_MAX
 * while it has not. */
static size_t next_chunk(const mp_pool_iter *it)
{
    const pool_job *job = it->job;
    if (job->order) return it->pos < job->ended ? job->order[it->pos] : SIZE_MAX;
    return job->len[it->pos] || job->errors[it->pos] ? it->pos : SIZE_MAX;
}

/* Moves past the current chunk. */
static void next_chunk_of(mp_pool_iter *it)
{
    mp_obj_free(it->list);
    it->list = NULL;
    it->pos++;
    it->item = 0;
}

int mp_pool_iter_next(mp_pool_iter *it, double timeout, mp_obj **out)
{
    mp_clear_error();
    if (!it || !out) return mp_set_error(MP_EINVAL, "next: NULL argument");
    *out = NULL;
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    uint64_t deadline = mp_deadline(timeout);
    pool_job *job = it->job;
    mp_os_mutex_lock(job->pool->mu);
    it->failed = 0;
    for (;;) {
        if (it->pos >= job->nchunks) {
            rc = MP_ECLOSED;
            break;
        }
        size_t seq = next_chunk(it);
        while (seq == SIZE_MAX) {
            if (mp_os_now_ns() >= deadline) break;
            mp_os_cond_wait_until(job->pool->cv, job->pool->mu, deadline);
            seq = next_chunk(it);
        }
        if (seq == SIZE_MAX) {
            rc = mp_set_error(MP_ETIMEDOUT, "next: no result within the timeout");
            break;
        }
        if (job->errors[seq]) {
            it->last = *job->errors[seq];
            it->failed = 1;
            next_chunk_of(it);
            rc = pool_error_report(&it->last);
            break;
        }
        if (!it->list) {
            rc = pool_job_chunk_values(job, seq, &it->list);
            if (rc < 0) break;
        }
        if (it->item >= mp_obj_len(it->list)) { /* an empty chunk: none is made */
            next_chunk_of(it);
            continue;
        }
        *out = mp_obj_copy(mp_obj_item(it->list, it->item));
        if (!*out) {
            rc = mp_set_error(MP_ENOMEM, "pool: out of memory");
            break;
        }
        if (++it->item == mp_obj_len(it->list)) next_chunk_of(it);
        rc = 0;
        break;
    }
    mp_os_mutex_unlock(job->pool->mu);
    return rc;
}

int mp_pool_iter_error(mp_pool_iter *it, mp_task_error *err)
{
    mp_clear_error();
    if (!it || !err) return mp_set_error(MP_EINVAL, "iter_error: NULL argument");
    if (!it->failed) return mp_set_error(MP_ESTATE, "the latest next did not fail");
    *err = it->last;
    return 0;
}

void mp_pool_iter_free(mp_pool_iter *it)
{
    if (!it) return;
    mp_obj_free(it->list);
    mp_os_mutex_lock(it->job->pool->mu);
    pool_job_release_unlock(it->job);
    free(it);
}
