/* queue.c - Queue: creation, travel to children, and state (qsize,
 * close, join_thread, free). The room's map, in the order a message meets
 * it:
 *
 *   layout.h    the shared layout and the process-local handle; inline
 *               helpers that only read them
 *   put.c       put: the usual put, inline, and every other case
 *   get.c       get: the usual get, inline, and every other case
 *   feeder.c    this process's buffered messages and the feeder thread
 *   stream.c    records larger than the ring (and any write that waits
 *               for room); the reader's buffer and the abort mark's end
 *   recover.c   repairs by the next lock holder after a peer died
 *   buffered.c  qsize's per-process counts of buffered messages
 *   locks.c     side locks, sleeping for the other side, waiting for room
 *   ring.c      the ring's bytes; ring.h: the record format, written
 *               only there
 *   testview.h  views for the tests (instrumented build only)
 *
 * Each file declares what it defines in a header of its name. Calls
 * between files form no loop, directly or round a circle, so that each
 * file can be read, and changed, knowing only the files it calls. Each
 * file below calls only files listed after it (docs/queue.md, "Files",
 * says how that is checked):
 *
 *   queue.c     -> feeder buffered (and locks, in the test views)
 *   put.c       -> feeder recover stream locks ring
 *   get.c       -> recover stream locks ring
 *   feeder.c    -> recover stream buffered locks ring
 *   recover.c   -> stream locks
 *   stream.c    -> buffered locks ring
 *   buffered.c  -> nothing of the queue
 *   locks.c     -> nothing of the queue
 *   ring.c      -> nothing of the queue
 *
 * The protocol is in layout.h, the long form with the measurements in
 * docs/queue.md. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "core/queue/buffered.h"
#include "core/queue/feeder.h"
#include "core/queue/locks.h"
#include "core/queue/testview.h"
#include "core/runtime/kind.h"

/* ---- creation ----------------------------------------------------------------- */

static void close_handles(mp_queue *q)
{
    mp_os_wq_close(&q->plock_wq);
    mp_os_wq_close(&q->clock_wq);
    mp_os_wq_close(&q->data_wq);
    mp_os_wq_close(&q->room_wq);
    mp_os_wq_close(&q->tasks_wq);
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
        q->data_wq.h[i] = q->room_wq.h[i] = q->tasks_wq.h[i] = MP_OS_NO_HANDLE;
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
    q->flags = q->s->k.flags;
    q->route = q->maxsize != 0 || q->flags != 0;
    q->ring = (unsigned char *)q->shm.base + Q_RING_OFFSET;
}

/* Every constructor: a queue of the kind flags says. */
static int create(mp_queue **out, size_t maxsize, size_t ring_bytes, uint32_t flags)
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
        s->k.flags = flags;
        bind_ring(q);
        rc = mp_os_wq_create(&q->plock_wq);
    }
    if (rc == 0) rc = mp_os_wq_create(&q->clock_wq);
    if (rc == 0) rc = mp_os_wq_create(&q->data_wq);
    if (rc == 0) rc = mp_os_wq_create(&q->room_wq);
    if (rc == 0 && (flags & Q_JOINABLE)) rc = mp_os_wq_create(&q->tasks_wq);
    if (rc < 0) {
        close_handles(q);
        free(q);
        return rc;
    }
    *out = q;
    return 0;
}

int mp_queue_new_sized(mp_queue **q, size_t maxsize, size_t ring_bytes)
{
    return create(q, maxsize, ring_bytes, 0);
}

int mp_queue_new(mp_queue **q, size_t maxsize)
{
    return create(q, maxsize, MP_QUEUE_DEFAULT_RING, 0);
}

int mp_joinable_queue_new(mp_queue **q, size_t maxsize)
{
    return create(q, maxsize, MP_QUEUE_DEFAULT_RING, Q_JOINABLE);
}

int mp_simple_queue_new(mp_queue **q)
{
    return create(q, 0, MP_QUEUE_DEFAULT_RING, Q_SIMPLE);
}

int mp_simple_queue_new_sized(mp_queue **q, size_t ring_bytes)
{
    return create(q, 0, ring_bytes, Q_SIMPLE);
}

/* ---- travel to a child ----------------------------------------------------------- */

/* Export layout: capacity, maxsize, flags, segment size and handle, then
 * the handle counts and handles of the four wait queues, and of the
 * joiners' for a JoinableQueue. */
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
    mp_buf_u32(ex->buf, q->flags);
    mp_buf_u64(ex->buf, q->shm.size);
    mp_export_handle(ex, q->shm.handle);
    export_wq(ex, &q->plock_wq);
    export_wq(ex, &q->clock_wq);
    export_wq(ex, &q->data_wq);
    export_wq(ex, &q->room_wq);
    if (q->flags & Q_JOINABLE) export_wq(ex, &q->tasks_wq);
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
    uint32_t flags = mp_rd_u32(im->rd);
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
            s->k.maxsize != maxsize || s->k.flags != flags)
            rc = mp_set_error(MP_EPROTO, "queue segment does not match");
        else
            bind_ring(q);
    }
    /* Adopt every wait queue even after a failure, so each handle named in
     * the blob ends up owned and closed. */
    int r1 = import_wq(im, &q->plock_wq), r2 = import_wq(im, &q->clock_wq);
    int r3 = import_wq(im, &q->data_wq), r4 = import_wq(im, &q->room_wq);
    int r5 = flags & Q_JOINABLE ? import_wq(im, &q->tasks_wq) : 0;
    if (rc == 0) rc = r1 < 0 ? r1 : r2 < 0 ? r2 : r3 < 0 ? r3 : r4 < 0 ? r4 : r5;
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

/* What empty() and full() answer after close, as Python's refuse. */
static int state_check(mp_queue *q)
{
    if (!q) return mp_set_error(MP_EINVAL, "NULL queue");
    if (q_is_closed(q)) return mp_set_error(MP_ESTATE, "queue is closed");
    return 0;
}

int mp_queue_empty(mp_queue *q)
{
    mp_clear_error();
    int rc = state_check(q);
    return rc < 0 ? rc : mp_queue_qsize(q) == 0;
}

int mp_queue_full(mp_queue *q)
{
    mp_clear_error();
    int rc = state_check(q);
    return rc < 0 ? rc : q->maxsize != 0 && mp_queue_qsize(q) >= q->maxsize;
}

int mp_queue_is_closed(mp_queue *q)
{
    return q ? q_is_closed(q) : 1;
}

/* No more puts from this process; the feeder drains what is buffered. */
static void close_local(mp_queue *q)
{
    mp_os_mutex_lock(q->mu);
    mp_store32(&q->closed, 1, MP_RELAXED);
    mp_os_cond_broadcast(q->cv);
    mp_os_mutex_unlock(q->mu);
}

int mp_queue_close(mp_queue *q)
{
    mp_clear_error();
    if (!q) return mp_set_error(MP_EINVAL, "NULL queue");
    close_local(q);
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
    close_local(q); /* not mp_queue_close: a destructor leaves the message alone */
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
#endif
