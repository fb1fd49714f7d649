/* socket.c - listening and connecting stream sockets (AF_UNIX and TCP) for
 * Listener and Client.
 *
 * Every socket is close-on-exec from birth where the OS allows it
 * (SOCK_CLOEXEC, accept4) and right after creation otherwise, and carries
 * SO_NOSIGPIPE where that exists (macOS, FreeBSD: accepted sockets do not
 * reliably inherit it, so it is set on each); on Linux the write path
 * uses send(MSG_NOSIGNAL) (pipe.c). The sockets stay blocking, as
 * Python's Connection expects of the descriptor it wraps. */
#define _GNU_SOURCE
#include "mp_posix_config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include "posix_util.h"

struct mp_os_listener {
    int fd;
    int port; /* 0 for AF_UNIX */
    /* AF_UNIX: the path bound, and which file it was, so that close removes
     * it only while it is still ours (someone may have replaced it). */
    char *path;
    dev_t dev;
    ino_t ino;
    int have_ino;
    pid_t owner; /* the process that bound the path */
};

/* A new socket of the family, close-on-exec and SIGPIPE-free; -1 with
 * errno set on failure. */
static int new_socket(int family)
{
    int type = SOCK_STREAM;
#if MP_HAVE_SOCK_CLOEXEC
    type |= SOCK_CLOEXEC;
#endif
    int fd = socket(family, type, 0);
    if (fd < 0) return -1;
#if !MP_HAVE_SOCK_CLOEXEC
    if (mp_px_cloexec(fd) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
#endif
#if MP_HAVE_SO_NOSIGPIPE
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
#endif
    return fd;
}

/* Fills an AF_UNIX address; MP_EINVAL if the path does not fit (the size
 * of sun_path differs between systems). Core refused an empty path. */
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

static int listener_new(mp_os_listener **l, int fd)
{
    *l = calloc(1, sizeof **l);
    if (!*l) {
        close(fd);
        return mp_set_error(MP_ENOMEM, "out of memory for a listener");
    }
    (*l)->fd = fd;
    (*l)->owner = getpid();
    return 0;
}

int mp_os_listen_unix(mp_os_listener **l, const char *path, int backlog)
{
    *l = NULL;
    struct sockaddr_un sa;
    int rc = unix_addr(path, &sa);
    if (rc < 0) return rc;
    char *copy = strdup(path);
    if (!copy) return mp_set_error(MP_ENOMEM, "out of memory for a listener");
    int fd = new_socket(AF_UNIX);
    if (fd < 0) {
        free(copy);
        return mp_px_fail("socket(AF_UNIX)", errno);
    }
    if (bind(fd, (const struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        free(copy);
        return mp_set_error(MP_ESYS, "bind %s: %s", path, strerror(e));
    }
    /* Identify the file now, before anyone can swap it. */
    struct stat st;
    int have = lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
    if (listen(fd, backlog) < 0) {
        int e = errno;
        close(fd);
        if (have) unlink(path);
        free(copy);
        return mp_px_fail("listen", e);
    }
    rc = listener_new(l, fd);
    if (rc < 0) {
        if (have) unlink(path);
        free(copy);
        return rc;
    }
    (*l)->path = copy;
    (*l)->have_ino = have;
    if (have) {
        (*l)->dev = st.st_dev;
        (*l)->ino = st.st_ino;
    }
    return 0;
}

struct mp_os_addrs {
    struct addrinfo *res;
    size_t count;
    int port;
    char host[]; /* for messages */
};

int mp_os_resolve_tcp(mp_os_addrs **out, const char *host, int port, int passive)
{
    size_t hostlen = strlen(host);
    mp_os_addrs *a = calloc(1, sizeof *a + hostlen + 1);
    int rc = 0;
    if (!a) {
        rc = mp_set_error(MP_ENOMEM, "out of memory for an address");
        goto cleanup;
    }
    memcpy(a->host, host, hostlen + 1);
    a->port = port;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    const char *node = *host ? host : (passive ? NULL : "localhost");
    int g = getaddrinfo(node, service, &hints, &a->res);
    if (g == EAI_SYSTEM) {
        rc = mp_px_fail("getaddrinfo", errno);
    } else if (g != 0) {
        rc = mp_set_error(MP_ESYS, "getaddrinfo %s: %s", host, gai_strerror(g));
    }
    for (const struct addrinfo *ai = rc == 0 ? a->res : NULL; ai; ai = ai->ai_next)
        a->count++;
cleanup:
    if (rc < 0) {
        mp_os_addrs_free(a);
        a = NULL;
    }
    *out = a;
    return rc;
}

static const struct addrinfo *addr_at(const mp_os_addrs *a, size_t i)
{
    const struct addrinfo *ai = a->res;
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
    const struct addrinfo *ai = addr_at(a, i);
    if (ai && ai->ai_family == AF_INET) return 4;
    if (ai && ai->ai_family == AF_INET6) return 6;
    return 0;
}

void mp_os_addrs_free(mp_os_addrs *a)
{
    if (!a) return;
    if (a->res) freeaddrinfo(a->res);
    free(a);
}

/* The port a bound socket got. */
static int bound_port(int fd, int *port)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return mp_px_fail("getsockname", errno);
    if (ss.ss_family == AF_INET)
        *port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    else if (ss.ss_family == AF_INET6)
        *port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    else
        return mp_set_error(MP_ESYS, "getsockname: unexpected family %d", ss.ss_family);
    return 0;
}

static int listen_on(const struct addrinfo *ai, int backlog, int *fd_out)
{
    int fd = new_socket(ai->ai_family);
    if (fd < 0) return mp_px_fail("socket", errno);
    /* Python sets SO_REUSEADDR on POSIX so a restarted server can bind
     * while old connections sit in TIME_WAIT. */
    int on = 1;
    const char *what = NULL;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0)
        what = "setsockopt(SO_REUSEADDR)";
    else if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        what = "bind";
    else if (listen(fd, backlog) < 0)
        what = "listen";
    if (what) {
        int e = errno;
        close(fd);
        return mp_px_fail(what, e);
    }
    *fd_out = fd;
    return 0;
}

int mp_os_listen_tcp(mp_os_listener **l, const mp_os_addrs *a, size_t i, int backlog)
{
    *l = NULL;
    int fd = -1, bp = 0;
    int rc = listen_on(addr_at(a, i), backlog, &fd);
    if (rc == 0) rc = bound_port(fd, &bp);
    if (rc < 0) {
        if (fd >= 0) close(fd);
        return rc;
    }
    rc = listener_new(l, fd);
    if (rc == 0) (*l)->port = bp;
    return rc;
}

int mp_os_listener_port(const mp_os_listener *l)
{
    return l ? l->port : 0;
}

mp_os_handle mp_os_listener_handle(const mp_os_listener *l)
{
    return l ? (mp_os_handle)l->fd : MP_OS_NO_HANDLE;
}

int mp_os_accept(mp_os_listener *l, mp_os_handle *h)
{
    *h = MP_OS_NO_HANDLE;
    for (;;) {
#if MP_HAVE_ACCEPT4
        int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
#else
        int fd = accept(l->fd, NULL, NULL);
#endif
        if (fd < 0) {
            /* ECONNABORTED: a client gave up between connect and accept;
             * Python's accept would raise, but nothing is wrong with the
             * listener, and the next client is what the caller wants.
             * EAGAIN: only if someone made the socket non-blocking. */
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                int prc = mp_os_poll_readable(l->fd, MP_NO_DEADLINE);
                if (prc < 0) return prc;
                continue;
            }
            return mp_px_fail("accept", errno);
        }
        const char *what = NULL;
#if !MP_HAVE_ACCEPT4
        if (mp_px_cloexec(fd) < 0) what = "fcntl(FD_CLOEXEC)";
#endif
#if MP_HAVE_SO_NOSIGPIPE
        int on = 1;
        if (!what && setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) < 0)
            what = "setsockopt(SO_NOSIGPIPE)";
#endif
        /* BSDs hand out accepted sockets with the listener's O_NONBLOCK;
         * Connection wants a blocking one (Python calls setblocking(True)). */
        if (!what) {
            int fl = fcntl(fd, F_GETFL);
            if (fl < 0 || ((fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0))
                what = "fcntl(O_NONBLOCK)";
        }
        if (what) {
            int e = errno;
            close(fd);
            return mp_px_fail(what, e);
        }
        *h = fd;
        return 0;
    }
}

void mp_os_listener_close(mp_os_listener *l)
{
    if (!l) return;
    close(l->fd);
    if (l->path && l->have_ino && l->owner == getpid()) {
        struct stat st;
        if (lstat(l->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == l->dev &&
            st.st_ino == l->ino)
            unlink(l->path);
    }
    free(l->path);
    free(l);
}

/* connect() that survives EINTR: the connection attempt goes on in the
 * kernel, so wait for it to finish and read its outcome (calling connect
 * again would give EALREADY). Returns 0 or an errno value. */
static int connect_fd(int fd, const struct sockaddr *sa, socklen_t len)
{
    if (connect(fd, sa, len) == 0) return 0;
    if (errno != EINTR && errno != EINPROGRESS) return errno;
    struct pollfd pfd = {.fd = fd, .events = POLLOUT, .revents = 0};
    while (poll(&pfd, 1, -1) < 0)
        if (errno != EINTR) return errno;
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0) return errno;
    return err;
}

int mp_os_connect_unix(const char *path, mp_os_handle *h)
{
    *h = MP_OS_NO_HANDLE;
    struct sockaddr_un sa;
    int rc = unix_addr(path, &sa);
    if (rc < 0) return rc;
    int fd = new_socket(AF_UNIX);
    if (fd < 0) return mp_px_fail("socket(AF_UNIX)", errno);
    int e = connect_fd(fd, (const struct sockaddr *)&sa, sizeof sa);
    if (e) {
        close(fd);
        return mp_set_error(MP_ESYS, "connect %s: %s", path, strerror(e));
    }
    *h = fd;
    return 0;
}

int mp_os_connect_tcp(const mp_os_addrs *a, size_t i, mp_os_handle *h)
{
    *h = MP_OS_NO_HANDLE;
    const struct addrinfo *ai = addr_at(a, i);
    int fd = new_socket(ai->ai_family);
    int e = fd < 0 ? errno : connect_fd(fd, ai->ai_addr, ai->ai_addrlen);
    if (e) {
        if (fd >= 0) close(fd);
        return mp_set_error(MP_ESYS, "connect %s:%d: %s", a->host, a->port, strerror(e));
    }
    /* Python's Connection sends small messages whole (header + payload in
     * one write), so Nagle does not hurt it; neither does it here (conn.c
     * does the same). Left at the default, as Python leaves it. */
    *h = fd;
    return 0;
}
