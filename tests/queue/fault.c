/* queue/fault.c - producers and consumers on one Queue, killed at
 * random moments, and the accounting that proves nothing was lost,
 * duplicated or corrupted that the rules allow to survive.
 *
 * Each round makes a queue, starts producers and consumers (child
 * processes), kills some of them one at a time (SIGKILL; TerminateProcess
 * on Windows) and starts a replacement for each; then it stops the rest
 * normally, drains the queue in the parent and accounts for every
 * message. The shared bookkeeping (docs/reliability.md has the long
 * form):
 *
 * - Producer i puts (i, 0), (i, 1), ... and stores in shared words the
 *   sequence number it is putting ("in flight") and, after put returned
 *   0, how many puts have succeeded ("acked"). A replacement producer
 *   gets a new id, so every id has one writer.
 * - Consumer slot j stores "inside get" before each get and, once get
 *   returned a message, "holding (i, seq)" before it counts the message
 *   in its own byte table (slot j, producer i, seq). A replacement takes
 *   the slot over after the dead one is joined.
 * - After the round, for each (i, seq): received at most once, only if
 *   it was acked or in flight, intact (checksum). An acked message may
 *   be missing only if a killed consumer held it (state "holding" it),
 *   or - at most once per consumer killed "inside get" - anywhere, or,
 *   in an unbounded queue, if its producer was killed and it comes after
 *   the last message of that producer that arrived (it was in the
 *   producer's own buffer, or being written by its feeder: Python loses
 *   these too). A bounded queue has no such buffer: its put returns once
 *   the message is in the ring, so nothing acked dies with a producer.
 * - qsize, read before the drain, counts what the drain takes: the
 *   messages, plus at most the records the drain reports dropped
 *   (MP_EOWNERDEAD); after the drain it is exactly 0. Then the queue
 *   must work as new: maxsize puts succeed, one more is full, a message
 *   larger than the ring arrives whole.
 * - Nothing is left behind: no fd / handle, /dev/shm name or child. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/queue/testview.h"
#include "fault.h"
#include "leakcheck.h"
#include "test.h"

enum {
    MAXP = 48, /* producer ids per round (replacements take new ones) */
    MAXC = 4,  /* consumer slots */
    SLOTS = 5, /* consumer slots and the parent's drain */
    MAXSEQ = 4096,
    PARENT = MAXC
};

/* The words of one producer id: W_PROD + id * PW + P_... */
enum {
    P_ACKED,   /* puts that returned 0 */
    P_FLIGHT,  /* seq + 1 while putting seq, else 0 */
    P_ERR,     /* -rc of an unexpected put result */
    P_RUNNING, /* set when the target starts */
    P_SIZE,    /* size of the message in flight or last put */
    PW
};

/* The words of one consumer slot: W_CONS + slot * CW + S_... */
enum {
    S_STATE, /* IDLE, GETTING or HOLD(id, seq) */
    S_PID,   /* the slot's current consumer, once running */
    S_RECV,  /* messages counted */
    S_DROPS, /* gets that returned MP_EOWNERDEAD */
    S_ERRS,  /* anything wrong seen by the consumer */
    S_EKIND, /* the first of them: kind, detail, where */
    S_EDETAIL,
    S_EWHERE,
    CW
};

/* All shared words (a raw 'Q' array). */
enum {
    W_STOP_P,   /* producers: finish the current put and return */
    W_STOP_C,   /* consumers: return */
    W_PACE_P,   /* most microseconds a producer sleeps between puts (0: none) */
    W_PACE_C,   /* the same for consumers, between gets */
    W_PPID,     /* the parent: children whose parent died stop on their own */
    W_THROTTLE, /* unbounded: producers wait while qsize is above this */
    W_PROD = 8,
    W_CONS = W_PROD + MAXP * PW,
    W_COUNT = W_CONS + MAXC * CW
};

#define IDLE          0u
#define GETTING       1u
#define HOLD(id, seq) (2u | (uint64_t)(id) << 8 | (uint64_t)(seq) << 32)
#define IS_HOLD(st)   (((st)&0xff) == 2u)
#define HOLD_ID(st)   ((uint32_t)(((st) >> 8) & 0xffffff))
#define HOLD_SEQ(st)  ((uint32_t)((st) >> 32))

/* Kinds of consumer errors (S_EKIND). */
enum { E_GET = 1, E_BAD, E_RANGE, E_ORDER };

/* ---- children ------------------------------------------------------------- */

/* Message sizes of one producer: mostly small, now and then big (larger
 * than the ring in some modes, so it streams and the copy is long). */
struct sizes {
    int64_t small, big_min, big_max, big_every;
};

static size_t pick_size(mpt_rng *r, const struct sizes *z)
{
    if (z->big_every && mpt_below(r, (uint64_t)z->big_every) == 0)
        return (size_t)z->big_min + mpt_below(r, (uint64_t)(z->big_max - z->big_min + 1));
    return MPT_MSG_HDR + mpt_below(r, (uint64_t)(z->small - MPT_MSG_HDR + 1));
}

/* args: queue, words, id, seed, count, small, big_min, big_max, big_every */
static int t_producer(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    mp_array *w = mp_args_array(args, 1);
    int64_t id, seed, count;
    struct sizes z;
    MPT_CHILD_CHECK(q && w);
    MPT_CHILD_CHECK(mp_args_get_int(args, 2, &id) == 0 && id >= 0 && id < MAXP);
    MPT_CHILD_CHECK(mp_args_get_int(args, 3, &seed) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 4, &count) == 0 && count <= MAXSEQ);
    MPT_CHILD_CHECK(mp_args_get_int(args, 5, &z.small) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 6, &z.big_min) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 7, &z.big_max) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 8, &z.big_every) == 0);
    size_t me = W_PROD + (size_t)id * PW;
    unsigned char *buf = malloc((size_t)(z.big_max > z.small ? z.big_max : z.small));
    MPT_CHILD_CHECK(buf != NULL);
    mpt_rng r = {(uint64_t)seed ^ (uint64_t)id << 40};
    mpt_st(w, me + P_RUNNING, 1);
    for (uint32_t seq = 0; seq < (uint32_t)count && !mpt_ld(w, W_STOP_P); seq++) {
        /* Unbounded, a producer far ahead of the consumers would hold most
         * of its messages in its own buffer, where a kill loses them all,
         * which proves nothing; so it keeps only a few in the queue. */
        uint64_t throttle = mpt_ld(w, W_THROTTLE);
        while (throttle && mp_queue_qsize(q) > throttle && !mpt_ld(w, W_STOP_P))
            mp_os_sleep_ns(100000);
        size_t len = pick_size(&r, &z);
        mpt_msg_make(buf, len, (uint32_t)id, seq);
        mpt_st(w, me + P_SIZE, len);
        mpt_st(w, me + P_FLIGHT, (uint64_t)seq + 1);
        int rc;
        /* A short timeout, so a producer blocked on a full queue still
         * sees the stop; MP_EFULL leaves no trace, so the same message is
         * simply put again. */
        while ((rc = mp_queue_put_bytes(q, buf, len, 0.05)) == MP_EFULL &&
               !mpt_ld(w, W_STOP_P) && mpt_parent_alive((int64_t)mpt_ld(w, W_PPID)))
            ;
        if (rc == MP_EFULL) { /* stopped while full: this one never went in */
            mpt_st(w, me + P_FLIGHT, 0);
            break;
        }
        if (rc != 0) {
            mpt_st(w, me + P_ERR, (uint64_t)-rc);
            free(buf);
            return 3;
        }
        mpt_st(w, me + P_ACKED, (uint64_t)seq + 1);
        mpt_st(w, me + P_FLIGHT, 0);
        mpt_sleep_us(mpt_below(&r, mpt_ld(w, W_PACE_P)));
    }
    free(buf);
    /* Done early: stay a target (idle) until told to stop. */
    while (!mpt_ld(w, W_STOP_P) && mpt_parent_alive((int64_t)mpt_ld(w, W_PPID)))
        mp_os_sleep_ns(1000000);
    return 0; /* the runtime frees q, which waits for the feeder */
}

static void consumer_error(mp_array *w, size_t me, uint64_t kind, uint64_t detail,
                           uint64_t where)
{
    if (mpt_ld(w, me + S_ERRS) == 0) {
        mpt_st(w, me + S_EKIND, kind);
        mpt_st(w, me + S_EDETAIL, detail);
        mpt_st(w, me + S_EWHERE, where);
    }
    mpt_inc(w, me + S_ERRS);
}

/* args: queue, words, table (raw 'B'), slot, seed */
static int t_consumer(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    mp_array *w = mp_args_array(args, 1);
    mp_array *seen = mp_args_array(args, 2);
    int64_t slot, seed;
    MPT_CHILD_CHECK(q && w && seen);
    MPT_CHILD_CHECK(mp_args_get_int(args, 3, &slot) == 0 && slot >= 0 && slot < MAXC);
    MPT_CHILD_CHECK(mp_args_get_int(args, 4, &seed) == 0);
    size_t me = W_CONS + (size_t)slot * CW;
    unsigned char *tab =
        (unsigned char *)mp_array_data(seen) + (size_t)slot * MAXP * MAXSEQ;
    int64_t last[MAXP];
    for (int i = 0; i < MAXP; i++)
        last[i] = -1;
    mpt_rng r = {(uint64_t)seed};
    mpt_st(w, me + S_PID, mp_os_getpid());
    while (!mpt_ld(w, W_STOP_C)) {
        unsigned char *d = NULL;
        size_t n = 0;
        uint32_t id = 0, seq = 0;
        mpt_st(w, me + S_STATE, GETTING);
        int rc = mp_queue_get_bytes(q, (void **)&d, &n, 0.05);
        if (rc == MP_EOWNERDEAD) mpt_inc(w, me + S_DROPS);
        if (rc != 0) {
            if (rc != MP_EEMPTY && rc != MP_EOWNERDEAD)
                consumer_error(w, me, E_GET, (uint64_t)-rc, 0);
            mpt_st(w, me + S_STATE, IDLE);
            if (!mpt_parent_alive((int64_t)mpt_ld(w, W_PPID))) return 4;
            continue;
        }
        int bad = mpt_msg_check(d, n, &id, &seq);
        if (bad) {
            consumer_error(w, me, E_BAD, (uint64_t)-bad, n);
        } else if (id >= MAXP || seq >= MAXSEQ) {
            consumer_error(w, me, E_RANGE, id, seq);
        } else {
            /* One producer's messages leave the ring in its order, so
             * each consumer sees them in increasing order. */
            if ((int64_t)seq <= last[id]) consumer_error(w, me, E_ORDER, id, seq);
            last[id] = seq;
            mpt_st(w, me + S_STATE, HOLD(id, seq));
            unsigned char *c = &tab[(size_t)id * MAXSEQ + seq];
            if (*c < 255) (*c)++;
            mpt_inc(w, me + S_RECV);
        }
        mpt_st(w, me + S_STATE, IDLE);
        mp_free(d);
        mpt_sleep_us(mpt_below(&r, mpt_ld(w, W_PACE_C)));
    }
    return 0;
}

/* ---- the driver ------------------------------------------------------------ */

enum { M_BOUNDED, M_UNBOUNDED, M_ONE_PRODUCER, M_COUNT };
static const char *const mode_names[M_COUNT] = {"bounded", "unbounded",
                                                "bounded, one producer"};

enum {
    K_P_FULL,
    K_P_PUT,
    K_P_BIG,
    K_P_IDLE,
    K_C_MSG,
    K_C_EMPTY,
    K_C_GET,
    K_C_HOLD,
    K_C_IDLE,
    K_START,
    K_COUNT
};
static const char *const kind_names[K_COUNT] = {
    "producer blocked on a full queue",
    "producer inside put",
    "producer after a put larger than the ring (its feeder streams it)",
    "producer between puts",
    "consumer mid-message",
    "consumer blocked on an empty queue",
    "consumer inside get",
    "consumer holding a received message",
    "consumer between gets",
    "child during start-up"};

struct totals {
    uint64_t kills, kinds[K_COUNT], rounds[M_COUNT];
    uint64_t checked, drained, held_lost, tail_lost, drops, lost_in_get;
};

struct round {
    mp_start_method method;
    int mode;
    mpt_rng *rng;
    uint64_t seed;
    size_t maxsize, ring;
    int np, nc;
    int64_t count;
    struct sizes z;
    mp_queue *q;
    mp_array *w, *seen;
    mp_process *prod[MAXP], *cons[MAXC];
    int nprod;         /* ids handed out */
    int alive[MAXP];   /* ids whose process is running */
    int killed[MAXP];  /* ids whose process was killed */
    uint64_t held[64]; /* HOLD states of killed consumers */
    int nheld;
    uint64_t unknown; /* consumers killed inside get */
    uint64_t deaths;
    uint64_t drain_drops; /* records the parent's drain found dropped */
    int failed;
};

static void start_producer(struct round *r, int id)
{
    r->prod[id] =
        mpt_start(t_producer,
                  mp_args_of(r->q, r->w, id, (int64_t)r->seed, r->count, r->z.small,
                             r->z.big_min, r->z.big_max, r->z.big_every),
                  r->method);
    r->alive[id] = 1;
}

static void start_consumer(struct round *r, int slot)
{
    /* The slot's words still describe the dead consumer; its death has
     * been accounted, and a replacement killed before it writes them
     * must not be accounted the same way again. */
    size_t me = W_CONS + (size_t)slot * CW;
    mpt_st(r->w, me + S_STATE, IDLE);
    mpt_st(r->w, me + S_PID, 0);
    r->cons[slot] = mpt_start(
        t_consumer,
        mp_args_of(r->q, r->w, r->seen, slot, (int64_t)(r->seed ^ mpt_next(r->rng))),
        r->method);
}

/* Whether the child is running its target yet. */
static int running(struct round *r, int producer, int idx)
{
    if (producer) return mpt_ld(r->w, W_PROD + (size_t)idx * PW + P_RUNNING) != 0;
    return mpt_ld(r->w, W_CONS + (size_t)idx * CW + S_PID) ==
           (uint64_t)mp_process_pid(r->cons[idx]);
}

static uint64_t state_of(struct round *r, int producer, int idx)
{
    if (producer) return mpt_ld(r->w, W_PROD + (size_t)idx * PW + P_FLIGHT);
    return mpt_ld(r->w, W_CONS + (size_t)idx * CW + S_STATE);
}

/* Waits (bounded) until cond holds for the victim; 1 if it did. */
static int wait_for(struct round *r, int producer, int idx, int what, double timeout)
{
    uint64_t deadline = mp_os_now_ns() + (uint64_t)(timeout * 1e9);
    for (;;) {
        int ok;
        switch (what) {
        case 0:
            ok = running(r, producer, idx);
            break;
        case 1:
            ok = state_of(r, producer, idx) != 0;
            break;
        default: /* streaming a message larger than the ring / mid-message */
            ok = producer
                     ? mpt_ld(r->w, W_PROD + (size_t)idx * PW + P_SIZE) > r->ring &&
                           mp__queue_ring_used(r->q) > 0
                     : state_of(r, 0, idx) == GETTING && mp__queue_cons_left(r->q) > 0;
        }
        if (ok) return 1;
        if (mp_os_now_ns() > deadline) return 0;
        mp_os_sleep_ns(20000);
    }
}

/* One kill: pick a victim, wait for a moment, kill, account, replace. */
static void kill_one(struct round *r, struct totals *t)
{
    int producer = (int)mpt_below(r->rng, 2);
    int idx;
    if (producer) {
        int ids[MAXP], n = 0;
        for (int i = 0; i < r->nprod; i++)
            if (r->alive[i]) ids[n++] = i;
        idx = ids[mpt_below(r->rng, (uint64_t)n)];
    } else {
        idx = (int)mpt_below(r->rng, (uint64_t)r->nc);
    }
    mp_process *p = producer ? r->prod[idx] : r->cons[idx];

    /* When: during start-up now and then; otherwise once the target runs,
     * after a random delay, or once it is inside put/get, or (the moments
     * that matter most) while a message larger than the ring that it put
     * streams through the ring (its feeder holds the producer lock for
     * all that time) or while a consumer is inside a message. */
    uint64_t how = mpt_below(r->rng, 16);
    int startup = how == 0;
    if (!startup) {
        if (!wait_for(r, producer, idx, 0, 60.0)) {
            fprintf(stderr, "fault_queue: a %s did not start within 60 s\n",
                    producer ? "producer" : "consumer");
            r->failed = 1;
        }
        if (how < 8) {
            mpt_sleep_us(mpt_below(r->rng, 2001));
        } else if (how < 12) {
            if (wait_for(r, producer, idx, 1, 0.5)) mpt_sleep_us(mpt_below(r->rng, 300));
        } else {
            wait_for(r, producer, idx, 2, 0.5);
            mpt_sleep_us(mpt_below(r->rng, producer ? 1000 : 50));
        }
    }
    MPT_OK(mp_process_kill(p));
    int code = mpt_join(p);
    if (code != -9) {
        fprintf(stderr, "fault_queue: a killed %s ended with %d, not -9\n",
                producer ? "producer" : "consumer", code);
        r->failed = 1;
    }
    t->kills++;
    r->deaths++;

    /* Where it died, from what it left in shared memory. */
    uint64_t st = state_of(r, producer, idx);
    int kind;
    if (startup) {
        kind = K_START;
    } else if (producer) {
        if (st && r->maxsize && mp_queue_qsize(r->q) >= r->maxsize)
            kind = K_P_FULL;
        else if (st)
            kind = K_P_PUT;
        else if (mpt_ld(r->w, W_PROD + (size_t)idx * PW + P_SIZE) > r->ring)
            kind = K_P_BIG;
        else
            kind = K_P_IDLE;
    } else if (st == GETTING) {
        kind = mp__queue_cons_left(r->q) > 0    ? K_C_MSG
               : mp__queue_ring_used(r->q) == 0 ? K_C_EMPTY
                                                : K_C_GET;
    } else {
        kind = IS_HOLD(st) ? K_C_HOLD : K_C_IDLE;
    }
    t->kinds[kind]++;

    if (producer) {
        r->alive[idx] = 0;
        r->killed[idx] = 1;
        start_producer(r, r->nprod++);
    } else {
        if (st == GETTING) r->unknown++;
        if (IS_HOLD(st) && r->nheld < 64) r->held[r->nheld++] = st;
        start_consumer(r, idx);
    }
}

static int held_by_killed(const struct round *r, uint32_t id, uint32_t seq)
{
    for (int i = 0; i < r->nheld; i++)
        if (HOLD_ID(r->held[i]) == id && HOLD_SEQ(r->held[i]) == seq) return 1;
    return 0;
}

/* Drains the queue in the parent (slot PARENT) and checks qsize. */
static void drain(struct round *r, struct totals *t)
{
    size_t before = mp_queue_qsize(r->q);
    uint64_t got = 0, dropped = 0;
    unsigned char *tab =
        (unsigned char *)mp_array_data(r->seen) + (size_t)PARENT * MAXP * MAXSEQ;
    for (;;) {
        unsigned char *d = NULL;
        size_t n = 0;
        uint32_t id, seq;
        /* No process is left that could hold a lock or be writing, so a
         * get that finds no message has nothing to wait for; only if qsize
         * says something is left is it given a second, patient try. */
        int rc = mp_queue_get_bytes(r->q, (void **)&d, &n, 0);
        if (rc == MP_EEMPTY && mp_queue_qsize(r->q) != 0)
            rc = mp_queue_get_bytes(r->q, (void **)&d, &n, 1.0);
        if (rc == MP_EEMPTY) break;
        if (rc == MP_EOWNERDEAD) {
            dropped++;
            continue;
        }
        if (rc != 0) {
            fprintf(stderr, "fault_queue: drain: get gave %s (%s)\n", mp_error_name(rc),
                    mp_last_error());
            r->failed = 1;
            break;
        }
        int bad = mpt_msg_check(d, n, &id, &seq);
        if (bad || id >= MAXP || seq >= MAXSEQ) {
            fprintf(stderr,
                    "fault_queue: drain: message of %zu bytes: %s (id %u seq %u)\n", n,
                    mpt_msg_problem(bad), id, seq);
            r->failed = 1;
        } else {
            unsigned char *c = &tab[(size_t)id * MAXSEQ + seq];
            if (*c < 255) (*c)++;
            got++;
        }
        mp_free(d);
    }
    size_t after = mp_queue_qsize(r->q);
    t->drained += got;
    t->drops += dropped;
    r->drain_drops = dropped;
    if (before < got || before > got + dropped) {
        fprintf(stderr,
                "fault_queue: qsize was %zu before the drain, which took %llu "
                "message(s) and %llu dropped record(s)\n",
                before, (unsigned long long)got, (unsigned long long)dropped);
        r->failed = 1;
    }
    if (after != 0) {
        fprintf(stderr, "fault_queue: qsize is %zu after the queue was drained\n", after);
        r->failed = 1;
    }
}

struct big_put {
    mp_queue *q;
    unsigned char *buf;
    size_t len;
    int rc;
};

static void big_put_main(void *arg)
{
    struct big_put *b = arg;
    b->rc = mp_queue_put_bytes(b->q, b->buf, b->len, MP_FOREVER);
}

/* The queue works as new: maxsize places, full after them, and a message
 * larger than the ring arrives whole. */
static void still_works(struct round *r)
{
    unsigned char small[64];
    size_t n = r->maxsize ? r->maxsize : 8;
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        mpt_msg_make(small, sizeof small, 1000, (uint32_t)i);
        int rc = mp_queue_put_bytes_nowait(r->q, small, sizeof small);
        if (rc != 0) {
            fprintf(stderr, "fault_queue: after the round, put %zu of %zu gave %s\n",
                    i + 1, n, mp_error_name(rc));
            ok = 0;
        }
    }
    if (ok && r->maxsize &&
        mp_queue_put_bytes_nowait(r->q, small, sizeof small) != MP_EFULL) {
        fprintf(stderr,
                "fault_queue: after the round, the queue is not full at maxsize\n");
        ok = 0;
    }
    if (ok && mp_queue_qsize(r->q) != n) {
        fprintf(stderr, "fault_queue: after the round, qsize %zu, wanted %zu\n",
                mp_queue_qsize(r->q), n);
        ok = 0;
    }
    for (size_t i = 0; i < n && ok; i++) {
        size_t len = 0;
        uint32_t id, seq;
        int rc =
            mp_queue_get_bytes_into(r->q, small, sizeof small, &len, MPT_JOIN_TIMEOUT);
        if (rc != 0 || mpt_msg_check(small, len, &id, &seq) != 0 || id != 1000 ||
            seq != i) {
            fprintf(stderr, "fault_queue: after the round, get %zu gave %s\n", i,
                    mp_error_name(rc));
            ok = 0;
        }
    }
    if (ok) {
        /* Put from a thread: whether a put that streams waits for the
         * reader is the queue's business, not this check's. */
        struct big_put bp = {r->q, NULL, r->ring + 4096 + 8, 0};
        unsigned char *d = NULL;
        size_t len = 0;
        uint32_t id, seq;
        mp_os_thread *th = NULL;
        bp.buf = malloc(bp.len);
        mpt_msg_make(bp.buf, bp.len, 1001, 0);
        MPT_OK(mp_os_thread_start(&th, big_put_main, &bp));
        int rc = mp_queue_get_bytes(r->q, (void **)&d, &len, MPT_JOIN_TIMEOUT);
        char why[256];
        snprintf(why, sizeof why, "%s", rc ? mp_last_error() : "");
        MPT_OK(mp_os_thread_join(th));
        int bad = rc == 0 ? mpt_msg_check(d, len, &id, &seq) : 0;
        if (rc != 0 || bp.rc != 0 || bad != 0 || id != 1001) {
            fprintf(stderr,
                    "fault_queue: after the round, a %zu-byte message (larger than the "
                    "ring): put gave %s, get gave %s (%s), %zu bytes, %s\n",
                    bp.len, mp_error_name(bp.rc), mp_error_name(rc), why, len,
                    mpt_msg_problem(bad));
            ok = 0;
        }
        mp_free(d);
        free(bp.buf);
    }
    if (ok && (mp_queue_qsize(r->q) != 0 || mp_queue_empty(r->q) != 1)) {
        /* Every message put has been got back: nothing is left anywhere,
         * not even in this process's buffer (its one message is out). */
        fprintf(stderr,
                "fault_queue: after the round, all put was got back, yet qsize is %zu "
                "and empty() %d\n",
                mp_queue_qsize(r->q), mp_queue_empty(r->q));
        ok = 0;
    }
    if (!ok) r->failed = 1;
}

/* Exactly once, nothing unexplained missing, nothing made up. */
static void account(struct round *r, struct totals *t)
{
    const unsigned char *tab = mp_array_data(r->seen);
    uint64_t unexplained = 0, drops = 0;
    uint32_t missing[8][2];
    for (int c = 0; c < MAXC; c++) {
        size_t me = W_CONS + (size_t)c * CW;
        t->checked += mpt_ld(r->w, me + S_RECV);
        drops += mpt_ld(r->w, me + S_DROPS);
        if (mpt_ld(r->w, me + S_ERRS)) {
            static const char *const what[] = {"?", "get failed", "bad message",
                                               "id/seq out of range", "out of order"};
            uint64_t k = mpt_ld(r->w, me + S_EKIND);
            fprintf(stderr,
                    "fault_queue: consumer slot %d saw %llu error(s), the first: %s "
                    "(%llu, %llu)\n",
                    c, (unsigned long long)mpt_ld(r->w, me + S_ERRS), what[k < 5 ? k : 0],
                    (unsigned long long)mpt_ld(r->w, me + S_EDETAIL),
                    (unsigned long long)mpt_ld(r->w, me + S_EWHERE));
            r->failed = 1;
        }
    }
    for (int id = 0; id < r->nprod; id++) {
        size_t me = W_PROD + (size_t)id * PW;
        uint64_t acked = mpt_ld(r->w, me + P_ACKED), flight = mpt_ld(r->w, me + P_FLIGHT);
        if (mpt_ld(r->w, me + P_ERR)) {
            fprintf(stderr, "fault_queue: producer %d: put gave %s\n", id,
                    mp_error_name(-(int)mpt_ld(r->w, me + P_ERR)));
            r->failed = 1;
        }
        int64_t last = -1;
        for (uint32_t seq = 0; seq < MAXSEQ; seq++) {
            unsigned cnt = 0;
            for (int s = 0; s < SLOTS; s++)
                cnt += tab[((size_t)s * MAXP + (size_t)id) * MAXSEQ + seq];
            if (cnt == 0) continue;
            last = seq;
            if (cnt > 1) {
                fprintf(stderr, "fault_queue: message (%d, %u) received %u times\n", id,
                        seq, cnt);
                r->failed = 1;
            }
            if (seq >= acked && !(flight && seq == flight - 1)) {
                fprintf(stderr,
                        "fault_queue: message (%d, %u) received, but its producer "
                        "acked %llu and had %s in flight\n",
                        id, seq, (unsigned long long)acked, flight ? "another" : "none");
                r->failed = 1;
            }
        }
        for (uint32_t seq = 0; seq < acked; seq++) {
            unsigned cnt = 0;
            for (int s = 0; s < SLOTS; s++)
                cnt += tab[((size_t)s * MAXP + (size_t)id) * MAXSEQ + seq];
            if (cnt) continue;
            if (held_by_killed(r, (uint32_t)id, seq)) {
                t->held_lost++;
            } else if (r->killed[id] && (int64_t)seq > last && r->maxsize == 0) {
                t->tail_lost++;
            } else {
                if (unexplained < 8) {
                    missing[unexplained][0] = (uint32_t)id;
                    missing[unexplained][1] = seq;
                }
                unexplained++;
            }
        }
    }
    if (unexplained > r->unknown) {
        fprintf(stderr,
                "fault_queue: %llu acked message(s) never received, but only %llu "
                "consumer(s) were killed inside get:",
                (unsigned long long)unexplained, (unsigned long long)r->unknown);
        for (uint64_t i = 0; i < unexplained && i < 8; i++)
            fprintf(stderr, " (%u, %u)%s", missing[i][0], missing[i][1],
                    r->killed[missing[i][0]] ? " of a killed producer" : "");
        fprintf(stderr, "\n");
        r->failed = 1;
    }
    t->lost_in_get += unexplained;
    t->drops += drops;
    /* Each death can make one record unreadable, reported by one get. */
    if (drops + r->drain_drops > r->deaths) {
        fprintf(stderr, "fault_queue: %llu drops reported for %llu deaths\n",
                (unsigned long long)(drops + r->drain_drops),
                (unsigned long long)r->deaths);
        r->failed = 1;
    }
}

static void set_mode(struct round *r)
{
    mpt_rng *g = r->rng;
    switch (r->mode) {
    case M_BOUNDED: {
        static const size_t maxsizes[] = {1, 3, 16};
        r->maxsize = maxsizes[mpt_below(g, 3)];
        r->ring = 65536;
        r->np = 3;
        r->nc = 2;
        r->count = MAXSEQ;
        r->z = (struct sizes){2048, 16384, 200000, 16};
        break;
    }
    case M_UNBOUNDED:
        r->maxsize = 0;
        r->ring = mpt_below(g, 2) ? 16384 : 131072;
        r->np = 3;
        r->nc = 2;
        /* Every put may land in the producer's buffer: keep a round's
         * worth of it small. */
        r->count = 1024;
        r->z = (struct sizes){2048, 65536, 400000, 32};
        break;
    default:
        /* One producer, whose try of the free lock always succeeds, and a
         * ring that holds every record the queue can hold, the records
         * consumers are reading and one a dead consumer left (maxsize 8 +
         * 3 consumers + 1, of at most 4 KiB + 8 each): put publishes
         * before it returns. */
        r->maxsize = 8;
        r->ring = 262144;
        r->np = 1;
        r->nc = 3;
        r->count = MAXSEQ;
        r->z = (struct sizes){4096, 0, 0, 0};
        break;
    }
}

/* Waits for a child told to stop; one that does not end in time hangs
 * somewhere: it is named, killed, and the round fails. */
static void end_child(struct round *r, mp_process *p, const char *what, int i)
{
    int code = -1000;
    int rc = mp_process_join(p, MPT_JOIN_TIMEOUT);
    if (rc == MP_ETIMEDOUT) {
        fprintf(stderr, "fault_queue: %s %d did not end within %.0f s of the stop\n",
                what, i, MPT_JOIN_TIMEOUT);
        mp_process_kill(p);
        rc = mp_process_join(p, MPT_JOIN_TIMEOUT);
        r->failed = 1;
    }
    MPT_OK(rc);
    MPT_OK(mp_process_exitcode(p, &code));
    MPT_OK(mp_process_free(p));
    if (code != 0) {
        fprintf(stderr, "fault_queue: %s %d exited with %d\n", what, i, code);
        r->failed = 1;
    }
}

/* The watchdog's last resort: no child outlives a hung test. */
static void kill_all(void *arg)
{
    struct round *r = arg;
    if (r->q)
        fprintf(
            stderr,
            "fault_queue: the queue (%s, maxsize %zu, ring %zu): qsize %zu, %llu bytes "
            "in the ring, %llu left of the message a consumer is inside\n",
            mode_names[r->mode], r->maxsize, r->ring, mp_queue_qsize(r->q),
            (unsigned long long)mp__queue_ring_used(r->q),
            (unsigned long long)mp__queue_cons_left(r->q));
    for (int i = 0; i < r->nprod; i++)
        if (r->alive[i]) mp_process_kill(r->prod[i]);
    for (int i = 0; i < r->nc; i++)
        if (r->cons[i]) mp_process_kill(r->cons[i]);
}

static int one_round(struct round *r, int nkills, struct totals *t, const char *label)
{
    static mpt_leak_mark mark;
    mpt_leak_mark_now(&mark);
    set_mode(r);
    t->rounds[r->mode]++;
    MPT_OK(mp_queue_new_sized(&r->q, r->maxsize, r->ring));
    MPT_OK(mpt_words_new(&r->w, W_COUNT));
    MPT_OK(mp_array_new_raw(&r->seen, 'B', (size_t)SLOTS * MAXP * MAXSEQ));
    uint64_t pace = mpt_below(r->rng, 3);
    mpt_st(r->w, W_PACE_P, pace == 1 ? 500 : 0);
    mpt_st(r->w, W_PACE_C, pace == 2 ? 500 : 0);
    mpt_st(r->w, W_PPID, mp_os_getpid());
    mpt_st(r->w, W_THROTTLE, r->maxsize ? 0 : 24);

    mpt_watchdog_arm(300, "fault_queue: the kills of a round");
    for (int i = 0; i < r->np; i++)
        start_producer(r, r->nprod++);
    for (int i = 0; i < r->nc; i++)
        start_consumer(r, i);
    for (int k = 0; k < nkills; k++)
        kill_one(r, t);

    /* The rest end normally: producers first, while consumers still make
     * room for what their feeders flush on the way out. */
    mpt_watchdog_arm(3 * MPT_JOIN_TIMEOUT, "fault_queue: stopping the children");
    mpt_st(r->w, W_STOP_P, 1);
    for (int i = 0; i < r->nprod; i++)
        if (r->alive[i]) {
            end_child(r, r->prod[i], "producer", i);
            r->alive[i] = 0;
        }
    mpt_st(r->w, W_STOP_C, 1);
    for (int i = 0; i < r->nc; i++) {
        end_child(r, r->cons[i], "consumer", i);
        r->cons[i] = NULL;
    }

    mpt_watchdog_arm(300, "fault_queue: draining and checking the queue");
    drain(r, t);
    account(r, t);
    still_works(r);
    mp_queue *q = r->q;
    r->q = NULL;
    mp_queue_free(q);
    mp_array_free(r->w);
    mp_array_free(r->seen);
    mpt_watchdog_arm(300, "fault_queue: the leak check of a round");
    if (mpt_leaks_since(&mark, label)) r->failed = 1;
    mpt_watchdog_arm(0, "");
    return !r->failed;
}

static void queue_kills(mp_start_method m)
{
    const char *label =
        m == MP_START_FORK ? "fault_queue/kills_fork" : "fault_queue/kills_spawn";
    uint64_t seed = mpt_test_seed(label), total = mpt_fault_kills(200, 16);
    mpt_rounds s;
    mpt_rounds_init(&s, seed, total);
    struct totals t;
    memset(&t, 0, sizeof t);
    static struct round r;
    mpt_watchdog_start(kill_all, &r);
    uint64_t t0 = mp_os_now_ns();
    int failed = 0;
    while (mpt_round_next(&s, 4, 9)) {
        int n = s.kills;
        memset(&r, 0, sizeof r);
        r.method = m;
        r.mode = s.index % M_COUNT;
        r.rng = &s.rng;
        r.seed = mpt_next(&s.rng);
        if (!one_round(&r, n, &t, label)) {
            fprintf(stderr,
                    "fault_queue: %s: round %d (%s, maxsize %zu, ring %zu, %d kills) "
                    "failed; to repeat it: "
                    "MPT_SEED=%#llx MPT_FAULT_KILLS=%llu MPT_FAULT_ROUND=%d mproc_tests "
                    "queue/fault %s\n",
                    label, s.index, mode_names[r.mode], r.maxsize, r.ring, n,
                    (unsigned long long)mpt_base_seed(), (unsigned long long)total,
                    s.index,
                    m == MP_START_FORK ? "queue_kills_fork" : "queue_kills_spawn");
            failed++;
        }
    }
    mpt_watchdog_stop();
    double secs = (double)(mp_os_now_ns() - t0) / 1e9;
    printf("\n%s: seed %#llx: %llu kills in %d rounds (bounded %llu, unbounded %llu, "
           "bounded with one producer %llu), %.1f s\n",
           label, (unsigned long long)seed, (unsigned long long)t.kills, s.count,
           (unsigned long long)t.rounds[M_BOUNDED],
           (unsigned long long)t.rounds[M_UNBOUNDED],
           (unsigned long long)t.rounds[M_ONE_PRODUCER], secs);
    printf("  kills by moment:");
    for (int k = 0; k < K_COUNT; k++)
        printf("%s %llu %s", k ? "," : "", (unsigned long long)t.kinds[k], kind_names[k]);
    printf(
        "\n  %llu messages checked exactly once (%llu by consumers, %llu drained), "
        "%llu taken by killed consumers, %llu lost with killed consumers inside get, "
        "%llu lost in killed producers' buffers, %llu drops reported (MP_EOWNERDEAD)\n",
        (unsigned long long)(t.checked + t.drained), (unsigned long long)t.checked,
        (unsigned long long)t.drained, (unsigned long long)t.held_lost,
        (unsigned long long)t.lost_in_get, (unsigned long long)t.tail_lost,
        (unsigned long long)t.drops);
    if (failed) printf("  %d of %d rounds FAILED (see above)\n", failed, s.count);
    fflush(stdout);
    CU_ASSERT_EQUAL(failed, 0);
}
MPT_DEFINE_BOTH(queue_kills)

/* ---- Python's trap: join a child before reading what it put ------------------ */

static int t_put_mib(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    int64_t id;
    MPT_CHILD_CHECK(q && mp_args_get_int(args, 1, &id) == 0);
    size_t n = (size_t)1 << 20;
    unsigned char *b = malloc(n);
    MPT_CHILD_CHECK(b != NULL);
    mpt_msg_make(b, n, (uint32_t)id, 0);
    int rc = mp_queue_put_bytes(q, b, n, MP_FOREVER);
    free(b);
    MPT_CHILD_CHECK(rc == 0);
    return 0; /* exits: the runtime frees q, which waits for the feeder */
}

/* A child that put a 1 MiB item and exited is joined before anyone reads
 * the queue: in Python the join never returns (the feeder waits for a
 * reader). Here the item fits in the ring, so the child can exit, and the
 * item is there to get. With 4 children at once, and with maxsize 4. */
static void big_item_join_before_get(mp_start_method m)
{
    static const size_t maxsizes[] = {0, 4};
    for (int v = 0; v < 2; v++) {
        mp_queue *q;
        MPT_OK(mp_queue_new(&q, maxsizes[v]));
        mp_process *p[4];
        for (int i = 0; i < 4; i++)
            p[i] = mpt_start(t_put_mib, mp_args_of(q, i), m);
        for (int i = 0; i < 4; i++) {
            int code = -1000;
            /* Generous, but bounded: the point is that it returns. */
            MPT_OK(mp_process_join(p[i], 30.0));
            MPT_OK(mp_process_exitcode(p[i], &code));
            MPT_OK(mp_process_free(p[i]));
            CU_ASSERT_EQUAL(code, 0);
        }
        CU_ASSERT_EQUAL(mp_queue_qsize(q), 4);
        unsigned seen = 0;
        for (int i = 0; i < 4; i++) {
            unsigned char *d = NULL;
            size_t n = 0;
            uint32_t id = 99, seq = 99;
            MPT_OK(mp_queue_get_bytes(q, (void **)&d, &n, 0));
            CU_ASSERT_EQUAL(n, (size_t)1 << 20);
            CU_ASSERT_EQUAL(mpt_msg_check(d, n, &id, &seq), 0);
            if (id < 4) seen |= 1u << id;
            mp_free(d);
        }
        CU_ASSERT_EQUAL(seen, 15u);
        CU_ASSERT_EQUAL(mp_queue_empty(q), 1);
        mp_queue_free(q);
    }
    printf("\nfault_queue/big_item_join_before_get: 2 x 4 children each put 1 MiB and "
           "were joined within 30 s; all 8 items read back intact\n");
}
MPT_DEFINE_BOTH(big_item_join_before_get)

void mpt_suite_queue_fault(void)
{
    MPT_BOTH("queue/fault", queue_kills);
    MPT_BOTH("queue/fault", big_item_join_before_get);
}
