/* sync/event.c - Event (mproc/synchronize.h) across threads and real
 * processes, under spawn and fork. Each CPython case ported says which one
 * it mirrors (Lib/test/_test_multiprocessing.py). */
#include <stdlib.h>

#include "test.h"
#include "stage.h"

/* Mirrors the single-process part of _TestEvent.test_event: not set, a
 * wait times out (and takes at least its timeout); set, waits return at
 * once; cleared, not set again. */
static void event_basic(void)
{
    mp_event *e;
    MPT_OK(mp_event_new(&e));
    CU_ASSERT_EQUAL(mp_event_is_set(e), 0);
    MPT_EQ(mp_event_wait(e, 0), MP_ETIMEDOUT);
    double t0 = mpt_now();
    MPT_EQ(mp_event_wait(e, 0.1), MP_ETIMEDOUT);
    CU_ASSERT(mpt_now() - t0 >= 0.099);
    MPT_OK(mp_event_set(e));
    CU_ASSERT_EQUAL(mp_event_is_set(e), 1);
    MPT_OK(mp_event_wait(e, MP_FOREVER));
    MPT_OK(mp_event_wait(e, 0.1));
    MPT_OK(mp_event_set(e)); /* setting twice is harmless */
    MPT_OK(mp_event_clear(e));
    CU_ASSERT_EQUAL(mp_event_is_set(e), 0);
    MPT_EQ(mp_event_wait(e, 0), MP_ETIMEDOUT);
    mp_event_free(e);
}

static int t_set_later(const mp_args *args)
{
    mp_event *e = mp_args_event(args, 0);
    MPT_CHILD_CHECK(e != NULL);
    mpt_sleep_ms(100);
    MPT_CHILD_CHECK(mp_event_set(e) == 0);
    return 0;
}

/* Mirrors the process part of _TestEvent.test_event: a child sets the
 * event after a while, the parent's wait returns then. */
static void event_set_by_child(mp_start_method m)
{
    mp_event *e;
    MPT_OK(mp_event_new(&e));
    mp_process *p = mpt_start(t_set_later, mp_args_of(e), m);
    MPT_OK(mp_event_wait(e, MP_FOREVER));
    CU_ASSERT_EQUAL(mp_event_is_set(e), 1);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_event_free(e);
}
MPT_DEFINE_BOTH(event_set_by_child)

/* Waits for the event without a limit, then counts itself. */
static int t_wait(const mp_args *args)
{
    mp_event *e = mp_args_event(args, 0);
    mp_value *waiting = mp_args_value(args, 1);
    MPT_CHILD_CHECK(e && waiting);
    MPT_CHILD_CHECK(mp_value_lock(waiting) == 0);
    int64_t n = 0;
    MPT_CHILD_CHECK(mp_value_get_int(waiting, &n) == 0 &&
                    mp_value_set_int(waiting, n + 1) == 0);
    MPT_CHILD_CHECK(mp_value_unlock(waiting) == 0);
    MPT_CHILD_CHECK(mp_event_wait(e, MP_FOREVER) == 0);
    MPT_CHILD_CHECK(mp_event_is_set(e) == 1);
    return 0;
}

enum { WAITERS = 3, THREADS = 2 };

static void wait_thread(void *arg)
{
    CU_ASSERT_EQUAL(mp_event_wait(arg, MP_FOREVER), 0);
}

/* One set wakes every waiter, processes and threads alike. */
static void event_wakes_all(mp_start_method m)
{
    mp_event *e;
    mp_value *waiting;
    MPT_OK(mp_event_new(&e));
    MPT_OK(mp_value_new(&waiting, 'i'));
    mp_process *p[WAITERS];
    mp_os_thread *t[THREADS];
    for (int i = 0; i < WAITERS; i++)
        p[i] = mpt_start(t_wait, mp_args_of(e, waiting), m);
    for (int i = 0; i < THREADS; i++)
        MPT_OK(mp_os_thread_start(&t[i], wait_thread, e));
    CU_ASSERT_FATAL(mpt_stage_wait(waiting, WAITERS));
    mpt_sleep_ms(50);
    MPT_OK(mp_event_set(e));
    for (int i = 0; i < THREADS; i++)
        MPT_OK(mp_os_thread_join(t[i]));
    for (int i = 0; i < WAITERS; i++)
        CU_ASSERT_EQUAL(mpt_join(p[i]), 0);
    mp_value_free(waiting);
    mp_event_free(e);
}
MPT_DEFINE_BOTH(event_wakes_all)

static int t_expect(const mp_args *args)
{
    mp_event *e = mp_args_event(args, 0);
    int64_t want = -1;
    MPT_CHILD_CHECK(e && mp_args_get_int(args, 1, &want) == 0);
    MPT_CHILD_CHECK(mp_event_is_set(e) == want);
    MPT_CHILD_CHECK(mp_event_clear(e) == 0);
    return 0;
}

/* The child sees the parent's flag, and the parent the child's clear. */
static void event_flag_shared(mp_start_method m)
{
    mp_event *e;
    MPT_OK(mp_event_new(&e));
    CU_ASSERT_EQUAL(mpt_run(t_expect, mp_args_of(e, 0), m), 0);
    MPT_OK(mp_event_set(e));
    CU_ASSERT_EQUAL(mpt_run(t_expect, mp_args_of(e, 1), m), 0);
    CU_ASSERT_EQUAL(mp_event_is_set(e), 0);
    mp_event_free(e);
}
MPT_DEFINE_BOTH(event_flag_shared)

static void misuse(void)
{
    mp_event *e;
    MPT_EQ(mp_event_new(NULL), MP_EINVAL);
    MPT_EQ(mp_event_set(NULL), MP_EINVAL);
    MPT_EQ(mp_event_clear(NULL), MP_EINVAL);
    MPT_EQ(mp_event_is_set(NULL), MP_EINVAL);
    MPT_EQ(mp_event_wait(NULL, 0), MP_EINVAL);
    mp_event_free(NULL);
    MPT_OK(mp_event_new(&e));
    MPT_EQ(mp_event_wait(e, 0.0 / 0.0), MP_EINVAL);
    MPT_OK(mp_event_set(e));
    MPT_EQ(mp_event_wait(e, 0.0 / 0.0), MP_EINVAL);
    mp_event_free(e);
}

void mpt_suite_sync_event(void)
{
    const char *s = "sync/event";
    mpt_add(s, "event_basic", event_basic);
    MPT_BOTH(s, event_set_by_child);
    MPT_BOTH(s, event_wakes_all);
    MPT_BOTH(s, event_flag_shared);
    mpt_add(s, "misuse", misuse);
}
