/* cpu.c - how many CPUs there are, and how many this process may use.
 *
 * The system's count is Linux's list of online CPUs where there is one,
 * else sysconf. Linux keeps an affinity mask per process, read with
 * sched_getaffinity (sized for more CPUs than CPU_SETSIZE when the system
 * has them); FreeBSD keeps a cpuset. Elsewhere (macOS) a process may run
 * on every CPU. */
#define _GNU_SOURCE
#include "mp_posix_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#if MP_HAVE_SCHED_GETAFFINITY
#include <sched.h>
#elif defined(__FreeBSD__)
#include <sys/param.h>
#include <sys/cpuset.h>
#endif

#include "posix_util.h"

#ifdef __linux__
/* Linux lists its online CPUs as ranges ("0-3,6,8-9"). musl's sysconf
 * counts the affinity mask instead, so the list is read first; 0 where
 * /sys is not mounted. */
static long online_listed(void)
{
    FILE *f = fopen("/sys/devices/system/cpu/online", "re");
    if (!f) return 0;
    char line[4096];
    long n = 0;
    if (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p >= '0' && *p <= '9') {
            long lo = strtol(p, &p, 10), hi = lo;
            if (*p == '-') hi = strtol(p + 1, &p, 10);
            if (hi >= lo) n += hi - lo + 1;
            if (*p != ',') break;
            p++;
        }
    }
    fclose(f);
    return n;
}
#else
static long online_listed(void)
{
    return 0;
}
#endif

static int online(void)
{
    long n = online_listed();
    if (n < 1) n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = sysconf(_SC_NPROCESSORS_CONF);
    if (n < 1)
        return mp_set_error(MP_EUNSUPPORTED, "the number of CPUs is not known here");
    return n > INT_MAX ? INT_MAX : (int)n;
}

#if MP_HAVE_SCHED_GETAFFINITY
static int affinity(int all)
{
    /* The mask must cover every CPU the kernel knows, online or not. */
    size_t size = all > CPU_SETSIZE ? (size_t)all : CPU_SETSIZE;
    int rc = all;
    cpu_set_t *set = NULL;
    for (int tries = 0; tries < 8; tries++, size *= 2) {
        size_t bytes = CPU_ALLOC_SIZE(size);
        set = CPU_ALLOC(size);
        if (!set) return mp_set_error(MP_ENOMEM, "out of memory for a CPU set");
        if (sched_getaffinity(0, bytes, set) == 0) {
            rc = CPU_COUNT_S(bytes, set);
            break;
        }
        int e = errno;
        CPU_FREE(set);
        set = NULL;
        if (e != EINVAL) return mp_px_fail("sched_getaffinity", e);
    }
    if (set) CPU_FREE(set);
    return rc > 0 ? rc : all;
}
#elif defined(__FreeBSD__)
static int affinity(int all)
{
    cpuset_t set;
    CPU_ZERO(&set);
    if (cpuset_getaffinity(CPU_LEVEL_WHICH, CPU_WHICH_PID, -1, sizeof set, &set) != 0)
        return all;
    int n = CPU_COUNT(&set);
    return n > 0 ? n : all;
}
#else
static int affinity(int all)
{
    return all;
}
#endif

int mp_os_cpu_count(int usable)
{
    int all = online();
    if (all < 0 || !usable) return all;
    return affinity(all);
}
