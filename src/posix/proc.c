/* proc.c - starting, bootstrapping, waiting for and ending processes.
 *
 * spawn re-executes this program with posix_spawn (glibc does it with
 * clone(CLONE_VFORK): no page-table copy). Everything mproc opens is
 * close-on-exec, so a child gets exactly the fds passed to it: each is
 * dup2()ed by the spawn to a fresh number above every source fd, which
 * clears close-on-exec on the copy alone and can never overwrite a source
 * before it is copied. The child learns it is a child from its argv
 * ("--mproc-child=<fd>", as CPython's --multiprocessing-fork), not from
 * the environment, which grandchildren would inherit. <fd> is an
 * anonymous shared-memory segment holding the rest:
 *
 *   u32 magic 'MPB1' | u32 n | i32 sentinel fd or -1 | n x i32 fds |
 *   u64 bloblen | blob
 *
 * (fields unaligned, native byte order: only this program reads it).
 *
 * The sentinel is a pipe per child whose write end only the child holds:
 * the parent's read end reaches EOF when the child exits, so the parent
 * can poll() for the exit instead of sleeping blind. A grandchild made by
 * a plain fork() also holds the write end, so the sentinel is a hint and
 * waitpid(WNOHANG) stays the authority; proc_wait sleeps between checks
 * in slices growing from 1 to 100 ms once the sentinel has nothing more
 * to say. A wait without a deadline is one blocking waitpid(). */
#define _GNU_SOURCE
#include "mp_posix_config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __APPLE__
#include <crt_externs.h>
#include <mach-o/dyld.h>
#endif
#ifdef __FreeBSD__
#include <sys/sysctl.h>
#endif

#include "posix_util.h"

#ifdef __APPLE__
/* A shared library on macOS cannot link against environ itself. */
#define MP_ENVIRON (*_NSGetEnviron())
#else
extern char **environ;
#define MP_ENVIRON environ
#endif

#define BOOT_MAGIC  0x3142504du /* "MPB1" read as little-endian bytes */
#define BOOT_MARKER "--mproc-child="
#define BOOT_HEAD   12u /* magic, n, sentinel */

static char argv0_copy[PATH_MAX];
static char argv0_path[PATH_MAX]; /* absolute, resolved when argv0 was given */
static char exe_path[PATH_MAX];
static pthread_once_t exe_once = PTHREAD_ONCE_INIT;

/* The write end of the sentinel that this process's parent polls; held
 * open until exit, never closed, except in a fork child, which is not the
 * process the parent waits for. */
static int own_sentinel = -1;

/* ---- where is this program ------------------------------------------------ */

/* The fallback for systems with no way to ask: argv[0] as an absolute
 * path, found now, before the program may chdir. */
static void resolve_argv0(const char *a0)
{
    char buf[PATH_MAX];
    argv0_path[0] = '\0';
    if (strchr(a0, '/')) {
        if (realpath(a0, buf)) snprintf(argv0_path, sizeof argv0_path, "%s", buf);
        return;
    }
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        char cand[PATH_MAX];
        int w = snprintf(cand, sizeof cand, "%.*s/%s", (int)(len ? len : 1),
                         len ? path : ".", a0);
        if (w > 0 && (size_t)w < sizeof cand && access(cand, X_OK) == 0 &&
            realpath(cand, buf)) {
            snprintf(argv0_path, sizeof argv0_path, "%s", buf);
            return;
        }
        path = end ? end + 1 : NULL;
    }
}

void mp_os_set_argv0(const char *argv0)
{
    if (!argv0 || !*argv0 || strlen(argv0) >= sizeof argv0_copy) return;
    snprintf(argv0_copy, sizeof argv0_copy, "%s", argv0);
    resolve_argv0(argv0);
}

static void find_exe(void)
{
    exe_path[0] = '\0';
#if defined(__linux__)
    /* The link's target, not "/proc/self/exe" itself: under valgrind that
     * path is the valgrind tool. */
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
    exe_path[n > 0 ? n : 0] = '\0';
#elif defined(__APPLE__)
    char buf[PATH_MAX];
    uint32_t size = sizeof buf;
    if (_NSGetExecutablePath(buf, &size) == 0 && !realpath(buf, exe_path))
        snprintf(exe_path, sizeof exe_path, "%s", buf);
#elif defined(__FreeBSD__)
    int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PATHNAME, -1};
    size_t size = sizeof exe_path;
    if (sysctl(mib, 4, exe_path, &size, NULL, 0) != 0) exe_path[0] = '\0';
#endif
    if (!exe_path[0]) snprintf(exe_path, sizeof exe_path, "%s", argv0_path);
}

static const char *get_exe(void)
{
    pthread_once(&exe_once, find_exe);
    return exe_path[0] ? exe_path : NULL;
}

/* ---- spawn ---------------------------------------------------------------- */

static void put32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static int spawn_fail(const char *what, int err)
{
    return mp_px_fail(what, err);
}

int mp_os_spawn(mp_os_proc *p, const void *blob, size_t len, const mp_os_handle *handles,
                size_t n)
{
    p->pid = 0;
    p->sentinel = MP_OS_NO_HANDLE;
    p->process = MP_OS_NO_HANDLE;
    p->exited = 0;
    p->exitcode = 0;
    const char *exe = get_exe();
    if (!exe)
        return mp_set_error(MP_EUNSUPPORTED,
                            "spawn: cannot find this program's executable "
                            "(call mp_main(argc, argv) first)");
    if (n > 4096) return mp_set_error(MP_EINVAL, "spawn: %zu handles is too many", n);
    if (len && !blob) return mp_set_error(MP_EINVAL, "spawn: NULL blob");
    int maxfd = -1;
    for (size_t i = 0; i < n; i++) {
        if (handles[i] < 0 || handles[i] > INT_MAX)
            return mp_set_error(MP_EINVAL, "spawn: invalid handle %ld", (long)handles[i]);
        if ((int)handles[i] > maxfd) maxfd = (int)handles[i];
    }
    if (len > SIZE_MAX - BOOT_HEAD - 8 - 4 * n)
        return mp_set_error(MP_EINVAL, "spawn: bootstrap data too large");

    mp_os_shm seg;
    int rc = mp_os_shm_create(&seg, BOOT_HEAD + 4 * n + 8 + len);
    if (rc) return rc;
    int sfd[2];
    if (mp_px_pipe_cloexec(sfd) < 0) {
        int e = errno;
        mp_os_shm_close(&seg);
        return spawn_fail("pipe", e);
    }
    int segfd = (int)seg.handle;
    if (segfd > maxfd) maxfd = segfd;
    if (sfd[1] > maxfd) maxfd = sfd[1];
    /* The child's numbers: handles at base.., then the segment, then the
     * sentinel; all above every source, so no dup2 clobbers a source. */
    int base = maxfd + 1;
    if ((size_t)(INT_MAX - base) < n + 2) {
        mp_os_shm_close(&seg);
        close(sfd[0]);
        close(sfd[1]);
        return mp_set_error(MP_EINVAL, "spawn: fd numbers out of range");
    }
    int child_seg = base + (int)n, child_sentinel = base + (int)n + 1;

    unsigned char *b = seg.base;
    put32(b, BOOT_MAGIC);
    put32(b + 4, (uint32_t)n);
    put32(b + 8, (uint32_t)child_sentinel);
    for (size_t i = 0; i < n; i++)
        put32(b + BOOT_HEAD + 4 * i, (uint32_t)(base + (int)i));
    uint64_t len64 = len;
    memcpy(b + BOOT_HEAD + 4 * n, &len64, 8);
    if (len) memcpy(b + BOOT_HEAD + 4 * n + 8, blob, len);

    char marker[sizeof BOOT_MARKER + 16];
    snprintf(marker, sizeof marker, BOOT_MARKER "%d", child_seg);
    char *argv[3] = {argv0_copy[0] ? argv0_copy : (char *)exe, marker, NULL};

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int err = posix_spawn_file_actions_init(&fa);
    if (err) {
        mp_os_shm_close(&seg);
        close(sfd[0]);
        close(sfd[1]);
        return spawn_fail("posix_spawn_file_actions_init", err);
    }
    err = posix_spawnattr_init(&attr);
    if (err) {
        posix_spawn_file_actions_destroy(&fa);
        mp_os_shm_close(&seg);
        close(sfd[0]);
        close(sfd[1]);
        return spawn_fail("posix_spawnattr_init", err);
    }
    const char *what = NULL;
    for (size_t i = 0; i < n && !err; i++) {
        err = posix_spawn_file_actions_adddup2(&fa, (int)handles[i], base + (int)i);
        what = "posix_spawn_file_actions_adddup2";
    }
    if (!err) err = posix_spawn_file_actions_adddup2(&fa, segfd, child_seg);
    if (!err) err = posix_spawn_file_actions_adddup2(&fa, sfd[1], child_sentinel);
#if MP_HAVE_ADDCLOSEFROM_NP
    /* Fds a careless caller left inheritable stay out of the child. Only
     * above the passed ones: below them, everything of ours is CLOEXEC. */
    if (!err) {
        err = posix_spawn_file_actions_addclosefrom_np(&fa, child_sentinel + 1);
        what = "posix_spawn_file_actions_addclosefrom_np";
    }
#endif
    int flags = POSIX_SPAWN_SETSIGMASK;
#if defined(__APPLE__) && defined(POSIX_SPAWN_CLOEXEC_DEFAULT)
    /* macOS has no closefrom action: close everything not named here. */
    flags |= POSIX_SPAWN_CLOEXEC_DEFAULT;
    for (int fd = 0; fd <= 2 && !err; fd++) {
        err = posix_spawn_file_actions_addinherit_np(&fa, fd);
        what = "posix_spawn_file_actions_addinherit_np";
    }
#endif
    if (!err) {
        sigset_t none;
        sigemptyset(&none);
        err = posix_spawnattr_setsigmask(&attr, &none);
        if (!err) err = posix_spawnattr_setflags(&attr, (short)flags);
        what = "posix_spawnattr";
    }
    pid_t pid = 0;
    if (!err) {
        err = posix_spawn(&pid, exe, &fa, &attr, argv, MP_ENVIRON);
        what = "posix_spawn";
    }
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    mp_os_shm_close(&seg);
    close(sfd[1]);
    if (err) {
        close(sfd[0]);
        return mp_set_error(MP_ESYS, "%s %s: %s", what, exe, strerror(err));
    }
    p->pid = pid;
    p->sentinel = sfd[0];
    return 0;
}

/* ---- the child's side ----------------------------------------------------- */

/* Parses a decimal fd strictly: digits only, no sign, no overflow. */
static int parse_fd(const char *s, int *fd)
{
    int v = 0;
    if (!*s) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        int d = *s - '0';
        if (v > (INT_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *fd = v;
    return 0;
}

static int fd_is_open(int fd)
{
    return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

int mp_os_child_boot(int argc, char **argv, void **blob, size_t *len,
                     mp_os_handle **handles, size_t *n)
{
    *blob = NULL;
    *len = 0;
    *handles = NULL;
    *n = 0;
    if (argc < 2 || !argv || !argv[1] ||
        strncmp(argv[1], BOOT_MARKER, sizeof BOOT_MARKER - 1) != 0)
        return 0;
    int segfd;
    if (parse_fd(argv[1] + sizeof BOOT_MARKER - 1, &segfd) < 0)
        return mp_set_error(MP_EPROTO, "bootstrap: bad marker '%s'", argv[1]);
    struct stat st;
    if (fstat(segfd, &st) < 0) return mp_px_fail("bootstrap: fstat", errno);
    if (st.st_size < (off_t)(BOOT_HEAD + 8) ||
        (uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
        close(segfd);
        return mp_set_error(MP_EPROTO, "bootstrap: segment of %lld bytes",
                            (long long)st.st_size);
    }
    size_t size = (size_t)st.st_size;
    unsigned char *b = mmap(NULL, size, PROT_READ, MAP_SHARED, segfd, 0);
    if (b == MAP_FAILED) {
        int e = errno;
        close(segfd);
        return mp_px_fail("bootstrap: mmap", e);
    }
    int rc = 0;
    uint32_t count = get32(b + 4);
    int sentinel = (int)get32(b + 8);
    uint64_t bloblen = 0;
    mp_os_handle *hs = NULL;
    void *data = NULL;
    if (get32(b) != BOOT_MAGIC) {
        rc = mp_set_error(MP_EPROTO, "bootstrap: bad magic");
        goto out;
    }
    if (count > (size - BOOT_HEAD - 8) / 4) {
        rc = mp_set_error(MP_EPROTO, "bootstrap: %u handles do not fit", count);
        goto out;
    }
    memcpy(&bloblen, b + BOOT_HEAD + 4 * (size_t)count, 8);
    if (bloblen > size - BOOT_HEAD - 8 - 4 * (size_t)count) {
        rc = mp_set_error(MP_EPROTO, "bootstrap: blob of %llu bytes does not fit",
                          (unsigned long long)bloblen);
        goto out;
    }
    /* Never NULL, so a caller may test the pointers rather than the sizes. */
    hs = malloc(count ? count * sizeof *hs : 1);
    data = malloc(bloblen ? (size_t)bloblen : 1);
    if (!hs || !data) {
        rc = mp_set_error(MP_ENOMEM, "bootstrap: out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < count; i++) {
        int fd = (int)get32(b + BOOT_HEAD + 4 * (size_t)i);
        /* CLOEXEC again, so the handles do not leak into grandchildren. */
        if (!fd_is_open(fd) || mp_px_cloexec(fd) < 0) {
            rc = mp_set_error(MP_EPROTO, "bootstrap: handle %d is not open", fd);
            goto out;
        }
        hs[i] = fd;
    }
    if (bloblen) memcpy(data, b + BOOT_HEAD + 4 * (size_t)count + 8, (size_t)bloblen);
    if (sentinel >= 0 && fd_is_open(sentinel)) {
        mp_px_cloexec(sentinel);
        own_sentinel = sentinel;
    }
out:
    munmap(b, size);
    close(segfd);
    if (rc) {
        free(hs);
        free(data);
        return rc;
    }
    *blob = data;
    *len = (size_t)bloblen;
    *handles = hs;
    *n = count;
    return 1;
}

/* ---- fork ----------------------------------------------------------------- */

int mp_os_fork(mp_os_proc *p, int *in_child)
{
    *in_child = 0;
    p->pid = 0;
    p->sentinel = MP_OS_NO_HANDLE;
    p->process = MP_OS_NO_HANDLE;
    p->exited = 0;
    p->exitcode = 0;
    int sfd[2];
    if (mp_px_pipe_cloexec(sfd) < 0) return mp_px_fail("pipe", errno);
    /* Output buffered now would otherwise be written by both processes. */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sfd[0]);
        close(sfd[1]);
        return mp_px_fail("fork", e);
    }
    if (pid == 0) {
        close(sfd[0]);
        /* The sentinel of our parent's parent is not ours to hold: holding
         * it would delay the EOF that process waits for. */
        if (own_sentinel >= 0) close(own_sentinel);
        own_sentinel = sfd[1];
        *in_child = 1;
        return 0;
    }
    close(sfd[1]);
    p->pid = pid;
    p->sentinel = sfd[0];
    return 0;
}

/* ---- waiting, signalling, exiting ----------------------------------------- */

static void set_status(mp_os_proc *p, int st)
{
    p->exited = 1;
    if (WIFEXITED(st))
        p->exitcode = WEXITSTATUS(st);
    else if (WIFSIGNALED(st)) {
        p->exitcode = -WTERMSIG(st);
        /* Killed, perhaps between creating a named segment and unlinking
         * it (shm.c). */
        mp_os_shm_sweep((uint32_t)p->pid);
    } else
        p->exitcode = -1000; /* not reachable without WUNTRACED */
}

int mp_os_proc_wait(mp_os_proc *p, uint64_t deadline_ns)
{
    if (p->exited) return 0;
    if (p->pid <= 0 || p->pid > INT_MAX)
        return mp_set_error(MP_EINVAL, "wait: no such child (pid %lld)",
                            (long long)p->pid);
    if (deadline_ns == MP_NO_DEADLINE) {
        /* Nothing to time out: the kernel says when, in one call. */
        for (;;) {
            int st = 0;
            pid_t r = waitpid((pid_t)p->pid, &st, 0);
            if (r == (pid_t)p->pid) {
                set_status(p, st);
                return 0;
            }
            if (r < 0 && errno != EINTR) return mp_px_fail("waitpid", errno);
        }
    }
    uint64_t slice = 1000000u; /* 1 ms, doubling to 100 ms */
    /* The sentinel reports EOF as the exiting child's files are closed, a
     * moment before waitpid() can reap it: from then on the sleeps are
     * short, or each join would pay most of a slice. */
    uint64_t after_eof = 10000u; /* 10 us, doubling */
    int sentinel_done = p->sentinel < 0;
    for (;;) {
        int st = 0;
        pid_t r = waitpid((pid_t)p->pid, &st, WNOHANG);
        if (r == (pid_t)p->pid) {
            set_status(p, st);
            return 0;
        }
        if (r < 0) {
            if (errno == EINTR) continue;
            return mp_px_fail("waitpid", errno);
        }
        uint64_t now = mp_os_now_ns();
        if (deadline_ns != MP_NO_DEADLINE && now >= deadline_ns) return MP_ETIMEDOUT;
        uint64_t until = now + slice;
        if (deadline_ns < until) until = deadline_ns;
        if (slice < 100000000u) slice = slice * 2 > 100000000u ? 100000000u : slice * 2;
        if (sentinel_done) {
            if (after_eof < slice) {
                until = now + after_eof;
                if (deadline_ns < until) until = deadline_ns;
                after_eof *= 2;
            }
            mp_os_sleep_ns(until - now);
            continue;
        }
        struct pollfd pfd = {.fd = (int)p->sentinel, .events = POLLIN, .revents = 0};
        int pr = poll(&pfd, 1, mp_px_timeout_ms(until));
        if (pr < 0 && errno != EINTR) return mp_px_fail("poll", errno);
        if (pr > 0) {
            /* Nobody writes to the sentinel: readable means EOF, after
             * which poll() would return at once forever. */
            char c;
            ssize_t got;
            do
                got = read(pfd.fd, &c, 1);
            while (got < 0 && errno == EINTR);
            if (got <= 0) sentinel_done = 1;
        }
    }
}

int mp_os_proc_signal(mp_os_proc *p, int hard)
{
    if (p->exited) return 0; /* reaped: the pid may be someone else's now */
    if (p->pid <= 0 || p->pid > INT_MAX)
        return mp_set_error(MP_EINVAL, "signal: no such child (pid %lld)",
                            (long long)p->pid);
    if (kill((pid_t)p->pid, hard ? SIGKILL : SIGTERM) < 0 && errno != ESRCH)
        return mp_px_fail("kill", errno);
    return 0;
}

void mp_os_proc_release(mp_os_proc *p)
{
    mp_os_close(p->sentinel);
    p->sentinel = MP_OS_NO_HANDLE;
}

void mp_os_exit(int code, int forked)
{
    fflush(NULL);
    if (forked) _exit(code);
    exit(code);
}
