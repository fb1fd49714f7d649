/* runtime/children.c - mp_active_children and daemonic children. Mirrors
 * _test_multiprocessing's _TestProcess.test_active_children (a started
 * child is listed until it ends), test_daemon_argument and the checks of
 * multiprocessing.util._exit_function: when a process ends, its daemonic
 * children still running are terminated and the others waited for; and a
 * daemonic process may not have children ("daemonic processes are not
 * allowed to have children"). */
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "stage.h"
#include "test.h"

static int t_wait_event(const mp_args *args)
{
    return mp_event_wait(mp_args_event(args, 0), MPT_JOIN_TIMEOUT) == 0 ? 0 : 1;
}

static void active_children(void)
{
    mp_event *go;
    MPT_OK(mp_event_new(&go));
    mp_process *p[3];
    CU_ASSERT_EQUAL(mp_active_children(NULL, 0), 0);
    for (int i = 0; i < 3; i++) {
        MPT_OK(mp_process_new(&p[i], t_wait_event, mp_args_of(go)));
        CU_ASSERT_EQUAL(mp_active_children(NULL, 0), i); /* not before the start */
        MPT_OK(mp_process_start(p[i]));
    }
    mp_process *seen[2] = {NULL, NULL};
    CU_ASSERT_EQUAL(mp_active_children(seen, 2), 3); /* two listed, three run */
    CU_ASSERT(seen[0] == p[0] && seen[1] == p[1]);
    MPT_EQ(mp_active_children(NULL, 1), MP_EINVAL);
    MPT_OK(mp_event_set(go));
    for (int i = 0; i < 3; i++)
        MPT_OK(mp_process_join(p[i], MPT_JOIN_TIMEOUT));
    CU_ASSERT_EQUAL(mp_active_children(seen, 2), 0);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(mpt_join(p[i]), 0);
    mp_event_free(go);
}

/* ---- what a child's end does to its children -------------------------------- */

/* Sleeps until killed (or the test's deadline): a grandchild to end. */
static int t_sleep_long(const mp_args *args)
{
    mp_value *started = mp_args_value(args, 0);
    mp_value_set_int(started, (int64_t)mp_os_getpid());
    mp_os_sleep_ns((uint64_t)(MPT_JOIN_TIMEOUT * 1e9));
    return 0;
}

/* Sleeps a little, then leaves its mark: a grandchild to wait for. */
static int t_late_mark(const mp_args *args)
{
    mp_os_sleep_ns(300 * 1000000ull);
    return mp_value_set_int(mp_args_value(args, 0), 1) == 0 ? 0 : 1;
}

/* The child: a daemonic grandchild that would sleep for the test's whole
 * deadline, and a plain one that finishes a little later; then it returns
 * (args 2 == 0) or calls exit() (args 2 == 1). */
static int t_parent_of_two(const mp_args *args)
{
    mp_value *daemon_pid = mp_args_value(args, 0);
    mp_value *mark = mp_args_value(args, 1);
    int64_t by_exit = 0;
    MPT_CHILD_CHECK(mp_args_get_int(args, 2, &by_exit) == 0);
    MPT_CHILD_CHECK(mp_current_process().daemon == 0);
    mp_process *d, *g;
    MPT_CHILD_CHECK(mp_process_new(&d, t_sleep_long, mp_args_of(daemon_pid)) == 0);
    MPT_CHILD_CHECK(mp_process_set_daemon(d, 1) == 0 && mp_process_daemon(d) == 1);
    MPT_CHILD_CHECK(mp_process_start(d) == 0);
    MPT_CHILD_CHECK(mp_process_set_daemon(d, 0) == MP_ESTATE);
    MPT_CHILD_CHECK(mp_process_new(&g, t_late_mark, mp_args_of(mark)) == 0);
    MPT_CHILD_CHECK(mp_process_start(g) == 0);
    /* The daemon is up (its pid is in) before this child ends. */
    int64_t pid = 0;
    mpt_stage_wait(daemon_pid, 1);
    mp_value_get_int(daemon_pid, &pid);
    MPT_CHILD_CHECK(pid != 0);
    if (by_exit) exit(0); /* the end of a program: atexit */
    return 0;             /* the end of a child's target */
}

static void ends_its_children(mp_start_method method, int64_t by_exit)
{
    mp_value *daemon_pid, *mark;
    MPT_OK(mp_value_new(&daemon_pid, 'q'));
    MPT_OK(mp_value_new(&mark, 'q'));
    CU_ASSERT_EQUAL(
        mpt_run(t_parent_of_two, mp_args_of(daemon_pid, mark, by_exit), method), 0);
    int64_t pid = 0, marked = 0;
    MPT_OK(mp_value_get_int(daemon_pid, &pid));
    MPT_OK(mp_value_get_int(mark, &marked));
    CU_ASSERT(pid != 0);
    CU_ASSERT_EQUAL(mp_os_pid_alive((uint32_t)pid), 0); /* terminated, and reaped */
    CU_ASSERT_EQUAL(marked, 1);                         /* waited for */
    mp_value_free(mark);
    mp_value_free(daemon_pid);
}

static void child_end(mp_start_method method)
{
    ends_its_children(method, 0);
}
MPT_DEFINE_BOTH(child_end)

/* exit() in a spawned child is the end of a program: the atexit path. */
static void program_exit(void)
{
    ends_its_children(MP_START_SPAWN, 1);
}

/* ---- a daemonic child ------------------------------------------------------------ */

static int t_daemonic(const mp_args *args)
{
    (void)args;
    MPT_CHILD_CHECK(mp_current_process().daemon == 1);
    mp_process *g;
    MPT_CHILD_CHECK(mp_process_new(&g, t_daemonic, MP_NO_ARGS) == 0);
    MPT_CHILD_CHECK(mp_process_start(g) == MP_ESTATE);
    MPT_CHILD_CHECK(strstr(mp_last_error(), "daemonic") != NULL);
    MPT_CHILD_CHECK(mp_process_free(g) == 0);
    return 0;
}

static void daemonic(mp_start_method method)
{
    mp_process *p;
    MPT_OK(mp_process_new(&p, t_daemonic, MP_NO_ARGS));
    CU_ASSERT_EQUAL(mp_process_daemon(p), 0);
    MPT_OK(mp_process_set_daemon(p, 1));
    MPT_OK(mp_process_set_start_method(p, method));
    MPT_OK(mp_process_start(p));
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    MPT_EQ(mp_process_set_daemon(NULL, 1), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_current_process().daemon, 0);
}
MPT_DEFINE_BOTH(daemonic)

void mpt_suite_runtime_children(void)
{
    mpt_add("runtime/children", "active_children", active_children);
    MPT_BOTH("runtime/children", child_end);
    mpt_add("runtime/children", "program_exit", program_exit);
    MPT_BOTH("runtime/children", daemonic);
}
