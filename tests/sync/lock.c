/* sync/lock.c - Lock and RLock (mproc/synchronize.h) across threads and
 * real processes, under spawn and fork, with the faults beside them: a
 * holder that dies, a waiter left behind by it, a release by the wrong
 * thread. Each CPython case ported says which one it mirrors
 * (Lib/test/_test_multiprocessing.py). */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "stage.h"

/* ---- Lock ----------------------------------------------------------------- */

/* Mirrors _TestLock.test_lock: acquire, a second acquire without
 * blocking fails, release, and a release too many is an error. */
static void lock_basic(void)
{
    mp_lock *l;
    MPT_OK(mp_lock_new(&l));
    CU_ASSERT_EQUAL(mp_lock_locked(l), 0);
    MPT_OK(mp_lock_acquire(l, MP_FOREVER));
    CU_ASSERT_EQUAL(mp_lock_locked(l), 1);
    MPT_EQ(mp_lock_acquire(l, 0), MP_ETIMEDOUT);
    MPT_OK(mp_lock_release(l));
    CU_ASSERT_EQUAL(mp_lock_locked(l), 0);
    MPT_EQ(mp_lock_release(l), MP_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(mp_last_error(), "released too many times"));
    /* the failed release changed nothing */
    MPT_OK(mp_lock_acquire(l, 0));
    MPT_OK(mp_lock_release(l));
    mp_lock_free(l);
}

/* A timed acquire of a held lock waits at least its timeout. */
static void lock_timeout(void)
{
    mp_lock *l;
    MPT_OK(mp_lock_new(&l));
    MPT_OK(mp_lock_acquire(l, MP_FOREVER));
    double t0 = mpt_now();
    MPT_EQ(mp_lock_acquire(l, 0.05), MP_ETIMEDOUT);
    CU_ASSERT(mpt_now() - t0 >= 0.049);
    MPT_OK(mp_lock_release(l));
    mp_lock_free(l);
}

/* The child finds the lock held by the parent, then releases it (any
 * process may, as in Python) and says so. */
static int t_lock_release_other(const mp_args *args)
{
    mp_lock *l = mp_args_lock(args, 0);
    mp_value *stage = mp_args_value(args, 1);
    MPT_CHILD_CHECK(l != NULL && stage != NULL);
    MPT_CHILD_CHECK(mp_lock_locked(l) == 1);
    MPT_CHILD_CHECK(mp_lock_acquire(l, 0) == MP_ETIMEDOUT);
    MPT_CHILD_CHECK(mp_lock_release(l) == 0);
    MPT_CHILD_CHECK(mpt_stage_set(stage, 1) == 0);
    /* and takes it, for the parent to wait on */
    MPT_CHILD_CHECK(mp_lock_acquire(l, MP_FOREVER) == 0);
    MPT_CHILD_CHECK(mpt_stage_set(stage, 2) == 0);
    MPT_CHILD_CHECK(mpt_stage_wait(stage, 3));
    MPT_CHILD_CHECK(mp_lock_release(l) == 0);
    return 0;
}

static void lock_across(mp_start_method m)
{
    mp_lock *l;
    mp_value *stage;
    MPT_OK(mp_lock_new(&l));
    MPT_OK(mp_value_new_raw(&stage, 'i'));
    MPT_OK(mp_lock_acquire(l, MP_FOREVER));
    mp_process *p = mpt_start(t_lock_release_other, mp_args_of(l, stage), m);
    CU_ASSERT_FATAL(mpt_stage_wait(stage, 2));
    CU_ASSERT_EQUAL(mp_lock_locked(l), 1);
    MPT_EQ(mp_lock_acquire(l, 0), MP_ETIMEDOUT);
    MPT_OK(mpt_stage_set(stage, 3));
    /* the child's release wakes this waiter */
    MPT_OK(mp_lock_acquire(l, MP_FOREVER));
    MPT_OK(mp_lock_release(l));
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_value_free(stage);
    mp_lock_free(l);
}
MPT_DEFINE_BOTH(lock_across)

/* ---- exclusion: a counter no lock-free code could keep exact --------------- */

enum { ROUNDS = 5000, THREADS = 2, CHILDREN = 2 };

typedef struct counting {
    mp_lock *l;
    mp_rlock *r;
    mp_value *counter; /* raw: only the lock under test guards it */
} counting;

static int count_rounds(const counting *c)
{
    for (int i = 0; i < ROUNDS; i++) {
        int64_t x;
        if (c->l && mp_lock_acquire(c->l, MP_FOREVER) != 0) return 1;
        /* the RLock twice, to count depth as well */
        if (c->r && (mp_rlock_acquire(c->r, MP_FOREVER) != 0 ||
                     mp_rlock_acquire(c->r, MP_FOREVER) != 0))
            return 1;
        if (mp_value_get_int(c->counter, &x) || mp_value_set_int(c->counter, x + 1))
            return 1;
        if (c->r && (mp_rlock_release(c->r) != 0 || mp_rlock_release(c->r) != 0))
            return 1;
        if (c->l && mp_lock_release(c->l) != 0) return 1;
    }
    return 0;
}

static void count_thread(void *arg)
{
    CU_ASSERT_EQUAL(count_rounds(arg), 0);
}

static int t_count(const mp_args *args)
{
    counting c = {mp_args_lock(args, 0), mp_args_rlock(args, 0), mp_args_value(args, 1)};
    MPT_CHILD_CHECK((c.l || c.r) && c.counter);
    MPT_CHILD_CHECK(count_rounds(&c) == 0);
    return 0;
}

static void exclusion(mp_start_method m, int recursive)
{
    counting c = {NULL, NULL, NULL};
    if (recursive)
        MPT_OK(mp_rlock_new(&c.r));
    else
        MPT_OK(mp_lock_new(&c.l));
    MPT_OK(mp_value_new_raw(&c.counter, 'q'));
    mp_arg lock_arg = recursive ? mp_arg(c.r) : mp_arg(c.l);
    mp_process *p[CHILDREN];
    mp_os_thread *t[THREADS];
    for (int i = 0; i < CHILDREN; i++)
        p[i] = mpt_start(t_count, mp_args_of(lock_arg, c.counter), m);
    for (int i = 0; i < THREADS; i++)
        MPT_OK(mp_os_thread_start(&t[i], count_thread, &c));
    CU_ASSERT_EQUAL(count_rounds(&c), 0);
    for (int i = 0; i < THREADS; i++)
        MPT_OK(mp_os_thread_join(t[i]));
    for (int i = 0; i < CHILDREN; i++)
        CU_ASSERT_EQUAL(mpt_join(p[i]), 0);
    int64_t total = 0;
    MPT_OK(mp_value_get_int(c.counter, &total));
    CU_ASSERT_EQUAL(total, (int64_t)ROUNDS * (1 + THREADS + CHILDREN));
    mp_value_free(c.counter);
    mp_lock_free(c.l);
    mp_rlock_free(c.r);
}

static void lock_exclusion(mp_start_method m)
{
    exclusion(m, 0);
}
MPT_DEFINE_BOTH(lock_exclusion)

static void rlock_exclusion(mp_start_method m)
{
    exclusion(m, 1);
}
MPT_DEFINE_BOTH(rlock_exclusion)

/* ---- a holder that dies ----------------------------------------------------- */

/* Takes the lock (a Lock or an RLock), says so, and then either ends
 * holding it or waits to be killed. */
static int t_hold(const mp_args *args)
{
    mp_lock *l = mp_args_lock(args, 0);
    mp_rlock *r = mp_args_rlock(args, 0);
    mp_value *stage = mp_args_value(args, 1);
    int64_t then_exit = 0;
    MPT_CHILD_CHECK((l || r) && stage && mp_args_get_int(args, 2, &then_exit) == 0);
    MPT_CHILD_CHECK(
        (l ? mp_lock_acquire(l, MP_FOREVER) : mp_rlock_acquire(r, MP_FOREVER)) == 0);
    MPT_CHILD_CHECK(mpt_stage_set(stage, 1) == 0);
    if (then_exit) return 0;
    for (;;)
        mpt_sleep_ms(1000);
}

/* how: 0 the holder exits holding it and the parent acquires after;
 * 1 the parent waits first and the holder is killed under it. */
static void dead_holder(mp_start_method m, int recursive, int how)
{
    mp_lock *l = NULL;
    mp_rlock *r = NULL;
    mp_value *stage;
    if (recursive)
        MPT_OK(mp_rlock_new(&r));
    else
        MPT_OK(mp_lock_new(&l));
    MPT_OK(mp_value_new_raw(&stage, 'i'));
    mp_arg lock_arg = recursive ? mp_arg(r) : mp_arg(l);
    mp_process *p = mpt_start(t_hold, mp_args_of(lock_arg, stage, how == 0), m);
    CU_ASSERT_FATAL(mpt_stage_wait(stage, 1));
    if (how == 1) {
        /* the holder is alive: a try fails, and it is killed while this
         * process waits */
        MPT_EQ(recursive ? mp_rlock_acquire(r, 0) : mp_lock_acquire(l, 0), MP_ETIMEDOUT);
        mpt_kill_soon(p, 0.2);
    }
    double t0 = mpt_now();
    int rc = recursive ? mp_rlock_acquire(r, 60) : mp_lock_acquire(l, 60);
    CU_ASSERT_EQUAL(rc, MP_EOWNERDEAD);
    CU_ASSERT(mpt_now() - t0 < 60);
    if (recursive) {
        CU_ASSERT_EQUAL(mp_rlock_count(r), 1);
        MPT_OK(mp_rlock_release(r));
        MPT_EQ(mp_rlock_release(r), MP_ESTATE);
        MPT_OK(mp_rlock_acquire(r, 0));
        MPT_OK(mp_rlock_release(r));
    } else {
        CU_ASSERT_EQUAL(mp_lock_locked(l), 1);
        MPT_OK(mp_lock_release(l));
        MPT_OK(mp_lock_acquire(l, 0));
        MPT_OK(mp_lock_release(l));
    }
    mpt_kill_join();
    int code = mpt_join(p);
    CU_ASSERT(how == 0 ? code == 0 : code != 0);
    mp_value_free(stage);
    mp_lock_free(l);
    mp_rlock_free(r);
}

static void lock_dead_holder(mp_start_method m)
{
    dead_holder(m, 0, 0);
}
MPT_DEFINE_BOTH(lock_dead_holder)

static void lock_killed_under_waiter(mp_start_method m)
{
    dead_holder(m, 0, 1);
}
MPT_DEFINE_BOTH(lock_killed_under_waiter)

static void rlock_dead_holder(mp_start_method m)
{
    dead_holder(m, 1, 0);
}
MPT_DEFINE_BOTH(rlock_dead_holder)

static void rlock_killed_under_waiter(mp_start_method m)
{
    dead_holder(m, 1, 1);
}
MPT_DEFINE_BOTH(rlock_killed_under_waiter)

/* ---- RLock ------------------------------------------------------------------ */

/* Mirrors _TestLock.test_rlock: three acquires, three releases, and one
 * more release is an error. */
static void rlock_basic(void)
{
    mp_rlock *r;
    MPT_OK(mp_rlock_new(&r));
    CU_ASSERT_EQUAL(mp_rlock_count(r), 0);
    for (int i = 1; i <= 3; i++) {
        MPT_OK(mp_rlock_acquire(r, MP_FOREVER));
        CU_ASSERT_EQUAL(mp_rlock_count(r), i);
    }
    MPT_OK(mp_rlock_acquire(r, 0)); /* its owner never waits */
    MPT_OK(mp_rlock_release(r));
    for (int i = 2; i >= 0; i--) {
        MPT_OK(mp_rlock_release(r));
        CU_ASSERT_EQUAL(mp_rlock_count(r), i);
    }
    MPT_EQ(mp_rlock_release(r), MP_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(mp_last_error(), "un-acquired"));
    mp_rlock_free(r);
}

typedef struct other_thread {
    mp_rlock *r;
    int try_rc, release_rc;
    int64_t count;
} other_thread;

static void rlock_from_other(void *arg)
{
    other_thread *o = arg;
    o->try_rc = mp_rlock_acquire(o->r, 0);
    o->release_rc = mp_rlock_release(o->r);
    o->count = mp_rlock_count(o->r);
}

/* The owner is a thread, not a process: another thread of the holder
 * can neither take the lock nor release it. */
static void rlock_other_thread(void)
{
    mp_rlock *r;
    MPT_OK(mp_rlock_new(&r));
    MPT_OK(mp_rlock_acquire(r, MP_FOREVER));
    other_thread o = {r, 1, 1, -1};
    mp_os_thread *t;
    MPT_OK(mp_os_thread_start(&t, rlock_from_other, &o));
    MPT_OK(mp_os_thread_join(t));
    CU_ASSERT_EQUAL(o.try_rc, MP_ETIMEDOUT);
    CU_ASSERT_EQUAL(o.release_rc, MP_ESTATE);
    CU_ASSERT_EQUAL(o.count, 0);
    CU_ASSERT_EQUAL(mp_rlock_count(r), 1);
    MPT_OK(mp_rlock_release(r));
    mp_rlock_free(r);
}

/* A child can neither take nor release the parent's RLock. */
static int t_rlock_not_owner(const mp_args *args)
{
    mp_rlock *r = mp_args_rlock(args, 0);
    MPT_CHILD_CHECK(r != NULL);
    MPT_CHILD_CHECK(mp_rlock_count(r) == 0);
    MPT_CHILD_CHECK(mp_rlock_acquire(r, 0) == MP_ETIMEDOUT);
    MPT_CHILD_CHECK(mp_rlock_release(r) == MP_ESTATE);
    return 0;
}

static void rlock_across(mp_start_method m)
{
    mp_rlock *r;
    MPT_OK(mp_rlock_new(&r));
    MPT_OK(mp_rlock_acquire(r, MP_FOREVER));
    MPT_OK(mp_rlock_acquire(r, MP_FOREVER));
    CU_ASSERT_EQUAL(mpt_run(t_rlock_not_owner, mp_args_of(r), m), 0);
    CU_ASSERT_EQUAL(mp_rlock_count(r), 2);
    MPT_OK(mp_rlock_release(r));
    MPT_OK(mp_rlock_release(r));
    mp_rlock_free(r);
}
MPT_DEFINE_BOTH(rlock_across)

/* ---- bad input ------------------------------------------------------------- */

static void misuse(void)
{
    mp_lock *l;
    mp_rlock *r;
    MPT_EQ(mp_lock_new(NULL), MP_EINVAL);
    MPT_EQ(mp_rlock_new(NULL), MP_EINVAL);
    MPT_EQ(mp_lock_acquire(NULL, 0), MP_EINVAL);
    MPT_EQ(mp_lock_release(NULL), MP_EINVAL);
    MPT_EQ(mp_lock_locked(NULL), MP_EINVAL);
    MPT_EQ(mp_rlock_acquire(NULL, 0), MP_EINVAL);
    MPT_EQ(mp_rlock_release(NULL), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_rlock_count(NULL), MP_EINVAL);
    mp_lock_free(NULL);
    mp_rlock_free(NULL);
    MPT_OK(mp_lock_new(&l));
    MPT_OK(mp_rlock_new(&r));
    /* NaN is refused, free or held, and nothing is taken */
    MPT_EQ(mp_lock_acquire(l, 0.0 / 0.0), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_lock_locked(l), 0);
    MPT_EQ(mp_rlock_acquire(r, 0.0 / 0.0), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_rlock_count(r), 0);
    MPT_OK(mp_rlock_acquire(r, 0));
    MPT_EQ(mp_rlock_acquire(r, 0.0 / 0.0), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_rlock_count(r), 1);
    MPT_OK(mp_rlock_release(r));
    /* a child asking for the wrong kind gets NULL */
    mp_lock_free(l);
    mp_rlock_free(r);
}

static int t_wrong_kind(const mp_args *args)
{
    MPT_CHILD_CHECK(mp_args_lock(args, 0) == NULL);
    MPT_CHILD_CHECK(mp_args_rlock(args, 0) != NULL);
    MPT_CHILD_CHECK(mp_args_semaphore(args, 0) == NULL);
    MPT_CHILD_CHECK(mp_args_event(args, 0) == NULL);
    MPT_CHILD_CHECK(mp_args_lock(args, 1) == NULL);
    return 0;
}

static void wrong_kind(mp_start_method m)
{
    mp_rlock *r;
    MPT_OK(mp_rlock_new(&r));
    CU_ASSERT_EQUAL(mpt_run(t_wrong_kind, mp_args_of(r), m), 0);
    mp_rlock_free(r);
}
MPT_DEFINE_BOTH(wrong_kind)

void mpt_suite_sync_lock(void)
{
    const char *s = "sync/lock";
    mpt_add(s, "lock_basic", lock_basic);
    mpt_add(s, "lock_timeout", lock_timeout);
    MPT_BOTH(s, lock_across);
    MPT_BOTH(s, lock_exclusion);
    MPT_BOTH(s, lock_dead_holder);
    MPT_BOTH(s, lock_killed_under_waiter);
    mpt_add(s, "rlock_basic", rlock_basic);
    mpt_add(s, "rlock_other_thread", rlock_other_thread);
    MPT_BOTH(s, rlock_across);
    MPT_BOTH(s, rlock_exclusion);
    MPT_BOTH(s, rlock_dead_holder);
    MPT_BOTH(s, rlock_killed_under_waiter);
    mpt_add(s, "misuse", misuse);
    MPT_BOTH(s, wrong_kind);
}
