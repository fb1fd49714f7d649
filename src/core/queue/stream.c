/* stream.c - records that wait for room or are larger than the ring
 * (stream.h). Called by put.c, get.c and feeder.c; recover.c builds its
 * repairs on the steps here.
 *
 * A record larger than the ring streams: with the producer lock held for
 * the whole record, the producer names it (msg_start, msg_end) before
 * publishing any of it, then publishes its progress in p.live as room
 * appears; a consumer, holding its lock for the whole record, names its
 * end in cons_end before reading any of it and publishes its progress in
 * c.live. The record counts as published, and as taken, only when whole.
 * Recovery trusts only positions and counts, each written by one store.
 *
 * Two repairs live here rather than in recover.c, because a stream's own
 * loop makes them and recover.c calls that loop: a reader waiting for the
 * rest of a record whose writer is gone writes it off (drop_orphan), and
 * the reader of a padded record clears the abort mark. */
#include <stdlib.h>

#include "base/error.h"
#include "core/queue/locks.h"
#include "core/queue/ring.h"
#include "core/queue/stream.h"

/* ---- producers ------------------------------------------------------------- */

/* Publishes progress of the open stream and wakes a waiting consumer. */
static void publish_live(mp_queue *q, uint64_t live)
{
    mp_store64(&q->s->p.live, live, MP_SEQ_CST);
    q_notify(&q->data_wq, &q->s->data);
}

/* Streams n bytes (zeros if src is NULL) from *live on, publishing as room
 * appears. */
int q_stream_out(mp_queue *q, uint64_t *live, const unsigned char *src, uint64_t n)
{
    while (n > 0) {
        int rc = q_wait_room(q, *live, 1, MP_NO_DEADLINE);
        if (rc < 0) return rc;
        uint64_t room = q_room(q, *live, q_head_view(q));
        uint64_t k = n < room ? n : room;
        q_ring_write(q, *live, src, k);
        if (src) src += k;
        n -= k;
        *live += k;
        publish_live(q, *live);
    }
    return 0;
}

/* Makes the record [start, end) count as published: slot first, then the
 * count (keeping the lock), then the stream is closed. A producer killed
 * between any two of these leaves a state the next one reads right. */
void q_stream_close(mp_queue *q, uint32_t *c, uint64_t end, int buffered_slot)
{
    struct qshared *s = q->s;
    if (buffered_slot != Q_NOT_BUFFERED) q_count_buffered(q, buffered_slot, -1);
    mp_store64(&s->p.tail[(*c + 1) & 1], end, MP_RELAXED);
    q_publish(&s->p.lk, *c + 1);
    *c += 1;
    mp_store64(&s->p.msg_end, 0, MP_RELEASE);
    q_notify(&q->data_wq, &s->data);
}

int q_write_record(mp_queue *q, uint32_t *c, const void *data, uint64_t len,
                   uint64_t deadline, int buffered_slot)
{
    struct qshared *s = q->s;
    uint64_t tail = mp_load64(&s->p.tail[*c & 1], MP_RELAXED);
    uint64_t rec = Q_REC_HDR + q_pad8(len);
    if (rec <= q->cap) {
        int rc = q_wait_room(q, tail, rec, deadline);
        if (rc < 0) return rc;
        q_record_write(q, tail, data, len);
        mp_store64(&s->p.tail[(*c + 1) & 1], tail + rec, MP_RELAXED);
        *c += 1;
        if (buffered_slot != Q_NOT_BUFFERED) q_count_buffered(q, buffered_slot, -1);
        return 0;
    }
    int rc = q_wait_room(q, tail, Q_REC_HDR, deadline);
    if (rc < 0) return rc;
    /* live and start before end: a producer killed before msg_end is set
     * leaves no open stream, and one killed after has named it whole. */
    mp_store64(&s->p.live, tail, MP_RELAXED);
    mp_store64(&s->p.msg_start, tail, MP_RELAXED);
    mp_store64(&s->p.msg_end, tail + rec, MP_RELEASE);
    q_record_header(q, tail, len);
    uint64_t live = tail + Q_REC_HDR;
    publish_live(q, live);
    rc = q_stream_out(q, &live, data, len);
    if (rc == 0) rc = q_stream_out(q, &live, NULL, q_pad8(len) - len);
    if (rc < 0) return rc; /* cancelled: the next producer repairs it */
    q_stream_close(q, c, live, buffered_slot);
    return 0;
}

/* ---- consumers --------------------------------------------------------------- */

unsigned char *q__reader_buffer(mp_queue *q, uint32_t k, uint64_t n, void *user,
                                size_t cap, size_t *len, int *rc)
{
    unsigned char *buf = NULL;
    if (user) {
        *len = (size_t)n;
        *rc = mp_set_error(MP_ETOOSHORT, "message of %llu bytes, buffer of %zu",
                           (unsigned long long)n, cap);
    } else {
        buf = malloc(n ? (size_t)n : 1);
        *rc = buf ? 0
                  : mp_set_error(MP_ENOMEM, "out of memory for a %llu-byte message",
                                 (unsigned long long)n);
    }
    if (!buf) q_unlock(&q->s->c.lk, &q->clock_wq, k);
    return buf;
}

int q__take_abort_mark(mp_queue *q, uint64_t end)
{
    uint64_t mark = end;
    if (!mp_cas64(&q->s->aborted_end, &mark, 0, MP_SEQ_CST)) return 0;
    q_notify(&q->room_wq, &q->s->room); /* see wait_mark_free, recover.c */
    return 1;
}

/* The producer of the stream ending at end is gone (dead, or cancelled and
 * out of the lock) with the record unfinished, and this consumer has read
 * all it published (up to pos): take the producer lock and write the
 * record off. 1 if dropped. */
static int drop_orphan(mp_queue *q, uint64_t end, uint64_t pos)
{
    struct qshared *s = q->s;
    if (mp_load64(&s->p.msg_end, MP_ACQUIRE) != end) return 0;
    uint32_t c;
    int rc = q_trylock(&s->p.lk, &c);
    if (rc != 0 && rc != MP_EOWNERDEAD) return 0; /* a live producer will repair */
    mp_store32(&s->p.parked, 0, MP_RELAXED);
    int dropped = 0;
    if (mp_load64(&s->p.msg_end, MP_ACQUIRE) == end &&
        mp_load64(&s->p.live, MP_ACQUIRE) == pos) {
        mp_store64(&s->p.live, end, MP_RELAXED);
        q_stream_close(q, &c, end, Q_NOT_BUFFERED);
        dropped = 1;
    }
    q_unlock(&s->p.lk, &q->plock_wq, c);
    return dropped;
}

/* Reads the streamed record ending at end from *pos up to upto, into dst
 * (NULL: discard), as the producer publishes it. MP_EOWNERDEAD if the
 * producer vanished with the record unfinished. */
int q_stream_consume(mp_queue *q, unsigned char *dst, uint64_t *pos, uint64_t upto,
                     uint64_t end)
{
    struct qshared *s = q->s;
    while (*pos < upto) {
        uint32_t seen = 0;
        uint64_t live = mp_load64(&s->p.live, MP_ACQUIRE);
        if (live <= *pos) {
            seen = q_wait_prepare(&s->data);
            live = mp_load64(&s->p.live, MP_SEQ_CST);
            int rc = 0;
            if (live <= *pos)
                rc = q_wait_sleep(&q->data_wq, &s->data, seen, MP_NO_DEADLINE);
            q_wait_done(&s->data);
            if (rc == MP_ETIMEDOUT && drop_orphan(q, end, *pos)) {
                *pos = end;
                return MP_EOWNERDEAD;
            }
            continue;
        }
        uint64_t k = (live < upto ? live : upto) - *pos;
        if (dst) {
            q_ring_read(q, *pos, dst, k);
            dst += k;
        }
        *pos += k;
        mp_store64(&s->c.live, *pos, MP_SEQ_CST);
        q_notify(&q->room_wq, &s->room);
    }
    return 0;
}

/* The record ending at end is read (or written off): count it taken. */
void q_stream_taken(mp_queue *q, uint32_t *k, uint64_t end)
{
    struct qshared *s = q->s;
    mp_store64(&s->c.head[(*k + 1) & 1], end, MP_RELAXED);
    q_publish(&s->c.lk, *k + 1);
    *k += 1;
    mp_store64(&s->c.cons_end, 0, MP_RELEASE);
    q_notify(&q->room_wq, &s->room);
}

int q_read_stream(mp_queue *q, uint32_t k, uint64_t head, void *user, size_t cap,
                  void **data, size_t *len)
{
    struct qshared *s = q->s;
    uint64_t n = q_read_len(q, head);
    if (n > ((uint64_t)1 << 62) || n > SIZE_MAX) {
        q_unlock(&s->c.lk, &q->clock_wq, k);
        return mp_set_error(MP_EPROTO, "corrupt queue record (length %llu)",
                            (unsigned long long)n);
    }
    int rc;
    unsigned char *buf = q_reader_buffer(q, k, n, user, cap, len, &rc);
    if (!buf) return rc;
    /* From here the message is this consumer's: a reader must not leave
     * a message half-read, so no deadline applies. cons_end goes first so
     * that a consumer killed at any point leaves enough to skip it. */
    uint64_t end = head + Q_REC_HDR + q_pad8(n);
    mp_store64(&s->c.cons_end, end, MP_SEQ_CST);
    uint64_t pos = head + Q_REC_HDR;
    rc = q_stream_consume(q, buf, &pos, head + Q_REC_HDR + n, end);
    if (rc == 0) rc = q_stream_consume(q, NULL, &pos, end, end);
    /* Cleared also for a record written off (drop_orphan): no reader will
     * reach that end again, and the mark must be free for the next one. */
    if (q_take_abort_mark(q, end) && rc == 0) rc = MP_EOWNERDEAD;
    q_stream_taken(q, &k, end);
    q_unlock(&s->c.lk, &q->clock_wq, k);
    if (rc < 0) {
        if (!user) free(buf);
        if (rc == MP_EOWNERDEAD)
            mp_set_error(rc, "a producer died while sending; its message was dropped");
        return rc;
    }
    if (data) *data = buf;
    *len = (size_t)n;
    return 0;
}
