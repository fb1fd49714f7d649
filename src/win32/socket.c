/* socket.c - Listener/Client sockets on Winsock: TCP, and AF_UNIX where
 * Windows has it (Windows 10 1803 and later, <afunix.h>).
 *
 * Winsock is started once per process (InitOnceExecuteOnce around
 * WSAStartup 2.2) by the first call that makes a socket, and never cleaned
 * up: sockets may live until the process ends, and WSACleanup at exit
 * would race with them.
 *
 * Every socket is made with WSA_FLAG_NO_HANDLE_INHERIT (Windows 7 SP1 and
 * later; without it, the flag is cleared with SetHandleInformation) and is
 * overlapped-capable (WSA_FLAG_OVERLAPPED, as socket() makes them) but used
 * blocking, as Python's Connection uses its socket. Accepted sockets get
 * their inherit flag cleared as well (CPython does the same after accept).
 * Windows has no SIGPIPE: a send to a closed peer fails with WSAECONNRESET
 * or WSAECONNABORTED, which is MP_ECLOSED.
 *
 * Handles: a socket travels as (SOCKET | 1), see w32_socket.h, so that
 * mp_os_read / mp_os_write_all / mp_os_poll_readable / mp_os_close
 * (pipe.c) pass it here.
 *
 * Address reuse: CPython's SocketListener sets SO_REUSEADDR only on POSIX.
 * On Windows SO_REUSEADDR means something else (another socket may bind
 * the same port and take connections), so it is not set, and neither is
 * SO_EXCLUSIVEADDRUSE: with it, a port whose old connections are still in
 * TIME_WAIT could not be bound again at once, which the POSIX meaning of
 * SO_REUSEADDR promises. The default, as in CPython, binds a port held
 * only by connections in TIME_WAIT, and since Windows Server 2003 no
 * other user's socket can take a port bound without SO_REUSEADDR.
 *
 * AF_UNIX: the path is UTF-8 in sockaddr_un (Windows reads it as UTF-8),
 * at most 107 bytes. Wine 8 has no AF_UNIX sockets (socket() fails with
 * WSAEAFNOSUPPORT), nor has Windows before 10 1803: both are
 * MP_EUNSUPPORTED with a message that says so. close removes the socket
 * file only while it is still the one this listener bound (same volume and
 * file index, recorded at bind). */
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0601
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
/* The same layout is in the Windows SDK's afunix.h (10.0.17063+) and in
 * MinGW-w64's; defined here if an older SDK lacks it. */
#if defined(__has_include)
#if __has_include(<afunix.h>)
#include <afunix.h>
#define MP_HAVE_AFUNIX_H 1
#endif
#endif
#ifndef MP_HAVE_AFUNIX_H
#define UNIX_PATH_MAX 108
typedef struct sockaddr_un {
    ADDRESS_FAMILY sun_family;
    char sun_path[UNIX_PATH_MAX];
} SOCKADDR_UN;
#endif
#ifndef AF_UNIX
#define AF_UNIX 1
#endif
#ifndef WSA_FLAG_NO_HANDLE_INHERIT
#define WSA_FLAG_NO_HANDLE_INHERIT 0x80
#endif

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "w32_socket.h"
#include "win32_util.h"

/* send/recv take an int count. */
#define SOCK_CHUNK ((size_t)1 << 30)

struct mp_os_listener {
    SOCKET s;
    int port; /* 0 for AF_UNIX */
    /* AF_UNIX: the path bound and which file it was. */
    wchar_t *wpath;
    int have_id;
    DWORD volume, index_hi, index_lo;
};

/* ---- Winsock, handles ------------------------------------------------------ */

static INIT_ONCE wsa_once = INIT_ONCE_STATIC_INIT;
static int wsa_error;

static BOOL CALLBACK init_wsa(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    WSADATA wd;
    wsa_error = WSAStartup(MAKEWORD(2, 2), &wd);
    return TRUE;
}

static int wsa_start(void)
{
    InitOnceExecuteOnce(&wsa_once, init_wsa, NULL, NULL);
    if (wsa_error) return mp_w32_fail("WSAStartup", (DWORD)wsa_error);
    return 0;
}

static int wsa_fail(const char *what)
{
    return mp_w32_fail(what, (DWORD)WSAGetLastError());
}

static SOCKET sock_of(mp_os_handle h)
{
    return (SOCKET)(uintptr_t)(h & ~(mp_os_handle)3);
}

/* Marks a SOCKET as one (w32_socket.h); MP_ESYS, closing it, if its value
 * cannot carry the mark (not a kernel handle: a non-IFS provider's). */
static int sock_handle(SOCKET s, mp_os_handle *h)
{
    mp_os_handle v = (mp_os_handle)(uintptr_t)s;
    if ((v & 3) != 0) {
        closesocket(s);
        return mp_set_error(MP_ESYS,
                            "socket %lld is not a kernel handle (a layered "
                            "Winsock provider?); mproc cannot use it",
                            (long long)v);
    }
    *h = v | MP_W32_SOCK_TAG;
    return 0;
}

/* A new stream socket of the family, not inheritable. INVALID_SOCKET with
 * the Winsock error in *err on failure. */
static SOCKET new_socket(int family, int *err)
{
    int proto = family == AF_UNIX ? 0 : IPPROTO_TCP;
    SOCKET s = WSASocketW(family, SOCK_STREAM, proto, NULL, 0,
                          WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET && WSAGetLastError() == WSAEINVAL) {
        /* Windows 7 before SP1 does not know the flag. */
        s = WSASocketW(family, SOCK_STREAM, proto, NULL, 0, WSA_FLAG_OVERLAPPED);
        if (s != INVALID_SOCKET &&
            !SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0)) {
            *err = (int)GetLastError();
            closesocket(s);
            return INVALID_SOCKET;
        }
    }
    if (s == INVALID_SOCKET) *err = WSAGetLastError();
    return s;
}

static int socket_fail(int family, int err)
{
    if (family == AF_UNIX && err == WSAEAFNOSUPPORT)
        return mp_set_error(MP_EUNSUPPORTED,
                            "AF_UNIX sockets need Windows 10 1803 or later; this "
                            "system has none (Wine 8 has none either)");
    return mp_w32_fail(family == AF_UNIX ? "socket(AF_UNIX)" : "socket", (DWORD)err);
}

/* ---- I/O on marked handles (called by pipe.c) --------------------------------- */

static int is_closed_error(int e)
{
    return e == WSAECONNRESET || e == WSAECONNABORTED || e == WSAESHUTDOWN ||
           e == WSAENOTCONN || e == WSAENETRESET;
}

/* select() on one socket for reading or writing until the deadline. */
static int sock_wait(SOCKET s, int write, uint64_t deadline_ns)
{
    for (;;) {
        DWORD ms = mp_w32_timeout_ms(deadline_ns);
        fd_set set, err;
        FD_ZERO(&set);
        FD_ZERO(&err);
        FD_SET(s, &set);
        FD_SET(s, &err);
        struct timeval tv;
        tv.tv_sec = (long)(ms / 1000);
        tv.tv_usec = (long)(ms % 1000) * 1000;
        int r = select(0, write ? NULL : &set, write ? &set : NULL, &err,
                       ms == INFINITE ? NULL : &tv);
        if (r == SOCKET_ERROR) return wsa_fail("select");
        /* An error condition (a failed connection) makes the next recv or
         * send report it at once: readable/writable as far as waiting goes. */
        if (r > 0) return 1;
        if (ms == 0 || mp_w32_timeout_ms(deadline_ns) == 0) return 0;
    }
}

int mp_w32_sock_write_all(mp_os_handle h, const void *buf, size_t n)
{
    SOCKET s = sock_of(h);
    const char *p = buf;
    while (n > 0) {
        int k = (int)(n < SOCK_CHUNK ? n : SOCK_CHUNK);
        int w = send(s, p, k, 0);
        if (w == SOCKET_ERROR) {
            int e = WSAGetLastError();
            if (e == WSAEINTR) continue;
            if (e == WSAEWOULDBLOCK) { /* only if someone made it non-blocking */
                int rc = sock_wait(s, 1, MP_NO_DEADLINE);
                if (rc < 0) return rc;
                continue;
            }
            if (is_closed_error(e))
                return mp_set_error(MP_ECLOSED, "write: the reading end is closed");
            return mp_w32_fail("send", (DWORD)e);
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int mp_w32_sock_read(mp_os_handle h, void *buf, size_t n, size_t *got)
{
    SOCKET s = sock_of(h);
    *got = 0;
    int k = (int)(n < SOCK_CHUNK ? n : SOCK_CHUNK);
    for (;;) {
        int r = recv(s, buf, k, 0);
        if (r >= 0) {
            *got = (size_t)r; /* 0: end of file */
            return 0;
        }
        int e = WSAGetLastError();
        if (e == WSAEINTR) continue;
        if (e == WSAEWOULDBLOCK) {
            int rc = sock_wait(s, 0, MP_NO_DEADLINE);
            if (rc < 0) return rc;
            continue;
        }
        /* A peer that closed with unread data resets the connection:
         * end of file, as on POSIX. */
        if (is_closed_error(e)) return 0;
        return mp_w32_fail("recv", (DWORD)e);
    }
}

int mp_w32_sock_poll(mp_os_handle h, uint64_t deadline_ns)
{
    return sock_wait(sock_of(h), 0, deadline_ns);
}

void mp_w32_sock_close(mp_os_handle h)
{
    closesocket(sock_of(h));
}

/* ---- listening ---------------------------------------------------------------- */

static int listener_new(mp_os_listener **l, SOCKET s)
{
    /* mp_os_listener_handle marks it like any socket (w32_socket.h). */
    if (((uintptr_t)s & 3) != 0) {
        closesocket(s);
        return mp_set_error(MP_ESYS, "listening socket is not a kernel handle (a "
                                     "layered Winsock provider?); mproc cannot use it");
    }
    *l = calloc(1, sizeof **l);
    if (!*l) {
        closesocket(s);
        return mp_set_error(MP_ENOMEM, "out of memory for a listener");
    }
    (*l)->s = s;
    return 0;
}

/* Fills an AF_UNIX address; MP_EINVAL if the path does not fit. Core
 * refused an empty path. */
static int unix_addr(const char *path, struct sockaddr_un *sa)
{
    size_t n = strlen(path);
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (n >= sizeof sa->sun_path)
        return mp_set_error(MP_EINVAL,
                            "AF_UNIX path of %zu bytes is too long: this system allows "
                            "at most %zu",
                            n, sizeof sa->sun_path - 1);
    memcpy(sa->sun_path, path, n + 1);
    return 0;
}

/* The identity of the file at wpath (the socket file, not what a reparse
 * point leads to); 0 if it cannot be read. */
static int file_id(const wchar_t *wpath, DWORD *volume, DWORD *hi, DWORD *lo)
{
    HANDLE f = CreateFileW(
        wpath, FILE_READ_ATTRIBUTES,
        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
        FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, NULL);
    if (f == INVALID_HANDLE_VALUE) return 0;
    BY_HANDLE_FILE_INFORMATION fi;
    int ok = GetFileInformationByHandle(f, &fi) != 0;
    CloseHandle(f);
    if (!ok) return 0;
    *volume = fi.dwVolumeSerialNumber;
    *hi = fi.nFileIndexHigh;
    *lo = fi.nFileIndexLow;
    return 1;
}

int mp_os_listen_unix(mp_os_listener **l, const char *path, int backlog)
{
    *l = NULL;
    struct sockaddr_un sa;
    int rc = unix_addr(path, &sa);
    if (rc < 0) return rc;
    rc = wsa_start();
    if (rc < 0) return rc;
    wchar_t *wpath = NULL;
    rc = mp_w32_to_wide(path, &wpath);
    if (rc < 0) return rc;
    int err = 0;
    SOCKET s = new_socket(AF_UNIX, &err);
    if (s == INVALID_SOCKET) {
        free(wpath);
        return socket_fail(AF_UNIX, err);
    }
    if (bind(s, (const struct sockaddr *)&sa, (int)sizeof sa) == SOCKET_ERROR) {
        int e = WSAGetLastError();
        closesocket(s);
        free(wpath);
        char what[300];
        snprintf(what, sizeof what, "bind %s", path);
        return mp_w32_fail(what, (DWORD)e);
    }
    DWORD vol = 0, hi = 0, lo = 0;
    int have = file_id(wpath, &vol, &hi, &lo);
    if (listen(s, backlog) == SOCKET_ERROR) {
        int e = WSAGetLastError();
        closesocket(s);
        if (have) DeleteFileW(wpath);
        free(wpath);
        return mp_w32_fail("listen", (DWORD)e);
    }
    rc = listener_new(l, s);
    if (rc < 0) {
        if (have) DeleteFileW(wpath);
        free(wpath);
        return rc;
    }
    (*l)->wpath = wpath;
    (*l)->have_id = have;
    (*l)->volume = vol;
    (*l)->index_hi = hi;
    (*l)->index_lo = lo;
    return 0;
}

struct mp_os_addrs {
    ADDRINFOW *res;
    size_t count;
    int port;
    char host[]; /* for messages */
};

/* GetAddrInfoW: the host is UTF-8 at the API; the ANSI getaddrinfo would
 * read it in the machine's code page. */
static int get_addr_info(const char *host, int port, int passive, ADDRINFOW **res)
{
    wchar_t service[16];
    _snwprintf(service, sizeof service / sizeof service[0], L"%d", port);
    service[15] = L'\0';
    wchar_t *whost = NULL;
    const char *node = *host ? host : (passive ? NULL : "localhost");
    int rc = node ? mp_w32_to_wide(node, &whost) : 0;
    if (rc < 0) return rc;
    ADDRINFOW hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    int g = GetAddrInfoW(whost, service, &hints, res);
    free(whost);
    if (g != 0) {
        char what[300];
        snprintf(what, sizeof what, "getaddrinfo %s", host);
        return mp_w32_fail(what, (DWORD)g);
    }
    return 0;
}

int mp_os_resolve_tcp(mp_os_addrs **out, const char *host, int port, int passive)
{
    size_t hostlen = strlen(host);
    mp_os_addrs *a = NULL;
    int rc = wsa_start();
    if (rc < 0) goto cleanup;
    if (!(a = calloc(1, sizeof *a + hostlen + 1))) {
        rc = mp_set_error(MP_ENOMEM, "out of memory for an address");
        goto cleanup;
    }
    memcpy(a->host, host, hostlen + 1);
    a->port = port;
    if ((rc = get_addr_info(host, port, passive, &a->res)) < 0) goto cleanup;
    for (const ADDRINFOW *ai = a->res; ai; ai = ai->ai_next)
        a->count++;
cleanup:
    if (rc < 0) {
        mp_os_addrs_free(a);
        a = NULL;
    }
    *out = a;
    return rc;
}

static const ADDRINFOW *addr_at(const mp_os_addrs *a, size_t i)
{
    const ADDRINFOW *ai = a->res;
    while (ai && i-- > 0)
        ai = ai->ai_next;
    return ai;
}

size_t mp_os_addrs_count(const mp_os_addrs *a)
{
    return a->count;
}

int mp_os_addrs_family(const mp_os_addrs *a, size_t i)
{
    const ADDRINFOW *ai = addr_at(a, i);
    if (ai && ai->ai_family == AF_INET) return 4;
    if (ai && ai->ai_family == AF_INET6) return 6;
    return 0;
}

void mp_os_addrs_free(mp_os_addrs *a)
{
    if (!a) return;
    if (a->res) FreeAddrInfoW(a->res);
    free(a);
}

static int bound_port(SOCKET s, int *port)
{
    struct sockaddr_storage ss;
    int len = (int)sizeof ss;
    if (getsockname(s, (struct sockaddr *)&ss, &len) == SOCKET_ERROR)
        return wsa_fail("getsockname");
    if (ss.ss_family == AF_INET)
        *port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    else if (ss.ss_family == AF_INET6)
        *port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    else
        return mp_set_error(MP_ESYS, "getsockname: unexpected family %d", ss.ss_family);
    return 0;
}

static int listen_on(const ADDRINFOW *ai, int backlog, SOCKET *out)
{
    int err = 0;
    SOCKET s = new_socket(ai->ai_family, &err);
    if (s == INVALID_SOCKET) return socket_fail(ai->ai_family, err);
    const char *what = NULL;
    if (bind(s, ai->ai_addr, (int)ai->ai_addrlen) == SOCKET_ERROR)
        what = "bind";
    else if (listen(s, backlog) == SOCKET_ERROR)
        what = "listen";
    if (what) {
        int e = WSAGetLastError();
        closesocket(s);
        return mp_w32_fail(what, (DWORD)e);
    }
    *out = s;
    return 0;
}

int mp_os_listen_tcp(mp_os_listener **l, const mp_os_addrs *a, size_t i, int backlog)
{
    *l = NULL;
    SOCKET s = INVALID_SOCKET;
    int bp = 0;
    int rc = listen_on(addr_at(a, i), backlog, &s);
    if (rc == 0) rc = bound_port(s, &bp);
    if (rc < 0) {
        if (s != INVALID_SOCKET) closesocket(s);
        return rc;
    }
    rc = listener_new(l, s);
    if (rc == 0) (*l)->port = bp;
    return rc;
}

int mp_os_listener_port(const mp_os_listener *l)
{
    return l ? l->port : 0;
}

mp_os_handle mp_os_listener_handle(const mp_os_listener *l)
{
    if (!l) return MP_OS_NO_HANDLE;
    /* listener_new checked that the value can carry the mark. */
    return (mp_os_handle)(uintptr_t)l->s | MP_W32_SOCK_TAG;
}

int mp_os_accept(mp_os_listener *l, mp_os_handle *h)
{
    *h = MP_OS_NO_HANDLE;
    for (;;) {
        SOCKET s = accept(l->s, NULL, NULL);
        if (s == INVALID_SOCKET) {
            int e = WSAGetLastError();
            /* A client that gave up between connect and accept; the next
             * one is what the caller wants (as on POSIX). */
            if (e == WSAEINTR || e == WSAECONNRESET || e == WSAECONNABORTED) continue;
            if (e == WSAEWOULDBLOCK) {
                int rc = sock_wait(l->s, 0, MP_NO_DEADLINE);
                if (rc < 0) return rc;
                continue;
            }
            return mp_w32_fail("accept", (DWORD)e);
        }
        /* Whether accept() copies WSA_FLAG_NO_HANDLE_INHERIT is not
         * documented: clear the flag explicitly, as CPython does. */
        if (!SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0)) {
            DWORD e = GetLastError();
            closesocket(s);
            return mp_w32_fail("SetHandleInformation(accepted socket)", e);
        }
        /* A listener someone made non-blocking hands out non-blocking
         * sockets; Connection wants a blocking one. */
        u_long off = 0;
        if (ioctlsocket(s, (long)FIONBIO, &off) == SOCKET_ERROR) {
            int e = WSAGetLastError();
            closesocket(s);
            return mp_w32_fail("ioctlsocket(FIONBIO)", (DWORD)e);
        }
        return sock_handle(s, h);
    }
}

void mp_os_listener_close(mp_os_listener *l)
{
    if (!l) return;
    closesocket(l->s);
    if (l->wpath && l->have_id) {
        /* Windows has no fork, so the process that bound the path is
         * this one; the file must still be the one we bound. */
        DWORD vol = 0, hi = 0, lo = 0;
        if (file_id(l->wpath, &vol, &hi, &lo) && vol == l->volume && hi == l->index_hi &&
            lo == l->index_lo)
            DeleteFileW(l->wpath);
    }
    free(l->wpath);
    free(l);
}

/* ---- connecting ----------------------------------------------------------------- */

int mp_os_connect_unix(const char *path, mp_os_handle *h)
{
    *h = MP_OS_NO_HANDLE;
    struct sockaddr_un sa;
    int rc = unix_addr(path, &sa);
    if (rc < 0) return rc;
    rc = wsa_start();
    if (rc < 0) return rc;
    int err = 0;
    SOCKET s = new_socket(AF_UNIX, &err);
    if (s == INVALID_SOCKET) return socket_fail(AF_UNIX, err);
    if (connect(s, (const struct sockaddr *)&sa, (int)sizeof sa) == SOCKET_ERROR) {
        int e = WSAGetLastError();
        closesocket(s);
        char what[300];
        snprintf(what, sizeof what, "connect %s", path);
        return mp_w32_fail(what, (DWORD)e);
    }
    return sock_handle(s, h);
}

int mp_os_connect_tcp(const mp_os_addrs *a, size_t i, mp_os_handle *h)
{
    *h = MP_OS_NO_HANDLE;
    const ADDRINFOW *ai = addr_at(a, i);
    int e = 0;
    SOCKET s = new_socket(ai->ai_family, &e);
    if (s != INVALID_SOCKET &&
        connect(s, ai->ai_addr, (int)ai->ai_addrlen) == SOCKET_ERROR) {
        e = WSAGetLastError();
        closesocket(s);
        s = INVALID_SOCKET;
    }
    if (s == INVALID_SOCKET) {
        char what[300];
        snprintf(what, sizeof what, "connect %s:%d", a->host, a->port);
        return mp_w32_fail(what, (DWORD)e);
    }
    return sock_handle(s, h);
}
