/* runtime/exit.c - how a child ends (include/mproc/process.h, "How a child
 * exits"): atexit() handlers a spawned child's target registers run, a
 * forked child's do not (Python's os._exit there); mp_child_atexit
 * handlers run under both, latest first, while the arguments still work;
 * and the misuse of mp_child_atexit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "test.h"

/* ---- atexit(): the C library's, as documented ---------------------------- */

static char marker_path[512];

static void write_marker(void)
{
    FILE *f = fopen(marker_path, "w");
    if (f) {
        fputs("ran", f);
        fclose(f);
    }
}

static int t_register_atexit(const mp_args *args)
{
    const char *path;
    MPT_CHILD_CHECK(mp_args_get_str(args, 0, &path) == 0);
    snprintf(marker_path, sizeof marker_path, "%s", path);
    MPT_CHILD_CHECK(atexit(write_marker) == 0);
    return 0;
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f) fclose(f);
    return f != NULL;
}

static void c_atexit(mp_start_method method)
{
    int expected = method == MP_START_SPAWN;
    char path[512];
    snprintf(path, sizeof path, "mpt-atexit-%d-%d.txt", (int)mp_os_getpid(), (int)method);
    remove(path);
    CU_ASSERT_EQUAL(mpt_run(t_register_atexit, mp_args_of(path), method), 0);
    CU_ASSERT_EQUAL(file_exists(path), expected);
    remove(path);
}

MPT_DEFINE_BOTH(c_atexit)

/* ---- mp_child_atexit --------------------------------------------------------- */

/* Each handler appends its digit to the Value's number, so the order is
 * readable: registered 1, 2, 3, run 3, 2, 1 -> 321. */
typedef struct appender {
    mp_value *v;
    int digit;
} appender;

static void append_digit(void *arg)
{
    appender *a = arg;
    int64_t x = 0;
    if (mp_value_get_int(a->v, &x) == 0) mp_value_set_int(a->v, x * 10 + a->digit);
}

static void register_again(void *arg)
{
    appender *a = arg;
    /* While the handlers run, registering is refused, not deadlocked. */
    int64_t ok = mp_child_atexit(append_digit, a) == MP_ESTATE;
    mp_value_set_int(a->v, ok ? 7 : -7);
}

static int t_child_atexit(const mp_args *args)
{
    static appender apps[3];
    mp_value *v = mp_args_value(args, 0);
    for (int i = 0; i < 3; i++) {
        apps[i].v = v;
        apps[i].digit = i + 1;
    }
    MPT_CHILD_CHECK(mp_child_atexit(NULL, NULL) == MP_EINVAL);
    for (int i = 0; i < 3; i++)
        MPT_CHILD_CHECK(mp_child_atexit(append_digit, &apps[i]) == 0);
    return 5; /* the exit code is the target's, whatever the handlers do */
}

/* Runs target(v) for a fresh Value v (0), asserts the exit code, and
 * returns what the child and its handlers left in v. */
static int64_t run_with_value(mp_target target, mp_start_method method, int code)
{
    mp_value *v;
    MPT_OK(mp_value_new(&v, 'q'));
    CU_ASSERT_EQUAL(mpt_run(target, mp_args_of(v), method), code);
    int64_t x = -1;
    MPT_OK(mp_value_get_int(v, &x));
    mp_value_free(v);
    return x;
}

static void child_atexit(mp_start_method method)
{
    CU_ASSERT_EQUAL(run_with_value(t_child_atexit, method, 5), 321);
}

MPT_DEFINE_BOTH(child_atexit)

static void count_one(void *arg)
{
    mp_value *v = arg;
    int64_t x = 0;
    if (mp_value_get_int(v, &x) == 0) mp_value_set_int(v, x + 1);
}

static int t_fill(const mp_args *args)
{
    mp_value *v = mp_args_value(args, 0);
    for (int i = 0; i < MP_CHILD_ATEXIT_MAX; i++)
        MPT_CHILD_CHECK(mp_child_atexit(count_one, v) == 0);
    MPT_CHILD_CHECK(mp_child_atexit(count_one, v) == MP_ETOOBIG);
    return 0;
}

static void child_atexit_limit(void)
{
    /* each accepted one ran, once */
    CU_ASSERT_EQUAL(run_with_value(t_fill, MP_START_DEFAULT, 0), MP_CHILD_ATEXIT_MAX);
}

static int t_register_in_handler(const mp_args *args)
{
    static appender a;
    a.v = mp_args_value(args, 0);
    MPT_CHILD_CHECK(mp_child_atexit(register_again, &a) == 0);
    return 0;
}

static void child_atexit_in_handler(void)
{
    CU_ASSERT_EQUAL(run_with_value(t_register_in_handler, MP_START_DEFAULT, 0), 7);
}

#ifndef _WIN32
/* A grandchild the target forks does not run its parent's handlers. */
static int t_grandchild_plain(const mp_args *args)
{
    (void)args;
    return 0;
}

static int t_parent_of_grandchild(const mp_args *args)
{
    static appender a;
    a.v = mp_args_value(args, 0);
    a.digit = 4;
    MPT_CHILD_CHECK(mp_child_atexit(append_digit, &a) == 0);
    mp_process *g;
    MPT_CHILD_CHECK(mp_process_new(&g, t_grandchild_plain, MP_NO_ARGS) == 0);
    MPT_CHILD_CHECK(mp_process_set_start_method(g, MP_START_FORK) == 0);
    MPT_CHILD_CHECK(mp_process_start(g) == 0);
    MPT_CHILD_CHECK(mp_process_join(g, MPT_JOIN_TIMEOUT) == 0);
    int code = -1;
    MPT_CHILD_CHECK(mp_process_exitcode(g, &code) == 0 && code == 0);
    mp_process_free(g);
    return 0;
}

static void child_atexit_not_inherited(void)
{
    /* the child's handler once; 44 if the grandchild ran it */
    CU_ASSERT_EQUAL(run_with_value(t_parent_of_grandchild, MP_START_FORK, 0), 4);
}
#endif

static void child_atexit_outside_a_child(void)
{
    MPT_EQ(mp_child_atexit(append_digit, NULL), MP_ESTATE);
    MPT_EQ(mp_child_atexit(NULL, NULL), MP_EINVAL);
}

void mpt_suite_runtime_exit(void)
{
    MPT_BOTH("runtime/exit", c_atexit);
    MPT_BOTH("runtime/exit", child_atexit);
    mpt_add("runtime/exit", "child_atexit_limit", child_atexit_limit);
    mpt_add("runtime/exit", "child_atexit_in_handler", child_atexit_in_handler);
    MPT_POSIX_ONLY("runtime/exit", "child_atexit_not_inherited",
                   child_atexit_not_inherited, MPT_NO_FORK);
    mpt_add("runtime/exit", "child_atexit_outside_a_child", child_atexit_outside_a_child);
}
