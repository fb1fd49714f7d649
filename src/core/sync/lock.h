/* lock.h - a lock in shared memory that survives the death of its holder:
 * the lock of Value and Array.
 *
 * The lock word holds the holder's process id (0: free); taking a free
 * lock is one compare-and-swap, releasing it one exchange, and the kernel
 * is entered only to sleep or to wake a sleeper. A waiter sleeps through
 * the one waiter (waiter.h), which takes the lock over from a holder that
 * no longer exists and reports MP_EOWNERDEAD. Any thread of the holding
 * process may release the lock; recursion is the caller's business (see
 * shared/block.c).
 *
 * Known limit: a holder's pid reused by a new process before anyone looks
 * makes the lock look held until that process exits. */
#ifndef MP_CORE_SYNC_LOCK_H
#define MP_CORE_SYNC_LOCK_H

#include "core/sync/waiter.h"
#include "platform.h"

/* The shared part: 16 bytes, zero means free. */
typedef struct mp_lock_shared {
    mp_atomic_u32 owner; /* pid of the holder, 0 when free */
    mp_waitpoint wp;     /* its waiters */
    uint32_t unused;
} mp_lock_shared;

/* One process's handle on a lock. */
typedef struct mp_lock {
    mp_lock_shared *s;
    mp_os_wq wq;
} mp_lock;

/* Initialises the shared part at s (zeroed memory) and creates the wait
 * queue. */
int mp_lock_create(mp_lock *l, mp_lock_shared *s);

/* Handles a child needs (up to MP_OS_WQ_MAX_HANDLES); returns the count. */
int mp_lock_handles(const mp_lock *l, mp_os_handle *out);

/* Rebuilds the handle in a child; takes ownership of the n handles. */
int mp_lock_adopt(mp_lock *l, mp_lock_shared *s, const mp_os_handle *h, int n);

/* The waiting part of mp_lock_acquire. */
int mp__lock_acquire_slow(mp_lock *l, uint64_t deadline_ns);

/* Takes the lock, waiting until the deadline. 0, MP_ETIMEDOUT, or
 * MP_EOWNERDEAD: taken over from a dead holder (the lock is now held).
 * Inline: an uncontended lock is one compare-and-swap. */
static inline int mp_lock_acquire(mp_lock *l, uint64_t deadline_ns)
{
    uint32_t cur = 0;
    if (mp_cas32(&l->s->owner, &cur, mp_os_self(), MP_ACQUIRE)) return 0;
    return mp__lock_acquire_slow(l, deadline_ns);
}

/* Wakes one sleeper (mp_wait_wake_one). */
void mp__lock_wake(mp_lock *l);

/* Releases the lock and wakes one sleeper if there is one. */
static inline void mp_lock_release(mp_lock *l)
{
    mp_xchg32(&l->s->owner, 0, MP_SEQ_CST);
    if (mp_load32(&l->s->wp.waiters, MP_SEQ_CST) != 0) mp__lock_wake(l);
}

/* The holder's pid, 0 if free (a hint: it may change at once). */
uint32_t mp_lock_owner(const mp_lock *l);

/* 1 if the lock is held by a process that no longer exists. */
int mp_lock_owner_dead(const mp_lock *l);

/* Releases this process's handles (not the lock). */
void mp_lock_close(mp_lock *l);

/* An id of the calling thread, unique among live threads of this process:
 * the address of a thread-local byte (compat.h's MP_THREAD_LOCAL). */
#include "base/compat.h"
extern MP_THREAD_LOCAL char mp__thread_anchor;
static inline uintptr_t mp_thread_self(void)
{
    return (uintptr_t)&mp__thread_anchor;
}

#endif
