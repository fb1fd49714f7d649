/* tracker.c - the process that unlinks tracked SharedMemory names once
 * the program that made them has ended, however it ended.
 *
 * A name is only a file in /dev/shm (or the system's equivalent): nothing
 * removes it when its creator is killed. So, as Python's resource
 * tracker does, a separate process keeps the list: the first tracked
 * create forks it, and every process of the program writes
 * "+name\n" (track) and "-name\n" (untrack, after its own unlink) into
 * one pipe whose only reader it is. Forked children inherit the write
 * end, spawned ones get it passed (runtime/process.c), so the pipe
 * reaches end of file when the last process of the program has ended:
 * the tracker then unlinks what is still listed, and exits.
 *
 * The tracker is forked without exec from a process that may have other
 * threads, so between fork and _exit it calls only async-signal-safe
 * functions (read, close, shm_unlink, sigprocmask, setsid, fork, _exit)
 * and keeps its list in a static table, never in malloc'd memory. It
 * forks once more and the middle process exits at once, so the tracker
 * is nobody's child (no zombie, and no child for the program to wait
 * for); it leaves the program's session, so a terminal's ^C or a kill of
 * the process group stops the program, not the cleanup; and it closes
 * every descriptor but its pipe, so it holds no other pipe open. Lines
 * are at most 40 bytes, under PIPE_BUF, so writers never interleave. */
#define _GNU_SOURCE
#include "mp_posix_config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#if !MP_POSIX_PORTABLE
#include <sys/syscall.h>
#endif
#include <unistd.h>

#include "base/spinlock.h"
#include "posix_util.h"

#define TRACK_MAX 4096
#define NAME_ROOM 40 /* "/" + a name of at most 30 bytes + NUL, and spare */
#define LINE_ROOM (NAME_ROOM + 2)
#define FD_SCAN   65536

static int tracker_fd = -1;
static mp_atomic_u32 tracker_lock;

/* The tracker's table: names with their leading '/', "" when free. */
static char names[TRACK_MAX][NAME_ROOM];

static void note(const char *line, size_t len)
{
    if (len < 2 || len >= NAME_ROOM) return;
    char name[NAME_ROOM];
    name[0] = '/';
    memcpy(name + 1, line + 1, len - 1);
    name[len] = '\0';
    int free_slot = -1;
    for (int i = 0; i < TRACK_MAX; i++) {
        if (names[i][0] == '\0') {
            if (free_slot < 0) free_slot = i;
        } else if (strcmp(names[i], name) == 0) {
            if (line[0] == '-') names[i][0] = '\0';
            return;
        }
    }
    if (line[0] == '+' && free_slot >= 0) memcpy(names[free_slot], name, len + 1);
}

/* The tracker: reads lines until end of file, then unlinks. */
static void track_loop(int fd)
{
    char buf[4096];
    size_t have = 0;
    for (;;) {
        ssize_t got = read(fd, buf + have, sizeof buf - have);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        have += (size_t)got;
        size_t start = 0;
        for (size_t i = 0; i < have; i++)
            if (buf[i] == '\n') {
                note(buf + start, i - start);
                start = i + 1;
            }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (have == sizeof buf) have = 0; /* no line is that long: garbage */
    }
    for (int i = 0; i < TRACK_MAX; i++)
        if (names[i][0]) shm_unlink(names[i]);
}

/* In the forked tracker: every descriptor but keep is closed, in two
 * calls where Linux has close_range (5.9), else one by one. */
static void close_others(int keep)
{
#if !MP_POSIX_PORTABLE && defined(SYS_close_range)
    if ((keep == 0 || syscall(SYS_close_range, 0u, (unsigned)keep - 1, 0u) == 0) &&
        syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u) == 0)
        return;
#endif
    for (int fd = 0; fd < FD_SCAN; fd++)
        if (fd != keep) close(fd);
}

static int start_tracker(void)
{
    int p[2];
    if (mp_px_pipe_cloexec(p) < 0) return mp_px_fail("pipe", errno);
    pid_t mid = fork();
    if (mid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return mp_px_fail("fork", e);
    }
    if (mid == 0) {
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        setsid();
        if (fork() == 0) {
            close_others(p[0]);
            track_loop(p[0]);
        }
        _exit(0);
    }
    close(p[0]);
    int st;
    while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
        ;
    tracker_fd = p[1];
    return 0;
}

static int send_line(char sign, const char *name)
{
    char line[LINE_ROOM];
    int n = snprintf(line, sizeof line, "%c%s\n", sign, name);
    if (n < 0 || (size_t)n >= sizeof line)
        return mp_set_error(MP_EINVAL, "name '%s' too long to track", name);
    /* mp_os_write_all: a tracker gone (killed) is MP_ECLOSED, no SIGPIPE. */
    return mp_os_write_all((mp_os_handle)tracker_fd, line, (size_t)n);
}

int mp_os_shm_track(const char *name)
{
    mp_spin_lock(&tracker_lock);
    int rc = tracker_fd >= 0 ? 0 : start_tracker();
    if (rc == 0) rc = send_line('+', name);
    mp_spin_unlock(&tracker_lock);
    return rc;
}

void mp_os_shm_untrack(const char *name)
{
    mp_spin_lock(&tracker_lock);
    if (tracker_fd >= 0) send_line('-', name);
    mp_spin_unlock(&tracker_lock);
}

mp_os_handle mp_os_shm_tracker(void)
{
    return tracker_fd >= 0 ? (mp_os_handle)tracker_fd : MP_OS_NO_HANDLE;
}

void mp_os_shm_tracker_adopt(mp_os_handle h)
{
    if (h < 0 || h > INT_MAX || (int)h == tracker_fd) return;
    if (tracker_fd >= 0) close(tracker_fd);
    tracker_fd = (int)h;
}
