/* runtime/process.c - Process: start methods, arguments, join, exit codes,
 * terminate/kill, and every misuse error. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* ---- targets (run in the child) --------------------------------------------- */

static int t_return_arg(const mp_args *args)
{
    int64_t v = -1;
    if (mp_args_get_int(args, 0, &v) < 0) return 99;
    return (int)v;
}

static int t_check_plain(const mp_args *args)
{
    int64_t i;
    double d;
    const char *s;
    const void *b;
    size_t n;
    MPT_CHILD_CHECK(mp_args_count(args) == 5);
    MPT_CHILD_CHECK(mp_args_get_int(args, 0, &i) == 0 && i == -1234567890123LL);
    MPT_CHILD_CHECK(mp_args_get_double(args, 1, &d) == 0 && d == 2.5);
    MPT_CHILD_CHECK(mp_args_get_str(args, 2, &s) == 0 && strcmp(s, "h\xc3\xa9llo") == 0);
    MPT_CHILD_CHECK(mp_args_get_bytes(args, 3, &b, &n) == 0 && n == 4 &&
                    memcmp(b, "\0a\0b", 4) == 0);
    MPT_CHILD_CHECK(mp_args_get_str(args, 4, &s) == 0 && s[0] == '\0');
    /* Wrong types are errors, not garbage. */
    MPT_CHILD_CHECK(mp_args_get_int(args, 1, &i) == MP_EINVAL);
    MPT_CHILD_CHECK(mp_args_get_str(args, 0, &s) == MP_EINVAL);
    MPT_CHILD_CHECK(mp_args_get_double(args, 0, &d) == 0 && d == -1234567890123.0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 5, &i) == MP_EINVAL);
    MPT_CHILD_CHECK(mp_args_type(args, 2) == MP_ARG_STR);
    MPT_CHILD_CHECK(mp_args_type(args, 5) == MP_ARG_NONE);
    MPT_CHILD_CHECK(mp_args_value(args, 0) == NULL && mp_args_queue(args, 1) == NULL);
    MPT_CHILD_CHECK(mp_args_array(args, 2) == NULL && mp_args_conn(args, 3) == NULL);
    return 0;
}

static int t_sum16(const mp_args *args)
{
    int64_t sum = 0;
    if (mp_args_count(args) != 16) return 98;
    for (size_t i = 0; i < 16; i++) {
        int64_t v;
        if (mp_args_get_int(args, i, &v) < 0) return 97;
        sum += v;
    }
    return (int)sum; /* 1 + ... + 16 = 136 */
}

static int t_big_bytes(const mp_args *args)
{
    const void *b;
    size_t n;
    MPT_CHILD_CHECK(mp_args_get_bytes(args, 0, &b, &n) == 0 && n == (1u << 20));
    const unsigned char *p = b;
    for (size_t i = 0; i < n; i++)
        MPT_CHILD_CHECK(p[i] == (unsigned char)(i * 7 + 3));
    return 0;
}

/* Blocks until the parent puts something, then returns it as exit code. */
static int t_wait_queue(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    void *d;
    size_t n;
    MPT_CHILD_CHECK(q != NULL);
    MPT_CHILD_CHECK(mp_queue_get_bytes(q, &d, &n, MP_FOREVER) == 0 && n == 1);
    int code = ((unsigned char *)d)[0];
    mp_free(d);
    return code;
}

static int t_abort(const mp_args *args)
{
    (void)args;
    abort();
}

static int t_grandchild(const mp_args *args)
{
    mp_start_method m = MP_START_SPAWN;
    int64_t v;
    MPT_CHILD_CHECK(mp_args_get_int(args, 0, &v) == 0);
    mp_process *p;
    MPT_CHILD_CHECK(mp_process_new(&p, t_return_arg, mp_args_of(v)) == 0);
    MPT_CHILD_CHECK(mp_process_set_start_method(p, m) == 0);
    MPT_CHILD_CHECK(mp_process_start(p) == 0);
    MPT_CHILD_CHECK(mp_process_join(p, MPT_JOIN_TIMEOUT) == 0);
    int code = -1;
    MPT_CHILD_CHECK(mp_process_exitcode(p, &code) == 0);
    MPT_CHILD_CHECK(mp_process_free(p) == 0);
    return code + 1;
}

/* conn.close() inside the target, as the seed's Pipe program does: the
 * end really closes while the child lives on, and later calls fail
 * cleanly instead of touching freed memory. */
static int t_send_close_wait(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    mp_queue *q = mp_args_queue(args, 1);
    MPT_CHILD_CHECK(mp_conn_send_bytes(c, "x", 0, 1) == 0);
    mp_conn_close(c);
    MPT_CHILD_CHECK(mp_conn_send_bytes(c, "y", 0, 1) == MP_ESTATE);
    mp_conn_close(c); /* twice is harmless */
    void *d;
    size_t n;
    MPT_CHILD_CHECK(mp_queue_get_bytes(q, &d, &n, MPT_JOIN_TIMEOUT) == 0);
    mp_free(d);
    return 0;
}

static int fork_global = 1;

static int t_fork_sees_globals(const mp_args *args)
{
    (void)args;
    return fork_global; /* a forked child inherits the parent's memory */
}

/* ---- tests ------------------------------------------------------------------- */

static void exit_code(mp_start_method m)
{
    CU_ASSERT_EQUAL(mpt_run(t_return_arg, mp_args_of(0), m), 0);
    CU_ASSERT_EQUAL(mpt_run(t_return_arg, mp_args_of(7), m), 7);
    CU_ASSERT_EQUAL(mpt_run(t_return_arg, mp_args_of(255), m), 255);
}
MPT_DEFINE_BOTH(exit_code)

static void plain_args(mp_start_method m)
{
    mp_arg args[] = {mp_arg(-1234567890123LL), mp_arg(2.5), mp_arg("h\xc3\xa9llo"),
                     mp_arg_bytes("\0a\0b", 4), mp_arg("")};
    CU_ASSERT_EQUAL(mpt_run(t_check_plain, mp_arglist_make(args, 5), m), 0);
}
MPT_DEFINE_BOTH(plain_args)

static void sixteen_args(mp_start_method m)
{
    CU_ASSERT_EQUAL(
        mpt_run(t_sum16,
                mp_args_of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), m),
        136);
}
MPT_DEFINE_BOTH(sixteen_args)

static void big_bytes_arg(mp_start_method m)
{
    size_t n = 1u << 20;
    unsigned char *b = malloc(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(i * 7 + 3);
    mp_process *p;
    MPT_OK(mp_process_new(&p, t_big_bytes, mp_args_of(mp_arg_bytes(b, n))));
    /* The process copied the bytes: the caller's buffer may go now. */
    memset(b, 0, n);
    free(b);
    MPT_OK(mp_process_set_start_method(p, m));
    MPT_OK(mp_process_start(p));
    CU_ASSERT_EQUAL(mpt_join(p), 0);
}
MPT_DEFINE_BOTH(big_bytes_arg)

static void join_timeout(mp_start_method m)
{
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, 0));
    mp_process *p = mpt_start(t_wait_queue, mp_args_of(q), m);
    CU_ASSERT(mp_process_pid(p) > 0);
    MPT_EQ(mp_process_join(p, 0), MP_ETIMEDOUT);
    MPT_EQ(mp_process_join(p, 0.05), MP_ETIMEDOUT);
    CU_ASSERT_EQUAL(mp_process_is_alive(p), 1);
    int code;
    MPT_EQ(mp_process_exitcode(p, &code), MP_ESTATE);
    MPT_EQ(mp_process_free(p), MP_ESTATE); /* still running: nothing released */
    MPT_OK(mp_queue_put_bytes(q, "\x2a", 1, MP_FOREVER));
    MPT_OK(mp_process_join(p, MPT_JOIN_TIMEOUT));
    CU_ASSERT_EQUAL(mp_process_is_alive(p), 0);
    MPT_OK(mp_process_exitcode(p, &code));
    CU_ASSERT_EQUAL(code, 42);
    MPT_OK(mp_process_join(p, 0)); /* joining an ended process is fine */
    MPT_OK(mp_process_free(p));
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(join_timeout)

/* _TestProcess.test_close: close refuses a running child, then every use
 * but the name (and free) is refused; closing twice is harmless. */
static void closed(mp_start_method m)
{
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, 0));
    mp_process *p = mpt_start(t_wait_queue, mp_args_of(q), m);
    MPT_EQ(mp_process_set_name(p, "Closing"), MP_ESTATE); /* named at the start */
    CU_ASSERT_EQUAL(mp_process_is_alive(p), 1);
    MPT_EQ(mp_process_close(p), MP_ESTATE);
    CU_ASSERT_EQUAL(mp_process_is_alive(p), 1); /* the refusal spoiled nothing */
    MPT_OK(mp_queue_put_bytes(q, "\x00", 1, MP_FOREVER));
    MPT_OK(mp_process_join(p, MPT_JOIN_TIMEOUT));
    int code = -1;
    MPT_OK(mp_process_exitcode(p, &code));
    CU_ASSERT_EQUAL(code, 0);
    const char *name = mp_process_name(p);
    MPT_OK(mp_process_close(p));
    MPT_EQ(mp_process_is_alive(p), MP_ESTATE);
    MPT_EQ(mp_process_join(p, 0), MP_ESTATE);
    CU_ASSERT_STRING_EQUAL(mp_last_error(), "process object is closed");
    MPT_EQ(mp_process_terminate(p), MP_ESTATE);
    MPT_EQ(mp_process_kill(p), MP_ESTATE);
    MPT_EQ(mp_process_exitcode(p, &code), MP_ESTATE);
    CU_ASSERT_EQUAL(mp_process_pid(p), MP_ESTATE);
    intptr_t h;
    MPT_EQ(mp_process_sentinel(p, &h), MP_ESTATE);
    MPT_EQ(mp_process_start(p), MP_ESTATE);
    MPT_EQ(mp_process_set_daemon(p, 1), MP_ESTATE);
    CU_ASSERT_PTR_EQUAL(mp_process_name(p), name); /* Python's name still answers */
    MPT_OK(mp_process_close(p));
    MPT_OK(mp_process_free(p));
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(closed)

/* Windows has no signals: the layer ends a process with TerminateProcess
 * and the exit code 0x10000 + N, which mp_process reports as -N, so
 * terminate and kill read -15 and -9 as on POSIX (CPython on Windows does
 * the same for its TERMINATE code). The numbers are spelled out because
 * MinGW's signal.h has SIGTERM but no SIGKILL. */
#ifdef _WIN32
#define MPT_SIGTERM 15
#define MPT_SIGKILL 9
#else
#define MPT_SIGTERM SIGTERM
#define MPT_SIGKILL SIGKILL
#endif

static void ended_by_signal(mp_start_method m, int hard)
{
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, 0));
    mp_process *p = mpt_start(t_wait_queue, mp_args_of(q), m);
    MPT_OK(hard ? mp_process_kill(p) : mp_process_terminate(p));
    int code = mpt_join(p);
    CU_ASSERT_EQUAL(code, hard ? -MPT_SIGKILL : -MPT_SIGTERM);
    mp_queue_free(q);
}

static void terminate(mp_start_method m)
{
    ended_by_signal(m, 0);
}
MPT_DEFINE_BOTH(terminate)

static void kill_(mp_start_method m)
{
    ended_by_signal(m, 1);
}
MPT_DEFINE_BOTH(kill_)

static void crash(mp_start_method m)
{
    int code = mpt_run(t_abort, MP_NO_ARGS, m);
#ifdef _WIN32
    /* No signals on Windows: the CRT's abort() ends the process with exit
     * code 3, and that is what Python's Process.exitcode shows there too. */
    CU_ASSERT_EQUAL(code, 3);
#else
    CU_ASSERT_EQUAL(code, -SIGABRT);
#endif
}
MPT_DEFINE_BOTH(crash)

static void grandchild(mp_start_method m)
{
    CU_ASSERT_EQUAL(mpt_run(t_grandchild, mp_args_of(40), m), 41);
}
MPT_DEFINE_BOTH(grandchild)

static void many_children(mp_start_method m)
{
    enum { N = 8 };
    mp_process *p[N];
    for (int i = 0; i < N; i++)
        p[i] = mpt_start(t_return_arg, mp_args_of(i + 10), m);
    for (int i = N - 1; i >= 0; i--)
        CU_ASSERT_EQUAL(mpt_join(p[i]), i + 10);
}
MPT_DEFINE_BOTH(many_children)

static void signal_after_exit(mp_start_method m)
{
    mp_process *p = mpt_start(t_return_arg, mp_args_of(3), m);
    MPT_OK(mp_process_join(p, MPT_JOIN_TIMEOUT));
    MPT_OK(mp_process_terminate(p));
    MPT_OK(mp_process_kill(p));
    int code;
    MPT_OK(mp_process_exitcode(p, &code));
    CU_ASSERT_EQUAL(code, 3);
    MPT_OK(mp_process_free(p));
}
MPT_DEFINE_BOTH(signal_after_exit)

static void child_closes_conn(mp_start_method m)
{
    mp_conn *a, *b;
    mp_queue *q;
    MPT_OK(mp_pipe(&a, &b, 1));
    MPT_OK(mp_queue_new(&q, 0));
    mp_process *p = mpt_start(t_send_close_wait, mp_args_of(b, q), m);
    mp_conn_close(b);
    void *d;
    size_t n;
    MPT_OK(mp_conn_recv_bytes(a, &d, &n, 0));
    CU_ASSERT(n == 1 && ((char *)d)[0] == 'x');
    mp_free(d);
    /* End of file while the child still runs: its close was real. */
    MPT_EQ(mp_conn_recv_bytes(a, &d, &n, 0), MP_ECLOSED);
    CU_ASSERT_EQUAL(mp_process_is_alive(p), 1);
    MPT_OK(mp_queue_put_bytes(q, "go", 2, MP_FOREVER));
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_conn_close(a);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(child_closes_conn)

#ifndef _WIN32
static void fork_inherits_memory(void)
{
    fork_global = 23;
    CU_ASSERT_EQUAL(mpt_run(t_fork_sees_globals, MP_NO_ARGS, MP_START_FORK), 23);
    /* A spawned child starts afresh from the program's initial state. */
    CU_ASSERT_EQUAL(mpt_run(t_fork_sees_globals, MP_NO_ARGS, MP_START_SPAWN), 1);
    fork_global = 1;
}

static void default_method(void)
{
    fork_global = 5;
    MPT_OK(mp_set_start_method(MP_START_FORK));
    CU_ASSERT_EQUAL(mpt_run(t_fork_sees_globals, MP_NO_ARGS, MP_START_DEFAULT), 5);
    MPT_OK(mp_set_start_method(MP_START_SPAWN));
    CU_ASSERT_EQUAL(mpt_run(t_fork_sees_globals, MP_NO_ARGS, MP_START_DEFAULT), 1);
    MPT_EQ(mp_set_start_method((mp_start_method)42), MP_EINVAL);
    fork_global = 1;
}
#endif

#ifdef _WIN32
/* The fork start method is refused when the process starts, with a code
 * that names it, and the process can still be closed. */
static void fork_refused(void)
{
    mp_process *p;
    MPT_OK(mp_process_new(&p, t_return_arg, mp_args_of(1)));
    MPT_OK(mp_process_set_start_method(p, MP_START_FORK));
    MPT_EQ(mp_process_start(p), MP_EUNSUPPORTED);
    CU_ASSERT_EQUAL(mp_process_pid(p), 0);
    MPT_OK(mp_process_free(p));
    /* The default method too, and spawn still works after it. */
    MPT_OK(mp_set_start_method(MP_START_FORK));
    MPT_OK(mp_process_new(&p, t_return_arg, mp_args_of(1)));
    int rc = mp_process_start(p);
    MPT_OK(mp_set_start_method(MP_START_SPAWN));
    MPT_EQ(rc, MP_EUNSUPPORTED);
    MPT_OK(mp_process_free(p));
    /* A spawned child starts afresh from the program's initial state. */
    fork_global = 23;
    CU_ASSERT_EQUAL(mpt_run(t_fork_sees_globals, MP_NO_ARGS, MP_START_DEFAULT), 1);
    fork_global = 1;
    MPT_EQ(mp_set_start_method((mp_start_method)42), MP_EINVAL);
}
#endif

static void misuse(void)
{
    mp_process *p = NULL;
    MPT_EQ(mp_process_new(&p, NULL, MP_NO_ARGS), MP_EINVAL);
    CU_ASSERT_PTR_NULL(p);
    MPT_EQ(mp_process_new(NULL, t_return_arg, MP_NO_ARGS), MP_EINVAL);
    MPT_EQ(mp_process_new(&p, t_return_arg, mp_args_of((mp_value *)NULL)), MP_EINVAL);
    MPT_EQ(mp_process_new(&p, t_return_arg, mp_args_of((const char *)NULL)), MP_EINVAL);
    mp_arg bad = mp_arg(1);
    bad.type = (mp_arg_type)77;
    MPT_EQ(mp_process_new(&p, t_return_arg, mp_arglist_make(&bad, 1)), MP_EINVAL);
    MPT_EQ(mp_process_new(&p, t_return_arg, mp_arglist_make(NULL, 3)), MP_EINVAL);
    MPT_EQ(mp_process_new(&p, t_return_arg, mp_arglist_make(&bad, 5000)), MP_EINVAL);

    MPT_OK(mp_process_new(&p, t_return_arg, mp_args_of(1)));
    int code;
    CU_ASSERT_EQUAL(mp_process_pid(p), 0);
    CU_ASSERT_EQUAL(mp_process_is_alive(p), 0);
    MPT_EQ(mp_process_join(p, 0), MP_ESTATE);
    MPT_EQ(mp_process_exitcode(p, &code), MP_ESTATE);
    MPT_EQ(mp_process_terminate(p), MP_ESTATE);
    MPT_EQ(mp_process_kill(p), MP_ESTATE);
    MPT_EQ(mp_process_set_start_method(p, (mp_start_method)9), MP_EINVAL);
    MPT_OK(mp_process_start(p));
    MPT_EQ(mp_process_start(p), MP_ESTATE);
    MPT_EQ(mp_process_set_start_method(p, MP_START_FORK), MP_ESTATE);
    CU_ASSERT_EQUAL(mpt_join(p), 1);

    /* Closing an unstarted process releases it. */
    MPT_OK(mp_process_new(&p, t_return_arg, mp_args_of("copied")));
    MPT_OK(mp_process_free(p));
    MPT_OK(mp_process_free(NULL));
    MPT_EQ(mp_process_join(NULL, 0), MP_EINVAL);
    CU_ASSERT_STRING_EQUAL(mp_error_name(MP_ESTATE), "MP_ESTATE");
    CU_ASSERT(strlen(mp_strerror(MP_EOWNERDEAD)) > 0);
    CU_ASSERT_STRING_EQUAL(mp_version_string(), "0.1.0");
    CU_ASSERT_EQUAL(mp_version(), (unsigned)MP_VERSION_HEX);
}

void mpt_suite_runtime_process(void)
{
    MPT_BOTH("runtime/process", exit_code);
    MPT_BOTH("runtime/process", plain_args);
    MPT_BOTH("runtime/process", sixteen_args);
    MPT_BOTH("runtime/process", big_bytes_arg);
    MPT_BOTH("runtime/process", join_timeout);
    MPT_BOTH("runtime/process", closed);
    MPT_BOTH("runtime/process", terminate);
    MPT_BOTH("runtime/process", kill_);
    MPT_BOTH("runtime/process", crash);
    MPT_BOTH("runtime/process", grandchild);
    MPT_BOTH("runtime/process", many_children);
    MPT_BOTH("runtime/process", signal_after_exit);
    MPT_BOTH("runtime/process", child_closes_conn);
    MPT_POSIX_ONLY("runtime/process", "fork_inherits_memory", fork_inherits_memory,
                   MPT_NO_FORK);
    MPT_POSIX_ONLY("runtime/process", "default_method", default_method,
                   "it switches the default to fork, which Windows does not have "
                   "(fork_refused checks that fork is refused there)");
#ifdef _WIN32
    mpt_add("runtime/process", "fork_refused", fork_refused);
#endif
    mpt_add("runtime/process", "misuse", misuse);
}
