/* recover.c - what the next holder of a side's lock finds and repairs
 * (recover.h). A producer finds a stream left open (msg_end set): nothing
 * to do if it is counted or none of it was published, counted if all of it
 * was, else padded to its end with zeros, named in the abort mark and
 * counted, so that the consumer reading it drops it. A consumer finds the
 * end of a streamed record a dead consumer was reading (cons_end set) and
 * skips to it. The stream's own steps, and the two repairs a reader makes
 * in the middle of a stream, are in stream.c. Called by put.c, get.c and
 * feeder.c on taking a lock. */
#include "base/error.h"
#include "core/queue/locks.h"
#include "core/queue/recover.h"
#include "core/queue/stream.h"

/* Waits until consumers have acknowledged the last padded record, so
 * that aborted_end can name another. */
static int wait_mark_free(mp_queue *q, uint64_t deadline)
{
    struct qshared *s = q->s;
    while (mp_load64(&s->aborted_end, MP_ACQUIRE) != 0) {
        if (mp_load32(&q->stop, MP_RELAXED)) return MP_ECLOSED;
        if (deadline != MP_NO_DEADLINE && mp_os_now_ns() >= deadline) return MP_ETIMEDOUT;
        q_park(q);
        uint32_t seen = q_wait_prepare(&s->room);
        if (mp_load64(&s->aborted_end, MP_SEQ_CST) != 0)
            q_wait_sleep(&q->room_wq, &s->room, seen, deadline);
        q_wait_done(&s->room);
    }
    return 0;
}

int q_finish_abandoned(mp_queue *q, uint32_t *c, uint64_t deadline)
{
    struct qshared *s = q->s;
    uint64_t end = mp_load64(&s->p.msg_end, MP_ACQUIRE);
    if (end == 0) return 0;
    uint64_t start = mp_load64(&s->p.msg_start, MP_RELAXED);
    uint64_t live = mp_load64(&s->p.live, MP_RELAXED);
    if (mp_load64(&s->p.tail[*c & 1], MP_RELAXED) == end || live == start) {
        /* Already counted, or nothing of it was ever published. */
        mp_store64(&s->p.msg_end, 0, MP_RELEASE);
        return 0;
    }
    if (live != end) {
        /* Part of it is out: pad the rest and have it dropped. */
        if (mp_load64(&s->aborted_end, MP_ACQUIRE) != end) {
            int rc = wait_mark_free(q, deadline);
            if (rc < 0) return rc;
            mp_store64(&s->aborted_end, end, MP_SEQ_CST);
        }
        int rc = q_stream_out(q, &live, NULL, end - live);
        if (rc < 0) return rc;
    }
    q_stream_close(q, c, end, Q_NOT_BUFFERED);
    return 0;
}

int q_skip_dead_consumers_record(mp_queue *q, uint32_t *k)
{
    struct qshared *s = q->s;
    uint64_t end = mp_load64(&s->c.cons_end, MP_ACQUIRE);
    if (end == 0) return 0;
    uint64_t head = mp_load64(&s->c.head[*k & 1], MP_RELAXED);
    if (head == end) { /* it had finished: only the mark was left */
        mp_store64(&s->c.cons_end, 0, MP_RELEASE);
        return 0;
    }
    uint64_t pos = mp_load64(&s->c.live, MP_ACQUIRE);
    if (pos < head) pos = head;
    q_stream_consume(q, NULL, &pos, end, end);
    q_take_abort_mark(q, end);
    q_stream_taken(q, k, end);
    return 1;
}
