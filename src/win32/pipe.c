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
 * pair is made again under a new name. Where FIRST_PIPE_INSTANCE is not
 * enforced (Wine), a squatter allowing many instances could take our
 * client: GetNamedPipeServerProcessId on the client must name this
 * process, and our own instance must report ERROR_PIPE_CONNECTED at once,
 * or the pair is dropped as a collision too. Duplex: PIPE_ACCESS_DUPLEX, both ends
 * read and write. One-way: the server end is PIPE_ACCESS_INBOUND and is
 * h[0], the read end; the client opens GENERIC_WRITE and is h[1] (CPython's
 * Pipe(duplex=False) does the same). Handles are not inheritable; spawn
 * duplicates what a child needs (proc.c).
 *
 * Framing: these pipes are BYTE mode for now, so the core's 4-byte length
 * prefix works unchanged. CPython's PipeConnection uses message mode and no
 * prefix; docs/win32-layer.md has the plan for a message transport.
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
 * poll_readable asks PeekNamedPipe how many bytes wait, sleeping between
 * asks in slices growing from 0 (a yield) to 8 ms, capped at the deadline;
 * a broken pipe counts as readable (a read returns end of file at once).
 * A handle that is not a pipe is waited on as a kernel object. An
 * overlapped zero-byte read with a timed wait and CancelIoEx would wake at
 * once instead; it is left for the message-mode transport. */
#include <stdio.h>
#include <stdlib.h>

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
    DWORD pipe_mode =
        PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS;
    HANDLE server = CreateNamedPipeW(name, open_mode, pipe_mode, 1,
                                     duplex ? PIPE_BUF_SIZE : 0, PIPE_BUF_SIZE, 0, NULL);
    if (server == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        if (e == ERROR_ACCESS_DENIED || e == ERROR_PIPE_BUSY) return 1;
        return mp_w32_fail("CreateNamedPipeW", e);
    }
    /* FILE_READ_ATTRIBUTES on the write-only end: enough to ask the pipe's
     * state (and, later, to switch its read mode). */
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
        if (e != ERROR_IO_PENDING) return e; /* nothing started: do not wait */
    }
    if (!GetOverlappedResult(h, &ov, done, TRUE)) return GetLastError();
    return 0;
}

int mp_os_write_all(mp_os_handle h, const void *buf, size_t n)
{
    int rc = check_handle(h);
    if (rc) return rc;
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

int mp_os_poll_readable(mp_os_handle h, uint64_t deadline_ns)
{
    int rc = check_handle(h);
    if (rc) return rc;
    HANDLE hh = mp_w32_h(h);
    DWORD slice = 0;
    for (;;) {
        DWORD avail = 0;
        if (PeekNamedPipe(hh, NULL, 0, NULL, &avail, NULL)) {
            if (avail > 0) return 1;
        } else {
            DWORD e = GetLastError();
            if (is_eof_error(e)) return 1;
            if (e != ERROR_INVALID_FUNCTION && e != ERROR_INVALID_PARAMETER)
                return mp_w32_fail("PeekNamedPipe", e);
            /* Not a pipe: a process or another waitable object. */
            DWORD w = WaitForSingleObject(hh, mp_w32_timeout_ms(deadline_ns));
            if (w == WAIT_OBJECT_0) return 1;
            if (w == WAIT_TIMEOUT) {
                if (mp_w32_timeout_ms(deadline_ns) == 0) return 0;
                continue;
            }
            return mp_w32_fail("WaitForSingleObject", GetLastError());
        }
        DWORD ms = mp_w32_timeout_ms(deadline_ns);
        if (ms == 0) return 0;
        Sleep(slice < ms ? slice : ms);
        slice = slice == 0 ? 1 : (slice < 8 ? slice * 2 : 8);
    }
}

void mp_os_close(mp_os_handle h)
{
    if (mp_w32_valid(h)) CloseHandle(mp_w32_h(h));
}
