/* block.h - the shared typed block behind both Value and Array.
 *
 * Room shared/: typed shared memory. The block (here and block.c) is what
 * Value (value.c) and Array (array.c) share: layout, lock, element access
 * and repr, by typecode (typecode.h). The lock itself is sync/pidlock.h;
 * how a Value travels to a child is its argument kind (value.c,
 * runtime/kind.h). Named SharedMemory and ShareableList will live here.
 *
 * In shared memory: a header (magic, layout version, typecode, element
 * count, the lock's shared word) and, at a 64-byte aligned offset, the
 * elements. Only offsets and plain numbers live there, because every
 * process maps the segment at an address of its own.
 *
 * Per process: an mp_block handle holding the mapping and this process's
 * handle on the lock, recursive per thread (sync/reclock.h). */
#ifndef MP_CORE_SHARED_BLOCK_H
#define MP_CORE_SHARED_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "platform.h"
#include "base/buf.h"
#include "core/sync/reclock.h"
#include "mproc/synchronize.h"
#include "core/runtime/export.h"
#include "core/shared/typecode.h"

#define MP_BLOCK_MAGIC   0x4b4c424du /* "MBLK" */
#define MP_BLOCK_VERSION 2u          /* 2: the lock's wake-up count */
#define MP_BLOCK_ALIGN   64u

/* The header at offset 0 of the segment. Written once by the creator
 * before any other process can see the segment; only the lock word
 * changes afterwards. */
typedef struct mp_block_header {
    uint32_t magic;
    uint32_t version;
    uint32_t typecode;
    uint32_t has_lock;
    uint64_t count;
    uint64_t data_offset;
    mp_pidlock_shared lock;
} mp_block_header;

typedef struct mp_block {
    mp_os_shm shm;
    mp_reclock lock; /* the built-in lock, recursive per thread (sync/reclock.h) */
    int has_lock;
    const mp_typecode *tc;
    size_t count;
    unsigned char *data; /* elements, in this process's mapping */
    /* A caller's lock in place of the built-in one (Python's
     * Value(..., lock=L)): at most one of them; the block then has no lock
     * of its own (has_lock 0). Owned by this handle only in a child, which
     * got its own handle with the argument. */
    mp_lock *xlock;
    mp_rlock *xrlock;
    int owns_x;
} mp_block;

/* Creates the shared segment and, with has_lock, its lock. Elements are
 * zero. MP_EINVAL for an unknown typecode or a size that overflows. */
int mp_block_create(mp_block *b, char typecode, size_t count, int has_lock);

/* Puts the caller's Lock or RLock (one of them non-NULL) in place of a
 * built-in lock, on a block created without one. The lock is not owned:
 * it must outlive the block in this process. */
void mp_block_use_lock(mp_block *b, mp_lock *lock, mp_rlock *rlock);

/* Releases this process's mapping and handles. A lock this process holds
 * stays held: when the process ends, the next locker gets MP_EOWNERDEAD,
 * which is the truth (the data may be half-updated). */
void mp_block_close(mp_block *b);

/* Export for a child / rebuild in the child (see runtime/export.h). Import checks
 * every field and returns MP_EPROTO, closing the handles it took, if
 * anything disagrees. want_count: required element count, or SIZE_MAX for
 * any. */
int mp_block_export(mp_block *b, mp_export *ex);
int mp_block_import(mp_block *b, mp_import *im, size_t want_count);

/* The user's lock and unlock: recursive per thread for the built-in lock
 * and a caller's RLock; a caller's Lock is taken as mp_lock_acquire takes
 * it (a thread that holds it waits). lock gives MP_EOWNERDEAD with the
 * lock held if the previous holder died; MP_ESTATE for a block without a
 * lock (or, unlock, one this thread does not hold). */
int mp_block_lock(mp_block *b, uint64_t deadline_ns);
int mp_block_unlock(mp_block *b);

/* Element access under the lock (if any), index checked first. */
int mp_block_get_int(mp_block *b, size_t i, int64_t *out);
int mp_block_get_uint(mp_block *b, size_t i, uint64_t *out);
int mp_block_get_double(mp_block *b, size_t i, double *out);
int mp_block_set_int(mp_block *b, size_t i, int64_t x);
int mp_block_set_uint(mp_block *b, size_t i, uint64_t x);
int mp_block_set_double(mp_block *b, size_t i, double x);

/* Copies elements [start, start + count) out or in under the lock. */
int mp_block_read(mp_block *b, size_t start, size_t count, void *out);
int mp_block_write(mp_block *b, size_t start, size_t count, const void *in);

/* Python's repr of the element at p (an element of b's type, anywhere):
 * the float repr, a decimal integer, True/False, or b'x' for 'c'. */
void mp_block_repr_elem(const mp_block *b, mp_buf *out, const void *p);

/* Builds a Value from its export (the Value kind's import; tests feed it
 * hand-made descriptions). */
int mp__value_import(mp_value **v, mp_import *im);

#endif
