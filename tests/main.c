/* main.c - the test runner, which is also every test's child process.
 *
 * Usage: mproc_tests [suite [test]]. With no argument every suite runs.
 * The leak suite runs last in every invocation: it compares the process's
 * fds, /dev/shm and children with what they were before the first test. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#define MPT_SUITE(name) void mpt_suite_##name(void);
#include "suites.h"
#undef MPT_SUITE

void mpt_leaks_baseline(void);

static const char *only_suite, *only_test;

void mpt_add(const char *suite, const char *name, void (*fn)(void))
{
    if (only_suite && strcmp(suite, only_suite) != 0 && strcmp(suite, "leaks") != 0)
        return;
    if (only_test && strcmp(suite, "leaks") != 0 && strcmp(name, only_test) != 0) return;
    CU_pSuite s = CU_get_suite(suite);
    if (!s) s = CU_add_suite(suite, NULL, NULL);
    if (!s || !CU_add_test(s, name, fn)) {
        fprintf(stderr, "cannot register %s/%s\n", suite, name);
        exit(2);
    }
}

mp_process *mpt_start(mp_target target, mp_arglist args, mp_start_method method)
{
    mp_process *p = NULL;
    MPT_OK(mp_process_new(&p, target, args));
    MPT_OK(mp_process_set_start_method(p, method));
    MPT_OK(mp_process_start(p));
    return p;
}

int mpt_join(mp_process *p)
{
    int code = -1000;
    MPT_OK(mp_process_join(p, MPT_JOIN_TIMEOUT));
    MPT_OK(mp_process_exitcode(p, &code));
    MPT_OK(mp_process_close(p));
    return code;
}

int mpt_run(mp_target target, mp_arglist args, mp_start_method method)
{
    return mpt_join(mpt_start(target, args, method));
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    if (argc > 1) only_suite = argv[1];
    if (argc > 2) only_test = argv[2];
    mpt_leaks_baseline();
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
#define MPT_SUITE(name) mpt_suite_##name();
#include "suites.h"
#undef MPT_SUITE
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (ran == 0) {
        fprintf(stderr, "no test matched\n");
        return 2;
    }
    return failed ? 1 : 0;
}
