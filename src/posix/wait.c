/* wait.c - waiting on many handles at once: one poll(2).
 *
 * Every handle core waits on is an fd here (pipes, sockets, listening
 * sockets, the pipes that are process sentinels), so one poll over all of
 * them is the whole job, and it reports every ready fd in one go. Up to
 * WAIT_STACK fds the array lives on the stack: the usual call allocates
 * nothing. */
#define _GNU_SOURCE
#include "mp_posix_config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "posix_util.h"

#define WAIT_STACK 256

static int poll_many(struct pollfd *pfd, size_t n, uint64_t deadline_ns)
{
    for (;;) {
        int ms = mp_px_timeout_ms(deadline_ns);
        int r = poll(pfd, (nfds_t)n, ms);
        if (r >= 0 || errno != EINTR) return r < 0 ? mp_px_fail("poll", errno) : r;
    }
}

int mp_os_wait_many(const mp_os_handle *h, size_t n, uint64_t deadline_ns,
                    unsigned char *ready)
{
    struct pollfd stack[WAIT_STACK];
    struct pollfd *pfd = stack;
    if (n > WAIT_STACK) {
        pfd = malloc(n * sizeof *pfd);
        if (!pfd)
            return mp_set_error(MP_ENOMEM, "out of memory to wait on %zu handles", n);
    }
    for (size_t i = 0; i < n; i++) {
        int valid = h[i] >= 0 && h[i] <= INT_MAX;
        pfd[i].fd = valid ? (int)h[i] : -1; /* poll skips a negative fd */
        pfd[i].events = POLLIN;
        pfd[i].revents = 0;
    }
    int rc;
    do
        rc = poll_many(pfd, n, deadline_ns);
    while (rc == 0 && deadline_ns != MP_NO_DEADLINE && mp_os_now_ns() < deadline_ns);
    /* poll counts the entries it set, so the scan stops at the last. */
    int count = 0;
    size_t i = 0;
    for (; rc > 0 && count < rc && i < n; i++) {
        if (pfd[i].revents & POLLNVAL) {
            rc = mp_set_error(MP_EINVAL, "poll: handle %ld is not open", (long)h[i]);
            break;
        }
        /* POLLHUP / POLLERR: a read will not block, so it is ready too. */
        ready[i] = pfd[i].revents != 0;
        count += ready[i];
    }
    if (rc <= 0) i = 0;
    memset(ready + i, 0, n - i);
    if (pfd != stack) free(pfd);
    return rc < 0 ? rc : count;
}
