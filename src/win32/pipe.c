/* pipe.c - pipes, byte I/O on handles, readiness.
 *
 * Anonymous pipes (CreatePipe) cannot do overlapped I/O, so both kinds of
 * Pipe are named pipes, as in CPython: the server end is created with a
 * random name \\.\pipe\mproc-<pid>-<16 hex>, one instance,
 * FILE_FLAG_FIRST_PIPE_INSTANCE (nobody else may already own the name),
 * PIPE_REJECT_REMOTE_CLIENTS, FILE_FLAG_OVERLAPPED, and the other end is
 * opened at once with CreateFileW (overlapped too). The name is guessable
 * only for those two calls. A taken name fails with ERROR_ACCESS_DENIED on
 * Windows and ERROR_PIPE_BUSY on Wine (which ignores FIRST_PIPE_INSTANCE);
 * both, and someone connecting to our instance before we do
 * (ERROR_PIPE_BUSY from CreateFileW), are treated as a collision and the
 * pair is made again under a new name. The pipe's DACL grants the user
 * this process runs as, and no one else (pipe_security below). Where
 * FIRST_PIPE_INSTANCE is not enforced (Wine), a squatter allowing many
 * instances could take our client: GetNamedPipeServerProcessId on the
 * client must name this process, our own instance must report
 * ERROR_PIPE_CONNECTED at once, and it must be a message pipe (it takes a
 * squatter's byte type under Wine), or the pair is dropped as a collision
 * too. Duplex: PIPE_ACCESS_DUPLEX, both ends read and write. One-way:
 * the server end is PIPE_ACCESS_INBOUND and is h[0], the read end; the
 * client opens GENERIC_WRITE and is h[1] (CPython's Pipe(duplex=False)
 * does the same). Handles are not inheritable; spawn duplicates what a
 * child needs (proc.c).
 *
 * Framing: the pipes are MESSAGE mode (PIPE_TYPE_MESSAGE and
 * PIPE_READMODE_MESSAGE on the server end, SetNamedPipeHandleState on the
 * client end), as CPython's Pipe() makes them, and core/conn/conn.c writes each
 * message whole with no length prefix (mp_os_msg_*), as PipeConnection
 * does; so a Python process can hold the other end. mp_os_read still reads
 * them as a byte stream (ERROR_MORE_DATA is a partial read), for raw uses.
 *
 * I/O: an overlapped ReadFile/WriteFile is issued and waited for at once
 * (GetOverlappedResult with bWait). Each thread keeps one manual-reset
 * event for that in fiber-local storage, closed by the FLS callback when
 * the thread ends, so a message costs no CreateEvent/CloseHandle pair.
 * Trap: when the call fails at once (e.g. ERROR_BROKEN_PIPE) no I/O was
 * started and its event never fires, so it must not be waited on. End of
 * file (ERROR_BROKEN_PIPE, ERROR_HANDLE_EOF, ERROR_PIPE_NOT_CONNECTED) is
 * *got = 0; a write whose reader is gone (ERROR_NO_DATA, ERROR_BROKEN_PIPE)
 * is MP_ECLOSED. A read that completes with 0 bytes (a peer's zero-length
 * write) is not end of file and is retried.
 *
 * poll_readable asks PeekNamedPipe first (bytes waiting, or a broken pipe,
 * answer at once); otherwise it starts an overlapped zero-byte ReadFile,
 * which completes when something arrives without taking it, waits on its
 * event until the deadline, then cancels it (CancelIoEx) and waits for the
 * cancel to finish, as CPython's connection.wait() does. A read that
 * completed anyway (the race with the cancel) counts as readable. On a
 * message pipe the zero-byte read that meets an EMPTY message takes it off
 * the pipe (Windows 8 and later, and Wine, which says it is Windows 7;
 * Windows 7 leaves it; which one, a probe pair tells once per process;
 * PeekNamedPipe cannot see an empty message at all): poll_readable then
 * answers 2 so that the core hands the
 * empty message out next (CPython's _got_empty_message). A handle that is
 * not a pipe is waited on as a kernel object.
 *
 * Sockets (socket.c) reach these functions too, marked in the handle value
 * (w32_socket.h); they are passed on to socket.c's send/recv/select. */
#include <stdio.h>
#include <stdlib.h>

#include "w32_socket.h"
#include "win32_util.h"

#define IO_CHUNK      ((DWORD)1 << 30)
#define PIPE_BUF_SIZE 65536u
#define NAME_ATTEMPTS 64

/* ---- the per-thread event -------------------------------------------------- */

static DWORD fls_index = FLS_OUT_OF_INDEXES;
static INIT_ONCE fls_once = INIT_ONCE_STATIC_INIT;

static void WINAPI close_event(void *ev)
{
    if (ev) CloseHandle((HANDLE)ev);
}

static BOOL CALLBACK init_fls(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    fls_index = FlsAlloc(close_event);
    return TRUE;
}

/* A manual-reset event for one overlapped call at a time on this thread;
 * NULL on failure (recorded). */
static HANDLE io_event(void)
{
    InitOnceExecuteOnce(&fls_once, init_fls, NULL, NULL);
    HANDLE ev = fls_index != FLS_OUT_OF_INDEXES ? FlsGetValue(fls_index) : NULL;
    if (ev) return ev;
    ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!ev) {
        mp_w32_fail("CreateEventW", GetLastError());
        return NULL;
    }
    if (fls_index != FLS_OUT_OF_INDEXES) FlsSetValue(fls_index, ev);
    return ev;
}

/* Without FLS (never, in practice) the event is per call. */
static void io_event_done(HANDLE ev)
{
    if (fls_index == FLS_OUT_OF_INDEXES) CloseHandle(ev);
}

/* ---- who may open a pipe ---------------------------------------------------- */

/* With no security attributes a named pipe gets Windows' default DACL,
 * which also grants read access to Everyone and to Anonymous: another
 * user could open our one instance in the moment before our own client
 * does, or read from a pipe name left connectable. Our pipes are for this
 * process and its children, which run as the same user, so the DACL grants
 * that user (the token's user SID) full access and nobody else anything.
 * Built once per process and kept; if it cannot be built, no pipe is made
 * rather than one open to everyone. */
static INIT_ONCE sa_once = INIT_ONCE_STATIC_INIT;
static SECURITY_ATTRIBUTES pipe_sa;
static SECURITY_DESCRIPTOR pipe_sd;
static const char *sa_fail_what;
static DWORD sa_fail_err;

static BOOL CALLBACK init_sa(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    HANDLE tok = NULL;
    TOKEN_USER *user = NULL;
    ACL *acl = NULL;
    DWORD need = 0;
    sa_fail_what = "OpenProcessToken";
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok)) goto fail;
    sa_fail_what = "GetTokenInformation(TokenUser)";
    GetTokenInformation(tok, TokenUser, NULL, 0, &need);
    user = need ? malloc(need) : NULL;
    if (!user || !GetTokenInformation(tok, TokenUser, user, need, &need)) goto fail;
    DWORD acl_size = (DWORD)sizeof(ACL) + (DWORD)sizeof(ACCESS_ALLOWED_ACE) -
                     (DWORD)sizeof(DWORD) + GetLengthSid(user->User.Sid);
    acl = malloc(acl_size);
    sa_fail_what = "InitializeAcl";
    if (!acl || !InitializeAcl(acl, acl_size, ACL_REVISION)) goto fail;
    sa_fail_what = "AddAccessAllowedAce";
    if (!AddAccessAllowedAce(acl, ACL_REVISION, FILE_ALL_ACCESS, user->User.Sid))
        goto fail;
    sa_fail_what = "InitializeSecurityDescriptor";
    if (!InitializeSecurityDescriptor(&pipe_sd, SECURITY_DESCRIPTOR_REVISION) ||
        !SetSecurityDescriptorDacl(&pipe_sd, TRUE, acl, FALSE))
        goto fail;
    pipe_sa.nLength = sizeof pipe_sa;
    pipe_sa.lpSecurityDescriptor = &pipe_sd;
    pipe_sa.bInheritHandle = FALSE;
    sa_fail_what = NULL;
    CloseHandle(tok);
    /* The ACE holds a copy of the SID; the ACL stays for the process. */
    free(user);
    return TRUE;
fail:
    sa_fail_err = GetLastError();
    if (tok) CloseHandle(tok);
    free(user);
    free(acl);
    return TRUE;
}

/* The security attributes every pipe is made with, or NULL (recorded). */
static SECURITY_ATTRIBUTES *pipe_security(void)
{
    InitOnceExecuteOnce(&sa_once, init_sa, NULL, NULL);
    if (sa_fail_what) {
        mp_w32_fail(sa_fail_what, sa_fail_err ? sa_fail_err : ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    return &pipe_sa;
}

/* ---- creating a pair ------------------------------------------------------- */

static int pipe_name(wchar_t *name, size_t cap)
{
    unsigned char r[8];
    int rc = mp_os_random(r, sizeof r);
    if (rc) return rc;
    _snwprintf(name, cap, L"\\\\.\\pipe\\mproc-%lu-%02x%02x%02x%02x%02x%02x%02x%02x",
               (unsigned long)GetCurrentProcessId(), r[0], r[1], r[2], r[3], r[4], r[5],
               r[6], r[7]);
    name[cap - 1] = L'\0';
    return 0;
}

/* Connects the server end to the client that just opened it: 0, 1 if the
 * client went to another instance of the name (a squatter's), or an error.
 * Our CreateFileW has completed, so if it reached this instance
 * ConnectNamedPipe reports ERROR_PIPE_CONNECTED at once; a pending connect
 * means it did not, and waiting would block forever. */
static int accept_client(HANDLE server)
{
    HANDLE ev = io_event();
    if (!ev) return MP_ESYS;
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.hEvent = ev;
    ResetEvent(ev);
    int rc = 0;
    if (!ConnectNamedPipe(server, &ov)) {
        DWORD e = GetLastError();
        DWORD got;
        if (e == ERROR_IO_PENDING) {
            CancelIoEx(server, &ov);
            GetOverlappedResult(server, &ov, &got, TRUE);
            rc = 1;
        } else if (e != ERROR_PIPE_CONNECTED) {
            rc = mp_w32_fail("ConnectNamedPipe", e);
        }
    }
    io_event_done(ev);
    return rc;
}

const wchar_t *mp_w32_pipe_first_name;

int mp_w32_pipe_pair(int duplex, const wchar_t *name, HANDLE h[2])
{
    h[0] = h[1] = INVALID_HANDLE_VALUE;
    DWORD open_mode = (duplex ? PIPE_ACCESS_DUPLEX : PIPE_ACCESS_INBOUND) |
                      FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE;
    DWORD pipe_mode = PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT |
                      PIPE_REJECT_REMOTE_CLIENTS;
    SECURITY_ATTRIBUTES *sa = pipe_security();
    if (!sa) return MP_ESYS;
    HANDLE server = CreateNamedPipeW(name, open_mode, pipe_mode, 1,
                                     duplex ? PIPE_BUF_SIZE : 0, PIPE_BUF_SIZE, 0, sa);
    if (server == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        if (e == ERROR_ACCESS_DENIED || e == ERROR_PIPE_BUSY) return 1;
        return mp_w32_fail("CreateNamedPipeW", e);
    }
    /* FILE_READ_ATTRIBUTES on the write-only end: enough to ask the pipe's
     * type (mp_os_handle_is_message); GENERIC_WRITE brings
     * FILE_WRITE_ATTRIBUTES, which SetNamedPipeHandleState needs. */
    DWORD access =
        duplex ? GENERIC_READ | GENERIC_WRITE : GENERIC_WRITE | FILE_READ_ATTRIBUTES;
    HANDLE client = CreateFileW(
        name, access, 0, NULL, OPEN_EXISTING,
        FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_ANONYMOUS, NULL);
    if (client == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        CloseHandle(server);
        if (e == ERROR_PIPE_BUSY) return 1; /* someone took our only instance */
        return mp_w32_fail("CreateFileW(pipe)", e);
    }
    /* Where FIRST_PIPE_INSTANCE is ignored (Wine), a squatter's instance
     * of the same name may have taken our client. */
    ULONG spid = 0;
    int rc = 0;
    if (GetNamedPipeServerProcessId(client, &spid) && spid != GetCurrentProcessId())
        rc = 1;
    if (rc == 0) rc = accept_client(server);
    /* Where FIRST_PIPE_INSTANCE is ignored (Wine), our instance joins a
     * squatter's pipe of the same name and takes its type: a byte pipe
     * here means the name is someone else's. */
    DWORD flags = 0;
    if (rc == 0 && (!GetNamedPipeInfo(server, &flags, NULL, NULL, NULL) ||
                    !(flags & PIPE_TYPE_MESSAGE)))
        rc = 1;
    /* A client end starts in byte read mode whatever the pipe's type;
     * CPython switches its end to message mode the same way. */
    DWORD mode = PIPE_READMODE_MESSAGE;
    if (rc == 0 && !SetNamedPipeHandleState(client, &mode, NULL, NULL))
        rc = mp_w32_fail("SetNamedPipeHandleState", GetLastError());
    if (rc) {
        CloseHandle(server);
        CloseHandle(client);
        return rc;
    }
    h[0] = server;
    h[1] = client;
    return 0;
}

int mp_os_pipe(int duplex, mp_os_handle h[2])
{
    h[0] = h[1] = MP_OS_NO_HANDLE;
    for (int attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
        wchar_t name[80];
        const wchar_t *use = name;
        int rc = 0;
        if (attempt == 0 && mp_w32_pipe_first_name)
            use = mp_w32_pipe_first_name;
        else
            rc = pipe_name(name, sizeof name / sizeof name[0]);
        if (rc) return rc;
        HANDLE hs[2];
        rc = mp_w32_pipe_pair(duplex, use, hs);
        if (rc == 1) continue;
        if (rc) return rc;
        h[0] = (mp_os_handle)hs[0];
        h[1] = (mp_os_handle)hs[1];
        return 0;
    }
    return mp_set_error(MP_ESYS,
                        "CreateNamedPipeW: no free random name after %d attempts",
                        NAME_ATTEMPTS);
}

/* ---- I/O ------------------------------------------------------------------- */

static int check_handle(mp_os_handle h)
{
    if (!mp_w32_valid(h))
        return mp_set_error(MP_EINVAL, "invalid handle %lld", (long long)h);
    return 0;
}

static int is_eof_error(DWORD e)
{
    return e == ERROR_BROKEN_PIPE || e == ERROR_HANDLE_EOF ||
           e == ERROR_PIPE_NOT_CONNECTED;
}

/* One overlapped ReadFile/WriteFile of k bytes, waited for. *done gets the
 * count; the Windows error (0 on success) is returned. */
static DWORD io_once(HANDLE h, int write, void *p, DWORD k, DWORD *done, HANDLE ev)
{
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.hEvent = ev;
    ResetEvent(ev);
    *done = 0;
    BOOL ok = write ? WriteFile(h, p, k, NULL, &ov) : ReadFile(h, p, k, NULL, &ov);
    if (!ok) {
        DWORD e = GetLastError();
        /* ERROR_MORE_DATA at once: a message-pipe read that completed with
         * part of a message; the count is in the OVERLAPPED. Any other
         * error: nothing started, so do not wait. */
        if (e != ERROR_IO_PENDING && e != ERROR_MORE_DATA) return e;
    }
    if (!GetOverlappedResult(h, &ov, done, TRUE)) return GetLastError();
    return 0;
}

int mp_os_write_all(mp_os_handle h, const void *buf, size_t n)
{
    int rc = check_handle(h);
    if (rc) return rc;
    if (mp_w32_is_sock(h)) return mp_w32_sock_write_all(h, buf, n);
    if (n == 0) return 0; /* a zero-length write would wake the reader for nothing */
    HANDLE ev = io_event();
    if (!ev) return MP_ESYS;
    const unsigned char *p = buf;
    size_t off = 0;
    while (off < n) {
        DWORD k = n - off > IO_CHUNK ? IO_CHUNK : (DWORD)(n - off);
        DWORD done = 0;
        DWORD e = io_once(mp_w32_h(h), 1, (void *)(uintptr_t)(p + off), k, &done, ev);
        if (e == ERROR_NO_DATA || e == ERROR_BROKEN_PIPE ||
            e == ERROR_PIPE_NOT_CONNECTED) {
            rc = mp_set_error(MP_ECLOSED, "write: the reading end is closed");
            break;
        }
        if (e) {
            rc = mp_w32_fail("WriteFile", e);
            break;
        }
        off += done;
    }
    io_event_done(ev);
    return rc;
}

int mp_os_read(mp_os_handle h, void *buf, size_t n, size_t *got)
{
    *got = 0;
    int rc = check_handle(h);
    if (rc) return rc;
    if (n == 0) return mp_set_error(MP_EINVAL, "read of 0 bytes");
    if (mp_w32_is_sock(h)) return mp_w32_sock_read(h, buf, n, got);
    HANDLE ev = io_event();
    if (!ev) return MP_ESYS;
    DWORD k = n > IO_CHUNK ? IO_CHUNK : (DWORD)n;
    for (;;) {
        DWORD done = 0;
        DWORD e = io_once(mp_w32_h(h), 0, buf, k, &done, ev);
        /* ERROR_MORE_DATA: a message-mode pipe's message goes on; the bytes
         * read are good. */
        if (e == 0 || e == ERROR_MORE_DATA) {
            if (done == 0 && e == 0) continue; /* a zero-length write */
            *got = done;
            break;
        }
        if (!is_eof_error(e)) rc = mp_w32_fail("ReadFile", e);
        break; /* end of file: *got = 0 */
    }
    io_event_done(ev);
    return rc;
}

/* ---- readiness ------------------------------------------------------------- */

static INIT_ONCE empty_once = INIT_ONCE_STATIC_INIT;
static int zero_read_takes_empty;

/* What the system says it is: 6.2 (Windows 8) or later. VerifyVersionInfo
 * is not subject to the compatibility lie about versions above 6.2 that
 * GetVersionEx tells unmanifested programs, and 6.2 is all this asks. */
static int windows8_or_later(void)
{
    OSVERSIONINFOEXW vi;
    memset(&vi, 0, sizeof vi);
    vi.dwOSVersionInfoSize = sizeof vi;
    vi.dwMajorVersion = 6;
    vi.dwMinorVersion = 2;
    DWORDLONG cond = 0;
    cond = VerSetConditionMask(cond, VER_MAJORVERSION, VER_GREATER_EQUAL);
    cond = VerSetConditionMask(cond, VER_MINORVERSION, VER_GREATER_EQUAL);
    return VerifyVersionInfoW(&vi, VER_MAJORVERSION | VER_MINORVERSION, cond) != 0;
}

/* Whether a zero-byte read that meets an empty message takes it: asked of
 * the system itself, once, on a pipe pair of its own: an empty message and
 * "x" are written, a zero-byte read is done, and PeekNamedPipe says how
 * much is left of the current message (1: the read took the empty one;
 * 0: the empty one is still first). CPython decides by the version
 * (Windows 8 and later take it), but Wine 8 takes it while it reports
 * Windows 7, so the version alone would be wrong there. The version is
 * the answer only if the probe cannot run. */
static int probe_empty_taken(void)
{
    HANDLE hs[2];
    int rc = 1;
    for (int attempt = 0; attempt < NAME_ATTEMPTS && rc == 1; attempt++) {
        wchar_t name[80];
        if (pipe_name(name, sizeof name / sizeof name[0])) return -1;
        rc = mp_w32_pipe_pair(1, name, hs);
    }
    if (rc) return -1;
    int taken = -1;
    HANDLE ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (ev) {
        unsigned char x = 'x', dummy = 0;
        DWORD done = 0, avail = 0, left = 0;
        if (io_once(hs[1], 1, &dummy, 0, &done, ev) == 0 &&
            io_once(hs[1], 1, &x, 1, &done, ev) == 0 &&
            io_once(hs[0], 0, &dummy, 0, &done, ev) == 0 &&
            PeekNamedPipe(hs[0], NULL, 0, NULL, &avail, &left))
            taken = left == 1;
        CloseHandle(ev);
    }
    CloseHandle(hs[0]);
    CloseHandle(hs[1]);
    return taken;
}

static BOOL CALLBACK init_empty(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    int taken = probe_empty_taken();
    zero_read_takes_empty = taken >= 0 ? taken : windows8_or_later();
    return TRUE;
}

/* A zero-byte read completed without error: on a byte pipe, data is there
 * (none taken); on a message pipe, an empty message was met, and (on
 * Windows 8 and later, and Wine) taken: 2 tells the core so. */
static int zero_read_done(HANDLE h)
{
    DWORD flags = 0;
    if (!GetNamedPipeInfo(h, &flags, NULL, NULL, NULL) || !(flags & PIPE_TYPE_MESSAGE))
        return 1;
    InitOnceExecuteOnce(&empty_once, init_empty, NULL, NULL);
    return zero_read_takes_empty ? 2 : 1;
}

int mp_w32_zero_read_result(HANDLE h)
{
    return zero_read_done(h);
}

/* Waits on a handle that is not a pipe (a process, an event...). */
static int wait_object(HANDLE h, uint64_t deadline_ns)
{
    for (;;) {
        DWORD ms = mp_w32_timeout_ms(deadline_ns);
        DWORD w = WaitForSingleObject(h, ms);
        if (w == WAIT_OBJECT_0) return 1;
        if (w != WAIT_TIMEOUT) return mp_w32_fail("WaitForSingleObject", GetLastError());
        if (ms == 0 || mp_w32_timeout_ms(deadline_ns) == 0) return 0;
    }
}

/* The overlapped zero-byte read that waits for something to read. */
static int wait_pipe(HANDLE h, uint64_t deadline_ns)
{
    HANDLE ev = io_event();
    if (!ev) return MP_ESYS;
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.hEvent = ev;
    ResetEvent(ev);
    unsigned char dummy;
    int rc;
    if (ReadFile(h, &dummy, 0, NULL, &ov)) {
        rc = zero_read_done(h);
        goto out;
    }
    DWORD e = GetLastError();
    if (e != ERROR_IO_PENDING) {
        /* Completed or failed at once: no I/O is pending, and the event
         * must not be waited on. MORE_DATA: a message is there. */
        if (e == ERROR_MORE_DATA || is_eof_error(e))
            rc = 1;
        else
            rc = mp_w32_fail("ReadFile", e);
        goto out;
    }
    rc = 0;
    for (;;) {
        DWORD ms = mp_w32_timeout_ms(deadline_ns);
        DWORD w = WaitForSingleObject(ev, ms);
        if (w == WAIT_OBJECT_0) break;
        if (w != WAIT_TIMEOUT) {
            rc = mp_w32_fail("WaitForSingleObject", GetLastError());
            break;
        }
        if (ms == 0 || mp_w32_timeout_ms(deadline_ns) == 0) break;
    }
    /* Cancel (a no-op if it completed) and wait until the read is over:
     * the OVERLAPPED lives on this stack. */
    CancelIoEx(h, &ov);
    DWORD n = 0;
    if (GetOverlappedResult(h, &ov, &n, TRUE)) {
        /* Completed, perhaps just before the cancel: what it met counts
         * even if the wait failed (an empty message may have been taken). */
        rc = zero_read_done(h);
    } else {
        e = GetLastError();
        if (e == ERROR_MORE_DATA || is_eof_error(e))
            rc = 1;
        else if (e != ERROR_OPERATION_ABORTED && rc == 0)
            rc = mp_w32_fail("GetOverlappedResult", e);
    }
out:
    io_event_done(ev);
    return rc;
}

int mp_os_poll_readable(mp_os_handle h, uint64_t deadline_ns)
{
    int rc = check_handle(h);
    if (rc) return rc;
    if (mp_w32_is_sock(h)) return mp_w32_sock_poll(h, deadline_ns);
    HANDLE hh = mp_w32_h(h);
    DWORD avail = 0;
    if (PeekNamedPipe(hh, NULL, 0, NULL, &avail, NULL)) {
        if (avail > 0) return 1;
        return wait_pipe(hh, deadline_ns);
    }
    DWORD e = GetLastError();
    if (is_eof_error(e)) return 1;
    /* Not a pipe: Windows says INVALID_FUNCTION or INVALID_PARAMETER, Wine
     * INVALID_HANDLE even for an open event or process handle, and a handle
     * opened only to wait on is denied the look (ACCESS_DENIED);
     * GetHandleInformation tells those from a closed handle. */
    DWORD info;
    if (e != ERROR_INVALID_FUNCTION && e != ERROR_INVALID_PARAMETER &&
        !((e == ERROR_INVALID_HANDLE || e == ERROR_ACCESS_DENIED) &&
          GetHandleInformation(hh, &info)))
        return mp_w32_fail("PeekNamedPipe", e);
    return wait_object(hh, deadline_ns);
}

void mp_os_close(mp_os_handle h)
{
    if (mp_w32_is_sock(h))
        mp_w32_sock_close(h);
    else if (mp_w32_valid(h))
        CloseHandle(mp_w32_h(h));
}

/* ---- message transport ------------------------------------------------------ */

int mp_os_handle_is_message(mp_os_handle h)
{
    if (!mp_w32_valid(h) || mp_w32_is_sock(h)) return 0;
    /* Fails on anything that is not a pipe (and on a pipe handle opened
     * without FILE_READ_ATTRIBUTES, which mp_os_pipe never makes): 0, so
     * that such a handle is framed as a byte stream. */
    DWORD flags = 0;
    if (!GetNamedPipeInfo(mp_w32_h(h), &flags, NULL, NULL, NULL)) return 0;
    return (flags & PIPE_TYPE_MESSAGE) != 0;
}

int mp_os_msg_send(mp_os_handle h, const void *buf, size_t n)
{
    int rc = check_handle(h);
    if (rc) return rc;
#if SIZE_MAX > 0xffffffffu
    if (n > 0xffffffffu)
        return mp_set_error(MP_ETOOBIG,
                            "message of %zu bytes: a pipe message holds at most "
                            "4294967295 bytes",
                            n);
#endif
    HANDLE ev = io_event();
    if (!ev) return MP_ESYS;
    /* One WriteFile for the whole message: the pipe keeps it as one. An
     * empty message is a zero-byte write, which a message pipe delivers. */
    unsigned char dummy = 0;
    void *p = n ? (void *)(uintptr_t)buf : &dummy;
    DWORD done = 0;
    DWORD e = io_once(mp_w32_h(h), 1, p, (DWORD)n, &done, ev);
    io_event_done(ev);
    if (e == ERROR_NO_DATA || e == ERROR_BROKEN_PIPE || e == ERROR_PIPE_NOT_CONNECTED)
        return mp_set_error(MP_ECLOSED, "write: the reading end is closed");
    if (e) return mp_w32_fail("WriteFile", e);
    if (done != (DWORD)n)
        return mp_set_error(MP_ESYS, "WriteFile wrote %lu of %zu bytes of a message",
                            (unsigned long)done, n);
    return 0;
}

int mp_os_msg_recv(mp_os_handle h, void *buf, size_t cap, size_t *got, int *more)
{
    *got = 0;
    *more = 0;
    int rc = check_handle(h);
    if (rc) return rc;
    HANDLE ev = io_event();
    if (!ev) return MP_ESYS;
    unsigned char dummy;
    DWORD k = cap > IO_CHUNK ? IO_CHUNK : (DWORD)cap;
    DWORD done = 0;
    DWORD e = io_once(mp_w32_h(h), 0, k ? buf : &dummy, k, &done, ev);
    io_event_done(ev);
    /* Success with 0 bytes is an empty message, not end of file: in
     * message mode the boundary is the pipe's. */
    if (e == 0 || e == ERROR_MORE_DATA) {
        *got = done;
        *more = e == ERROR_MORE_DATA;
        return 0;
    }
    if (is_eof_error(e)) return mp_set_error(MP_ECLOSED, "end of file");
    return mp_w32_fail("ReadFile", e);
}

int mp_os_msg_left(mp_os_handle h, size_t *left)
{
    *left = 0;
    int rc = check_handle(h);
    if (rc) return rc;
    DWORD avail = 0, rest = 0;
    if (!PeekNamedPipe(mp_w32_h(h), NULL, 0, NULL, &avail, &rest))
        return mp_w32_fail("PeekNamedPipe", GetLastError());
    *left = rest;
    return 0;
}
