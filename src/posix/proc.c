/* proc.c - starting, bootstrapping, waiting for and ending processes.
 *
 * spawn re-executes this program with posix_spawn (glibc does it with
 * clone(CLONE_VFORK): no page-table copy). A child gets exactly stdio and
 * the fds passed to it: each is dup2()ed by the spawn to a fresh number
 * above every source fd, which clears close-on-exec on the copy alone and
 * can never overwrite a source before it is copied; everything mproc opens
 * is close-on-exec, and whatever the program left inheritable is closed
 * by the spawn (spawn_fds.c). What the child is told, and the marker in its argv
 * that says where, is core's (runtime/boot.c); this file only passes the
 * fds and, in the child, marks them close-on-exec again.
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
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#if MP_HAVE_PIDFD_OPEN
#include <sys/syscall.h>
#endif
#ifdef __APPLE__
#include <crt_externs.h>
#include <mach-o/dyld.h>
#endif
#ifdef __FreeBSD__
#include <sys/sysctl.h>
#endif

#include "posix_util.h"
#include "spawn_fds.h"

#ifdef __APPLE__
/* A shared library on macOS cannot link against environ itself. */
#define MP_ENVIRON (*_NSGetEnviron())
#else
extern char **environ;
#define MP_ENVIRON environ
#endif

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

struct mp_os_spawn {
    const char *exe;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int fa_init, attr_init;
    int sentinel[2]; /* read end for the parent, write end for the child */
};

/* The highest of the source fds; MP_EINVAL if one is not an fd. */
static int check_handles(const mp_os_handle *handles, size_t n, int *maxfd)
{
    *maxfd = -1;
    for (size_t i = 0; i < n; i++) {
        if (handles[i] < 0 || handles[i] > INT_MAX)
            return mp_set_error(MP_EINVAL, "spawn: invalid handle %ld", (long)handles[i]);
        if ((int)handles[i] > *maxfd) *maxfd = (int)handles[i];
    }
    return 0;
}

/* handles[i] becomes base + i in the child, the sentinel base + n. */
static int file_actions(mp_os_spawn *s, const mp_os_handle *handles, size_t n, int base)
{
    int err = posix_spawn_file_actions_init(&s->fa);
    if (err) return mp_px_fail("posix_spawn_file_actions_init", err);
    s->fa_init = 1;
    for (size_t i = 0; i < n && !err; i++)
        err = posix_spawn_file_actions_adddup2(&s->fa, (int)handles[i], base + (int)i);
    if (!err)
        err = posix_spawn_file_actions_adddup2(&s->fa, s->sentinel[1], base + (int)n);
    if (err) return mp_px_fail("posix_spawn_file_actions_adddup2", err);
#if !(defined(__APPLE__) && defined(POSIX_SPAWN_CLOEXEC_DEFAULT))
    /* Descriptors the program left inheritable stay out of the child
     * (spawn_fds.c); macOS closes them through spawn_attrs. */
    err = mp_px_spawn_close_inherited(&s->fa, base, base + (int)n);
    if (err) return mp_px_fail("posix_spawn_file_actions_addclose", err);
#endif
#if MP_HAVE_ADDCLOSEFROM_NP
    /* Above the passed ones, also what another thread opens meanwhile. */
    err = posix_spawn_file_actions_addclosefrom_np(&s->fa, base + (int)n + 1);
    if (err) return mp_px_fail("posix_spawn_file_actions_addclosefrom_np", err);
#endif
#if defined(__APPLE__) && defined(POSIX_SPAWN_CLOEXEC_DEFAULT)
    /* macOS has no closefrom action: spawn_attrs closes everything not
     * named here, so the standard fds are named. */
    for (int fd = 0; fd <= 2 && !err; fd++)
        err = posix_spawn_file_actions_addinherit_np(&s->fa, fd);
    if (err) return mp_px_fail("posix_spawn_file_actions_addinherit_np", err);
#endif
    return 0;
}

/* No blocked signals in the child, whatever the spawning thread blocks. */
static int spawn_attrs(mp_os_spawn *s)
{
    int err = posix_spawnattr_init(&s->attr);
    if (err) return mp_px_fail("posix_spawnattr_init", err);
    s->attr_init = 1;
    int flags = POSIX_SPAWN_SETSIGMASK;
#if defined(__APPLE__) && defined(POSIX_SPAWN_CLOEXEC_DEFAULT)
    flags |= POSIX_SPAWN_CLOEXEC_DEFAULT;
#endif
    sigset_t none;
    sigemptyset(&none);
    err = posix_spawnattr_setsigmask(&s->attr, &none);
    if (!err) err = posix_spawnattr_setflags(&s->attr, (short)flags);
    return err ? mp_px_fail("posix_spawnattr", err) : 0;
}

void mp_os_spawn_cancel(mp_os_spawn *s)
{
    if (!s) return;
    if (s->attr_init) posix_spawnattr_destroy(&s->attr);
    if (s->fa_init) posix_spawn_file_actions_destroy(&s->fa);
    for (int i = 0; i < 2; i++)
        if (s->sentinel[i] >= 0) close(s->sentinel[i]);
    free(s);
}

int mp_os_spawn_prepare(mp_os_spawn **out, const mp_os_handle *handles, size_t n,
                        mp_os_handle *child, mp_os_handle *own)
{
    mp_os_spawn *s = NULL;
    int maxfd = -1;
    *out = NULL;
    *own = MP_OS_NO_HANDLE;
    int rc = check_handles(handles, n, &maxfd);
    if (rc < 0) goto cleanup;
    const char *exe = get_exe();
    if (!exe) {
        rc = mp_set_error(MP_EUNSUPPORTED, "spawn: cannot find this program's executable "
                                           "(call mp_main(argc, argv) first)");
        goto cleanup;
    }
    if (!(s = calloc(1, sizeof *s))) {
        rc = mp_set_error(MP_ENOMEM, "spawn: out of memory");
        goto cleanup;
    }
    s->exe = exe;
    s->sentinel[0] = s->sentinel[1] = -1;
    if (mp_px_pipe_cloexec(s->sentinel) < 0) {
        rc = mp_px_fail("pipe", errno);
        goto cleanup;
    }
    if (s->sentinel[1] > maxfd) maxfd = s->sentinel[1];
    /* The child's numbers lie above every source, so no dup2 of the spawn
     * overwrites a source before it is copied. */
    if ((size_t)(INT_MAX - maxfd) <= n + 1) {
        rc = mp_set_error(MP_EINVAL, "spawn: fd numbers out of range");
        goto cleanup;
    }
    int base = maxfd + 1;
    if ((rc = file_actions(s, handles, n, base)) < 0) goto cleanup;
    if ((rc = spawn_attrs(s)) < 0) goto cleanup;
    for (size_t i = 0; i < n; i++)
        child[i] = base + (mp_os_handle)i;
    *own = base + (mp_os_handle)n;
cleanup:
    if (rc < 0) {
        mp_os_spawn_cancel(s);
        s = NULL;
    }
    *out = s;
    return rc;
}

int mp_os_spawn_start(mp_os_spawn *s, const char *arg, mp_os_proc *p)
{
    char *argv[3] = {argv0_copy[0] ? argv0_copy : (char *)s->exe, (char *)arg, NULL};
    pid_t pid = 0;
    int rc = 0;
    int err = posix_spawn(&pid, s->exe, &s->fa, &s->attr, argv, MP_ENVIRON);
    if (err) {
        rc = mp_set_error(MP_ESYS, "posix_spawn %s: %s", s->exe, strerror(err));
    } else {
        p->pid = pid;
        p->sentinel = s->sentinel[0];
        s->sentinel[0] = -1;
    }
    mp_os_spawn_cancel(s);
    return rc;
}

/* ---- the child's side ----------------------------------------------------- */

static int fd_is_open(mp_os_handle h)
{
    return h >= 0 && h <= INT_MAX && fcntl((int)h, F_GETFD) >= 0;
}

int mp_os_child_adopt(mp_os_handle h)
{
    /* CLOEXEC again, so the handle does not leak into grandchildren. */
    if (!fd_is_open(h) || mp_px_cloexec((int)h) < 0)
        return mp_set_error(MP_EPROTO, "bootstrap: handle %ld is not open", (long)h);
    return 0;
}

void mp_os_child_keep(mp_os_handle own)
{
    if (!fd_is_open(own)) return;
    mp_px_cloexec((int)own);
    own_sentinel = (int)own;
}

mp_os_handle mp_os_proc_sentinel(const mp_os_proc *p)
{
    return p->sentinel;
}

/* The parent's pid as this child saw it at its start; when the parent
 * dies the child is adopted (by init or a subreaper) and getppid()
 * changes, which needs no descriptor. For a wait on many (mp_wait) Linux
 * also gives a pidfd of the parent, readable once it ends; opened only
 * while getppid() still names it, so it is the parent's and not a
 * successor's of the same pid. Elsewhere core looks at getppid() between
 * slices of its wait. */
static pid_t watched_parent;
static int parent_fd = -1;

void mp_os_watch_parent(uint32_t pid)
{
    pid_t now = getppid();
    watched_parent = (uint32_t)now == pid ? now : 0;
    if (parent_fd >= 0) close(parent_fd);
    parent_fd = -1;
#if MP_HAVE_PIDFD_OPEN
    if (watched_parent != 0) {
        /* ENOSYS on kernels before 5.3 (or a seccomp filter): no fd. */
        int fd = (int)syscall(SYS_pidfd_open, watched_parent, 0);
        if (fd >= 0 && (mp_px_cloexec(fd) < 0 || getppid() != watched_parent)) {
            close(fd);
            fd = -1;
        }
        parent_fd = fd;
    }
#endif
}

mp_os_handle mp_os_parent_sentinel(void)
{
    return parent_fd >= 0 ? (mp_os_handle)parent_fd : MP_OS_NO_HANDLE;
}

int mp_os_parent_alive(void)
{
    return watched_parent != 0 && getppid() == watched_parent;
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
