/* pipe.c - pipes, byte I/O on handles, readiness.
 *
 * A duplex pipe is a socketpair(AF_UNIX, SOCK_STREAM) and a one-way pipe a
 * pipe(), as in Python, so a Python Connection can sit on either end. All
 * fds are close-on-exec from birth where the OS allows (SOCK_CLOEXEC,
 * pipe2) and right after otherwise.
 *
 * Writing to a pipe whose reader is gone raises SIGPIPE, which kills a
 * program that did not ask for it. Sockets are written with
 * send(MSG_NOSIGNAL) (SO_NOSIGPIPE is set on them where that exists); for
 * pipes, and where MSG_NOSIGNAL is missing, SIGPIPE is blocked in the
 * calling thread around write(), and a SIGPIPE that write raised is taken
 * back with sigtimedwait before the mask is restored: the caller sees
 * MP_ECLOSED and nothing else. A SIGPIPE that was already pending before
 * the write belongs to someone else and is left alone. */
#define _GNU_SOURCE
#include "mp_posix_config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "posix_util.h"

int mp_px_pipe_cloexec(int fds[2])
{
#if MP_HAVE_PIPE2
    return pipe2(fds, O_CLOEXEC);
#else
    if (pipe(fds) < 0) return -1;
    if (mp_px_cloexec(fds[0]) < 0 || mp_px_cloexec(fds[1]) < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        errno = e;
        return -1;
    }
    return 0;
#endif
}

int mp_os_pipe(int duplex, mp_os_handle h[2])
{
    int fds[2];
    h[0] = h[1] = MP_OS_NO_HANDLE;
    if (duplex) {
        int type = SOCK_STREAM;
#if MP_HAVE_SOCK_CLOEXEC
        type |= SOCK_CLOEXEC;
#endif
        if (socketpair(AF_UNIX, type, 0, fds) < 0) return mp_px_fail("socketpair", errno);
        const char *what = NULL;
#if !MP_HAVE_SOCK_CLOEXEC
        if (mp_px_cloexec(fds[0]) < 0 || mp_px_cloexec(fds[1]) < 0)
            what = "fcntl(FD_CLOEXEC)";
#endif
#if MP_HAVE_SO_NOSIGPIPE
        int on = 1;
        if (!what && (setsockopt(fds[0], SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) < 0 ||
                      setsockopt(fds[1], SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on) < 0))
            what = "setsockopt(SO_NOSIGPIPE)";
#endif
        if (what) {
            int e = errno;
            close(fds[0]);
            close(fds[1]);
            return mp_px_fail(what, e);
        }
    } else if (mp_px_pipe_cloexec(fds) < 0) {
        return mp_px_fail("pipe", errno);
    }
    h[0] = fds[0];
    h[1] = fds[1];
    return 0;
}

static int check_handle(mp_os_handle h)
{
    if (h < 0 || h > INT_MAX)
        return mp_set_error(MP_EINVAL, "invalid handle %ld", (long)h);
    return 0;
}

/* Waits until fd can be written; only for fds someone made non-blocking. */
static int wait_writable(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLOUT, .revents = 0};
    while (poll(&pfd, 1, -1) < 0)
        if (errno != EINTR) return mp_px_fail("poll", errno);
    return 0;
}

/* Outcome of one write loop: 0 done, or an MP_E* code. */
static int write_loop(int fd, const unsigned char *p, size_t n, int use_send,
                      int *not_sock, size_t *done)
{
    while (*done < n) {
        size_t chunk = n - *done;
        if (chunk > (size_t)SSIZE_MAX) chunk = (size_t)SSIZE_MAX;
        ssize_t w;
#if MP_HAVE_MSG_NOSIGNAL
        if (use_send)
            w = send(fd, p + *done, chunk, MSG_NOSIGNAL);
        else
#else
        (void)use_send;
#endif
            w = write(fd, p + *done, chunk);
        if (w >= 0) {
            *done += (size_t)w;
            continue;
        }
        switch (errno) {
        case EINTR:
            continue;
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
        {
            int rc = wait_writable(fd);
            if (rc) return rc;
            continue;
        }
        case ENOTSOCK:
            if (use_send) {
                *not_sock = 1;
                return 0;
            }
            return mp_px_fail("write", errno);
        case EPIPE:
        case ECONNRESET:
            return mp_set_error(MP_ECLOSED, "write: the reading end is closed");
        default:
            return mp_px_fail(use_send ? "send" : "write", errno);
        }
    }
    return 0;
}

/* write() with SIGPIPE blocked in this thread, and a SIGPIPE it raised
 * consumed before the mask comes back. */
static int write_nosigpipe(int fd, const unsigned char *p, size_t n, size_t *done)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigemptyset(&pending);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE) == 1;
    int dummy = 0;
    int rc = write_loop(fd, p, n, 0, &dummy, done);
    if (rc == MP_ECLOSED && !was_pending) {
        sigemptyset(&pending);
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE) == 1) {
#ifdef __APPLE__
            int sig; /* no sigtimedwait; the signal is pending, so this returns */
            sigwait(&pipe_set, &sig);
#else
            struct timespec zero = {0, 0};
            while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
            }
#endif
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int mp_os_write_all(mp_os_handle h, const void *buf, size_t n)
{
    int rc = check_handle(h);
    if (rc) return rc;
    size_t done = 0;
#if MP_HAVE_MSG_NOSIGNAL
    int not_sock = 0;
    rc = write_loop((int)h, buf, n, 1, &not_sock, &done);
    if (rc || !not_sock) return rc;
#endif
    return write_nosigpipe((int)h, buf, n, &done);
}

int mp_os_read(mp_os_handle h, void *buf, size_t n, size_t *got)
{
    *got = 0;
    int rc = check_handle(h);
    if (rc) return rc;
    if (n == 0) return mp_set_error(MP_EINVAL, "read of 0 bytes");
    if (n > (size_t)SSIZE_MAX) n = (size_t)SSIZE_MAX;
    for (;;) {
        ssize_t r = read((int)h, buf, n);
        if (r >= 0) {
            *got = (size_t)r;
            return 0;
        }
        if (errno == EINTR) continue;
        /* A peer socket that closed with unread data: end of file too. */
        if (errno == ECONNRESET) return 0;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int rc2 = mp_os_poll_readable(h, MP_NO_DEADLINE);
            if (rc2 < 0) return rc2;
            continue;
        }
        return mp_px_fail("read", errno);
    }
}

int mp_os_poll_readable(mp_os_handle h, uint64_t deadline_ns)
{
    int rc = check_handle(h);
    if (rc) return rc;
    struct pollfd pfd;
    pfd.fd = (int)h;
    pfd.events = POLLIN;
    for (;;) {
        pfd.revents = 0;
        int ms = mp_px_timeout_ms(deadline_ns);
        int r = poll(&pfd, 1, ms);
        if (r < 0) {
            if (errno == EINTR) continue;
            return mp_px_fail("poll", errno);
        }
        if (r > 0) {
            if (pfd.revents & POLLNVAL)
                return mp_set_error(MP_EINVAL, "poll: handle %ld is not open", (long)h);
            return 1; /* POLLIN, or POLLHUP/POLLERR: a read will not block */
        }
        if (ms == 0) return 0;
    }
}

void mp_os_close(mp_os_handle h)
{
    /* Not retried on EINTR: Linux and the BSDs free the fd anyway, and a
     * retry could close a number another thread just got. */
    if (h >= 0 && h <= INT_MAX) close((int)h);
}

/* ---- message transport ------------------------------------------------------ */

/* POSIX has no message-mode pipes: every fd (pipe, socketpair, socket) is a
 * byte stream that core/conn/conn.c frames with a length prefix, exactly as
 * Python's Connection does. mp_os_handle_is_message() is therefore 0 for
 * every handle, the core never takes its message path here, and the three
 * functions below are unreachable; they answer MP_EUNSUPPORTED rather than
 * pretend, should a future caller get that wrong. */
int mp_os_handle_is_message(mp_os_handle h)
{
    (void)h;
    return 0;
}

int mp_os_msg_send(mp_os_handle h, const void *buf, size_t n)
{
    (void)h;
    (void)buf;
    (void)n;
    return mp_set_error(MP_EUNSUPPORTED, "message-mode pipes exist only on Windows");
}

int mp_os_msg_recv(mp_os_handle h, void *buf, size_t cap, size_t *got, int *more)
{
    (void)h;
    (void)buf;
    (void)cap;
    *got = 0;
    *more = 0;
    return mp_set_error(MP_EUNSUPPORTED, "message-mode pipes exist only on Windows");
}

int mp_os_msg_left(mp_os_handle h, size_t *left)
{
    (void)h;
    *left = 0;
    return mp_set_error(MP_EUNSUPPORTED, "message-mode pipes exist only on Windows");
}
