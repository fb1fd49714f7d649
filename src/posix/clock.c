/* clock.c - time, process identity, randomness.
 *
 * Deadlines everywhere in mproc are CLOCK_MONOTONIC nanoseconds: the wall
 * clock can jump, and a lock timeout must not. pid_alive is what lets a
 * lock detect a dead holder, so it must also call a dead but unreaped
 * child (a zombie, which kill() still reaches) dead. */
#define _GNU_SOURCE
#include "mp_posix_config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if MP_HAVE_GETRANDOM
#include <sys/random.h>
#endif

#include "posix_util.h"

uint64_t mp_os_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* glibc stopped caching getpid() (2.25), so it is a system call, and
 * every shared lock taken asks for it. The cache is cleared in a child of
 * fork(), whoever calls fork. */
mp_atomic_u32 mp__os_pid; /* platform.h */
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

static void forget_pid(void)
{
    atomic_store_explicit(&mp__os_pid, 0, memory_order_relaxed);
}

static void watch_forks(void)
{
    pthread_atfork(NULL, NULL, forget_pid);
}

uint32_t mp_os_getpid(void)
{
    uint32_t pid = atomic_load_explicit(&mp__os_pid, memory_order_relaxed);
    if (pid) return pid;
    pthread_once(&pid_once, watch_forks);
    pid = (uint32_t)getpid();
    atomic_store_explicit(&mp__os_pid, pid, memory_order_relaxed);
    return pid;
}

#ifdef __linux__
/* 1 if /proc says pid is a zombie or dying, 0 if it is running, -1 if
 * /proc cannot tell. Catches zombies of other parents, which waitid()
 * cannot see. */
static int linux_pid_dead(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 1 : -1;
    ssize_t n;
    do
        n = read(fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n <= 0) return n == 0 ? 1 : -1;
    buf[n] = '\0';
    /* "pid (comm) S ...": comm may itself contain ')', so take the last. */
    const char *rp = strrchr(buf, ')');
    if (!rp || rp[1] != ' ' || rp[2] == '\0') return -1;
    return rp[2] == 'Z' || rp[2] == 'X';
}
#endif

int mp_os_pid_alive(uint32_t pid)
{
    /* kill() reads 0 and negative numbers as process groups. */
    if (pid == 0 || pid > (uint32_t)INT_MAX) return 0;
    pid_t p = (pid_t)pid;
    if (kill(p, 0) < 0) return errno == ESRCH ? 0 : 1;
    /* Our own child that exited but was not reaped yet; WNOWAIT leaves it
     * for the real wait. Fails with ECHILD for anyone else's process. */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)p, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == p)
        return 0;
#ifdef __linux__
    if (linux_pid_dead(p) == 1) return 0;
#endif
    return 1;
}

int mp_os_random(void *buf, size_t n)
{
    unsigned char *p = buf;
#if MP_HAVE_GETRANDOM
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return mp_px_fail("getrandom", errno);
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
#elif MP_HAVE_ARC4RANDOM_BUF
    arc4random_buf(p, n);
    return 0;
#else
    int fd;
    do
        fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return mp_px_fail("open /dev/urandom", errno);
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            close(fd);
            return mp_px_fail("read /dev/urandom", e);
        }
        p += r;
        n -= (size_t)r;
    }
    close(fd);
    return 0;
#endif
}

void mp_os_sleep_ns(uint64_t ns)
{
    struct timespec ts, rem;
    ts.tv_sec = (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    while (nanosleep(&ts, &rem) < 0 && errno == EINTR)
        ts = rem;
}

void mp_os_yield(void)
{
    sched_yield();
}
