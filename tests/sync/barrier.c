/* sync/barrier.c - Barrier (mproc/synchronize.h) across threads and real
 * processes, under spawn and fork, with the faults beside it: a timeout,
 * a failing action, abort and reset while parties wait, and a party
 * killed while it waits (the others get MP_EBROKEN in a bounded time
 * instead of hanging, cpython gh-123899). Each CPython case ported says
 * which one it mirrors (Lib/test/_test_multiprocessing.py, _TestBarrier). */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "stage.h"

enum { PARTIES = 3, PASSES = 4 };

/* Passes the barrier PASSES times, recording each arrival index in the
 * Array at [pass * PARTIES + index] (so each index must come once). */
static int pass_many(mp_barrier *b, mp_array *seen)
{
    for (int pass = 0; pass < PASSES; pass++) {
        int i = mp_barrier_wait(b, MP_FOREVER);
        if (i < 0 || i >= PARTIES) return 1;
        int64_t old = 0;
        size_t at = (size_t)(pass * PARTIES + i);
        if (mp_array_lock(seen, NULL) || mp_array_get_int(seen, at, &old) ||
            mp_array_set_int(seen, at, old + 1) || mp_array_unlock(seen))
            return 1;
    }
    return 0;
}

static int t_pass(const mp_args *args)
{
    mp_barrier *b = mp_args_barrier(args, 0);
    mp_array *seen = mp_args_array(args, 1);
    MPT_CHILD_CHECK(b && seen);
    MPT_CHILD_CHECK(pass_many(b, seen) == 0);
    return 0;
}

/* Mirrors _TestBarrier.test_barrier and test_wait_return: parties pass
 * several times; each pass hands out every index 0..parties-1 once. */
static void barrier_passes(mp_start_method m)
{
    mp_barrier *b;
    mp_array *seen;
    MPT_OK(mp_barrier_new(&b, PARTIES, NULL, -1));
    MPT_OK(mp_array_new(&seen, 'i', PARTIES * PASSES));
    CU_ASSERT_EQUAL(mp_barrier_parties(b), PARTIES);
    mp_process *p[PARTIES - 1];
    for (int i = 0; i < PARTIES - 1; i++)
        p[i] = mpt_start(t_pass, mp_args_of(b, seen), m);
    CU_ASSERT_EQUAL(pass_many(b, seen), 0);
    for (int i = 0; i < PARTIES - 1; i++)
        CU_ASSERT_EQUAL(mpt_join(p[i]), 0);
    for (size_t k = 0; k < PARTIES * PASSES; k++) {
        int64_t x = -1;
        MPT_OK(mp_array_get_int(seen, k, &x));
        CU_ASSERT_EQUAL(x, 1);
    }
    CU_ASSERT_EQUAL(mp_barrier_n_waiting(b), 0);
    CU_ASSERT_EQUAL(mp_barrier_broken(b), 0);
    mp_array_free(seen);
    mp_barrier_free(b);
}
MPT_DEFINE_BOTH(barrier_passes)

/* The action: counts its runs in a file-scope Value that the test and
 * its children share through an argument. */
static mp_value *action_runs;

static int count_action(const mp_args *args)
{
    (void)args;
    if (!action_runs) return 1;
    int64_t n = 0;
    if (mp_value_get_int(action_runs, &n) || mp_value_set_int(action_runs, n + 1))
        return 1;
    return 0;
}

static int t_action_party(const mp_args *args)
{
    mp_barrier *b = mp_args_barrier(args, 0);
    action_runs = mp_args_value(args, 1);
    MPT_CHILD_CHECK(b && action_runs);
    for (int pass = 0; pass < PASSES; pass++)
        MPT_CHILD_CHECK(mp_barrier_wait(b, MP_FOREVER) >= 0);
    return 0;
}

/* Mirrors _TestBarrier.test_action: the action runs once per pass, in
 * whichever party arrives last (here a child, found again there). */
static void barrier_action(mp_start_method m)
{
    mp_barrier *b;
    MPT_OK(mp_value_new(&action_runs, 'i'));
    MPT_OK(mp_barrier_new(&b, 2, count_action, -1));
    mp_process *p = mpt_start(t_action_party, mp_args_of(b, action_runs), m);
    for (int pass = 0; pass < PASSES; pass++) {
        int i = mp_barrier_wait(b, MP_FOREVER);
        CU_ASSERT(i == 0 || i == 1);
    }
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    int64_t n = 0;
    MPT_OK(mp_value_get_int(action_runs, &n));
    CU_ASSERT_EQUAL(n, PASSES);
    mp_barrier_free(b);
    mp_value_free(action_runs);
    action_runs = NULL;
}
MPT_DEFINE_BOTH(barrier_action)

/* A party that expects the barrier to break under it. */
static int t_expect_broken(const mp_args *args)
{
    mp_barrier *b = mp_args_barrier(args, 0);
    double timeout = -1;
    MPT_CHILD_CHECK(b && mp_args_get_double(args, 1, &timeout) == 0);
    MPT_CHILD_CHECK(mp_barrier_wait(b, timeout) == MP_EBROKEN);
    MPT_CHILD_CHECK(mp_barrier_broken(b) == 1 || timeout < 0);
    return 0;
}

static int fail_action(const mp_args *args)
{
    (void)args;
    return 7;
}

/* Mirrors _TestBarrier.test_action (the failing case, test_abort's shape):
 * an action that fails breaks the barrier for every party. */
static void barrier_action_fails(mp_start_method m)
{
    mp_barrier *b;
    MPT_OK(mp_barrier_new(&b, 2, fail_action, -1));
    mp_process *p = mpt_start(t_expect_broken, mp_args_of(b, -1.0), m);
    while (mp_barrier_n_waiting(b) < 1) /* so that this process runs the action */
        mpt_sleep_ms(1);
    MPT_EQ(mp_barrier_wait(b, MP_FOREVER), MP_EBROKEN);
    CU_ASSERT_PTR_NOT_NULL(strstr(mp_last_error(), "returned 7"));
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    CU_ASSERT_EQUAL(mp_barrier_broken(b), 1);
    MPT_EQ(mp_barrier_wait(b, 0), MP_EBROKEN); /* until reset */
    MPT_OK(mp_barrier_reset(b));
    CU_ASSERT_EQUAL(mp_barrier_broken(b), 0);
    mp_barrier_free(b);
}
MPT_DEFINE_BOTH(barrier_action_fails)

/* Mirrors _TestBarrier.test_timeout and test_default_timeout: a party
 * whose timeout passes breaks the barrier for the one waiting too. */
static void barrier_timeout(mp_start_method m)
{
    mp_barrier *b;
    MPT_OK(mp_barrier_new(&b, 3, NULL, 0.2)); /* default: 0.2 s */
    mp_process *p = mpt_start(t_expect_broken, mp_args_of(b, -1.0), m);
    double t0 = mpt_now();
    MPT_EQ(mp_barrier_wait(b, -1), MP_EBROKEN); /* the default timeout */
    CU_ASSERT(mpt_now() - t0 >= 0.199);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    CU_ASSERT_EQUAL(mp_barrier_broken(b), 1);
    mp_barrier_free(b);
}
MPT_DEFINE_BOTH(barrier_timeout)

static int t_wait_then_count(const mp_args *args)
{
    mp_barrier *b = mp_args_barrier(args, 0);
    MPT_CHILD_CHECK(b != NULL);
    MPT_CHILD_CHECK(mp_barrier_wait(b, MP_FOREVER) == MP_EBROKEN);
    return 0;
}

static int t_once(const mp_args *args)
{
    mp_barrier *b = mp_args_barrier(args, 0);
    MPT_CHILD_CHECK(b != NULL);
    int i = mp_barrier_wait(b, MP_FOREVER);
    MPT_CHILD_CHECK(i == 0 || i == 1);
    return 0;
}

/* Mirrors _TestBarrier.test_abort and test_reset: a party waiting gets
 * MP_EBROKEN from abort (and from reset), and reset makes the barrier
 * usable again. */
static void barrier_abort_reset(mp_start_method m, int abort)
{
    mp_barrier *b;
    MPT_OK(mp_barrier_new(&b, 2, NULL, -1));
    mp_process *p = mpt_start(t_wait_then_count, mp_args_of(b), m);
    while (mp_barrier_n_waiting(b) < 1)
        mpt_sleep_ms(1);
    MPT_OK(abort ? mp_barrier_abort(b) : mp_barrier_reset(b));
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    CU_ASSERT_EQUAL(mp_barrier_broken(b), abort);
    if (abort) MPT_OK(mp_barrier_reset(b));
    /* whole again */
    mp_process *q = mpt_start(t_once, mp_args_of(b), m);
    int i = mp_barrier_wait(b, MP_FOREVER);
    CU_ASSERT(i == 0 || i == 1);
    CU_ASSERT_EQUAL(mpt_join(q), 0);
    mp_barrier_free(b);
}

static void barrier_abort(mp_start_method m)
{
    barrier_abort_reset(m, 1);
}
MPT_DEFINE_BOTH(barrier_abort)

static void barrier_reset(mp_start_method m)
{
    barrier_abort_reset(m, 0);
}
MPT_DEFINE_BOTH(barrier_reset)

/* ---- a party killed while it waits --------------------------------------------- */

static int t_wait_forever(const mp_args *args)
{
    mp_barrier *b = mp_args_barrier(args, 0);
    MPT_CHILD_CHECK(b != NULL);
    mp_barrier_wait(b, MP_FOREVER);
    return 3; /* the kill comes first */
}

/* Three parties: one waits and is killed, one (a child) waits on, and
 * this process arrives after the death: neither may hang. */
static void barrier_party_killed(mp_start_method m)
{
    mp_barrier *b;
    MPT_OK(mp_barrier_new(&b, 3, NULL, -1));
    mp_process *doomed = mpt_start(t_wait_forever, mp_args_of(b), m);
    while (mp_barrier_n_waiting(b) < 1)
        mpt_sleep_ms(1);
    mp_process *other = mpt_start(t_expect_broken, mp_args_of(b, -1.0), m);
    while (mp_barrier_n_waiting(b) < 2)
        mpt_sleep_ms(1);
    MPT_OK(mp_process_kill(doomed));
    CU_ASSERT_NOT_EQUAL(mpt_join(doomed), 3);
    /* the surviving child notices within a bounded time, by itself */
    CU_ASSERT_EQUAL(mpt_join(other), 0);
    CU_ASSERT_EQUAL(mp_barrier_broken(b), 1);
    MPT_EQ(mp_barrier_wait(b, MP_FOREVER), MP_EBROKEN);
    mp_barrier_free(b);
}
MPT_DEFINE_BOTH(barrier_party_killed)

/* ---- threads ------------------------------------------------------------------- */

typedef struct party {
    mp_barrier *b;
    mp_array *seen;
    int rc;
} party;

static void thread_party(void *arg)
{
    party *p = arg;
    p->rc = pass_many(p->b, p->seen);
}

/* Mirrors the thread variant of _TestBarrier.test_barrier. */
static void barrier_threads(void)
{
    mp_barrier *b;
    mp_array *seen;
    MPT_OK(mp_barrier_new(&b, PARTIES, NULL, -1));
    MPT_OK(mp_array_new(&seen, 'i', PARTIES * PASSES));
    party ps[PARTIES];
    mp_os_thread *t[PARTIES];
    for (int i = 0; i < PARTIES; i++) {
        ps[i] = (party){b, seen, 1};
        MPT_OK(mp_os_thread_start(&t[i], thread_party, &ps[i]));
    }
    for (int i = 0; i < PARTIES; i++) {
        MPT_OK(mp_os_thread_join(t[i]));
        CU_ASSERT_EQUAL(ps[i].rc, 0);
    }
    for (size_t k = 0; k < PARTIES * PASSES; k++) {
        int64_t x = -1;
        MPT_OK(mp_array_get_int(seen, k, &x));
        CU_ASSERT_EQUAL(x, 1);
    }
    mp_array_free(seen);
    mp_barrier_free(b);
}

static void misuse(void)
{
    mp_barrier *b = NULL;
    MPT_EQ(mp_barrier_new(NULL, 2, NULL, -1), MP_EINVAL);
    MPT_EQ(mp_barrier_new(&b, 0, NULL, -1), MP_EINVAL);
    CU_ASSERT_PTR_NULL(b);
    MPT_EQ(mp_barrier_new(&b, -3, NULL, -1), MP_EINVAL);
    MPT_EQ(mp_barrier_new(&b, (int64_t)MP_BARRIER_MAX_PARTIES + 1, NULL, -1), MP_EINVAL);
    MPT_EQ(mp_barrier_new(&b, 2, NULL, 0.0 / 0.0), MP_EINVAL);
    MPT_EQ(mp_barrier_wait(NULL, 0), MP_EINVAL);
    MPT_EQ(mp_barrier_reset(NULL), MP_EINVAL);
    MPT_EQ(mp_barrier_abort(NULL), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_barrier_parties(NULL), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_barrier_n_waiting(NULL), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_barrier_broken(NULL), MP_EINVAL);
    mp_barrier_free(NULL);
    MPT_OK(mp_barrier_new(&b, 1, NULL, -1));
    MPT_EQ(mp_barrier_wait(b, 0.0 / 0.0), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_barrier_n_waiting(b), 0);
    CU_ASSERT_EQUAL(mp_barrier_wait(b, 0), 0); /* one party: passes alone */
    mp_barrier_free(b);
}

void mpt_suite_sync_barrier(void)
{
    const char *s = "sync/barrier";
    MPT_BOTH(s, barrier_passes);
    MPT_BOTH(s, barrier_action);
    MPT_BOTH(s, barrier_action_fails);
    MPT_BOTH(s, barrier_timeout);
    MPT_BOTH(s, barrier_abort);
    MPT_BOTH(s, barrier_reset);
    MPT_BOTH(s, barrier_party_killed);
    mpt_add(s, "barrier_threads", barrier_threads);
    mpt_add(s, "misuse", misuse);
}
