/* child.c - starting, watching and killing one test's process (child.h).
 * The one #ifdef of the runner: posix_spawn on POSIX, CreateProcess on
 * Windows; both hand the child a temporary file as stdout and stderr. */
#ifndef _WIN32
#define _DEFAULT_SOURCE /* kill, nanosleep, fileno under -std=c11 */
#endif
#include "child.h"

#include <stdio.h>
#include <string.h>

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#include <windows.h>

int mpt_child_start(mpt_child *c, const char *self, const char *suite, const char *test)
{
    int rc = -1;
    char exe[MAX_PATH], dir[MAX_PATH], name[MAX_PATH], cmd[3 * MAX_PATH];
    HANDLE f = INVALID_HANDLE_VALUE, f2 = INVALID_HANDLE_VALUE;
    (void)self; /* argv[0] under Wine need not name the file: ask Windows */
    memset(c, 0, sizeof *c);
    DWORD n = GetModuleFileNameA(NULL, exe, sizeof exe);
    if (n == 0 || n >= sizeof exe || !GetTempPathA(sizeof dir, dir) ||
        !GetTempFileNameA(dir, "mpt", 0, name)) {
        fprintf(stderr, "cannot name the test's output file (%lu)\n", GetLastError());
        goto cleanup;
    }
    /* Inheritable, as the child's stdout and stderr; gone when the last
     * handle closes, so a killed runner leaves no file behind. */
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    f = CreateFileA(name, GENERIC_READ | GENERIC_WRITE,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &sa,
                    CREATE_ALWAYS, FILE_ATTRIBUTE_TEMPORARY | FILE_FLAG_DELETE_ON_CLOSE,
                    NULL);
    if (f == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "cannot create %s (%lu)\n", name, GetLastError());
        goto cleanup;
    }
    /* stderr gets a handle of its own, as a console or CTest's pipes give:
     * a test that swaps fd 1 (obj/print) closes its handle, which must not
     * also be fd 2's. Both write through one file object, so in order. */
    if (!DuplicateHandle(GetCurrentProcess(), f, GetCurrentProcess(), &f2, 0, TRUE,
                         DUPLICATE_SAME_ACCESS)) {
        fprintf(stderr, "cannot duplicate the output handle (%lu)\n", GetLastError());
        goto cleanup;
    }
    /* Suite and test names have no spaces or quotes; the path may. */
    snprintf(cmd, sizeof cmd, "\"%s\" --here %s %s", exe, suite, test);
    STARTUPINFOA si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdOutput = f;
    si.hStdError = f2;
    PROCESS_INFORMATION pi;
    if (!CreateProcessA(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
        fprintf(stderr, "cannot start %s (%lu)\n", cmd, GetLastError());
        goto cleanup;
    }
    CloseHandle(pi.hThread);
    c->handle = pi.hProcess;
    c->pid = pi.dwProcessId;
    int fd = _open_osfhandle((intptr_t)f, _O_RDWR | _O_BINARY);
    if (fd >= 0) f = INVALID_HANDLE_VALUE; /* the fd owns it now */
    c->out = fd >= 0 ? _fdopen(fd, "w+b") : NULL;
    if (!c->out && fd >= 0) _close(fd);
    rc = 0;
cleanup:
    if (f != INVALID_HANDLE_VALUE) CloseHandle(f);
    if (f2 != INVALID_HANDLE_VALUE) CloseHandle(f2);
    return rc;
}

int mpt_child_poll(mpt_child *c, int *status)
{
    DWORD w = WaitForSingleObject(c->handle, 0), code = 0;
    if (w == WAIT_TIMEOUT) return 0;
    if (w != WAIT_OBJECT_0 || !GetExitCodeProcess(c->handle, &code)) return -1;
    *status = (int)code;
    return 1;
}

void mpt_child_kill(mpt_child *c)
{
    TerminateProcess(c->handle, 124);
    WaitForSingleObject(c->handle, INFINITE);
}

void mpt_child_kill_all(void) {}

void mpt_sleep_ms(int ms)
{
    Sleep((DWORD)ms);
}

double mpt_now(void)
{
    LARGE_INTEGER f, t;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&t);
    return (double)t.QuadPart / (double)f.QuadPart;
}

static void close_process(mpt_child *c)
{
    if (c->handle) CloseHandle(c->handle);
    c->handle = NULL;
}

#else
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* The children running now, for mpt_child_kill_all. */
enum { MAX_RUNNING = 64 };
static volatile pid_t running[MAX_RUNNING];

static void track(pid_t now, pid_t was)
{
    for (int i = 0; i < MAX_RUNNING; i++)
        if (running[i] == was) {
            running[i] = now;
            return;
        }
}

int mpt_child_start(mpt_child *c, const char *self, const char *suite, const char *test)
{
    int rc = -1, fa_made = 0, at_made = 0, e = 0;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    /* posix_spawn takes char *const argv[]: copies, not casts of const. */
    char exe[4096], here[] = "--here", s[256], t[256];
    char *argv[] = {exe, here, s, t, NULL};
    memset(c, 0, sizeof *c);
    snprintf(exe, sizeof exe, "%s", self);
    snprintf(s, sizeof s, "%s", suite);
    snprintf(t, sizeof t, "%s", test);
    c->out = tmpfile();
    if (!c->out) {
        perror("tmpfile");
        goto cleanup;
    }
    /* Only the child's stdout and stderr: a test started beside this one
     * (-j) must not inherit it. */
    int fd = fileno(c->out);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    if ((e = posix_spawn_file_actions_init(&fa)) != 0) goto cleanup;
    fa_made = 1;
    if ((e = posix_spawnattr_init(&at)) != 0) goto cleanup;
    at_made = 1;
    if ((e = posix_spawn_file_actions_adddup2(&fa, fd, 1)) != 0 ||
        (e = posix_spawn_file_actions_adddup2(&fa, fd, 2)) != 0 ||
        (e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP)) != 0 ||
        (e = posix_spawnattr_setpgroup(&at, 0)) != 0)
        goto cleanup;
    pid_t pid = 0;
    if ((e = posix_spawnp(&pid, exe, &fa, &at, argv, environ)) != 0) goto cleanup;
    c->pid = pid;
    track(pid, 0);
    rc = 0;
cleanup:
    if (e) fprintf(stderr, "cannot start %s: %s\n", exe, strerror(e));
    if (fa_made) posix_spawn_file_actions_destroy(&fa);
    if (at_made) posix_spawnattr_destroy(&at);
    if (rc != 0 && c->out) {
        fclose(c->out);
        c->out = NULL;
    }
    return rc;
}

int mpt_child_poll(mpt_child *c, int *status)
{
    int st = 0;
    pid_t r = waitpid((pid_t)c->pid, &st, WNOHANG);
    if (r == 0) return 0;
    if (r < 0 && errno == EINTR) return 0;
    if (r < 0) return -1;
    track(0, (pid_t)c->pid);
    *status =
        WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return 1;
}

void mpt_child_kill(mpt_child *c)
{
    int st;
    kill(-(pid_t)c->pid, SIGKILL);
    kill((pid_t)c->pid, SIGKILL);
    while (waitpid((pid_t)c->pid, &st, 0) < 0 && errno == EINTR)
        ;
    track(0, (pid_t)c->pid);
}

void mpt_child_kill_all(void)
{
    for (int i = 0; i < MAX_RUNNING; i++)
        if (running[i] > 0) kill(-running[i], SIGKILL);
}

void mpt_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

double mpt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void close_process(mpt_child *c)
{
    (void)c;
}
#endif

/* The MPT_NOTE lines of what the child wrote, to stdout. */
static void copy_notes(FILE *out)
{
    char line[2048];
    size_t prefix = strlen(MPT_NOTE);
    rewind(out);
    while (fgets(line, sizeof line, out))
        if (strncmp(line, MPT_NOTE, prefix) == 0) fputs(line, stdout);
    fflush(stdout);
}

void mpt_child_release(mpt_child *c, FILE *to)
{
    if (c->out && !to) copy_notes(c->out);
    if (c->out && to) {
        char buf[4096];
        size_t n;
        int last = '\n';
        rewind(c->out);
        while ((n = fread(buf, 1, sizeof buf, c->out)) > 0) {
            fwrite(buf, 1, n, to);
            last = buf[n - 1];
        }
        /* A killed test stops mid-line; the runner's report starts anew. */
        if (last != '\n') fputc('\n', to);
        fflush(to);
    }
    if (c->out) fclose(c->out);
    c->out = NULL;
    close_process(c);
}
