/* runtime/identity.c - a process's name, mp_current_process, the
 * sentinel and mp_parent_process. Mirrors _test_multiprocessing's
 * _TestProcess.test_process (a child's current_process().name is the name its Process was
 * given), test_current (in the main process: "MainProcess", its own pid) and
 * test_sentinel (not before the start; ready only once the child ended),
 * and the default names of multiprocessing.process ("Process-N", and
 * "Process-N:M" for the processes Process-N creates), and
 * _TestParentProcess (parent_process()'s name and pid, and is_alive()
 * false once the parent was killed). */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <string.h>

#include "platform.h"
#include "stage.h"
#include "test.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <poll.h>
#endif

enum { NAME_BYTES = MP_PROCESS_NAME_MAX + 1 };

/* Sends the child's own name, then the name of a process it creates. */
static int t_tell_names(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    mp_process_info me = mp_current_process();
    MPT_CHILD_CHECK(me.pid == (int64_t)mp_os_getpid());
    MPT_CHILD_CHECK(
        mp_queue_put_bytes(q, me.name, strlen(me.name) + 1, MPT_JOIN_TIMEOUT) == 0);
    mp_process *g;
    MPT_CHILD_CHECK(mp_process_new(&g, t_tell_names, MP_NO_ARGS) == 0);
    const char *gname = mp_process_name(g);
    MPT_CHILD_CHECK(mp_queue_put_bytes(q, gname, strlen(gname) + 1, MPT_JOIN_TIMEOUT) ==
                    0);
    MPT_CHILD_CHECK(mp_process_free(g) == 0);
    return 0;
}

static void get_name(mp_queue *q, char *out)
{
    void *data = NULL;
    size_t len = 0;
    MPT_OK(mp_queue_get_bytes(q, &data, &len, MPT_JOIN_TIMEOUT));
    CU_ASSERT_FATAL(len >= 1 && len <= NAME_BYTES && ((char *)data)[len - 1] == '\0');
    memcpy(out, data, len);
    mp_free(data);
}

static void names(mp_start_method method)
{
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, 0));
    mp_process *a, *b;
    MPT_OK(mp_process_new(&a, t_tell_names, mp_args_of(q)));
    MPT_OK(mp_process_new(&b, t_tell_names, mp_args_of(q)));
    unsigned na = 0, nb = 0;
    CU_ASSERT_EQUAL(sscanf(mp_process_name(a), "Process-%u", &na), 1);
    CU_ASSERT_EQUAL(sscanf(mp_process_name(b), "Process-%u", &nb), 1);
    CU_ASSERT_EQUAL(nb, na + 1);

    /* The default name reaches the child, and so does a given one. */
    MPT_OK(mp_process_set_name(b, "SomeProcess"));
    CU_ASSERT_STRING_EQUAL(mp_process_name(b), "SomeProcess");
    char own[NAME_BYTES], made[NAME_BYTES], expect[NAME_BYTES];
    MPT_OK(mp_process_set_start_method(a, method));
    MPT_OK(mp_process_start(a));
    get_name(q, own);
    get_name(q, made);
    CU_ASSERT_EQUAL(mpt_join(a), 0);
    snprintf(expect, sizeof expect, "Process-%u", na);
    CU_ASSERT_STRING_EQUAL(own, expect);
    snprintf(expect, sizeof expect, "Process-%u:1", na);
    CU_ASSERT_STRING_EQUAL(made, expect);

    MPT_OK(mp_process_set_start_method(b, method));
    MPT_OK(mp_process_start(b));
    get_name(q, own);
    get_name(q, made);
    CU_ASSERT_EQUAL(mpt_join(b), 0);
    CU_ASSERT_STRING_EQUAL(own, "SomeProcess");
    snprintf(expect, sizeof expect, "Process-%u:1", nb);
    CU_ASSERT_STRING_EQUAL(made, expect); /* numbered by identity, not by name */
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(names)

static int t_nothing(const mp_args *args)
{
    (void)args;
    return 0;
}

static void main_process_and_misuse(void)
{
    mp_process_info me = mp_current_process();
    CU_ASSERT_STRING_EQUAL(me.name, "MainProcess");
    CU_ASSERT_EQUAL(me.pid, (int64_t)mp_os_getpid());

    mp_process *p;
    MPT_OK(mp_process_new(&p, t_nothing, MP_NO_ARGS));
    char before[NAME_BYTES];
    snprintf(before, sizeof before, "%s", mp_process_name(p));
    char longest[NAME_BYTES + 1];
    memset(longest, 'x', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0'; /* one byte too many */
    MPT_EQ(mp_process_set_name(p, longest), MP_ETOOBIG);
    MPT_EQ(mp_process_set_name(p, NULL), MP_EINVAL);
    MPT_EQ(mp_process_set_name(NULL, "x"), MP_EINVAL);
    CU_ASSERT_STRING_EQUAL(mp_process_name(p), before); /* nothing changed */
    longest[MP_PROCESS_NAME_MAX] = '\0';
    MPT_OK(mp_process_set_name(p, longest)); /* the longest allowed */
    CU_ASSERT_EQUAL(strlen(mp_process_name(p)), (size_t)MP_PROCESS_NAME_MAX);
    CU_ASSERT_PTR_NULL(mp_process_name(NULL));

    intptr_t h = 0;
    MPT_EQ(mp_process_sentinel(p, &h), MP_ESTATE);
    MPT_EQ(mp_process_sentinel(p, NULL), MP_EINVAL);
    MPT_EQ(mp_process_sentinel(NULL, &h), MP_EINVAL);
    MPT_OK(mp_process_start(p));
    MPT_EQ(mp_process_set_name(p, "late"), MP_ESTATE);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
}

/* 1 if the sentinel is ready within ms milliseconds. */
static int sentinel_ready(intptr_t h, int ms)
{
#ifdef _WIN32
    return WaitForSingleObject((HANDLE)h, (DWORD)ms) == WAIT_OBJECT_0;
#else
    struct pollfd pfd = {(int)h, POLLIN, 0};
    return poll(&pfd, 1, ms) == 1;
#endif
}

static int t_wait_event(const mp_args *args)
{
    return mp_event_wait(mp_args_event(args, 0), MPT_JOIN_TIMEOUT) == 0 ? 0 : 1;
}

static void sentinel(mp_start_method method)
{
    mp_event *go;
    MPT_OK(mp_event_new(&go));
    mp_process *p;
    MPT_OK(mp_process_new(&p, t_wait_event, mp_args_of(go)));
    MPT_OK(mp_process_set_start_method(p, method));
    MPT_OK(mp_process_start(p));
    intptr_t h = 0;
    MPT_OK(mp_process_sentinel(p, &h));
    CU_ASSERT(h != (intptr_t)MP_OS_NO_HANDLE);
    CU_ASSERT_FALSE(sentinel_ready(h, 100)); /* the child waits for go */
    MPT_OK(mp_event_set(go));
    CU_ASSERT_TRUE(sentinel_ready(h, (int)(MPT_JOIN_TIMEOUT * 1000)));
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_event_free(go);
}
MPT_DEFINE_BOTH(sentinel)

/* ---- the parent -------------------------------------------------------------- */

/* The child: its parent is the test process, then it is the parent of a
 * grandchild it starts the same way. args: parent pid, the name the
 * child expects for its parent, depth. */
static int t_parent(const mp_args *args)
{
    int64_t ppid = 0, depth = 0;
    const char *pname;
    MPT_CHILD_CHECK(mp_args_get_int(args, 0, &ppid) == 0);
    MPT_CHILD_CHECK(mp_args_get_str(args, 1, &pname) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 2, &depth) == 0);
    mp_process_info parent;
    MPT_CHILD_CHECK(mp_parent_process(&parent) == 0);
    MPT_CHILD_CHECK(parent.pid == ppid && strcmp(parent.name, pname) == 0);
    MPT_CHILD_CHECK(parent.daemon == 0 && mp_parent_is_alive() == 1);
    if (depth > 0) {
        mp_process_info me = mp_current_process();
        mp_process *g;
        MPT_CHILD_CHECK(
            mp_process_new(&g, t_parent, mp_args_of(me.pid, me.name, (int64_t)0)) == 0);
        MPT_CHILD_CHECK(mp_process_start(g) == 0);
        MPT_CHILD_CHECK(mp_process_join(g, MPT_JOIN_TIMEOUT) == 0);
        int code = -1;
        MPT_CHILD_CHECK(mp_process_exitcode(g, &code) == 0 && code == 0);
        MPT_CHILD_CHECK(mp_process_free(g) == 0);
    }
    return 0;
}

static void parent_process(mp_start_method method)
{
    mp_process_info none;
    MPT_EQ(mp_parent_process(&none), MP_ESTATE);
    MPT_EQ(mp_parent_is_alive(), MP_ESTATE);
    MPT_EQ(mp_parent_process(NULL), MP_EINVAL);
    CU_ASSERT_EQUAL(
        mpt_run(t_parent, mp_args_of((int64_t)mp_os_getpid(), "MainProcess", (int64_t)1),
                method),
        0);
}
MPT_DEFINE_BOTH(parent_process)

/* The grandchild: reports its pid, then watches its parent, and says
 * when it saw the parent gone (2) or gave up (3). */
static int t_watch_parent(const mp_args *args)
{
    mp_value *state = mp_args_value(args, 0);
    mp_value_set_int(state, 1);
    for (int i = 0; i < 6000; i++) {
        if (mp_parent_is_alive() == 0) return mp_value_set_int(state, 2) == 0 ? 0 : 1;
        mp_os_sleep_ns(10 * 1000000ull);
    }
    mp_value_set_int(state, 3);
    return 1;
}

/* The child: starts the watcher, then waits to be killed. */
static int t_start_watcher(const mp_args *args)
{
    mp_process *g;
    MPT_CHILD_CHECK(
        mp_process_new(&g, t_watch_parent, mp_args_of(mp_args_value(args, 0))) == 0);
    MPT_CHILD_CHECK(mp_process_start(g) == 0);
    mp_os_sleep_ns((uint64_t)(MPT_JOIN_TIMEOUT * 1e9));
    return 1;
}

/* A parent killed is seen dead by its child within a bounded time
 * (_TestParentProcess: parent_process().is_alive() after the parent
 * ended). */
static void parent_killed(mp_start_method method)
{
    mp_value *state;
    MPT_OK(mp_value_new(&state, 'q'));
    mp_process *p;
    MPT_OK(mp_process_new(&p, t_start_watcher, mp_args_of(state)));
    MPT_OK(mp_process_set_start_method(p, method));
    MPT_OK(mp_process_start(p));
    int64_t st = 0;
    mpt_stage_wait(state, 1);
    MPT_OK(mp_value_get_int(state, &st));
    CU_ASSERT_EQUAL_FATAL(st, 1); /* the watcher runs */
    MPT_OK(mp_process_kill(p));
    CU_ASSERT(mpt_join(p) != 0); /* killed */
    mpt_stage_wait(state, 2);
    MPT_OK(mp_value_get_int(state, &st));
    CU_ASSERT_EQUAL(st, 2);
    mp_value_free(state);
}
MPT_DEFINE_BOTH(parent_killed)

void mpt_suite_runtime_identity(void)
{
    MPT_BOTH("runtime/identity", names);
    mpt_add("runtime/identity", "main_process_and_misuse", main_process_and_misuse);
    MPT_BOTH("runtime/identity", sentinel);
    MPT_BOTH("runtime/identity", parent_process);
    MPT_BOTH("runtime/identity", parent_killed);
}
