/* spawn_fds.h - the descriptors a spawned child must not inherit. */
#ifndef MP_POSIX_SPAWN_FDS_H
#define MP_POSIX_SPAWN_FDS_H

#include <spawn.h>

/* Adds to fa a close action for every descriptor of this process, other
 * than 0, 1, 2 and those in [keep_lo, keep_hi], that is open without
 * FD_CLOEXEC: what the child would otherwise inherit by accident. Call it
 * after the dup2 actions that move the passed descriptors to
 * [keep_lo, keep_hi]. 0, or an errno value. */
int mp_px_spawn_close_inherited(posix_spawn_file_actions_t *fa, int keep_lo, int keep_hi);

#endif
