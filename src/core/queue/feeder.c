/* feeder.c - the process's buffer of an unbounded queue and the
 * feeder thread that empties it into the ring.
 *
 * put() on an unbounded queue never waits for consumers (Python's promise):
 * when the ring has no room, or the producer lock's holder is parked
 * waiting for consumers, the message is copied here and the feeder writes
 * it, waiting as long as it takes. Once anything is buffered, later puts of
 * the process go behind it, so one thread's messages keep their order.
 *
 * The feeder writes a batch in one hold of the producer lock, through
 * ring.h, stream.c (a message larger than the ring) and recover.c (a
 * stream a dead producer left open); qsize's count of what is buffered
 * is in buffered.c. Called by put.c (q_buffer) and queue.c (at free). */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "core/queue/buffered.h"
#include "core/queue/feeder.h"
#include "core/queue/locks.h"
#include "core/queue/recover.h"
#include "core/queue/ring.h"
#include "core/queue/stream.h"
#include "core/queue/testview.h"

#ifdef MPROC_TEST_HOOKS
void (*mp__queue_feeder_hook)(size_t written);
void (*mp__queue_publish_hook)(uint32_t unpublished);
#endif

/* ---- the feeder ---------------------------------------------------------------- */

/* A batch being written: records up to count c are in the ring, up to
 * published count as published. tail is the position after c records,
 * last the position after c - 1. */
struct batch {
    uint32_t c, published;
    uint64_t tail, last;
};

/* Makes the batch's records count as published. A published count's slot
 * must stay whole (queue/layout.h), so a count is published only through
 * the slot of the other parity: an odd gap in one step, an even one in
 * two (all but the last record, then the last). A feeder killed anywhere
 * in between leaves producers resuming from a published, whole slot; what
 * it wrote after that is lost with it, like the rest of its buffer. */
static void publish_batch(mp_queue *q, struct batch *b)
{
    struct qshared *s = q->s;
    if (b->c == b->published) return;
    uint32_t gap = b->c - b->published;
    if ((gap & 1) == 0) {
        mp_store64(&s->p.tail[(b->c - 1) & 1], b->last, MP_RELAXED);
        MP_TEST_HOOK(if (mp__queue_publish_hook) mp__queue_publish_hook(gap));
        q_publish(&s->p.lk, b->c - 1);
    }
    mp_store64(&s->p.tail[b->c & 1], b->tail, MP_RELAXED);
    MP_TEST_HOOK(if (mp__queue_publish_hook) mp__queue_publish_hook(gap));
    q_publish(&s->p.lk, b->c);
    b->published = b->c;
    q_notify(&q->data_wq, &s->data);
}

/* Writes one record that fits the ring at the batch's tail, unpublished,
 * waiting for room (after publishing what the consumers must see to make
 * it). Leaves the buffered count. */
static int batch_write(mp_queue *q, struct batch *b, const struct qmsg *m, int slot)
{
    uint64_t len = m->len, rec = Q_REC_HDR + q_pad8(len);
    if (q_room(q, b->tail, q_head_view(q)) < rec) {
        publish_batch(q, b);
        int rc = q_wait_room(q, b->tail, rec, MP_NO_DEADLINE);
        if (rc < 0) return rc;
    }
    q_record_write(q, b->tail, m->data, len);
    q_count_buffered(q, slot, -1);
    b->last = b->tail;
    b->tail += rec;
    b->c++;
    return 0;
}

/* Writes a batch of messages (oldest first) with the producer lock held,
 * publishing before any wait and at the end, not per record: a consumer
 * asleep on an empty ring is woken once for the lot. Each message leaves
 * the buffered count when it is written; the caller forgets the rest (cut
 * short by a stop request). Returns how many left the count. */
static size_t write_batch(mp_queue *q, struct qmsg *m, int slot)
{
    struct qshared *s = q->s;
    uint32_t c;
    int rc;
    do
        rc = q_lock(&s->p.lk, &q->plock_wq, mp_os_now_ns() + Q_SLICE_NS, NULL, &q->stop,
                    &c);
    while (rc == MP_ETIMEDOUT && !mp_load32(&q->stop, MP_RELAXED));
    if (rc != 0 && rc != MP_EOWNERDEAD) return 0;
    mp_store32(&s->p.parked, 0, MP_RELAXED);

    size_t counted = 0;
    rc = q_finish_abandoned(q, &c, MP_NO_DEADLINE); /* publishes what it closes */
    struct batch b = {c, c, 0, 0};
    b.tail = b.last = mp_load64(&s->p.tail[c & 1], MP_RELAXED);
    for (; rc == 0 && m; m = m->next) {
        if (Q_REC_HDR + q_pad8(m->len) <= q->cap) {
            rc = batch_write(q, &b, m, slot);
        } else {
            /* A stream starts from the published count's slot and
             * publishes itself as it closes. */
            publish_batch(q, &b);
            rc = q_write_record(q, &b.c, m->data, m->len, MP_NO_DEADLINE, slot);
            b.published = b.c;
            b.tail = b.last = mp_load64(&s->p.tail[b.c & 1], MP_RELAXED);
        }
        if (rc == 0) {
            counted++;
            MP_TEST_HOOK(if (mp__queue_feeder_hook) mp__queue_feeder_hook(counted));
        }
    }
    publish_batch(q, &b);
    q_release_producers(q, b.c);
    return counted;
}

static void feeder_main(void *arg)
{
    mp_queue *q = arg;
    mp_os_mutex_lock(q->mu);
    for (;;) {
        while (!q->first && !q_is_closed(q) && !mp_load32(&q->stop, MP_RELAXED))
            mp_os_cond_wait(q->cv, q->mu);
        if (mp_load32(&q->stop, MP_RELAXED) || !q->first) break;
        /* Kept in q rather than only on the feeder's stack: a forked child
         * has no feeder thread, and its leak checker would call it lost. */
        struct qmsg *batch = q->first;
        q->first = q->last = NULL;
        q->sending = batch;
        mp_os_mutex_unlock(q->mu);

        mp_os_mutex_lock(q->mu);
        int slot = q_my_slot(q);
        mp_os_mutex_unlock(q->mu);
        size_t counted = write_batch(q, batch, slot);

        mp_os_mutex_lock(q->mu);
        uint32_t n = 0;
        while (batch) {
            struct qmsg *next = batch->next;
            free(batch);
            batch = next;
            n++;
        }
        /* Unwritten ones (a stop) are dropped: the same for qsize. */
        q_count_buffered(q, slot, -(int64_t)(n - counted));
        if (mp_sub32(&q->local, n, MP_SEQ_CST) == n)
            mp_store32(&q->stalled, 0, MP_RELAXED);
        q->sending = NULL;
        mp_os_cond_broadcast(q->cv);
    }
    mp_os_mutex_unlock(q->mu);
}

int q_buffer(mp_queue *q, const void *data, size_t len)
{
    struct qmsg *m = malloc(sizeof *m + len);
    if (!m)
        return mp_set_error(MP_ENOMEM, "out of memory buffering a %zu-byte message", len);
    m->next = NULL;
    m->len = len;
    if (len) memcpy(m->data, data, len);
    mp_os_mutex_lock(q->mu);
    int rc = 0;
    if (q_is_closed(q)) /* closed by another thread meanwhile */
        rc = mp_set_error(MP_ESTATE, "queue is closed");
    else if (!q->feeder)
        rc = mp_os_thread_start(&q->feeder, feeder_main, q);
    if (rc < 0) {
        mp_os_mutex_unlock(q->mu);
        free(m);
        return rc;
    }
    q_count_buffered(q, q_my_slot(q), 1);
    mp_add32(&q->local, 1, MP_SEQ_CST);
    if (q->last)
        q->last->next = m;
    else
        q->first = m;
    q->last = m;
    mp_os_cond_broadcast(q->cv);
    mp_os_mutex_unlock(q->mu);
    return 0;
}

void q_drop_buffered(mp_queue *q)
{
    mp_os_mutex_lock(q->mu);
    uint32_t n = 0;
    while (q->first) {
        struct qmsg *m = q->first;
        q->first = m->next;
        free(m);
        n++;
    }
    q->last = NULL;
    if (n) {
        q_count_buffered(q, q_my_slot(q), -(int64_t)n);
        if (mp_sub32(&q->local, n, MP_SEQ_CST) == n)
            mp_store32(&q->stalled, 0, MP_RELAXED);
    }
    mp_os_mutex_unlock(q->mu);
}
