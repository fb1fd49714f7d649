/* lock.h - a lock in shared memory that survives the death of its holder.
 *
 * The lock word holds the holder's process id (0: free); taking a free
 * lock is one compare-and-swap, releasing it one exchange, and the kernel
 * is entered only to sleep or to wake a sleeper. A waiter sleeps in short
 * slices and, between them, asks the OS whether the holder still exists:
 * if not, it takes the lock over and reports MP_EOWNERDEAD. Any thread of
 * the holding process may release the lock; recursion is the caller's
 * business (see block.c).
 *
 * Known limit: a holder's pid reused by a new process before anyone looks
 * makes the lock look held until that process exits. */
#ifndef MP_CORE_LOCK_H
#define MP_CORE_LOCK_H

#include "platform.h"

/* The shared part: 16 bytes, zero means free. */
typedef struct mp_lock_shared {
    mp_atomic_u32 owner;   /* pid of the holder, 0 when free */
    mp_atomic_u32 waiters; /* processes/threads sleeping on wseq, and MP_LOCK_WOKEN */
    mp_atomic_u32 wseq;    /* moves on with every wake-up: what sleepers wait on */
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

/* The wake-up mark, shared with the queue's side locks (queue/locks.c):
 * the high bit of a count of waiters says a wake-up is on its way to one
 * of them. It is set only together with a count seen in the same word, so
 * a release racing with the last waiter's leaving never leaves it set;
 * the waiter that wakes clears it before it looks at the lock word again.
 * Waiters read the wake-up sequence before they register, so every waiter
 * counted when the mark is set sees the sequence move on and cannot sleep
 * through it. */
#define MP_LOCK_WOKEN 0x80000000u

/* The waiters counted in *waiters, without the mark. */
static inline uint32_t mp__lock_waiters(mp_atomic_u32 *waiters, mp_memory_order mo)
{
    return mp_load32(waiters, mo) & ~MP_LOCK_WOKEN;
}

/* Sets the mark if someone waits and no wake-up is on its way: 1 if the
 * caller must now move the sequence on and wake one. */
static inline int mp__lock_mark_wakeup(mp_atomic_u32 *waiters)
{
    uint32_t w = mp_load32(waiters, MP_SEQ_CST);
    do {
        if ((w & ~MP_LOCK_WOKEN) == 0 || (w & MP_LOCK_WOKEN)) return 0;
    } while (!mp_cas32(waiters, &w, w | MP_LOCK_WOKEN, MP_SEQ_CST));
    return 1;
}

/* A waiter done sleeping (woken or not) clears the mark before its next
 * look at the lock word: the next release may then wake another. */
static inline void mp__lock_clear_wakeup(mp_atomic_u32 *waiters)
{
    uint32_t w = mp_load32(waiters, MP_RELAXED);
    while ((w & MP_LOCK_WOKEN) &&
           !mp_cas32(waiters, &w, w & ~MP_LOCK_WOKEN, MP_SEQ_CST)) {
    }
}

/* Wakes one of the waiters counted in *waiters, asleep on *seq in wq,
 * unless a wake-up is already on its way: the release path of this lock
 * and of the queue's side locks. */
void mp__lock_wake_one(mp_atomic_u32 *waiters, mp_atomic_u32 *seq, mp_os_wq *wq);

/* mp__lock_wake_one for this lock. */
void mp__lock_wake(mp_lock *l);

/* Releases the lock and wakes one sleeper if there is one. */
static inline void mp_lock_release(mp_lock *l)
{
    mp_xchg32(&l->s->owner, 0, MP_SEQ_CST);
    if (mp_load32(&l->s->waiters, MP_SEQ_CST) != 0) mp__lock_wake(l);
}

/* A waiter's first sleep, before it asks whether the holder is alive. */
#define MP_LOCK_FIRST_SLICE_NS 2000000u

/* Test hooks (base/testhook.h), shared with the queue's side locks
 * (queue/locks.c), which follow the same protocol. A waiter calls
 * mp__lock_waiter_hook (if set) once it has registered, before its last
 * look at the word; its first sleep lasts mp__lock_first_slice_ns; every
 * sleep that runs out its slice counts in mp__lock_slices_out. A waiter
 * that slept through a wake-up shows there. */
#include "base/testhook.h"
#ifdef MPROC_TEST_HOOKS
extern void (*mp__lock_waiter_hook)(void);
extern uint64_t mp__lock_first_slice_ns;
extern mp_atomic_u32 mp__lock_slices_out;
#else
#define mp__lock_first_slice_ns MP_LOCK_FIRST_SLICE_NS
#endif

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
