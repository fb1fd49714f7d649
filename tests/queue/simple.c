/* queue/simple.c - SimpleQueue: empty() seen across processes, close, a
 * put that waits for room instead of buffering (no feeder), and many
 * producers through a small ring. */
#include <string.h>

#include "stage.h"
#include "test.h"

/* Puts two empty() answers once told to start (_TestSimpleQueue). */
static int t_put_empty(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    mp_event *start = mp_args_event(args, 1), *go_on = mp_args_event(args, 2);
    MPT_CHILD_CHECK(mp_event_wait(start, MPT_JOIN_TIMEOUT) == 0);
    for (int i = 0; i < 2; i++) {
        unsigned char was_empty = (unsigned char)mp_queue_empty(q);
        MPT_CHILD_CHECK(mp_queue_put_bytes(q, &was_empty, 1, MP_FOREVER) == 0);
    }
    MPT_CHILD_CHECK(mp_event_set(go_on) == 0);
    return 0;
}

static int get_byte(mp_queue *q)
{
    unsigned char b = 0xff;
    size_t n = 0;
    int rc = mp_queue_get_bytes_into(q, &b, 1, &n, MPT_JOIN_TIMEOUT);
    return rc < 0 ? rc : n == 1 ? b : -100;
}

/* _TestSimpleQueue.test_empty: empty in the parent before the child puts,
 * the child's first look sees it empty and its second does not. */
static void empty_across(mp_start_method m)
{
    mp_queue *q;
    mp_event *start, *go_on;
    MPT_OK(mp_simple_queue_new(&q));
    MPT_OK(mp_event_new(&start));
    MPT_OK(mp_event_new(&go_on));
    mp_process *p = mpt_start(t_put_empty, mp_args_of(q, start, go_on), m);
    CU_ASSERT_EQUAL(mp_queue_empty(q), 1);
    MPT_OK(mp_event_set(start));
    MPT_OK(mp_event_wait(go_on, MPT_JOIN_TIMEOUT));
    CU_ASSERT_EQUAL(mp_queue_empty(q), 0);
    CU_ASSERT_EQUAL(get_byte(q), 1);
    CU_ASSERT_EQUAL(get_byte(q), 0);
    CU_ASSERT_EQUAL(mp_queue_empty(q), 1);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_event_free(start);
    mp_event_free(go_on);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(empty_across)

/* _TestSimpleQueue.test_close: closing twice does not fail; a closed
 * SimpleQueue refuses put, get and empty as a closed Queue does. */
static void close_twice(void)
{
    mp_queue *q;
    void *d;
    size_t n;
    MPT_OK(mp_simple_queue_new(&q));
    MPT_OK(mp_queue_put_bytes(q, "x", 1, MP_FOREVER));
    MPT_OK(mp_queue_close(q));
    MPT_OK(mp_queue_close(q));
    CU_ASSERT_EQUAL(mp_queue_is_closed(q), 1);
    MPT_EQ(mp_queue_put_bytes(q, "y", 1, MP_FOREVER), MP_ESTATE);
    MPT_EQ(mp_queue_get_bytes(q, &d, &n, 0), MP_ESTATE);
    MPT_EQ(mp_queue_empty(q), MP_ESTATE);
    mp_queue_free(q);
    MPT_EQ(mp_simple_queue_new(NULL), MP_EINVAL);
}

/* No feeder: when the ring is full, put waits for room rather than
 * buffering (a Queue's put with timeout 0 would buffer and succeed). */
static void put_waits_for_room(void)
{
    mp_queue *q;
    MPT_OK(mp_simple_queue_new_sized(&q, 8192));
    unsigned char block[1000];
    memset(block, 7, sizeof block);
    size_t put = 0;
    int rc;
    while ((rc = mp_queue_put_bytes(q, block, sizeof block, 0)) == 0)
        put++;
    MPT_EQ(rc, MP_EFULL);
    CU_ASSERT(put > 0);
    CU_ASSERT_EQUAL(mp_queue_qsize(q), put); /* nothing waits in a buffer */
    void *d;
    size_t n;
    MPT_OK(mp_queue_get_bytes(q, &d, &n, 0));
    mp_free(d);
    MPT_OK(mp_queue_put_bytes(q, block, sizeof block, 0)); /* room again */
    mp_queue_free(q);
}

enum { PRODUCERS = 3, EACH = 2000 };

/* Puts EACH numbered messages of id args[1], waiting for room as needed. */
static int t_produce(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    int64_t id;
    MPT_CHILD_CHECK(mp_args_get_int(args, 1, &id) == 0);
    for (uint32_t i = 0; i < EACH; i++) {
        uint32_t msg[2] = {(uint32_t)id, i};
        MPT_CHILD_CHECK(mp_queue_put_bytes(q, msg, sizeof msg, MP_FOREVER) == 0);
    }
    return 0;
}

/* Several producer processes through a ring that fills many times over:
 * every message arrives once, each producer's in order. */
static void many_producers(mp_start_method m)
{
    mp_queue *q;
    MPT_OK(mp_simple_queue_new_sized(&q, 4096)); /* 170 messages fill it */
    mp_process *p[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++)
        p[i] = mpt_start(t_produce, mp_args_of(q, i), m);
    uint32_t next[PRODUCERS] = {0};
    int ok = 1;
    for (int k = 0; k < PRODUCERS * EACH && ok; k++) {
        uint32_t msg[2];
        size_t n = 0;
        ok = mp_queue_get_bytes_into(q, msg, sizeof msg, &n, MPT_JOIN_TIMEOUT) == 0 &&
             n == sizeof msg && msg[0] < PRODUCERS && msg[1] == next[msg[0]]++;
    }
    CU_ASSERT_TRUE(ok);
    for (int i = 0; i < PRODUCERS; i++)
        CU_ASSERT_EQUAL(mpt_join(p[i]), 0);
    CU_ASSERT_EQUAL(mp_queue_empty(q), 1);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(many_producers)

void mpt_suite_queue_simple(void)
{
    MPT_BOTH("queue/simple", empty_across);
    mpt_add("queue/simple", "close_twice", close_twice);
    mpt_add("queue/simple", "put_waits_for_room", put_waits_for_room);
    MPT_BOTH("queue/simple", many_producers);
}
