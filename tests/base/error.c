/* error.c - mp_last_error(): each failing call leaves a message naming its
 * cause, and nothing a later call did not say survives it.
 *
 * The stale-message sequence is the one a reading found: a failed
 * mp_value_new(&v, 'Z'), then an mp_queue_get_bytes_nowait that returns
 * MP_EEMPTY, used to report "unknown typecode 0x5a". CPython has no
 * counterpart (exceptions carry their message); the cases mirror its rule
 * that the message belongs to the failure that raised it. */
#include <string.h>

#include "test.h"

/* The failure whose message must not outlive the next call. */
static void fail_typecode(void)
{
    mp_value *v = NULL;
    CU_ASSERT_EQUAL(mp_value_new(&v, 'Z'), MP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(mp_last_error(), "typecode"));
}

static int stale_sequence(mp_queue *q)
{
    fail_typecode();
    void *data = NULL;
    size_t len = 0;
    int rc = mp_queue_get_bytes_nowait(q, &data, &len);
    return rc == MP_EEMPTY && mp_last_error()[0] == '\0';
}

static void test_plain_outcome_leaves_no_message(void)
{
    mp_queue *q = NULL, *bounded = NULL;
    MPT_OK(mp_queue_new(&q, 0));
    MPT_OK(mp_queue_new(&bounded, 1));
    CU_ASSERT(stale_sequence(q));

    void *data = NULL;
    size_t len = 0;
    fail_typecode();
    /* A get that times out is Python's queue.Empty. */
    CU_ASSERT_EQUAL(mp_queue_get_bytes(q, &data, &len, 0.01), MP_EEMPTY);
    CU_ASSERT_STRING_EQUAL(mp_last_error(), "");

    MPT_OK(mp_queue_put_bytes(bounded, "x", 1, MP_FOREVER));
    fail_typecode();
    CU_ASSERT_EQUAL(mp_queue_put_bytes_nowait(bounded, "y", 1), MP_EFULL);
    CU_ASSERT_PTR_NULL(strstr(mp_last_error(), "typecode")); /* "queue is full" */

    mp_queue_free(bounded);
    mp_queue_free(q);
}

static void test_success_leaves_no_message(void)
{
    mp_value *v = NULL;
    mp_queue *q = NULL;
    MPT_OK(mp_value_new(&v, 'i'));
    MPT_OK(mp_queue_new(&q, 0));

    fail_typecode();
    MPT_OK(mp_value_set_int(v, 7));
    CU_ASSERT_STRING_EQUAL(mp_last_error(), "");

    /* The queue's inline put and get are the calls most likely to skip it. */
    fail_typecode();
    MPT_OK(mp_queue_put_bytes(q, "abc", 3, MP_FOREVER));
    CU_ASSERT_STRING_EQUAL(mp_last_error(), "");
    char buf[8];
    size_t n = 0;
    fail_typecode();
    MPT_OK(mp_queue_get_bytes_into(q, buf, sizeof buf, &n, MP_FOREVER));
    CU_ASSERT_STRING_EQUAL(mp_last_error(), "");
    CU_ASSERT_EQUAL(n, 3);

    mp_queue_free(q);
    mp_value_free(v);
}

static int dummy_target(const mp_args *args)
{
    (void)args;
    return 0;
}

/* A failure of each room says what failed, not only the code. */
static void test_failures_name_their_cause(void)
{
    mp_value *v = NULL;
    mp_array *a = NULL;
    mp_process *p = NULL;
    int64_t x = 0;

    CU_ASSERT_EQUAL(mp_queue_new(NULL, 0), MP_EINVAL);
    CU_ASSERT_STRING_NOT_EQUAL(mp_last_error(), "");

    MPT_OK(mp_array_new(&a, 'i', 3));
    CU_ASSERT_EQUAL(mp_array_get_int(a, 3, &x), MP_ERANGE);
    CU_ASSERT_STRING_NOT_EQUAL(mp_last_error(), "");
    mp_array_free(a);

    CU_ASSERT_EQUAL(mp_process_new(&p, NULL, MP_NO_ARGS), MP_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(mp_last_error(), "target"));

    /* An unsigned value mp_arg() cannot carry is refused, not wrapped. */
    CU_ASSERT_EQUAL(mp_process_new(&p, dummy_target, mp_args_of(1, UINT64_MAX)),
                    MP_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(mp_last_error(), "argument 1"));
    CU_ASSERT_PTR_NULL(p);

    CU_ASSERT_EQUAL(mp_value_get_int(v, &x), MP_EINVAL);
    CU_ASSERT_STRING_NOT_EQUAL(mp_last_error(), "");
}

/* Destructors and constructors return no code: they leave the message of
 * the failure a caller is cleaning up after. */
static void test_destructors_keep_message(void)
{
    mp_queue *q = NULL;
    mp_value *v = NULL;
    MPT_OK(mp_queue_new(&q, 0));
    MPT_OK(mp_value_new(&v, 'i'));
    fail_typecode();
    mp_queue_free(q);
    mp_value_free(v);
    mp_obj *d = mp_obj_dict(1, mp_obj_str("k"), mp_obj_int(1));
    CU_ASSERT_PTR_NOT_NULL(d);
    mp_obj_free(d);
    CU_ASSERT_PTR_NOT_NULL(strstr(mp_last_error(), "typecode"));
}

/* The same rules in a child of each start method: the message is the
 * child's thread's own, and a child starts with none. */
static int child_target(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    MPT_CHILD_CHECK(q != NULL);
    MPT_CHILD_CHECK(mp_last_error()[0] == '\0');
    mp_value *v = NULL;
    MPT_CHILD_CHECK(mp_value_new(&v, 'Z') == MP_EINVAL);
    MPT_CHILD_CHECK(strstr(mp_last_error(), "typecode") != NULL);
    void *data = NULL;
    size_t len = 0;
    MPT_CHILD_CHECK(mp_queue_get_bytes_nowait(q, &data, &len) == MP_EEMPTY);
    MPT_CHILD_CHECK(mp_last_error()[0] == '\0');
    return 0;
}

static void child_sequence(mp_start_method method)
{
    mp_queue *q = NULL;
    MPT_OK(mp_queue_new(&q, 0));
    CU_ASSERT_EQUAL(mpt_run(child_target, mp_args_of(q), method), 0);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(child_sequence)

void mpt_suite_base_error(void)
{
    mpt_add("base/error", "plain_outcome_leaves_no_message",
            test_plain_outcome_leaves_no_message);
    mpt_add("base/error", "success_leaves_no_message", test_success_leaves_no_message);
    mpt_add("base/error", "failures_name_their_cause", test_failures_name_their_cause);
    mpt_add("base/error", "destructors_keep_message", test_destructors_keep_message);
    MPT_BOTH("base/error", child_sequence);
}
