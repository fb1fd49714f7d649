/* testhook.h - test hooks, compiled only into the instrumented build.
 *
 * Some tests must stop a process at an exact instruction (a lock waiter
 * between registering and its look, a feeder between two records) or
 * count what cannot be seen from outside (sleeps that ran out). Those
 * hooks, views and counters exist only where MPROC_TEST_HOOKS is defined:
 * in the library target the tests link (mproc_testlib, never installed).
 * The libraries users install carry none of them, which CI checks with nm
 * (tools/check-no-test-hooks.sh). */
#ifndef MP_BASE_TESTHOOK_H
#define MP_BASE_TESTHOOK_H

#ifdef MPROC_TEST_HOOKS
#define MP_TEST_HOOK(stmt)                                                               \
    do {                                                                                 \
        stmt;                                                                            \
    } while (0)
#else
#define MP_TEST_HOOK(stmt) ((void)0)
#endif

#endif
