/* queue/queue.c - Queue: order, limits, timeouts, messages larger than the
 * ring, many producers and consumers in processes and threads, the feeder,
 * and recovery from a peer killed in the middle of a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sync/pidlock.h"
#include "core/queue/testview.h"
#include "test.h"
#include "wakeup.h"

/* A message: producer id, sequence number, then filler derived from both,
 * so a consumer can check each message whole and in producer order. */
static size_t make_msg(unsigned char *buf, uint32_t id, uint32_t seq, size_t len)
{
    if (len < 8) len = 8;
    memcpy(buf, &id, 4);
    memcpy(buf + 4, &seq, 4);
    for (size_t i = 8; i < len; i++)
        buf[i] = (unsigned char)(id * 31 + seq * 7 + i);
    return len;
}

static int check_msg(const unsigned char *buf, size_t len, uint32_t *id, uint32_t *seq)
{
    if (len < 8) return 0;
    memcpy(id, buf, 4);
    memcpy(seq, buf + 4, 4);
    for (size_t i = 8; i < len; i++)
        if (buf[i] != (unsigned char)(*id * 31 + *seq * 7 + i)) return 0;
    return 1;
}

/* Message sizes that cross the ring's wrap point at every alignment. */
static size_t size_for(uint32_t seq, size_t big)
{
    static const size_t sizes[] = {8, 9, 15, 16, 17, 100, 1000, 4095, 4096, 4097};
    if (big && seq % 17 == 5) return big;
    return sizes[seq % (sizeof sizes / sizeof sizes[0])];
}

static int get_expect(mp_queue *q, const char *want)
{
    void *d = NULL;
    size_t n = 0;
    int rc = mp_queue_get_bytes(q, &d, &n, MPT_JOIN_TIMEOUT);
    int ok = rc == 0 && n == strlen(want) && memcmp(d, want, n) == 0;
    if (!ok) fprintf(stderr, "get: rc %d, %zu bytes, wanted '%s'\n", rc, n, want);
    mp_free(d);
    return ok;
}

/* ---- single process ---------------------------------------------------------- */

static void order_and_sizes(void)
{
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, 0));
    static const size_t sizes[] = {0, 1, 7, 8, 9, 4096, 100000};
    unsigned char *buf = malloc(100000), *d;
    size_t n;
    for (size_t i = 0; i < 7; i++) {
        memset(buf, (int)i + 1, sizes[i]);
        MPT_OK(mp_queue_put_bytes(q, buf, sizes[i], MP_FOREVER));
    }
    CU_ASSERT_EQUAL(mp_queue_qsize(q), 7);
    CU_ASSERT_FALSE(mp_queue_empty(q));
    CU_ASSERT_FALSE(mp_queue_full(q));
    for (size_t i = 0; i < 7; i++) {
        MPT_OK(mp_queue_get_bytes(q, (void **)&d, &n, 0));
        CU_ASSERT_EQUAL(n, sizes[i]);
        for (size_t j = 0; j < n; j++)
            if (d[j] != i + 1) {
                CU_FAIL("payload");
                break;
            }
        mp_free(d);
    }
    CU_ASSERT_EQUAL(mp_queue_empty(q), 1);
    free(buf);
    mp_queue_free(q);
}

static void empty_timeouts(void)
{
    mp_queue *q;
    void *d = (void *)1;
    size_t n = 5;
    MPT_OK(mp_queue_new(&q, 0));
    MPT_EQ(mp_queue_get_bytes_nowait(q, &d, &n), MP_EEMPTY);
    CU_ASSERT_PTR_NULL(d);
    CU_ASSERT_EQUAL(n, 0);
    uint64_t t0 = mp_os_now_ns();
    MPT_EQ(mp_queue_get_bytes(q, &d, &n, 0.05), MP_EEMPTY);
    CU_ASSERT(mp_os_now_ns() - t0 >= 50000000);
    mp_queue_free(q);
}

static void maxsize_limits(void)
{
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, 3));
    for (int i = 0; i < 3; i++)
        MPT_OK(mp_queue_put_bytes_nowait(q, "abc", 3));
    CU_ASSERT_EQUAL(mp_queue_full(q), 1);
    CU_ASSERT_EQUAL(mp_queue_qsize(q), 3);
    MPT_EQ(mp_queue_put_bytes_nowait(q, "x", 1), MP_EFULL);
    uint64_t t0 = mp_os_now_ns();
    MPT_EQ(mp_queue_put_bytes(q, "x", 1, 0.05), MP_EFULL);
    CU_ASSERT(mp_os_now_ns() - t0 >= 50000000);
    CU_ASSERT_EQUAL(mp_queue_qsize(q), 3); /* a refused put leaves no trace */
    CU_ASSERT_TRUE(get_expect(q, "abc"));
    CU_ASSERT_FALSE(mp_queue_full(q));
    MPT_OK(mp_queue_put_bytes_nowait(q, "def", 3));
    for (int i = 0; i < 2; i++)
        CU_ASSERT_TRUE(get_expect(q, "abc"));
    CU_ASSERT_TRUE(get_expect(q, "def"));
    CU_ASSERT_EQUAL(mp_queue_empty(q), 1);
    mp_queue_free(q);
}

static void misuse(void)
{
    mp_queue *q = NULL;
    void *d;
    size_t n;
    MPT_EQ(mp_queue_new(NULL, 0), MP_EINVAL);
    MPT_EQ(mp_queue_new_sized(&q, 0, ((size_t)1 << 30) + 1), MP_EINVAL);
    CU_ASSERT_PTR_NULL(q);
    MPT_OK(mp_queue_new_sized(&q, 0, 1)); /* rounded up to the minimum */
    CU_ASSERT_EQUAL(mp__queue_capacity(q), 4096);
    MPT_EQ(mp_queue_put_bytes(q, NULL, 3, 0), MP_EINVAL);
    MPT_OK(mp_queue_put_bytes(q, NULL, 0, 0));
    MPT_EQ(mp_queue_get_bytes(q, NULL, &n, 0), MP_EINVAL);
    MPT_EQ(mp_queue_join_thread(q), MP_ESTATE); /* not closed yet */
    CU_ASSERT_EQUAL(mp_queue_is_closed(q), 0);
    CU_ASSERT_EQUAL(mp_queue_empty(q), 0); /* the empty message put above */
    MPT_OK(mp_queue_close(q));
    MPT_OK(mp_queue_close(q));
    /* Closed: Python's "Queue is closed" (ValueError) for put and get,
     * and its refusal of empty(); the count goes on for other processes. */
    CU_ASSERT_EQUAL(mp_queue_is_closed(q), 1);
    MPT_EQ(mp_queue_put_bytes(q, "a", 1, 0), MP_ESTATE);
    CU_ASSERT_STRING_EQUAL(mp_last_error(), "queue is closed");
    MPT_EQ(mp_queue_get_bytes(q, &d, &n, 0), MP_ESTATE);
    MPT_EQ(mp_queue_empty(q), MP_ESTATE);
    MPT_EQ(mp_queue_full(q), MP_ESTATE);
    CU_ASSERT_EQUAL(mp_queue_qsize(q), 1);
    MPT_OK(mp_queue_join_thread(q));
    mp_queue_free(q);
    mp_queue_free(NULL);
    CU_ASSERT_EQUAL(mp_queue_qsize(NULL), 0);
}

/* With maxsize 0, put never blocks: what the ring cannot take waits in the
 * process's buffer, counted by qsize, until a consumer makes room. */
static int t_drain(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    int64_t count;
    MPT_CHILD_CHECK(mp_args_get_int(args, 1, &count) == 0);
    for (uint32_t i = 0; i < (uint32_t)count; i++) {
        unsigned char *d;
        size_t n;
        uint32_t id = 0, seq = 0;
        MPT_CHILD_CHECK(mp_queue_get_bytes(q, (void **)&d, &n, MPT_JOIN_TIMEOUT) == 0);
        int ok = check_msg(d, n, &id, &seq) && seq == i && n == size_for(i, 20000);
        mp_free(d);
        MPT_CHILD_CHECK(ok);
    }
    return 0;
}

static void put_never_blocks(mp_start_method m)
{
    mp_queue *q;
    MPT_OK(mp_queue_new_sized(&q, 0, 8192));
    enum { COUNT = 300 };
    unsigned char buf[20000];
    for (uint32_t i = 0; i < COUNT; i++) {
        size_t n = make_msg(buf, 1, i, size_for(i, 20000));
        MPT_OK(mp_queue_put_bytes(q, buf, n, 0)); /* timeout 0: would fail if it waited */
    }
    CU_ASSERT_EQUAL(mp_queue_qsize(q), COUNT);
    mp_process *p = mpt_start(t_drain, mp_args_of(q, COUNT), m);
    MPT_OK(mp_queue_close(q));
    MPT_OK(mp_queue_join_thread(q)); /* returns once the child made room for all */
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    CU_ASSERT_EQUAL(mp_queue_qsize(q), 0);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(put_never_blocks)

/* ---- across processes ---------------------------------------------------------- */

static int t_put_hello(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    MPT_CHILD_CHECK(q && mp_queue_put_bytes(q, "hello", 5, MP_FOREVER) == 0);
    return 0;
}

static void seed_program(mp_start_method m)
{
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, 0));
    mp_process *p = mpt_start(t_put_hello, mp_args_of(q), m);
    CU_ASSERT_TRUE(get_expect(q, "hello"));
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(seed_program)

/* The child puts 0..99 bytes, then one larger than the ring; the parent
 * takes them into its own buffer, first one too short by a byte. */
static int t_put_sizes(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    unsigned char buf[20000];
    for (uint32_t i = 0; i < 100; i++)
        MPT_CHILD_CHECK(mp_queue_put_bytes(q, buf, make_msg(buf, 2, i, i), MP_FOREVER) ==
                        0);
    MPT_CHILD_CHECK(
        mp_queue_put_bytes(q, buf, make_msg(buf, 2, 100, sizeof buf), MP_FOREVER) == 0);
    return 0;
}

static void get_into(mp_start_method m)
{
    mp_queue *q;
    MPT_OK(mp_queue_new_sized(&q, 0, 8192));
    mp_process *p = mpt_start(t_put_sizes, mp_args_of(q), m);
    unsigned char buf[20000];
    size_t n;
    uint32_t id, seq;
    for (uint32_t i = 0; i <= 100; i++) {
        size_t want = i < 100 ? (i < 8 ? 8 : i) : sizeof buf;
        MPT_EQ(mp_queue_get_bytes_into(q, buf, want - 1, &n, MPT_JOIN_TIMEOUT),
               MP_ETOOSHORT);
        CU_ASSERT_EQUAL(n, want); /* and the message is still there */
        MPT_OK(mp_queue_get_bytes_into(q, buf, want, &n, MPT_JOIN_TIMEOUT));
        CU_ASSERT_EQUAL(n, want);
        CU_ASSERT_TRUE(check_msg(buf, n, &id, &seq) && id == 2 && seq == i);
    }
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    MPT_EQ(mp_queue_get_bytes_into(q, buf, sizeof buf, &n, 0), MP_EEMPTY);
    MPT_EQ(mp_queue_get_bytes_into(q, NULL, 5, &n, 0), MP_EINVAL);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(get_into)

/* Every size from 0 to 130 bytes, each byte distinct from its neighbours:
 * small messages are copied in pieces that overlap (queue/layout.h,
 * q_copy), and a piece put in the wrong place shows here. The child puts
 * each size twice; the parent takes one into its buffer and one as a new
 * allocation. */
#define SMALL_MAX 130

static unsigned char small_byte(size_t size, size_t j)
{
    return (unsigned char)(size * 7 + j * 13 + 1);
}

static int t_put_small(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    unsigned char buf[SMALL_MAX];
    for (size_t size = 0; size <= SMALL_MAX; size++) {
        for (size_t j = 0; j < size; j++)
            buf[j] = small_byte(size, j);
        for (int twice = 0; twice < 2; twice++)
            MPT_CHILD_CHECK(mp_queue_put_bytes(q, buf, size, MP_FOREVER) == 0);
    }
    return 0;
}

static void every_small_size(mp_start_method m)
{
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, 0));
    mp_process *p = mpt_start(t_put_small, mp_args_of(q), m);
    unsigned char buf[SMALL_MAX + 16];
    size_t bad = 0;
    for (size_t size = 0; size <= SMALL_MAX; size++) {
        size_t n = 0;
        memset(buf, 0xee, sizeof buf);
        MPT_OK(mp_queue_get_bytes_into(q, buf, sizeof buf, &n, MPT_JOIN_TIMEOUT));
        bad += n != size;
        for (size_t j = 0; j < sizeof buf; j++)
            bad += buf[j] != (j < size ? small_byte(size, j) : 0xee);
        unsigned char *d = NULL;
        MPT_OK(mp_queue_get_bytes(q, (void **)&d, &n, MPT_JOIN_TIMEOUT));
        bad += n != size;
        for (size_t j = 0; j < n && j < size; j++)
            bad += d[j] != small_byte(size, j);
        mp_free(d);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(every_small_size)

static int t_produce(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    int64_t id, count, big;
    MPT_CHILD_CHECK(mp_args_get_int(args, 1, &id) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 2, &count) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 3, &big) == 0);
    size_t cap = big > 4097 ? (size_t)big : 4097;
    unsigned char *buf = malloc(cap);
    MPT_CHILD_CHECK(buf != NULL);
    for (uint32_t i = 0; i < (uint32_t)count; i++) {
        size_t n = make_msg(buf, (uint32_t)id, i, size_for(i, (size_t)big));
        if (mp_queue_put_bytes(q, buf, n, MP_FOREVER) != 0) {
            free(buf);
            return 2;
        }
    }
    free(buf);
    return 0; /* the runtime frees q, which waits for the feeder */
}

/* Consumes total messages from ids 0..producers-1 and checks that each
 * producer's messages are whole and in order. */
static int consume_checked(mp_queue *q, int producers, uint32_t total, size_t big)
{
    uint32_t next[16] = {0};
    for (uint32_t k = 0; k < total; k++) {
        unsigned char *d;
        size_t n;
        uint32_t id = 0, seq = 0;
        if (mp_queue_get_bytes(q, (void **)&d, &n, MPT_JOIN_TIMEOUT) != 0) return 0;
        int ok = check_msg(d, n, &id, &seq) && id < (uint32_t)producers &&
                 seq == next[id] && n == size_for(seq, big);
        mp_free(d);
        if (!ok) {
            fprintf(stderr, "message %u: id %u seq %u (wanted %u), %zu bytes\n", k, id,
                    seq, id < 16 ? next[id] : 0, n);
            return 0;
        }
        next[id]++;
    }
    return 1;
}

static void many_producers(mp_start_method m)
{
    enum { P = 4, COUNT = 2000 };
    mp_queue *q;
    MPT_OK(mp_queue_new_sized(&q, 0, 65536));
    mp_process *p[P];
    for (int i = 0; i < P; i++)
        p[i] = mpt_start(t_produce, mp_args_of(q, i, COUNT, 0), m);
    CU_ASSERT_TRUE(consume_checked(q, P, P * COUNT, 0));
    for (int i = 0; i < P; i++)
        CU_ASSERT_EQUAL(mpt_join(p[i]), 0);
    CU_ASSERT_EQUAL(mp_queue_empty(q), 1);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(many_producers)

/* Messages far larger than the ring pass through it in pieces. */
static void larger_than_ring(mp_start_method m)
{
    enum { COUNT = 60, BIG = 1 << 20 };
    mp_queue *q;
    MPT_OK(mp_queue_new_sized(&q, 0, 4096));
    mp_process *p = mpt_start(t_produce, mp_args_of(q, 0, COUNT, BIG), m);
    CU_ASSERT_TRUE(consume_checked(q, 1, COUNT, BIG));
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(larger_than_ring)

/* Consumers in other processes each count what they got into a shared
 * array; between them they see every message exactly once. */
static int t_consume_count(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    mp_array *seen = mp_args_array(args, 1);
    for (;;) {
        unsigned char *d;
        size_t n;
        uint32_t id = 0, seq = 0;
        MPT_CHILD_CHECK(mp_queue_get_bytes(q, (void **)&d, &n, MPT_JOIN_TIMEOUT) == 0);
        int ok = check_msg(d, n, &id, &seq);
        mp_free(d);
        MPT_CHILD_CHECK(ok);
        if (id == 99) return 0; /* one stop message per consumer */
        int64_t c;
        MPT_CHILD_CHECK(mp_array_lock(seen, NULL) == 0);
        MPT_CHILD_CHECK(mp_array_get_int(seen, id * 1000 + seq, &c) == 0);
        MPT_CHILD_CHECK(mp_array_set_int(seen, id * 1000 + seq, c + 1) == 0);
        MPT_CHILD_CHECK(mp_array_unlock(seen) == 0);
    }
}

static void many_consumers(mp_start_method m)
{
    enum { P = 2, C = 3, COUNT = 1000 };
    mp_queue *q;
    mp_array *seen;
    MPT_OK(mp_queue_new_sized(&q, 16, 16384));
    MPT_OK(mp_array_new(&seen, 'i', P * 1000));
    mp_process *c[C], *p[P];
    for (int i = 0; i < C; i++)
        c[i] = mpt_start(t_consume_count, mp_args_of(q, seen), m);
    for (int i = 0; i < P; i++)
        p[i] = mpt_start(t_produce, mp_args_of(q, i, COUNT, 0), m);
    for (int i = 0; i < P; i++)
        CU_ASSERT_EQUAL(mpt_join(p[i]), 0);
    unsigned char stop[8];
    make_msg(stop, 99, 0, 8);
    for (int i = 0; i < C; i++)
        MPT_OK(mp_queue_put_bytes(q, stop, 8, MP_FOREVER));
    for (int i = 0; i < C; i++)
        CU_ASSERT_EQUAL(mpt_join(c[i]), 0);
    int all_once = 1;
    for (size_t i = 0; i < P * 1000; i++) {
        int64_t v;
        MPT_OK(mp_array_get_int(seen, i, &v));
        if (v != 1) all_once = 0;
    }
    CU_ASSERT_TRUE(all_once);
    mp_array_free(seen);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(many_consumers)

/* Threads of one process share one handle. */
struct thread_job {
    mp_queue *q;
    uint32_t id;
    int ok;
};

static void thread_producer(void *arg)
{
    struct thread_job *j = arg;
    unsigned char buf[4097];
    j->ok = 1;
    for (uint32_t i = 0; i < 1500; i++) {
        size_t n = make_msg(buf, j->id, i, size_for(i, 0));
        if (mp_queue_put_bytes(j->q, buf, n, MP_FOREVER) != 0) j->ok = 0;
    }
}

static void threads(void)
{
    enum { T = 4 };
    mp_queue *q;
    MPT_OK(mp_queue_new_sized(&q, 100, 32768));
    struct thread_job jobs[T];
    mp_os_thread *t[T];
    for (uint32_t i = 0; i < T; i++) {
        jobs[i] = (struct thread_job){q, i, 0};
        MPT_OK(mp_os_thread_start(&t[i], thread_producer, &jobs[i]));
    }
    CU_ASSERT_TRUE(consume_checked(q, T, T * 1500, 0));
    for (int i = 0; i < T; i++) {
        MPT_OK(mp_os_thread_join(t[i]));
        CU_ASSERT_TRUE(jobs[i].ok);
    }
    mp_queue_free(q);
}

/* Python's trap made rare: a child that put a large item can exit before
 * anyone reads it, because the item fits in the default ring. */
static int t_put_big(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    size_t n = (size_t)1 << 20;
    unsigned char *b = malloc(n);
    MPT_CHILD_CHECK(b != NULL);
    make_msg(b, 7, 0, n);
    int rc = mp_queue_put_bytes(q, b, n, MP_FOREVER);
    free(b);
    MPT_CHILD_CHECK(rc == 0);
    return 0;
}

static void join_before_get(mp_start_method m)
{
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, 0));
    CU_ASSERT_EQUAL(mpt_run(t_put_big, mp_args_of(q), m), 0);
    CU_ASSERT_EQUAL(mp_queue_qsize(q), 1);
    unsigned char *d;
    size_t n;
    uint32_t id = 0, seq = 0;
    MPT_OK(mp_queue_get_bytes(q, (void **)&d, &n, 0));
    CU_ASSERT_EQUAL(n, (size_t)1 << 20);
    CU_ASSERT_TRUE(check_msg(d, n, &id, &seq) && id == 7);
    mp_free(d);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(join_before_get)

static void cancel_join(void)
{
    mp_queue *q;
    MPT_OK(mp_queue_new_sized(&q, 0, 4096));
    size_t n = 100000;
    unsigned char *b = calloc(1, n);
    /* No consumer will ever read this; the feeder is stuck until cancelled. */
    MPT_OK(mp_queue_put_bytes(q, b, n, 0));
    MPT_OK(mp_queue_put_bytes(q, b, n, 0));
    free(b);
    mp_queue_cancel_join_thread(q);
    MPT_OK(mp_queue_close(q));
    MPT_OK(mp_queue_join_thread(q)); /* returns at once */
    mp_queue_free(q);                /* and so does this */
}

/* ---- a peer killed in the middle of a message ------------------------------------ */

static int wait_until(mp_queue *q, int (*cond)(mp_queue *))
{
    uint64_t deadline = mp_os_now_ns() + (uint64_t)(MPT_JOIN_TIMEOUT * 1e9);
    while (!cond(q)) {
        if (mp_os_now_ns() > deadline) return 0;
        mp_os_sleep_ns(1000000);
    }
    return 1;
}

static int ring_full(mp_queue *q)
{
    return mp__queue_ring_used(q) == mp__queue_capacity(q);
}

static int t_stream_forever(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    size_t n = (size_t)1 << 20;
    unsigned char *b = calloc(1, n);
    MPT_CHILD_CHECK(b && mp_queue_put_bytes(q, b, n, 0) == 0);
    free(b);
    return 0; /* freeing q waits for the feeder, which waits for a reader */
}

static void producer_killed(mp_start_method m)
{
    mp_queue *q;
    MPT_OK(mp_queue_new_sized(&q, 0, 4096));
    mp_process *p = mpt_start(t_stream_forever, mp_args_of(q), m);
    CU_ASSERT_FATAL(wait_until(q, ring_full)); /* the child is mid-message */
    MPT_OK(mp_process_kill(p));
    CU_ASSERT_EQUAL(mpt_join(p), -9);
    /* This put cannot go straight in (a message is unfinished); the feeder
     * or the consumer below repairs the ring, and it arrives intact. */
    MPT_OK(mp_queue_put_bytes(q, "after", 5, 0));
    void *d;
    size_t n;
    MPT_EQ(mp_queue_get_bytes(q, &d, &n, MPT_JOIN_TIMEOUT), MP_EOWNERDEAD);
    CU_ASSERT_TRUE(get_expect(q, "after"));
    CU_ASSERT_EQUAL(mp_queue_empty(q), 1);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(producer_killed)

static int t_get_one(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    void *d;
    size_t n;
    MPT_CHILD_CHECK(mp_queue_get_bytes(q, &d, &n, MP_FOREVER) == 0);
    mp_free(d);
    return 0;
}

static int consumer_inside(mp_queue *q)
{
    return mp__queue_cons_left(q) > 0 && mp__queue_ring_used(q) == 0;
}

static void consumer_killed(mp_start_method m)
{
    mp_queue *q;
    MPT_OK(mp_queue_new_sized(&q, 0, 4096));
    mp_process *p = mpt_start(t_stream_forever, mp_args_of(q), m);
    CU_ASSERT_FATAL(wait_until(q, ring_full));
    MPT_OK(mp_process_kill(p));
    CU_ASSERT_EQUAL(mpt_join(p), -9);
    /* Hold the dead producer's lock, so the consumer below can neither
     * finish nor drop the message: it stays inside it until killed. */
    MPT_EQ(mp__queue_prod_grab(q), MP_EOWNERDEAD);
    mp_process *c = mpt_start(t_get_one, mp_args_of(q), m);
    CU_ASSERT_FATAL(wait_until(q, consumer_inside));
    MPT_OK(mp_process_kill(c));
    CU_ASSERT_EQUAL(mpt_join(c), -9);
    mp__queue_prod_drop(q);
    void *d;
    size_t len;
    MPT_EQ(mp_queue_get_bytes(q, &d, &len, MPT_JOIN_TIMEOUT), MP_EOWNERDEAD);
    MPT_OK(mp_queue_put_bytes(q, "next", 4, 0));
    CU_ASSERT_TRUE(get_expect(q, "next"));
    CU_ASSERT_EQUAL(mp_queue_empty(q), 1);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(consumer_killed)

/* A feeder killed between two records of one batch (or, below, as it
 * publishes them): what it had not published may be lost with it, but
 * producers and consumers must go on agreeing where each record starts.
 *
 * The child's first message waits in its feeder for room (the ring is
 * full); the four it puts then are buffered behind it, so once the parent
 * makes room the feeder writes a batch of one and then one of four. */
static void die_at_second(size_t written)
{
    if (written == 2) _Exit(9);
}

/* Killed as it publishes an even number of records (the case that takes
 * two steps): after writing a slot, before the count. */
static void die_publishing_even(uint32_t unpublished)
{
    if (unpublished % 2 == 0) _Exit(9);
}

static int t_feed_five(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    int64_t at_publish = 0;
    MPT_CHILD_CHECK(mp_args_get_int(args, 1, &at_publish) == 0);
    if (at_publish)
        mp__queue_publish_hook = die_publishing_even;
    else
        mp__queue_feeder_hook = die_at_second;
    char msg[8] = "child-1";
    MPT_CHILD_CHECK(mp_queue_put_bytes(q, msg, 7, 0) == 0);
    /* Its feeder has it and waits for room, holding the producer lock. */
    MPT_CHILD_CHECK(wait_until(q, mp__queue_prod_parked));
    for (int i = 1; i < 5; i++) {
        msg[6]++;
        MPT_CHILD_CHECK(mp_queue_put_bytes(q, msg, 7, 0) == 0);
    }
    return 0; /* freeing q waits for the feeder, which dies first */
}

static int five_buffered(mp_queue *q)
{
    return mp_queue_qsize(q) == 9;
}

static void feeder_killed(mp_start_method m, int at_publish)
{
    mp_queue *q;
    MPT_OK(mp_queue_new_sized(&q, 0, 4096));
    /* Four records of 1024 bytes fill the ring exactly. */
    unsigned char fill[1016];
    for (int i = 0; i < 4; i++) {
        memset(fill, 'a' + i, sizeof fill);
        MPT_OK(mp_queue_put_bytes(q, fill, sizeof fill, 0));
    }
    CU_ASSERT_FATAL(ring_full(q));
    mp_process *p = mpt_start(t_feed_five, mp_args_of(q, (int64_t)at_publish), m);
    CU_ASSERT_FATAL(wait_until(q, five_buffered));
    for (int i = 0; i < 4; i++) {
        void *d;
        size_t n;
        MPT_OK(mp_queue_get_bytes(q, &d, &n, MPT_JOIN_TIMEOUT));
        CU_ASSERT_TRUE(n == sizeof fill && ((unsigned char *)d)[0] == 'a' + i);
        mp_free(d);
    }
    CU_ASSERT_EQUAL(mpt_join(p), 9);
    MPT_OK(mp_queue_put_bytes(q, "after", 5, 0));
    /* What arrives: child-1 (its own batch), perhaps more of the child's
     * in order, then ours. */
    char want[8] = "child-1";
    for (;;) {
        void *d = NULL;
        size_t n = 0;
        int rc = mp_queue_get_bytes(q, &d, &n, 30.0); /* all are there */
        MPT_OK(rc);
        if (rc < 0) break;
        int after = n == 5 && memcmp(d, "after", 5) == 0;
        int next = n == 7 && memcmp(d, want, 7) == 0;
        mp_free(d);
        if (after) break;
        CU_ASSERT_TRUE(next);
        if (!next) break;
        want[6]++;
    }
    CU_ASSERT_TRUE(want[6] > '1' && want[6] < '5'); /* not all: it died mid-batch */
    CU_ASSERT_EQUAL(mp_queue_qsize(q), 0);
    MPT_OK(mp_queue_put_bytes(q, "again", 5, 0));
    CU_ASSERT_TRUE(get_expect(q, "again"));
    mp_queue_free(q);
}

static void feeder_killed_mid_batch(mp_start_method m)
{
    feeder_killed(m, 0);
}
MPT_DEFINE_BOTH(feeder_killed_mid_batch)

static void feeder_killed_publishing(mp_start_method m)
{
    feeder_killed(m, 1);
}
MPT_DEFINE_BOTH(feeder_killed_publishing)

/* free() after cancel_join_thread returns even while this process's
 * feeder waits for the producer lock that another process holds for as
 * long as its stream takes (here: forever, nobody reads). */
static int feeder_waits_for_lock(mp_queue *q)
{
    return mp__queue_prod_waiters(q) > 0;
}

static void cancel_while_lock_busy(mp_start_method m)
{
    mp_queue *q;
    MPT_OK(mp_queue_new_sized(&q, 0, 4096));
    mp_process *p = mpt_start(t_stream_forever, mp_args_of(q), m);
    CU_ASSERT_FATAL(wait_until(q, ring_full)); /* the child holds the lock */
    MPT_OK(mp_queue_put_bytes(q, "hi", 2, 0)); /* buffered: the lock is busy */
    CU_ASSERT_FATAL(wait_until(q, feeder_waits_for_lock));
    mp_queue_cancel_join_thread(q);
    mp_queue_free(q); /* must not wait for the child */
    MPT_OK(mp_process_kill(p));
    CU_ASSERT_EQUAL(mpt_join(p), -9);
}
MPT_DEFINE_BOTH(cancel_while_lock_busy)

/* ---- keeping behind streaming producers ------------------------------------------ */

/* Puts "m0" .. "m3", each when the parent cues it. */
static int t_put_on_cue(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0), *cue = mp_args_queue(args, 1);
    char msg[3] = "m0";
    for (int i = 0; i < 4; i++, msg[1]++) {
        void *d = NULL;
        size_t n;
        MPT_CHILD_CHECK(mp_queue_get_bytes(cue, &d, &n, MPT_JOIN_TIMEOUT) == 0);
        mp_free(d);
        MPT_CHILD_CHECK(mp_queue_put_bytes(q, msg, 2, 0) == 0);
    }
    return 0;
}

static int one_waiting(mp_queue *q)
{
    return mp_queue_qsize(q) == 1;
}

/* Cues the child's next put and waits until it is in the queue. */
static int cue_one(mp_queue *q, mp_queue *cue)
{
    return mp_queue_put_bytes(cue, "go", 2, 0) == 0 && wait_until(q, one_waiting);
}

/* A consumer waits for producers to get ahead only while they stream: a
 * message found right after another is waited on for one look when
 * nothing follows it, not for the whole lag; a get that may not wait, or
 * one after the queue was found empty, does not wait at all. */
static void lag_only_while_streaming(mp_start_method m)
{
    mp_queue *q, *cue;
    MPT_OK(mp_queue_new(&q, 0));
    MPT_OK(mp_queue_new(&cue, 0));
    mp_process *p = mpt_start(t_put_on_cue, mp_args_of(q, cue), m);
    uint32_t lag = mp__queue_lag_enabled() ? 1 : 0;

    CU_ASSERT_FATAL(cue_one(q, cue));
    uint32_t r = mp__queue_lag_rounds();
    CU_ASSERT_TRUE(get_expect(q, "m0")); /* the first look: nothing streams */
    CU_ASSERT_EQUAL(mp__queue_lag_rounds() - r, 0);

    CU_ASSERT_FATAL(cue_one(q, cue));
    r = mp__queue_lag_rounds();
    CU_ASSERT_TRUE(get_expect(q, "m1")); /* found after m0: one look, no more */
    CU_ASSERT_EQUAL(mp__queue_lag_rounds() - r, lag);

    CU_ASSERT_FATAL(cue_one(q, cue));
    r = mp__queue_lag_rounds();
    void *d = NULL;
    size_t n = 0;
    MPT_OK(mp_queue_get_bytes_nowait(q, &d, &n)); /* may not wait */
    CU_ASSERT_TRUE(n == 2 && memcmp(d, "m2", 2) == 0);
    mp_free(d);
    CU_ASSERT_EQUAL(mp__queue_lag_rounds() - r, 0);

    MPT_EQ(mp_queue_get_bytes_nowait(q, &d, &n), MP_EEMPTY); /* the stream stops */
    CU_ASSERT_FATAL(cue_one(q, cue));
    r = mp__queue_lag_rounds();
    CU_ASSERT_TRUE(get_expect(q, "m3"));
    CU_ASSERT_EQUAL(mp__queue_lag_rounds() - r, 0);

    CU_ASSERT_EQUAL(mpt_join(p), 0);
    CU_ASSERT_EQUAL(mp_queue_empty(q), 1);
    mp_queue_free(cue);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(lag_only_while_streaming)

/* The producers' lock follows the lock protocol of lock.h: a waiter must
 * not sleep through the wake-up marked for it (wakeup.h). */
static int grab_producers(void *q)
{
    return mp__queue_prod_grab(q);
}

static void drop_producers(void *q)
{
    mp__queue_prod_drop(q);
}

static void grab_and_drop(void *q)
{
    CU_ASSERT_EQUAL(grab_producers(q), 0);
    drop_producers(q);
}

static void lock_wakeup_not_slept_through(void)
{
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, 0));
    uint32_t slept_out =
        mpt_wakeup_scenario(grab_producers, drop_producers, grab_and_drop, q);
    CU_ASSERT_EQUAL(slept_out, 0);
    mp_queue_free(q);
}

void mpt_suite_queue(void)
{
    mpt_add("queue", "order_and_sizes", order_and_sizes);
    mpt_add("queue", "empty_timeouts", empty_timeouts);
    mpt_add("queue", "maxsize_limits", maxsize_limits);
    mpt_add("queue", "misuse", misuse);
    mpt_add("queue", "threads", threads);
    mpt_add("queue", "lock_wakeup_not_slept_through", lock_wakeup_not_slept_through);
    mpt_add("queue", "cancel_join", cancel_join);
    MPT_BOTH("queue", put_never_blocks);
    MPT_BOTH("queue", lag_only_while_streaming);
    MPT_BOTH("queue", seed_program);
    MPT_BOTH("queue", get_into);
    MPT_BOTH("queue", every_small_size);
    MPT_BOTH("queue", many_producers);
    MPT_BOTH("queue", larger_than_ring);
    MPT_BOTH("queue", many_consumers);
    MPT_BOTH("queue", join_before_get);
    MPT_BOTH("queue", producer_killed);
    MPT_BOTH("queue", consumer_killed);
    MPT_BOTH("queue", cancel_while_lock_busy);
    MPT_BOTH("queue", feeder_killed_mid_batch);
    MPT_BOTH("queue", feeder_killed_publishing);
}
