/* posix_util.h - helpers shared by the files of src/posix.
 *
 * Kept static inline so every translation unit stays self-contained; each
 * .c file still defines its feature-test macros before including this. */
#ifndef MP_POSIX_UTIL_H
#define MP_POSIX_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>

#include "base/error.h"
#include "platform.h"
#include "mp_posix_config.h"

/* Records "what: strerror(err)" and returns MP_ESYS. errno is passed in
 * because formatting may clobber it. */
static inline int mp_px_fail(const char *what, int err)
{
    return mp_set_error(MP_ESYS, "%s: %s", what, strerror(err));
}

/* Marks fd close-on-exec; used right after creation where the OS cannot
 * do it atomically, and on handles a spawned child inherited. */
static inline int mp_px_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    if (fl < 0) return -1;
    if (fl & FD_CLOEXEC) return 0;
    return fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

static inline int mp_px_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) return -1;
    if (fl & O_NONBLOCK) return 0;
    return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* A poll() timeout for the deadline: -1 for none, else milliseconds
 * rounded up, so poll never returns before the deadline and a caller that
 * loops until the deadline does not spin through a last 0 ms poll. */
static inline int mp_px_timeout_ms(uint64_t deadline_ns)
{
    if (deadline_ns == MP_NO_DEADLINE) return -1;
    uint64_t now = mp_os_now_ns();
    if (now >= deadline_ns) return 0;
    uint64_t ms = (deadline_ns - now + 999999u) / 1000000u;
    return ms > (uint64_t)INT_MAX ? INT_MAX : (int)ms;
}

/* Creates a pipe whose ends are close-on-exec: atomically where pipe2
 * exists, otherwise right after creation (a fork/spawn in another thread
 * in between could inherit the ends; the portable paths accept that). */
int mp_px_pipe_cloexec(int fds[2]);

#endif
