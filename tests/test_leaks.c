/* test_leaks.c - runs after every other suite of an invocation and checks
 * that they left nothing behind: no open descriptor that was not open
 * before the first test, no shared-memory name in /dev/shm, no child
 * process (running or zombie). */
#ifndef _WIN32
#define _DEFAULT_SOURCE /* dirfd, usleep under -std=c11 */
#endif
#include "test.h"

#ifdef _WIN32

void mpt_leaks_baseline(void) {}

void mpt_suite_leaks(void)
{
    /* Windows: handle and process leak checks come with the Win32 layer. */
}

#else

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_FD = 1024 };
static unsigned char open_at_start[MAX_FD];

/* Marks the descriptors open now; 0 if /proc/self/fd cannot be read. */
static int open_fds(unsigned char *open)
{
    memset(open, 0, MAX_FD);
    DIR *d = opendir("/proc/self/fd");
    if (!d) return 0;
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        if (fd != self && fd >= 0 && fd < MAX_FD) open[fd] = 1;
    }
    closedir(d);
    return 1;
}

/* Counts the names mproc would create in /dev/shm ("mp-..."). */
static int shm_names(char *first, size_t size)
{
    DIR *d = opendir("/dev/shm");
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "mp-", 3) == 0) {
            if (n++ == 0) snprintf(first, size, "%s", e->d_name);
        }
    closedir(d);
    return n;
}

void mpt_leaks_baseline(void)
{
    open_fds(open_at_start);
}

static void no_leaked_fds(void)
{
    unsigned char now[MAX_FD];
    CU_ASSERT_FATAL(open_fds(now));
    int leaked = 0;
    for (int fd = 0; fd < MAX_FD; fd++)
        if (now[fd] && !open_at_start[fd]) {
            char path[64], target[256];
            snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
            ssize_t n = readlink(path, target, sizeof target - 1);
            target[n > 0 ? n : 0] = '\0';
            fprintf(stderr, "leaked fd %d -> %s\n", fd, target);
            leaked++;
        }
    CU_ASSERT_EQUAL(leaked, 0);
}

static void no_shm_names(void)
{
    /* mproc unlinks a name right after creating it, so another test process
     * running in parallel may show one for an instant: only a name that
     * stays is a leak. */
    char name[256] = "";
    int n = 0;
    for (int tries = 0; tries < 200; tries++) {
        n = shm_names(name, sizeof name);
        if (n == 0) break;
        usleep(10000);
    }
    if (n) fprintf(stderr, "left in /dev/shm: %s (+%d more)\n", name, n - 1);
    CU_ASSERT_EQUAL(n, 0);
}

static void no_children(void)
{
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) fprintf(stderr, "a child (pid %d) was never waited for\n", (int)pid);
    CU_ASSERT_EQUAL(pid, -1);
    CU_ASSERT_EQUAL(errno, ECHILD); /* none running either */
}

void mpt_suite_leaks(void)
{
    mpt_add("leaks", "no_leaked_fds", no_leaked_fds);
    mpt_add("leaks", "no_shm_names", no_shm_names);
    mpt_add("leaks", "no_children", no_children);
}

#endif
