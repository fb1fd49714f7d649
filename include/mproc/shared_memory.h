/* mproc/shared_memory.h - a block of memory shared by name
 * (multiprocessing.shared_memory.SharedMemory).
 *
 * Any process that knows the name can attach, whether mproc started it
 * or not, and whether it is a C or a Python program: names and sizes are
 * Python's ("psm_" and 10 hex digits on POSIX, where the OS name has a
 * leading '/'; "wnsm_" and 8 hex digits on Windows), so Python's
 * SharedMemory(name=...) attaches to a block made here and the other way
 * round. docs/shared_memory.md has the details.
 *
 * Lifetime: a block lives until its name is unlinked (mp_shared_memory_
 * unlink) and every process has closed it. Attaching never unlinks, nor
 * does a failed attach, closing, freeing, or a process's exit: the
 * creator owns the unlink (Python 3.13's track=False), or hands it to
 * the tracker (mp_shared_memory_create_tracked), which unlinks when the
 * creator's program has ended. On Windows there are no names apart from
 * open handles: the block goes with its last handle, and unlink does
 * nothing, as in Python. */
#ifndef MPROC_SHARED_MEMORY_H
#define MPROC_SHARED_MEMORY_H

#include <stddef.h>

#include "export.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest name, in bytes: what macOS allows (31 with the '/'). */
#define MP_SHARED_MEMORY_NAME_MAX 30

/* Creates a block of size bytes (> 0), zero-filled, mode 0600, named name
 * or, for NULL, a new random name. The caller owns *shm (free with
 * mp_shared_memory_free) and the name (mp_shared_memory_unlink).
 * MP_EEXIST if the name exists already; MP_EINVAL for NULL shm, size 0, or
 * a name that is empty, longer than MP_SHARED_MEMORY_NAME_MAX or holds a
 * '/' or '\\'; MP_ENOMEM; MP_ESYS. */
MP_API int mp_shared_memory_create(mp_shared_memory **shm, const char *name, size_t size);

/* The same, and the block is tracked: its name is unlinked once this
 * program (the process that called mp_main, and every process it started)
 * has ended, however it ended, killed included, unless
 * mp_shared_memory_unlink came first (Python's track=True, but for the
 * creator only: attaching never tracks). On POSIX a tracker process,
 * started with the first tracked block, holds the list (docs/
 * shared_memory.md); Windows needs none. Errors as mp_shared_memory_create,
 * and MP_ESYS if the tracker could not be started (then nothing is
 * made). */
MP_API int mp_shared_memory_create_tracked(mp_shared_memory **shm, const char *name,
                                           size_t size);

/* Attaches to the block named name. Its size is the block's real size
 * (page-rounded on Windows). MP_ENOTFOUND if no block has the name;
 * otherwise as mp_shared_memory_create. */
MP_API int mp_shared_memory_attach(mp_shared_memory **shm, const char *name);

/* This process's view of the block (Python's buf): size bytes; NULL after
 * mp_shared_memory_close and for NULL. */
MP_API void *mp_shared_memory_buf(mp_shared_memory *shm);

/* The block's size in bytes (0 for NULL), and its name as Python spells
 * it (without POSIX's leading '/'; "" for NULL), valid until free. */
MP_API size_t mp_shared_memory_size(const mp_shared_memory *shm);
MP_API const char *mp_shared_memory_name(const mp_shared_memory *shm);

/* Python's close(): ends this process's view (buf becomes NULL); the
 * block and its name stay. Closing twice is harmless. MP_EINVAL for
 * NULL. */
MP_API int mp_shared_memory_close(mp_shared_memory *shm);

/* Python's unlink(): removes the name, so no one can attach any more; the
 * block lives on while any process has it open. Call it once, in one
 * process (usually the creator), after or before close. MP_ENOTFOUND if
 * the name is gone already; MP_EINVAL for NULL. A no-op on Windows. */
MP_API int mp_shared_memory_unlink(mp_shared_memory *shm);

/* Closes (if not closed) and releases shm; never unlinks. NULL is
 * ignored. */
MP_API void mp_shared_memory_free(mp_shared_memory *shm);

#ifdef __cplusplus
}
#endif
#endif
