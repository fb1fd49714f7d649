/* proc.c - starting, bootstrapping, waiting for and ending processes.
 *
 * spawn runs this program again: CreateProcessW of GetModuleFileNameW(NULL)
 * with the command line  "<exe>" <arg>, where core (runtime/boot.c) gives
 * arg, the marker naming the bootstrap section, and writes the section
 * between mp_os_spawn_prepare, which makes the child's handles, and
 * mp_os_spawn_start.
 *
 * Only chosen handles: the child inherits exactly the handles listed in
 * PROC_THREAD_ATTRIBUTE_HANDLE_LIST (bInheritHandles=TRUE,
 * EXTENDED_STARTUPINFO_PRESENT). Listed handles must be inheritable, and
 * mproc's own handles are not (see shm.c), so each listed handle is an
 * inheritable *duplicate* made for this spawn and closed right after
 * CreateProcessW. Duplicating instead of flipping HANDLE_FLAG_INHERIT on
 * the original leaves the originals alone, so two threads spawning with
 * the same Queue cannot undo each other's flag. An inherited handle keeps
 * its value in the child, so prepare reports the duplicates' values.
 * (Wine accepts non-inheritable handles in the list; Windows does not.)
 *
 * Standard handles: with a handle list, the parent's stdin/stdout/stderr
 * reach the child only if they are listed too, so each valid one gets an
 * inheritable duplicate, listed, and passed with STARTF_USESTDHANDLES. A
 * child's printf then lands in the parent's pipe or file, which is how
 * CTest runs the examples. Windows 7's console pseudo-handles (value & 3
 * == 3) are not kernel handles and cannot be listed; they are passed in
 * STARTUPINFO alone (the child shares the console anyway).
 *
 * In the child, mp_os_child_adopt checks every handle it was given and
 * clears HANDLE_FLAG_INHERIT on it, so they do not leak into grandchildren.
 *
 * No sentinel pipe: the process handle is signalled when the child ends,
 * and proc_wait waits on it. Windows has no signals: terminate and kill are
 * TerminateProcess with exit codes 0x10000 + SIGTERM (15) and 0x10000 +
 * SIGKILL (9), and an exit code 0x10000 + N (1 <= N < 64) is reported as -N,
 * so mp_process_terminate/kill give -15/-9 as on POSIX (CPython on Windows
 * reports its TERMINATE code as -SIGTERM likewise). A crash gives what the
 * CRT or the system sets: 3 after abort(), an NTSTATUS such as
 * 0xC0000005 (as a negative int) after an access violation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win32_util.h"

#define EXIT_SIGNAL   0x10000u
#define SIG_TERM      15u
#define SIG_KILL      9u
#define CMDLINE_LIMIT 32767u /* CreateProcessW's limit, in wide chars */
#define START_TRIES   4

/* ---- command-line quoting -------------------------------------------------- */

static int put(wchar_t *cmd, size_t cap, size_t *len, wchar_t c)
{
    if (cmd) {
        if (*len + 1 >= cap) return MP_ETOOBIG;
        cmd[*len] = c;
        cmd[*len + 1] = L'\0';
    }
    (*len)++;
    return 0;
}

static int put_n(wchar_t *cmd, size_t cap, size_t *len, wchar_t c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (put(cmd, cap, len, c)) return MP_ETOOBIG;
    return 0;
}

/* The rules CommandLineToArgvW (and the CRT) read back: backslashes are
 * literal unless a quote follows them; 2n backslashes + quote give n
 * backslashes and toggle quoting; 2n+1 + quote give n backslashes and a
 * literal quote. So inside quotes, a run of backslashes is doubled when a
 * quote (escaped, or the closing one) follows it, and kept otherwise. */
int mp_w32_quote_arg(wchar_t *cmd, size_t cap, size_t *len, const wchar_t *arg)
{
    if (*len > 0 && put(cmd, cap, len, L' ')) return MP_ETOOBIG;
    if (arg[0] != L'\0' && !wcspbrk(arg, L" \t\n\v\"")) {
        for (const wchar_t *p = arg; *p; p++)
            if (put(cmd, cap, len, *p)) return MP_ETOOBIG;
        return 0;
    }
    if (put(cmd, cap, len, L'"')) return MP_ETOOBIG;
    size_t bs = 0;
    for (const wchar_t *p = arg;; p++) {
        if (*p == L'\\') {
            bs++;
            continue;
        }
        if (*p == L'\0') {
            if (put_n(cmd, cap, len, L'\\', 2 * bs)) return MP_ETOOBIG;
            break;
        }
        if (*p == L'"') {
            if (put_n(cmd, cap, len, L'\\', 2 * bs + 1)) return MP_ETOOBIG;
        } else if (put_n(cmd, cap, len, L'\\', bs)) {
            return MP_ETOOBIG;
        }
        bs = 0;
        if (put(cmd, cap, len, *p)) return MP_ETOOBIG;
    }
    return put(cmd, cap, len, L'"');
}

/* ---- helpers --------------------------------------------------------------- */

int mp_w32_dup_inheritable(HANDLE h, HANDLE *out)
{
    *out = NULL;
    HANDLE self = GetCurrentProcess();
    if (!DuplicateHandle(self, h, self, out, 0, TRUE, DUPLICATE_SAME_ACCESS)) {
        *out = NULL;
        return mp_w32_fail("DuplicateHandle", GetLastError());
    }
    return 0;
}

/* This program's path, in a new buffer; long paths included. */
static int exe_path(wchar_t **out)
{
    *out = NULL;
    for (DWORD cap = MAX_PATH;; cap *= 2) {
        wchar_t *buf = malloc(cap * sizeof *buf);
        if (!buf) return mp_set_error(MP_ENOMEM, "out of memory");
        DWORD n = GetModuleFileNameW(NULL, buf, cap);
        if (n == 0) {
            DWORD e = GetLastError();
            free(buf);
            return mp_w32_fail("GetModuleFileNameW", e);
        }
        if (n < cap) {
            *out = buf;
            return 0;
        }
        free(buf);
        if (cap >= 65536)
            return mp_set_error(MP_ESYS, "GetModuleFileNameW: path too long");
    }
}

/* ---- spawn ----------------------------------------------------------------- */

void mp_os_set_argv0(const char *argv0)
{
    /* GetModuleFileNameW always knows; argv[0] is not needed. */
    (void)argv0;
}

struct mp_os_spawn {
    HANDLE *list; /* inheritable duplicates, all closed at the end */
    size_t nlist;
    wchar_t *exe;
    STARTUPINFOEXW si;
    LPPROC_THREAD_ATTRIBUTE_LIST attrs;
    int attrs_init;
};

void mp_os_spawn_cancel(mp_os_spawn *s)
{
    if (!s) return;
    if (s->attrs_init) DeleteProcThreadAttributeList(s->attrs);
    free(s->attrs);
    for (size_t i = 0; i < s->nlist; i++)
        CloseHandle(s->list[i]);
    free(s->list);
    free(s->exe);
    free(s);
}

/* Lists an inheritable duplicate of h; its value is what the child sees. */
static int add_dup(mp_os_spawn *s, HANDLE h, HANDLE *child_value)
{
    HANDLE d;
    int rc = mp_w32_dup_inheritable(h, &d);
    if (rc) return rc;
    s->list[s->nlist++] = d;
    if (child_value) *child_value = d;
    return 0;
}

/* The three standard handles: listed duplicates where possible. */
static void add_std(mp_os_spawn *s, STARTUPINFOW *si)
{
    static const DWORD ids[3] = {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE};
    HANDLE *slots[3] = {&si->hStdInput, &si->hStdOutput, &si->hStdError};
    for (int i = 0; i < 3; i++) {
        HANDLE h = GetStdHandle(ids[i]);
        *slots[i] = NULL;
        if (h == NULL || h == INVALID_HANDLE_VALUE) continue;
        if (((uintptr_t)h & 3u) == 3u) {
            *slots[i] = h; /* a console pseudo-handle (Windows 7) */
            continue;
        }
        HANDLE d;
        if (add_dup(s, h, &d) == 0) *slots[i] = d;
    }
    mp_clear_error(); /* a std handle that cannot be duplicated is left out */
    si->dwFlags |= STARTF_USESTDHANDLES;
}

/* The attribute list that limits inheritance to s->list. */
static int handle_list(mp_os_spawn *s)
{
    SIZE_T asize = 0;
    InitializeProcThreadAttributeList(NULL, 1, 0, &asize);
    s->attrs = malloc(asize);
    if (!s->attrs) return mp_set_error(MP_ENOMEM, "spawn: out of memory");
    if (!InitializeProcThreadAttributeList(s->attrs, 1, 0, &asize))
        return mp_w32_fail("InitializeProcThreadAttributeList", GetLastError());
    s->attrs_init = 1;
    if (!UpdateProcThreadAttribute(s->attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
                                   s->list, s->nlist * sizeof *s->list, NULL, NULL))
        return mp_w32_fail("UpdateProcThreadAttribute(HANDLE_LIST)", GetLastError());
    s->si.lpAttributeList = s->attrs;
    return 0;
}

int mp_os_spawn_prepare(mp_os_spawn **out, const mp_os_handle *handles, size_t n,
                        mp_os_handle *child, mp_os_handle *own)
{
    mp_os_spawn *s = NULL;
    int rc = 0;
    *out = NULL;
    *own = MP_OS_NO_HANDLE; /* the process handle tells the exit: no sentinel */
    for (size_t i = 0; i < n && rc == 0; i++)
        if (!mp_w32_valid(handles[i]))
            rc = mp_set_error(MP_EINVAL, "spawn: invalid handle %lld",
                              (long long)handles[i]);
    if (rc < 0) goto cleanup;
    s = calloc(1, sizeof *s);
    if (s) s->list = malloc((n + 3) * sizeof *s->list);
    if (!s || !s->list) {
        rc = mp_set_error(MP_ENOMEM, "spawn: out of memory");
        goto cleanup;
    }
    if ((rc = exe_path(&s->exe)) < 0) goto cleanup;
    for (size_t i = 0; i < n && rc == 0; i++) {
        HANDLE d = NULL;
        rc = add_dup(s, mp_w32_h(handles[i]), &d);
        child[i] = (mp_os_handle)d;
    }
    if (rc < 0) goto cleanup;
    s->si.StartupInfo.cb = sizeof s->si;
    add_std(s, &s->si.StartupInfo);
    rc = handle_list(s);
cleanup:
    if (rc < 0) {
        mp_os_spawn_cancel(s);
        s = NULL;
    }
    *out = s;
    return rc;
}

/* "<exe>" <arg>, in a new buffer. argv[0] is read by its own rule (up to
 * the next quote, no escapes), and a path holds no quote; arg is quoted
 * for CommandLineToArgvW. */
static int command_line(const wchar_t *exe, const char *arg, wchar_t **out)
{
    wchar_t *warg = NULL, *cmd = NULL;
    *out = NULL;
    int rc = mp_w32_to_wide(arg, &warg);
    if (rc < 0) goto cleanup;
    size_t exelen = wcslen(exe), k = exelen + 2, total = k;
    mp_w32_quote_arg(NULL, 0, &total, warg);
    if (total >= CMDLINE_LIMIT) {
        rc = mp_set_error(MP_EUNSUPPORTED, "spawn: executable path too long");
        goto cleanup;
    }
    if (!(cmd = malloc((total + 1) * sizeof *cmd))) {
        rc = mp_set_error(MP_ENOMEM, "spawn: out of memory");
        goto cleanup;
    }
    cmd[0] = L'"';
    memcpy(cmd + 1, exe, exelen * sizeof *cmd);
    cmd[exelen + 1] = L'"';
    cmd[k] = L'\0';
    rc = mp_w32_quote_arg(cmd, total + 1, &k, warg);
cleanup:
    free(warg);
    if (rc < 0) {
        free(cmd);
        cmd = NULL;
    }
    *out = cmd;
    return rc;
}

#ifdef MPROC_TEST_HOOKS
int mp__w32_start_faults; /* win32_util.h */
#endif

/* Whether a test asked this start to fail as Wine's can (win32_util.h). */
static int start_fault(void)
{
#ifdef MPROC_TEST_HOOKS
    if (mp__w32_start_faults > 0) {
        mp__w32_start_faults--;
        return 1;
    }
#endif
    return 0;
}

/* Wine fails a start with ERROR_INTERNAL_ERROR when the new process ended
 * before its loader reported it started (its Unix side could not lay out
 * the image, for one): seen once in a loaded CI run. Such a child never
 * ran a line of this program nor looked at the handles, so it is started
 * again, a few times at most. CreateProcessW may write into the command
 * line, so each try gets a fresh copy. */
static int create_process(mp_os_spawn *s, const wchar_t *cmdline, PROCESS_INFORMATION *pi)
{
    size_t cmdlen = wcslen(cmdline) + 1;
    wchar_t *cmd = malloc(cmdlen * sizeof *cmd);
    if (!cmd) return mp_set_error(MP_ENOMEM, "spawn: out of memory");
    BOOL ok = FALSE;
    DWORD e = 0;
    for (int attempt = 0; attempt < START_TRIES && !ok; attempt++) {
        if (attempt) mp_os_sleep_ns(1000000ull << attempt);
        memcpy(cmd, cmdline, cmdlen * sizeof *cmd);
        if (start_fault()) {
            e = ERROR_INTERNAL_ERROR;
        } else {
            ok = CreateProcessW(s->exe, cmd, NULL, NULL, TRUE,
                                EXTENDED_STARTUPINFO_PRESENT, NULL, NULL,
                                &s->si.StartupInfo, pi);
            e = ok ? 0 : GetLastError();
        }
        if (e != ERROR_INTERNAL_ERROR) break;
    }
    free(cmd);
    if (ok) return 0;
    char *u = NULL;
    mp_w32_to_utf8(s->exe, &u);
    char what[300];
    snprintf(what, sizeof what, "CreateProcessW %s", u ? u : "(this program)");
    free(u);
    return mp_w32_fail(what, e);
}

int mp_os_spawn_start(mp_os_spawn *s, const char *arg, mp_os_proc *p)
{
    wchar_t *cmd = NULL;
    PROCESS_INFORMATION pi;
    memset(&pi, 0, sizeof pi);
    int rc = command_line(s->exe, arg, &cmd);
    if (rc < 0) goto cleanup;
    if ((rc = create_process(s, cmd, &pi)) < 0) goto cleanup;
    CloseHandle(pi.hThread);
    p->pid = (int64_t)pi.dwProcessId;
    p->process = (mp_os_handle)pi.hProcess;
cleanup:
    free(cmd);
    mp_os_spawn_cancel(s);
    return rc;
}

/* ---- the child's side ------------------------------------------------------ */

static int handle_is_open(mp_os_handle h)
{
    DWORD flags;
    return mp_w32_valid(h) && GetHandleInformation(mp_w32_h(h), &flags);
}

int mp_os_child_adopt(mp_os_handle h)
{
    if (!handle_is_open(h))
        return mp_set_error(MP_EPROTO, "bootstrap: handle %lld is not open",
                            (long long)h);
    /* Not inheritable again, so it does not leak into grandchildren. */
    SetHandleInformation(mp_w32_h(h), HANDLE_FLAG_INHERIT, 0);
    return 0;
}

void mp_os_child_keep(mp_os_handle own)
{
    (void)own; /* spawn_prepare passes none */
}

/* ---- fork ------------------------------------------------------------------ */

int mp_os_fork(mp_os_proc *p, int *in_child)
{
    *in_child = 0;
    p->pid = 0;
    p->sentinel = MP_OS_NO_HANDLE;
    p->process = MP_OS_NO_HANDLE;
    p->exited = 0;
    p->exitcode = 0;
    return mp_set_error(MP_EUNSUPPORTED, "fork: Windows has no fork; use spawn");
}

/* ---- waiting, ending, exiting ---------------------------------------------- */

static int exit_code(DWORD code)
{
    if (code > EXIT_SIGNAL && code < EXIT_SIGNAL + 64u) return -(int)(code - EXIT_SIGNAL);
    return (int)code; /* an NTSTATUS above 0x7fffffff becomes negative */
}

int mp_os_proc_wait(mp_os_proc *p, uint64_t deadline_ns)
{
    if (p->exited) return 0;
    if (!mp_w32_valid(p->process))
        return mp_set_error(MP_EINVAL, "wait: no such child (pid %lld)",
                            (long long)p->pid);
    HANDLE h = mp_w32_h(p->process);
    for (;;) {
        DWORD ms = mp_w32_timeout_ms(deadline_ns);
        DWORD w = WaitForSingleObject(h, ms);
        if (w == WAIT_OBJECT_0) break;
        if (w == WAIT_TIMEOUT) {
            if (ms == 0) return MP_ETIMEDOUT;
            continue;
        }
        return mp_w32_fail("WaitForSingleObject(process)", GetLastError());
    }
    DWORD code = 0;
    if (!GetExitCodeProcess(h, &code))
        return mp_w32_fail("GetExitCodeProcess", GetLastError());
    p->exited = 1;
    p->exitcode = exit_code(code);
    return 0;
}

int mp_os_proc_signal(mp_os_proc *p, int hard)
{
    if (p->exited) return 0;
    if (!mp_w32_valid(p->process))
        return mp_set_error(MP_EINVAL, "signal: no such child (pid %lld)",
                            (long long)p->pid);
    HANDLE h = mp_w32_h(p->process);
    if (TerminateProcess(h, EXIT_SIGNAL + (hard ? SIG_KILL : SIG_TERM))) return 0;
    DWORD e = GetLastError();
    /* A process that is ending or ended refuses (ERROR_ACCESS_DENIED). */
    if (WaitForSingleObject(h, 0) == WAIT_OBJECT_0) return 0;
    return mp_w32_fail("TerminateProcess", e);
}

void mp_os_proc_release(mp_os_proc *p)
{
    mp_os_close(p->process);
    p->process = MP_OS_NO_HANDLE;
    p->sentinel = MP_OS_NO_HANDLE;
}

void mp_os_exit(int code, int forked)
{
    (void)forked; /* there is no fork child on Windows */
    fflush(NULL);
    exit(code);
}

mp_os_handle mp_os_proc_sentinel(const mp_os_proc *p)
{
    return p->process;
}

/* A handle on the parent process, opened by pid at the child's start, as
 * Python's spawn does on Windows. A parent that ended before that look,
 * with its id already given to another process, would be taken for
 * alive: Python's has the same limit. */
static HANDLE watched_parent;

void mp_os_watch_parent(uint32_t pid)
{
    if (watched_parent) CloseHandle(watched_parent);
    watched_parent = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)pid);
}

mp_os_handle mp_os_parent_sentinel(void)
{
    return watched_parent ? (mp_os_handle)(intptr_t)watched_parent : MP_OS_NO_HANDLE;
}

int mp_os_parent_alive(void)
{
    return watched_parent && WaitForSingleObject(watched_parent, 0) == WAIT_TIMEOUT;
}
