/* main.c - the test runner, which is also every test's child process.
 *
 * Usage: mproc_tests [suite [test]]. With no argument every suite runs;
 * mproc_tests --not-here lists the tests this platform does not register,
 * with the reasons.
 * The leak suite runs last in every invocation: it compares the process's
 * fds, /dev/shm and children (Windows: handles and child processes) with
 * what they were before the first test. Tests that a platform cannot run
 * are listed with their reason before the run (mpt_not_here). */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#ifdef _WIN32
#include <windows.h>

mp_os_handle mpt_w32_steal(int64_t parent_pid, int64_t value)
{
    HANDLE parent = OpenProcess(PROCESS_DUP_HANDLE, FALSE, (DWORD)parent_pid);
    if (!parent) return MP_OS_NO_HANDLE;
    HANDLE mine = NULL;
    BOOL ok = DuplicateHandle(parent, (HANDLE)(intptr_t)value, GetCurrentProcess(), &mine,
                              0, FALSE, DUPLICATE_SAME_ACCESS);
    CloseHandle(parent);
    return ok ? (mp_os_handle)(intptr_t)mine : MP_OS_NO_HANDLE;
}
#endif

#define MPT_SUITE(name) void mpt_suite_##name(void);
#include "suites.h"
#undef MPT_SUITE

void mpt_leaks_baseline(void);

static const char *only_suite, *only_test;

/* Whether suite/name is selected by the command line. */
static int selected(const char *suite, const char *name)
{
    if (only_suite && strcmp(suite, only_suite) != 0 && strcmp(suite, "leaks") != 0)
        return 0;
    if (only_test && strcmp(suite, "leaks") != 0 && strcmp(name, only_test) != 0)
        return 0;
    return 1;
}

void mpt_add(const char *suite, const char *name, void (*fn)(void))
{
    if (!selected(suite, name)) return;
    CU_pSuite s = CU_get_suite(suite);
    if (!s) s = CU_add_suite(suite, NULL, NULL);
    if (!s || !CU_add_test(s, name, fn)) {
        fprintf(stderr, "cannot register %s/%s\n", suite, name);
        exit(2);
    }
}

/* Tests not registered on this OS, kept to print their reasons. */
enum { MAX_NOT_HERE = 256 };
static struct {
    const char *suite, *name, *reason;
} not_here[MAX_NOT_HERE];
static int n_not_here;

void mpt_not_here(const char *suite, const char *name, const char *reason)
{
    if (!selected(suite, name)) return;
    if (n_not_here == MAX_NOT_HERE) {
        fprintf(stderr, "too many tests not here; raise MAX_NOT_HERE\n");
        exit(2);
    }
    not_here[n_not_here].suite = suite;
    not_here[n_not_here].name = name;
    not_here[n_not_here].reason = reason;
    n_not_here++;
}

/* One line per suite and reason: "suite: not run here (n): a, b, c", then
 * the reason on the next line. */
static void print_not_here(FILE *out)
{
    static char done[MAX_NOT_HERE];
    for (int i = 0; i < n_not_here; i++) {
        if (done[i]) continue;
        int n = 0;
        for (int j = i; j < n_not_here; j++)
            n += !done[j] && strcmp(not_here[j].suite, not_here[i].suite) == 0 &&
                 strcmp(not_here[j].reason, not_here[i].reason) == 0;
        fprintf(out, "%s: not run here (%d):", not_here[i].suite, n);
        const char *sep = " ";
        for (int j = i; j < n_not_here; j++)
            if (!done[j] && strcmp(not_here[j].suite, not_here[i].suite) == 0 &&
                strcmp(not_here[j].reason, not_here[i].reason) == 0) {
                fprintf(out, "%s%s", sep, not_here[j].name);
                sep = ", ";
                done[j] = 1;
            }
        fprintf(out, "\n    because %s\n", not_here[i].reason);
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
#ifdef _WIN32
    int helper = mpt_platform_win32_helper(argc, argv);
    if (helper >= 0) return helper;
#endif
    mp_main(argc, argv);
    /* --not-here: only list the tests this platform does not register. */
    int list_only = argc > 1 && strcmp(argv[1], "--not-here") == 0;
    if (list_only) {
        if (CU_initialize_registry() != CUE_SUCCESS) return 2;
#define MPT_SUITE(name) mpt_suite_##name();
#include "suites.h"
#undef MPT_SUITE
        print_not_here(stdout);
        printf("%u test(s) registered here (the leak checks once), %d not\n",
               CU_get_registry()->uiNumberOfTests, n_not_here);
        CU_cleanup_registry();
        return 0;
    }
    if (argc > 1) only_suite = argv[1];
    if (argc > 2) only_test = argv[2];
    mpt_leaks_baseline();
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
#define MPT_SUITE(name) mpt_suite_##name();
#include "suites.h"
#undef MPT_SUITE
    print_not_here(stderr);
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
