/* pool.c - a pool's life: start (queues, slot words, workers, the
 * handler thread), close, terminate, join and free. */
#include <stdlib.h>
#include <string.h>

#include "core/pool/pool.h"
#include "mproc/array.h"

/* The result queue's ring: docs/pool.md, "Memory". */
#define RESULT_RING ((size_t)1 << 20)

static void release_parts(mp_pool *pool)
{
    free(pool->workers);
    mp_queue_free(pool->results);
    mp_array_free(pool->slots);
    mp_obj_free(pool->initargs);
    free(pool->init_loc);
    free(pool->rbuf);
}

/* Everything but the workers and the thread. */
static int make_parts(mp_pool *pool, const mp_pool_config *cfg)
{
    int rc = mp_os_mutex_new(&pool->mu);
    if (rc == 0) rc = mp_os_cond_new(&pool->cv);
    if (rc < 0) return rc;
    pool->workers = calloc((size_t)pool->nworkers, sizeof *pool->workers);
    pool->rcap = 4096;
    pool->rbuf = malloc(pool->rcap);
    pool->initargs = cfg->initargs ? mp_obj_copy(cfg->initargs) : mp_obj_tuple(0);
    if (!pool->workers || !pool->rbuf || !pool->initargs)
        return mp_set_error(MP_ENOMEM, "pool: out of memory");
    rc = mp_simple_queue_new_sized(&pool->results, RESULT_RING);
    if (rc == 0) rc = mp_array_new_raw(&pool->slots, 'Q', (size_t)pool->nworkers);
    pool_fn_place place;
    if (rc == 0 && cfg->initializer)
        rc = pool_wire_fn((void (*)(void))cfg->initializer, &place);
    if (rc == 0 && cfg->initializer) {
        pool->init_loc = malloc(place.len);
        if (!pool->init_loc) return mp_set_error(MP_ENOMEM, "pool: out of memory");
        memcpy(pool->init_loc, place.bytes, place.len);
        pool->init_loc_len = place.len;
    }
    return rc;
}

static int check_config(const mp_pool_config *cfg)
{
    if (cfg->processes < 0)
        return mp_set_error(MP_EINVAL, "pool: processes must be at least 1, not %d",
                            cfg->processes);
    if (cfg->maxtasksperchild < 0)
        return mp_set_error(MP_EINVAL, "pool: maxtasksperchild must be 0 or more, not %d",
                            cfg->maxtasksperchild);
    if (cfg->initargs) {
        mp_obj_type t = mp_obj_type_of(cfg->initargs);
        if (t != MP_OBJ_TUPLE && t != MP_OBJ_LIST)
            return mp_set_error(MP_EINVAL, "pool: initargs must be a tuple or list");
    }
    if (cfg->start_method != MP_START_DEFAULT && cfg->start_method != MP_START_SPAWN &&
        cfg->start_method != MP_START_FORK)
        return mp_set_error(MP_EINVAL, "pool: unknown start method %d",
                            (int)cfg->start_method);
    return 0;
}

int mp__pool_new_backend(mp_pool **out, const mp_pool_config *cfg, int n,
                         const pool_backend *be, void *data)
{
    mp_pool *pool = calloc(1, sizeof *pool);
    if (!pool) {
        if (data) be->release(data);
        return mp_set_error(MP_ENOMEM, "pool: out of memory");
    }
    mp_store32(&pool->refs, 1, MP_RELAXED);
    mp_store32(&pool->open, 1, MP_RELAXED);
    pool->backend = be;
    pool->backend_data = data;
    pool->nworkers = n;
    pool->maxtasks = cfg->maxtasksperchild;
    pool->method = cfg->start_method;
    mp_store64(&pool->next_id, POOL_FIRST_ID, MP_RELAXED);
    int rc = make_parts(pool, cfg);
    for (int i = 0; rc == 0 && i < n; i++)
        rc = be->start(pool, i);
    if (rc == 0) rc = mp_os_thread_start(&pool->handler, pool_handler_main, pool);
    if (rc < 0) {
        if (pool->workers) be->kill(pool);
        if (data) be->release(data);
        release_parts(pool);
        if (pool->cv) mp_os_cond_free(pool->cv);
        if (pool->mu) mp_os_mutex_free(pool->mu);
        free(pool);
        return rc;
    }
    *out = pool;
    return 0;
}

int mp_pool_new_config(mp_pool **out, const mp_pool_config *cfg)
{
    mp_clear_error();
    if (!out || !cfg) return mp_set_error(MP_EINVAL, "pool: NULL argument");
    *out = NULL;
    int rc = check_config(cfg);
    if (rc < 0) return rc;
    int n = cfg->processes;
    if (n == 0) n = mp_process_cpu_count();
    if (n < 1) n = 1;
    return mp__pool_new_backend(out, cfg, n, &pool_local_backend, NULL);
}

int mp_pool_new(mp_pool **pool, int processes, mp_pool_init_fn initializer,
                const mp_obj *initargs, int maxtasksperchild)
{
    mp_pool_config cfg = {processes, initializer, initargs, maxtasksperchild,
                          MP_START_DEFAULT};
    return mp_pool_new_config(pool, &cfg);
}

int mp_pool_processes(const mp_pool *pool)
{
    return pool ? pool->nworkers : mp_set_error(MP_EINVAL, "pool: NULL pool");
}

int mp_pool_worker_pids(mp_pool *pool, int64_t *pids, size_t max)
{
    if (!pool || (!pids && max)) return mp_set_error(MP_EINVAL, "pool: NULL argument");
    size_t n = 0;
    mp_os_mutex_lock(pool->mu);
    for (int i = 0; i < pool->nworkers && n < max; i++)
        if (pool->workers[i].live && pool->workers[i].pid > 0)
            pids[n++] = pool->workers[i].pid;
    mp_os_mutex_unlock(pool->mu);
    return (int)n;
}

int mp_pool_close(mp_pool *pool)
{
    mp_clear_error();
    if (!pool) return mp_set_error(MP_EINVAL, "pool: NULL pool");
    pool_shut(pool);
    mp_os_mutex_lock(pool->mu);
    int rc = 0;
    if (pool->state == POOL_TERMINATE)
        rc = mp_set_error(MP_ESTATE, "pool was terminated");
    else
        pool->state = POOL_CLOSE;
    mp_os_mutex_unlock(pool->mu);
    if (rc == 0) pool_nudge(pool);
    return rc;
}

static void join_handler(mp_pool *pool)
{
    if (pool->joined) return;
    mp_os_thread_join(pool->handler);
    pool->joined = 1;
}

int mp_pool_terminate(mp_pool *pool)
{
    mp_clear_error();
    if (!pool) return mp_set_error(MP_EINVAL, "pool: NULL pool");
    pool_shut(pool);
    mp_os_mutex_lock(pool->mu);
    pool->state = POOL_TERMINATE;
    mp_os_mutex_unlock(pool->mu);
    pool_nudge(pool);
    join_handler(pool);
    pool->backend->kill(pool);
    mp_os_mutex_lock(pool->mu);
    pool_take_incoming(pool);
    pool_fail_all(pool, MP_ESTATE, "the pool was terminated");
    mp_os_mutex_unlock(pool->mu);
    return 0;
}

int mp_pool_join(mp_pool *pool)
{
    mp_clear_error();
    if (!pool) return mp_set_error(MP_EINVAL, "pool: NULL pool");
    mp_os_mutex_lock(pool->mu);
    int running = pool->state == POOL_RUN;
    mp_os_mutex_unlock(pool->mu);
    if (running) return mp_set_error(MP_ESTATE, "pool is still running: close it first");
    join_handler(pool);
    return 0;
}

void mp_pool_free(mp_pool *pool)
{
    if (!pool) return;
    mp_os_mutex_lock(pool->mu);
    int needs_stop = pool->state != POOL_TERMINATE && !pool->handler_done;
    mp_os_mutex_unlock(pool->mu);
    if (needs_stop) mp_pool_terminate(pool);
    join_handler(pool);
    pool->backend->kill(pool); /* none left after a join; after a terminate, reaped */
    if (pool->backend_data) pool->backend->release(pool->backend_data);
    pool->backend_data = NULL;
    mp_os_mutex_lock(pool->mu);
    pool_take_incoming(pool);
    pool_fail_all(pool, MP_ESTATE, "the pool was terminated");
    release_parts(pool);
    pool->workers = NULL;
    pool->nworkers = 0;
    pool_unref_unlock(pool);
}
