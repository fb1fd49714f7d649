/* waiter.h - the one way mproc waits for a word in shared memory.
 *
 * Room sync/: the waiter (this file), and every primitive that sleeps on
 * it: the pid lock under Value, Array and Lock (pidlock.h), the public
 * Lock, RLock, Semaphore, Event, Condition and Barrier (each in its own
 * file, on the segment of object.h) and, from queue/, the Queue's two
 * side locks. The story continues in pidlock.h, object.h and in
 * docs/design.md ("One waiter") and docs/synchronize.md.
 *
 * A primitive keeps its own word (an owner pid, a count) and, beside it,
 * an mp_waitpoint: how many wait and a sequence that moves on with every
 * wake-up. A waiter that finds the word taken calls mp_wait_for, which
 *   1. reads the sequence, then registers (before the last look at the
 *      word, so a release after that look sees it and wakes it; after the
 *      read, so a wake-up meant for any registered waiter never finds it
 *      asleep),
 *   2. looks at the word once more and sleeps on the sequence for a slice,
 *   3. unregisters and tries the word,
 *   4. when a slice ran out, asks the OS whether the word's owner still
 *      exists, and takes the word over from a dead one (MP_EOWNERDEAD),
 *   5. sleeps longer slices each round, up to the deadline.
 * A release wakes one waiter, and no other until that one has run and
 * tried the word (mp_wait_wake_one), so a stream of releases makes no
 * system call for nobody. */
#ifndef MP_CORE_SYNC_WAITER_H
#define MP_CORE_SYNC_WAITER_H

#include "base/testhook.h"
#include "platform.h"

/* The shared part beside a primitive's word: 8 bytes, zero to start. */
typedef struct mp_waitpoint {
    mp_atomic_u32 waiters; /* registered waiters, and MP_WAIT_WOKEN */
    mp_atomic_u32 seq;     /* moves on with every wake-up: what sleepers wait on */
} mp_waitpoint;

/* The wake-up mark: the high bit of the count of waiters says a wake-up
 * is on its way to one of them. It is set only together with a count
 * seen in the same word, so a release racing with the last waiter's
 * leaving never leaves it set; the waiter that wakes clears it before it
 * looks at the word again. */
#define MP_WAIT_WOKEN 0x80000000u

/* What mp_wait_for asks of the primitive it waits for. ctx is the
 * primitive's own (its word, where to put what taking it yields). */
typedef struct mp_wait_ops {
    /* Tries to take the word: 1 if taken; else 0 with *owner the pid that
     * holds it (0 when nobody does or the primitive has no owner). */
    int (*try_take)(void *ctx, uint32_t *owner);
    /* A look without taking: 1 if the word is free now (the waiter's last
     * look before it sleeps, made while it is registered). */
    int (*is_free)(void *ctx);
    /* Takes the word from owner, which no longer exists: 1 if taken.
     * NULL for a primitive with no owner (try_take then reports 0). */
    int (*take_over)(void *ctx, uint32_t owner);
    /* NULL, or a reason to stop waiting (a negative code, or a positive
     * one of the primitive's own), asked before each sleep and after each
     * failed try; 0 to go on. */
    int (*stop)(void *ctx);
} mp_wait_ops;

/* Waits for ops->try_take to succeed: 0 when taken, MP_EOWNERDEAD when
 * taken over from a dead owner, MP_ETIMEDOUT at the deadline (after one
 * last try and a dead-owner check, so a caller that never waits still
 * recovers a dead owner's word), what ops->stop returned, or MP_ESYS.
 * The first sleep lasts first_slice_ns, later ones twice the one before,
 * up to max_slice_ns; no sleep passes the deadline. */
int mp_wait_for(mp_waitpoint *wp, mp_os_wq *wq, const mp_wait_ops *ops, void *ctx,
                uint64_t deadline_ns, uint64_t first_slice_ns, uint64_t max_slice_ns);

/* The waiters registered at wp, without the mark. */
static inline uint32_t mp_wait_count(mp_waitpoint *wp, mp_memory_order mo)
{
    return mp_load32(&wp->waiters, mo) & ~MP_WAIT_WOKEN;
}

/* Wakes one waiter registered at wp, asleep in wq, unless a wake-up is
 * already on its way. The release path of every primitive: call it when
 * the word was released and mp_wait_count is not 0. */
void mp_wait_wake_one(mp_waitpoint *wp, mp_os_wq *wq);

/* Wakes every registered waiter (to make them look at the word again,
 * e.g. after a flag they check changed). */
void mp_wait_wake_all(mp_waitpoint *wp, mp_os_wq *wq);

/* A waiter's first sleep, before it asks whether the owner is alive. */
#define MP_WAIT_FIRST_SLICE_NS 2000000u

/* As first_slice_ns (and max_slice_ns): no slices, one sleep to the
 * deadline, for a primitive with no owner to ask about, whose release
 * wakes every waiter (mp_wait_wake_all: no wake-up mark a dead waiter
 * could leave set), and whose woken waiters all leave rather than sleep
 * again (where wake-ups are tokens, one that slept again could take a
 * token meant for another): an Event. Such a sleep arms no timer when
 * there is no deadline. */
#define MP_WAIT_NO_SLICE UINT64_MAX

/* Test hooks (base/testhook.h). A waiter calls mp__lock_waiter_hook (if
 * set) once it has registered, before its last look at the word; its
 * first sleep lasts mp__lock_first_slice_ns (in place of the caller's);
 * every sleep that runs out its slice counts in mp__lock_slices_out, so a
 * waiter that slept through a wake-up shows there. */
#ifdef MPROC_TEST_HOOKS
extern void (*mp__lock_waiter_hook)(void);
extern uint64_t mp__lock_first_slice_ns;
extern mp_atomic_u32 mp__lock_slices_out;
#endif

#endif
