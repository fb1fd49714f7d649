/* test.h - helpers shared by the CUnit suites.
 *
 * The test binary is also the child: main() calls mp_main() first, so a
 * spawned child runs its target (a static function of a test file) and
 * exits. Inside a child, CUnit assertions mean nothing; targets check with
 * MPT_CHILD_CHECK and the parent asserts on the exit code. */
#ifndef MPT_TEST_H
#define MPT_TEST_H

#include <CUnit/CUnit.h>
#include <stdio.h>

#include "mproc.h"

/* Generous: the machines are shared and slow; no test relies on timing. */
#define MPT_JOIN_TIMEOUT 120.0

/* Registers one test of a suite. */
void mpt_add(const char *suite, const char *name, void (*fn)(void));

/* Asserts that an mproc call returned code, printing names on failure. */
#define MPT_EQ(expr, code)                                                               \
    do {                                                                                 \
        int mpt_rc_ = (expr);                                                            \
        if (mpt_rc_ != (code))                                                           \
            fprintf(stderr, "%s:%d: %s gave %s (%s), wanted %s\n", __FILE__, __LINE__,   \
                    #expr, mp_error_name(mpt_rc_), mp_last_error(),                      \
                    mp_error_name(code));                                                \
        CU_ASSERT_EQUAL_FATAL(mpt_rc_, (code));                                          \
    } while (0)
#define MPT_OK(expr) MPT_EQ(expr, 0)

/* In a child target: return 1 (the exit code the parent checks) with a
 * message if cond is false. */
#define MPT_CHILD_CHECK(cond)                                                            \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "child check failed at %s:%d: %s (%s)\n", __FILE__,          \
                    __LINE__, #cond, mp_last_error());                                   \
            return 1;                                                                    \
        }                                                                                \
    } while (0)

/* Starts target(args) with the given method, joins it and returns its exit
 * code; a failure to start or to end in time fails the test. */
int mpt_run(mp_target target, mp_arglist args, mp_start_method method);

/* Starts a process and returns it (the caller joins and closes it). */
mp_process *mpt_start(mp_target target, mp_arglist args, mp_start_method method);

/* Joins and closes p, returning its exit code (asserting it ended). */
int mpt_join(mp_process *p);

#ifdef _WIN32
/* A test-only path for a raw handle to a spawned child (mp_process passes
 * only mproc objects, and a forked child's copy is not there to use): the
 * parent passes mp_os_getpid() and the handle's value as int arguments and
 * keeps the handle open until the child is joined; the child duplicates
 * it out of the parent (DuplicateHandle from the parent opened with
 * PROCESS_DUP_HANDLE), as CPython's spawn does on Windows. Returns the
 * child's own handle, or MP_OS_NO_HANDLE. */
#include "platform.h"
mp_os_handle mpt_w32_steal(int64_t parent_pid, int64_t value);

/* Answers the runs of this program that Windows-only tests start with a
 * command line of their own (test_platform_win32.c): an exit code, or -1
 * when argv is not one of them. main() calls it before mp_main. */
int mpt_platform_win32_helper(int argc, char **argv);
#endif

/* Records that suite/name is not registered on this OS, and why. The
 * reasons are printed before the tests run, one line per suite and
 * reason, naming the tests (so a test is never left out silently). */
void mpt_not_here(const char *suite, const char *name, const char *reason);

/* Registers a test only on POSIX; elsewhere records it as not here, with
 * the reason (which says what on Windows stops it and what covers it). */
#ifdef _WIN32
#define MPT_POSIX_ONLY(suite, name, fn, reason) mpt_not_here(suite, name, reason)
#else
#define MPT_POSIX_ONLY(suite, name, fn, reason) mpt_add(suite, name, fn)
#endif

#define MPT_NO_FORK "fork: Windows has no fork; the spawn variant runs"
/* Tests that run python3. A Windows build runs under Wine in CI, where no
 * Windows Python is installed. Pickles are the same bytes on every OS; the
 * Windows pipe framing (PipeConnection's) is checked without Python by
 * conn/message_framing_win32. */
#define MPT_NO_PYTHON                                                                    \
    "it runs python3, which this Windows build cannot start under Wine; the POSIX "      \
    "run covers the pickles (the same bytes on every OS), and "                          \
    "conn/message_framing_win32 the Windows pipe framing"

/* Registers name_spawn and name_fork, each calling name(method). Windows
 * has no fork: there only name_spawn exists, and the fork variant is
 * listed as not here (a test that cannot fail is not registered). */
#ifdef _WIN32
#define MPT_BOTH(suite, name)                                                            \
    do {                                                                                 \
        mpt_add(suite, #name "_spawn", name##_spawn);                                    \
        mpt_not_here(suite, #name "_fork", MPT_NO_FORK);                                 \
    } while (0)
#define MPT_DEFINE_BOTH(name)                                                            \
    static void name##_spawn(void)                                                       \
    {                                                                                    \
        name(MP_START_SPAWN);                                                            \
    }
#else
#define MPT_BOTH(suite, name)                                                            \
    do {                                                                                 \
        mpt_add(suite, #name "_spawn", name##_spawn);                                    \
        mpt_add(suite, #name "_fork", name##_fork);                                      \
    } while (0)
/* Defines name_spawn and name_fork from a function void name(mp_start_method). */
#define MPT_DEFINE_BOTH(name)                                                            \
    static void name##_spawn(void)                                                       \
    {                                                                                    \
        name(MP_START_SPAWN);                                                            \
    }                                                                                    \
    static void name##_fork(void)                                                        \
    {                                                                                    \
        name(MP_START_FORK);                                                             \
    }
#endif

#endif
