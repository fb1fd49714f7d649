/* runtime/cpus.c - mp_cpu_count and mp_process_cpu_count. Mirrors
 * _test_multiprocessing's _TestProcess.test_cpu_count (an int >= 1) and
 * test_os's process_cpu_count cases (at most cpu_count(); after
 * sched_setaffinity, the size of the mask), here across processes: a
 * child inherits the mask. */
#ifdef __linux__
#define _GNU_SOURCE
#endif
#include "test.h"

#if defined(_WIN32)
#include <windows.h>
#elif defined(__linux__)
#include <sched.h>
#include "mp_posix_config.h"
#endif

static int t_report_usable(const mp_args *args)
{
    (void)args;
    int n = mp_process_cpu_count();
    return n < 0 ? 100 : n;
}

static void counts(void)
{
    int all = mp_cpu_count(), usable = mp_process_cpu_count();
    CU_ASSERT(all >= 1);
    CU_ASSERT(usable >= 1);
    CU_ASSERT(usable <= all);
    /* A child started now may use as many. */
    CU_ASSERT_EQUAL(mpt_run(t_report_usable, MP_NO_ARGS, MP_START_SPAWN),
                    usable < 100 ? usable : 100);
}

/* Restricts this process to one CPU (its first allowed one): 1 if done,
 * 0 where the OS keeps no mask mproc reads. */
static int pin_to_one_cpu(void)
{
#if defined(_WIN32)
    DWORD_PTR mine = 0, system = 0;
    if (!GetProcessAffinityMask(GetCurrentProcess(), &mine, &system) || mine == 0)
        return 0;
    DWORD_PTR first = mine & (~mine + 1);
    return SetProcessAffinityMask(GetCurrentProcess(), first) != 0;
#elif defined(__linux__) && MP_HAVE_SCHED_GETAFFINITY
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    for (size_t cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &set)) {
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            return sched_setaffinity(0, sizeof set, &set) == 0;
        }
    return 0;
#else
    return 0;
#endif
}

/* Pinned to one CPU, this process and a child it starts (which inherits
 * the mask) may use one; the system still has all of them. (The test runs
 * in a process of its own, so the pin ends with it.) */
static void follows_affinity(void)
{
    int all = mp_cpu_count();
    if (!pin_to_one_cpu()) {
        /* No mask here (macOS, the portable flavour): every CPU is usable. */
        CU_ASSERT_EQUAL(mp_process_cpu_count(), all);
        return;
    }
    CU_ASSERT_EQUAL(mp_process_cpu_count(), 1);
    CU_ASSERT_EQUAL(mp_cpu_count(), all);
    CU_ASSERT_EQUAL(mpt_run(t_report_usable, MP_NO_ARGS, MP_START_SPAWN), 1);
}

void mpt_suite_runtime_cpus(void)
{
    mpt_add("runtime/cpus", "counts", counts);
    mpt_add("runtime/cpus", "follows_affinity", follows_affinity);
}
