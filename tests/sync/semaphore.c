/* sync/semaphore.c - Semaphore and BoundedSemaphore (mproc/synchronize.h)
 * across threads and real processes, under spawn and fork, with the fault
 * beside them: a process killed holding a unit (a semaphore has no owner:
 * the unit is gone, and waiters time out rather than hang). Each CPython
 * case ported says which one it mirrors (Lib/test/_test_multiprocessing.py). */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "stage.h"

/* Mirrors _TestSemaphore._test_semaphore (test_semaphore and, with the
 * bounded kind, test_bounded_semaphore): values down to 0, a try that
 * fails, values back up. */
static void count_down_and_up(mp_semaphore *s)
{
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), 2);
    MPT_OK(mp_semaphore_acquire(s, MP_FOREVER));
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), 1);
    MPT_OK(mp_semaphore_acquire(s, MP_FOREVER));
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), 0);
    MPT_EQ(mp_semaphore_acquire(s, 0), MP_ETIMEDOUT);
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), 0);
    MPT_OK(mp_semaphore_release(s));
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), 1);
    MPT_OK(mp_semaphore_release(s));
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), 2);
}

static void semaphore_basic(void)
{
    mp_semaphore *s;
    MPT_OK(mp_semaphore_new(&s, 2));
    count_down_and_up(s);
    /* unbounded: it may pass its initial value */
    MPT_OK(mp_semaphore_release(s));
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), 3);
    mp_semaphore_free(s);
}

static void bounded_semaphore(void)
{
    mp_semaphore *s;
    MPT_OK(mp_bounded_semaphore_new(&s, 2));
    count_down_and_up(s);
    MPT_EQ(mp_semaphore_release(s), MP_ESTATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(mp_last_error(), "released too many times"));
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), 2);
    mp_semaphore_free(s);
}

/* Mirrors _TestSemaphore.test_timeout: an empty semaphore refuses tries
 * and timed acquires; a timed one waits at least its timeout. */
static void semaphore_timeout(void)
{
    mp_semaphore *s;
    MPT_OK(mp_semaphore_new(&s, 0));
    MPT_EQ(mp_semaphore_acquire(s, 0), MP_ETIMEDOUT);
    double t0 = mpt_now();
    MPT_EQ(mp_semaphore_acquire(s, 0.1), MP_ETIMEDOUT);
    CU_ASSERT(mpt_now() - t0 >= 0.099);
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), 0);
    mp_semaphore_free(s);
}

/* Values up to 2^31-1, exactly; above is refused, at creation and at a
 * release, and nothing changes. */
static void semaphore_range(void)
{
    mp_semaphore *s = NULL;
    MPT_EQ(mp_semaphore_new(&s, -1), MP_ERANGE);
    CU_ASSERT_PTR_NULL(s);
    MPT_EQ(mp_semaphore_new(&s, (int64_t)MP_SEMAPHORE_MAX + 1), MP_ERANGE);
    MPT_EQ(mp_bounded_semaphore_new(&s, -5), MP_ERANGE);
    MPT_OK(mp_semaphore_new(&s, MP_SEMAPHORE_MAX));
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), MP_SEMAPHORE_MAX);
    MPT_EQ(mp_semaphore_release(s), MP_ERANGE);
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), MP_SEMAPHORE_MAX);
    MPT_OK(mp_semaphore_acquire(s, 0));
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), MP_SEMAPHORE_MAX - 1);
    mp_semaphore_free(s);
    MPT_OK(mp_bounded_semaphore_new(&s, 0));
    MPT_EQ(mp_semaphore_release(s), MP_ESTATE);
    MPT_EQ(mp_semaphore_acquire(s, 0), MP_ETIMEDOUT);
    mp_semaphore_free(s);
}

/* ---- across processes --------------------------------------------------- */

/* Waits for a unit, then counts itself done. */
static int t_take_one(const mp_args *args)
{
    mp_semaphore *s = mp_args_semaphore(args, 0);
    mp_value *done = mp_args_value(args, 1);
    MPT_CHILD_CHECK(s && done);
    MPT_CHILD_CHECK(mp_semaphore_acquire(s, MP_FOREVER) == 0);
    MPT_CHILD_CHECK(mp_value_lock(done) == 0);
    int64_t n = 0;
    MPT_CHILD_CHECK(mp_value_get_int(done, &n) == 0 &&
                    mp_value_set_int(done, n + 1) == 0);
    MPT_CHILD_CHECK(mp_value_unlock(done) == 0);
    return 0;
}

enum { WAITERS = 3 };

/* Several processes wait on an empty semaphore; as many releases, in a
 * row, reach every one of them (one wake-up in flight at a time is passed
 * on by the waiter that takes a unit and sees more). Mirrors the waiting
 * part of _TestSemaphore, across processes. */
static void semaphore_wakes_each(mp_start_method m)
{
    mp_semaphore *s;
    mp_value *done;
    MPT_OK(mp_semaphore_new(&s, 0));
    MPT_OK(mp_value_new(&done, 'i'));
    mp_process *p[WAITERS];
    for (int i = 0; i < WAITERS; i++)
        p[i] = mpt_start(t_take_one, mp_args_of(s, done), m);
    mpt_sleep_ms(100); /* most are asleep by now; the test holds either way */
    for (int i = 0; i < WAITERS; i++)
        MPT_OK(mp_semaphore_release(s));
    for (int i = 0; i < WAITERS; i++)
        CU_ASSERT_EQUAL(mpt_join(p[i]), 0);
    int64_t n = 0;
    MPT_OK(mp_value_get_int(done, &n));
    CU_ASSERT_EQUAL(n, WAITERS);
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), 0);
    mp_value_free(done);
    mp_semaphore_free(s);
}
MPT_DEFINE_BOTH(semaphore_wakes_each)

/* Releases n units, as a producer would. */
static int t_release_n(const mp_args *args)
{
    mp_semaphore *s = mp_args_semaphore(args, 0);
    int64_t n = 0;
    MPT_CHILD_CHECK(s && mp_args_get_int(args, 1, &n) == 0);
    for (int64_t i = 0; i < n; i++)
        MPT_CHILD_CHECK(mp_semaphore_release(s) == 0);
    return 0;
}

/* Children release, the parent takes every unit and no more. */
static void semaphore_counts_across(mp_start_method m)
{
    mp_semaphore *s;
    MPT_OK(mp_semaphore_new(&s, 0));
    mp_process *p[2];
    for (int i = 0; i < 2; i++)
        p[i] = mpt_start(t_release_n, mp_args_of(s, 500), m);
    for (int i = 0; i < 1000; i++)
        MPT_OK(mp_semaphore_acquire(s, MPT_JOIN_TIMEOUT));
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(mpt_join(p[i]), 0);
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), 0);
    MPT_EQ(mp_semaphore_acquire(s, 0), MP_ETIMEDOUT);
    mp_semaphore_free(s);
}
MPT_DEFINE_BOTH(semaphore_counts_across)

/* A bounded semaphore refuses the child's extra release too. */
static void bounded_across(mp_start_method m)
{
    mp_semaphore *s;
    MPT_OK(mp_bounded_semaphore_new(&s, 1));
    MPT_OK(mp_semaphore_acquire(s, 0));
    CU_ASSERT_EQUAL(mpt_run(t_release_n, mp_args_of(s, 1), m), 0);
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), 1);
    CU_ASSERT_NOT_EQUAL(mpt_run(t_release_n, mp_args_of(s, 1), m), 0);
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), 1);
    mp_semaphore_free(s);
}
MPT_DEFINE_BOTH(bounded_across)

/* ---- a holder killed -------------------------------------------------------- */

static int t_take_and_hang(const mp_args *args)
{
    mp_semaphore *s = mp_args_semaphore(args, 0);
    mp_value *stage = mp_args_value(args, 1);
    MPT_CHILD_CHECK(s && stage);
    MPT_CHILD_CHECK(mp_semaphore_acquire(s, MP_FOREVER) == 0);
    MPT_CHILD_CHECK(mpt_stage_set(stage, 1) == 0);
    for (;;)
        mpt_sleep_ms(1000);
}

/* The documented behaviour (synchronize.h): the unit of a killed holder
 * is not given back; a waiter times out at its deadline instead of
 * hanging or seeing MP_EOWNERDEAD, and the semaphore works on. */
static void semaphore_holder_killed(mp_start_method m)
{
    mp_semaphore *s;
    mp_value *stage;
    MPT_OK(mp_semaphore_new(&s, 1));
    MPT_OK(mp_value_new_raw(&stage, 'i'));
    mp_process *p = mpt_start(t_take_and_hang, mp_args_of(s, stage), m);
    CU_ASSERT_FATAL(mpt_stage_wait(stage, 1));
    mpt_kill_soon(p, 0.1);
    MPT_EQ(mp_semaphore_acquire(s, 0.5), MP_ETIMEDOUT);
    mpt_kill_join();
    CU_ASSERT_NOT_EQUAL(mpt_join(p), 0);
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), 0);
    MPT_OK(mp_semaphore_release(s));
    MPT_OK(mp_semaphore_acquire(s, 0));
    mp_value_free(stage);
    mp_semaphore_free(s);
}
MPT_DEFINE_BOTH(semaphore_holder_killed)

/* ---- threads ---------------------------------------------------------------- */

enum { T_THREADS = 4, T_ROUNDS = 2000 };

typedef struct gate {
    mp_semaphore *s;
    mp_atomic_u32 inside, most;
    int errors;
} gate;

/* At most 2 threads inside at once, however they race. */
static void through_gate(void *arg)
{
    gate *g = arg;
    for (int i = 0; i < T_ROUNDS; i++) {
        if (mp_semaphore_acquire(g->s, MP_FOREVER) != 0) {
            g->errors++;
            return;
        }
        uint32_t in = mp_add32(&g->inside, 1, MP_SEQ_CST) + 1;
        uint32_t most = mp_load32(&g->most, MP_RELAXED);
        while (in > most && !mp_cas32(&g->most, &most, in, MP_RELAXED)) {
        }
        mp_sub32(&g->inside, 1, MP_SEQ_CST);
        if (mp_semaphore_release(g->s) != 0) g->errors++;
    }
}

static void semaphore_threads(void)
{
    gate g = {NULL, 0, 0, 0};
    MPT_OK(mp_bounded_semaphore_new(&g.s, 2));
    mp_os_thread *t[T_THREADS];
    for (int i = 0; i < T_THREADS; i++)
        MPT_OK(mp_os_thread_start(&t[i], through_gate, &g));
    for (int i = 0; i < T_THREADS; i++)
        MPT_OK(mp_os_thread_join(t[i]));
    CU_ASSERT_EQUAL(g.errors, 0);
    CU_ASSERT(mp_load32(&g.most, MP_RELAXED) <= 2);
    CU_ASSERT_EQUAL(mp_semaphore_get_value(g.s), 2);
    mp_semaphore_free(g.s);
}

static void misuse(void)
{
    mp_semaphore *s;
    MPT_EQ(mp_semaphore_new(NULL, 1), MP_EINVAL);
    MPT_EQ(mp_bounded_semaphore_new(NULL, 1), MP_EINVAL);
    MPT_EQ(mp_semaphore_acquire(NULL, 0), MP_EINVAL);
    MPT_EQ(mp_semaphore_release(NULL), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_semaphore_get_value(NULL), MP_EINVAL);
    mp_semaphore_free(NULL);
    MPT_OK(mp_semaphore_new(&s, 1));
    MPT_EQ(mp_semaphore_acquire(s, 0.0 / 0.0), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_semaphore_get_value(s), 1);
    mp_semaphore_free(s);
}

void mpt_suite_sync_semaphore(void)
{
    const char *s = "sync/semaphore";
    mpt_add(s, "semaphore_basic", semaphore_basic);
    mpt_add(s, "bounded_semaphore", bounded_semaphore);
    mpt_add(s, "semaphore_timeout", semaphore_timeout);
    mpt_add(s, "semaphore_range", semaphore_range);
    MPT_BOTH(s, semaphore_wakes_each);
    MPT_BOTH(s, semaphore_counts_across);
    MPT_BOTH(s, bounded_across);
    MPT_BOTH(s, semaphore_holder_killed);
    mpt_add(s, "semaphore_threads", semaphore_threads);
    mpt_add(s, "misuse", misuse);
}
