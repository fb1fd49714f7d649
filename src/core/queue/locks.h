/* locks.h - the side locks, sleeping for the other side, and waiting for
 * room in the ring: what every other file of the queue builds on. The
 * inline parts are those the usual put and get make; locks.c has the rest
 * and calls nothing else of the queue. */
#ifndef MP_CORE_QUEUE_LOCKS_H
#define MP_CORE_QUEUE_LOCKS_H

#include "core/queue/layout.h"

/* Takes a side's lock, waiting until the deadline. *count receives the
 * side's count. 0; MP_EOWNERDEAD when taken from a dead holder; MP_ETIMEDOUT;
 * MP_ECLOSED once *stop is set; Q_DIVERT while *parked is set (stop and
 * parked may be NULL). */
int q_lock(qside *sd, mp_os_wq *wq, uint64_t deadline, mp_atomic_u32 *parked,
           mp_atomic_u32 *stop, uint32_t *count);

/* Takes the lock only if it is free or its holder is dead. */
int q_trylock(qside *sd, uint32_t *count);

/* Takes a side's lock if it is free, in one compare-and-swap: 1 with
 * *count set, else 0 (held, or just taken by another, or this process's
 * id not cached yet: q_lock, which callers turn to, caches it). Forced
 * inline: a cold caller would otherwise call it, for a single CAS. */
static Q_INLINE int q_take_free(qside *sd, uint32_t *count)
{
    uint64_t w = mp_load64(&sd->word, MP_RELAXED);
    uint32_t self = mp_load32(&mp__os_pid, MP_RELAXED);
    if (Q_OWNER(w) != 0 || self == 0 ||
        !mp_cas64(&sd->word, &w, Q_WORD(self, Q_COUNT(w)), MP_ACQUIRE))
        return 0;
    *count = Q_COUNT(w);
    return 1;
}

/* The uncontended lock, inline; q_lock() for everything else. */
static inline int q_lock_side(qside *sd, mp_os_wq *wq, uint64_t deadline,
                              mp_atomic_u32 *parked, uint32_t *count)
{
    if (q_take_free(sd, count)) return 0;
    return q_lock(sd, wq, deadline, parked, NULL, count);
}

/* Publishes count and releases the lock with one exchange. Inline, as
 * every message pays for it; the wake-up is not. */
void q__wake_lock_waiter(qside *sd, mp_os_wq *wq);
static inline void q_unlock(qside *sd, mp_os_wq *wq, uint32_t count)
{
    mp_xchg64(&sd->word, Q_WORD(0, count), MP_SEQ_CST);
    if (mp_load32(&sd->wp.waiters, MP_SEQ_CST) != 0) q__wake_lock_waiter(sd, wq);
}

/* Publishes count and releases the lock as q_unlock does, but wakes no
 * one: nonzero if a waiter for the lock or the other side's sleeper on w
 * must be woken (by the caller, afterwards). For the usual put and get,
 * which make no call but in tail position. */
static inline int q_release_quiet(qside *sd, qwait *w, uint32_t count)
{
    mp_xchg64(&sd->word, Q_WORD(0, count), MP_SEQ_CST);
    return (mp_load32(&sd->wp.waiters, MP_SEQ_CST) | mp_load32(&w->flag, MP_SEQ_CST)) !=
           0;
}

/* After a release that found someone to wake (q_release_quiet): wakes a
 * waiter for the side's lock and the other side's sleeper, whichever
 * there is. Returns 0, for callers that end with it (in tail position). */
int q_wake_after(qside *sd, mp_os_wq *lock_wq, qwait *w, mp_os_wq *wq);

/* Publishes count while keeping the lock. */
void q_publish(qside *sd, uint32_t count);

/* Sleeping for the other side: flag, re-check, sleep; the other side
 * publishes, then wakes only if the flag is set. */
uint32_t q_wait_prepare(qwait *w);
int q_wait_sleep(mp_os_wq *wq, qwait *w, uint32_t seen, uint64_t deadline);
void q_wait_done(qwait *w);
void q__notify_sleeper(mp_os_wq *wq, qwait *w);
static inline void q_notify(mp_os_wq *wq, qwait *w)
{
    if (mp_load32(&w->flag, MP_SEQ_CST) != 0) q__notify_sleeper(wq, w);
}

/* The producer lock holder is about to wait for consumers: tells would-be
 * lock waiters among put() callers to buffer instead. */
void q_park(mp_queue *q);

/* Producer lock held: ends any parking, publishes count c, releases the
 * lock and wakes a waiter for it and a sleeping consumer, if any. */
void q_release_producers(mp_queue *q, uint32_t c);

/* Where the consumers stand (whole records taken, or further into a
 * streamed one). Any thread may ask. */
uint64_t q_consumer_head(mp_queue *q);

/* The producers' view of the consumers' head: the cached one, or under
 * ThreadSanitizer a fresh one. */
static inline uint64_t q_head_view(mp_queue *q)
{
#if Q_CACHES
    return mp_load64(&q->s->p.head_seen, MP_RELAXED);
#else
    return q_consumer_head(q);
#endif
}

/* Producer lock held with count c: waits until want bytes are free after
 * tail, parking while it waits. MP_ETIMEDOUT at the deadline, MP_ECLOSED
 * once q->stop is set. */
int q_wait_room(mp_queue *q, uint64_t tail, uint64_t want, uint64_t deadline);

#endif
