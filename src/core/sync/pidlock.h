/* pidlock.h - a lock word holding its holder's pid, that survives the
 * death of its holder: the lock under Value, Array and the public Lock.
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
#ifndef MP_CORE_SYNC_PIDLOCK_H
#define MP_CORE_SYNC_PIDLOCK_H

#include "core/sync/waiter.h"
#include "platform.h"

/* The shared part: 16 bytes, zero means free. */
typedef struct mp_pidlock_shared {
    mp_atomic_u32 owner; /* pid of the holder, 0 when free */
    mp_waitpoint wp;     /* its waiters */
    uint32_t unused;
} mp_pidlock_shared;

/* One process's handle on a lock. */
typedef struct mp_pidlock {
    mp_pidlock_shared *s;
    mp_os_wq wq;
} mp_pidlock;

/* Initialises the shared part at s (zeroed memory) and creates the wait
 * queue. */
int mp_pidlock_create(mp_pidlock *l, mp_pidlock_shared *s);

/* Handles a child needs (up to MP_OS_WQ_MAX_HANDLES); returns the count. */
int mp_pidlock_handles(const mp_pidlock *l, mp_os_handle *out);

/* Rebuilds the handle in a child; takes ownership of the n handles. */
int mp_pidlock_adopt(mp_pidlock *l, mp_pidlock_shared *s, const mp_os_handle *h, int n);

/* The waiting part of mp_pidlock_acquire. */
int mp__pidlock_acquire_slow(mp_pidlock *l, uint64_t deadline_ns);

/* Takes the lock, waiting until the deadline. 0, MP_ETIMEDOUT, or
 * MP_EOWNERDEAD: taken over from a dead holder (the lock is now held).
 * Inline: an uncontended lock is one compare-and-swap. */
static inline int mp_pidlock_acquire(mp_pidlock *l, uint64_t deadline_ns)
{
    uint32_t cur = 0;
    if (mp_cas32(&l->s->owner, &cur, mp_os_self(), MP_ACQUIRE)) return 0;
    return mp__pidlock_acquire_slow(l, deadline_ns);
}

/* Wakes one sleeper (mp_wait_wake_one). */
void mp__pidlock_wake(mp_pidlock *l);

/* Releases the lock and wakes one sleeper if there is one. */
static inline void mp_pidlock_release(mp_pidlock *l)
{
    mp_xchg32(&l->s->owner, 0, MP_SEQ_CST);
    if (mp_load32(&l->s->wp.waiters, MP_SEQ_CST) != 0) mp__pidlock_wake(l);
}

/* The holder's pid, 0 if free (a hint: it may change at once). */
uint32_t mp_pidlock_owner(const mp_pidlock *l);

/* 1 if the lock is held by a process that no longer exists. */
int mp_pidlock_owner_dead(const mp_pidlock *l);

/* Releases this process's handles (not the lock). */
void mp_pidlock_close(mp_pidlock *l);

/* An id of the calling thread, unique among live threads of this process:
 * the address of a thread-local byte (compat.h's MP_THREAD_LOCAL). */
#include "base/compat.h"
extern MP_THREAD_LOCAL_FAST char mp__thread_anchor;
static inline uintptr_t mp_thread_self(void)
{
    return (uintptr_t)&mp__thread_anchor;
}

/* A number of the calling thread, unique among every thread this process
 * ever ran (never reused, unlike mp_thread_self's address), never 0: with
 * the pid it names one thread in one 64-bit word that a thread of another
 * process cannot hold by chance (an RLock's owner, rlock.c). */
extern MP_THREAD_LOCAL_FAST uint32_t mp__thread_number;
uint32_t mp__thread_number_assign(void);
static inline uint32_t mp_thread_number(void)
{
    uint32_t n = mp__thread_number;
    return n ? n : mp__thread_number_assign();
}

/* The calling thread among all threads of all processes: pid << 32 |
 * thread number. */
static inline uint64_t mp_thread_id(void)
{
    return (uint64_t)mp_os_self() << 32 | mp_thread_number();
}

#endif
