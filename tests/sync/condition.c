/* sync/condition.c - Condition (mproc/synchronize.h) over a Lock and an
 * RLock, across threads and real processes, under spawn and fork, with
 * the faults beside it: a waiter killed before and after it was notified
 * never makes notify block and is never counted as woken (cpython
 * gh-123899). Each CPython case ported says which one it mirrors
 * (Lib/test/_test_multiprocessing.py, _TestCondition). */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "stage.h"

/* Registers as a waiter (counts itself in `sleeping` under the
 * condition's lock), waits, and counts itself in `woken` if notified.
 * arg 3: the timeout. */
static int t_waiter(const mp_args *args)
{
    mp_condition *c = mp_args_condition(args, 0);
    mp_value *sleeping = mp_args_value(args, 1);
    mp_value *woken = mp_args_value(args, 2);
    double timeout = -1;
    MPT_CHILD_CHECK(c && sleeping && woken && mp_args_get_double(args, 3, &timeout) == 0);
    MPT_CHILD_CHECK(mp_condition_acquire(c, MP_FOREVER) == 0);
    int64_t n = 0;
    MPT_CHILD_CHECK(mp_value_get_int(sleeping, &n) == 0 &&
                    mp_value_set_int(sleeping, n + 1) == 0);
    int rc = mp_condition_wait(c, timeout);
    MPT_CHILD_CHECK(rc == 0 || rc == MP_ETIMEDOUT);
    if (rc == 0) {
        MPT_CHILD_CHECK(mp_value_get_int(woken, &n) == 0 &&
                        mp_value_set_int(woken, n + 1) == 0);
    }
    MPT_CHILD_CHECK(mp_condition_release(c) == 0);
    return 0;
}

static int64_t read_int(mp_value *v)
{
    int64_t n = -1;
    MPT_OK(mp_value_get_int(v, &n));
    return n;
}

/* Waits until `woken` reaches n, or a generous while: the count seen. */
static int64_t wait_woken(mp_value *woken, int64_t n)
{
    mpt_stage_wait(woken, n);
    return read_int(woken);
}

enum { WAITERS = 3 };

/* Mirrors _TestCondition.test_notify: waiters in processes (and a
 * thread), each notify wakes exactly one of them. */
static void notify_one_by_one(mp_start_method m, int recursive)
{
    mp_condition *c;
    mp_lock *l = NULL;
    if (recursive) {
        MPT_OK(mp_condition_new(&c));
    } else {
        MPT_OK(mp_lock_new(&l));
        MPT_OK(mp_condition_new_lock(&c, l));
    }
    mp_value *sleeping, *woken;
    MPT_OK(mp_value_new_raw(&sleeping, 'i'));
    MPT_OK(mp_value_new_raw(&woken, 'i'));
    mp_process *p[WAITERS];
    for (int i = 0; i < WAITERS; i++)
        p[i] = mpt_start(t_waiter, mp_args_of(c, sleeping, woken, -1.0), m);
    CU_ASSERT_FATAL(mpt_stage_wait(sleeping, WAITERS));
    /* every one counted itself under the lock and is waiting once the
     * lock is free: taking it here proves that */
    MPT_OK(mp_condition_acquire(c, MP_FOREVER));
    CU_ASSERT_EQUAL(read_int(woken), 0);
    for (int i = 1; i <= WAITERS; i++) {
        MPT_OK(mp_condition_notify(c, 1));
        MPT_OK(mp_condition_release(c));
        CU_ASSERT_EQUAL(wait_woken(woken, i), i);
        mpt_sleep_ms(20); /* no second one wakes from one notify */
        CU_ASSERT_EQUAL(read_int(woken), i);
        MPT_OK(mp_condition_acquire(c, MP_FOREVER));
    }
    MPT_OK(mp_condition_release(c));
    for (int i = 0; i < WAITERS; i++)
        CU_ASSERT_EQUAL(mpt_join(p[i]), 0);
    mp_value_free(sleeping);
    mp_value_free(woken);
    mp_condition_free(c);
    mp_lock_free(l);
}

static void notify_lock(mp_start_method m)
{
    notify_one_by_one(m, 0);
}
MPT_DEFINE_BOTH(notify_lock)

static void notify_rlock(mp_start_method m)
{
    notify_one_by_one(m, 1);
}
MPT_DEFINE_BOTH(notify_rlock)

/* Mirrors _TestCondition.test_notify_all and test_notify_n: notify(2)
 * wakes two, notify_all the rest; waiters with a timeout that passes
 * are not woken. */
static void notify_n_and_all(mp_start_method m)
{
    mp_condition *c;
    mp_value *sleeping, *woken;
    MPT_OK(mp_condition_new(&c));
    MPT_OK(mp_value_new_raw(&sleeping, 'i'));
    MPT_OK(mp_value_new_raw(&woken, 'i'));
    enum { N = 4 };
    mp_process *p[N];
    for (int i = 0; i < N; i++)
        p[i] = mpt_start(t_waiter, mp_args_of(c, sleeping, woken, -1.0), m);
    CU_ASSERT_FATAL(mpt_stage_wait(sleeping, N));
    MPT_OK(mp_condition_acquire(c, MP_FOREVER));
    MPT_OK(mp_condition_notify(c, 2));
    MPT_OK(mp_condition_release(c));
    CU_ASSERT_EQUAL(wait_woken(woken, 2), 2);
    mpt_sleep_ms(20);
    CU_ASSERT_EQUAL(read_int(woken), 2);
    MPT_OK(mp_condition_acquire(c, MP_FOREVER));
    MPT_OK(mp_condition_notify_all(c));
    MPT_OK(mp_condition_release(c));
    CU_ASSERT_EQUAL(wait_woken(woken, N), N);
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(mpt_join(p[i]), 0);
    /* with nobody waiting, notify is a no-op */
    MPT_OK(mp_condition_acquire(c, MP_FOREVER));
    MPT_OK(mp_condition_notify_all(c));
    MPT_OK(mp_condition_notify(c, 5));
    MPT_OK(mp_condition_release(c));
    mp_value_free(sleeping);
    mp_value_free(woken);
    mp_condition_free(c);
}
MPT_DEFINE_BOTH(notify_n_and_all)

/* Mirrors _TestCondition.test_timeout: a wait nobody notifies returns
 * MP_ETIMEDOUT after at least its timeout, holding the lock again. */
static void wait_timeout(void)
{
    mp_condition *c;
    MPT_OK(mp_condition_new(&c));
    MPT_OK(mp_condition_acquire(c, MP_FOREVER));
    MPT_OK(mp_condition_acquire(c, MP_FOREVER)); /* depth 2, restored after */
    double t0 = mpt_now();
    MPT_EQ(mp_condition_wait(c, 0.1), MP_ETIMEDOUT);
    CU_ASSERT(mpt_now() - t0 >= 0.099);
    CU_ASSERT_EQUAL(mp_rlock_count(mp_condition_rlock(c)), 2);
    MPT_OK(mp_condition_release(c));
    MPT_OK(mp_condition_release(c));
    mp_condition_free(c);
}

/* ---- wait_for ---------------------------------------------------------------- */

static int at_least_three(void *arg)
{
    int64_t n = 0;
    return mp_value_get_int(arg, &n) == 0 && n >= 3 ? 1 : 0;
}

/* Counts up to 3, notifying after each step. */
static int t_count_up(const mp_args *args)
{
    mp_condition *c = mp_args_condition(args, 0);
    mp_value *state = mp_args_value(args, 1);
    MPT_CHILD_CHECK(c && state);
    for (int i = 0; i < 3; i++) {
        mpt_sleep_ms(10);
        MPT_CHILD_CHECK(mp_condition_acquire(c, MP_FOREVER) == 0);
        int64_t n = 0;
        MPT_CHILD_CHECK(mp_value_get_int(state, &n) == 0 &&
                        mp_value_set_int(state, n + 1) == 0);
        MPT_CHILD_CHECK(mp_condition_notify(c, 1) == 0);
        MPT_CHILD_CHECK(mp_condition_release(c) == 0);
    }
    return 0;
}

/* Mirrors _TestCondition.test_waitfor and test_waitfor_timeout: the
 * predicate's value comes back, true once the child made it so; false
 * after a timeout that passes. */
static void wait_for(mp_start_method m)
{
    mp_condition *c;
    mp_value *state;
    MPT_OK(mp_condition_new(&c));
    MPT_OK(mp_value_new_raw(&state, 'i'));
    MPT_OK(mp_condition_acquire(c, MP_FOREVER));
    CU_ASSERT_EQUAL(mp_condition_wait_for(c, at_least_three, state, 0.05), 0);
    mp_process *p = mpt_start(t_count_up, mp_args_of(c, state), m);
    CU_ASSERT_EQUAL(mp_condition_wait_for(c, at_least_three, state, MP_FOREVER), 1);
    CU_ASSERT_EQUAL(read_int(state), 3);
    MPT_OK(mp_condition_release(c));
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_value_free(state);
    mp_condition_free(c);
}
MPT_DEFINE_BOTH(wait_for)

/* ---- killed waiters --------------------------------------------------------- */

/* A waiter killed before it was notified: notify(1) is not spent on it
 * but wakes the live one; notify_all does not block. after: the killed
 * one was notified first (it took the notification; the next notify goes
 * to the live waiter). */
static void killed_waiter(mp_start_method m, int after)
{
    mp_condition *c;
    mp_value *sleeping, *woken;
    MPT_OK(mp_condition_new(&c));
    MPT_OK(mp_value_new_raw(&sleeping, 'i'));
    MPT_OK(mp_value_new_raw(&woken, 'i'));
    /* the one to kill first, so that it is the oldest waiter */
    mp_process *doomed = mpt_start(t_waiter, mp_args_of(c, sleeping, woken, -1.0), m);
    CU_ASSERT_FATAL(mpt_stage_wait(sleeping, 1));
    mp_process *live = mpt_start(t_waiter, mp_args_of(c, sleeping, woken, -1.0), m);
    CU_ASSERT_FATAL(mpt_stage_wait(sleeping, 2));
    MPT_OK(mp_condition_acquire(c, MP_FOREVER));
    if (after) MPT_OK(mp_condition_notify(c, 1)); /* to the oldest: doomed */
    /* killed while this process holds the lock: it cannot have run */
    MPT_OK(mp_process_kill(doomed));
    MPT_OK(mp_process_join(doomed, MPT_JOIN_TIMEOUT));
    MPT_OK(mp_condition_notify(c, 1));
    MPT_OK(mp_condition_release(c));
    CU_ASSERT_EQUAL(wait_woken(woken, 1), 1);
    CU_ASSERT_EQUAL(mpt_join(live), 0);
    MPT_OK(mp_process_free(doomed));
    /* nothing is left waiting: both notifies return at once */
    MPT_OK(mp_condition_acquire(c, MP_FOREVER));
    MPT_OK(mp_condition_notify_all(c));
    MPT_OK(mp_condition_notify(c, 1));
    MPT_OK(mp_condition_release(c));
    mp_value_free(sleeping);
    mp_value_free(woken);
    mp_condition_free(c);
}

static void killed_before_notify(mp_start_method m)
{
    killed_waiter(m, 0);
}
MPT_DEFINE_BOTH(killed_before_notify)

static void killed_after_notify(mp_start_method m)
{
    killed_waiter(m, 1);
}
MPT_DEFINE_BOTH(killed_after_notify)

/* ---- threads ------------------------------------------------------------------ */

typedef struct thread_wait {
    mp_condition *c;
    mp_atomic_u32 waiting; /* set under the lock, just before the wait */
    int rc;
} thread_wait;

static void thread_waiter(void *arg)
{
    thread_wait *w = arg;
    w->rc = mp_condition_acquire(w->c, MP_FOREVER);
    if (w->rc != 0) return;
    mp_store32(&w->waiting, 1, MP_SEQ_CST);
    w->rc = mp_condition_wait(w->c, MPT_JOIN_TIMEOUT);
    mp_condition_release(w->c);
}

/* Mirrors the thread variant of _TestCondition.test_notify: once the
 * thread said it waits, taking the lock proves it sleeps in the wait. */
static void threads(void)
{
    mp_condition *c;
    MPT_OK(mp_condition_new(&c));
    thread_wait w = {c, 0, 1};
    mp_os_thread *t;
    MPT_OK(mp_os_thread_start(&t, thread_waiter, &w));
    while (!mp_load32(&w.waiting, MP_SEQ_CST))
        mpt_sleep_ms(1);
    MPT_OK(mp_condition_acquire(c, MP_FOREVER));
    MPT_OK(mp_condition_notify(c, 1));
    MPT_OK(mp_condition_release(c));
    MPT_OK(mp_os_thread_join(t));
    CU_ASSERT_EQUAL(w.rc, 0);
    mp_condition_free(c);
}

/* ---- bad input -------------------------------------------------------------- */

static void misuse(void)
{
    mp_condition *c;
    MPT_EQ(mp_condition_new(NULL), MP_EINVAL);
    MPT_EQ(mp_condition_new_lock(&c, NULL), MP_EINVAL);
    CU_ASSERT_PTR_NULL(c);
    MPT_EQ(mp_condition_new_rlock(&c, NULL), MP_EINVAL);
    MPT_EQ(mp_condition_wait(NULL, 0), MP_EINVAL);
    MPT_EQ(mp_condition_notify(NULL, 1), MP_EINVAL);
    MPT_EQ(mp_condition_notify_all(NULL), MP_EINVAL);
    MPT_EQ(mp_condition_acquire(NULL, 0), MP_EINVAL);
    MPT_EQ(mp_condition_release(NULL), MP_EINVAL);
    mp_condition_free(NULL);
    mp_lock *l;
    MPT_OK(mp_lock_new(&l));
    MPT_OK(mp_condition_new_lock(&c, l));
    CU_ASSERT_PTR_EQUAL(mp_condition_lock(c), l);
    CU_ASSERT_PTR_NULL(mp_condition_rlock(c));
    /* without the lock: an error, and nothing waits */
    MPT_EQ(mp_condition_wait(c, 0), MP_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(mp_last_error(), "un-acquired"));
    MPT_EQ(mp_condition_notify(c, 1), MP_ESTATE);
    MPT_EQ(mp_condition_notify_all(c), MP_ESTATE);
    MPT_EQ(mp_condition_wait_for(c, at_least_three, NULL, 0), MP_ESTATE);
    MPT_OK(mp_condition_acquire(c, MP_FOREVER));
    MPT_EQ(mp_condition_wait(c, 0.0 / 0.0), MP_EINVAL);
    MPT_EQ(mp_condition_notify(c, -1), MP_EINVAL);
    MPT_EQ(mp_condition_wait_for(c, NULL, NULL, 0), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_lock_locked(l), 1); /* still held */
    MPT_OK(mp_condition_release(c));
    mp_condition_free(c);
    mp_lock_free(l);
}

/* A thread that does not hold the Lock (another thread does) cannot wait. */
static void not_held_by_this_thread(void *arg)
{
    mp_condition *c = arg;
    CU_ASSERT_EQUAL(mp_condition_wait(c, 0), MP_ESTATE);
    CU_ASSERT_EQUAL(mp_condition_notify(c, 1), MP_ESTATE);
}

static void other_thread_holds(void)
{
    mp_lock *l;
    mp_condition *c;
    MPT_OK(mp_lock_new(&l));
    MPT_OK(mp_condition_new_lock(&c, l));
    MPT_OK(mp_lock_acquire(l, MP_FOREVER));
    mp_os_thread *t;
    MPT_OK(mp_os_thread_start(&t, not_held_by_this_thread, c));
    MPT_OK(mp_os_thread_join(t));
    CU_ASSERT_EQUAL(mp_lock_locked(l), 1);
    MPT_OK(mp_lock_release(l));
    mp_condition_free(c);
    mp_lock_free(l);
}

void mpt_suite_sync_condition(void)
{
    const char *s = "sync/condition";
    MPT_BOTH(s, notify_lock);
    MPT_BOTH(s, notify_rlock);
    MPT_BOTH(s, notify_n_and_all);
    mpt_add(s, "wait_timeout", wait_timeout);
    MPT_BOTH(s, wait_for);
    MPT_BOTH(s, killed_before_notify);
    MPT_BOTH(s, killed_after_notify);
    mpt_add(s, "threads", threads);
    mpt_add(s, "misuse", misuse);
    mpt_add(s, "other_thread_holds", other_thread_holds);
}
