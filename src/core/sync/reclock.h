/* reclock.h - the built-in lock of Value and Array: a pid lock (pidlock.h)
 * made recursive per thread by the handle that holds it.
 *
 * The pid word cannot tell two threads of one process apart, so the
 * handle adds that: owner is the thread that holds the lock (read by
 * other threads of this process, hence atomic) and depth counts its
 * nested lock calls, touched only by the owner. Unlike an RLock
 * (rlock.c), this state lives in the process's handle, not in shared
 * memory: a Value's every access takes this lock, and the handle's own
 * words cost less than shared ones. The price: two handles on one block
 * in one process (a child given the same Value twice) do not know of each
 * other's recursion. */
#ifndef MP_CORE_SYNC_RECLOCK_H
#define MP_CORE_SYNC_RECLOCK_H

#include <stddef.h>

#include "core/sync/pidlock.h"

typedef struct mp_reclock {
    mp_pidlock lk;
    mp_atomic_u64 owner; /* mp_thread_self() of the holder, 0 when none here */
    size_t depth;
} mp_reclock;

/* Prepares the handle's part (the pid lock is created or adopted apart). */
static inline void mp_reclock_init(mp_reclock *r)
{
    mp_store64(&r->owner, 0, MP_RELAXED);
    r->depth = 0;
}

/* The first level, for a thread that does not hold the lock and found
 * it taken: 0, MP_EOWNERDEAD (taken over, held), MP_ETIMEDOUT (with a
 * message) or MP_ESYS. */
int mp__reclock_first(mp_reclock *r, uint64_t deadline_ns);

/* Takes one level: a counter for the holder, the pid lock for anyone
 * else. Inline: a Value's every access comes through here, most often
 * from inside the user's own lock. */
static inline int mp_reclock_enter(mp_reclock *r, uint64_t deadline_ns)
{
    uint64_t self = (uint64_t)mp_thread_self();
    /* Relaxed is enough: only this thread ever stores its own id here, so
     * it sees it exactly when it holds the lock. */
    if (mp_load64(&r->owner, MP_RELAXED) == self) {
        r->depth++;
        return 0;
    }
    uint32_t free_word = 0;
    if (mp_cas32(&r->lk.s->owner, &free_word, mp_os_self(), MP_ACQUIRE)) {
        mp_store64(&r->owner, self, MP_RELAXED);
        r->depth = 1;
        return 0;
    }
    return mp__reclock_first(r, deadline_ns);
}

/* Gives one level back; the last releases the pid lock. The caller holds
 * the lock (mp_reclock_mine). */
static inline void mp_reclock_leave(mp_reclock *r)
{
    if (--r->depth == 0) {
        mp_store64(&r->owner, 0, MP_RELAXED);
        mp_pidlock_release(&r->lk);
    }
}

/* 1 if the calling thread holds the lock. */
static inline int mp_reclock_mine(mp_reclock *r)
{
    return mp_load64(&r->owner, MP_RELAXED) == (uint64_t)mp_thread_self();
}

#endif
