/* proc.c - starting, bootstrapping, waiting for and ending processes.
 *
 * spawn runs this program again: CreateProcessW of GetModuleFileNameW(NULL)
 * with the command line  "<exe>" --mproc-child=<handle>  (CPython marks
 * its children with --multiprocessing-fork the same way; an environment
 * variable would also reach grandchildren). <handle> is the value of an
 * unnamed section, inherited by the child, that holds the rest:
 *
 *   u32 magic 'MPW1' | u32 n | n x u64 handle values | u64 bloblen | blob
 *
 * (fields unaligned, native byte order: only this program reads them).
 *
 * Only chosen handles: the child inherits exactly the handles listed in
 * PROC_THREAD_ATTRIBUTE_HANDLE_LIST (bInheritHandles=TRUE,
 * EXTENDED_STARTUPINFO_PRESENT). Listed handles must be inheritable, and
 * mproc's own handles are not (see shm.c), so each listed handle is an
 * inheritable *duplicate* made for this spawn and closed right after
 * CreateProcessW. Duplicating instead of flipping HANDLE_FLAG_INHERIT on
 * the original leaves the originals alone, so two threads spawning with
 * the same Queue cannot undo each other's flag. An inherited handle keeps
 * its value in the child, so the section lists the duplicates' values.
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
 * In the child, mp_os_child_boot checks every handle it was given and
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

#define BOOT_MAGIC    0x3157504du /* "MPW1" read as little-endian bytes */
#define BOOT_MARKER   "--mproc-child="
#define BOOT_HEAD     8u /* magic, n */
#define MAX_HANDLES   4096u
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

static void put32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void put64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* ---- spawn ----------------------------------------------------------------- */

void mp_os_set_argv0(const char *argv0)
{
    /* GetModuleFileNameW always knows; argv[0] is not needed. */
    (void)argv0;
}

struct spawn_state {
    HANDLE *list; /* inheritable duplicates, all closed at the end */
    size_t nlist;
    mp_os_shm boot;
    wchar_t *exe;
    wchar_t *cmd;
    LPPROC_THREAD_ATTRIBUTE_LIST attrs;
    int attrs_init;
};

static void spawn_cleanup(struct spawn_state *s)
{
    if (s->attrs_init) DeleteProcThreadAttributeList(s->attrs);
    free(s->attrs);
    for (size_t i = 0; i < s->nlist; i++)
        CloseHandle(s->list[i]);
    free(s->list);
    mp_os_shm_close(&s->boot);
    free(s->exe);
    free(s->cmd);
}

/* Lists an inheritable duplicate of h; its value is what the child sees. */
static int add_dup(struct spawn_state *s, HANDLE h, HANDLE *child_value)
{
    HANDLE d;
    int rc = mp_w32_dup_inheritable(h, &d);
    if (rc) return rc;
    s->list[s->nlist++] = d;
    if (child_value) *child_value = d;
    return 0;
}

/* The three standard handles: listed duplicates where possible. */
static void add_std(struct spawn_state *s, STARTUPINFOW *si)
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

int mp__w32_start_faults; /* win32_util.h */

int mp_os_spawn(mp_os_proc *p, const void *blob, size_t len, const mp_os_handle *handles,
                size_t n)
{
    p->pid = 0;
    p->sentinel = MP_OS_NO_HANDLE;
    p->process = MP_OS_NO_HANDLE;
    p->exited = 0;
    p->exitcode = 0;
    if (n > MAX_HANDLES)
        return mp_set_error(MP_EINVAL, "spawn: %zu handles is too many", n);
    if (len && !blob) return mp_set_error(MP_EINVAL, "spawn: NULL blob");
    for (size_t i = 0; i < n; i++)
        if (!mp_w32_valid(handles[i]))
            return mp_set_error(MP_EINVAL, "spawn: invalid handle %lld",
                                (long long)handles[i]);
    if (len > SIZE_MAX / 2)
        return mp_set_error(MP_EINVAL, "spawn: bootstrap data too large");

    struct spawn_state s;
    memset(&s, 0, sizeof s);
    s.boot.handle = MP_OS_NO_HANDLE;
    int rc = 0;
    s.list = malloc((n + 4) * sizeof *s.list);
    if (!s.list) return mp_set_error(MP_ENOMEM, "spawn: out of memory");
    rc = exe_path(&s.exe);
    if (rc) goto out;

    /* The child's copies of the handles, and the section describing them. */
    rc = mp_os_shm_create(&s.boot, BOOT_HEAD + 8 * n + 8 + len);
    if (rc) goto out;
    unsigned char *b = s.boot.base;
    put32(b, BOOT_MAGIC);
    put32(b + 4, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        HANDLE d;
        rc = add_dup(&s, mp_w32_h(handles[i]), &d);
        if (rc) goto out;
        put64(b + BOOT_HEAD + 8 * i, (uint64_t)(uintptr_t)d);
    }
    put64(b + BOOT_HEAD + 8 * n, (uint64_t)len);
    if (len) memcpy(b + BOOT_HEAD + 8 * n + 8, blob, len);
    HANDLE boot_child;
    rc = add_dup(&s, mp_w32_h(s.boot.handle), &boot_child);
    if (rc) goto out;

    STARTUPINFOEXW si;
    memset(&si, 0, sizeof si);
    si.StartupInfo.cb = sizeof si;
    add_std(&s, &si.StartupInfo);

    /* "<exe>" --mproc-child=<value>. argv[0] is read by its own rule (up
     * to the next quote, no escapes), and a path holds no quote. */
    size_t exelen = wcslen(s.exe);
    size_t cap = exelen + 64;
    if (cap > CMDLINE_LIMIT) {
        rc = mp_set_error(MP_EUNSUPPORTED, "spawn: executable path too long");
        goto out;
    }
    s.cmd = malloc(cap * sizeof *s.cmd);
    if (!s.cmd) {
        rc = mp_set_error(MP_ENOMEM, "spawn: out of memory");
        goto out;
    }
    size_t k = 0;
    s.cmd[k++] = L'"';
    memcpy(s.cmd + k, s.exe, exelen * sizeof *s.cmd);
    k += exelen;
    s.cmd[k++] = L'"';
    s.cmd[k++] = L' ';
    for (const char *m = BOOT_MARKER; *m; m++)
        s.cmd[k++] = (wchar_t)*m;
    wchar_t digits[24];
    int nd = 0;
    uint64_t bv = (uint64_t)(uintptr_t)boot_child;
    do {
        digits[nd++] = (wchar_t)(L'0' + (int)(bv % 10));
        bv /= 10;
    } while (bv);
    while (nd > 0)
        s.cmd[k++] = digits[--nd];
    s.cmd[k] = L'\0';

    SIZE_T asize = 0;
    InitializeProcThreadAttributeList(NULL, 1, 0, &asize);
    s.attrs = malloc(asize);
    if (!s.attrs) {
        rc = mp_set_error(MP_ENOMEM, "spawn: out of memory");
        goto out;
    }
    if (!InitializeProcThreadAttributeList(s.attrs, 1, 0, &asize)) {
        rc = mp_w32_fail("InitializeProcThreadAttributeList", GetLastError());
        goto out;
    }
    s.attrs_init = 1;
    if (!UpdateProcThreadAttribute(s.attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, s.list,
                                   s.nlist * sizeof *s.list, NULL, NULL)) {
        rc = mp_w32_fail("UpdateProcThreadAttribute(HANDLE_LIST)", GetLastError());
        goto out;
    }
    si.lpAttributeList = s.attrs;

    PROCESS_INFORMATION pi;
    memset(&pi, 0, sizeof pi);
    /* Wine fails a start with ERROR_INTERNAL_ERROR when the new process
     * ended before its loader reported it started (its Unix side could not
     * lay out the image, for one): seen once in a loaded CI run. Such a
     * child never ran a line of this program nor looked at the handles, so
     * it is started again, a few times at most. CreateProcessW may write
     * into the command line, so each try gets a fresh copy. */
    size_t cmdlen = wcslen(s.cmd) + 1;
    wchar_t *cmd = malloc(cmdlen * sizeof *cmd);
    if (!cmd) {
        rc = mp_set_error(MP_ENOMEM, "spawn: out of memory");
        goto out;
    }
    BOOL ok = FALSE;
    DWORD e = 0;
    for (int attempt = 0; attempt < START_TRIES && !ok; attempt++) {
        if (attempt) mp_os_sleep_ns(1000000ull << attempt);
        memcpy(cmd, s.cmd, cmdlen * sizeof *cmd);
        if (mp__w32_start_faults > 0) {
            mp__w32_start_faults--;
            ok = FALSE;
            e = ERROR_INTERNAL_ERROR;
        } else {
            ok =
                CreateProcessW(s.exe, cmd, NULL, NULL, TRUE, EXTENDED_STARTUPINFO_PRESENT,
                               NULL, NULL, &si.StartupInfo, &pi);
            e = ok ? 0 : GetLastError();
        }
        if (e != ERROR_INTERNAL_ERROR) break;
    }
    free(cmd);
    if (!ok) {
        char *u = NULL;
        mp_w32_to_utf8(s.exe, &u);
        char what[300];
        snprintf(what, sizeof what, "CreateProcessW %s", u ? u : "(this program)");
        free(u);
        rc = mp_w32_fail(what, e);
        goto out;
    }
    CloseHandle(pi.hThread);
    p->pid = (int64_t)pi.dwProcessId;
    p->process = (mp_os_handle)pi.hProcess;
out:
    spawn_cleanup(&s);
    return rc;
}

/* ---- the child's side ------------------------------------------------------ */

/* Parses a decimal handle value strictly: digits only, no overflow. */
static int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int handle_is_open(HANDLE h)
{
    DWORD flags;
    return h != NULL && h != INVALID_HANDLE_VALUE && GetHandleInformation(h, &flags);
}

int mp_os_child_boot(int argc, char **argv, void **blob, size_t *len,
                     mp_os_handle **handles, size_t *n)
{
    *blob = NULL;
    *len = 0;
    *handles = NULL;
    *n = 0;
    /* The marker is ASCII, so main's ANSI argv shows it as well as the
     * wide command line would. */
    if (argc < 2 || !argv || !argv[1] ||
        strncmp(argv[1], BOOT_MARKER, sizeof BOOT_MARKER - 1) != 0)
        return 0;
    uint64_t v;
    if (parse_u64(argv[1] + sizeof BOOT_MARKER - 1, &v) < 0 || v > (uint64_t)UINTPTR_MAX)
        return mp_set_error(MP_EPROTO, "bootstrap: bad marker '%s'", argv[1]);
    HANDLE seg = (HANDLE)(uintptr_t)v;
    if (!handle_is_open(seg))
        return mp_set_error(MP_EPROTO, "bootstrap: handle %llu is not open",
                            (unsigned long long)v);
    const unsigned char *b = MapViewOfFile(seg, FILE_MAP_READ, 0, 0, 0);
    if (!b) {
        DWORD e = GetLastError();
        CloseHandle(seg);
        return mp_w32_fail("bootstrap: MapViewOfFile", e);
    }
    MEMORY_BASIC_INFORMATION mbi;
    size_t size = VirtualQuery(b, &mbi, sizeof mbi) ? mbi.RegionSize : 0;
    int rc = 0;
    uint32_t count = 0;
    uint64_t bloblen = 0;
    mp_os_handle *hs = NULL;
    void *data = NULL;
    if (size < BOOT_HEAD + 8 || get32(b) != BOOT_MAGIC) {
        rc = mp_set_error(MP_EPROTO, "bootstrap: bad magic or size");
        goto out;
    }
    count = get32(b + 4);
    if (count > MAX_HANDLES || count > (size - BOOT_HEAD - 8) / 8) {
        rc = mp_set_error(MP_EPROTO, "bootstrap: %u handles do not fit", count);
        goto out;
    }
    bloblen = get64(b + BOOT_HEAD + 8 * (size_t)count);
    if (bloblen > size - BOOT_HEAD - 8 - 8 * (size_t)count) {
        rc = mp_set_error(MP_EPROTO, "bootstrap: blob of %llu bytes does not fit",
                          (unsigned long long)bloblen);
        goto out;
    }
    /* Never NULL, so a caller may test the pointers rather than the sizes. */
    hs = malloc(count ? count * sizeof *hs : 1);
    data = malloc(bloblen ? (size_t)bloblen : 1);
    if (!hs || !data) {
        rc = mp_set_error(MP_ENOMEM, "bootstrap: out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < count; i++) {
        uint64_t hv = get64(b + BOOT_HEAD + 8 * (size_t)i);
        HANDLE h = (HANDLE)(uintptr_t)hv;
        if (hv > (uint64_t)UINTPTR_MAX || !handle_is_open(h)) {
            rc = mp_set_error(MP_EPROTO, "bootstrap: handle %llu is not open",
                              (unsigned long long)hv);
            goto out;
        }
        /* Not inheritable again, so it does not leak into grandchildren. */
        SetHandleInformation(h, HANDLE_FLAG_INHERIT, 0);
        hs[i] = (mp_os_handle)h;
    }
    if (bloblen) memcpy(data, b + BOOT_HEAD + 8 * (size_t)count + 8, (size_t)bloblen);
out:
    UnmapViewOfFile(b);
    CloseHandle(seg);
    if (rc) {
        free(hs);
        free(data);
        return rc;
    }
    *blob = data;
    *len = (size_t)bloblen;
    *handles = hs;
    *n = count;
    return 1;
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
