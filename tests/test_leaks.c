/* test_leaks.c - runs after every other suite of an invocation and checks
 * that they left nothing behind: no open descriptor (Windows: handle) that
 * was not open before the first test, no shared-memory name in /dev/shm,
 * no child process (running or zombie). */
#ifndef _WIN32
#define _DEFAULT_SOURCE /* dirfd, usleep under -std=c11 */
#endif
#include "test.h"

#ifdef _WIN32

/* Windows: the process's open handles against a baseline, and no child
 * process still running. Shared memory has no names there (unnamed
 * pagefile sections die with their last handle), so the handle check
 * covers it, and a process object held open (the analogue of a zombie)
 * is a handle too. */
#include <windows.h>

#include <tlhelp32.h>

/* Handles are found by asking GetHandleInformation about every value up
 * to SCAN_MAX (they are multiples of 4, lowest free first, so a leak
 * takes a low value), because Wine's GetProcessHandleCount always says 0.
 * Where the count works (Windows), it is compared too, which also sees a
 * leak that reused the value of a handle closed since the baseline. */
enum { SCAN_MAX = 1 << 15 };
static unsigned char open_at_start[SCAN_MAX / 4];
static DWORD count_at_start;

static void open_handles(unsigned char *open)
{
    DWORD flags;
    for (uintptr_t v = 4; v < SCAN_MAX; v += 4)
        open[v / 4] = GetHandleInformation((HANDLE)v, &flags) != 0;
}

/* Child target of the warm-up below. */
static int w_nothing(const mp_args *args)
{
    (void)args;
    return 0;
}

/* Some handles are opened once per process and kept on purpose: the
 * per-thread I/O event of the pipe layer (closed when the thread ends,
 * and the main thread never ends), what the C runtime, BCrypt and
 * kernel32 open lazily on first use, and Winsock's own state after its
 * first socket. So the baseline is taken after one use of each part
 * (random bytes, a Value, a Pipe and a TCP connection with one message
 * each way, a spawned child); only growth after that is a leak. */
void mpt_leaks_baseline(void)
{
    unsigned char r[16];
    mp_os_random(r, sizeof r);
    mp_value *v = NULL;
    if (mp_value_new(&v, 'i') == 0) mp_value_free(v);
    mp_conn *a = NULL, *b = NULL;
    if (mp_pipe(&a, &b, 1) == 0) {
        char buf[4];
        size_t got = 0;
        mp_conn_send_bytes(a, "x", 0, 1);
        mp_conn_recv_bytes_into(b, buf, sizeof buf, 0, &got);
        mp_conn_send_bytes(b, "y", 0, 1);
        mp_conn_recv_bytes_into(a, buf, sizeof buf, 0, &got);
        mp_conn_close(a);
        mp_conn_close(b);
    }
    mp_listener *l = NULL;
    if (mp_listener_new_tcp(&l, "127.0.0.1", 0, 1, NULL, 0) == 0) {
        a = b = NULL;
        if (mp_client_tcp(&a, "127.0.0.1", mp_listener_port(l), NULL, 0) == 0 &&
            mp_listener_accept(l, &b) == 0) {
            char buf[4];
            size_t got = 0;
            mp_conn_send_bytes(a, "x", 0, 1);
            mp_conn_recv_bytes_into(b, buf, sizeof buf, 0, &got);
            mp_conn_send_bytes(b, "y", 0, 1);
            mp_conn_recv_bytes_into(a, buf, sizeof buf, 0, &got);
        }
        mp_conn_close(a);
        mp_conn_close(b);
        mp_listener_close(l);
    }
    mp_process *p = NULL;
    if (mp_process_new(&p, w_nothing, MP_NO_ARGS) == 0) {
        if (mp_process_start(p) == 0) mp_process_join(p, MPT_JOIN_TIMEOUT);
        mp_process_close(p);
    }
    open_handles(open_at_start);
    GetProcessHandleCount(GetCurrentProcess(), &count_at_start);
}

static void no_leaked_handles(void)
{
    static unsigned char now[SCAN_MAX / 4];
    open_handles(now);
    int leaked = 0;
    for (uintptr_t v = 4; v < SCAN_MAX; v += 4)
        if (now[v / 4] && !open_at_start[v / 4]) {
            fprintf(stderr, "leaked handle %#llx (file type %lu)\n",
                    (unsigned long long)v, (unsigned long)GetFileType((HANDLE)v));
            leaked++;
        }
    CU_ASSERT_EQUAL(leaked, 0);
    DWORD count = 0;
    CU_ASSERT_FATAL(GetProcessHandleCount(GetCurrentProcess(), &count));
    if (count > count_at_start)
        fprintf(stderr, "%lu handle(s) more than after the warm-up (%lu -> %lu)\n",
                (unsigned long)(count - count_at_start), (unsigned long)count_at_start,
                (unsigned long)count);
    CU_ASSERT(count <= count_at_start);
}

/* Children of this process that are still running. Pids are reused, so
 * a process counts only if it was created after this one. */
static void no_children(void)
{
    FILETIME my_start, t1, t2, t3;
    CU_ASSERT_FATAL(GetProcessTimes(GetCurrentProcess(), &my_start, &t1, &t2, &t3));
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    CU_ASSERT_FATAL(snap != INVALID_HANDLE_VALUE);
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
            fprintf(stderr, "a child (pid %lu, %ls) is still running\n",
                    (unsigned long)e.th32ProcessID, e.szExeFile);
            running++;
        }
        CloseHandle(h);
    }
    CloseHandle(snap);
    CU_ASSERT_EQUAL(running, 0);
}

void mpt_suite_leaks(void)
{
    mpt_add("leaks", "no_leaked_handles", no_leaked_handles);
    mpt_add("leaks", "no_children", no_children);
    mpt_not_here("leaks", "no_leaked_fds",
                 "Windows has handles, not fds: no_leaked_handles");
    mpt_not_here("leaks", "no_shm_names",
                 "Windows sections have no names to leave behind (unnamed, freed with "
                 "their last handle, which no_leaked_handles counts)");
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
