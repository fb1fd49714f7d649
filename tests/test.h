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

/* Registers name_spawn and name_fork, each calling name(method). */
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
