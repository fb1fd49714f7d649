/* get.c - get: the usual get, inline in mp_queue_get_bytes_into, and
 * every other case.
 *
 * The usual get (the consumer lock free, a whole record at the head as
 * the consumers' cache shows, not wrapping, not dropped, and the caller's
 * buffer large enough) takes the lock in one compare-and-swap, copies the
 * record out and publishes the new count with the lock's release, calling
 * nothing but in tail position (bench/check_hot_path.py). Otherwise it
 * looks at the producers' count again (keeping behind streaming
 * producers), waits for a record (looking again for a short while, then
 * sleeping through locks.c), skips a record a dead consumer was reading
 * (recover.c), and reads a record larger than the ring as it arrives
 * (stream.c). */
#include <stdlib.h>
#include <string.h>

#include "base/deadline.h"
#include "base/error.h"
#include "core/queue/locks.h"
#include "core/queue/recover.h"
#include "core/queue/ring.h"
#include "core/queue/stream.h"
#include "core/queue/testview.h"

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
        return q_wake_after(&s->c.lk, &q->clock_wq, &s->room, &q->room_wq);
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
    int rc = q_lock_side(&q->s->c.lk, &q->clock_wq, deadline, NULL, &k);
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
 * needs no stack frame and saves no registers (as put_unbounded, put.c).
 * Everything else takes get_held (with the lock) or get_contended. */
static Q_INLINE int get_any(mp_queue *q, void *user, size_t cap, void **data, size_t *len,
                            double timeout)
{
    struct qshared *s = q->s;
    uint32_t k;
    if (Q_UNLIKELY(!q_take_free(&s->c.lk, &k)))
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

#ifdef MPROC_TEST_HOOKS
/* ---- test views (queue/testview.h) --------------------------------------------- */

uint32_t mp__queue_lag_rounds(void)
{
    return mp_load32(&lag_rounds, MP_RELAXED);
}

int mp__queue_lag_enabled(void)
{
    return Q_CACHES;
}
#endif
