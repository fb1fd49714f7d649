/* conn/wait.c - mp_wait over connections, listeners, queues, process
 * sentinels, the parent and raw handles, across processes. Mirrors
 * _test_multiprocessing's _TestWait (test_wait, test_wait_timeout,
 * test_wait_integer) and adds what Python's wait cannot take (a queue),
 * a list of 200 connections (past Windows' 64 objects), and the parent
 * seen ending by a wait in its child. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stage.h"
#include "test.h"

/* Sends ten messages (i, its pid) and closes (_child_test_wait). */
static int t_send_ten(const mp_args *args)
{
    mp_conn *w = mp_args_conn(args, 0);
    for (int64_t i = 0; i < 10; i++) {
        int64_t msg[2] = {i, mp_current_process().pid};
        MPT_CHILD_CHECK(mp_conn_send_bytes(w, msg, 0, sizeof msg) == 0);
        if (i % 3 == 0) mpt_sleep_ms(3);
    }
    mp_conn_close(w);
    return 0;
}

/* _TestWait.test_wait: four children write into four pipes; waiting on
 * the readers until each says end of file receives every message. */
static void wait_readers(mp_start_method m)
{
    enum { N = 4 };
    mp_conn *r[N], *w;
    mp_process *p[N];
    mp_waitable list[N];
    int open[N], got[N][10];
    memset(got, 0, sizeof got);
    for (int i = 0; i < N; i++) {
        MPT_OK(mp_pipe(&r[i], &w, 0));
        p[i] = mpt_start(t_send_ten, mp_args_of(w), m);
        mp_conn_close(w);
        open[i] = 1;
    }
    int left = N, messages = 0, rounds = 0;
    while (left > 0 && rounds++ < 10000) {
        size_t k = 0, map[N], ready[N];
        for (int i = 0; i < N; i++)
            if (open[i]) {
                map[k] = (size_t)i;
                list[k++] = mp_waitable_conn(r[i]);
            }
        int n = mp_wait(list, k, MPT_JOIN_TIMEOUT, ready);
        CU_ASSERT_FATAL(n > 0);
        for (int j = 0; j < n; j++) {
            size_t i = map[ready[j]];
            int64_t msg[2];
            size_t len = 0;
            int rc = mp_conn_recv_bytes_into(r[i], msg, sizeof msg, 0, &len);
            if (rc == MP_ECLOSED) {
                open[i] = 0;
                left--;
                continue;
            }
            MPT_OK(rc);
            CU_ASSERT_EQUAL(len, sizeof msg);
            CU_ASSERT_EQUAL(msg[1], mp_process_pid(p[i]));
            if (msg[0] >= 0 && msg[0] < 10) got[i][msg[0]]++;
            messages++;
        }
    }
    CU_ASSERT_EQUAL(left, 0);
    CU_ASSERT_EQUAL(messages, N * 10);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < 10; j++)
            CU_ASSERT_EQUAL(got[i][j], 1);
        CU_ASSERT_EQUAL(mpt_join(p[i]), 0);
        mp_conn_close(r[i]);
    }
}
MPT_DEFINE_BOTH(wait_readers)

/* _TestWait.test_wait_timeout: nothing ready is an empty answer at the
 * timeout; a message makes the connection ready. */
static void timeout_then_ready(void)
{
    mp_conn *a, *b;
    size_t ready[2] = {99, 99};
    MPT_OK(mp_pipe(&a, &b, 1));
    mp_waitable list[2] = {mp_waitable_conn(a), mp_waitable_conn(b)};
    MPT_EQ(mp_wait(list, 2, 0.05, ready), 0);
    MPT_EQ(mp_wait(list, 2, 0, ready), 0);
    CU_ASSERT_EQUAL(ready[0], 99); /* nothing written on a timeout */
    MPT_OK(mp_conn_send_bytes(b, "x", 0, 1));
    MPT_EQ(mp_wait(list, 2, MPT_JOIN_TIMEOUT, ready), 1);
    CU_ASSERT_EQUAL(ready[0], 0);
    /* An empty message is a message (on a Windows pipe the wait takes it
     * off the pipe, and the next receive must still hand it out). */
    char buf[4];
    size_t len = 9;
    MPT_OK(mp_conn_recv_bytes_into(a, buf, sizeof buf, 0, &len));
    MPT_OK(mp_conn_send_bytes(a, "", 0, 0));
    MPT_EQ(mp_wait(list, 2, MPT_JOIN_TIMEOUT, ready), 1);
    CU_ASSERT_EQUAL(ready[0], 1);
    MPT_EQ(mp_wait(list + 1, 1, 0, NULL), 1); /* still ready: nothing was received */
    MPT_OK(mp_conn_recv_bytes_into(b, buf, sizeof buf, 0, &len));
    CU_ASSERT_EQUAL(len, 0);
    MPT_EQ(mp_wait(list, 2, 0, ready), 0);
    mp_conn_close(a);
    mp_conn_close(b);
}

/* Takes the semaphore's first release as its cue to exit. */
static int t_end_on_cue(const mp_args *args)
{
    mp_semaphore *cue = mp_args_semaphore(args, 0);
    MPT_CHILD_CHECK(mp_semaphore_acquire(cue, MPT_JOIN_TIMEOUT) == 0);
    return 0;
}

/* _TestWait.test_wait_integer: a process sentinel beside connections;
 * each becomes ready on its own, and every one ready is reported. */
static void sentinel_and_conns(mp_start_method m)
{
    mp_conn *a, *b;
    mp_semaphore *cue;
    size_t ready[3];
    MPT_OK(mp_pipe(&a, &b, 1));
    MPT_OK(mp_semaphore_new(&cue, 0));
    mp_process *p = mpt_start(t_end_on_cue, mp_args_of(cue), m);
    mp_waitable list[3] = {mp_waitable_conn(a), mp_waitable_process(p),
                           mp_waitable_conn(b)};
    MPT_EQ(mp_wait(list, 3, 0.05, ready), 0);
    MPT_OK(mp_semaphore_release(cue));
    MPT_EQ(mp_wait(list, 3, MPT_JOIN_TIMEOUT, ready), 1);
    CU_ASSERT_EQUAL(ready[0], 1);
    MPT_OK(mp_conn_send_bytes(a, "x", 0, 1));
    MPT_EQ(mp_wait(list, 3, MPT_JOIN_TIMEOUT, ready), 2);
    CU_ASSERT(ready[0] == 1 && ready[1] == 2);
    MPT_OK(mp_conn_send_bytes(b, "y", 0, 1));
    MPT_EQ(mp_wait(list, 3, MPT_JOIN_TIMEOUT, ready), 3);
    CU_ASSERT(ready[0] == 0 && ready[1] == 1 && ready[2] == 2);
    /* Joined, the sentinel stays ready until the process is closed. */
    MPT_OK(mp_process_join(p, MPT_JOIN_TIMEOUT));
    MPT_EQ(mp_wait(list + 1, 1, 0, NULL), 1);
    /* The raw sentinel, as Python passes p.sentinel. */
    intptr_t h;
    MPT_OK(mp_process_sentinel(p, &h));
    mp_waitable raw = mp_waitable_handle(h);
    MPT_EQ(mp_wait(&raw, 1, 0, NULL), 1);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_semaphore_free(cue);
    mp_conn_close(a);
    mp_conn_close(b);
}
MPT_DEFINE_BOTH(sentinel_and_conns)

/* Puts one message once cued. */
static int t_put_on_cue(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    mp_semaphore *cue = mp_args_semaphore(args, 1);
    MPT_CHILD_CHECK(mp_semaphore_acquire(cue, MPT_JOIN_TIMEOUT) == 0);
    MPT_CHILD_CHECK(mp_queue_put_bytes(q, "q", 1, MP_FOREVER) == 0);
    return 0;
}

/* A queue in the list (which Python's wait cannot take): ready once a
 * message from another process is in it, not before; a closed one is
 * refused. */
static void queue_ready(mp_start_method m)
{
    mp_queue *q;
    mp_conn *a, *b;
    mp_semaphore *cue;
    size_t ready[2];
    MPT_OK(mp_queue_new(&q, 0));
    MPT_OK(mp_pipe(&a, &b, 1));
    MPT_OK(mp_semaphore_new(&cue, 0));
    mp_process *p = mpt_start(t_put_on_cue, mp_args_of(q, cue), m);
    mp_waitable list[2] = {mp_waitable_conn(a), mp_waitable_queue(q)};
    MPT_EQ(mp_wait(list, 2, 0.05, ready), 0);
    MPT_OK(mp_semaphore_release(cue));
    MPT_EQ(mp_wait(list, 2, MPT_JOIN_TIMEOUT, ready), 1);
    CU_ASSERT_EQUAL(ready[0], 1);
    void *d;
    size_t n;
    MPT_OK(mp_queue_get_bytes(q, &d, &n, 0)); /* the wait took nothing */
    mp_free(d);
    MPT_EQ(mp_wait(list, 2, 0, ready), 0);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    MPT_OK(mp_queue_close(q));
    MPT_EQ(mp_wait(list, 2, 0, ready), MP_ESTATE);
    mp_semaphore_free(cue);
    mp_queue_free(q);
    mp_conn_close(a);
    mp_conn_close(b);
}
MPT_DEFINE_BOTH(queue_ready)

enum { MANY = 200 };

/* Writes one byte into the connections at the positions given. */
static int t_write_at(const mp_args *args)
{
    for (size_t i = 0; i + 1 < mp_args_count(args); i += 2) {
        mp_conn *c = mp_args_conn(args, i);
        int64_t pos;
        MPT_CHILD_CHECK(mp_args_get_int(args, i + 1, &pos) == 0);
        mpt_sleep_ms(20);
        MPT_CHILD_CHECK(mp_conn_send_bytes(c, &pos, 0, sizeof pos) == 0);
    }
    return 0;
}

/* 200 connections (CPython before 3.13 refused more than 63 on Windows):
 * the ones written from another process are reported, all of them, and
 * only they. */
static void two_hundred(mp_start_method m)
{
    mp_conn *r[MANY], *w[MANY];
    mp_waitable list[MANY];
    size_t ready[MANY];
    for (int i = 0; i < MANY; i++) {
        MPT_OK(mp_pipe(&r[i], &w[i], 0));
        list[i] = mp_waitable_conn(r[i]);
    }
    MPT_EQ(mp_wait(list, MANY, 0.02, ready), 0);
    mp_process *p = mpt_start(t_write_at, mp_args_of(w[150], 150, w[199], 199), m);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    MPT_EQ(mp_wait(list, MANY, MPT_JOIN_TIMEOUT, ready), 2);
    CU_ASSERT(ready[0] == 150 && ready[1] == 199);
    /* A wake-up while waiting, from past the first 64. */
    p = mpt_start(t_write_at, mp_args_of(w[70], 70), m);
    int64_t pos;
    size_t len;
    MPT_OK(mp_conn_recv_bytes_into(r[150], &pos, sizeof pos, 0, &len));
    MPT_OK(mp_conn_recv_bytes_into(r[199], &pos, sizeof pos, 0, &len));
    MPT_EQ(mp_wait(list, MANY, MPT_JOIN_TIMEOUT, ready), 1);
    CU_ASSERT_EQUAL(ready[0], 70);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    for (int i = 0; i < MANY; i++) {
        mp_conn_close(r[i]);
        mp_conn_close(w[i]);
    }
}
MPT_DEFINE_BOTH(two_hundred)

static int t_connect(const mp_args *args)
{
    const char *host;
    int64_t port;
    mp_conn *c;
    MPT_CHILD_CHECK(mp_args_get_str(args, 0, &host) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 1, &port) == 0);
    MPT_CHILD_CHECK(mp_client_tcp(&c, host, (int)port, NULL, 0) == 0);
    MPT_CHILD_CHECK(mp_conn_send_bytes(c, "hi", 0, 2) == 0);
    mp_conn_close(c);
    return 0;
}

/* A listener is ready when a client waits to be accepted. */
static void listener_ready(mp_start_method m)
{
    mp_listener *l;
    size_t ready[1];
    MPT_OK(mp_listener_new_tcp(&l, "127.0.0.1", 0, 4, NULL, 0));
    mp_waitable list[1] = {mp_waitable_listener(l)};
    MPT_EQ(mp_wait(list, 1, 0.02, ready), 0);
    mp_process *p =
        mpt_start(t_connect, mp_args_of("127.0.0.1", (int64_t)mp_listener_port(l)), m);
    MPT_EQ(mp_wait(list, 1, MPT_JOIN_TIMEOUT, ready), 1);
    mp_conn *c;
    MPT_OK(mp_listener_accept(l, &c));
    char buf[4];
    size_t len = 0;
    MPT_OK(mp_conn_recv_bytes_into(c, buf, sizeof buf, 0, &len));
    CU_ASSERT(len == 2 && memcmp(buf, "hi", 2) == 0);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_conn_close(c);
    mp_listener_close(l);
}
MPT_DEFINE_BOTH(listener_ready)

/* The grandchild: waits on its parent (and on nothing else) and reports
 * 2 when the wait said it ended, 3 if it did not within the limit. */
static int t_wait_parent(const mp_args *args)
{
    mp_value *state = mp_args_value(args, 0);
    mp_waitable parent = mp_waitable_parent();
    size_t ready[1];
    mp_value_set_int(state, 1);
    int n = mp_wait(&parent, 1, MPT_JOIN_TIMEOUT, ready);
    mp_value_set_int(state, n == 1 && ready[0] == 0 && mp_parent_is_alive() == 0 ? 2 : 3);
    return n == 1 ? 0 : 1;
}

static int t_start_parent_waiter(const mp_args *args)
{
    mp_process *g;
    MPT_CHILD_CHECK(
        mp_process_new(&g, t_wait_parent, mp_args_of(mp_args_value(args, 0))) == 0);
    MPT_CHILD_CHECK(mp_process_start(g) == 0);
    mpt_sleep_ms((int)(MPT_JOIN_TIMEOUT * 1000));
    return 1;
}

/* A child's wait on its parent returns when the parent is killed (Python
 * waits on parent_process().sentinel). */
static void parent_ends(mp_start_method m)
{
    mp_value *state;
    int64_t st = 0;
    MPT_OK(mp_value_new(&state, 'q'));
    mp_process *p = mpt_start(t_start_parent_waiter, mp_args_of(state), m);
    CU_ASSERT_TRUE_FATAL(mpt_stage_wait(state, 1));
    mpt_sleep_ms(30); /* into its wait */
    MPT_OK(mp_value_get_int(state, &st));
    CU_ASSERT_EQUAL(st, 1); /* still waiting: the parent lives */
    MPT_OK(mp_process_kill(p));
    CU_ASSERT(mpt_join(p) != 0);
    mpt_stage_wait(state, 2);
    MPT_OK(mp_value_get_int(state, &st));
    CU_ASSERT_EQUAL(st, 2);
    mp_value_free(state);
}
MPT_DEFINE_BOTH(parent_ends)

/* Bad lists give a code and write nothing. */
static void misuse(void)
{
    mp_conn *a, *b;
    mp_process *p;
    size_t ready[2] = {99, 99};
    MPT_OK(mp_pipe(&a, &b, 0));
    mp_waitable list[2] = {mp_waitable_conn(a), mp_waitable_conn(b)};
    MPT_EQ(mp_wait(NULL, 1, 0, ready), MP_EINVAL);
    MPT_OK(mp_wait(NULL, 0, 0, ready));
    MPT_EQ(mp_wait(list, 1, NAN, ready), MP_EINVAL);
    MPT_EQ(mp_wait(list, 2, 0, ready), MP_ESTATE); /* b is write-only */
    mp_waitable bad = mp_wait_on((mp_wait_kind)99, a, -1);
    MPT_EQ(mp_wait(&bad, 1, 0, ready), MP_EINVAL);
    bad = mp_waitable_conn(NULL);
    MPT_EQ(mp_wait(&bad, 1, 0, ready), MP_EINVAL);
    bad = mp_waitable_handle(-1);
    MPT_EQ(mp_wait(&bad, 1, 0, ready), MP_EINVAL);
    bad = mp_waitable_parent(); /* the main process has none */
    MPT_EQ(mp_wait(&bad, 1, 0, ready), MP_ESTATE);
    MPT_OK(mp_process_new(&p, t_end_on_cue, mp_args_of(0)));
    bad = mp_waitable_process(p); /* not started */
    MPT_EQ(mp_wait(&bad, 1, 0, ready), MP_ESTATE);
    MPT_OK(mp_process_free(p));
    CU_ASSERT_EQUAL(ready[0], 99);
    mp_conn_close(a);
    mp_conn_close(b);
}

void mpt_suite_conn_wait(void)
{
    MPT_BOTH("conn/wait", wait_readers);
    mpt_add("conn/wait", "timeout_then_ready", timeout_then_ready);
    MPT_BOTH("conn/wait", sentinel_and_conns);
    MPT_BOTH("conn/wait", queue_ready);
    MPT_BOTH("conn/wait", two_hundred);
    MPT_BOTH("conn/wait", listener_ready);
    MPT_BOTH("conn/wait", parent_ends);
    mpt_add("conn/wait", "misuse", misuse);
}
