/* wait.c - waiting on many handles at once (mp_os_wait_many).
 *
 * Windows has no one call that waits on pipes, sockets and processes
 * together, and WaitForMultipleObjects takes at most 64 objects. So every
 * handle is first turned into something waitable, then the objects are
 * waited on in groups:
 *
 *  - a pipe gets an overlapped zero-byte ReadFile with an event of its
 *    own, which completes when data or end of file arrives without taking
 *    any (as mp_os_poll_readable and CPython's connection.wait() do);
 *  - a socket gets WSAEventSelect(FD_READ | FD_ACCEPT | FD_CLOSE) on an
 *    event, chosen over select()/WSAPoll because it is a kernel event like
 *    the others: one kind of wait covers all handles and can be stopped by
 *    another event, while a select() in a thread could only be woken by a
 *    socket of our own. Its price: WSAEventSelect makes the socket
 *    non-blocking, and the layer wants blocking sockets, so the end of
 *    every wait undoes it (WSAEventSelect(s, NULL, 0), then FIONBIO 0,
 *    which fails while an event is still selected). A send another thread
 *    makes meanwhile may see WSAEWOULDBLOCK, which socket.c already
 *    waits out. A socket has one selection at a time, so two threads
 *    must not wait on the same socket at once, nor accept on a listener
 *    another thread waits on (the accepted socket would inherit the
 *    selection); Python's rule of one thread per Connection end covers
 *    it. After selecting, the socket is looked at once more: whether a
 *    close that came before WSAEventSelect is recorded is not something
 *    to rely on;
 *  - a process handle (or any other waitable object) is waited on as it
 *    is, once even if it is listed twice (WaitForMultipleObjects refuses
 *    the same handle twice in one call).
 *
 * Groups of 63 objects: the calling thread waits on the first, with the
 * deadline and a "done" event; each further group has a worker thread
 * (CreateThread: the workers call nothing of the C runtime) that waits on
 * its objects and a "stop" event without a deadline and sets "done" when
 * one of its objects fires. Threads rather than RegisterWaitForSingleObject
 * (libuv's way): a registration per handle means 500 registrations and
 * 500 blocking unregistrations (each a round trip to a pool thread) per
 * wait, against one thread per 63 handles here, and every thread is ours
 * to join. Up to 63 objects, the usual case, no thread is started at all.
 *
 * When the caller wakes (deadline, "done", its own object), it sets
 * "stop", joins every worker, cancels every read still in flight and waits
 * for it to finish (CancelIoEx, then GetOverlappedResult with wait: the
 * OVERLAPPEDs live in this call's memory), undoes every WSAEventSelect,
 * and only then looks at every handle again with a zero timeout, so that
 * all handles ready at return are reported, not only the one that woke
 * it (CPython's _exhaustive_wait). The same cleanup runs on every path,
 * errors included. A waitable object the wait itself took (an auto-reset
 * event) is counted as ready from the wait's own answer, since a second
 * look would find it reset. A round that finds nothing (a socket event for
 * data another thread took) starts again until the deadline, as the POSIX
 * poll loop does.
 *
 * Fast path: a zero-timeout look at every handle first (PeekNamedPipe,
 * select, WaitForSingleObject), and if anything is ready, return with no
 * I/O, event or thread started. PeekNamedPipe cannot see an empty message
 * on a message pipe, so a wait that finds another handle ready this way
 * does not report it; the zero-byte reads of the first wait that finds
 * nothing else ready do (CPython starts the reads first and sees it every
 * time; here that would cost a read and a cancel per idle pipe on every
 * call).
 *
 * Empty messages: a zero-byte read that completes without error on a
 * message pipe met an empty message, and took it off the pipe or not
 * depending on the system; pipe.c knows which (its probe), and
 * mp_w32_zero_read_result gives its answer: 2 when it was taken, which is
 * reported for that entry so the core hands the message out next. Such a
 * message must not be lost, so when a round both took one and failed, the
 * failure gives way to what was found (the next call meets it again). */
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0601
#endif
#include <winsock2.h>

#include <stdlib.h>
#include <string.h>

#include "w32_socket.h"
#include "win32_util.h"

/* Objects per WaitForMultipleObjects besides "done" or "stop". */
#define GROUP (MAXIMUM_WAIT_OBJECTS - 1)

/* A worker only waits on events; it needs little stack. */
#define WORKER_STACK (64 * 1024)

enum { K_NONE, K_PIPE, K_SOCK, K_OBJ };

enum { NOT_PIPE = 3 };

typedef struct slot {
    OVERLAPPED ov;          /* a pipe's zero-byte read: lives until it is over */
    HANDLE ev;              /* what a pipe's read or a socket's select signals */
    unsigned char kind;     /* K_* */
    unsigned char reading;  /* the read is in flight: cancel and finish it */
    unsigned char selected; /* WSAEventSelect is on: undo it */
    unsigned char ready;    /* found ready already: 1, or 2 (empty message taken) */
    unsigned char buf;      /* the zero-byte read's buffer */
} slot;

/* One WaitForMultipleObjects: obj[0] is "done" (the caller's group) or
 * "stop" (a worker's), obj[k] for k >= 1 belongs to entry who[k]. */
typedef struct group {
    HANDLE obj[MAXIMUM_WAIT_OBJECTS];
    size_t who[MAXIMUM_WAIT_OBJECTS];
    DWORD count;
    DWORD fired; /* index in obj of what ended the wait; 0 if none */
    DWORD err;   /* the wait failed: its error */
    HANDLE done; /* workers set it when one of their objects fires */
    HANDLE thread;
} group;

/* A closed or made-up handle is the caller's mistake, MP_EINVAL, as
 * POLLNVAL is on POSIX; anything else is the system's, MP_ESYS. */
static int fail(const char *what, DWORD e)
{
    int bad = e == ERROR_INVALID_HANDLE || e == WSAENOTSOCK;
    return mp_w32_fail_code(bad ? MP_EINVAL : MP_ESYS, what, e);
}

static int is_eof_error(DWORD e)
{
    return e == ERROR_BROKEN_PIPE || e == ERROR_HANDLE_EOF ||
           e == ERROR_PIPE_NOT_CONNECTED;
}

static SOCKET sock_of(mp_os_handle h)
{
    return (SOCKET)(uintptr_t)(h & ~(mp_os_handle)3);
}

/* ---- zero-timeout looks ------------------------------------------------------ */

/* 1 if the pipe has bytes or end of file to read, 0 if not, NOT_PIPE for a
 * handle that is no pipe, or an error. */
static int peek(HANDLE h)
{
    DWORD avail = 0;
    if (PeekNamedPipe(h, NULL, 0, NULL, &avail, NULL)) return avail > 0;
    DWORD e = GetLastError();
    if (is_eof_error(e)) return 1;
    if (e == ERROR_INVALID_FUNCTION || e == ERROR_INVALID_PARAMETER) return NOT_PIPE;
    /* A handle that is no file (a process, an event) gets the answer a
     * closed one gets under Wine, and one opened only to wait on (the
     * parent's, SYNCHRONIZE) is denied the look; only a closed handle has
     * no handle information. */
    DWORD flags = 0;
    if ((e == ERROR_INVALID_HANDLE || e == ERROR_ACCESS_DENIED) &&
        GetHandleInformation(h, &flags))
        return NOT_PIPE;
    return fail("PeekNamedPipe", e);
}

/* Data, a connection to accept, end of file or an error state: the next
 * recv or accept returns at once, which is what ready means. */
static int sock_look(SOCKET s)
{
    fd_set rd, ex;
    FD_ZERO(&rd);
    FD_ZERO(&ex);
    FD_SET(s, &rd);
    FD_SET(s, &ex);
    struct timeval tv = {0, 0};
    int r = select(0, &rd, NULL, &ex, &tv);
    if (r == SOCKET_ERROR) return fail("select", (DWORD)WSAGetLastError());
    return r > 0;
}

static int object_look(HANDLE h)
{
    DWORD w = WaitForSingleObject(h, 0);
    if (w == WAIT_OBJECT_0 || w == WAIT_ABANDONED) return 1;
    if (w == WAIT_TIMEOUT) return 0;
    return fail("WaitForSingleObject", GetLastError());
}

/* Ready now (1 or 0, or an error), starting no I/O; *kind says what h is. */
static int look(mp_os_handle h, int *kind)
{
    *kind = K_NONE;
    if (h == MP_OS_NO_HANDLE) return 0;
    if (!mp_w32_valid(h))
        return mp_set_error(MP_EINVAL, "invalid handle %lld", (long long)h);
    if (mp_w32_is_sock(h)) {
        *kind = K_SOCK;
        return sock_look(sock_of(h));
    }
    int r = peek(mp_w32_h(h));
    if (r != NOT_PIPE) {
        *kind = K_PIPE;
        return r;
    }
    *kind = K_OBJ;
    return object_look(mp_w32_h(h));
}

static int look_all(const mp_os_handle *h, size_t n, unsigned char *ready)
{
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        int kind;
        int r = look(h[i], &kind);
        if (r < 0) return r;
        ready[i] = (unsigned char)r;
        count += r != 0;
    }
    return count;
}

/* ---- arming and disarming ---------------------------------------------------- */

static int new_event(HANDLE *ev)
{
    *ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    return *ev ? 0 : mp_w32_fail("CreateEventW", GetLastError());
}

static int arm_pipe(slot *s, HANDLE h)
{
    int rc = new_event(&s->ev);
    if (rc) return rc;
    s->ov.hEvent = s->ev;
    if (ReadFile(h, &s->buf, 0, NULL, &s->ov)) {
        s->ready = (unsigned char)mp_w32_zero_read_result(h);
        return 0;
    }
    /* Anything but IO_PENDING: nothing is in flight, and the event must
     * not be waited on. MORE_DATA: a message is there. */
    DWORD e = GetLastError();
    if (e == ERROR_IO_PENDING)
        s->reading = 1;
    else if (e == ERROR_MORE_DATA || is_eof_error(e))
        s->ready = 1;
    else
        return fail("ReadFile", e);
    return 0;
}

static int arm_sock(slot *s, SOCKET sk)
{
    int rc = new_event(&s->ev);
    if (rc) return rc;
    if (WSAEventSelect(sk, s->ev, FD_READ | FD_ACCEPT | FD_CLOSE) == SOCKET_ERROR)
        return fail("WSAEventSelect", (DWORD)WSAGetLastError());
    s->selected = 1;
    rc = sock_look(sk);
    if (rc > 0) s->ready = 1;
    return rc < 0 ? rc : 0;
}

/* Looks at every handle and makes a waitable object of each that is not
 * ready; stops at the first error (disarm_all undoes what was done). */
static int arm_all(const mp_os_handle *h, size_t n, slot *s)
{
    for (size_t i = 0; i < n; i++) {
        int kind;
        int rc = look(h[i], &kind);
        if (rc < 0) return rc;
        s[i].kind = (unsigned char)kind;
        if (rc > 0)
            s[i].ready = 1;
        else if (kind == K_PIPE)
            rc = arm_pipe(&s[i], mp_w32_h(h[i]));
        else if (kind == K_SOCK)
            rc = arm_sock(&s[i], sock_of(h[i]));
        if (rc < 0) return rc;
    }
    return 0;
}

/* Cancels the read and waits until it is over: a read that completed
 * anyway (the race with the cancel) says what it met. */
static int disarm_pipe(slot *s, HANDLE h)
{
    if (!s->reading) return 0;
    CancelIoEx(h, &s->ov); /* fails with ERROR_NOT_FOUND if it completed */
    s->reading = 0;
    DWORD got = 0;
    if (GetOverlappedResult(h, &s->ov, &got, TRUE)) {
        s->ready = (unsigned char)mp_w32_zero_read_result(h);
        return 0;
    }
    DWORD e = GetLastError();
    if (e == ERROR_MORE_DATA || is_eof_error(e))
        s->ready = 1;
    else if (e != ERROR_OPERATION_ABORTED)
        return fail("GetOverlappedResult", e);
    return 0;
}

static int disarm_sock(slot *s, SOCKET sk)
{
    if (!s->selected) return 0;
    s->selected = 0;
    u_long blocking = 0;
    if (WSAEventSelect(sk, NULL, 0) == SOCKET_ERROR)
        return fail("WSAEventSelect(none)", (DWORD)WSAGetLastError());
    if (ioctlsocket(sk, (long)FIONBIO, &blocking) == SOCKET_ERROR)
        return fail("ioctlsocket(FIONBIO)", (DWORD)WSAGetLastError());
    return 0;
}

/* Undoes every arming, also after an error (the first error is kept). */
static int disarm_all(const mp_os_handle *h, size_t n, slot *s)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        int r = 0;
        if (s[i].kind == K_PIPE)
            r = disarm_pipe(&s[i], mp_w32_h(h[i]));
        else if (s[i].kind == K_SOCK)
            r = disarm_sock(&s[i], sock_of(h[i]));
        if (rc == 0) rc = r;
    }
    return rc;
}

/* ---- blocking ---------------------------------------------------------------- */

static void record(group *g, DWORD w)
{
    if (w == WAIT_FAILED) {
        g->err = GetLastError();
        if (!g->err) g->err = ERROR_GEN_FAILURE;
    } else if (w > WAIT_OBJECT_0 && w < WAIT_OBJECT_0 + g->count) {
        g->fired = w - WAIT_OBJECT_0;
    } else if (w > WAIT_ABANDONED_0 && w < WAIT_ABANDONED_0 + g->count) {
        g->fired = w - WAIT_ABANDONED_0;
    }
}

static DWORD WINAPI worker(void *arg)
{
    group *g = arg;
    DWORD w = WaitForMultipleObjects(g->count, g->obj, FALSE, INFINITE);
    record(g, w);
    if (w != WAIT_OBJECT_0) SetEvent(g->done); /* not "stop": wake the caller */
    return 0;
}

/* The object entry i waits on, or NULL. A process handle listed twice is
 * waited on once (the second listing gets its answer from the look). */
static HANDLE waitable(const mp_os_handle *h, const slot *s, size_t i)
{
    if (s[i].kind == K_PIPE && s[i].reading) return s[i].ev;
    if (s[i].kind == K_SOCK && s[i].selected) return s[i].ev;
    if (s[i].kind != K_OBJ || s[i].ready) return NULL;
    for (size_t j = 0; j < i; j++)
        if (s[j].kind == K_OBJ && h[j] == h[i]) return NULL;
    return mp_w32_h(h[i]);
}

/* Spreads the waitable objects over the groups (g[0]: done, others: stop);
 * how many groups are used. */
static size_t fill_groups(const mp_os_handle *h, size_t n, const slot *s, group *g,
                          HANDLE done, HANDLE stop)
{
    size_t ng = 1;
    g[0].obj[0] = done;
    g[0].count = 1;
    for (size_t i = 0; i < n; i++) {
        HANDLE o = waitable(h, s, i);
        if (!o) continue;
        if (g[ng - 1].count == MAXIMUM_WAIT_OBJECTS) {
            g[ng].obj[0] = stop;
            g[ng].count = 1;
            ng++;
        }
        group *cur = &g[ng - 1];
        cur->who[cur->count] = i;
        cur->obj[cur->count++] = o;
    }
    for (size_t k = 0; k < ng; k++)
        g[k].done = done;
    return ng;
}

static void caller_wait(group *g, uint64_t deadline_ns)
{
    for (;;) {
        DWORD ms = mp_w32_timeout_ms(deadline_ns);
        DWORD w = WaitForMultipleObjects(g->count, g->obj, FALSE, ms);
        if (w != WAIT_TIMEOUT) {
            record(g, w);
            return;
        }
        if (ms == 0 || mp_w32_timeout_ms(deadline_ns) == 0) return;
    }
}

/* Starts the workers, waits, stops and joins them all; then notes the
 * objects whose signal a wait took, and the first failure. */
static int run_groups(group *g, size_t ng, slot *s, HANDLE stop, uint64_t deadline_ns)
{
    int rc = 0;
    size_t started = 1;
    for (; started < ng; started++) {
        g[started].thread = CreateThread(NULL, WORKER_STACK, worker, &g[started],
                                         STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
        if (!g[started].thread) {
            rc = mp_w32_fail("CreateThread", GetLastError());
            break;
        }
    }
    if (rc == 0) caller_wait(&g[0], deadline_ns);
    SetEvent(stop);
    for (size_t k = 1; k < started; k++) {
        WaitForSingleObject(g[k].thread, INFINITE);
        CloseHandle(g[k].thread);
    }
    for (size_t k = 0; k < started; k++) {
        if (g[k].err && rc == 0) rc = fail("WaitForMultipleObjects", g[k].err);
        slot *woke = g[k].fired ? &s[g[k].who[g[k].fired]] : NULL;
        if (woke && woke->kind == K_OBJ) woke->ready = 1;
    }
    return rc;
}

/* Waits until an armed handle fires or the deadline. */
static int block(const mp_os_handle *h, size_t n, slot *s, uint64_t deadline_ns)
{
    size_t objs = 0;
    for (size_t i = 0; i < n; i++)
        objs += waitable(h, s, i) != NULL;
    size_t ng = objs / GROUP + 1;
    group *g = calloc(ng, sizeof *g);
    HANDLE done = NULL, stop = NULL;
    int rc = g ? 0 : mp_set_error(MP_ENOMEM, "out of memory to wait on %zu handles", n);
    if (rc == 0) rc = new_event(&done);
    if (rc == 0) rc = new_event(&stop);
    if (rc == 0)
        rc = run_groups(g, fill_groups(h, n, s, g, done, stop), s, stop, deadline_ns);
    if (done) CloseHandle(done);
    if (stop) CloseHandle(stop);
    free(g);
    return rc;
}

/* ---- one round ---------------------------------------------------------------- */

static int any_ready(const slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i].ready) return 1;
    return 0;
}

/* The look after the wait, for an entry the arming or the wait did not
 * already find ready. */
static int final_look(const slot *s, mp_os_handle h)
{
    if (s->kind == K_PIPE) { /* its read was cancelled */
        int r = peek(mp_w32_h(h));
        return r == NOT_PIPE ? 0 : r;
    }
    if (s->kind == K_SOCK) return sock_look(sock_of(h));
    if (s->kind == K_OBJ) return object_look(mp_w32_h(h));
    return 0;
}

/* Fills ready[] from the round; rc is the round's failure so far. */
static int collect(const mp_os_handle *h, size_t n, const slot *s, int rc,
                   unsigned char *ready)
{
    int count = 0, took_empty = 0;
    for (size_t i = 0; i < n; i++) {
        int v = s[i].ready;
        if (!v && rc == 0) {
            v = final_look(&s[i], h[i]);
            if (v < 0) rc = v;
        }
        ready[i] = (unsigned char)(v > 0 ? v : 0);
        count += ready[i] != 0;
        took_empty |= ready[i] == 2;
    }
    if (rc < 0 && !took_empty) {
        memset(ready, 0, n);
        return rc;
    }
    return count;
}

static void close_events(slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i].ev) CloseHandle(s[i].ev);
}

/* Arms every handle, waits unless something is ready or the deadline has
 * passed, disarms, and looks at everything. */
static int wait_round(const mp_os_handle *h, size_t n, uint64_t deadline_ns,
                      unsigned char *ready)
{
    slot *s = calloc(n ? n : 1, sizeof *s);
    if (!s) return mp_set_error(MP_ENOMEM, "out of memory to wait on %zu handles", n);
    int rc = arm_all(h, n, s);
    if (rc == 0 && !any_ready(s, n) && mp_w32_timeout_ms(deadline_ns) != 0)
        rc = block(h, n, s, deadline_ns);
    int undo = disarm_all(h, n, s);
    if (rc == 0) rc = undo;
    rc = collect(h, n, s, rc, ready);
    close_events(s, n);
    free(s);
    return rc;
}

int mp_os_wait_many(const mp_os_handle *h, size_t n, uint64_t deadline_ns,
                    unsigned char *ready)
{
    int rc = look_all(h, n, ready);
    while (rc == 0) {
        rc = wait_round(h, n, deadline_ns, ready);
        if (rc == 0 && mp_w32_timeout_ms(deadline_ns) == 0) break;
    }
    if (rc < 0) memset(ready, 0, n);
    return rc;
}
