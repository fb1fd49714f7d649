/* queue.c - Queue: creation, travel to children, put, get and state.
 *
 * The shared layout and protocol are in queue/layout.h (and, long form,
 * docs/queue.md). The fast paths are here: a put that finds the producer
 * lock free and room in the ring copies its record and publishes it with
 * the lock's release; a get that finds a whole record copies it out and
 * publishes the new count the same way. Everything that waits or repairs
 * is in queue/stream.c and queue/feeder.c. */
#include <stdlib.h>
#include <string.h>

#include "base/deadline.h"
#include "base/error.h"
#include "core/runtime/kind.h"
#include "core/queue/testview.h"
#include "core/queue/layout.h"

/* ---- creation ----------------------------------------------------------------- */

static void close_handles(mp_queue *q)
{
    mp_os_wq_close(&q->plock_wq);
    mp_os_wq_close(&q->clock_wq);
    mp_os_wq_close(&q->data_wq);
    mp_os_wq_close(&q->room_wq);
    mp_os_shm_close(&q->shm);
    if (q->cv) mp_os_cond_free(q->cv);
    if (q->mu) mp_os_mutex_free(q->mu);
}

static mp_queue *alloc_queue(void)
{
    mp_queue *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->shm.handle = MP_OS_NO_HANDLE;
    q->slot = -1;
    for (int i = 0; i < MP_OS_WQ_MAX_HANDLES; i++) {
        q->plock_wq.h[i] = q->clock_wq.h[i] = MP_OS_NO_HANDLE;
        q->data_wq.h[i] = q->room_wq.h[i] = MP_OS_NO_HANDLE;
    }
    if (mp_os_mutex_new(&q->mu) < 0 || mp_os_cond_new(&q->cv) < 0) {
        close_handles(q);
        free(q);
        return NULL;
    }
    return q;
}

static void bind_ring(mp_queue *q)
{
    q->s = q->shm.base;
    q->cap = q->s->k.capacity;
    q->mask = q->cap - 1;
    q->maxsize = q->s->k.maxsize;
    q->ring = (unsigned char *)q->shm.base + Q_RING_OFFSET;
}

int mp_queue_new_sized(mp_queue **out, size_t maxsize, size_t ring_bytes)
{
    mp_clear_error();
    if (!out) return mp_set_error(MP_EINVAL, "NULL queue pointer");
    *out = NULL;
    if ((uint64_t)ring_bytes > Q_MAX_RING)
        return mp_set_error(MP_EINVAL, "ring of %zu bytes is over 1 GiB", ring_bytes);
    if ((uint64_t)maxsize > INT32_MAX)
        return mp_set_error(MP_EINVAL, "maxsize %zu is over 2^31 - 1", maxsize);
    uint64_t cap = Q_MIN_RING;
    while (cap < ring_bytes)
        cap <<= 1;

    mp_queue *q = alloc_queue();
    if (!q) return mp_set_error(MP_ENOMEM, "out of memory for a queue");
    int rc = mp_os_shm_create(&q->shm, Q_RING_OFFSET + (size_t)cap);
    if (rc == 0) {
        struct qshared *s = q->shm.base; /* zeroed: both sides free, counts 0 */
        s->k.magic = Q_MAGIC;
        s->k.version = Q_VERSION;
        s->k.capacity = cap;
        s->k.maxsize = maxsize;
        bind_ring(q);
        rc = mp_os_wq_create(&q->plock_wq);
    }
    if (rc == 0) rc = mp_os_wq_create(&q->clock_wq);
    if (rc == 0) rc = mp_os_wq_create(&q->data_wq);
    if (rc == 0) rc = mp_os_wq_create(&q->room_wq);
    if (rc < 0) {
        close_handles(q);
        free(q);
        return rc;
    }
    *out = q;
    return 0;
}

int mp_queue_new(mp_queue **q, size_t maxsize)
{
    mp_clear_error();
    return mp_queue_new_sized(q, maxsize, MP_QUEUE_DEFAULT_RING);
}

/* ---- travel to a child ----------------------------------------------------------- */

/* Export layout: capacity, maxsize, segment size and handle, then the
 * handle counts and handles of the four wait queues. */
static void export_wq(mp_export *ex, const mp_os_wq *wq)
{
    mp_os_handle h[MP_OS_WQ_MAX_HANDLES];
    int n = mp_os_wq_handles(wq, h);
    mp_buf_u32(ex->buf, (uint32_t)n);
    for (int i = 0; i < n; i++)
        mp_export_handle(ex, h[i]);
}

static int queue_export(const mp_arg *a, mp_export *ex)
{
    mp_queue *q = a->u.queue;
    if (q_is_closed(q)) return mp_set_error(MP_ESTATE, "queue is closed");
    mp_buf_u64(ex->buf, q->cap);
    mp_buf_u64(ex->buf, q->maxsize);
    mp_buf_u64(ex->buf, q->shm.size);
    mp_export_handle(ex, q->shm.handle);
    export_wq(ex, &q->plock_wq);
    export_wq(ex, &q->clock_wq);
    export_wq(ex, &q->data_wq);
    export_wq(ex, &q->room_wq);
    return 0;
}

static int import_wq(mp_import *im, mp_os_wq *wq)
{
    uint32_t n = mp_rd_u32(im->rd);
    if (im->rd->failed || n > MP_OS_WQ_MAX_HANDLES)
        return mp_set_error(MP_EPROTO, "bad wait queue in bootstrap data");
    mp_os_handle h[MP_OS_WQ_MAX_HANDLES];
    for (uint32_t i = 0; i < n; i++) {
        int rc = mp_import_handle(im, &h[i]);
        if (rc < 0) {
            while (i > 0)
                mp_os_close(h[--i]);
            return rc;
        }
    }
    return mp_os_wq_adopt(wq, h, (int)n);
}

static int import_queue(mp_queue **out, mp_import *im)
{
    uint64_t cap = mp_rd_u64(im->rd);
    uint64_t maxsize = mp_rd_u64(im->rd);
    uint64_t size = mp_rd_u64(im->rd);
    mp_os_handle h;
    int rc = mp_import_handle(im, &h);
    if (rc < 0) return rc;
    mp_queue *q = alloc_queue();
    if (!q) {
        mp_os_close(h);
        return mp_set_error(MP_ENOMEM, "out of memory for a queue");
    }
    if (cap < Q_MIN_RING || cap > Q_MAX_RING || (cap & (cap - 1)) ||
        size != Q_RING_OFFSET + cap) {
        mp_os_close(h);
        rc = mp_set_error(MP_EPROTO, "bad queue parameters");
    } else {
        rc = mp_os_shm_attach(&q->shm, h, (size_t)size);
    }
    if (rc == 0) {
        struct qshared *s = q->shm.base;
        if (s->k.magic != Q_MAGIC || s->k.version != Q_VERSION || s->k.capacity != cap ||
            s->k.maxsize != maxsize)
            rc = mp_set_error(MP_EPROTO, "queue segment does not match");
        else
            bind_ring(q);
    }
    /* Adopt every wait queue even after a failure, so each handle named in
     * the blob ends up owned and closed. */
    int r1 = import_wq(im, &q->plock_wq), r2 = import_wq(im, &q->clock_wq);
    int r3 = import_wq(im, &q->data_wq), r4 = import_wq(im, &q->room_wq);
    if (rc == 0) rc = r1 < 0 ? r1 : r2 < 0 ? r2 : r3 < 0 ? r3 : r4;
    if (rc < 0) {
        close_handles(q);
        free(q);
        return rc;
    }
    *out = q;
    return 0;
}

static int queue_import(mp_arg *a, mp_import *im)
{
    return import_queue(&a->u.queue, im);
}

/* Freeing a child's queue waits for its feeder, as a Python child waits
 * for its queues' feeder threads before it exits. */
static void queue_release(mp_arg *a)
{
    mp_queue_free(a->u.queue);
}

const mp_kind mp__kind_queue = {"Queue",      mp__kind_copy_ref, NULL,
                                queue_export, queue_import,      queue_release};

/* ---- put ------------------------------------------------------------------------ */

/* Writes a record of len bytes (header and payload) at tail, where it
 * fits without wrapping. */
static inline void write_whole(mp_queue *q, uint64_t tail, const void *data, uint64_t len)
{
    unsigned char *at = q->ring + (tail & q->mask);
    memcpy(at, &len, Q_REC_HDR);
    q_copy(at + Q_REC_HDR, data, len); /* data may be NULL if len is 0 */
}

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
    write_whole(q, tail, data, len);
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
    if ((tail & q->mask) + rec <= q->cap) { /* the usual case: no wrap */
        write_whole(q, tail, data, len);
    } else {
        q_ring_write(q, tail, &len, Q_REC_HDR);
        q_ring_write(q, tail + Q_REC_HDR, data, len);
    }
    mp_store64(&s->p.tail[(c + 1) & 1], tail + rec, MP_RELAXED);
    return 1;
}

/* Takes a side's lock if it is free, in one compare-and-swap: 1 with
 * *count set, else 0 (held, or just taken by another, or this process's
 * id not cached yet: q_lock, which callers turn to, caches it). */
static inline int take_free(qside *sd, uint32_t *count)
{
    uint64_t w = mp_load64(&sd->word, MP_RELAXED);
    uint32_t self = mp_load32(&mp__os_pid, MP_RELAXED);
    if (Q_OWNER(w) != 0 || self == 0 ||
        !mp_cas64(&sd->word, &w, Q_WORD(self, Q_COUNT(w)), MP_ACQUIRE))
        return 0;
    *count = Q_COUNT(w);
    return 1;
}

/* After a release that found someone to wake (q_release_quiet): wakes a
 * waiter for the side's lock and the other side's sleeper, whichever
 * there is. Returns 0, for callers that end with it. */
static Q_NOINLINE int wake_after(qside *sd, mp_os_wq *lock_wq, qwait *w, mp_os_wq *wq)
{
    if (mp_load32(&sd->wp.waiters, MP_SEQ_CST) != 0) q__wake_lock_waiter(sd, lock_wq);
    q_notify(wq, w);
    return 0;
}

/* The uncontended lock, inline; q_lock() for everything else. */
static inline int lock_side(qside *sd, mp_os_wq *wq, uint64_t deadline,
                            mp_atomic_u32 *parked, uint32_t *count)
{
    if (take_free(sd, count)) return 0;
    return q_lock(sd, wq, deadline, parked, NULL, count);
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
    if (Q_UNLIKELY(!take_free(&s->p.lk, &c)))
        return put_unbounded_contended(q, data, len);
    if (Q_UNLIKELY(mp_load64(&s->p.msg_end, MP_RELAXED) != 0 ||
                   !(small ? write_fast(q, c, data, len) : write_now(q, c, data, len))))
        return put_unbounded_locked(q, c, 0, data, len);
    if (Q_UNLIKELY(q_release_quiet(&s->p.lk, &s->data, c + 1)))
        return wake_after(&s->p.lk, &q->plock_wq, &s->data, &q->data_wq);
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

/* Bounded: no buffer. Waits (until the deadline) for a place under
 * maxsize and for room in the ring, holding the producer lock. */
static Q_NOINLINE int put_bounded(mp_queue *q, const void *data, size_t len,
                                  uint64_t deadline)
{
    struct qshared *s = q->s;
    uint32_t c;
    int rc = lock_side(&s->p.lk, &q->plock_wq, deadline, NULL, &c);
    if (rc == MP_ETIMEDOUT) return mp_set_error(MP_EFULL, "queue is full");
    if (rc < 0 && rc != MP_EOWNERDEAD) return rc;
    mp_store32(&s->p.parked, 0, MP_RELAXED);
    rc = q_finish_abandoned(q, &c, deadline);
    while (rc == 0) {
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
    if (q->maxsize == 0) return put_unbounded(q, data, len);
    return put_bounded(q, data, len, mp_deadline(timeout));
}

int mp_queue_put_bytes(mp_queue *q, const void *data, size_t len, double timeout)
{
    mp_clear_error();
    /* Valid arguments to an open unbounded queue (timeout is then unused);
     * put_checked for all else. */
    if (Q_UNLIKELY(!q || (!data && len) || mp_size_bad(len) ||
                   (uint64_t)len > ((uint64_t)1 << 62) || timeout != timeout ||
                   q->maxsize != 0 || q_is_closed(q)))
        return put_checked(q, data, len, timeout);
    return put_unbounded(q, data, len);
}

int mp_queue_put_bytes_nowait(mp_queue *q, const void *data, size_t len)
{
    mp_clear_error();
    return mp_queue_put_bytes(q, data, len, 0);
}

/* ---- get ------------------------------------------------------------------------ */

/* Consumer lock held with count k: whether a record begins at head, and
 * whether it is whole (1) or being streamed (2); 0: nothing yet. */
static inline int record_at(mp_queue *q, uint32_t k, uint64_t head, int fresh)
{
    struct qshared *s = q->s;
    uint32_t pub = mp_load32(&s->c.pub_seen, MP_RELAXED);
    if ((int32_t)(pub - k) <= 0 || fresh || !Q_CACHES) {
        pub = q_published(q);
        mp_store32(&s->c.pub_seen, pub, MP_RELAXED);
    }
    if ((int32_t)(pub - k) > 0) return 1;
    if (mp_load64(&s->p.msg_end, MP_ACQUIRE) != 0 &&
        mp_load64(&s->p.msg_start, MP_ACQUIRE) == head &&
        mp_load64(&s->p.live, MP_ACQUIRE) >= head + Q_REC_HDR)
        return 2;
    return 0;
}

/* Consumer lock held with count k, the record at head (ending at end)
 * copied out: counts it taken and releases the lock. Returns 0, for the
 * usual get, which ends with it (any wake-up is a call in tail position). */
static inline int release_consumers(mp_queue *q, uint32_t k, uint64_t end)
{
    struct qshared *s = q->s;
    mp_store64(&s->c.head[(k + 1) & 1], end, MP_RELAXED);
    if (Q_UNLIKELY(q_release_quiet(&s->c.lk, &s->room, k + 1)))
        return wake_after(&s->c.lk, &q->clock_wq, &s->room, &q->room_wq);
    return 0;
}

/* Consumer lock held with count k, nothing at head: looks again now and
 * then for a short while before the caller sleeps. 1 once a record is
 * there. A producer in full flow refills the ring within that time; the
 * consumer then finds a batch, where sleeping at once had the producer
 * wake it per message or two (up to 140,000 futex calls per 10M 8-byte
 * messages, half the speed) and looking without pause pulls the
 * producers' line across per message. Between two messages of a round
 * trip it saves the sleep and the wake-up: 48 us -> 2.2 us a 64-byte
 * queue ping-pong here (docs/queue.md). */
static int data_soon(mp_queue *q, uint32_t k, uint64_t head, uint64_t deadline)
{
    uint64_t until = mp_os_now_ns() + Q_DATA_SPIN_NS;
    if (until > deadline) until = deadline;
    do {
        for (int i = 0; i < Q_DATA_PAUSES; i++)
            mp_cpu_relax();
        if (record_at(q, k, head, 1)) return 1;
    } while (mp_os_now_ns() < until);
    return 0;
}

/* Consumer lock held, the producers' count just read as pub, records
 * from head on to take: if they end close ahead, waits a little for the
 * producers to get further ahead, and returns the count then.
 *
 * A consumer that follows a fast producer closely reads the lines the
 * producer is writing (and, through the hardware prefetcher, most likely
 * the lines it is about to write), so each line crosses between the CPUs
 * several times and the producer's stores stall; the two settle in that
 * state. One that keeps Q_LAG_BYTES behind reads lines the producer is
 * done with, each crossing once: 64-byte messages, one producer and one
 * consumer, ran at 24-50M msgs/s without this and 86-94M with it
 * (docs/queue.md). The wait is only for producers in full flow: it ends
 * as soon as a look finds nothing new (a lone message or the last of a
 * burst waits one round, Q_LAG_ROUND_NS), or finds them too slow to close
 * the gap in the rounds left. */
#ifdef MPROC_TEST_HOOKS
static mp_atomic_u32 lag_rounds; /* queue/testview.h */
#endif

static Q_NOINLINE uint32_t keep_behind(mp_queue *q, uint32_t k, uint64_t head,
                                       uint32_t pub)
{
    struct qshared *s = q->s;
    uint64_t lag = q->cap / 4 < Q_LAG_BYTES ? q->cap / 4 : Q_LAG_BYTES;
    /* tail[pub & 1] may already hold a later position (pub + 2): a guess
     * at the gap is all this needs. */
    int64_t gap = (int64_t)(mp_load64(&s->p.tail[pub & 1], MP_RELAXED) - head);
    for (int left = Q_LAG_ROUNDS; left > 0 && gap < (int64_t)lag; left--) {
        uint64_t until = mp_os_now_ns() + Q_LAG_ROUND_NS;
        do {
            for (int i = 0; i < 8; i++)
                mp_cpu_relax();
        } while (mp_os_now_ns() < until);
        uint32_t now = q_published(q);
        MP_TEST_HOOK(mp_add32(&lag_rounds, 1, MP_RELAXED));
        int64_t g = (int64_t)(mp_load64(&s->p.tail[now & 1], MP_RELAXED) - head);
        int64_t got = g - gap;
        if ((int32_t)(now - pub) > 0) pub = now;
        if (got <= 0 || got * (left - 1) < (int64_t)lag - g) break;
        /* Half a bounded queue: its producers are about to wait for us. */
        if (q->maxsize && (uint32_t)(pub - k) >= q->maxsize / 2) break;
        gap = g;
    }
    return pub;
}

/* Consumer lock held with count k; releases it. */
static int get_locked(mp_queue *q, uint32_t k, void *user, size_t cap, void **data,
                      size_t *len, uint64_t deadline)
{
    struct qshared *s = q->s;
    uint64_t head = mp_load64(&s->c.head[k & 1], MP_RELAXED);
    int at;
    while ((at = record_at(q, k, head, 0)) == 0) {
        if (mp_deadline_passed(deadline)) {
            q_unlock(&s->c.lk, &q->clock_wq, k);
            return MP_EEMPTY;
        }
        if (data_soon(q, k, head, deadline)) continue;
        uint32_t seen = q_wait_prepare(&s->data);
        if (record_at(q, k, head, 1) == 0)
            q_wait_sleep(&q->data_wq, &s->data, seen, deadline);
        q_wait_done(&s->data);
    }
    uint64_t n = q_read_len(q, head);
    uint64_t rec = Q_REC_HDR + q_pad8(n);
    if (at == 2 || n > q->cap) return q_read_stream(q, k, head, user, cap, data, len);
    int rc;
    unsigned char *buf = q_reader_buffer(q, k, n, user, cap, len, &rc);
    if (!buf) return rc;
    uint64_t off = (head + Q_REC_HDR) & q->mask;
    if (off + n <= q->cap)
        memcpy(buf, q->ring + off, (size_t)n);
    else
        q_ring_read(q, head + Q_REC_HDR, buf, n);
    int dropped = q_take_abort_mark(q, head + rec);
    release_consumers(q, k, head + rec);
    if (dropped) {
        if (!user) free(buf);
        return mp_set_error(MP_EOWNERDEAD,
                            "a producer died while sending; its message was dropped");
    }
    if (data) *data = buf;
    *len = (size_t)n;
    return 0;
}

/* Consumer lock held with count k: skips what a dead consumer left
 * half-read, then gets as get_locked does. */
static Q_NOINLINE int get_won(mp_queue *q, uint32_t k, void *user, size_t cap,
                              void **data, size_t *len, uint64_t deadline)
{
    struct qshared *s = q->s;
    /* A consumer that died outside a streamed record left nothing to
     * repair: its record is still whole at the head. */
    if (mp_load64(&s->c.cons_end, MP_RELAXED) != 0 &&
        q_skip_dead_consumers_record(q, &k)) {
        q_unlock(&s->c.lk, &q->clock_wq, k);
        return mp_set_error(MP_EOWNERDEAD,
                            "a consumer died while receiving; its message was dropped");
    }
    return get_locked(q, k, user, cap, data, len, deadline);
}

/* The consumer lock not won at first try. */
static Q_COLD int get_contended(mp_queue *q, void *user, size_t cap, void **data,
                                size_t *len, double timeout)
{
    uint32_t k;
    uint64_t deadline = mp_deadline(timeout);
    int rc = lock_side(&q->s->c.lk, &q->clock_wq, deadline, NULL, &k);
    if (rc == MP_ETIMEDOUT) return MP_EEMPTY;
    if (rc < 0 && rc != MP_EOWNERDEAD) return rc;
    return get_won(q, k, user, cap, data, len, deadline);
}

/* Consumer lock held with count k, every record seen so far taken: reads
 * the producers' count again (keeping behind streaming producers, unless
 * the get may not wait) and keeps it in the consumers' cache. */
static void look_again(mp_queue *q, uint32_t k, double timeout)
{
    struct qshared *s = q->s;
    uint32_t pub = q_published(q);
    int more = (int32_t)(pub - k) > 0;
    if (Q_CACHES && more && timeout != 0 && mp_load32(&s->c.flowing, MP_RELAXED))
        pub = keep_behind(q, k, mp_load64(&s->c.head[k & 1], MP_RELAXED), pub);
    mp_store32(&s->c.flowing, (uint32_t)more, MP_RELAXED);
    mp_store32(&s->c.pub_seen, pub, MP_RELAXED);
}

/* Consumer lock held with count k, the usual case not at hand: looks at
 * the producers' count again if every record it showed is taken, then
 * gets as get_won does. */
static Q_NOINLINE int get_held(mp_queue *q, uint32_t k, void *user, size_t cap,
                               void **data, size_t *len, double timeout)
{
    uint32_t pub = mp_load32(&q->s->c.pub_seen, MP_RELAXED);
    if ((int32_t)(pub - k) <= 0 || !Q_CACHES) look_again(q, k, timeout);
    return get_won(q, k, user, cap, data, len, mp_deadline(timeout));
}

/* The usual get (see get_any) of a message over Q_SMALL bytes: copies it
 * out with memcpy, counts it taken and releases the lock. */
static Q_NOINLINE int get_copy_out(mp_queue *q, uint32_t k, void *user, uint64_t head,
                                   uint64_t n, size_t *len)
{
    memcpy(user, q->ring + ((head + Q_REC_HDR) & q->mask), (size_t)n);
    *len = (size_t)n;
    return release_consumers(q, k, head + Q_REC_HDR + q_pad8(n));
}

/* The usual get, inline: the consumer lock free, no dead consumer's record
 * to skip, a whole record at the head as far as the consumers' cache
 * shows, not wrapping, not dropped, and a place for it
 * in the caller's buffer. It makes no call but in tail position, so it
 * needs no stack frame and saves no registers (as put_unbounded).
 * Everything else takes get_held (with the lock) or get_contended. */
static Q_INLINE int get_any(mp_queue *q, void *user, size_t cap, void **data, size_t *len,
                            double timeout)
{
    struct qshared *s = q->s;
    uint32_t k;
    if (Q_UNLIKELY(!take_free(&s->c.lk, &k)))
        return get_contended(q, user, cap, data, len, timeout);
    if (Q_UNLIKELY((int32_t)(mp_load32(&s->c.pub_seen, MP_RELAXED) - k) <= 0 ||
                   !Q_CACHES || !user))
        return get_held(q, k, user, cap, data, len, timeout);
    uint64_t head = mp_load64(&s->c.head[k & 1], MP_RELAXED);
    uint64_t n = q_read_len(q, head);
    uint64_t rec = Q_REC_HDR + q_pad8(n);
    uint64_t off = (head + Q_REC_HDR) & q->mask;
    if (Q_UNLIKELY(n > cap || off + n > q->cap ||
                   mp_load64(&s->aborted_end, MP_RELAXED) == head + rec ||
                   mp_load64(&s->c.cons_end, MP_RELAXED) != 0))
        return get_held(q, k, user, cap, data, len, timeout);
    if (n > Q_SMALL) return get_copy_out(q, k, user, head, n, len);
    q_copy(user, q->ring + off, n);
    *len = (size_t)n;
    return release_consumers(q, k, head + rec);
}

int mp_queue_get_bytes(mp_queue *q, void **data, size_t *len, double timeout)
{
    mp_clear_error();
    if (!q || !data || !len) return mp_set_error(MP_EINVAL, "NULL argument");
    *data = NULL;
    *len = 0;
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    if (q_is_closed(q)) return mp_set_error(MP_ESTATE, "queue is closed");
    return get_any(q, NULL, 0, data, len, timeout);
}

/* mp_queue_get_bytes_into with every check. */
static Q_COLD int get_into_checked(mp_queue *q, void *buf, size_t cap, size_t *len,
                                   double timeout)
{
    if (!q || (!buf && cap) || !len) return mp_set_error(MP_EINVAL, "NULL argument");
    *len = 0;
    if (mp_size_bad(cap)) return mp_set_error(MP_EINVAL, "capacity %zu is negative", cap);
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    if (q_is_closed(q)) return mp_set_error(MP_ESTATE, "queue is closed");
    return get_any(q, buf ? buf : (void *)len, cap, NULL, len, timeout);
}

int mp_queue_get_bytes_into(mp_queue *q, void *buf, size_t cap, size_t *len,
                            double timeout)
{
    mp_clear_error();
    /* Valid arguments and an open queue; get_into_checked for all else. */
    if (Q_UNLIKELY(!q || !buf || !len || mp_size_bad(cap) || timeout != timeout ||
                   q_is_closed(q)))
        return get_into_checked(q, buf, cap, len, timeout);
    *len = 0;
    return get_any(q, buf, cap, NULL, len, timeout);
}

int mp_queue_get_bytes_nowait(mp_queue *q, void **data, size_t *len)
{
    mp_clear_error();
    return mp_queue_get_bytes(q, data, len, 0);
}

/* ---- objects ------------------------------------------------------------------- */

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

int mp_queue_get(mp_queue *q, mp_obj **o, double timeout)
{
    mp_clear_error();
    if (!o) return mp_set_error(MP_EINVAL, "NULL argument");
    *o = NULL;
    void *data;
    size_t len;
    int rc = mp_queue_get_bytes(q, &data, &len, timeout);
    if (rc < 0) return rc;
    rc = mp_obj_loads(data, len, o);
    mp_free(data);
    return rc;
}

int mp_queue_get_nowait(mp_queue *q, mp_obj **o)
{
    mp_clear_error();
    return mp_queue_get(q, o, 0);
}

/* ---- state -------------------------------------------------------------------- */

size_t mp_queue_qsize(mp_queue *q)
{
    if (!q) return 0;
    /* taken first: a get between the two loads can then only make the
     * answer one too high. */
    uint32_t taken = Q_COUNT(mp_load64(&q->s->c.lk.word, MP_SEQ_CST));
    uint32_t pub = q_published(q);
    /* Signed: a consumer may finish reading a streamed record before its
     * writer counts it (published, and out of the buffered count). */
    int64_t n = (int64_t)(int32_t)(pub - taken) + (int64_t)q_buffered_total(q);
    return n > 0 ? (size_t)n : 0;
}

int mp_queue_empty(mp_queue *q)
{
    mp_clear_error();
    return mp_queue_qsize(q) == 0;
}

int mp_queue_full(mp_queue *q)
{
    mp_clear_error();
    return q && q->maxsize != 0 && mp_queue_qsize(q) >= q->maxsize;
}

int mp_queue_close(mp_queue *q)
{
    mp_clear_error();
    if (!q) return mp_set_error(MP_EINVAL, "NULL queue");
    mp_os_mutex_lock(q->mu);
    mp_store32(&q->closed, 1, MP_RELAXED);
    mp_os_cond_broadcast(q->cv);
    mp_os_mutex_unlock(q->mu);
    return 0;
}

void mp_queue_cancel_join_thread(mp_queue *q)
{
    if (!q) return;
    mp_os_mutex_lock(q->mu);
    q->cancelled = 1;
    mp_os_mutex_unlock(q->mu);
}

int mp_queue_join_thread(mp_queue *q)
{
    mp_clear_error();
    if (!q) return mp_set_error(MP_EINVAL, "NULL queue");
    mp_os_mutex_lock(q->mu);
    int closed = q_is_closed(q), cancelled = q->cancelled;
    mp_os_thread *t = q->feeder;
    if (closed && !cancelled) q->feeder = NULL;
    mp_os_mutex_unlock(q->mu);
    if (!closed) return mp_set_error(MP_ESTATE, "join_thread needs close() first");
    if (cancelled || !t) return 0;
    return mp_os_thread_join(t);
}

void mp_queue_free(mp_queue *q)
{
    if (!q) return;
    mp_queue_close(q);
    mp_os_mutex_lock(q->mu);
    if (q->cancelled) mp_store32(&q->stop, 1, MP_RELAXED);
    mp_os_cond_broadcast(q->cv);
    mp_os_thread *t = q->feeder;
    q->feeder = NULL;
    mp_os_mutex_unlock(q->mu);
    if (t) mp_os_thread_join(t);
    q_drop_buffered(q); /* only after cancel_join_thread: they never entered */
    close_handles(q);
    free(q);
}

#ifdef MPROC_TEST_HOOKS
/* ---- test views (queue/testview.h) --------------------------------------------- */

uint64_t mp__queue_ring_used(mp_queue *q)
{
    struct qshared *s = q->s;
    uint64_t tail = mp_load64(&s->p.tail[q_published(q) & 1], MP_ACQUIRE);
    uint64_t live = mp_load64(&s->p.live, MP_ACQUIRE);
    if (mp_load64(&s->p.msg_end, MP_ACQUIRE) != 0 && live > tail) tail = live;
    return tail - q_consumer_head(q);
}

uint64_t mp__queue_capacity(mp_queue *q)
{
    return q->cap;
}

uint64_t mp__queue_cons_left(mp_queue *q)
{
    uint64_t end = mp_load64(&q->s->c.cons_end, MP_ACQUIRE);
    return end ? end - q_consumer_head(q) : 0;
}

int mp__queue_prod_grab(mp_queue *q)
{
    uint32_t c;
    return q_lock(&q->s->p.lk, &q->plock_wq, MP_NO_DEADLINE, NULL, NULL, &c);
}

void mp__queue_prod_drop(mp_queue *q)
{
    q_unlock(&q->s->p.lk, &q->plock_wq, Q_COUNT(mp_load64(&q->s->p.lk.word, MP_RELAXED)));
}

int mp__queue_prod_parked(mp_queue *q)
{
    return mp_load32(&q->s->p.parked, MP_ACQUIRE) != 0;
}

uint32_t mp__queue_prod_waiters(mp_queue *q)
{
    return mp_wait_count(&q->s->p.lk.wp, MP_ACQUIRE);
}

uint32_t mp__queue_lag_rounds(void)
{
    return mp_load32(&lag_rounds, MP_RELAXED);
}

int mp__queue_lag_enabled(void)
{
    return Q_CACHES;
}
#endif
