/* spawn_fds.c - the descriptors a spawned child must not inherit (see
 * spawn_fds.h).
 *
 * mproc opens everything close-on-exec, but the program may not: a file
 * it opened without O_CLOEXEC would reach every spawned child, at a number
 * the child's own code may take for something else. Python's spawn hands
 * a child its passed descriptors and stdio only; so does this, with close
 * actions in the spawn itself rather than in the child, where fds the
 * child's own constructors opened could not be told from inherited ones.
 *
 * Below the passed descriptors every number is looked at (there are few:
 * they start just above the highest source). Above them,
 * posix_spawn_file_actions_addclosefrom_np closes the rest where the C
 * library has it (proc.c); otherwise the open descriptors are listed from
 * /proc/self/fd or /dev/fd, and where neither exists (a chroot) every
 * number up to the descriptor limit, at most OPEN_SCAN_MAX, is tried. A
 * descriptor another thread opens without O_CLOEXEC between this look and
 * the spawn can still slip through: nothing but close-on-exec closes
 * that race, for any spawn. */
#define _GNU_SOURCE
#include "mp_posix_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "spawn_fds.h"

static int inherited(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return fl >= 0 && !(fl & FD_CLOEXEC);
}

static int close_one(posix_spawn_file_actions_t *fa, int fd, int keep_lo, int keep_hi)
{
    if (fd <= 2 || (fd >= keep_lo && fd <= keep_hi) || !inherited(fd)) return 0;
    return posix_spawn_file_actions_addclose(fa, fd);
}

#if !MP_HAVE_ADDCLOSEFROM_NP
/* Every open fd above keep_hi from a directory listing them; -1 if there
 * is no such directory. */
static int close_listed(posix_spawn_file_actions_t *fa, const char *dir, int keep_lo,
                        int keep_hi)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int err = 0, self = dirfd(d);
    struct dirent *e;
    while (!err && (e = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || end == e->d_name || fd <= keep_hi || fd > INT_MAX || fd == self)
            continue;
        err = close_one(fa, (int)fd, keep_lo, keep_hi);
    }
    closedir(d);
    return err;
}
#endif

static int close_above(posix_spawn_file_actions_t *fa, int keep_lo, int keep_hi)
{
#if MP_HAVE_ADDCLOSEFROM_NP
    (void)fa;
    (void)keep_lo;
    (void)keep_hi;
    return 0; /* proc.c closes everything above keep_hi */
#else
    enum { OPEN_SCAN_MAX = 65536 };
    int err = close_listed(fa, "/proc/self/fd", keep_lo, keep_hi);
    if (err < 0) err = close_listed(fa, "/dev/fd", keep_lo, keep_hi);
    if (err >= 0) return err;
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > OPEN_SCAN_MAX) max = OPEN_SCAN_MAX;
    err = 0;
    for (int fd = keep_hi + 1; fd < max && !err; fd++)
        err = close_one(fa, fd, keep_lo, keep_hi);
    return err;
#endif
}

int mp_px_spawn_close_inherited(posix_spawn_file_actions_t *fa, int keep_lo, int keep_hi)
{
    int err = 0;
    for (int fd = 3; fd < keep_lo && !err; fd++)
        err = close_one(fa, fd, keep_lo, keep_hi);
    return err ? err : close_above(fa, keep_lo, keep_hi);
}
