/* wq.c - wait queues: where a process sleeps until a shared word changes.
 *
 * Linux: a futex on the word itself, without FUTEX_PRIVATE_FLAG so that it
 * keys on the physical page and wakes across processes whatever address
 * each maps the segment at. FUTEX_WAIT_BITSET takes an absolute
 * CLOCK_MONOTONIC deadline, so retries after EINTR never stretch the wait.
 * No handles: the shared word is the whole queue.
 *
 * Elsewhere (and in the portable flavour): one pipe per queue, created
 * with the shared object and inherited with it. A wake writes one token
 * byte per waiter to wake; a waiter polls the read end and takes one
 * byte. Both ends are non-blocking: a waiter that finds its token taken
 * by another returns (a spurious wake-up, which the protocol allows), and
 * a waker that finds the pipe full knows enough tokens are already there.
 * A token left behind by a waiter that gave up only makes a later wait
 * return early. The word is checked before sleeping, but a wake that
 * comes between that check and poll() is kept by the pipe, so none is
 * lost. The cost is two fds per queue and a syscall pair per wake. */
#define _GNU_SOURCE
#include "mp_posix_config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#if MP_HAVE_FUTEX
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include "posix_util.h"

#if MP_HAVE_FUTEX

static long futex(mp_atomic_u32 *word, int op, uint32_t val, const struct timespec *ts,
                  uint32_t val3)
{
    return syscall(SYS_futex, (void *)word, op, val, ts, NULL, val3);
}

int mp_os_wq_create(mp_os_wq *wq)
{
    for (int i = 0; i < MP_OS_WQ_MAX_HANDLES; i++)
        wq->h[i] = MP_OS_NO_HANDLE;
    return 0;
}

int mp_os_wq_handles(const mp_os_wq *wq, mp_os_handle *out)
{
    (void)wq;
    (void)out;
    return 0;
}

int mp_os_wq_adopt(mp_os_wq *wq, const mp_os_handle *h, int n)
{
    mp_os_wq_create(wq);
    if (n == 0) return 0;
    for (int i = 0; i < n; i++)
        mp_os_close(h[i]);
    return mp_set_error(MP_EPROTO, "futex wait queue given %d handles", n);
}

int mp_os_wq_wait(mp_os_wq *wq, mp_atomic_u32 *word, uint32_t expected,
                  uint64_t deadline_ns)
{
    (void)wq;
    struct timespec ts, *tsp = NULL;
    if (deadline_ns != MP_NO_DEADLINE &&
        deadline_ns / 1000000000u <= (uint64_t)INT32_MAX) {
        ts.tv_sec = (time_t)(deadline_ns / 1000000000u);
        ts.tv_nsec = (long)(deadline_ns % 1000000000u);
        tsp = &ts;
    }
    if (futex(word, FUTEX_WAIT_BITSET, expected, tsp, FUTEX_BITSET_MATCH_ANY) == 0)
        return 0;
    switch (errno) {
    case EAGAIN:
    case EINTR:
        return 0;
    case ETIMEDOUT:
        return MP_ETIMEDOUT;
    default:
        return mp_px_fail("futex(FUTEX_WAIT_BITSET)", errno);
    }
}

void mp_os_wq_wake(mp_os_wq *wq, mp_atomic_u32 *word, uint32_t n)
{
    (void)wq;
    futex(word, FUTEX_WAKE, n > (uint32_t)INT_MAX ? (uint32_t)INT_MAX : n, NULL, 0);
}

void mp_os_wq_close(mp_os_wq *wq)
{
    mp_os_wq_create(wq);
}

int mp_os_wq_by_address(void)
{
    return 1;
}

#else /* pipe tokens */

int mp_os_wq_create(mp_os_wq *wq)
{
    int fds[2];
    wq->h[0] = wq->h[1] = MP_OS_NO_HANDLE;
    if (mp_px_pipe_cloexec(fds) < 0) return mp_px_fail("pipe", errno);
    if (mp_px_nonblock(fds[0]) < 0 || mp_px_nonblock(fds[1]) < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return mp_px_fail("fcntl(O_NONBLOCK)", e);
    }
    wq->h[0] = fds[0];
    wq->h[1] = fds[1];
    return 0;
}

int mp_os_wq_handles(const mp_os_wq *wq, mp_os_handle *out)
{
    out[0] = wq->h[0];
    out[1] = wq->h[1];
    return 2;
}

int mp_os_wq_adopt(mp_os_wq *wq, const mp_os_handle *h, int n)
{
    wq->h[0] = wq->h[1] = MP_OS_NO_HANDLE;
    if (n == 2 && h[0] >= 0 && h[1] >= 0 && h[0] <= INT_MAX && h[1] <= INT_MAX) {
        wq->h[0] = h[0];
        wq->h[1] = h[1];
        /* O_NONBLOCK lives in the shared open file description, so it came
         * along; setting it again costs little and guards against a peer
         * that handed over plain pipe ends. */
        if (mp_px_nonblock((int)h[0]) == 0 && mp_px_nonblock((int)h[1]) == 0) return 0;
        int e = errno;
        mp_os_wq_close(wq);
        return mp_px_fail("fcntl(O_NONBLOCK)", e);
    }
    for (int i = 0; i < n; i++)
        mp_os_close(h[i]);
    return mp_set_error(MP_EPROTO, "pipe wait queue given %d handles, wants 2", n);
}

int mp_os_wq_wait(mp_os_wq *wq, mp_atomic_u32 *word, uint32_t expected,
                  uint64_t deadline_ns)
{
    if (mp_load32(word, MP_SEQ_CST) != expected) return 0;
    struct pollfd pfd;
    pfd.fd = (int)wq->h[0];
    pfd.events = POLLIN;
    for (;;) {
        pfd.revents = 0;
        int ms = mp_px_timeout_ms(deadline_ns);
        if (ms == 0) return MP_ETIMEDOUT;
        int r = poll(&pfd, 1, ms);
        if (r < 0) {
            if (errno == EINTR) continue;
            return mp_px_fail("poll", errno);
        }
        if (r == 0) continue; /* the deadline is re-checked above */
        if (pfd.revents & POLLNVAL)
            return mp_set_error(MP_ESYS, "poll: wait queue handle is not open");
        unsigned char token;
        ssize_t got = read(pfd.fd, &token, 1);
        if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return mp_px_fail("read", errno);
        return 0; /* a token, or another waiter took it first */
    }
}

void mp_os_wq_wake(mp_os_wq *wq, mp_atomic_u32 *word, uint32_t n)
{
    (void)word;
    static const unsigned char tokens[256] = {0};
    while (n > 0) {
        size_t chunk = n < sizeof tokens ? n : sizeof tokens;
        ssize_t w = write((int)wq->h[1], tokens, chunk);
        if (w < 0) {
            if (errno == EINTR) continue;
            return; /* EAGAIN: the pipe is full of tokens already */
        }
        n -= (uint32_t)w;
    }
}

void mp_os_wq_close(mp_os_wq *wq)
{
    mp_os_close(wq->h[0]);
    mp_os_close(wq->h[1]);
    wq->h[0] = wq->h[1] = MP_OS_NO_HANDLE;
}

int mp_os_wq_by_address(void)
{
    return 0;
}

#endif
