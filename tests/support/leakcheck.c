/* leakcheck.c - descriptors / handles, /dev/shm names and children of the
 * test process (see leakcheck.h). */
#ifndef _WIN32
#define _DEFAULT_SOURCE /* dirfd, usleep under -std=c11 */
#endif
#include "leakcheck.h"

#include <stdio.h>
#include <string.h>

#include "platform.h"

#ifdef _WIN32

#include <windows.h>

#include <tlhelp32.h>

/* Handles are found by asking GetHandleInformation about every value,
 * because Wine's GetProcessHandleCount always says 0. */
int mpt_leak_mark_now(mpt_leak_mark *m)
{
    DWORD flags, count = 0;
    m->open[0] = 0;
    for (uintptr_t v = 4; v < 4 * (uintptr_t)MPT_LEAK_SLOTS; v += 4)
        m->open[v / 4] = GetHandleInformation((HANDLE)v, &flags) != 0;
    GetProcessHandleCount(GetCurrentProcess(), &count);
    m->count = count;
    return 1;
}

int mpt_leaked_handles(const mpt_leak_mark *m, const char *when, int compare_count)
{
    static mpt_leak_mark now; /* 8 KiB: not on a test's stack */
    mpt_leak_mark_now(&now);
    int leaked = 0;
    for (uintptr_t v = 4; v < 4 * (uintptr_t)MPT_LEAK_SLOTS; v += 4)
        if (now.open[v / 4] && !m->open[v / 4]) {
            fprintf(stderr, "%s: leaked handle %#llx (file type %lu)\n", when,
                    (unsigned long long)v, (unsigned long)GetFileType((HANDLE)v));
            leaked++;
        }
    if (compare_count && now.count > m->count) {
        fprintf(stderr, "%s: %lu handle(s) more than at the mark (%lu -> %lu)\n", when,
                now.count - m->count, m->count, now.count);
        leaked++;
    }
    return leaked;
}

int mpt_leaked_shm_names(const char *when)
{
    (void)when;
    return 0;
}

/* Children of this process that are still running. Pids are reused, so
 * a process counts only if it was created after this one. */
int mpt_leaked_children(const char *when)
{
    FILETIME my_start, t1, t2, t3;
    if (!GetProcessTimes(GetCurrentProcess(), &my_start, &t1, &t2, &t3)) return -1;
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snap == INVALID_HANDLE_VALUE) return -1;
    PROCESSENTRY32W e;
    e.dwSize = sizeof e;
    DWORD self = GetCurrentProcessId();
    int running = 0;
    for (BOOL ok = Process32FirstW(snap, &e); ok; ok = Process32NextW(snap, &e)) {
        if (e.th32ParentProcessID != self || e.th32ProcessID == self) continue;
        HANDLE h = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE,
                               e.th32ProcessID);
        if (!h) continue; /* gone since the snapshot */
        FILETIME start;
        if (GetProcessTimes(h, &start, &t1, &t2, &t3) &&
            CompareFileTime(&start, &my_start) >= 0 &&
            WaitForSingleObject(h, 0) == WAIT_TIMEOUT) {
            fprintf(stderr, "%s: a child (pid %lu, %ls) is still running\n", when,
                    (unsigned long)e.th32ProcessID, e.szExeFile);
            running++;
        }
        CloseHandle(h);
    }
    CloseHandle(snap);
    return running;
}

#else

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int mpt_leak_mark_now(mpt_leak_mark *m)
{
    memset(m->open, 0, sizeof m->open);
    m->count = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return 0;
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        if (fd != self && fd >= 0 && fd < MPT_LEAK_SLOTS) {
            m->open[fd] = 1;
            m->count++;
        }
    }
    closedir(d);
    return 1;
}

int mpt_leaked_handles(const mpt_leak_mark *m, const char *when, int compare_count)
{
    (void)compare_count; /* every fd is seen by value on POSIX */
    static mpt_leak_mark now;
    if (!mpt_leak_mark_now(&now)) return -1;
    int leaked = 0;
    /* The SharedMemory tracker's pipe lives as long as the process, on
     * purpose (src/posix/tracker.c). */
    int tracker = (int)mp_os_shm_tracker();
    for (int fd = 0; fd < MPT_LEAK_SLOTS; fd++)
        if (now.open[fd] && !m->open[fd] && fd != tracker) {
            char path[64], target[256];
            snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
            ssize_t n = readlink(path, target, sizeof target - 1);
            target[n > 0 ? n : 0] = '\0';
            fprintf(stderr, "%s: leaked fd %d -> %s\n", when, fd, target);
            leaked++;
        }
    return leaked;
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

int mpt_leaked_shm_names(const char *when)
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
    if (n) {
        fprintf(stderr, "%s: left in /dev/shm: %s (+%d more); removing them\n", when,
                name, n - 1);
        /* After 2 s no name is inside another process's create call: each
         * is a leak, and left there it would fail every later check on
         * this machine, not only this one. */
        DIR *d = opendir("/dev/shm");
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL)
            if (strncmp(e->d_name, "mp-", 3) == 0) {
                char path[300];
                snprintf(path, sizeof path, "/dev/shm/%s", e->d_name);
                unlink(path);
            }
        if (d) closedir(d);
    }
    return n;
}

int mpt_leaked_children(const char *when)
{
    int status;
    errno = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
        fprintf(stderr, "%s: a child (pid %d) was never waited for\n", when, (int)pid);
        return 1;
    }
    if (pid == 0) {
        fprintf(stderr, "%s: a child is still running\n", when);
        return 1;
    }
    return errno == ECHILD ? 0 : 1;
}

#endif

int mpt_leaks_since(const mpt_leak_mark *m, const char *when)
{
    int h = mpt_leaked_handles(m, when, 0);
    int c = mpt_leaked_children(when);
    return (h < 0 ? 1 : h) + mpt_leaked_shm_names(when) + (c < 0 ? 1 : c);
}
