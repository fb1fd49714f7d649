/* main.c - the test runner, which is also every test's child process.
 *
 *   mproc_tests [-j N] [suite [test]]  runs each selected test in a process
 *                                      of its own (below), N at a time
 *   mproc_tests --here [suite [test]]  runs them in this process, the leak
 *                                      check last (how the runner starts a
 *                                      test; by hand, for a debugger)
 *   mproc_tests --not-here             lists the tests this platform does
 *                                      not register, with the reasons
 * A suite is named by its file (suites.h); "room/" selects every suite of
 * a room. Environment: MPT_TEST_TIMEOUT (seconds per test), MPT_JOBS (as
 * -j), MPT_SHOW_OUTPUT=1 (print every test's output, not only a failing
 * one's).
 *
 * Why a process per test (libuv's runner does the same): a crash, a hang
 * or a failed fatal assert (which skips the test's cleanup) is one report,
 * and the next test starts clean. The child runs its test and then the
 * leak suite, which compares its fds, /dev/shm and children (Windows:
 * handles and child processes) with what they were before the test, so a
 * leak is blamed on the test that made it. The runner kills a test that
 * runs past its deadline and reports it as timed out. */
#include <CUnit/Basic.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "fault.h"
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

#define MPT_SUITE(fn, name) void mpt_suite_##fn(void);
#include "suites.h"
#undef MPT_SUITE

void mpt_leaks_baseline(void);

static const char *only_suite, *only_test;

/* Whether the command line's suite selects suite: its name, or a room
 * ("queue/" is queue and queue/...). */
static int suite_selected(const char *suite)
{
    if (!only_suite) return 1;
    size_t n = strlen(only_suite);
    if (n > 1 && only_suite[n - 1] == '/')
        return strncmp(suite, only_suite, n) == 0 ||
               (strlen(suite) == n - 1 && strncmp(suite, only_suite, n - 1) == 0);
    return strcmp(suite, only_suite) == 0;
}

/* Whether suite/name is selected by the command line. The leak suite
 * always is: it checks what ran before it. */
static int selected(const char *suite, const char *name)
{
    if (strcmp(suite, "leaks") == 0) return 1;
    if (!suite_selected(suite)) return 0;
    return !only_test || strcmp(name, only_test) == 0;
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

/* Whether the selection named tests this platform does not register (so
 * that running none of them is no mistake). The leak suite's do not
 * count: they are there whatever was selected. */
static int not_here_selected(void)
{
    for (int i = 0; i < n_not_here; i++)
        if (strcmp(not_here[i].suite, "leaks") != 0) return 1;
    return 0;
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
    MPT_OK(mp_process_free(p));
    return code;
}

int mpt_run(mp_target target, mp_arglist args, mp_start_method method)
{
    return mpt_join(mpt_start(target, args, method));
}

/* ---- one test per process --------------------------------------------------- */

/* The deadline of one test of suite: MPT_TEST_TIMEOUT, else 120 s, 600 s
 * for fault suites and 1200 s for stress suites (their CTest timeouts
 * cover a whole suite), five times that under valgrind. */
static double deadline_for(const char *suite)
{
    const char *env = getenv("MPT_TEST_TIMEOUT");
    double d = env ? atof(env) : 0;
    if (d > 0) return d;
    d = strstr(suite, "fault") ? 600 : strstr(suite, "stress") ? 1200 : 120;
    return mpt_under_valgrind() ? 5 * d : d;
}

typedef struct slot {
    const char *suite, *name;
    mpt_child child;
    double start, deadline;
    int busy;
} slot;

typedef struct results {
    int passed, failed, timed_out;
    char bad[4096]; /* the names of the tests that did not pass */
} results;

static void note_bad(results *r, const slot *s)
{
    size_t n = strlen(r->bad);
    if (n + 3 < sizeof r->bad)
        snprintf(r->bad + n, sizeof r->bad - n, " %s/%s", s->suite, s->name);
}

/* Reports an ended test: status is its exit code, or -1 if it was killed
 * at its deadline. A test that did not pass gets its output printed. */
static void finish(slot *s, int status, results *r)
{
    double took = mpt_now() - s->start;
    int show = status != 0 || getenv("MPT_SHOW_OUTPUT") != NULL;
    if (show) printf("---- output of %s/%s\n", s->suite, s->name);
    fflush(stdout);
    mpt_child_release(&s->child, show ? stdout : NULL);
    if (status == 0) {
        r->passed++;
        printf("PASS    %s/%s (%.2f s)\n", s->suite, s->name, took);
    } else if (status < 0) {
        r->timed_out++;
        note_bad(r, s);
        printf(
            "TIMEOUT %s/%s (killed after %.0f s; MPT_TEST_TIMEOUT sets the deadline)\n",
            s->suite, s->name, took);
    } else {
        r->failed++;
        note_bad(r, s);
        printf("FAIL    %s/%s (exit code %d, %.2f s)\n", s->suite, s->name, status, took);
    }
    fflush(stdout);
    s->busy = 0;
}

#ifndef _WIN32
/* The tests run in process groups of their own (so that a timeout ends
 * what they started), which the terminal's ^C and CTest's kill do not
 * reach: pass the signal on. */
static void on_signal(int sig)
{
    mpt_child_kill_all();
    signal(sig, SIG_DFL);
    raise(sig);
}
#endif

/* Starts every registered test but the leak suite's, at most jobs at a
 * time, and reports each. Returns main's exit code. */
static int run_each(const char *self, int jobs)
{
    enum { MAX_JOBS = 16 };
    slot slots[MAX_JOBS];
    results r;
    size_t n = 0, next = 0;
    int busy = 0, rc = 2;
    double t0 = mpt_now();
    memset(slots, 0, sizeof slots);
    memset(&r, 0, sizeof r);
    if (jobs > MAX_JOBS) jobs = MAX_JOBS;
    CU_pTest *tests = calloc(CU_get_registry()->uiNumberOfTests + 1, sizeof *tests);
    const char **suites = calloc(CU_get_registry()->uiNumberOfTests + 1, sizeof *suites);
    if (!tests || !suites) goto cleanup;
    for (CU_pSuite su = CU_get_registry()->pSuite; su; su = su->pNext)
        for (CU_pTest t = su->pTest; t && strcmp(su->pName, "leaks") != 0; t = t->pNext) {
            suites[n] = su->pName;
            tests[n++] = t;
        }
    while (next < n || busy > 0) {
        int moved = 0;
        for (int i = 0; i < jobs && next < n; i++) {
            slot *s = &slots[i];
            if (s->busy) continue;
            s->suite = suites[next];
            s->name = tests[next++]->pName;
            s->start = mpt_now();
            s->deadline = s->start + deadline_for(s->suite);
            s->busy = 1;
            moved = 1;
            if (mpt_child_start(&s->child, self, s->suite, s->name) == 0)
                busy++;
            else
                finish(s, 2, &r);
        }
        for (int i = 0; i < jobs; i++) {
            slot *s = &slots[i];
            int status = 0, p = s->busy ? mpt_child_poll(&s->child, &status) : 0;
            if (!s->busy) continue;
            if (p != 0) {
                finish(s, p > 0 ? status : 2, &r);
            } else if (mpt_now() > s->deadline) {
                mpt_child_kill(&s->child);
                finish(s, -1, &r);
            } else {
                continue;
            }
            busy--;
            moved = 1;
        }
        if (!moved) mpt_sleep_ms(5);
    }
    int total = r.passed + r.failed + r.timed_out;
    printf("\n%d test(s) in %.1f s: %d passed, %d failed, %d timed out\n", total,
           mpt_now() - t0, r.passed, r.failed, r.timed_out);
    if (r.bad[0]) printf("not passed:%s\n", r.bad);
    if (total > 0 || not_here_selected())
        rc = r.failed || r.timed_out ? 1 : 0;
    else
        fprintf(stderr, "no test matched\n");
cleanup:
    free(tests);
    free(suites);
    return rc;
}

/* Runs the selected tests in this process with CUnit's own runner. */
static int run_here(void)
{
    /* Unbuffered, so a crash loses nothing and stdout and stderr keep
     * their order in the runner's file. */
    setvbuf(stdout, NULL, _IONBF, 0);
    mpt_leaks_baseline();
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
#define MPT_SUITE(fn, name) mpt_suite_##fn();
#include "suites.h"
#undef MPT_SUITE
    if (!only_test) print_not_here(stderr);
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

int main(int argc, char **argv)
{
#ifdef _WIN32
    int helper = mpt_platform_win32_helper(argc, argv);
    if (helper >= 0) return helper;
#endif
    mp_main(argc, argv);
    int rc = 2, here = 0, list_only = 0, jobs = (int)mpt_env_u64("MPT_JOBS", 1), i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--here") == 0)
            here = 1;
        else if (strcmp(argv[i], "--not-here") == 0)
            list_only = 1;
        else if (strcmp(argv[i], "-j") == 0 && i + 1 < argc)
            jobs = atoi(argv[++i]);
        else if (strncmp(argv[i], "-j", 2) == 0 && argv[i][2])
            jobs = atoi(argv[i] + 2);
        else {
            fprintf(stderr, "usage: %s [-j N | --here | --not-here] [suite [test]]\n",
                    argv[0]);
            return 2;
        }
    }
    if (i < argc) only_suite = argv[i++];
    if (i < argc) only_test = argv[i++];
    if (jobs < 1) jobs = 1;
    if (here) return run_here();
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
#define MPT_SUITE(fn, name) mpt_suite_##fn();
#include "suites.h"
#undef MPT_SUITE
    if (list_only) {
        print_not_here(stdout);
        printf("%u test(s) registered here (the leak checks once), %d not\n",
               CU_get_registry()->uiNumberOfTests, n_not_here);
        rc = 0;
    } else {
        print_not_here(stdout);
        fflush(stdout);
#ifndef _WIN32
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
#endif
        rc = run_each(argv[0], jobs);
    }
    CU_cleanup_registry();
    return rc;
}
