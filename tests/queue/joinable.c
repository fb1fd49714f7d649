/* queue/joinable.c - JoinableQueue: task_done and join across processes,
 * the "called too many times" refusal, a put that fails counting no task,
 * and a consumer killed before task_done (join times out, the count says
 * why). */
#include <string.h>

#include "stage.h"
#include "test.h"

/* Adds 1 to a shared count under its lock: 0, or an mproc code. */
static int bump(mp_value *v)
{
    int64_t x = 0;
    int rc = mp_value_lock(v);
    if (rc == 0) rc = mp_value_get_int(v, &x);
    if (rc == 0) rc = mp_value_set_int(v, x + 1);
    mp_value_unlock(v);
    return rc;
}

static int64_t read_int(mp_value *v)
{
    int64_t x = -1;
    mp_value_get_int(v, &x);
    return x;
}

/* A worker of _TestQueue.test_task_done: takes messages until an empty
 * one, counts each in done (under its lock) before marking it done. */
static int t_worker(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    mp_value *done = mp_args_value(args, 1);
    for (;;) {
        void *d;
        size_t n;
        MPT_CHILD_CHECK(mp_queue_get_bytes(q, &d, &n, MPT_JOIN_TIMEOUT) == 0);
        mp_free(d);
        if (n == 0) break;
        mpt_sleep_ms(5); /* the work; join must wait for it */
        MPT_CHILD_CHECK(bump(done) == 0);
        MPT_CHILD_CHECK(mp_queue_task_done(q) == 0);
    }
    return mp_queue_task_done(q) == 0 ? 0 : 2; /* the empty message is a task too */
}

/* _TestQueue.test_task_done: four workers, ten tasks; join returns only
 * once all ten are counted done. */
static void task_done(mp_start_method m)
{
    enum { WORKERS = 4, TASKS = 10 };
    mp_queue *q;
    mp_value *done;
    MPT_OK(mp_joinable_queue_new(&q, 0));
    MPT_OK(mp_value_new(&done, 'l'));
    mp_process *w[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        w[i] = mpt_start(t_worker, mp_args_of(q, done), m);
    for (int i = 0; i < TASKS; i++)
        MPT_OK(mp_queue_put_bytes(q, "task", 4, MP_FOREVER));
    MPT_OK(mp_queue_join(q, MPT_JOIN_TIMEOUT));
    CU_ASSERT_EQUAL(read_int(done), TASKS);
    size_t left = 99;
    MPT_OK(mp_queue_unfinished(q, &left));
    CU_ASSERT_EQUAL(left, 0);
    for (int i = 0; i < WORKERS; i++)
        MPT_OK(mp_queue_put_bytes(q, "", 0, MP_FOREVER));
    for (int i = 0; i < WORKERS; i++)
        CU_ASSERT_EQUAL(mpt_join(w[i]), 0);
    MPT_OK(mp_queue_join(q, 0));
    mp_value_free(done);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(task_done)

/* Python's "task_done() called too many times" (ValueError), which leaves
 * the count alone; join with a timeout while tasks are left. */
static void too_many(void)
{
    mp_queue *q;
    size_t left = 99;
    MPT_OK(mp_joinable_queue_new(&q, 0));
    MPT_OK(mp_queue_join(q, 0)); /* nothing put: nothing to wait for */
    MPT_EQ(mp_queue_task_done(q), MP_ESTATE);
    CU_ASSERT_STRING_EQUAL(mp_last_error(), "task_done() called too many times");
    MPT_OK(mp_queue_put_bytes(q, "a", 1, 0));
    MPT_OK(mp_queue_put_bytes(q, "b", 1, 0));
    MPT_OK(mp_queue_unfinished(q, &left));
    CU_ASSERT_EQUAL(left, 2);
    MPT_OK(mp_queue_task_done(q));
    MPT_EQ(mp_queue_join(q, 0.05), MP_ETIMEDOUT);
    MPT_OK(mp_queue_task_done(q));
    MPT_OK(mp_queue_join(q, 0));
    MPT_EQ(mp_queue_task_done(q), MP_ESTATE);
    MPT_OK(mp_queue_unfinished(q, &left));
    CU_ASSERT_EQUAL(left, 0);
    mp_queue_free(q);
}

/* A put that fails counts no task; a plain Queue has no tasks. */
static void failed_put_and_plain_queue(void)
{
    mp_queue *q, *plain;
    size_t left = 99;
    MPT_OK(mp_joinable_queue_new(&q, 1));
    MPT_OK(mp_queue_put_bytes(q, "a", 1, 0));
    MPT_EQ(mp_queue_put_bytes(q, "b", 1, 0), MP_EFULL);
    MPT_OK(mp_queue_unfinished(q, &left));
    CU_ASSERT_EQUAL(left, 1);
    MPT_OK(mp_queue_close(q));
    MPT_EQ(mp_queue_put_bytes(q, "c", 1, 0), MP_ESTATE);
    MPT_OK(mp_queue_unfinished(q, &left));
    CU_ASSERT_EQUAL(left, 1);
    mp_queue_free(q);

    MPT_OK(mp_queue_new(&plain, 0));
    MPT_EQ(mp_queue_task_done(plain), MP_EINVAL);
    MPT_EQ(mp_queue_join(plain, 0), MP_EINVAL);
    MPT_EQ(mp_queue_unfinished(plain, &left), MP_EINVAL);
    MPT_EQ(mp_queue_join(NULL, 0), MP_EINVAL);
    MPT_EQ(mp_queue_unfinished(NULL, &left), MP_EINVAL);
    mp_queue_free(plain);
}

/* A joiner in a child: says it is about to join, then joins. */
static int t_joiner(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    mp_value *stage = mp_args_value(args, 1);
    MPT_CHILD_CHECK(bump(stage) == 0);
    MPT_CHILD_CHECK(mp_queue_join(q, MPT_JOIN_TIMEOUT) == 0);
    return 0;
}

/* The task_done that ends the last task wakes every joiner, in every
 * process. */
static void wakes_every_joiner(mp_start_method m)
{
    enum { JOINERS = 3 };
    mp_queue *q;
    mp_value *stage;
    MPT_OK(mp_joinable_queue_new(&q, 0));
    MPT_OK(mp_value_new(&stage, 'l'));
    MPT_OK(mp_queue_put_bytes(q, "x", 1, 0));
    mp_process *j[JOINERS];
    for (int i = 0; i < JOINERS; i++)
        j[i] = mpt_start(t_joiner, mp_args_of(q, stage), m);
    CU_ASSERT_TRUE(mpt_stage_wait(stage, JOINERS));
    mpt_sleep_ms(50); /* let them fall asleep in join */
    for (int i = 0; i < JOINERS; i++)
        CU_ASSERT_EQUAL(mp_process_is_alive(j[i]), 1);
    MPT_OK(mp_queue_task_done(q));
    for (int i = 0; i < JOINERS; i++)
        CU_ASSERT_EQUAL(mpt_join(j[i]), 0);
    mp_value_free(stage);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(wakes_every_joiner)

/* Takes one task and never marks it done: it says so, then waits to be
 * killed. */
static int t_take_and_hang(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    mp_value *stage = mp_args_value(args, 1);
    void *d;
    size_t n;
    MPT_CHILD_CHECK(mp_queue_get_bytes(q, &d, &n, MPT_JOIN_TIMEOUT) == 0);
    mp_free(d);
    mpt_stage_set(stage, 1);
    mpt_sleep_ms(60000);
    return 0;
}

/* A consumer killed between get and task_done: join does not hang past
 * its timeout, and the count tells what is missing. */
static void consumer_killed(mp_start_method m)
{
    mp_queue *q;
    mp_value *stage;
    size_t left = 0;
    MPT_OK(mp_joinable_queue_new(&q, 0));
    MPT_OK(mp_value_new(&stage, 'i'));
    MPT_OK(mp_queue_put_bytes(q, "job", 3, 0));
    mp_process *p = mpt_start(t_take_and_hang, mp_args_of(q, stage), m);
    CU_ASSERT_TRUE(mpt_stage_wait(stage, 1));
    MPT_OK(mp_process_kill(p));
    CU_ASSERT_EQUAL(mpt_join(p), -9);
    CU_ASSERT_EQUAL(mp_queue_qsize(q), 0);
    MPT_EQ(mp_queue_join(q, 0.1), MP_ETIMEDOUT);
    CU_ASSERT(strstr(mp_last_error(), "1 tasks not done") != NULL);
    MPT_OK(mp_queue_unfinished(q, &left));
    CU_ASSERT_EQUAL(left, 1);
    MPT_OK(mp_queue_task_done(q)); /* the caller's way out: do the task itself */
    MPT_OK(mp_queue_join(q, 0));
    mp_value_free(stage);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(consumer_killed)

void mpt_suite_queue_joinable(void)
{
    MPT_BOTH("queue/joinable", task_done);
    mpt_add("queue/joinable", "too_many", too_many);
    mpt_add("queue/joinable", "failed_put_and_plain_queue", failed_put_and_plain_queue);
    MPT_BOTH("queue/joinable", wakes_every_joiner);
    MPT_BOTH("queue/joinable", consumer_killed);
}
