/* layout.h - the Queue's shared layout, and what the queue's files
 * (queue.c, queue/locks.c, queue/stream.c, queue/feeder.c) share. The
 * protocol is described in docs/queue.md; the short form:
 *
 * - Each side (producers, consumers) has one 64-bit word holding its lock
 *   (the holder's pid in the high half, 0 when free) and its message
 *   count (low half: messages published, messages taken). Taking the lock
 *   is one compare-and-swap; one exchange both publishes the side's work
 *   and releases the lock, so a message costs each side two atomic
 *   operations.
 * - Positions live beside the word in two slots, pos[n & 1] being the
 *   ring position after n messages. The holder writes the slot of n + 1
 *   before publishing n + 1, so the slot of the published count is always
 *   whole: a holder killed at any instruction leaves the word and its slot
 *   telling exactly where the side stands, and the counts (hence qsize)
 *   stay exact.
 * - Consumers find records by count, not by position: record n is whole
 *   once the published count passes n. Only a record larger than the ring
 *   is read while it is being written; for it the producer publishes its
 *   progress in `live`, the consumer its own in `c.live`. */
#ifndef MP_CORE_QUEUE_SHARED_H
#define MP_CORE_QUEUE_SHARED_H

#include <string.h>

#include "platform.h"
#include "core/sync/lock.h" /* the lock protocol the side locks share */
#include "mproc/queue.h"

#define Q_MAGIC    0x3251504du /* "MPQ2" */
#define Q_VERSION  4u
#define Q_MIN_RING ((uint64_t)4096)
#define Q_MAX_RING ((uint64_t)1 << 30)
#define Q_REC_HDR  8u
#define Q_SLICE_NS 100000000ull /* re-check for dead peers and stop requests */
/* put waits this long for room before buffering: 200 us, plus the time a
 * consumer copying at a slow 1 GB/s needs to take a message this size. */
#define Q_PUT_GRACE_NS(rec) (200000ull + (rec))
/* A consumer that finds the ring empty looks again for this long, every
 * Q_DATA_PAUSES pauses (about 1.6 us here), before it sleeps (see
 * data_soon in queue.c). */
#define Q_DATA_SPIN_NS 12000ull
#define Q_DATA_PAUSES  64
/* A consumer that keeps finding new records close ahead waits, up to
 * Q_LAG_ROUNDS rounds of Q_LAG_ROUND_NS, until the producers are
 * Q_LAG_BYTES ahead (a quarter of a smaller ring) - see keep_behind in
 * queue.c. Rounds are timed rather than counted in pauses: a pause takes
 * 25 ns on the AMD machine the lag was measured on, ~40 on recent Intel
 * cores and a cycle or two on ARM. */
#define Q_LAG_BYTES    ((uint64_t)16384)
#define Q_LAG_ROUND_NS 800ull
#define Q_LAG_ROUNDS   16
/* Messages up to this size are copied inline, in the usual put and get. */
#define Q_SMALL     64
#define Q_BUF_SLOTS 32
#define Q_LINE      _Alignas(128) /* Apple M-series lines; x86-64 has 64 */

/* Each side keeps its last view of the other side in its own line (see
 * docs/queue.md). ThreadSanitizer cannot follow that: the view may have
 * been read by another process, whose synchronisation it never sees, so
 * it would report every use of it as a race. Under it, every look is
 * fresh. */
#if defined(__SANITIZE_THREAD__)
#define Q_CACHES 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define Q_CACHES 0
#endif
#endif
#ifndef Q_CACHES
#define Q_CACHES 1
#endif

/* Keeps a slow path out of the per-message functions, so that they stay
 * small (no registers saved for calls they rarely make). */
#if defined(__GNUC__) || defined(__clang__)
#define Q_INLINE      inline __attribute__((always_inline))
#define Q_NOINLINE    __attribute__((noinline))
#define Q_COLD        __attribute__((noinline, cold))
#define Q_UNLIKELY(x) __builtin_expect(!!(x), 0)
#elif defined(_MSC_VER)
#define Q_INLINE      __forceinline
#define Q_NOINLINE    __declspec(noinline)
#define Q_COLD        __declspec(noinline)
#define Q_UNLIKELY(x) (x)
#else
#define Q_INLINE inline
#define Q_NOINLINE
#define Q_COLD
#define Q_UNLIKELY(x) (x)
#endif

/* Internal result of q_lock: the holder is parked, buffer the message. */
#define Q_DIVERT 1

#define Q_OWNER(w)           ((uint32_t)((w) >> 32))
#define Q_COUNT(w)           ((uint32_t)(w))
#define Q_WORD(owner, count) (((uint64_t)(owner) << 32) | (uint32_t)(count))

/* A side's lock word and the sleeping place of those waiting for it. */
typedef struct qside {
    mp_atomic_u64 word;
    /* Waiters for the lock: the side locks sleep through the one waiter
     * (sync/waiter.h), as the Value lock does. */
    mp_waitpoint wp;
} qside;

/* A sleeping place with at most one sleeper: the holder of one side's lock
 * waiting for the other side. */
typedef struct qwait {
    mp_atomic_u32 seq, flag;
} qwait;

struct qshared {
    Q_LINE struct {
        uint32_t magic, version;
        uint64_t capacity; /* ring bytes, a power of two */
        uint64_t maxsize;  /* 0: unbounded */
    } k;
    Q_LINE struct {
        qside lk;                 /* holder | messages published */
        mp_atomic_u64 tail[2];    /* tail[n & 1]: ring position after n messages */
        mp_atomic_u64 head_seen;  /* the consumers' head as last read: a cache */
        mp_atomic_u32 taken_seen; /* the consumers' count as last read: a cache */
        mp_atomic_u32 parked;     /* the holder waits for consumers */
        mp_atomic_u64 live;       /* how far the open stream is published */
        mp_atomic_u64 msg_start;  /* the open stream's record ... */
        mp_atomic_u64 msg_end;    /* ... and its end; 0: no stream open */
    } p;
    Q_LINE struct {
        qside lk;               /* holder | messages taken */
        mp_atomic_u64 head[2];  /* head[n & 1]: ring position after n messages */
        mp_atomic_u32 pub_seen; /* the producers' count as last read: a cache */
        mp_atomic_u32 flowing;  /* that read found new records: producers stream */
        mp_atomic_u64 live;     /* how far a streamed record has been read */
        mp_atomic_u64 cons_end; /* end of the streamed record being read; 0: none */
    } c;
    /* End of a record that a producer died writing and another padded: the
     * consumer that reads it drops it. Every get reads it; it is written
     * only after a death, so it has a line of its own. */
    Q_LINE mp_atomic_u64 aborted_end;
    Q_LINE qwait data; /* a consumer waits for producers */
    Q_LINE qwait room; /* a producer waits for consumers */
    /* Messages in each process's buffer (put, not yet written by its
     * feeder), so that qsize counts them and forgets a dead process's. */
    Q_LINE struct {
        mp_atomic_u32 pid, count;
    } buffered[Q_BUF_SLOTS];
    mp_atomic_u64 buffered_other; /* of processes that found no slot */
};

#define Q_RING_OFFSET ((sizeof(struct qshared) + 127) & ~(size_t)127)

struct qmsg {
    struct qmsg *next;
    size_t len;
    unsigned char data[];
};

struct mp_queue {
    mp_os_shm shm;
    struct qshared *s;
    unsigned char *ring;
    uint64_t cap, mask, maxsize;
    mp_os_wq plock_wq, clock_wq, data_wq, room_wq;

    /* Process-local: the feeder and its buffer, guarded by mu. */
    mp_os_mutex *mu;
    mp_os_cond *cv;
    mp_os_thread *feeder;
    struct qmsg *first, *last;
    struct qmsg *sending; /* taken by the feeder, being written */
    int cancelled;
    int slot;            /* this process's entry of buffered[]; -1: none yet */
    uint32_t slot_pid;   /* whose entry it is (a fork child needs its own) */
    mp_atomic_u32 local; /* messages buffered or being fed: put goes behind them */
    mp_atomic_u32 closed;
    mp_atomic_u32 stop; /* the feeder must give up at once (read unlocked) */
    /* The feeder did not empty the buffer within a put's grace: puts buffer
     * at once until it is empty (cleared by the feeder). */
    mp_atomic_u32 stalled;
};

static inline uint64_t q_pad8(uint64_t n)
{
    return (n + 7) & ~(uint64_t)7;
}

static inline int q_is_closed(mp_queue *q)
{
    return mp_load32(&q->closed, MP_RELAXED) != 0;
}

/* ---- queue/locks.c: ring access, locks, sleeping ----------------------------- */

void q_ring_write(mp_queue *q, uint64_t pos, const void *src, uint64_t n);
void q_ring_read(mp_queue *q, uint64_t pos, void *dst, uint64_t n);

/* Copies n bytes, w <= n <= 2w, as two w-byte pieces that overlap in the
 * middle (w a constant, so each piece is a register move or two). */
static inline void q_copy_two(unsigned char *d, const unsigned char *s, uint64_t n,
                              size_t w)
{
    unsigned char a[32], b[32];
    memcpy(a, s, w);
    memcpy(b, s + n - w, w);
    memcpy(d, a, w);
    memcpy(d + n - w, b, w);
}

/* Copies n bytes between a message and the ring. Most messages are a
 * few bytes, where a call to memcpy costs more than the copy: up to 64
 * bytes move inline, in overlapping pieces that never touch a byte
 * outside either range. */
static inline void q_copy(void *dst, const void *src, uint64_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (n > 64)
        memcpy(d, s, (size_t)n);
    else if (n > 32)
        q_copy_two(d, s, n, 32);
    else if (n >= 16)
        q_copy_two(d, s, n, 16);
    else if (n >= 8)
        q_copy_two(d, s, n, 8);
    else if (n >= 4)
        q_copy_two(d, s, n, 4);
    else if (n) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    }
}

/* The length in the record header at pos. Headers are 8-aligned and the
 * ring is a power of two of at least 4 KiB, so a header never wraps. */
static inline uint64_t q_read_len(mp_queue *q, uint64_t pos)
{
    uint64_t v;
    memcpy(&v, q->ring + (pos & q->mask), sizeof v);
    return v;
}

/* Takes a side's lock, waiting until the deadline. *count receives the
 * side's count. 0; MP_EOWNERDEAD when taken from a dead holder; MP_ETIMEDOUT;
 * MP_ECLOSED once *stop is set; Q_DIVERT while *parked is set (stop and
 * parked may be NULL). */
int q_lock(qside *sd, mp_os_wq *wq, uint64_t deadline, mp_atomic_u32 *parked,
           mp_atomic_u32 *stop, uint32_t *count);

/* Takes the lock only if it is free or its holder is dead. */
int q_trylock(qside *sd, uint32_t *count);

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

/* Free bytes after tail, seen from a view of the consumers' head. A
 * cached view can lag by more than the ring (a stream written off jumps
 * the positions past bytes never written): then it shows no room, never
 * a wrapped-around difference, and the caller looks again. */
static inline uint64_t q_room(const mp_queue *q, uint64_t tail, uint64_t head)
{
    uint64_t used = tail - head;
    return used >= q->cap ? 0 : q->cap - used;
}

/* The producers' published count. */
static inline uint32_t q_published(mp_queue *q)
{
    return Q_COUNT(mp_load64(&q->s->p.lk.word, MP_SEQ_CST));
}

/* Producer lock held with count c: waits until want bytes are free after
 * tail, parking while it waits. MP_ETIMEDOUT at the deadline, MP_ECLOSED
 * once q->stop is set. */
int q_wait_room(mp_queue *q, uint64_t tail, uint64_t want, uint64_t deadline);

/* ---- queue/stream.c: records larger than the ring, and repairs -------------- */

/* Producer lock held with count *c: writes one record of any size,
 * waiting for room (until the deadline, which a stream once begun
 * ignores). Advances *c and the tail slot when the record is written; the
 * caller publishes *c (q_unlock). A message from a buffer (buffered_slot
 * >= -1, see q_count_buffered; Q_NOT_BUFFERED otherwise) leaves the
 * buffered count just before it counts as published. */
#define Q_NOT_BUFFERED (-2)
int q_write_record(mp_queue *q, uint32_t *c, const void *data, uint64_t len,
                   uint64_t deadline, int buffered_slot);

/* Producer lock held with count *c: finishes a stream left open by a dead
 * or cancelled producer (restartable if cut short). */
int q_finish_abandoned(mp_queue *q, uint32_t *c, uint64_t deadline);

/* Consumer lock held with count k, the record at head larger than the
 * ring (or being streamed): reads it as it arrives, into user (cap bytes)
 * or a new buffer at *data. Publishes k + 1 and releases the lock. */
int q_read_stream(mp_queue *q, uint32_t k, uint64_t head, void *user, size_t cap,
                  void **data, size_t *len);

/* Consumer lock just taken with count *k: skips what a dead consumer left
 * half-read. 1 if a message was dropped (count advanced). */
int q_skip_dead_consumers_record(mp_queue *q, uint32_t *k);

/* Consumer lock held with count k, a message of n bytes at the head: where
 * to read it, the caller's buffer (user, of cap bytes) or a new one. NULL
 * after releasing the lock, with *rc MP_ETOOSHORT (*len = n) or
 * MP_ENOMEM. */
unsigned char *q__reader_buffer(mp_queue *q, uint32_t k, uint64_t n, void *user,
                                size_t cap, size_t *len, int *rc);
static inline unsigned char *q_reader_buffer(mp_queue *q, uint32_t k, uint64_t n,
                                             void *user, size_t cap, size_t *len, int *rc)
{
    if (user && n <= cap) return user;
    return q__reader_buffer(q, k, n, user, cap, len, rc);
}

/* 1 if the record ending at end was padded after its writer died; clears
 * the mark (the reader drops the record). Every get asks; the answer is
 * almost always no, from one load. */
int q__take_abort_mark(mp_queue *q, uint64_t end);
static inline int q_take_abort_mark(mp_queue *q, uint64_t end)
{
    if (mp_load64(&q->s->aborted_end, MP_ACQUIRE) != end) return 0;
    return q__take_abort_mark(q, end);
}

/* ---- queue/feeder.c: the process's buffer ------------------------------------ */

/* Buffers a copy of the message for the feeder thread (started on first
 * need). MP_ENOMEM, MP_ESTATE if closed meanwhile. */
int q_buffer(mp_queue *q, const void *data, size_t len);

/* Adds delta to the buffered count of this process's entry (slot -1: the
 * shared count of processes without one). */
void q_count_buffered(mp_queue *q, int slot, int64_t delta);

/* Messages buffered by live processes. */
uint64_t q_buffered_total(mp_queue *q);

/* Drops what is still buffered (after cancel_join_thread, at free). */
void q_drop_buffered(mp_queue *q);

#endif
