/* boot.h - the spawn bootstrap: what a spawned child is told, and how.
 *
 * The parent puts the handle values the child will see and the bootstrap
 * blob (process.c) into a shared-memory segment and starts this program
 * again with "--mproc-child=<segment handle>" as argv[1]; the platform
 * layer only spawns and checks handles (platform.h, "processes"). The
 * segment's format is described in boot.c and docs/spawn.md. */
#ifndef MP_CORE_RUNTIME_BOOT_H
#define MP_CORE_RUNTIME_BOOT_H

#include <stddef.h>

#include "platform.h"

/* The marker a spawned child finds in argv[1], followed by a decimal
 * handle value (CPython marks its children with --multiprocessing-fork). */
#define MP_BOOT_MARKER "--mproc-child="

/* The most handles one child can be given. */
#define MP_BOOT_MAX_HANDLES 4096u

/* Starts this program again as a child that inherits exactly the n
 * handles and can read blob (len bytes) through mp__boot_child(). Fills p
 * (cleared first, also on failure). */
int mp__boot_spawn(mp_os_proc *p, const void *blob, size_t len,
                   const mp_os_handle *handles, size_t n);

/* If argv says this process was started by mp__boot_spawn, returns 1 and
 * hands over the blob (*blob, freed with free()) and the handles as they
 * are numbered here (*handles, freed with free(); each one open and no
 * longer inheritable). Neither pointer is NULL then, even for 0 bytes or
 * 0 handles. Returns 0 in any other process; MP_EPROTO if the marker or
 * the segment is unusable. The segment's handle is closed in every case. */
int mp__boot_child(int argc, char **argv, void **blob, size_t *len,
                   mp_os_handle **handles, size_t *n);

#endif
