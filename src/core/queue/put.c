/* put.c - put: the usual put, inline in mp_queue_put_bytes, and every
 * other case, each handed on in tail position.
 *
 * The usual put (unbounded queue, nothing of this process buffered, the
 * producer lock free, room in the ring as the producers' cache shows, no
 * wrap, up to 64 bytes) takes the lock in one compare-and-swap, copies
 * its record inline and publishes it with the lock's release. It calls
 * nothing but in tail position, so the compiler gives it no stack frame
 * (bench/check_hot_path.py holds it to that). A put that must wait for
 * the lock or for room goes to locks.c, one that cannot wait is buffered
 * by feeder.c, a bounded one waits under the lock for a place, and one
 * larger than the ring goes to stream.c; a stream a dead producer left
 * open is repaired first (recover.c). */
#include <stdlib.h>

#include "base/deadline.h"
#include "base/error.h"
#include "core/queue/buffered.h"
#include "core/queue/feeder.h"
#include "core/queue/joinable.h"
#include "core/queue/locks.h"
#include "core/queue/recover.h"
#include "core/queue/ring.h"
#include "core/queue/stream.h"

/* Producer lock held with count c and no stream open: writes a message of
 * up to 64 bytes if the room the producers' cache shows takes it without
 * wrapping (1: count c + 1 to publish). Calls nothing, so that the usual
 * put needs no stack frame; write_now does the rest. */
static inline int write_fast(mp_queue *q, uint32_t c, const void *data, uint64_t len)
{
    struct qshared *s = q->s; /* read once: the stores below may alias q */
    uint64_t tail = mp_load64(&s->p.tail[c & 1], MP_RELAXED);
    uint64_t rec = Q_REC_HDR + q_pad8(len);
    if (len > Q_SMALL || rec > q_room(q, tail, q_head_view(q)) ||
        (tail & q->mask) + rec > q->cap)
        return 0;
    q_record_write_flat(q, tail, data, len);
    mp_store64(&s->p.tail[(c + 1) & 1], tail + rec, MP_RELAXED);
    return 1;
}

/* Producer lock held with count c and no stream open: writes the record
 * if it fits in the free room now, looking at where the consumers stand
 * only if the cache shows too little. 1 if written (count c + 1 to
 * publish). */
static Q_INLINE int write_now(mp_queue *q, uint32_t c, const void *data, uint64_t len)
{
    struct qshared *s = q->s;
    uint64_t tail = mp_load64(&s->p.tail[c & 1], MP_RELAXED);
    uint64_t rec = Q_REC_HDR + q_pad8(len);
    uint64_t head = q_head_view(q);
    if (rec > q_room(q, tail, head)) {
        head = q_consumer_head(q);
        mp_store64(&s->p.head_seen, head, MP_RELAXED);
        if (rec > q_room(q, tail, head)) return 0;
    }
    if ((tail & q->mask) + rec <= q->cap) /* the usual case: no wrap */
        q_record_write_flat(q, tail, data, len);
    else
        q_record_write(q, tail, data, len);
    mp_store64(&s->p.tail[(c + 1) & 1], tail + rec, MP_RELAXED);
    return 1;
}

/* Unbounded, producer lock held with count c (rc: how it was taken, 0 or
 * MP_EOWNERDEAD): writes now if the room allows, else buffers. */
static Q_NOINLINE int put_unbounded_locked(mp_queue *q, uint32_t c, int rc,
                                           const void *data, size_t len)
{
    struct qshared *s = q->s;
    if (rc == MP_EOWNERDEAD) mp_store32(&s->p.parked, 0, MP_RELAXED);
    /* An open stream needs repairs that may wait: the feeder's. */
    int clean = mp_load64(&s->p.msg_end, MP_ACQUIRE) == 0;
    int done = clean && write_now(q, c, data, len);
    if (!done && clean && Q_REC_HDR + q_pad8(len) <= q->cap) {
        /* Consumers that keep up free room within a copy's time: waiting
         * that long beats buffering (an allocation, a second copy, and
         * every later put of this process buffered behind it) and blocks
         * put in no useful sense. */
        uint64_t tail = mp_load64(&s->p.tail[c & 1], MP_RELAXED);
        if (q_wait_room(q, tail, Q_REC_HDR + q_pad8(len),
                        mp_os_now_ns() + Q_PUT_GRACE_NS(Q_REC_HDR + q_pad8(len))) == 0)
            done = write_now(q, c, data, len);
    }
    q_release_producers(q, done ? c + 1 : c);
    if (done) return 0;
    return q_buffer(q, data, len);
}

/* Unbounded, the producer lock not won at first try (or not tried). */
static Q_COLD int put_unbounded_contended(mp_queue *q, const void *data, size_t len)
{
    uint32_t c;
    int rc = q_lock(&q->s->p.lk, &q->plock_wq, MP_NO_DEADLINE, &q->s->p.parked, NULL, &c);
    if (rc == 0 || rc == MP_EOWNERDEAD) return put_unbounded_locked(q, c, rc, data, len);
    return q_buffer(q, data, len);
}

/* Unbounded, messages of this process in its buffer: they go first. While
 * the feeder keeps writing them, waiting for it to finish - as long as put
 * waits for room - beats buffering this one too: an allocation and a
 * second copy per message kept the buffer from ever emptying, a steady
 * state seen at a fifth of the speed with 1 MiB messages. A feeder that
 * does not finish in that time is stalled (consumers are away): puts then
 * buffer at once until the buffer is empty. */
static Q_COLD int put_behind_buffer(mp_queue *q, const void *data, size_t len)
{
    if (!mp_load32(&q->stalled, MP_RELAXED)) {
        uint64_t deadline = mp_os_now_ns() + Q_PUT_GRACE_NS(Q_REC_HDR + q_pad8(len));
        while (mp_load32(&q->local, MP_ACQUIRE) != 0 && !q_is_closed(q)) {
            if (mp_os_now_ns() >= deadline) {
                mp_store32(&q->stalled, 1, MP_RELAXED);
                break;
            }
            mp_os_sleep_ns(20000);
        }
        if (mp_load32(&q->local, MP_ACQUIRE) == 0)
            return put_unbounded_contended(q, data, len);
    }
    return q_buffer(q, data, len);
}

/* Unbounded, nothing of this process buffered: takes the lock if free,
 * writes the record if the room allows and releases, handing every other
 * case on. With small set (a constant), the copy is inline and nothing
 * is called but in tail position, so the usual put needs no stack frame
 * and saves no registers (a put + get of 8 bytes in one process:
 * 13.3-13.7 -> 11.7-12.3 ns); otherwise the copy calls memcpy. The lock
 * was released by a holder that cleared parked, so it need not be
 * cleared here. */
static Q_INLINE int put_now(mp_queue *q, const void *data, size_t len, int small)
{
    struct qshared *s = q->s;
    uint32_t c;
    if (Q_UNLIKELY(!q_take_free(&s->p.lk, &c)))
        return put_unbounded_contended(q, data, len);
    if (Q_UNLIKELY(mp_load64(&s->p.msg_end, MP_RELAXED) != 0 ||
                   !(small ? write_fast(q, c, data, len) : write_now(q, c, data, len))))
        return put_unbounded_locked(q, c, 0, data, len);
    if (Q_UNLIKELY(q_release_quiet(&s->p.lk, &s->data, c + 1)))
        return q_wake_after(&s->p.lk, &q->plock_wq, &s->data, &q->data_wq);
    return 0;
}

/* put_now for a message over Q_SMALL bytes, out of line. */
static Q_NOINLINE int put_large(mp_queue *q, const void *data, size_t len)
{
    return put_now(q, data, len, 0);
}

/* Unbounded: write now if the lock and the room allow, else buffer. */
static Q_INLINE int put_unbounded(mp_queue *q, const void *data, size_t len)
{
    /* Anything of this process still buffered goes first. */
    if (Q_UNLIKELY(mp_load32(&q->local, MP_ACQUIRE) != 0))
        return put_behind_buffer(q, data, len);
    if (len > Q_SMALL) return put_large(q, data, len);
    return put_now(q, data, len, 1);
}

/* Bounded, or a SimpleQueue (maxsize 0): no buffer. Waits (until the
 * deadline) for a place under maxsize and for room in the ring, holding
 * the producer lock. */
static Q_NOINLINE int put_bounded(mp_queue *q, const void *data, size_t len,
                                  uint64_t deadline)
{
    struct qshared *s = q->s;
    uint32_t c;
    int rc = q_lock_side(&s->p.lk, &q->plock_wq, deadline, NULL, &c);
    if (rc == MP_ETIMEDOUT) return mp_set_error(MP_EFULL, "queue is full");
    if (rc < 0 && rc != MP_EOWNERDEAD) return rc;
    mp_store32(&s->p.parked, 0, MP_RELAXED);
    rc = q_finish_abandoned(q, &c, deadline);
    while (rc == 0 && q->maxsize != 0) {
        /* The consumers' count only grows: a stale copy errs on the safe
         * side, and reading theirs each time would pull their line here. */
        uint32_t taken = mp_load32(&s->p.taken_seen, MP_RELAXED);
        if (Q_CACHES && (int32_t)(c - taken) < (int32_t)q->maxsize) break;
        taken = Q_COUNT(mp_load64(&s->c.lk.word, MP_SEQ_CST));
        mp_store32(&s->p.taken_seen, taken, MP_RELAXED);
        if ((int32_t)(c - taken) < (int32_t)q->maxsize) break;
        if (mp_deadline_passed(deadline)) {
            rc = MP_ETIMEDOUT;
            break;
        }
        uint32_t seen = q_wait_prepare(&s->room);
        taken = Q_COUNT(mp_load64(&s->c.lk.word, MP_SEQ_CST));
        if ((int32_t)(c - taken) >= (int32_t)q->maxsize)
            q_wait_sleep(&q->room_wq, &s->room, seen, deadline);
        q_wait_done(&s->room);
    }
    if (rc == 0) rc = q_write_record(q, &c, data, len, deadline, Q_NOT_BUFFERED);
    q_release_producers(q, c);
    if (rc == MP_ETIMEDOUT) return mp_set_error(MP_EFULL, "queue is full");
    return rc;
}

/* mp_queue_put_bytes with every check and every kind of queue. */
static Q_NOINLINE int put_checked(mp_queue *q, const void *data, size_t len,
                                  double timeout)
{
    if (!q || (!data && len)) return mp_set_error(MP_EINVAL, "NULL argument");
    if (mp_size_bad(len)) return mp_set_error(MP_EINVAL, "length %zu is negative", len);
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    if (q_is_closed(q)) return mp_set_error(MP_ESTATE, "queue is closed");
    if ((uint64_t)len > ((uint64_t)1 << 62))
        return mp_set_error(MP_ETOOBIG, "message of %zu bytes", len);
    if (q->flags & Q_JOINABLE) q_task_added(q);
    if (q->maxsize == 0 && !(q->flags & Q_SIMPLE))
        rc = put_unbounded(q, data, len);
    else
        rc = put_bounded(q, data, len, mp_deadline(timeout));
    /* A message not put is no task: join must not wait for it. */
    if (rc < 0 && (q->flags & Q_JOINABLE)) q_task_undo(q);
    return rc;
}

/* mp_queue_put_bytes, inline in it and in _nowait. Left to the compiler,
 * _nowait got the usual put inline or only a jump to mp_queue_put_bytes
 * depending on how much else its file held. */
static Q_INLINE int put_bytes(mp_queue *q, const void *data, size_t len, double timeout)
{
    /* Valid arguments to an open plain unbounded queue (timeout is then
     * unused); put_checked for all else. */
    if (Q_UNLIKELY(!q || (!data && len) || mp_size_bad(len) ||
                   (uint64_t)len > ((uint64_t)1 << 62) || timeout != timeout ||
                   q->route != 0 || q_is_closed(q)))
        return put_checked(q, data, len, timeout);
    return put_unbounded(q, data, len);
}

int mp_queue_put_bytes(mp_queue *q, const void *data, size_t len, double timeout)
{
    mp_clear_error();
    return put_bytes(q, data, len, timeout);
}

int mp_queue_put_bytes_nowait(mp_queue *q, const void *data, size_t len)
{
    mp_clear_error();
    return put_bytes(q, data, len, 0);
}

int mp_queue_put(mp_queue *q, const mp_obj *o, double timeout)
{
    mp_clear_error();
    if (!q || !o) return mp_set_error(MP_EINVAL, "NULL argument");
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    void *data;
    size_t len;
    rc = mp_obj_dumps(o, &data, &len);
    if (rc < 0) return rc;
    rc = mp_queue_put_bytes(q, data, len, timeout);
    mp_free(data);
    return rc;
}

int mp_queue_put_nowait(mp_queue *q, const mp_obj *o)
{
    mp_clear_error();
    return mp_queue_put(q, o, 0);
}
