/* handler.c - the pool's thread in the parent: through its backend, it
 * sends pending chunks to workers with room, takes results, and looks at
 * the workers often enough that a dead one is noticed within about
 * CHECK_NS + IDLE_WAIT (docs/pool.md). Submitting threads wake it with a
 * nudge through the result queue when it may sleep, so it sleeps in one
 * place. */
#include <stdlib.h>
#include <string.h>

#include "core/pool/pool.h"

#define IDLE_WAIT 0.05      /* seconds asleep on the result queue at most */
#define CHECK_NS  20000000u /* between looks at the workers while busy */
#define BATCH     64        /* results taken before sending more chunks */

/* 1 when no chunk is pending or held by a worker. Under the mutex. */
static int all_done(const mp_pool *pool)
{
    if (pool->pending) return 0;
    for (int i = 0; i < pool->nworkers; i++)
        if (pool->workers[i].inflight) return 0;
    return 1;
}

/* Waits for a message up to IDLE_WAIT, unless a submission came since the
 * pending list was last looked at: submitting threads nudge only while
 * idle is set (submit.c), and they push before they look at it. */
static int receive_idle(mp_pool *pool)
{
    mp_store32(&pool->idle, 1, MP_SEQ_CST);
    double wait = mp_load64(&pool->incoming, MP_SEQ_CST) ? 0 : IDLE_WAIT;
    int got = pool->backend->receive(pool, wait);
    mp_store32(&pool->idle, 0, MP_RELAXED);
    return got;
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
        pool_take_incoming(pool);
        pool_dispatch(pool);
        uint64_t pace = pool_pace_ns(pool);
        int done = all_done(pool);
        int closing = pool->state == POOL_CLOSE;
        mp_os_mutex_unlock(pool->mu);
        if (closing && done) {
            pool->backend->stop(pool);
            break;
        }
        if (pace) mp_os_sleep_ns(pace);
        int got = pace ? pool->backend->receive(pool, 0) : receive_idle(pool);
        for (int k = 0; got && k < BATCH && pool->backend->receive(pool, 0); k++) {
        }
        uint64_t now = mp_os_now_ns();
        if (!got || now - last_check >= CHECK_NS) {
            pool->backend->check(pool);
            last_check = now;
        }
    }
    mp_os_mutex_lock(pool->mu);
    pool->handler_done = 1;
    mp_os_cond_broadcast(pool->cv);
    mp_os_mutex_unlock(pool->mu);
}
