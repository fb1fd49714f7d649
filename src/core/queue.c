/* queue.c - Queue: messages of any size through a ring in shared memory.
 *
 * Layout and protocol (docs/queue.md has the long form):
 *
 * - The ring is a power-of-two byte array. tail (bytes published) belongs
 *   to producers, head (bytes consumed) to consumers; both only grow and
 *   are reduced modulo the capacity to index the ring. A record is an
 *   8-byte length followed by the payload padded to 8 bytes.
 * - Producers serialise on one lock, consumers on another, so a producer
 *   copying and a consumer copying run in parallel; neither side ever
 *   takes the other's lock to publish (a consumer recovering from a dead
 *   producer is the one exception, cons -> prod, never the other order).
 * - A record that fits in the free space is copied whole and published by
 *   one store of tail. A record larger than the ring streams: the header
 *   and then chunks are published as room appears, and the consumer, which
 *   holds its lock for the whole message, copies each chunk out and frees
 *   its room. Either way consumers see whole messages only.
 * - put() never waits for room (as in Python): if the producer lock is
 *   busy or the record does not fit, the message goes to this process's
 *   buffer and a feeder thread writes it, waiting for room. put() waits
 *   only for maxsize, counted exactly by `accepted` (puts) and `taken`
 *   (gets started) in shared memory.
 * - Sleeping: a side that must wait registers in a waiters count, re-reads
 *   the position, and sleeps on a sequence word; the other side, after
 *   publishing with a sequentially consistent store, bumps the word and
 *   enters the kernel only if the count is non-zero.
 * - Recovery trusts positions only, never counts: each is a single store,
 *   so a process killed at any instruction leaves them consistent. A
 *   streaming producer records where its record starts and ends
 *   (msg_start, msg_end) before publishing any of it. If it dies (or is
 *   cancelled), the next producer pads from tail to msg_end with zeros and
 *   names that end in aborted_end, which the consumer that reaches it
 *   acknowledges by clearing it, dropping the record; a consumer already
 *   waiting for the rest may instead take the producer lock and write the
 *   record off. A consumer records the end of the record it reads
 *   (cons_end), so the next one skips exactly to it. Each loss is reported
 *   once, as MP_EOWNERDEAD. */
#include <stdlib.h>
#include <string.h>

#include "../platform.h"
#include "deadline.h"
#include "err.h"
#include "lock.h"
#include "mproc/queue.h"
#include "objects.h"
#include "queue_internal.h"

#define Q_MAGIC    0x3151504du /* "MPQ1" */
#define Q_VERSION  1u
#define Q_MIN_RING ((uint64_t)4096)
#define Q_MAX_RING ((uint64_t)1 << 30)
#define REC_HDR    8u
#define SLICE_NS   100000000ull /* re-check for dead peers / cancellation */
#define MP_ALIGNED _Alignas(128)

struct qshared {
    MP_ALIGNED struct {
        uint32_t magic, version;
        uint64_t capacity; /* ring bytes, a power of two */
        uint64_t maxsize;  /* 0: unbounded */
    } k;
    MP_ALIGNED struct {
        mp_lock_shared lock;
        mp_atomic_u64 tail;
        mp_atomic_u64 accepted;    /* messages reserved by put() */
        mp_atomic_u64 msg_start;   /* where the record being streamed starts */
        mp_atomic_u64 msg_end;     /* where it ends; 0 when no stream is open */
        mp_atomic_u64 aborted_end; /* end of a padded record to drop; 0: none */
    } p;
    MP_ALIGNED struct {
        mp_lock_shared lock;
        mp_atomic_u64 head;
        mp_atomic_u64 taken;    /* messages whose reading has begun */
        mp_atomic_u64 cons_end; /* end of the record being read; 0: none */
    } c;
    MP_ALIGNED struct {
        mp_atomic_u32 seq, waiters;
    } data, room;
};

#define RING_OFFSET ((sizeof(struct qshared) + 127) & ~(size_t)127)

struct qmsg {
    struct qmsg *next;
    size_t len;
    unsigned char data[];
};

struct mp_queue {
    mp_os_shm shm;
    struct qshared *s;
    unsigned char *ring;
    uint64_t cap, mask;
    mp_lock prod, cons;
    mp_os_wq data_wq, room_wq;

    /* Process-local: the feeder and its buffer, guarded by mu. */
    mp_os_mutex *mu;
    mp_os_cond *cv;
    mp_os_thread *feeder;
    struct qmsg *first, *last;
    struct qmsg *sending; /* taken off the buffer by the feeder, being written */
    int cancelled;
    mp_atomic_u32 closed;
    mp_atomic_u32 stop; /* the feeder must give up at once (read unlocked) */
};

static int is_closed(mp_queue *q)
{
    return mp_load32(&q->closed, MP_RELAXED) != 0;
}

static uint64_t pad8(uint64_t n)
{
    return (n + 7) & ~(uint64_t)7;
}

/* ---- ring access ---------------------------------------------------------- */

static void ring_write(mp_queue *q, uint64_t pos, const void *src, uint64_t n)
{
    uint64_t off = pos & q->mask;
    uint64_t first = n < q->cap - off ? n : q->cap - off;
    if (src) {
        memcpy(q->ring + off, src, (size_t)first);
        memcpy(q->ring, (const unsigned char *)src + first, (size_t)(n - first));
    } else {
        memset(q->ring + off, 0, (size_t)first);
        memset(q->ring, 0, (size_t)(n - first));
    }
}

static void ring_read(mp_queue *q, uint64_t pos, void *dst, uint64_t n)
{
    uint64_t off = pos & q->mask;
    uint64_t first = n < q->cap - off ? n : q->cap - off;
    memcpy(dst, q->ring + off, (size_t)first);
    memcpy((unsigned char *)dst + first, q->ring, (size_t)(n - first));
}

static uint64_t read_len(mp_queue *q, uint64_t pos)
{
    uint64_t v;
    memcpy(&v, q->ring + (pos & q->mask), sizeof v);
    return v;
}

/* ---- sleeping and waking --------------------------------------------------- */

/* Sleeps until *watch moves from seen, the sequence word is bumped, or
 * until; the caller re-checks its condition either way. */
static int wait_for(mp_os_wq *wq, mp_atomic_u32 *seq, mp_atomic_u32 *waiters,
                    mp_atomic_u64 *watch, uint64_t seen, uint64_t until)
{
    mp_add32(waiters, 1, MP_SEQ_CST);
    uint32_t s = mp_load32(seq, MP_SEQ_CST);
    int rc = 0;
    if (mp_load64(watch, MP_SEQ_CST) == seen) rc = mp_os_wq_wait(wq, seq, s, until);
    mp_sub32(waiters, 1, MP_RELAXED);
    return rc;
}

/* Called after a sequentially consistent store of the watched position. */
static void notify(mp_os_wq *wq, mp_atomic_u32 *seq, mp_atomic_u32 *waiters)
{
    uint32_t w = mp_load32(waiters, MP_SEQ_CST);
    if (w) {
        mp_add32(seq, 1, MP_SEQ_CST);
        mp_os_wq_wake(wq, seq, w);
    }
}

static void publish_tail(mp_queue *q, uint64_t tail)
{
    mp_store64(&q->s->p.tail, tail, MP_SEQ_CST);
    notify(&q->data_wq, &q->s->data.seq, &q->s->data.waiters);
}

static void publish_head(mp_queue *q, uint64_t head)
{
    mp_store64(&q->s->c.head, head, MP_SEQ_CST);
    notify(&q->room_wq, &q->s->room.seq, &q->s->room.waiters);
}

static uint64_t free_room(mp_queue *q, uint64_t tail)
{
    return q->cap - (tail - mp_load64(&q->s->c.head, MP_ACQUIRE));
}

/* ---- producer side (prod lock held) ---------------------------------------- */

/* Waits until at least want bytes are free; MP_ECLOSED if told to stop. */
static int wait_room(mp_queue *q, uint64_t tail, uint64_t want)
{
    for (;;) {
        uint64_t head = mp_load64(&q->s->c.head, MP_ACQUIRE);
        if (q->cap - (tail - head) >= want) return 0;
        if (mp_load32(&q->stop, MP_RELAXED)) return MP_ECLOSED;
        wait_for(&q->room_wq, &q->s->room.seq, &q->s->room.waiters, &q->s->c.head, head,
                 mp_os_now_ns() + SLICE_NS);
    }
}

/* Streams n bytes (zeros if src is NULL) from tail on, publishing as room
 * appears. */
static int stream(mp_queue *q, uint64_t *tail, const unsigned char *src, uint64_t n)
{
    while (n > 0) {
        int rc = wait_room(q, *tail, 1);
        if (rc < 0) return rc;
        uint64_t room = free_room(q, *tail);
        uint64_t k = n < room ? n : room;
        ring_write(q, *tail, src, k);
        if (src) src += k;
        n -= k;
        *tail += k;
        publish_tail(q, *tail);
    }
    return 0;
}

/* Waits until consumers have taken note of the last padded record, so that
 * aborted_end can name another one. */
static int wait_mark_free(mp_queue *q)
{
    struct qshared *s = q->s;
    while (mp_load64(&s->p.aborted_end, MP_ACQUIRE) != 0) {
        if (mp_load32(&q->stop, MP_RELAXED)) return MP_ECLOSED;
        uint64_t head = mp_load64(&s->c.head, MP_ACQUIRE);
        wait_for(&q->room_wq, &s->room.seq, &s->room.waiters, &s->c.head, head,
                 mp_os_now_ns() + SLICE_NS);
    }
    return 0;
}

/* Finishes a record that a dead or cancelled producer left half-written,
 * so that the ring is back at a record boundary; the consumer drops it.
 * Only positions are trusted: each is one store, so a producer killed at
 * any instruction leaves them telling exactly how far it got. */
static int finish_abandoned(mp_queue *q)
{
    struct qshared *s = q->s;
    uint64_t end = mp_load64(&s->p.msg_end, MP_ACQUIRE);
    if (end == 0) return 0;
    uint64_t tail = mp_load64(&s->p.tail, MP_RELAXED);
    if (tail != mp_load64(&s->p.msg_start, MP_RELAXED) && tail != end) {
        /* Part of it is out: pad the rest and mark it to be dropped. */
        if (mp_load64(&s->p.aborted_end, MP_ACQUIRE) != end) {
            int rc = wait_mark_free(q);
            if (rc < 0) return rc;
            mp_store64(&s->p.aborted_end, end, MP_SEQ_CST);
        }
        int rc = stream(q, &tail, NULL, end - tail);
        if (rc < 0) return rc;
    }
    /* Nothing of it was published, or all of it: nothing to repair. */
    mp_store64(&s->p.msg_end, 0, MP_RELEASE);
    return 0;
}

/* Writes a whole message, waiting for room as long as it takes (feeder).
 * *started says whether any of it was published: after that the message
 * counts as in the queue even if a stop request cuts it short. */
static int write_blocking(mp_queue *q, const unsigned char *data, uint64_t len,
                          int *started)
{
    *started = 0;
    int rc = finish_abandoned(q);
    if (rc < 0) return rc;
    uint64_t tail = mp_load64(&q->s->p.tail, MP_RELAXED);
    uint64_t rec = REC_HDR + pad8(len);
    if (rec <= q->cap) {
        rc = wait_room(q, tail, rec);
        if (rc < 0) return rc;
        ring_write(q, tail, &len, REC_HDR);
        ring_write(q, tail + REC_HDR, data, len);
        publish_tail(q, tail + rec);
        *started = 1;
        return 0;
    }
    rc = wait_room(q, tail, REC_HDR);
    if (rc < 0) return rc;
    /* Start before end: a producer killed between the two stores leaves no
     * open stream, and nothing of the record has been published then. */
    mp_store64(&q->s->p.msg_start, tail, MP_RELAXED);
    mp_store64(&q->s->p.msg_end, tail + rec, MP_RELEASE);
    ring_write(q, tail, &len, REC_HDR);
    tail += REC_HDR;
    publish_tail(q, tail);
    *started = 1;
    rc = stream(q, &tail, data, len);
    if (rc == 0) rc = stream(q, &tail, NULL, pad8(len) - len);
    if (rc == 0) mp_store64(&q->s->p.msg_end, 0, MP_RELEASE);
    return rc;
}

/* Writes the message only if that needs no waiting: 1 if written. */
static int write_now(mp_queue *q, const void *data, uint64_t len)
{
    if (mp_load64(&q->s->p.msg_end, MP_ACQUIRE) != 0) return 0;
    uint64_t tail = mp_load64(&q->s->p.tail, MP_RELAXED);
    uint64_t rec = REC_HDR + pad8(len);
    if (rec > free_room(q, tail)) return 0;
    ring_write(q, tail, &len, REC_HDR);
    ring_write(q, tail + REC_HDR, data, len);
    publish_tail(q, tail + rec);
    return 1;
}

/* ---- the feeder ------------------------------------------------------------- */

/* Returns places reserved by put() for messages that never entered. */
static void give_back(mp_queue *q, uint64_t n)
{
    mp_add64(&q->s->p.accepted, (uint64_t)0 - n, MP_SEQ_CST);
}

static void feeder_main(void *arg)
{
    mp_queue *q = arg;
    mp_os_mutex_lock(q->mu);
    for (;;) {
        while (!q->first && !is_closed(q) && !mp_load32(&q->stop, MP_RELAXED))
            mp_os_cond_wait(q->cv, q->mu);
        if (mp_load32(&q->stop, MP_RELAXED) || !q->first) break;
        struct qmsg *m = q->first;
        q->first = m->next;
        if (!q->first) q->last = NULL;
        /* Kept in q rather than only on the feeder's stack: a forked child
         * has no feeder thread, and its leak checker would call it lost. */
        q->sending = m;
        mp_os_mutex_unlock(q->mu);

        /* The lock is waited for in slices so that a stop request (free
         * after cancel_join_thread) is seen even while another process
         * streams a message for as long as consumers take. */
        int rc;
        do
            rc = mp_lock_acquire(&q->prod, mp_os_now_ns() + SLICE_NS);
        while (rc == MP_ETIMEDOUT && !mp_load32(&q->stop, MP_RELAXED));
        int started = 0;
        if (rc == 0 || rc == MP_EOWNERDEAD) {
            /* A stop makes write_blocking give up; a record it leaves
             * half-written is repaired by the next producer (see the top). */
            write_blocking(q, m->data, m->len, &started);
            mp_lock_release(&q->prod);
        }
        if (!started) give_back(q, 1);
        mp_os_mutex_lock(q->mu);
        free(m);
        q->sending = NULL;
        mp_os_cond_broadcast(q->cv);
    }
    mp_os_mutex_unlock(q->mu);
}

/* ---- creation ---------------------------------------------------------------- */

static void close_handles(mp_queue *q)
{
    mp_lock_close(&q->prod);
    mp_lock_close(&q->cons);
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
    for (int i = 0; i < MP_OS_WQ_MAX_HANDLES; i++) {
        q->prod.wq.h[i] = q->cons.wq.h[i] = MP_OS_NO_HANDLE;
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
    q->ring = (unsigned char *)q->shm.base + RING_OFFSET;
}

int mp_queue_new_sized(mp_queue **out, size_t maxsize, size_t ring_bytes)
{
    if (!out) return mp_set_error(MP_EINVAL, "NULL queue pointer");
    *out = NULL;
    if ((uint64_t)ring_bytes > Q_MAX_RING)
        return mp_set_error(MP_EINVAL, "ring of %zu bytes is over 1 GiB", ring_bytes);
    uint64_t cap = Q_MIN_RING;
    while (cap < ring_bytes)
        cap <<= 1;

    mp_queue *q = alloc_queue();
    if (!q) return MP_ENOMEM;
    int rc = mp_os_shm_create(&q->shm, RING_OFFSET + (size_t)cap);
    if (rc == 0) {
        struct qshared *s = q->shm.base;
        s->k.magic = Q_MAGIC;
        s->k.version = Q_VERSION;
        s->k.capacity = cap;
        s->k.maxsize = maxsize;
        bind_ring(q);
        rc = mp_lock_create(&q->prod, &s->p.lock);
    }
    if (rc == 0) rc = mp_lock_create(&q->cons, &q->s->c.lock);
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
    return mp_queue_new_sized(q, maxsize, MP_QUEUE_DEFAULT_RING);
}

/* Export layout: capacity, maxsize, the segment handle, then the handle
 * counts and handles of the four wait queues. */
static void export_wq(mp_export *ex, const mp_os_wq *wq)
{
    mp_os_handle h[MP_OS_WQ_MAX_HANDLES];
    int n = mp_os_wq_handles(wq, h);
    mp_buf_u32(ex->buf, (uint32_t)n);
    for (int i = 0; i < n; i++)
        mp_export_handle(ex, h[i]);
}

int mp__queue_export(mp_queue *q, mp_export *ex)
{
    if (!q) return mp_set_error(MP_EINVAL, "NULL queue");
    if (is_closed(q)) return mp_set_error(MP_ESTATE, "queue is closed");
    mp_buf_u64(ex->buf, q->cap);
    mp_buf_u64(ex->buf, q->s->k.maxsize);
    mp_buf_u64(ex->buf, q->shm.size);
    mp_export_handle(ex, q->shm.handle);
    export_wq(ex, &q->prod.wq);
    export_wq(ex, &q->cons.wq);
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

int mp__queue_import(mp_queue **out, mp_import *im)
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
        return MP_ENOMEM;
    }
    if (cap < Q_MIN_RING || cap > Q_MAX_RING || (cap & (cap - 1)) ||
        size != RING_OFFSET + cap) {
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
    int r1 = import_wq(im, &q->prod.wq), r2 = import_wq(im, &q->cons.wq);
    int r3 = import_wq(im, &q->data_wq), r4 = import_wq(im, &q->room_wq);
    if (rc == 0) rc = r1 < 0 ? r1 : r2 < 0 ? r2 : r3 < 0 ? r3 : r4;
    if (rc < 0) {
        close_handles(q);
        free(q);
        return rc;
    }
    q->prod.s = &q->s->p.lock;
    q->cons.s = &q->s->c.lock;
    *out = q;
    return 0;
}

/* ---- put ------------------------------------------------------------------------ */

/* Reserves one of maxsize places, waiting until the deadline. */
static int reserve(mp_queue *q, uint64_t deadline)
{
    struct qshared *s = q->s;
    for (;;) {
        uint64_t a = mp_load64(&s->p.accepted, MP_ACQUIRE);
        uint64_t t = mp_load64(&s->c.taken, MP_ACQUIRE);
        /* t > a only if a consumer died between its two counter updates;
         * never let that wrap into "full forever". */
        uint64_t used = a > t ? a - t : 0;
        if (s->k.maxsize == 0 || used < s->k.maxsize) {
            if (mp_cas64(&s->p.accepted, &a, a + 1, MP_SEQ_CST)) return 0;
            continue;
        }
        if (mp_deadline_passed(deadline)) return MP_EFULL;
        uint64_t until = mp_os_now_ns() + SLICE_NS;
        if (until > deadline) until = deadline;
        wait_for(&q->room_wq, &s->room.seq, &s->room.waiters, &s->c.taken, t, until);
    }
}

static int start_feeder(mp_queue *q)
{
    if (q->feeder) return 0;
    return mp_os_thread_start(&q->feeder, feeder_main, q);
}

int mp_queue_put_bytes(mp_queue *q, const void *data, size_t len, double timeout)
{
    if (!q || (!data && len)) return mp_set_error(MP_EINVAL, "NULL argument");
    if (is_closed(q)) return mp_set_error(MP_ESTATE, "queue is closed");
    if ((uint64_t)len > ((uint64_t)1 << 62))
        return mp_set_error(MP_ETOOBIG, "message of %zu bytes", len);
    int rc = reserve(q, mp_deadline(timeout));
    if (rc < 0) return rc;

    mp_os_mutex_lock(q->mu);
    if (is_closed(q)) { /* closed by another thread meanwhile */
        give_back(q, 1);
        mp_os_mutex_unlock(q->mu);
        return mp_set_error(MP_ESTATE, "queue is closed");
    }
    int done = 0;
    if (!q->first && !q->sending) {
        /* Never wait for the lock here: a holder may be streaming a huge
         * message for as long as consumers take, and put() must not block. */
        int lr = mp_lock_acquire(&q->prod, 0);
        if (lr == 0 || lr == MP_EOWNERDEAD) {
            done = write_now(q, data, len);
            mp_lock_release(&q->prod);
        }
    }
    if (!done) {
        struct qmsg *m = malloc(sizeof *m + len);
        rc = m ? start_feeder(q) : MP_ENOMEM;
        if (rc == 0) {
            m->next = NULL;
            m->len = len;
            if (len) memcpy(m->data, data, len);
            if (q->last)
                q->last->next = m;
            else
                q->first = m;
            q->last = m;
            mp_os_cond_broadcast(q->cv);
        } else {
            free(m);
            /* Give the place back: the message was not accepted. */
            give_back(q, 1);
        }
    }
    mp_os_mutex_unlock(q->mu);
    return rc;
}

int mp_queue_put_bytes_nowait(mp_queue *q, const void *data, size_t len)
{
    return mp_queue_put_bytes(q, data, len, 0);
}

/* ---- get ------------------------------------------------------------------------ */

/* The producer of the record ending at end is gone (dead, or cancelled
 * and out of the lock) with the record unfinished, and everything it
 * published is consumed: take its lock and write the record off. 1 if
 * dropped. */
static int drop_orphan(mp_queue *q, uint64_t end)
{
    struct qshared *s = q->s;
    if (mp_load64(&s->p.msg_end, MP_ACQUIRE) != end) return 0;
    int rc = mp_lock_acquire(&q->prod, 0);
    if (rc != 0 && rc != MP_EOWNERDEAD) return 0; /* a live producer will repair */
    int dropped = 0;
    if (mp_load64(&s->p.msg_end, MP_ACQUIRE) == end &&
        mp_load64(&s->p.tail, MP_ACQUIRE) == mp_load64(&s->c.head, MP_RELAXED)) {
        mp_store64(&s->p.msg_end, 0, MP_RELEASE);
        dropped = 1;
    }
    mp_lock_release(&q->prod);
    return dropped;
}

/* Consumes the record ending at end up to position upto, into dst (NULL:
 * discard), waiting for a streaming producer as long as it lives.
 * MP_EOWNERDEAD if the producer vanished with the record unfinished. */
static int consume(mp_queue *q, unsigned char *dst, uint64_t upto, uint64_t end)
{
    struct qshared *s = q->s;
    uint64_t head = mp_load64(&s->c.head, MP_RELAXED);
    while (head < upto) {
        uint64_t tail = mp_load64(&s->p.tail, MP_ACQUIRE);
        if (tail == head) {
            int rc = wait_for(&q->data_wq, &s->data.seq, &s->data.waiters, &s->p.tail,
                              tail, mp_os_now_ns() + SLICE_NS);
            if (rc == MP_ETIMEDOUT && drop_orphan(q, end)) return MP_EOWNERDEAD;
            continue;
        }
        uint64_t k = (tail < upto ? tail : upto) - head;
        if (dst) {
            ring_read(q, head, dst, k);
            dst += k;
        }
        head += k;
        publish_head(q, head);
    }
    return 0;
}

/* After the last byte of the record ending at end: 1 if a producer padded
 * it after its writer died, which this consumer acknowledges so that the
 * mark can name the next such record. */
static int take_abort_mark(mp_queue *q, uint64_t end)
{
    uint64_t mark = end;
    if (!mp_cas64(&q->s->p.aborted_end, &mark, 0, MP_SEQ_CST)) return 0;
    notify(&q->room_wq, &q->s->room.seq, &q->s->room.waiters); /* see wait_mark_free */
    return 1;
}

/* Reads one message; the consumer lock is held. Into user (cap bytes) if
 * user is not NULL, else into a new buffer at *data. */
static int get_locked(mp_queue *q, void *user, size_t cap, void **data, size_t *len,
                      uint64_t deadline)
{
    struct qshared *s = q->s;
    uint64_t head = mp_load64(&s->c.head, MP_RELAXED);
    for (;;) {
        uint64_t tail = mp_load64(&s->p.tail, MP_ACQUIRE);
        if (tail - head >= REC_HDR) break;
        if (mp_deadline_passed(deadline)) return MP_EEMPTY;
        uint64_t until = mp_os_now_ns() + SLICE_NS;
        if (until > deadline) until = deadline;
        wait_for(&q->data_wq, &s->data.seq, &s->data.waiters, &s->p.tail, tail, until);
    }
    uint64_t n = read_len(q, head);
    if (n > ((uint64_t)1 << 62) || n > SIZE_MAX)
        return mp_set_error(MP_EPROTO, "corrupt queue record (length %llu)",
                            (unsigned long long)n);
    if (user && n > cap) {
        *len = (size_t)n;
        return mp_set_error(MP_ETOOSHORT, "message of %llu bytes, buffer of %zu",
                            (unsigned long long)n, cap);
    }
    unsigned char *buf = user ? user : malloc(n ? (size_t)n : 1);
    if (!buf) return MP_ENOMEM;

    /* From here the message is this consumer's: the deadline no longer
     * applies, as a reader must not leave a message half-read. cons_end is
     * stored first so that a consumer killed at any point leaves enough
     * for the next one to skip the record whole. */
    uint64_t end = head + REC_HDR + pad8(n);
    mp_store64(&s->c.cons_end, end, MP_SEQ_CST);
    mp_add64(&s->c.taken, 1, MP_SEQ_CST);
    int rc = consume(q, NULL, head + REC_HDR, end);
    if (rc == 0) rc = consume(q, buf, head + REC_HDR + n, end);
    if (rc == 0) rc = consume(q, NULL, end, end);
    if (rc == 0 && take_abort_mark(q, end)) rc = MP_EOWNERDEAD;
    mp_store64(&s->c.cons_end, 0, MP_RELEASE);
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

/* The previous consumer died holding the lock: if it was inside a record,
 * skip to its end (positions, not counts, so wherever it died). 1 if a
 * message was dropped. */
static int skip_dead_consumers_record(mp_queue *q)
{
    struct qshared *s = q->s;
    uint64_t end = mp_load64(&s->c.cons_end, MP_ACQUIRE);
    if (end == 0) return 0;
    uint64_t head = mp_load64(&s->c.head, MP_RELAXED);
    if (end > head && end - head <= ((uint64_t)1 << 62)) {
        if (consume(q, NULL, end, end) == 0) take_abort_mark(q, end);
    }
    mp_store64(&s->c.cons_end, 0, MP_RELEASE);
    return 1;
}

static int get_any(mp_queue *q, void *user, size_t cap, void **data, size_t *len,
                   double timeout)
{
    uint64_t deadline = mp_deadline(timeout);
    int rc = mp_lock_acquire(&q->cons, deadline);
    if (rc == MP_ETIMEDOUT) return MP_EEMPTY;
    if (rc == MP_EOWNERDEAD) {
        if (skip_dead_consumers_record(q)) {
            mp_lock_release(&q->cons);
            return mp_set_error(
                MP_EOWNERDEAD,
                "a consumer died while receiving; its message was dropped");
        }
    } else if (rc < 0) {
        return rc;
    }
    rc = get_locked(q, user, cap, data, len, deadline);
    mp_lock_release(&q->cons);
    return rc;
}

int mp_queue_get_bytes(mp_queue *q, void **data, size_t *len, double timeout)
{
    if (!q || !data || !len) return mp_set_error(MP_EINVAL, "NULL argument");
    *data = NULL;
    *len = 0;
    if (is_closed(q)) return mp_set_error(MP_ESTATE, "queue is closed");
    return get_any(q, NULL, 0, data, len, timeout);
}

int mp_queue_get_bytes_into(mp_queue *q, void *buf, size_t cap, size_t *len,
                            double timeout)
{
    if (!q || (!buf && cap) || !len) return mp_set_error(MP_EINVAL, "NULL argument");
    *len = 0;
    if (is_closed(q)) return mp_set_error(MP_ESTATE, "queue is closed");
    return get_any(q, buf ? buf : (void *)len, cap, NULL, len, timeout);
}

int mp_queue_get_bytes_nowait(mp_queue *q, void **data, size_t *len)
{
    return mp_queue_get_bytes(q, data, len, 0);
}

/* ---- objects ------------------------------------------------------------------- */

int mp_queue_put(mp_queue *q, const mp_obj *o, double timeout)
{
    if (!q || !o) return mp_set_error(MP_EINVAL, "NULL argument");
    void *data;
    size_t len;
    int rc = mp_obj_dumps(o, &data, &len);
    if (rc < 0) return rc;
    rc = mp_queue_put_bytes(q, data, len, timeout);
    mp_free(data);
    return rc;
}

int mp_queue_put_nowait(mp_queue *q, const mp_obj *o)
{
    return mp_queue_put(q, o, 0);
}

int mp_queue_get(mp_queue *q, mp_obj **o, double timeout)
{
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
    return mp_queue_get(q, o, 0);
}

/* ---- state -------------------------------------------------------------------- */

size_t mp_queue_qsize(mp_queue *q)
{
    if (!q) return 0;
    /* taken first: a get between the two loads can then only make the
     * answer one too high, never negative. */
    uint64_t t = mp_load64(&q->s->c.taken, MP_SEQ_CST);
    uint64_t a = mp_load64(&q->s->p.accepted, MP_SEQ_CST);
    return a > t ? (size_t)(a - t) : 0;
}

int mp_queue_empty(mp_queue *q)
{
    return mp_queue_qsize(q) == 0;
}

int mp_queue_full(mp_queue *q)
{
    return q && q->s->k.maxsize != 0 && mp_queue_qsize(q) >= q->s->k.maxsize;
}

int mp_queue_close(mp_queue *q)
{
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
    if (!q) return mp_set_error(MP_EINVAL, "NULL queue");
    mp_os_mutex_lock(q->mu);
    int closed = is_closed(q), cancelled = q->cancelled;
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
    while (q->first) { /* only after cancel_join_thread: they never entered */
        struct qmsg *m = q->first;
        q->first = m->next;
        free(m);
        give_back(q, 1);
    }
    close_handles(q);
    free(q);
}

/* ---- test views (queue_internal.h) --------------------------------------------- */

uint64_t mp__queue_ring_used(mp_queue *q)
{
    return mp_load64(&q->s->p.tail, MP_ACQUIRE) - mp_load64(&q->s->c.head, MP_ACQUIRE);
}

uint64_t mp__queue_capacity(mp_queue *q)
{
    return q->cap;
}

uint64_t mp__queue_cons_left(mp_queue *q)
{
    uint64_t end = mp_load64(&q->s->c.cons_end, MP_ACQUIRE);
    return end ? end - mp_load64(&q->s->c.head, MP_ACQUIRE) : 0;
}

mp_lock *mp__queue_prod_lock(mp_queue *q)
{
    return &q->prod;
}
