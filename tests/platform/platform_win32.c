/* platform/platform_win32.c - the Windows-only tests of the "platform" suite
 * (platform/platform.c registers them): what src/win32 does that has no POSIX
 * counterpart, and the traps docs/win32-layer.md describes.
 *
 *  - command-line quoting: mp_w32_quote_arg against CommandLineToArgvW,
 *    and through a real child's command line;
 *  - a handle that is inheritable but not in the spawn's handle list is
 *    not valid in the child (the control child, started without a list,
 *    does get it: the check can tell the two apart);
 *  - a lock whose holder exited or was killed: MP_EOWNERDEAD, then usable;
 *  - pipe-name collisions, with a one-instance squatter here and an
 *    unlimited-instances squatter in another process;
 *  - a child's stdout reaches the parent's pipe; exit codes of return,
 *    terminate, kill and abort; function location in a DLL and refusals;
 *  - the Windows bootstrap segment refused when corrupt;
 *  - a 3 MiB message through a duplex pipe, EOF, the one-way direction.
 *
 * Some checks start this program again with a command line of their own
 * (not mp_process's): mpt_platform_win32_helper() answers those runs
 * before mp_main, from main(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakcheck.h"
#include "test.h"
#include "core/runtime/boot.h"
#include "win32/win32_util.h"

#include <shellapi.h>

/* ---- command-line quoting -------------------------------------------------- */

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

/* Builds "prog" + the quoted args and checks that CommandLineToArgvW gives
 * them back; also that the counting mode (cmd NULL) counts what the
 * writing mode writes. 1 if all is well, else 0 with a message. */
static int round_trip(const wchar_t *const *args, size_t n)
{
    static wchar_t cmd[8192];
    size_t len = 0;
    cmd[0] = L'\0';
    if (mp_w32_quote_arg(cmd, 8192, &len, L"prog")) return 0;
    for (size_t i = 0; i < n; i++) {
        size_t before = len, counted = len;
        mp_w32_quote_arg(NULL, 0, &counted, args[i]);
        if (mp_w32_quote_arg(cmd, 8192, &len, args[i])) {
            fprintf(stderr, "quoting: no room\n");
            return 0;
        }
        if (counted != len) {
            fprintf(stderr, "quoting: counting mode said %zu, wrote %zu\n",
                    counted - before, len - before);
            return 0;
        }
    }
    int argc = 0;
    wchar_t **argv = CommandLineToArgvW(cmd, &argc);
    if (!argv) return 0;
    int ok = (size_t)argc == n + 1;
    if (!ok)
        fprintf(stderr, "quoting: %d args back for %zu (line %ls)\n", argc - 1, n, cmd);
    for (size_t i = 0; ok && i < n; i++)
        if (wcscmp(argv[i + 1], args[i]) != 0) {
            fprintf(stderr, "quoting: arg %zu came back as %ls (line %ls)\n", i,
                    argv[i + 1], cmd);
            ok = 0;
        }
    LocalFree(argv);
    return ok;
}

static void test_quoting_round_trip(void)
{
    for (size_t i = 0; i < NCASES; i++)
        CU_ASSERT(round_trip(&quote_cases[i], 1));
    CU_ASSERT(round_trip(quote_cases, NCASES));
    /* Random strings over the characters that matter. */
    static const wchar_t alphabet[] = L"ab \t\"\\\u00e9";
    unsigned char rnd[4096];
    MPT_OK(mp_os_random(rnd, sizeof rnd));
    size_t r = 0;
    int ok = 1;
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
        ok = round_trip(args, 3);
    }
    CU_ASSERT(ok);
}

/* Runs this program with a command-line tail of its own and
 * bInheritHandles as given, without a handle list; its exit code, or
 * 1000 + the error if it could not start. */
static DWORD run_self(const wchar_t *tail, BOOL inherit)
{
    static wchar_t self[1024], cmd[16384];
    size_t len = 0;
    GetModuleFileNameW(NULL, self, 1024);
    cmd[0] = L'\0';
    mp_w32_quote_arg(cmd, 16384, &len, self);
    wcsncat(cmd, tail, 16384 - wcslen(cmd) - 1);
    STARTUPINFOW si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(self, cmd, NULL, NULL, inherit, 0, NULL, NULL, &si, &pi))
        return 1000 + GetLastError();
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = 99;
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    return code;
}

/* The same cases through a real child's command line (CreateProcessW and
 * the child's own GetCommandLineW). */
static void test_quoting_child(void)
{
    static wchar_t tail[8192];
    size_t len = 0;
    tail[0] = L' ';
    tail[1] = L'\0';
    len = 1;
    mp_w32_quote_arg(tail, 8192, &len, L"--mpt-quote-child");
    for (size_t i = 0; i < NCASES; i++)
        MPT_OK(mp_w32_quote_arg(tail, 8192, &len, quote_cases[i]));
    CU_ASSERT_EQUAL(run_self(tail, FALSE), 0);
}

static int quote_child(void)
{
    int argc = 0;
    wchar_t **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (!argv || (size_t)argc != NCASES + 2) return 1;
    for (size_t i = 0; i < NCASES; i++)
        if (wcscmp(argv[i + 2], quote_cases[i]) != 0) return 2;
    LocalFree(argv);
    return 0;
}

/* ---- the handle list ------------------------------------------------------- */

static int handle_valid_here(uint64_t v)
{
    DWORD flags;
    return GetHandleInformation((HANDLE)(uintptr_t)v, &flags) != 0;
}

static int t_unlisted(const mp_args *args)
{
    int64_t v = 0;
    MPT_CHILD_CHECK(mp_args_get_int(args, 0, &v) == 0);
    return handle_valid_here((uint64_t)v) ? 1 : 0;
}

/* An inheritable handle that spawn did not list is not valid in the
 * child; a child started with plain inheritance (no list) does get it,
 * which shows the check can tell. */
static void test_unlisted_handle_invalid(void)
{
    /* Push the value up so that the child's own few handles cannot hold
     * it by chance. */
    enum { PAD = 300 };
    HANDLE pad[PAD];
    for (int i = 0; i < PAD; i++)
        pad[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE ev = CreateEventW(&sa, TRUE, FALSE, NULL);
    for (int i = 0; i < PAD; i++)
        CloseHandle(pad[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    uint64_t v = (uint64_t)(uintptr_t)ev;
    wchar_t tail[64];
    _snwprintf(tail, 64, L" --mpt-handle-check %llu", (unsigned long long)v);
    tail[63] = L'\0';
    DWORD control = run_self(tail, TRUE);
    int code = mpt_run(t_unlisted, mp_args_of((int64_t)v), MP_START_SPAWN);
    CloseHandle(ev);
    CU_ASSERT_EQUAL(control, 0); /* the control child saw it */
    CU_ASSERT_EQUAL(code, 0);    /* the mproc child did not */
}

/* ---- abandoned locks ------------------------------------------------------- */

static int t_lock_and_exit(const mp_args *args)
{
    mp_value *v = mp_args_value(args, 0);
    MPT_CHILD_CHECK(mp_value_lock(v) == 0);
    mp_value_set_int(v, 42);
    return 0; /* exits holding the lock */
}

static int t_lock_and_hang(const mp_args *args)
{
    mp_value *v = mp_args_value(args, 0);
    mp_value *ready = mp_args_value(args, 1);
    MPT_CHILD_CHECK(mp_value_lock(v) == 0);
    mp_value_set_int(ready, 1);
    Sleep(INFINITE);
    return 0;
}

/* Waits (generously) until p has ended, without joining it. */
static void wait_ended(mp_process *p)
{
    uint64_t t0 = mp_os_now_ns();
    while (mp_process_is_alive(p) &&
           mp_os_now_ns() - t0 < (uint64_t)(MPT_JOIN_TIMEOUT * 1e9))
        Sleep(5);
    CU_ASSERT_EQUAL_FATAL(mp_process_is_alive(p), 0);
}

/* The holder exits with the lock held; its process object still exists
 * (not joined). The next locker gets MP_EOWNERDEAD and the value the
 * holder wrote, and the lock works afterwards. */
static void test_abandoned_lock_exit(void)
{
    mp_value *v;
    MPT_OK(mp_value_new(&v, 'i'));
    mp_process *p = mpt_start(t_lock_and_exit, mp_args_of(v), MP_START_SPAWN);
    wait_ended(p);
    MPT_EQ(mp_value_lock_timeout(v, MPT_JOIN_TIMEOUT), MP_EOWNERDEAD);
    int64_t x = 0;
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, 42);
    MPT_OK(mp_value_unlock(v));
    MPT_OK(mp_value_lock_timeout(v, MPT_JOIN_TIMEOUT));
    MPT_OK(mp_value_unlock(v));
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_value_free(v);
}

/* The holder is killed while it holds the lock: exit code -9, and the
 * lock is recovered. While it lives, the lock times out. */
static void test_abandoned_lock_kill(void)
{
    mp_value *v, *ready;
    MPT_OK(mp_value_new(&v, 'i'));
    MPT_OK(mp_value_new(&ready, 'i'));
    mp_process *p = mpt_start(t_lock_and_hang, mp_args_of(v, ready), MP_START_SPAWN);
    int64_t r = 0;
    uint64_t t0 = mp_os_now_ns();
    while (r == 0 && mp_os_now_ns() - t0 < (uint64_t)(MPT_JOIN_TIMEOUT * 1e9)) {
        MPT_OK(mp_value_get_int(ready, &r));
        Sleep(5);
    }
    CU_ASSERT_EQUAL_FATAL(r, 1);
    MPT_EQ(mp_value_lock_timeout(v, 0.2), MP_ETIMEDOUT); /* a live holder */
    MPT_OK(mp_process_kill(p));
    CU_ASSERT_EQUAL(mpt_join(p), -9);
    MPT_EQ(mp_value_lock_timeout(v, MPT_JOIN_TIMEOUT), MP_EOWNERDEAD);
    MPT_OK(mp_value_unlock(v));
    mp_value_free(v);
    mp_value_free(ready);
}

/* ---- pipe-name collisions -------------------------------------------------- */

static int pipe_works(mp_os_handle h[2])
{
    char buf[8] = {0};
    size_t got = 0;
    int rc = mp_os_write_all(h[1], "ping", 4);
    if (!rc) rc = mp_os_read(h[0], buf, sizeof buf, &got);
    return rc == 0 && got == 4 && memcmp(buf, "ping", 4) == 0;
}

static void random_pipe_name(wchar_t *name, size_t cap, const wchar_t *kind)
{
    unsigned char r[4];
    mp_os_random(r, sizeof r);
    _snwprintf(name, cap, L"\\\\.\\pipe\\mproc-%ls-%02x%02x%02x%02x", kind, r[0], r[1],
               r[2], r[3]);
    name[cap - 1] = L'\0';
}

/* The first name tried is squatted by a one-instance pipe of this
 * process: the pair sees the collision, and mp_os_pipe moves on to a new
 * name, for both kinds of pipe. */
static void test_pipe_name_squatted(void)
{
    wchar_t name[80];
    random_pipe_name(name, 80, L"squat");
    HANDLE sq = CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE, 1, 4096, 4096,
                                 0, NULL);
    CU_ASSERT_FATAL(sq != INVALID_HANDLE_VALUE);
    HANDLE hs[2];
    CU_ASSERT_EQUAL(mp_w32_pipe_pair(1, name, hs), 1); /* 1: collision */
    for (int duplex = 0; duplex < 2; duplex++) {
        mp_w32_pipe_first_name = name;
        mp_os_handle h[2] = {MP_OS_NO_HANDLE, MP_OS_NO_HANDLE};
        int rc = mp_os_pipe(duplex, h);
        mp_w32_pipe_first_name = NULL;
        MPT_OK(rc);
        CU_ASSERT(pipe_works(h));
        mp_os_close(h[0]);
        mp_os_close(h[1]);
    }
    CloseHandle(sq);
}

static int t_squatter(const mp_args *args)
{
    const char *name = NULL;
    MPT_CHILD_CHECK(mp_args_get_str(args, 0, &name) == 0);
    mp_value *state = mp_args_value(args, 1);
    wchar_t *w = NULL;
    MPT_CHILD_CHECK(mp_w32_to_wide(name, &w) == 0);
    HANDLE h = CreateNamedPipeW(w, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE,
                                PIPE_UNLIMITED_INSTANCES, 4096, 4096, 0, NULL);
    free(w);
    MPT_CHILD_CHECK(h != INVALID_HANDLE_VALUE);
    mp_value_set_int(state, 1);
    int64_t s = 1;
    while (s == 1) {
        Sleep(5);
        mp_value_get_int(state, &s);
    }
    CloseHandle(h);
    return 0;
}

/* Another process squats the name and allows unlimited instances. Windows
 * refuses us the name (FILE_FLAG_FIRST_PIPE_INSTANCE). Wine ignores that
 * flag and lets us make a second instance; then every pair we accept
 * must be ours end to end (the server-pid check and the pending connect
 * catch a client that landed on the squatter's instance). */
static void test_pipe_name_squatted_elsewhere(void)
{
    wchar_t wname[80];
    random_pipe_name(wname, 80, L"squat2");
    char *name = NULL;
    MPT_OK(mp_w32_to_utf8(wname, &name));
    mp_value *state;
    MPT_OK(mp_value_new(&state, 'i'));
    mp_process *p = mpt_start(t_squatter, mp_args_of(name, state), MP_START_SPAWN);
    int64_t s = 0;
    uint64_t t0 = mp_os_now_ns();
    while (s == 0 && mp_os_now_ns() - t0 < (uint64_t)(MPT_JOIN_TIMEOUT * 1e9)) {
        Sleep(5);
        MPT_OK(mp_value_get_int(state, &s));
    }
    CU_ASSERT_EQUAL_FATAL(s, 1);
    int wine = GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != NULL;
    int got = 0, bad = 0, other = 0;
    for (int tries = 0; tries < 20; tries++) {
        HANDLE hs[2];
        int d = mp_w32_pipe_pair(1, wname, hs);
        if (d == 0) {
            mp_os_handle hh[2] = {(mp_os_handle)hs[0], (mp_os_handle)hs[1]};
            got++;
            if (!pipe_works(hh)) bad++;
            CloseHandle(hs[0]);
            CloseHandle(hs[1]);
        } else if (d != 1) {
            fprintf(stderr, "pipe pair on the squatted name: %s (%s)\n", mp_error_name(d),
                    mp_last_error());
            other++;
        }
    }
    MPT_OK(mp_value_set_int(state, 2));
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_value_free(state);
    free(name);
    CU_ASSERT_EQUAL(other, 0);
    CU_ASSERT_EQUAL(bad, 0);
    if (!wine) CU_ASSERT_EQUAL(got, 0);
}

/* ---- a child's stdout, exit codes ---------------------------------------- */

static int t_hello(const mp_args *args)
{
    (void)args;
    printf("hello from the child\n");
    return 0;
}

/* The child's printf lands in the parent's stdout pipe (listed in the
 * handle list); stdout is in text mode, so the line ends in CRLF. */
static void test_child_stdout(void)
{
    HANDLE rd, wr;
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, FALSE};
    CU_ASSERT_FATAL(CreatePipe(&rd, &wr, &sa, 65536));
    fflush(stdout);
    HANDLE old = GetStdHandle(STD_OUTPUT_HANDLE);
    SetStdHandle(STD_OUTPUT_HANDLE, wr);
    mp_process *p = NULL;
    int rc = mp_process_new(&p, t_hello, MP_NO_ARGS);
    if (!rc) rc = mp_process_start(p);
    SetStdHandle(STD_OUTPUT_HANDLE, old);
    MPT_OK(rc);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    CloseHandle(wr);
    char buf[256] = {0};
    DWORD got = 0, n;
    while (got < sizeof buf - 1 &&
           ReadFile(rd, buf + got, (DWORD)(sizeof buf - 1 - got), &n, NULL) && n > 0)
        got += n;
    CloseHandle(rd);
    CU_ASSERT_STRING_EQUAL(buf, "hello from the child\r\n");
}

static int t_exit7(const mp_args *args)
{
    (void)args;
    return 7;
}

static int t_hang(const mp_args *args)
{
    (void)args;
    Sleep(INFINITE);
    return 0;
}

static int t_abort(const mp_args *args)
{
    (void)args;
    abort();
}

/* action: 0 none, 1 terminate, 2 kill. Signalling after the end is 0. */
static int code_of(mp_target t, int action)
{
    mp_process *p = mpt_start(t, MP_NO_ARGS, MP_START_SPAWN);
    if (action == 1) MPT_OK(mp_process_terminate(p));
    if (action == 2) MPT_OK(mp_process_kill(p));
    MPT_OK(mp_process_join(p, MPT_JOIN_TIMEOUT));
    if (action) MPT_OK(mp_process_terminate(p));
    return mpt_join(p);
}

/* TerminateProcess codes 0x10000 + N read as -N; abort() is the CRT's 3. */
static void test_exit_codes(void)
{
    CU_ASSERT_EQUAL(code_of(t_exit7, 0), 7);
    CU_ASSERT_EQUAL(code_of(t_hang, 1), -15);
    CU_ASSERT_EQUAL(code_of(t_hang, 2), -9);
    CU_ASSERT_EQUAL(code_of(t_abort, 0), 3);
}

/* ---- function location ----------------------------------------------------- */

static int some_data[64];

/* Data in the exe, an offset past its image, a module not loaded. */
static void test_fnloc_refusals(void)
{
    void (*fn)(void) = NULL;
    mp_os_fnloc bad;
    memset(&bad, 0, sizeof bad);
    bad.offset = (uint64_t)((uintptr_t)some_data - (uintptr_t)GetModuleHandleW(NULL));
    MPT_EQ(mp_os_fn_resolve(&bad, &fn), MP_EPROTO);
    bad.offset = 0x7fffffff;
    MPT_EQ(mp_os_fn_resolve(&bad, &fn), MP_EPROTO);
    snprintf(bad.module, sizeof bad.module, "C:\\no\\such.dll");
    bad.offset = 0x1000;
    MPT_EQ(mp_os_fn_resolve(&bad, &fn), MP_EPROTO);
}

/* ---- the bootstrap segment ------------------------------------------------- */

/* A section laid out as core's boot.c writes it: u32 "MPS1" | u32 count |
 * u64 bloblen | u64 own (all ones: none) | count x u64 handle | blob, with
 * room for one handle whatever count says (so a corrupt count points past
 * the data). Returns its handle (mp__boot_child consumes it). */
static mp_os_handle make_boot(uint32_t magic, uint32_t count, uint64_t handle,
                              uint64_t bloblen, const char *blob)
{
    mp_os_shm seg;
    if (mp_os_shm_create(&seg, 24 + 8 + strlen(blob)) != 0) return MP_OS_NO_HANDLE;
    unsigned char *b = seg.base;
    uint64_t own = UINT64_MAX;
    memcpy(b, &magic, 4);
    memcpy(b + 4, &count, 4);
    memcpy(b + 8, &bloblen, 8);
    memcpy(b + 16, &own, 8);
    memcpy(b + 24, &handle, 8);
    memcpy(b + 32, blob, strlen(blob));
    mp_os_handle h = seg.handle;
    seg.handle = MP_OS_NO_HANDLE; /* unmap only: the handle goes to the boot */
    mp_os_shm_close(&seg);
    return h;
}

static int boot(mp_os_handle seg, void **blob, size_t *len, mp_os_handle **hs, size_t *n)
{
    char marker[64];
    snprintf(marker, sizeof marker, "--mproc-child=%llu", (unsigned long long)seg);
    char *argv[] = {"prog", marker, NULL};
    return mp__boot_child(2, argv, blob, len, hs, n);
}

/* The child half of spawn on its own: a good segment gives the blob and
 * the handle, made non-inheritable again; bad markers and corrupt
 * segments are refused and never read past the section. */
static void test_child_boot_win32(void)
{
    void *blob;
    size_t len, n;
    mp_os_handle *hs;
    char *plain[] = {"prog", "--other", NULL};
    CU_ASSERT_EQUAL(mp__boot_child(1, plain, &blob, &len, &hs, &n), 0);
    CU_ASSERT_EQUAL(mp__boot_child(2, plain, &blob, &len, &hs, &n), 0);
    char *bad[][3] = {{"prog", "--mproc-child=", NULL},
                      {"prog", "--mproc-child=12x", NULL},
                      {"prog", "--mproc-child=-1", NULL},
                      {"prog", "--mproc-child=99999999999999999999999", NULL},
                      {"prog", "--mproc-child=2147483632", NULL}}; /* not open */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        MPT_EQ(mp__boot_child(2, bad[i], &blob, &len, &hs, &n), MP_EPROTO);

    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE ev = CreateEventW(&sa, TRUE, FALSE, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    uint64_t hv = (uint64_t)(uintptr_t)ev;
    mp_os_handle seg = make_boot(0x3153504du, 1, hv, 5, "hello");
    CU_ASSERT_FATAL(seg != MP_OS_NO_HANDLE);
    CU_ASSERT_EQUAL(boot(seg, &blob, &len, &hs, &n), 1);
    CU_ASSERT_EQUAL_FATAL(len, 5);
    CU_ASSERT(memcmp(blob, "hello", 5) == 0);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(hs[0], (mp_os_handle)hv);
    DWORD flags = 0;
    CU_ASSERT(GetHandleInformation(ev, &flags) && !(flags & HANDLE_FLAG_INHERIT));
    free(blob);
    free(hs);

    /* Corrupt: magic, a count past the section, a blob past it (the size
     * is the section's, rounded to pages, so "past" means far past), a
     * handle that is not open. */
    struct {
        uint32_t magic, n;
        uint64_t bloblen, handle;
    } corrupt[] = {{0x12345678u, 1, 5, hv},
                   {0x3153504du, 100000, 5, hv},
                   {0x3153504du, 1, 1u << 20, hv},
                   {0x3153504du, 1, UINT64_MAX, hv},
                   {0x3153504du, 1, 5, 0x7ffffff0u}};
    for (size_t i = 0; i < sizeof corrupt / sizeof corrupt[0]; i++) {
        seg = make_boot(corrupt[i].magic, corrupt[i].n, corrupt[i].handle,
                        corrupt[i].bloblen, "hello");
        CU_ASSERT_FATAL(seg != MP_OS_NO_HANDLE);
        MPT_EQ(boot(seg, &blob, &len, &hs, &n), MP_EPROTO);
    }
    CloseHandle(ev);
}

/* ---- large messages, EOF, one-way direction -------------------------------- */

static int t_echo_big(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    void *d = NULL;
    size_t n = 0;
    MPT_CHILD_CHECK(mp_conn_recv_bytes(c, &d, &n, 0) == 0);
    int rc = mp_conn_send_bytes(c, d, 0, n);
    mp_free(d);
    mp_conn_close(c);
    return rc == 0 ? 0 : 2;
}

/* 3 MiB each way through a duplex pipe (more than any pipe buffer, so the
 * overlapped I/O goes in pieces), then EOF once the child closed its end;
 * EOF is readable. */
static void test_large_message_and_eof(void)
{
    size_t n = (size_t)3 << 20;
    unsigned char *big = malloc(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (unsigned char)(i * 7 + (i >> 12));
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    mp_process *p = mpt_start(t_echo_big, mp_args_of(b), MP_START_SPAWN);
    mp_conn_close(b); /* the child holds its own copy */
    MPT_OK(mp_conn_send_bytes(a, big, 0, n));
    void *back = NULL;
    size_t got = 0;
    MPT_OK(mp_conn_recv_bytes(a, &back, &got, 0));
    CU_ASSERT(got == n && memcmp(back, big, n) == 0);
    mp_free(back);
    MPT_EQ(mp_conn_recv_bytes(a, &back, &got, 0), MP_ECLOSED);
    CU_ASSERT_EQUAL(mp_conn_poll(a, 0), 1);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_conn_close(a);
    free(big);
}

/* A start that Wine fails because the new process died while loading
 * (ERROR_INTERNAL_ERROR) is tried again: three such failures are absorbed
 * and the child runs; four fail the start with MP_ESYS, holding nothing. */
static void test_start_retried(void)
{
    mp__w32_start_faults = 3;
    CU_ASSERT_EQUAL(code_of(t_exit7, 0), 7);
    CU_ASSERT_EQUAL(mp__w32_start_faults, 0);

    mpt_leak_mark mark;
    mpt_leak_mark_now(&mark);
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    mp_process *p = NULL;
    MPT_OK(mp_process_new(&p, t_echo_big, mp_args_of(b)));
    mp__w32_start_faults = 4;
    MPT_EQ(mp_process_start(p), MP_ESYS);
    CU_ASSERT(strstr(mp_last_error(), "CreateProcessW") != NULL);
    mp__w32_start_faults = 0;
    mp_process_free(p);
    mp_conn_close(a);
    mp_conn_close(b);
    CU_ASSERT_EQUAL(mpt_leaks_since(&mark, "start_retried"), 0);
}

/* ---- waiting on many handles ------------------------------------------------ */

/* Winsock for the checks that a wait left a socket blocking (raw recv and
 * accept); windows.h came without winsock.h (WIN32_LEAN_AND_MEAN), so it
 * can come this late. */
#include <winsock2.h>

#define WMS ((uint64_t)1000000)

/* n one-way (message) pipes: rd[i] the read ends the waits get, wr[i] the
 * write ends; ready[] for the answers. */
typedef struct wset {
    size_t n;
    mp_os_handle *rd, *wr;
    unsigned char *ready;
} wset;

static void wset_open(wset *w, size_t n)
{
    w->n = n;
    w->rd = malloc(n * sizeof *w->rd);
    w->wr = malloc(n * sizeof *w->wr);
    w->ready = malloc(n);
    CU_ASSERT_FATAL(w->rd && w->wr && w->ready);
    for (size_t i = 0; i < n; i++) {
        mp_os_handle h[2];
        MPT_OK(mp_os_pipe(0, h));
        w->rd[i] = h[0];
        w->wr[i] = h[1];
    }
    /* This thread's I/O event (pipe.c keeps one per thread) is made now,
     * not inside a leak-checked stretch. */
    char c = 0;
    size_t got = 0;
    MPT_OK(mp_os_write_all(w->wr[0], "w", 1));
    MPT_OK(mp_os_read(w->rd[0], &c, 1, &got));
}

static void wset_close(wset *w)
{
    for (size_t i = 0; i < w->n; i++) {
        mp_os_close(w->rd[i]);
        mp_os_close(w->wr[i]);
    }
    free(w->rd);
    free(w->wr);
    free(w->ready);
}

/* 1 if exactly the entries in want[] (nw of them) are ready, with a
 * message naming the first difference otherwise. */
static int ready_exactly(const unsigned char *ready, size_t n, const size_t *want,
                         size_t nw)
{
    for (size_t i = 0; i < n; i++) {
        int wanted = 0;
        for (size_t k = 0; k < nw; k++)
            wanted |= want[k] == i;
        if ((ready[i] != 0) != wanted) {
            fprintf(stderr, "wait_many: entry %zu is %d, wanted %s\n", i, ready[i],
                    wanted ? "ready" : "not ready");
            return 0;
        }
    }
    return 1;
}

static int wait_for(wset *w, uint64_t deadline_ns)
{
    memset(w->ready, 0xAA, w->n); /* the call must write every entry */
    return mp_os_wait_many(w->rd, w->n, deadline_ns, w->ready);
}

/* Something done from another thread 50 ms after it starts, while the
 * main thread waits. */
typedef struct later {
    int (*fn)(struct later *);
    mp_os_handle h;
    HANDLE ev;
    const mp_os_addrs *addrs;
    mp_os_handle out;
    int rc;
    mp_os_thread *t;
} later;

static void later_main(void *arg)
{
    later *l = arg;
    Sleep(50);
    l->rc = l->fn(l);
}

static void later_start(later *l)
{
    l->rc = -1;
    MPT_OK(mp_os_thread_start(&l->t, later_main, l));
}

static void later_join(later *l)
{
    MPT_OK(mp_os_thread_join(l->t));
    CU_ASSERT_EQUAL(l->rc, 0);
}

static int later_write(later *l)
{
    return mp_os_write_all(l->h, "L", 1);
}

static int later_close(later *l)
{
    mp_os_close(l->h);
    return 0;
}

static int later_empty(later *l)
{
    return mp_os_msg_send(l->h, "", 0);
}

static int later_set(later *l)
{
    return SetEvent(l->ev) ? 0 : -2;
}

static int later_connect(later *l)
{
    return mp_os_connect_tcp(l->addrs, 0, &l->out);
}

/* Reads the one byte that made entry i ready: the wait took nothing. */
static void read_byte(mp_os_handle h, char want)
{
    char c = 0;
    size_t got = 0;
    MPT_OK(mp_os_read(h, &c, 1, &got));
    CU_ASSERT(got == 1 && c == want);
}

/* 210 pipes, over three groups of the Windows limit of 64: nothing ready
 * is 0 at the deadline (not before it), and two written ones in the
 * middle and near the end are both reported, with nothing taken. */
static void test_wait_many_pipes(void)
{
    wset w;
    wset_open(&w, 210);
    mpt_leak_mark mark;
    mpt_leak_mark_now(&mark);
    uint64_t t0 = mp_os_now_ns();
    MPT_EQ(wait_for(&w, t0 + 50 * WMS), 0);
    CU_ASSERT(mp_os_now_ns() - t0 >= 50 * WMS);
    CU_ASSERT(ready_exactly(w.ready, w.n, NULL, 0));
    MPT_OK(mp_os_write_all(w.wr[150], "a", 1));
    MPT_OK(mp_os_write_all(w.wr[199], "b", 1));
    size_t want[] = {150, 199};
    MPT_EQ(wait_for(&w, mp_os_now_ns() + 10000 * WMS), 2);
    CU_ASSERT(ready_exactly(w.ready, w.n, want, 2));
    CU_ASSERT(w.ready[150] == 1 && w.ready[199] == 1);
    read_byte(w.rd[150], 'a');
    read_byte(w.rd[199], 'b');
    MPT_EQ(wait_for(&w, mp_os_now_ns() + 20 * WMS), 0);
    MPT_EQ(wait_for(&w, 0), 0); /* a deadline already past */
    CU_ASSERT(ready_exactly(w.ready, w.n, NULL, 0));
    CU_ASSERT_EQUAL(mpt_leaks_since(&mark, "wait_many_pipes"), 0);
    wset_close(&w);
}

/* End of file is ready: a write end closed while the wait blocks (the
 * pending read fails with a broken pipe), then one closed before it (the
 * first look sees it). MP_OS_NO_HANDLE entries are never ready. */
static void test_wait_many_eof(void)
{
    wset w;
    wset_open(&w, 200);
    mp_os_close(w.rd[5]);
    w.rd[5] = MP_OS_NO_HANDLE;
    mp_os_close(w.wr[5]);
    w.wr[5] = MP_OS_NO_HANDLE;
    mpt_leak_mark mark;
    mpt_leak_mark_now(&mark);
    later l = {.fn = later_close, .h = w.wr[120]};
    w.wr[120] = MP_OS_NO_HANDLE;
    later_start(&l);
    MPT_EQ(wait_for(&w, MP_NO_DEADLINE), 1);
    later_join(&l);
    size_t want1[] = {120};
    CU_ASSERT(ready_exactly(w.ready, w.n, want1, 1));
    mp_os_close(w.wr[170]);
    w.wr[170] = MP_OS_NO_HANDLE;
    size_t want2[] = {120, 170};
    MPT_EQ(wait_for(&w, MP_NO_DEADLINE), 2);
    CU_ASSERT(ready_exactly(w.ready, w.n, want2, 2));
    CU_ASSERT_EQUAL(mpt_leaks_since(&mark, "wait_many_eof"), 0);
    wset_close(&w);
}

static int t_nap(const mp_args *args)
{
    (void)args;
    Sleep(300);
    return 0;
}

/* Kernel objects among 100 pipes: a manual-reset event set while the wait
 * blocks; an auto-reset one, whose signal the wait itself takes (it must
 * still be reported); a child's process handle (Process.sentinel), once
 * the child exits. */
static void test_wait_many_objects(void)
{
    wset w;
    wset_open(&w, 101);
    HANDLE manual = CreateEventW(NULL, TRUE, FALSE, NULL);
    HANDLE autoev = CreateEventW(NULL, FALSE, FALSE, NULL);
    CU_ASSERT_FATAL(manual && autoev);
    mp_os_handle keep70 = w.rd[70], keep90 = w.rd[90], keep30 = w.rd[30];
    w.rd[70] = (mp_os_handle)manual;
    w.rd[90] = (mp_os_handle)autoev;
    mpt_leak_mark mark;
    mpt_leak_mark_now(&mark);

    later l = {.fn = later_set, .ev = manual};
    later_start(&l);
    MPT_EQ(wait_for(&w, MP_NO_DEADLINE), 1);
    later_join(&l);
    size_t want70[] = {70};
    CU_ASSERT(ready_exactly(w.ready, w.n, want70, 1));
    MPT_EQ(wait_for(&w, 0), 1); /* still set: the first look sees it */
    ResetEvent(manual);

    later a = {.fn = later_set, .ev = autoev};
    later_start(&a);
    MPT_EQ(wait_for(&w, MP_NO_DEADLINE), 1);
    later_join(&a);
    size_t want90[] = {90};
    CU_ASSERT(ready_exactly(w.ready, w.n, want90, 1));
    CU_ASSERT_EQUAL(mpt_leaks_since(&mark, "wait_many_objects"), 0);

    mp_process *p = mpt_start(t_nap, MP_NO_ARGS, MP_START_SPAWN);
    intptr_t sentinel = 0;
    MPT_OK(mp_process_sentinel(p, &sentinel));
    w.rd[30] = (mp_os_handle)sentinel;
    MPT_EQ(wait_for(&w, MP_NO_DEADLINE), 1);
    size_t want30[] = {30};
    CU_ASSERT(ready_exactly(w.ready, w.n, want30, 1));
    CU_ASSERT_EQUAL(mpt_join(p), 0);

    w.rd[30] = keep30;
    w.rd[70] = keep70;
    w.rd[90] = keep90;
    CloseHandle(manual);
    CloseHandle(autoev);
    wset_close(&w);
}

/* Raw Winsock on a marked handle (w32_socket.h). */
static SOCKET raw_sock(mp_os_handle h)
{
    return (SOCKET)(uintptr_t)(h & ~(mp_os_handle)3);
}

/* Sockets among 100 pipes: a listener with a connection coming in while
 * the wait blocks; an accepted socket with data sent while it blocks,
 * then with end of file. Afterwards both are blocking again (a wait makes
 * them non-blocking for the time it waits): recv and accept block until
 * the peer acts instead of failing with WSAEWOULDBLOCK. */
static void test_wait_many_sockets(void)
{
    wset w;
    wset_open(&w, 101);
    mp_os_addrs *pa = NULL, *ca = NULL;
    mp_os_listener *ls = NULL;
    MPT_OK(mp_os_resolve_tcp(&pa, "127.0.0.1", 0, 1));
    MPT_OK(mp_os_listen_tcp(&ls, pa, 0, 8));
    MPT_OK(mp_os_resolve_tcp(&ca, "127.0.0.1", mp_os_listener_port(ls), 0));
    mp_os_handle keep80 = w.rd[80], keep90 = w.rd[90];
    w.rd[80] = mp_os_listener_handle(ls);

    later c = {.fn = later_connect, .addrs = ca};
    later_start(&c);
    MPT_EQ(wait_for(&w, MP_NO_DEADLINE), 1);
    later_join(&c);
    size_t want80[] = {80};
    CU_ASSERT(ready_exactly(w.ready, w.n, want80, 1));
    mp_os_handle srv = MP_OS_NO_HANDLE;
    MPT_OK(mp_os_accept(ls, &srv));
    w.rd[90] = srv;
    mpt_leak_mark mark;
    mpt_leak_mark_now(&mark);

    MPT_EQ(wait_for(&w, mp_os_now_ns() + 30 * WMS), 0);
    later s = {.fn = later_write, .h = c.out};
    later_start(&s);
    MPT_EQ(wait_for(&w, MP_NO_DEADLINE), 1);
    later_join(&s);
    size_t want90[] = {90};
    CU_ASSERT(ready_exactly(w.ready, w.n, want90, 1));
    read_byte(srv, 'L');

    /* Blocking again: recv waits for the byte sent 50 ms later. */
    later s2 = {.fn = later_write, .h = c.out};
    later_start(&s2);
    char b = 0;
    int r = recv(raw_sock(srv), &b, 1, 0);
    int e = r == SOCKET_ERROR ? WSAGetLastError() : 0;
    later_join(&s2);
    CU_ASSERT(r == 1 && b == 'L');
    if (r != 1) fprintf(stderr, "wait_many: recv gave %d (error %d)\n", r, e);
    CU_ASSERT_EQUAL(mpt_leaks_since(&mark, "wait_many_sockets"), 0);

    /* The listener too: accept waits for the connection made 50 ms later. */
    later c2 = {.fn = later_connect, .addrs = ca};
    later_start(&c2);
    SOCKET acc = accept(raw_sock(w.rd[80]), NULL, NULL);
    e = acc == INVALID_SOCKET ? WSAGetLastError() : 0;
    later_join(&c2);
    CU_ASSERT(acc != INVALID_SOCKET);
    if (acc == INVALID_SOCKET) fprintf(stderr, "wait_many: accept: error %d\n", e);
    if (acc != INVALID_SOCKET) closesocket(acc);
    mp_os_close(c2.out);

    mp_os_close(c.out); /* end of file on srv */
    MPT_EQ(wait_for(&w, MP_NO_DEADLINE), 1);
    CU_ASSERT(ready_exactly(w.ready, w.n, want90, 1));

    mp_os_close(srv);
    mp_os_listener_close(ls);
    mp_os_addrs_free(pa);
    mp_os_addrs_free(ca);
    w.rd[80] = keep80;
    w.rd[90] = keep90;
    wset_close(&w);
}

/* After a wait said that entry i of w is ready with an empty message
 * (ready[i] 1 or 2), the next two messages read are that empty one (unless
 * the wait took it: 2) and "x", in that order, and nothing more. */
static void check_empty_then_x(wset *w, size_t i)
{
    unsigned char how = w->ready[i];
    CU_ASSERT(how == 1 || how == 2);
    MPT_OK(mp_os_msg_send(w->wr[i], "x", 1));
    char buf[4];
    size_t got = 9;
    int more = 0;
    if (how == 1) {
        MPT_OK(mp_os_msg_recv(w->rd[i], buf, sizeof buf, &got, &more));
        /* "x" here: the wait took the empty message and said 1 (the next
         * read would block forever). */
        CU_ASSERT_EQUAL_FATAL(got, 0);
    }
    MPT_OK(mp_os_msg_recv(w->rd[i], buf, sizeof buf, &got, &more));
    CU_ASSERT(got == 1 && buf[0] == 'x' && !more);
    MPT_EQ(wait_for(w, mp_os_now_ns() + 20 * WMS), 0);
}

/* An empty message is ready, both when it was there before the wait (the
 * first look cannot see it; the zero-byte read finds it at once) and when
 * it comes while the wait blocks; if the wait took it off the pipe it says
 * 2, and the empty message is then not read a second time. */
static void test_wait_many_empty_message(void)
{
    wset w;
    wset_open(&w, 100);
    mpt_leak_mark mark;
    mpt_leak_mark_now(&mark);
    MPT_OK(mp_os_msg_send(w.wr[75], "", 0));
    size_t want75[] = {75};
    MPT_EQ(wait_for(&w, mp_os_now_ns() + 10000 * WMS), 1);
    CU_ASSERT(ready_exactly(w.ready, w.n, want75, 1));
    check_empty_then_x(&w, 75);

    later l = {.fn = later_empty, .h = w.wr[40]};
    later_start(&l);
    MPT_EQ(wait_for(&w, MP_NO_DEADLINE), 1);
    later_join(&l);
    size_t want40[] = {40};
    CU_ASSERT(ready_exactly(w.ready, w.n, want40, 1));
    check_empty_then_x(&w, 40);
    CU_ASSERT_EQUAL(mpt_leaks_since(&mark, "wait_many_empty_message"), 0);
    wset_close(&w);
}

/* A wait with no deadline wakes when another thread writes to entry 180
 * of 200 (a worker's group) and to entry 2 of 5 (no worker at all). */
static void test_wait_many_wake(void)
{
    wset w;
    wset_open(&w, 200);
    mpt_leak_mark mark;
    mpt_leak_mark_now(&mark);
    later l = {.fn = later_write, .h = w.wr[180]};
    uint64_t t0 = mp_os_now_ns();
    later_start(&l);
    MPT_EQ(wait_for(&w, MP_NO_DEADLINE), 1);
    CU_ASSERT(mp_os_now_ns() - t0 >= 40 * WMS);
    later_join(&l);
    size_t want180[] = {180};
    CU_ASSERT(ready_exactly(w.ready, w.n, want180, 1));
    read_byte(w.rd[180], 'L');

    later s = {.fn = later_write, .h = w.wr[2]};
    later_start(&s);
    memset(w.ready, 0xAA, w.n);
    MPT_EQ(mp_os_wait_many(w.rd, 5, MP_NO_DEADLINE, w.ready), 1);
    later_join(&s);
    size_t want2[] = {2};
    CU_ASSERT(ready_exactly(w.ready, 5, want2, 1));
    read_byte(w.rd[2], 'L');
    CU_ASSERT_EQUAL(mpt_leaks_since(&mark, "wait_many_wake"), 0);
    wset_close(&w);
}

/* 600 entries, ten groups: 100 pipes and 500 events; an event near the
 * end set while the wait blocks, then the same with a pipe written too
 * (both reported), and nothing taken by the wait of 600. */
static void test_wait_many_600(void)
{
    enum { NP = 100, NE = 500 };
    wset w;
    wset_open(&w, NP);
    mp_os_handle *h = malloc((NP + NE) * sizeof *h);
    unsigned char *ready = malloc(NP + NE);
    CU_ASSERT_FATAL(h && ready);
    for (size_t i = 0; i < NP; i++)
        h[i] = w.rd[i];
    for (size_t i = NP; i < NP + NE; i++) {
        HANDLE ev = CreateEventW(NULL, TRUE, FALSE, NULL);
        CU_ASSERT_FATAL(ev != NULL);
        h[i] = (mp_os_handle)ev;
    }
    mpt_leak_mark mark;
    mpt_leak_mark_now(&mark);
    MPT_EQ(mp_os_wait_many(h, NP + NE, mp_os_now_ns() + 30 * WMS, ready), 0);
    CU_ASSERT(ready_exactly(ready, NP + NE, NULL, 0));
    later l = {.fn = later_set, .ev = (HANDLE)h[555]};
    later_start(&l);
    memset(ready, 0xAA, NP + NE);
    MPT_EQ(mp_os_wait_many(h, NP + NE, MP_NO_DEADLINE, ready), 1);
    later_join(&l);
    size_t want[] = {555};
    CU_ASSERT(ready_exactly(ready, NP + NE, want, 1));
    ResetEvent((HANDLE)h[555]);
    MPT_OK(mp_os_write_all(w.wr[99], "z", 1));
    SetEvent((HANDLE)h[599]);
    memset(ready, 0xAA, NP + NE);
    MPT_EQ(mp_os_wait_many(h, NP + NE, MP_NO_DEADLINE, ready), 2);
    size_t want2[] = {99, 599};
    CU_ASSERT(ready_exactly(ready, NP + NE, want2, 2));
    read_byte(w.rd[99], 'z');
    CU_ASSERT_EQUAL(mpt_leaks_since(&mark, "wait_many_600"), 0);
    for (size_t i = NP; i < NP + NE; i++)
        CloseHandle((HANDLE)h[i]);
    free(h);
    free(ready);
    wset_close(&w);
}

/* A handle that is not open (closed, or 0) is MP_EINVAL, and no entry is
 * left set, not even one that was ready. */
static void test_wait_many_invalid(void)
{
    wset w;
    wset_open(&w, 100);
    MPT_OK(mp_os_write_all(w.wr[10], "a", 1));
    HANDLE gone = CreateEventW(NULL, TRUE, FALSE, NULL);
    CU_ASSERT_FATAL(gone != NULL);
    CloseHandle(gone);
    mp_os_handle keep = w.rd[50];
    w.rd[50] = (mp_os_handle)gone;
    MPT_EQ(wait_for(&w, MP_NO_DEADLINE), MP_EINVAL);
    CU_ASSERT(ready_exactly(w.ready, w.n, NULL, 0));
    w.rd[50] = 0;
    MPT_EQ(wait_for(&w, MP_NO_DEADLINE), MP_EINVAL);
    CU_ASSERT(ready_exactly(w.ready, w.n, NULL, 0));
    w.rd[50] = keep;
    wset_close(&w);
}

/* ---- registration and helper runs ----------------------------------------- */

int mpt_platform_win32_helper(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--mpt-quote-child") == 0) return quote_child();
    if (argc >= 3 && strcmp(argv[1], "--mpt-handle-check") == 0)
        return handle_valid_here(strtoull(argv[2], NULL, 10)) ? 0 : 1;
    return -1;
}

void mpt_platform_win32_tests(void)
{
    mpt_add("platform", "quoting_round_trip", test_quoting_round_trip);
    mpt_add("platform", "quoting_child", test_quoting_child);
    mpt_add("platform", "unlisted_handle_invalid", test_unlisted_handle_invalid);
    mpt_add("platform", "abandoned_lock_exit", test_abandoned_lock_exit);
    mpt_add("platform", "abandoned_lock_kill", test_abandoned_lock_kill);
    mpt_add("platform", "pipe_name_squatted", test_pipe_name_squatted);
    mpt_add("platform", "pipe_name_squatted_elsewhere",
            test_pipe_name_squatted_elsewhere);
    mpt_add("platform", "child_stdout", test_child_stdout);
    mpt_add("platform", "exit_codes", test_exit_codes);
    mpt_add("platform", "fnloc_refusals", test_fnloc_refusals);
    mpt_add("platform", "child_boot_win32", test_child_boot_win32);
    mpt_add("platform", "large_message_and_eof", test_large_message_and_eof);
    mpt_add("platform", "start_retried", test_start_retried);
    mpt_add("platform", "wait_many_pipes", test_wait_many_pipes);
    mpt_add("platform", "wait_many_eof", test_wait_many_eof);
    mpt_add("platform", "wait_many_objects", test_wait_many_objects);
    mpt_add("platform", "wait_many_sockets", test_wait_many_sockets);
    mpt_add("platform", "wait_many_empty_message", test_wait_many_empty_message);
    mpt_add("platform", "wait_many_wake", test_wait_many_wake);
    mpt_add("platform", "wait_many_invalid", test_wait_many_invalid);
    mpt_add("platform", "wait_many_600", test_wait_many_600);
}
