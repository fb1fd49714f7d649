/* sync/fault.c - processes killed while they hold a Value's, an
 * Array's or a Queue's lock: the next locker learns of it within a
 * bounded time (a generous 30 s, never a hang) and can repair what the
 * dead one left half-done.
 *
 * holders_killed: workers update an Array (every element to the same new
 * number, element by element, so a kill mid-update leaves it torn) and a
 * Value (set to odd, then to the next even number) under their locks, and
 * are killed at random moments, mostly while holding a lock. Rules:
 * a lock call that returns 0 finds the data whole; a torn update is only
 * ever found with MP_EOWNERDEAD, and then repaired; every worker killed
 * while it held a lock is reported by one MP_EOWNERDEAD (to a worker or to
 * the parent, who locks right after the kill), and no report comes
 * without a death. The count works even when the reporter itself is then
 * killed before counting: a worker counts a takeover before it marks
 * itself a holder, so a death counted as "holding" always had its own
 * takeover counted, and a takeover lost with its reporter belongs to a
 * death that was not counted as "holding".
 *
 * dead_holder_*: the peers' reported failures, one by one: a child holds
 * the lock (of a Value, an Array, a Queue's consumers or producers)
 * forever; another child waits for it; the holder is killed; the waiter
 * must go on (MP_EOWNERDEAD, or its message) within 30 s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/queue/testview.h"
#include "fault.h"
#include "leakcheck.h"
#include "test.h"

/* 2 MiB: an update takes long enough (a few hundred microseconds) for
 * kills to land inside it. */
enum { WORKERS = 3, ELEMS = 1 << 18 };

/* Shared words. */
enum {
    W_STOP,
    W_PPID,
    W_SLOT = 4, /* + slot * SW */
    SW = 8,
    S_PID = 0,      /* the slot's worker, once running */
    S_HOLDS = 1,    /* HOLDS_ARRAY / HOLDS_VALUE while holding that lock */
    S_OD_ARRAY = 2, /* MP_EOWNERDEAD from the Array's lock */
    S_OD_VALUE = 3,
    S_REPAIRS = 4, /* torn data found (after MP_EOWNERDEAD) and repaired */
    S_ERRS = 5,
    S_EKIND = 6, /* the first error */
    S_UPDATES = 7,
    W_COUNT = W_SLOT + WORKERS * SW
};
enum { HOLDS_ARRAY = 1, HOLDS_VALUE = 2 };
enum { E_LOCK_A = 1, E_LOCK_V, E_TORN_A, E_TORN_V, E_CALL };
static const char *const err_names[] = {"?",
                                        "Array lock: no answer within 30 s / error",
                                        "Value lock: no answer within 30 s / error",
                                        "Array torn under a healthy lock",
                                        "Value half-updated under a healthy lock",
                                        "a get/set/unlock failed"};

static void worker_error(mp_array *w, size_t me, uint64_t kind)
{
    if (mpt_ld(w, me + S_ERRS) == 0) mpt_st(w, me + S_EKIND, kind);
    mpt_inc(w, me + S_ERRS);
}

/* 1 if all elements are equal. */
static int whole(const long long *x)
{
    for (size_t i = 1; i < ELEMS; i++)
        if (x[i] != x[0]) return 0;
    return 1;
}

static void array_update(mp_array *a, mp_array *w, size_t me)
{
    void *data = NULL;
    int rc = mp_array_lock_timeout(a, &data, 30.0);
    if (rc != 0 && rc != MP_EOWNERDEAD) {
        worker_error(w, me, E_LOCK_A);
        return;
    }
    /* The takeover is counted before this worker marks itself a holder
     * (see the top of the file). */
    if (rc == MP_EOWNERDEAD) mpt_inc(w, me + S_OD_ARRAY);
    mpt_st(w, me + S_HOLDS, HOLDS_ARRAY);
    long long *x = data;
    if (!whole(x)) {
        if (rc == MP_EOWNERDEAD)
            mpt_inc(w, me + S_REPAIRS);
        else
            worker_error(w, me, E_TORN_A);
    }
    /* Element by element, through a volatile pointer, so that the update
     * takes a while and a kill can land in the middle of it. */
    volatile long long *vx = x;
    long long g = x[0] + 1;
    for (size_t i = 0; i < ELEMS; i++)
        vx[i] = g;
    mpt_st(w, me + S_HOLDS, 0);
    if (mp_array_unlock(a) != 0) worker_error(w, me, E_CALL);
}

static void value_update(mp_value *v, mp_array *w, size_t me)
{
    int rc = mp_value_lock_timeout(v, 30.0);
    if (rc != 0 && rc != MP_EOWNERDEAD) {
        worker_error(w, me, E_LOCK_V);
        return;
    }
    if (rc == MP_EOWNERDEAD) mpt_inc(w, me + S_OD_VALUE);
    mpt_st(w, me + S_HOLDS, HOLDS_VALUE);
    int64_t x = 0;
    if (mp_value_get_int(v, &x) != 0) worker_error(w, me, E_CALL);
    if (x & 1) {
        if (rc == MP_EOWNERDEAD)
            mpt_inc(w, me + S_REPAIRS);
        else
            worker_error(w, me, E_TORN_V);
        x++;
    }
    /* Odd while the update is under way; the gets between are the
     * recursive path of the lock, and time for a kill. */
    if (mp_value_set_int(v, x + 1) != 0) worker_error(w, me, E_CALL);
    int64_t y;
    for (int i = 0; i < 20000; i++)
        mp_value_get_int(v, &y);
    if (mp_value_set_int(v, x + 2) != 0) worker_error(w, me, E_CALL);
    mpt_st(w, me + S_HOLDS, 0);
    if (mp_value_unlock(v) != 0) worker_error(w, me, E_CALL);
}

/* args: array, value, words, slot, seed */
static int t_worker(const mp_args *args)
{
    mp_array *a = mp_args_array(args, 0);
    mp_value *v = mp_args_value(args, 1);
    mp_array *w = mp_args_array(args, 2);
    int64_t slot, seed;
    MPT_CHILD_CHECK(a && v && w);
    MPT_CHILD_CHECK(mp_args_get_int(args, 3, &slot) == 0 && slot >= 0 && slot < WORKERS);
    MPT_CHILD_CHECK(mp_args_get_int(args, 4, &seed) == 0);
    size_t me = W_SLOT + (size_t)slot * SW;
    mpt_rng r = {(uint64_t)seed};
    mpt_st(w, me + S_PID, mp_os_getpid());
    while (!mpt_ld(w, W_STOP) && mpt_parent_alive((int64_t)mpt_ld(w, W_PPID))) {
        if (mpt_below(&r, 2))
            array_update(a, w, me);
        else
            value_update(v, w, me);
        mpt_inc(w, me + S_UPDATES);
        mpt_sleep_us(mpt_below(&r, 100)); /* let the others have the locks */
    }
    return 0;
}

struct lock_totals {
    uint64_t kills, held_array, held_value, od_workers, od_parent, repairs, updates;
    uint64_t worst_ns;
};

struct lock_round {
    mp_array *a, *w;
    mp_value *v;
    mp_process *p[WORKERS];
    mpt_rng *rng;
    mp_start_method method;
    int failed;
};

static void start_worker(struct lock_round *r, int slot)
{
    size_t me = W_SLOT + (size_t)slot * SW;
    mpt_st(r->w, me + S_PID, 0);
    mpt_st(r->w, me + S_HOLDS, 0);
    r->p[slot] =
        mpt_start(t_worker, mp_args_of(r->a, r->v, r->w, slot, (int64_t)mpt_next(r->rng)),
                  r->method);
}

/* Locks one of the two as the parent, right after a holder was killed or
 * at the end: 0 or MP_EOWNERDEAD within 30 s, and whole data or a
 * repair. Returns 1 if it took the lock over. */
static int parent_check(struct lock_round *r, int array, struct lock_totals *t)
{
    uint64_t t0 = mp_os_now_ns();
    void *data = NULL;
    int rc = array ? mp_array_lock_timeout(r->a, &data, 30.0)
                   : mp_value_lock_timeout(r->v, 30.0);
    uint64_t took = mp_os_now_ns() - t0;
    if (took > t->worst_ns) t->worst_ns = took;
    if (rc != 0 && rc != MP_EOWNERDEAD) {
        fprintf(stderr, "fault_locks: the parent's %s lock gave %s after %.1f s\n",
                array ? "Array" : "Value", mp_error_name(rc), (double)took / 1e9);
        r->failed = 1;
        return 0;
    }
    if (array) {
        long long *x = data;
        if (!whole(x)) {
            if (rc != MP_EOWNERDEAD) {
                fprintf(stderr, "fault_locks: the Array is torn under a healthy lock\n");
                r->failed = 1;
            }
            for (size_t i = 1; i < ELEMS; i++)
                x[i] = x[0];
            t->repairs++;
        }
        MPT_OK(mp_array_unlock(r->a));
    } else {
        int64_t x = 0;
        MPT_OK(mp_value_get_int(r->v, &x));
        if (x & 1) {
            if (rc != MP_EOWNERDEAD) {
                fprintf(stderr, "fault_locks: the Value is half-updated under a healthy "
                                "lock\n");
                r->failed = 1;
            }
            MPT_OK(mp_value_set_int(r->v, x + 1));
            t->repairs++;
        }
        MPT_OK(mp_value_unlock(r->v));
    }
    return rc == MP_EOWNERDEAD;
}

static void kill_all_workers(void *arg)
{
    struct lock_round *r = arg;
    for (int i = 0; i < WORKERS; i++)
        if (r->p[i]) mp_process_kill(r->p[i]);
}

static int lock_round(struct lock_round *r, int nkills, struct lock_totals *t,
                      const char *label)
{
    static mpt_leak_mark mark;
    mpt_leak_mark_now(&mark);
    MPT_OK(mp_array_new(&r->a, 'q', ELEMS));
    MPT_OK(mp_value_new(&r->v, 'q'));
    MPT_OK(mpt_words_new(&r->w, W_COUNT));
    mpt_st(r->w, W_PPID, mp_os_getpid());
    mpt_watchdog_arm(300, "fault_locks: the kills of a round");
    for (int i = 0; i < WORKERS; i++)
        start_worker(r, i);
    uint64_t held_array = 0, held_value = 0, od_parent = 0, deaths = 0;
    for (int k = 0; k < nkills; k++) {
        int slot = (int)mpt_below(r->rng, WORKERS);
        size_t me = W_SLOT + (size_t)slot * SW;
        uint64_t pid = (uint64_t)mp_process_pid(r->p[slot]);
        uint64_t deadline = mp_os_now_ns() + 60000000000ull;
        while (mpt_ld(r->w, me + S_PID) != pid && mp_os_now_ns() < deadline)
            mp_os_sleep_ns(20000);
        if (mpt_below(r->rng, 4)) {
            /* Mostly while it holds a lock, at a random point of the update
             * (spinning: a sleep is longer than the update). */
            deadline = mp_os_now_ns() + 500000000ull;
            while (!mpt_ld(r->w, me + S_HOLDS) && mp_os_now_ns() < deadline)
                ;
            uint64_t until = mp_os_now_ns() + mpt_below(r->rng, 100000);
            while (mp_os_now_ns() < until)
                ;
        } else {
            mpt_sleep_us(mpt_below(r->rng, 2001));
        }
        MPT_OK(mp_process_kill(r->p[slot]));
        int code = mpt_join(r->p[slot]);
        r->p[slot] = NULL;
        if (code != -9) {
            fprintf(stderr, "fault_locks: a killed worker ended with %d\n", code);
            r->failed = 1;
        }
        deaths++;
        uint64_t holds = mpt_ld(r->w, me + S_HOLDS);
        held_array += holds == HOLDS_ARRAY;
        held_value += holds == HOLDS_VALUE;
        /* The next locker learns of it within a bounded time: the parent
         * locks at once (a worker may get there first, then the parent
         * simply finds the lock healthy and the data whole). */
        if (holds) od_parent += (uint64_t)parent_check(r, holds == HOLDS_ARRAY, t);
        start_worker(r, slot);
    }
    mpt_watchdog_arm(3 * MPT_JOIN_TIMEOUT, "fault_locks: stopping the workers");
    mpt_st(r->w, W_STOP, 1);
    for (int i = 0; i < WORKERS; i++) {
        int code = mpt_join(r->p[i]);
        r->p[i] = NULL;
        if (code != 0) {
            fprintf(stderr, "fault_locks: worker %d exited with %d\n", i, code);
            r->failed = 1;
        }
    }
    mpt_watchdog_arm(300, "fault_locks: checking a round");
    /* The last kill's lock may still be the dead holder's. */
    od_parent += (uint64_t)parent_check(r, 1, t);
    od_parent += (uint64_t)parent_check(r, 0, t);
    /* And now both are healthy. */
    MPT_OK(mp_array_lock_timeout(r->a, NULL, 0));
    MPT_OK(mp_array_unlock(r->a));
    MPT_OK(mp_value_lock_timeout(r->v, 0));
    MPT_OK(mp_value_unlock(r->v));

    uint64_t od_workers = 0;
    for (int i = 0; i < WORKERS; i++) {
        size_t me = W_SLOT + (size_t)i * SW;
        od_workers += mpt_ld(r->w, me + S_OD_ARRAY) + mpt_ld(r->w, me + S_OD_VALUE);
        t->repairs += mpt_ld(r->w, me + S_REPAIRS);
        t->updates += mpt_ld(r->w, me + S_UPDATES);
        if (mpt_ld(r->w, me + S_ERRS)) {
            uint64_t k = mpt_ld(r->w, me + S_EKIND);
            fprintf(stderr, "fault_locks: worker slot %d: %llu error(s), the first: %s\n",
                    i, (unsigned long long)mpt_ld(r->w, me + S_ERRS),
                    err_names[k < 6 ? k : 0]);
            r->failed = 1;
        }
    }
    uint64_t od = od_workers + od_parent;
    if (od < held_array + held_value || od > deaths) {
        fprintf(stderr,
                "fault_locks: %llu takeovers reported (MP_EOWNERDEAD) for %llu deaths, "
                "%llu of them holding a lock\n",
                (unsigned long long)od, (unsigned long long)deaths,
                (unsigned long long)(held_array + held_value));
        r->failed = 1;
    }
    t->kills += deaths;
    t->held_array += held_array;
    t->held_value += held_value;
    t->od_workers += od_workers;
    t->od_parent += od_parent;
    mp_array_free(r->a);
    mp_value_free(r->v);
    mp_array_free(r->w);
    if (mpt_leaks_since(&mark, label)) r->failed = 1;
    mpt_watchdog_arm(0, "");
    return !r->failed;
}

static void holders_killed(mp_start_method m)
{
    const char *label = m == MP_START_FORK ? "fault_locks/holders_killed_fork"
                                           : "fault_locks/holders_killed_spawn";
    uint64_t seed = mpt_test_seed(label), total = mpt_fault_kills(100, 8);
    mpt_rounds s;
    mpt_rounds_init(&s, seed, total);
    struct lock_totals t;
    memset(&t, 0, sizeof t);
    static struct lock_round r;
    mpt_watchdog_start(kill_all_workers, &r);
    uint64_t t0 = mp_os_now_ns();
    int failed = 0;
    while (mpt_round_next(&s, 5, 11)) {
        int n = s.kills;
        memset(&r, 0, sizeof r);
        r.rng = &s.rng;
        r.method = m;
        if (!lock_round(&r, n, &t, label)) {
            fprintf(stderr,
                    "fault_locks: %s: round %d (%d kills) failed; to repeat it: "
                    "MPT_SEED=%#llx MPT_FAULT_KILLS=%llu MPT_FAULT_ROUND=%d mproc_tests "
                    "sync/fault %s\n",
                    label, s.index, n, (unsigned long long)mpt_base_seed(),
                    (unsigned long long)total, s.index,
                    m == MP_START_FORK ? "holders_killed_fork" : "holders_killed_spawn");
            failed++;
        }
    }
    mpt_watchdog_stop();
    printf("\n%s: seed %#llx: %llu kills in %d rounds, %.1f s: %llu holding the Array's "
           "lock, %llu the Value's, %llu elsewhere; %llu takeovers reported "
           "(MP_EOWNERDEAD: %llu to workers, %llu to the parent), %llu torn updates "
           "repaired, %llu updates; slowest lock after a kill %.3f s\n",
           label, (unsigned long long)seed, (unsigned long long)t.kills, s.count,
           (double)(mp_os_now_ns() - t0) / 1e9, (unsigned long long)t.held_array,
           (unsigned long long)t.held_value,
           (unsigned long long)(t.kills - t.held_array - t.held_value),
           (unsigned long long)(t.od_workers + t.od_parent),
           (unsigned long long)t.od_workers, (unsigned long long)t.od_parent,
           (unsigned long long)t.repairs, (unsigned long long)t.updates,
           (double)t.worst_ns / 1e9);
    if (failed) printf("  %d of %d rounds FAILED (see above)\n", failed, s.count);
    fflush(stdout);
    CU_ASSERT_EQUAL(failed, 0);
}
MPT_DEFINE_BOTH(holders_killed)

/* ---- one holder, one waiter ---------------------------------------------------- */

enum { D_READY, D_WAITING, D_RC, D_NS, D_PPID, D_COUNT };

/* Holds the lock of argument 0 (kind 0: Value, 1: Array, 2: Queue get on
 * an empty queue, 3: Queue put of a message larger than the ring that no
 * one reads) until killed. */
static int t_holder(const mp_args *args)
{
    mp_array *w = mp_args_array(args, 1);
    int64_t kind;
    MPT_CHILD_CHECK(w && mp_args_get_int(args, 2, &kind) == 0);
    int rc = 0;
    if (kind == 0) {
        rc = mp_value_lock(mp_args_value(args, 0));
    } else if (kind == 1) {
        rc = mp_array_lock(mp_args_array(args, 0), NULL);
    } else if (kind == 2) {
        /* get holds the consumers' lock while it waits for a message. */
        mpt_st(w, D_READY, 1);
        void *d;
        size_t n;
        mp_queue_get_bytes(mp_args_queue(args, 0), &d, &n, MP_FOREVER);
        return 1; /* nothing was ever put: not reached */
    } else {
        /* 1 MiB through a 4 KiB ring nobody reads: the producers' lock
         * stays with this put (or its feeder) for good. */
        size_t n = (size_t)1 << 20;
        unsigned char *b = malloc(n);
        MPT_CHILD_CHECK(b != NULL);
        mpt_msg_make(b, n, 1, 0);
        mpt_st(w, D_READY, 1);
        mp_queue_put_bytes(mp_args_queue(args, 0), b, n, MP_FOREVER);
        free(b);
        while (mpt_parent_alive((int64_t)mpt_ld(w, D_PPID)))
            mp_os_sleep_ns(10000000);
        return 1;
    }
    MPT_CHILD_CHECK(rc == 0);
    mpt_st(w, D_READY, 1);
    while (mpt_parent_alive((int64_t)mpt_ld(w, D_PPID)))
        mp_os_sleep_ns(10000000);
    return 1;
}

/* Waits for the lock the holder has (or for a message past it) and
 * records what it got and how long it took. */
static int t_waiter(const mp_args *args)
{
    mp_array *w = mp_args_array(args, 1);
    int64_t kind;
    MPT_CHILD_CHECK(w && mp_args_get_int(args, 2, &kind) == 0);
    mpt_st(w, D_WAITING, 1);
    uint64_t t0 = mp_os_now_ns();
    int rc;
    if (kind == 0) {
        mp_value *v = mp_args_value(args, 0);
        rc = mp_value_lock_timeout(v, 30.0);
        if (rc == MP_EOWNERDEAD || rc == 0) mp_value_unlock(v);
    } else if (kind == 1) {
        mp_array *a = mp_args_array(args, 0);
        rc = mp_array_lock_timeout(a, NULL, 30.0);
        if (rc == MP_EOWNERDEAD || rc == 0) mp_array_unlock(a);
    } else if (kind == 2) {
        unsigned char buf[64];
        size_t n = 0;
        uint32_t id, seq;
        rc = mp_queue_get_bytes_into(mp_args_queue(args, 0), buf, sizeof buf, &n, 30.0);
        if (rc == 0 && (mpt_msg_check(buf, n, &id, &seq) != 0 || id != 2)) rc = MP_EPROTO;
    } else {
        unsigned char buf[64];
        mpt_msg_make(buf, sizeof buf, 2, 0);
        rc = mp_queue_put_bytes(mp_args_queue(args, 0), buf, sizeof buf, 30.0);
    }
    mpt_st(w, D_NS, mp_os_now_ns() - t0);
    mpt_st(w, D_RC, (uint64_t)(int64_t)rc);
    return 0;
}

static void dead_holder(mp_start_method m, int kind)
{
    static const char *const what[] = {"Value", "Array", "Queue (consumers)",
                                       "Queue (producers)"};
    mp_value *v = NULL;
    mp_array *a = NULL, *w;
    mp_queue *q = NULL;
    MPT_OK(mpt_words_new(&w, D_COUNT));
    mpt_st(w, D_PPID, mp_os_getpid());
    mp_arg obj;
    if (kind == 0) {
        MPT_OK(mp_value_new(&v, 'i'));
        obj = mp_arg(v);
    } else if (kind == 1) {
        MPT_OK(mp_array_new(&a, 'i', 100));
        obj = mp_arg(a);
    } else {
        /* Bounded for the producers' case, so that the waiting put takes
         * the producers' lock itself rather than leave it to a feeder. */
        MPT_OK(mp_queue_new_sized(&q, kind == 3 ? 4 : 0, 4096));
        obj = mp_arg(q);
    }
    /* From here on nothing is fatal: whatever fails, both children are
     * ended and joined, so a failure leaves nothing behind. */
    mp_process *h = mpt_start(t_holder, mp_args_of(obj, w, kind), m);
    CU_ASSERT(mpt_wait_word(w, D_READY, MPT_JOIN_TIMEOUT));
    if (kind == 3) { /* wait until the stream has begun */
        uint64_t deadline = mp_os_now_ns() + 60000000000ull;
        while (mp__queue_ring_used(q) == 0 && mp_os_now_ns() < deadline)
            mp_os_sleep_ns(1000000);
    }
    mp_process *wt = mpt_start(t_waiter, mp_args_of(obj, w, kind), m);
    CU_ASSERT(mpt_wait_word(w, D_WAITING, MPT_JOIN_TIMEOUT));
    MPT_OK(mp_process_kill(h));
    CU_ASSERT_EQUAL(mpt_join(h), -9);
    unsigned char buf[64];
    size_t n = 0;
    uint32_t id = 0, seq;
    if (kind == 2) {
        mpt_msg_make(buf, sizeof buf, 2, 0);
        MPT_OK(mp_queue_put_bytes(q, buf, sizeof buf, 0));
    }
    int drop = 0, after = 0;
    if (kind == 3) {
        /* The dead producer's record is dropped (reported once), then the
         * waiter's message arrives. Read while the waiter runs: the rest of
         * the dead one's record needs a reader to pass through the ring. */
        void *d = NULL;
        drop = mp_queue_get_bytes(q, &d, &n, MPT_JOIN_TIMEOUT);
        mp_free(d);
        d = NULL;
        after = mp_queue_get_bytes(q, &d, &n, MPT_JOIN_TIMEOUT);
        if (after == 0 && (mpt_msg_check(d, n, &id, &seq) != 0 || id != 2))
            after = MP_EPROTO;
        mp_free(d);
    }
    /* The waiter's own limit is 30 s; the join's is longer, so that a
     * waiter that hangs past its timeout fails here, not at ctest's. */
    int code = -1000;
    if (mp_process_join(wt, MPT_JOIN_TIMEOUT) == MP_ETIMEDOUT) {
        fprintf(stderr, "fault_locks: the %s waiter hangs\n", what[kind]);
        mp_process_kill(wt);
        mp_process_join(wt, MPT_JOIN_TIMEOUT);
    }
    mp_process_exitcode(wt, &code);
    MPT_OK(mp_process_free(wt));
    CU_ASSERT_EQUAL(code, 0);
    int rc = (int)(int64_t)mpt_ld(w, D_RC);
    double secs = (double)mpt_ld(w, D_NS) / 1e9;
    int want = kind < 2 ? MP_EOWNERDEAD : 0;
    if (rc != want)
        fprintf(stderr, "fault_locks: the %s waiter got %s, wanted %s\n", what[kind],
                mp_error_name(rc), mp_error_name(want));
    CU_ASSERT_EQUAL(rc, want);
    if (kind == 3) {
        if (drop != MP_EOWNERDEAD || after != 0)
            fprintf(stderr,
                    "fault_locks: after the producer died mid-message, get gave %s "
                    "(wanted MP_EOWNERDEAD), then %s (wanted the waiter's message)\n",
                    mp_error_name(drop), mp_error_name(after));
        CU_ASSERT_EQUAL(drop, MP_EOWNERDEAD);
        CU_ASSERT_EQUAL(after, 0);
    }
    if (q) {
        if (kind == 2 && rc != 0) { /* the waiter did not take it */
            void *d = NULL;
            mp_queue_get_bytes(q, &d, &n, 0);
            mp_free(d);
        }
        CU_ASSERT_EQUAL(mp_queue_qsize(q), 0);
    }
    printf("\nfault_locks: %s lock holder killed; the waiter went on after %.3f s (%s)\n",
           what[kind], secs, mp_error_name(rc));
    fflush(stdout);
    mp_value_free(v);
    mp_array_free(a);
    mp_queue_free(q);
    mp_array_free(w);
}

static void dead_holder_value(mp_start_method m)
{
    dead_holder(m, 0);
}
MPT_DEFINE_BOTH(dead_holder_value)
static void dead_holder_array(mp_start_method m)
{
    dead_holder(m, 1);
}
MPT_DEFINE_BOTH(dead_holder_array)
static void dead_holder_queue_get(mp_start_method m)
{
    dead_holder(m, 2);
}
MPT_DEFINE_BOTH(dead_holder_queue_get)
static void dead_holder_queue_put(mp_start_method m)
{
    dead_holder(m, 3);
}
MPT_DEFINE_BOTH(dead_holder_queue_put)

void mpt_suite_sync_fault(void)
{
    MPT_BOTH("sync/fault", holders_killed);
    MPT_BOTH("sync/fault", dead_holder_value);
    MPT_BOTH("sync/fault", dead_holder_array);
    MPT_BOTH("sync/fault", dead_holder_queue_get);
    MPT_BOTH("sync/fault", dead_holder_queue_put);
}
