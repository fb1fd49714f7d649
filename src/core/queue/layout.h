/* layout.h - the Queue's shared layout (one segment: a header in lines
 * of 128 bytes, then the ring), its process-local handle, and the inline
 * helpers that only read them. No prototypes: each file of the queue
 * declares what it defines in a header of its own name (queue.c has the
 * map of the files and of who calls whom). The protocol is described in
 * docs/queue.md; the short form:
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

#include "platform.h"
#include "core/sync/pidlock.h" /* the lock protocol the side locks share */
#include "mproc/queue.h"

#define Q_MAGIC    0x3251504du /* "MPQ2" */
#define Q_VERSION  5u
#define Q_MIN_RING ((uint64_t)4096)
#define Q_MAX_RING ((uint64_t)1 << 30)
#define Q_REC_HDR  8u
#define Q_SLICE_NS 100000000ull /* re-check for dead peers and stop requests */
/* put waits this long for room before buffering: 200 us, plus the time a
 * consumer copying at a slow 1 GB/s needs to take a message this size. */
#define Q_PUT_GRACE_NS(rec) (200000ull + (rec))
/* A consumer that finds the ring empty looks again for this long, every
 * Q_DATA_PAUSES pauses (about 1.6 us here), before it sleeps (see
 * data_soon in get.c). */
#define Q_DATA_SPIN_NS 12000ull
#define Q_DATA_PAUSES  64
/* A consumer that keeps finding new records close ahead waits, up to
 * Q_LAG_ROUNDS rounds of Q_LAG_ROUND_NS, until the producers are
 * Q_LAG_BYTES ahead (a quarter of a smaller ring) - see keep_behind in
 * get.c. Rounds are timed rather than counted in pauses: a pause takes
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

/* k.flags: what kind of queue the segment is. A JoinableQueue counts
 * tasks; a SimpleQueue's put waits for room rather than buffer, so it
 * has no feeder. */
#define Q_JOINABLE 1u
#define Q_SIMPLE   2u

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
        uint32_t flags;    /* Q_JOINABLE, Q_SIMPLE */
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
    /* A JoinableQueue's tasks put and not yet marked done, and how many
     * times that count came down to 0: join() waits for the latter to
     * move, so every joiner woken leaves (joinable.c). */
    Q_LINE struct {
        mp_atomic_u32 unfinished, drained;
        mp_waitpoint wp;
    } tasks;
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
    uint32_t flags;
    /* Not 0 if put must leave the usual unbounded path: a bound, tasks to
     * count, or no buffering (the usual put reads only this). */
    uint32_t route;
    mp_os_wq plock_wq, clock_wq, data_wq, room_wq;
    mp_os_wq tasks_wq; /* a JoinableQueue's joiners; no handles otherwise */

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

#endif
