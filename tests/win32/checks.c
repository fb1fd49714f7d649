/* checks.c - Windows-only checks of src/win32, run under Wine or Windows.
 *
 * The checks issue 4 names as Windows-only (they become CUnit tests with
 * the rest of the suite): command-line quoting round trip, an inheritable
 * handle that is not listed is not valid in the child, abandoned-lock
 * recovery, a pipe-name collision; and a few the layer relies on: the
 * child's stdout reaches the parent's pipe, exit codes of terminate/kill/
 * abort, function location in the exe and in a DLL, pid_alive, wait-queue
 * timeouts. Prints one "ok"/"not ok" line per check; the exit status is
 * the number of failures.
 *
 * It links the static library and includes the layer's internal header,
 * so build it beside a MinGW build of mproc:
 *
 *   x86_64-w64-mingw32-gcc -std=c11 -O1 -Wall -Wextra -D__USE_MINGW_ANSI_STDIO=1
 *       -DMPROC_STATIC -Iinclude -Isrc tests/win32/checks.c build-win/libmproc.a
 *       -static-libgcc -lbcrypt -lshell32 -o build-win/win32_checks.exe
 *   tools/run-wine.sh build-win/win32_checks.exe */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mproc.h>

#include "win32/win32_util.h"

#include <shellapi.h>

static int failures;

static void report(int ok, const char *name, const char *detail)
{
    if (ok)
        printf("ok - %s%s%s\n", name, detail ? "  # " : "", detail ? detail : "");
    else
        printf("not ok - %s: %s\n", name, detail ? detail : "");
    if (!ok) failures++;
    fflush(stdout);
}

static char detail[512];

/* ---- 1. quoting round trip ------------------------------------------------- */

static const wchar_t *quote_cases[] = {
    L"",
    L"plain",
    L"a b",
    L" ",
    L"  leading and trailing  ",
    L"tab\there",
    L"new\nline",
    L"a\"b",
    L"\"",
    L"\"\"",
    L"\"quoted\"",
    L"a\\b",
    L"a\\\\b",
    L"trailing\\",
    L"trailing two\\\\",
    L"trailing space \\",
    L"\\\"",
    L"\\\\\"",
    L"a\\\"b c",
    L"C:\\Program Files\\x\\",
    L"\\\\server\\share\\",
    L"\u00fcn\u00efc\u00f6d\u00e9 \u2603 \u65e5\u672c",
    L"\U0001F600 emoji",
    L"--mproc-child=12",
    L"%PATH%",
    L"^&|<>",
};

#define NCASES (sizeof quote_cases / sizeof quote_cases[0])

/* Builds "prog" + quoted args and checks CommandLineToArgvW's reading. */
static int round_trip(const wchar_t *const *args, size_t n, char *why, size_t whysize)
{
    size_t len = 0;
    wchar_t cmd[8192];
    cmd[0] = L'\0';
    if (mp_w32_quote_arg(cmd, 8192, &len, L"prog")) {
        snprintf(why, whysize, "no room");
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        size_t before = len, counted = len;
        mp_w32_quote_arg(NULL, 0, &counted, args[i]);
        if (mp_w32_quote_arg(cmd, 8192, &len, args[i])) {
            snprintf(why, whysize, "no room");
            return 0;
        }
        if (counted != len) {
            snprintf(why, whysize, "counting mode said %zu, wrote %zu", counted - before,
                     len - before);
            return 0;
        }
    }
    int argc = 0;
    wchar_t **argv = CommandLineToArgvW(cmd, &argc);
    if (!argv) {
        snprintf(why, whysize, "CommandLineToArgvW failed");
        return 0;
    }
    int ok = (size_t)argc == n + 1;
    for (size_t i = 0; ok && i < n; i++)
        if (wcscmp(argv[i + 1], args[i]) != 0) {
            snprintf(why, whysize, "arg %zu came back as %ls (line %ls)", i, argv[i + 1],
                     cmd);
            ok = 0;
        }
    if (!ok && (size_t)argc != n + 1)
        snprintf(why, whysize, "%d args back for %zu (line %ls)", argc - 1, n, cmd);
    LocalFree(argv);
    return ok;
}

static void check_quoting(void)
{
    int ok = 1;
    for (size_t i = 0; i < NCASES && ok; i++)
        ok = round_trip(&quote_cases[i], 1, detail, sizeof detail);
    if (ok) ok = round_trip(quote_cases, NCASES, detail, sizeof detail);
    /* Random strings over the characters that matter. */
    static const wchar_t alphabet[] = L"ab \t\"\\\u00e9";
    unsigned char rnd[4096];
    mp_os_random(rnd, sizeof rnd);
    size_t r = 0;
    for (int t = 0; t < 300 && ok; t++) {
        wchar_t a[3][12];
        const wchar_t *args[3];
        for (int k = 0; k < 3; k++) {
            int n = rnd[r++ % sizeof rnd] % 11;
            for (int j = 0; j < n; j++)
                a[k][j] = alphabet[rnd[r++ % sizeof rnd] %
                                   (sizeof alphabet / sizeof alphabet[0] - 1)];
            a[k][n] = L'\0';
            args[k] = a[k];
        }
        ok = round_trip(args, 3, detail, sizeof detail);
    }
    report(ok, "quoting round trip through CommandLineToArgvW (26 cases + 300 random)",
           detail);
}

/* The same cases through a real child's command line (CreateProcessW). */
static int quote_child(void)
{
    int argc = 0;
    wchar_t **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (!argv || (size_t)argc != NCASES + 2) return 1;
    for (size_t i = 0; i < NCASES; i++)
        if (wcscmp(argv[i + 2], quote_cases[i]) != 0) return 2;
    return 0;
}

static wchar_t self_path[1024];

/* Runs this program with args (already a command-line tail) and
 * bInheritHandles as given, no handle list; returns its exit code. */
static DWORD run_self(const wchar_t *tail, BOOL inherit)
{
    static wchar_t cmd[16384];
    size_t len = 0;
    cmd[0] = L'\0';
    mp_w32_quote_arg(cmd, 16384, &len, self_path);
    wcsncat(cmd, tail, 16384 - wcslen(cmd) - 1);
    STARTUPINFOW si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(self_path, cmd, NULL, NULL, inherit, 0, NULL, NULL, &si, &pi))
        return 1000 + GetLastError();
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = 99;
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    return code;
}

static void check_quoting_child(void)
{
    static wchar_t tail[8192];
    size_t len = 0;
    tail[0] = L'\0';
    mp_w32_quote_arg(tail, 8192, &len, L"--quote-child");
    for (size_t i = 0; i < NCASES; i++)
        mp_w32_quote_arg(tail, 8192, &len, quote_cases[i]);
    wchar_t full[8200] = L" ";
    wcsncat(full, tail, 8190);
    DWORD code = run_self(full, FALSE);
    snprintf(detail, sizeof detail, "child exit %lu", (unsigned long)code);
    report(code == 0, "quoting round trip through a real child's command line", detail);
}

/* ---- 2. an unlisted inheritable handle is not valid in the child ------------ */

static int handle_valid_here(uint64_t v)
{
    DWORD flags;
    return GetHandleInformation((HANDLE)(uintptr_t)v, &flags) != 0;
}

static int unlisted_target(const mp_args *args)
{
    int64_t v = 0;
    mp_args_get_int(args, 0, &v);
    return handle_valid_here((uint64_t)v) ? 1 : 0;
}

static void check_unlisted_handle(void)
{
    /* Push the value up so that a child's own few handles cannot hold it
     * by chance. */
    HANDLE pad[300];
    for (int i = 0; i < 300; i++)
        pad[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE ev = CreateEventW(&sa, TRUE, FALSE, NULL);
    for (int i = 0; i < 300; i++)
        CloseHandle(pad[i]);
    uint64_t v = (uint64_t)(uintptr_t)ev;

    /* Control: plain inheritance (no list) does pass it on. */
    wchar_t tail[64];
    _snwprintf(tail, 64, L" --handle-check %llu", (unsigned long long)v);
    tail[63] = L'\0';
    DWORD control = run_self(tail, TRUE);

    mp_process *p = NULL;
    int code = -1;
    int rc = mp_process_new(&p, unlisted_target, mp_args_of((int64_t)v));
    if (!rc) rc = mp_process_start(p);
    if (!rc) rc = mp_process_join(p, 60);
    if (!rc) rc = mp_process_exitcode(p, &code);
    mp_process_close(p);
    CloseHandle(ev);
    snprintf(detail, sizeof detail,
             "rc %d, child saw handle %#llx %s; control child (no list) exit %lu", rc,
             (unsigned long long)v, code == 0 ? "invalid" : "VALID",
             (unsigned long)control);
    report(rc == 0 && code == 0 && control == 0,
           "an inheritable handle that is not listed is invalid in the child", detail);
}

/* ---- 3. abandoned-lock recovery -------------------------------------------- */

static int lock_and_die(const mp_args *args)
{
    mp_value *v = mp_args_value(args, 0);
    if (mp_value_lock(v) != 0) return 2;
    mp_value_set_int(v, 42);
    return 0; /* exits holding the lock */
}

static int lock_and_hang(const mp_args *args)
{
    mp_value *v = mp_args_value(args, 0);
    mp_value *ready = mp_args_value(args, 1);
    if (mp_value_lock(v) != 0) return 2;
    mp_value_set_int(ready, 1);
    Sleep(INFINITE);
    return 0;
}

static void check_abandoned_lock(void)
{
    mp_value *v = NULL, *ready = NULL;
    mp_value_new(&v, 'i');
    mp_value_new(&ready, 'i');
    /* (a) the holder exits; its process object still exists (not joined). */
    mp_process *p = NULL;
    int rc = mp_process_new(&p, lock_and_die, mp_args_of(v));
    if (!rc) rc = mp_process_start(p);
    uint64_t t0 = mp_os_now_ns();
    while (!rc && mp_process_is_alive(p) && mp_os_now_ns() - t0 < 60000000000ull)
        Sleep(5);
    int lrc = rc ? rc : mp_value_lock_timeout(v, 30);
    int64_t x = 0;
    mp_value_get_int(v, &x);
    if (lrc == MP_EOWNERDEAD || lrc == 0) mp_value_unlock(v);
    int ok = lrc == MP_EOWNERDEAD && x == 42;
    int rc2 = mp_value_lock_timeout(v, 5);
    if (rc2 == 0) mp_value_unlock(v);
    ok = ok && rc2 == 0;
    mp_process_join(p, 30);
    mp_process_close(p);
    snprintf(detail, sizeof detail, "lock gave %s (%s), value %lld, relock %d",
             mp_error_name(lrc), mp_last_error(), (long long)x, rc2);
    report(ok, "abandoned lock: holder exited -> MP_EOWNERDEAD, then usable", detail);

    /* (b) the holder is killed while holding it. */
    p = NULL;
    rc = mp_process_new(&p, lock_and_hang, mp_args_of(v, ready));
    if (!rc) rc = mp_process_start(p);
    int64_t r = 0;
    t0 = mp_os_now_ns();
    while (!rc && r == 0 && mp_os_now_ns() - t0 < 60000000000ull) {
        mp_value_get_int(ready, &r);
        Sleep(5);
    }
    int busy = mp_value_lock_timeout(v, 0.2); /* held by a live process */
    if (busy == 0) mp_value_unlock(v);
    if (!rc) rc = mp_process_kill(p);
    if (!rc) rc = mp_process_join(p, 30);
    int code = 0;
    if (!rc) rc = mp_process_exitcode(p, &code);
    lrc = mp_value_lock_timeout(v, 30);
    if (lrc == MP_EOWNERDEAD || lrc == 0) mp_value_unlock(v);
    mp_process_close(p);
    snprintf(detail, sizeof detail,
             "rc %d, live holder gave %s, exit code %d, lock gave %s", rc,
             mp_error_name(busy), code, mp_error_name(lrc));
    report(rc == 0 && busy == MP_ETIMEDOUT && code == -9 && lrc == MP_EOWNERDEAD,
           "abandoned lock: holder killed -> exit -9, MP_EOWNERDEAD", detail);
    mp_value_free(v);
    mp_value_free(ready);
}

/* ---- 4. pipe-name collision ------------------------------------------------ */

static int squatter(const mp_args *args)
{
    const char *name = NULL;
    mp_args_get_str(args, 0, &name);
    mp_value *state = mp_args_value(args, 1);
    wchar_t *w = NULL;
    if (mp_w32_to_wide(name, &w)) return 2;
    HANDLE h = CreateNamedPipeW(w, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE,
                                PIPE_UNLIMITED_INSTANCES, 4096, 4096, 0, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE) return 3;
    mp_value_set_int(state, 1);
    int64_t s = 1;
    while (s == 1) {
        Sleep(5);
        mp_value_get_int(state, &s);
    }
    CloseHandle(h);
    return 0;
}

static int pipe_works(mp_os_handle h[2])
{
    char buf[8] = {0};
    size_t got = 0;
    int rc = mp_os_write_all(h[1], "ping", 4);
    if (!rc) rc = mp_os_read(h[0], buf, sizeof buf, &got);
    return rc == 0 && got == 4 && memcmp(buf, "ping", 4) == 0;
}

static void check_pipe_collision(void)
{
    wchar_t name[80];
    unsigned char r[4];
    mp_os_random(r, sizeof r);
    _snwprintf(name, 80, L"\\\\.\\pipe\\mproc-squat-%02x%02x%02x%02x", r[0], r[1], r[2],
               r[3]);
    name[79] = L'\0';

    /* (a) squatted by a one-instance pipe in this process. */
    HANDLE sq = CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE, 1, 4096, 4096,
                                 0, NULL);
    HANDLE hs[2];
    int direct = mp_w32_pipe_pair(1, name, hs);
    mp_w32_pipe_first_name = name;
    mp_os_handle h[2] = {MP_OS_NO_HANDLE, MP_OS_NO_HANDLE};
    int rc = mp_os_pipe(1, h);
    int works = rc == 0 && pipe_works(h);
    mp_os_close(h[0]);
    mp_os_close(h[1]);
    h[0] = h[1] = MP_OS_NO_HANDLE;
    int rc1 = mp_os_pipe(0, h); /* one-way, squatted name first too */
    int works1 = rc1 == 0 && pipe_works(h);
    mp_os_close(h[0]);
    mp_os_close(h[1]);
    mp_w32_pipe_first_name = NULL;
    CloseHandle(sq);
    snprintf(detail, sizeof detail,
             "pair on squatted name gave %d, mp_os_pipe %d/%d works %d/%d", direct, rc,
             rc1, works, works1);
    report(sq != INVALID_HANDLE_VALUE && direct == 1 && works && works1,
           "pipe name squatted (1 instance): collision seen, new name used", detail);

    /* (b) squatted by another process allowing unlimited instances: Wine
     * ignores FILE_FLAG_FIRST_PIPE_INSTANCE, so only the server-pid check
     * catches our client landing on the squatter's instance. */
    char uname[80];
    snprintf(uname, sizeof uname, "\\\\.\\pipe\\mproc-squat2-%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3]);
    wchar_t *wname = NULL;
    mp_w32_to_wide(uname, &wname);
    mp_value *state = NULL;
    mp_value_new(&state, 'i');
    mp_process *p = NULL;
    rc = mp_process_new(&p, squatter, mp_args_of(uname, state));
    if (!rc) rc = mp_process_start(p);
    int64_t s = 0;
    uint64_t t0 = mp_os_now_ns();
    while (!rc && s == 0 && mp_os_now_ns() - t0 < 60000000000ull) {
        Sleep(5);
        mp_value_get_int(state, &s);
    }
    /* Windows refuses the name (FIRST_PIPE_INSTANCE: ERROR_ACCESS_DENIED).
     * Wine lets us make a second instance; then every pair we accept must
     * be ours end to end (the server-pid check and the pending connect
     * catch a client that landed on the squatter's instance). */
    int wine = GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != NULL;
    int tries = 0, got = 0, bad = 0;
    for (; tries < 20 && !rc; tries++) {
        int d = mp_w32_pipe_pair(1, wname, hs);
        if (d == 0) {
            mp_os_handle hh[2] = {(mp_os_handle)hs[0], (mp_os_handle)hs[1]};
            got++;
            if (!pipe_works(hh)) bad++;
            CloseHandle(hs[0]);
            CloseHandle(hs[1]);
        } else if (d != 1) {
            rc = d;
        }
    }
    mp_value_set_int(state, 2);
    int code = -1;
    mp_process_join(p, 30);
    mp_process_exitcode(p, &code);
    mp_process_close(p);
    mp_value_free(state);
    free(wname);
    snprintf(detail, sizeof detail,
             "rc %d, %d of %d attempts got a pair (%d broken), squatter exit %d (%s)", rc,
             got, tries, bad, code, wine ? "Wine" : "Windows");
    report(rc == 0 && bad == 0 && (wine || got == 0) && code == 0 && s == 1,
           "pipe name squatted by another process (unlimited instances): no pair reaches "
           "the squatter",
           detail);
}

/* ---- 5. the child's stdout reaches the parent's pipe ----------------------- */

static int say_hello(const mp_args *args)
{
    (void)args;
    printf("hello from the child\n");
    fprintf(stderr, "child stderr\n");
    return 0;
}

static void check_child_stdout(void)
{
    HANDLE rd, wr;
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, FALSE};
    CreatePipe(&rd, &wr, &sa, 65536);
    HANDLE old = GetStdHandle(STD_OUTPUT_HANDLE);
    SetStdHandle(STD_OUTPUT_HANDLE, wr);
    mp_process *p = NULL;
    int rc = mp_process_new(&p, say_hello, MP_NO_ARGS);
    if (!rc) rc = mp_process_start(p);
    SetStdHandle(STD_OUTPUT_HANDLE, old);
    if (!rc) rc = mp_process_join(p, 60);
    mp_process_close(p);
    CloseHandle(wr);
    char buf[256] = {0};
    DWORD got = 0, n;
    while (got < sizeof buf - 1 &&
           ReadFile(rd, buf + got, (DWORD)(sizeof buf - 1 - got), &n, NULL) && n > 0)
        got += n;
    CloseHandle(rd);
    snprintf(detail, sizeof detail, "rc %d, pipe got '%s'", rc, buf);
    report(rc == 0 && strcmp(buf, "hello from the child\r\n") == 0,
           "child's printf lands in the parent's stdout pipe (text mode: CRLF)", detail);
}

/* ---- 6. exit codes --------------------------------------------------------- */

static int ret7(const mp_args *args)
{
    (void)args;
    return 7;
}

static int hang(const mp_args *args)
{
    (void)args;
    Sleep(INFINITE);
    return 0;
}

static int do_abort(const mp_args *args)
{
    (void)args;
    abort();
}

static int run_for_code(mp_target t, int action, int *code)
{
    mp_process *p = NULL;
    int rc = mp_process_new(&p, t, MP_NO_ARGS);
    if (!rc) rc = mp_process_start(p);
    if (!rc && action == 1) rc = mp_process_terminate(p);
    if (!rc && action == 2) rc = mp_process_kill(p);
    if (!rc) rc = mp_process_join(p, 60);
    if (!rc) rc = mp_process_exitcode(p, code);
    if (!rc && action) rc = mp_process_terminate(p); /* after exit: still 0 */
    mp_process_close(p);
    return rc;
}

static void check_exit_codes(void)
{
    int c7 = 0, cterm = 0, ckill = 0, cabort = 0;
    int rc = run_for_code(ret7, 0, &c7);
    if (!rc) rc = run_for_code(hang, 1, &cterm);
    if (!rc) rc = run_for_code(hang, 2, &ckill);
    if (!rc) rc = run_for_code(do_abort, 0, &cabort);
    snprintf(detail, sizeof detail,
             "rc %d: return 7 -> %d, terminate -> %d, kill -> %d, "
             "abort -> %d",
             rc, c7, cterm, ckill, cabort);
    report(rc == 0 && c7 == 7 && cterm == -15 && ckill == -9 && cabort == 3,
           "exit codes: 7, terminate -15, kill -9, abort 3", detail);
}

/* ---- 7. function location -------------------------------------------------- */

static int some_data[64];

static void check_fnloc(void)
{
    mp_os_fnloc loc;
    void (*fn)(void) = NULL;
    int ok = 1;
    int rc = mp_os_fn_locate((void (*)(void))check_fnloc, &loc);
    ok = rc == 0 && loc.module[0] == '\0';
    if (ok) rc = mp_os_fn_resolve(&loc, &fn);
    ok = ok && rc == 0 && fn == (void (*)(void))check_fnloc;
    snprintf(detail, sizeof detail, "exe: rc %d module '%s'", rc, loc.module);
    report(ok, "fn locate/resolve round trip in the exe", detail);

    /* A function of a DLL: kernel32's GetTickCount. */
    FARPROC gtc = GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "GetTickCount");
    rc = mp_os_fn_locate((void (*)(void))gtc, &loc);
    ok = rc == 0 && loc.module[0] != '\0';
    if (ok) rc = mp_os_fn_resolve(&loc, &fn);
    ok = ok && rc == 0 && fn == (void (*)(void))gtc;
    snprintf(detail, sizeof detail, "dll: rc %d module '%s'", rc, loc.module);
    report(ok, "fn locate/resolve round trip in a DLL", detail);

    /* Data, out of the image, a module not loaded: MP_EPROTO. */
    mp_os_fnloc bad;
    memset(&bad, 0, sizeof bad);
    bad.offset = (uint64_t)((uintptr_t)some_data - (uintptr_t)GetModuleHandleW(NULL));
    int r1 = mp_os_fn_resolve(&bad, &fn);
    bad.offset = 0x7fffffff;
    int r2 = mp_os_fn_resolve(&bad, &fn);
    snprintf(bad.module, sizeof bad.module, "C:\\no\\such.dll");
    bad.offset = 0x1000;
    int r3 = mp_os_fn_resolve(&bad, &fn);
    snprintf(detail, sizeof detail, "data %d, out of image %d, not loaded %d", r1, r2,
             r3);
    report(r1 == MP_EPROTO && r2 == MP_EPROTO && r3 == MP_EPROTO,
           "fn resolve refuses data, out-of-image and unloaded modules", detail);
}

/* ---- 8. pid_alive, wait-queue timeouts ------------------------------------- */

static void check_pid_alive(void)
{
    int self = mp_os_pid_alive(mp_os_getpid());
    mp_process *p = NULL;
    int rc = mp_process_new(&p, ret7, MP_NO_ARGS);
    if (!rc) rc = mp_process_start(p);
    uint32_t pid = (uint32_t)mp_process_pid(p);
    int alive_before = mp_os_pid_alive(pid);
    if (!rc) rc = mp_process_join(p, 60);
    int zombie = mp_os_pid_alive(pid); /* exited, parent still holds it */
    mp_process_close(p);
    int gone = mp_os_pid_alive(pid);
    int bogus = mp_os_pid_alive(0xfffffffcu);
    snprintf(detail, sizeof detail,
             "self %d, child running %d, exited+held %d, released %d, bogus %d", self,
             alive_before, zombie, gone, bogus);
    /* alive_before may be 0 if the child was quick; only the rest is fixed. */
    report(rc == 0 && self == 1 && zombie == 0 && gone == 0 && bogus == 0,
           "pid_alive: self, exited child (held and released), bogus pid", detail);
}

static void check_wq(void)
{
    mp_os_wq wq;
    mp_atomic_u32 word;
    mp_store32(&word, 5, MP_RELAXED);
    int rc = mp_os_wq_create(&wq);
    uint64_t t0 = mp_os_now_ns();
    int w1 = rc ? rc : mp_os_wq_wait(&wq, &word, 5, t0 + 50000000u);
    uint64_t el = mp_os_now_ns() - t0;
    int w2 = mp_os_wq_wait(&wq, &word, 4, MP_NO_DEADLINE); /* word differs: at once */
    mp_os_wq_wake(&wq, &word, 1);
    int w3 = mp_os_wq_wait(&wq, &word, 5, mp_os_now_ns() + 5000000000ull);
    mp_os_wq_close(&wq);
    snprintf(detail, sizeof detail, "timeout %s after %.1f ms, changed %d, woken %d",
             mp_error_name(w1), (double)el / 1e6, w2, w3);
    report(w1 == MP_ETIMEDOUT && el >= 50000000u && w2 == 0 && w3 == 0,
           "wait queue: deadline, changed word, token wake", detail);
}

/* ---- 9. large messages, EOF, closed reader --------------------------------- */

static int echo_big(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    void *d = NULL;
    size_t n = 0;
    if (mp_conn_recv_bytes(c, &d, &n, 0) != 0) return 1;
    int rc = mp_conn_send_bytes(c, d, 0, n);
    free(d);
    mp_conn_close(c);
    return rc == 0 ? 0 : 2;
}

static void check_large_and_eof(void)
{
    size_t n = (size_t)3 << 20;
    unsigned char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (unsigned char)(i * 7 + (i >> 12));
    mp_conn *a = NULL, *b = NULL;
    int rc = mp_pipe(&a, &b, 1);
    mp_process *p = NULL;
    if (!rc) rc = mp_process_new(&p, echo_big, mp_args_of(b));
    if (!rc) rc = mp_process_start(p);
    mp_conn_close(b); /* the child holds its own copy */
    if (!rc) rc = mp_conn_send_bytes(a, big, 0, n);
    void *back = NULL;
    size_t got = 0;
    if (!rc) rc = mp_conn_recv_bytes(a, &back, &got, 0);
    int same = rc == 0 && got == n && memcmp(back, big, n) == 0;
    free(back);
    int eof = mp_conn_recv_bytes(a, &back, &got, 0); /* child closed its end */
    int polled = mp_conn_poll(a, 0);                 /* EOF is readable */
    mp_process_join(p, 60);
    mp_process_close(p);
    mp_conn_close(a);
    snprintf(detail, sizeof detail, "rc %d, 3 MiB echoed %s, then recv %s, poll %d", rc,
             same ? "intact" : "WRONG", mp_error_name(eof), polled);
    report(same && eof == MP_ECLOSED && polled == 1,
           "duplex pipe: 3 MiB message each way, EOF after the peer closes", detail);

    /* One-way: h[0] reads, h[1] writes; a write after the reader closed. */
    mp_conn *r = NULL, *w = NULL;
    rc = mp_pipe(&r, &w, 0);
    int wr = rc ? rc : mp_conn_send_bytes(w, "x", 0, 1);
    int p1 = mp_conn_poll(r, 5);
    char c1[4];
    size_t g1 = 0;
    int rd = mp_conn_recv_bytes_into(r, c1, sizeof c1, 0, &g1);
    int wrong = mp_conn_send_bytes(r, "y", 0, 1); /* read-only end */
    mp_conn_close(r);
    int closed = mp_conn_send_bytes(w, big, 0, 1 << 20);
    mp_conn_close(w);
    free(big);
    snprintf(detail, sizeof detail,
             "send %d poll %d recv %d (%zu), send on reader %s, "
             "send after reader closed %s",
             wr, p1, rd, g1, mp_error_name(wrong), mp_error_name(closed));
    report(wr == 0 && p1 == 1 && rd == 0 && g1 == 1 && wrong == MP_ESTATE &&
               closed == MP_ECLOSED,
           "one-way pipe: direction, write after the reader closed -> MP_ECLOSED",
           detail);
}

/* ---- timings (informative; never benchmark on Wine) ----------------------- */

static int echo_target(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    for (;;) {
        char buf[64];
        size_t got = 0;
        if (mp_conn_recv_bytes_into(c, buf, sizeof buf, 0, &got) != 0) break;
        if (mp_conn_send_bytes(c, buf, 0, got) != 0) break;
    }
    return 0;
}

static void timings(void)
{
    uint64_t t0 = mp_os_now_ns();
    for (int i = 0; i < 5; i++) {
        mp_process *p = NULL;
        mp_process_new(&p, ret7, MP_NO_ARGS);
        mp_process_start(p);
        mp_process_join(p, 60);
        mp_process_close(p);
    }
    double spawn_ms = (double)(mp_os_now_ns() - t0) / 5e6;

    mp_conn *a = NULL, *b = NULL;
    mp_pipe(&a, &b, 1);
    mp_process *p = NULL;
    mp_process_new(&p, echo_target, mp_args_of(b));
    mp_process_start(p);
    char buf[64];
    size_t got;
    mp_conn_send_bytes(a, "warm", 0, 4);
    mp_conn_recv_bytes_into(a, buf, sizeof buf, 0, &got);
    t0 = mp_os_now_ns();
    for (int i = 0; i < 200; i++) {
        mp_conn_send_bytes(a, "ping", 0, 4);
        mp_conn_recv_bytes_into(a, buf, sizeof buf, 0, &got);
    }
    double rt_us = (double)(mp_os_now_ns() - t0) / 200e3;
    t0 = mp_os_now_ns();
    for (int i = 0; i < 200; i++) {
        mp_conn_send_bytes(a, "ping", 0, 4);
        mp_conn_poll(a, -1);
        mp_conn_recv_bytes_into(a, buf, sizeof buf, 0, &got);
    }
    double rtp_us = (double)(mp_os_now_ns() - t0) / 200e3;
    mp_conn_close(a);
    mp_process_join(p, 60);
    mp_process_close(p);
    mp_conn_close(b);

    mp_os_wq wq;
    mp_atomic_u32 word;
    mp_store32(&word, 1, MP_RELAXED);
    mp_os_wq_create(&wq);
    t0 = mp_os_now_ns();
    for (int i = 0; i < 200; i++) {
        mp_os_wq_wake(&wq, &word, 1);
        mp_os_wq_wait(&wq, &word, 1, MP_NO_DEADLINE);
    }
    double wq_us = (double)(mp_os_now_ns() - t0) / 200e3;
    mp_os_wq_close(&wq);

    mp_value *v = NULL;
    mp_value_new(&v, 'i');
    t0 = mp_os_now_ns();
    for (int i = 0; i < 10000; i++) {
        mp_value_lock(v);
        mp_value_unlock(v);
    }
    double lock_ns = (double)(mp_os_now_ns() - t0) / 1e4;
    mp_value_free(v);
    printf("# timing: spawn+join %.1f ms; pipe round trip %.0f us (with poll %.0f us); "
           "semaphore wake+wait %.0f us; uncontended lock+unlock %.0f ns\n",
           spawn_ms, rt_us, rtp_us, wq_us, lock_ns);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--quote-child") == 0) return quote_child();
    if (argc >= 3 && strcmp(argv[1], "--handle-check") == 0)
        return handle_valid_here(strtoull(argv[2], NULL, 10)) ? 0 : 1;
    mp_main(argc, argv);
    GetModuleFileNameW(NULL, self_path, 1024);

    uint64_t t0 = mp_os_now_ns();
    check_quoting();
    check_quoting_child();
    check_unlisted_handle();
    check_abandoned_lock();
    check_pipe_collision();
    check_child_stdout();
    check_exit_codes();
    check_fnloc();
    check_pid_alive();
    check_wq();
    check_large_and_eof();
    timings();
    printf("# %d failure(s), %.1f s\n", failures, (double)(mp_os_now_ns() - t0) / 1e9);
    return failures;
}
