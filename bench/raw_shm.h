/* raw_shm.h - POSIX helpers for the programs that do not use mproc (the
 * raw limits, the APR and Boost peers): shared anonymous memory, forked
 * workers, and the same start barrier as mp_bench.h's, written on bare
 * shared memory.
 *
 * The atomics are GCC/Clang __atomic builtins rather than <stdatomic.h>
 * because bench/boost_mq.cpp includes this header too, and C++ before 23
 * has no <stdatomic.h>. These programs are POSIX-only anyway. */
#ifndef MPROC_BENCH_RAW_SHM_H
#define MPROC_BENCH_RAW_SHM_H

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

/* Zeroed memory shared with every child forked afterwards. */
static inline void *shm_anon(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) bench_die("mmap of %zu shared bytes: %s", size, strerror(errno));
    return p;
}

/* The start barrier and up to 14 stamps, on its own page. */
typedef struct shm_ctl {
    uint32_t ready, go;
    uint64_t stamp[14];
} shm_ctl;

static inline shm_ctl *shm_ctl_new(void)
{
    return (shm_ctl *)shm_anon(4096);
}

static inline void shm_ctl_arrive(shm_ctl *c)
{
    __atomic_add_fetch(&c->ready, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
        bench_sleep_us(20);
}

static inline uint64_t shm_ctl_start(shm_ctl *c, uint32_t nchildren)
{
    while (__atomic_load_n(&c->ready, __ATOMIC_ACQUIRE) < nchildren)
        bench_sleep_us(20);
    uint64_t t0 = bench_now_ns();
    __atomic_store_n(&c->go, 1, __ATOMIC_RELEASE);
    return t0;
}

static inline void shm_ctl_stamp(shm_ctl *c, int slot, uint64_t v)
{
    __atomic_store_n(&c->stamp[slot], v, __ATOMIC_RELEASE);
}

static inline uint64_t shm_ctl_stamp_of(shm_ctl *c, int slot)
{
    return __atomic_load_n(&c->stamp[slot], __ATOMIC_ACQUIRE);
}

/* Forks a child that runs fn(arg) and exits with its result, without
 * running the parent's atexit handlers or flushing its stdio twice. */
static inline pid_t fork_worker(int (*fn)(void *), void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) bench_die("fork: %s", strerror(errno));
    if (pid == 0) _exit(fn(arg));
    return pid;
}

/* Waits for pid; a child that failed fails the benchmark. */
static inline void wait_worker(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) bench_die("waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        bench_die("a child process failed (status 0x%x)", (unsigned)status);
}

/* write / read everything, through short writes and reads. */
static inline void write_all(int fd, const void *buf, size_t n)
{
    const unsigned char *p = (const unsigned char *)buf;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) bench_die("write: %s", k < 0 ? strerror(errno) : "wrote nothing");
        p += k;
        n -= (size_t)k;
    }
}

static inline void read_all(int fd, void *buf, size_t n)
{
    unsigned char *p = (unsigned char *)buf;
    while (n > 0) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) bench_die("read: %s", k < 0 ? strerror(errno) : "end of file");
        p += k;
        n -= (size_t)k;
    }
}

#endif
