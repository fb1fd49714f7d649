/* queue/stress.c - 4 producers x 4 consumers on one Queue, threads and
 * processes mixed, a million checksummed messages per producer (set by
 * MPT_STRESS_MESSAGES; fewer in sanitizer builds and under valgrind):
 * every message delivered, none twice, none torn, each producer's in its
 * order as every consumer sees them.
 *
 * Producers: two threads of one child process (sharing its handle and
 * its feeder), one child process, one thread of the parent. Consumers:
 * two child processes, two threads of the parent. Each consumer marks
 * what it gets in a bitmap of its own in shared memory; at the end the
 * parent checks that every message is marked in exactly one. Sizes are
 * mostly small, with now and then 64 KiB and, rarely, a message larger
 * than the ring (it streams through it while the others wait or buffer).
 * The spawn variant uses a bounded queue, the fork variant an unbounded
 * one (producers stay within 50000 messages of the consumers, so the
 * buffers stay small). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "leakcheck.h"
#include "test.h"

enum { P = 4, C = 4, STOP_ID = 0xffff, RING = 1 << 20, BIG = (1 << 20) + (1 << 19) };

#ifndef MPT_STRESS_DEFAULT
#define MPT_STRESS_DEFAULT 1000000 /* sanitizer builds define a smaller one */
#endif

/* Shared words: per consumer slot, and per producer. */
enum {
    W_PPID,
    W_SLOT = 2, /* + slot * SW */
    SW = 6,
    S_GOT = 0,
    S_BYTES = 1,
    S_ERRS = 2,
    S_EKIND = 3, /* the first error: kind, id, seq */
    S_EID = 4,
    S_ESEQ = 5,
    W_PROD = W_SLOT + C * SW, /* + id: -rc of a failed put */
    W_COUNT = W_PROD + P
};
enum { E_GET = 1, E_BAD, E_RANGE, E_ORDER, E_TWICE };
static const char *const err_names[] = {"?",
                                        "get failed",
                                        "bad message",
                                        "id/seq out of range",
                                        "out of order",
                                        "received twice by one consumer"};

static size_t stress_size(mpt_rng *r, uint32_t seq)
{
    if (seq % 100003 == 50000) return BIG; /* larger than the ring */
    if (seq % 997 == 500) return 65536;
    return MPT_MSG_HDR + mpt_below(r, 257);
}

struct prod_job {
    mp_queue *q;
    mp_array *w;
    uint32_t id;
    uint64_t n, seed, throttle;
    int rc;
};

static void producer_loop(void *arg)
{
    struct prod_job *j = arg;
    unsigned char *buf = malloc(BIG);
    mpt_rng r = {j->seed ^ j->id};
    j->rc = buf ? 0 : MP_ENOMEM;
    for (uint32_t seq = 0; seq < j->n && j->rc == 0; seq++) {
        /* Unbounded: stay within reach of the consumers, so that the
         * process's buffer holds thousands of messages, not millions. */
        if (j->throttle && seq % 64 == 0)
            while (mp_queue_qsize(j->q) > j->throttle)
                mp_os_sleep_ns(200000);
        size_t len = stress_size(&r, seq);
        mpt_msg_make(buf, len, j->id, seq);
        j->rc = mp_queue_put_bytes(j->q, buf, len, MP_FOREVER);
    }
    if (j->rc) mpt_st(j->w, W_PROD + j->id, (uint64_t)-j->rc);
    free(buf);
}

/* args: queue, words, first id, threads, n, seed, throttle */
static int t_producers(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    mp_array *w = mp_args_array(args, 1);
    int64_t first, threads, n, seed, throttle;
    MPT_CHILD_CHECK(q && w);
    MPT_CHILD_CHECK(mp_args_get_int(args, 2, &first) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 3, &threads) == 0 && threads <= 2);
    MPT_CHILD_CHECK(mp_args_get_int(args, 4, &n) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 5, &seed) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 6, &throttle) == 0);
    struct prod_job jobs[2];
    mp_os_thread *t[2];
    for (int i = 0; i < threads; i++) {
        jobs[i] = (struct prod_job){
            q, w, (uint32_t)(first + i), (uint64_t)n, (uint64_t)seed, (uint64_t)throttle,
            0};
        MPT_CHILD_CHECK(mp_os_thread_start(&t[i], producer_loop, &jobs[i]) == 0);
    }
    int ok = 1;
    for (int i = 0; i < threads; i++) {
        MPT_CHILD_CHECK(mp_os_thread_join(t[i]) == 0);
        ok &= jobs[i].rc == 0;
    }
    return ok ? 0 : 2; /* the runtime frees q: the feeder flushes first */
}

struct cons_job {
    mp_queue *q;
    mp_array *w, *bits;
    int slot;
    uint64_t n;
};

static void cons_error(mp_array *w, size_t me, uint64_t kind, uint32_t id, uint32_t seq)
{
    if (mpt_ld(w, me + S_ERRS) == 0) {
        mpt_st(w, me + S_EKIND, kind);
        mpt_st(w, me + S_EID, id);
        mpt_st(w, me + S_ESEQ, seq);
    }
    mpt_inc(w, me + S_ERRS);
}

static void consumer_loop(void *arg)
{
    struct cons_job *j = arg;
    size_t me = W_SLOT + (size_t)j->slot * SW, row = (size_t)((j->n + 7) / 8);
    unsigned char *bits =
        (unsigned char *)mp_array_data(j->bits) + (size_t)j->slot * P * row;
    unsigned char *buf = malloc(BIG);
    int64_t last[P] = {-1, -1, -1, -1};
    uint64_t got = 0, bytes = 0;
    if (!buf) {
        cons_error(j->w, me, E_GET, 0, 0);
        return;
    }
    for (uint64_t k = 0;; k++) {
        unsigned char *d = buf;
        void *heap = NULL;
        size_t n = 0;
        uint32_t id, seq;
        /* Mostly into a buffer of our own (no allocation: the fast way),
         * now and then the allocating call. */
        int rc = k % 16 == 0
                     ? mp_queue_get_bytes(j->q, &heap, &n, MPT_JOIN_TIMEOUT)
                     : mp_queue_get_bytes_into(j->q, buf, BIG, &n, MPT_JOIN_TIMEOUT);
        if (heap) d = heap;
        if (rc != 0) {
            cons_error(j->w, me, E_GET, (uint32_t)-rc, 0);
            break;
        }
        int bad = mpt_msg_check(d, n, &id, &seq);
        mp_free(heap);
        if (bad) {
            cons_error(j->w, me, E_BAD, (uint32_t)-bad, (uint32_t)n);
            continue;
        }
        if (id == STOP_ID) break;
        if (id >= P || seq >= j->n) {
            cons_error(j->w, me, E_RANGE, id, seq);
            continue;
        }
        if ((int64_t)seq <= last[id]) cons_error(j->w, me, E_ORDER, id, seq);
        last[id] = seq;
        unsigned char *b = &bits[(size_t)id * row + seq / 8],
                      mask = (unsigned char)(1u << (seq % 8));
        if (*b & mask) cons_error(j->w, me, E_TWICE, id, seq);
        *b |= mask;
        got++;
        bytes += n;
    }
    mpt_st(j->w, me + S_GOT, got);
    mpt_st(j->w, me + S_BYTES, bytes);
    free(buf);
}

/* args: queue, words, bits, slot, n */
static int t_consumer(const mp_args *args)
{
    struct cons_job j;
    int64_t slot, n;
    j.q = mp_args_queue(args, 0);
    j.w = mp_args_array(args, 1);
    j.bits = mp_args_array(args, 2);
    MPT_CHILD_CHECK(j.q && j.w && j.bits);
    MPT_CHILD_CHECK(mp_args_get_int(args, 3, &slot) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 4, &n) == 0);
    j.slot = (int)slot;
    j.n = (uint64_t)n;
    consumer_loop(&j);
    return 0;
}

static mp_process *stress_children[4];

static void kill_stress_children(void *arg)
{
    (void)arg;
    for (int i = 0; i < 4; i++)
        if (stress_children[i]) mp_process_kill(stress_children[i]);
}

static void mixed(mp_start_method m)
{
    const char *label = m == MP_START_FORK ? "stress/mixed_fork" : "stress/mixed_spawn";
    uint64_t n = mpt_env_u64("MPT_STRESS_MESSAGES", 0);
    if (!n) n = mpt_scaled(MPT_STRESS_DEFAULT, 1000);
    if (n > UINT32_MAX - 1) n = UINT32_MAX - 1;
    uint64_t seed = mpt_test_seed(label);
    size_t maxsize = m == MP_START_FORK ? 0 : 4096;
    uint64_t throttle = maxsize ? 0 : 50000;
    size_t row = (size_t)((n + 7) / 8);
    static mpt_leak_mark mark;
    mpt_leak_mark_now(&mark);

    mp_queue *q;
    mp_array *w, *bits;
    MPT_OK(mp_queue_new_sized(&q, maxsize, RING));
    MPT_OK(mpt_words_new(&w, W_COUNT));
    MPT_OK(mp_array_new_raw(&bits, 'B', (size_t)C * P * row));
    mpt_st(w, W_PPID, mp_os_getpid());
    memset(stress_children, 0, sizeof stress_children);
    mpt_watchdog_start(kill_stress_children, NULL);
    mpt_watchdog_arm(3000, "stress: the run");
    uint64_t t0 = mp_os_now_ns();

    /* Children first: a fork child must not start while the parent's own
     * threads are inside the queue. */
    mp_process *cons[2], *prod[2];
    for (int i = 0; i < 2; i++)
        stress_children[i] = cons[i] =
            mpt_start(t_consumer, mp_args_of(q, w, bits, i, (int64_t)n), m);
    stress_children[2] = prod[0] = mpt_start(
        t_producers, mp_args_of(q, w, 0, 2, (int64_t)n, (int64_t)seed, (int64_t)throttle),
        m);
    stress_children[3] = prod[1] = mpt_start(
        t_producers, mp_args_of(q, w, 2, 1, (int64_t)n, (int64_t)seed, (int64_t)throttle),
        m);
    struct cons_job cj[2];
    mp_os_thread *ct[2], *pt;
    for (int i = 0; i < 2; i++) {
        cj[i] = (struct cons_job){q, w, bits, 2 + i, n};
        MPT_OK(mp_os_thread_start(&ct[i], consumer_loop, &cj[i]));
    }
    struct prod_job pj = {q, w, 3, n, seed, throttle, 0};
    MPT_OK(mp_os_thread_start(&pt, producer_loop, &pj));

    MPT_OK(mp_os_thread_join(pt));
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL(mpt_join(prod[i]), 0);
        stress_children[2 + i] = NULL;
    }
    /* Every message is in; one stop message per consumer. */
    unsigned char stop[MPT_MSG_HDR];
    mpt_msg_make(stop, sizeof stop, STOP_ID, 0);
    for (int i = 0; i < C; i++)
        MPT_OK(mp_queue_put_bytes(q, stop, sizeof stop, MP_FOREVER));
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL(mpt_join(cons[i]), 0);
        stress_children[i] = NULL;
    }
    for (int i = 0; i < 2; i++)
        MPT_OK(mp_os_thread_join(ct[i]));
    double secs = (double)(mp_os_now_ns() - t0) / 1e9;
    mpt_watchdog_arm(600, "stress: the check");

    int failed = 0;
    uint64_t got = 0, bytes = 0;
    for (int s = 0; s < C; s++) {
        size_t me = W_SLOT + (size_t)s * SW;
        got += mpt_ld(w, me + S_GOT);
        bytes += mpt_ld(w, me + S_BYTES);
        if (mpt_ld(w, me + S_ERRS)) {
            uint64_t k = mpt_ld(w, me + S_EKIND);
            fprintf(stderr,
                    "%s: consumer %d: %llu error(s), the first: %s (%llu, %llu)\n", label,
                    s, (unsigned long long)mpt_ld(w, me + S_ERRS),
                    err_names[k < 6 ? k : 0], (unsigned long long)mpt_ld(w, me + S_EID),
                    (unsigned long long)mpt_ld(w, me + S_ESEQ));
            failed = 1;
        }
    }
    for (int id = 0; id < P; id++)
        if (mpt_ld(w, W_PROD + (size_t)id)) {
            fprintf(stderr, "%s: producer %d: put gave %s\n", label, id,
                    mp_error_name(-(int)mpt_ld(w, W_PROD + (size_t)id)));
            failed = 1;
        }
    /* Exactly once: each bit set in exactly one consumer's bitmap. */
    const unsigned char *b = mp_array_data(bits);
    uint64_t missing = 0, twice = 0;
    for (int id = 0; id < P; id++)
        for (uint64_t seq = 0; seq < n; seq++) {
            int cnt = 0;
            for (int s = 0; s < C; s++)
                cnt += (b[((size_t)s * P + (size_t)id) * row + seq / 8] >> (seq % 8)) & 1;
            if (cnt == 0 && missing++ < 5)
                fprintf(stderr, "%s: message (%d, %llu) never received\n", label, id,
                        (unsigned long long)seq);
            if (cnt > 1 && twice++ < 5)
                fprintf(stderr, "%s: message (%d, %llu) received %d times\n", label, id,
                        (unsigned long long)seq, cnt);
        }
    if (missing || twice || got != P * n) {
        fprintf(stderr, "%s: %llu received of %llu; %llu missing, %llu more than once\n",
                label, (unsigned long long)got, (unsigned long long)(P * n),
                (unsigned long long)missing, (unsigned long long)twice);
        failed = 1;
    }
    void *d = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL(mp_queue_qsize(q), 0);
    MPT_EQ(mp_queue_get_bytes_nowait(q, &d, &len), MP_EEMPTY);
    mp_queue_free(q);
    mp_array_free(w);
    mp_array_free(bits);
    mpt_watchdog_stop();
    CU_ASSERT_EQUAL(mpt_leaks_since(&mark, label), 0);
    printf("\n%s: %llu producers (2 threads of one child, 1 child, 1 parent thread) x "
           "%llu messages, %d consumers (2 children, 2 parent threads), %s queue, ring "
           "1 MiB: %llu delivered exactly once, in order per producer, %.1f MiB, %.1f s "
           "(%.0f messages/s)%s\n",
           label, (unsigned long long)P, (unsigned long long)n, C,
           maxsize ? "bounded (4096)" : "unbounded", (unsigned long long)got,
           (double)bytes / 1048576.0, secs, (double)got / (secs > 0 ? secs : 1),
           failed ? " - FAILED" : "");
    fflush(stdout);
    CU_ASSERT_EQUAL(failed, 0);
}
MPT_DEFINE_BOTH(mixed)

void mpt_suite_queue_stress(void)
{
    MPT_BOTH("queue/stress", mixed);
}
