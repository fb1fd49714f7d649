/* mproc/value.h - one typed value in shared memory (Python's Value).
 *
 * A value has a Python typecode, which fixes its C type:
 *
 *   'c' char (a byte)   'b' signed char   'B' unsigned char   '?' bool
 *   'h' short           'H' unsigned short
 *   'i' int             'I' unsigned int
 *   'l' long            'L' unsigned long
 *   'q' long long       'Q' unsigned long long
 *   'f' float           'd' double
 *
 * A value made with mp_value_new() carries a lock, taken by every get and
 * set. The lock is recursive within a thread, so a read-modify-write reads
 *
 *     mp_value_lock(v);  mp_value_get_int(v, &x);  mp_value_set_int(v, x + 1);
 *     mp_value_unlock(v);
 *
 * mp_value_new_raw() makes one without a lock (Python's RawValue).
 *
 * Accessors convert as Python does: integers go in and out of every type
 * (a float reads as an integer only by mp_value_get_double), a value that
 * does not fit the type is MP_ERANGE and nothing is written, a double set
 * into an integer type is MP_EINVAL. '?' stores any non-zero integer as 1.
 *
 * Every call that returns an error code gives MP_EINVAL for a NULL value
 * or a NULL output pointer, and nothing happens then. Timeouts are as in
 * mproc/error.h: negative waits with no limit, NaN is MP_EINVAL. */
#ifndef MPROC_VALUE_H
#define MPROC_VALUE_H

#include <stdint.h>

#include "export.h"
#include "types.h"
#include "process.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates a zero-initialised value of the given typecode with a lock.
 * The caller owns *v and releases it with mp_value_free(). MP_EINVAL for
 * a NULL v or an unknown typecode, MP_ENOMEM / MP_ESYS if memory cannot be
 * had. */
MP_API int mp_value_new(mp_value **v, char typecode);

/* The same without a lock (Python's RawValue / Value(lock=False)). */
MP_API int mp_value_new_raw(mp_value **v, char typecode);

/* The same over the caller's Lock or RLock instead of a lock of its own
 * (Python's Value(typecode, lock=L)), so that several values and arrays
 * can share one lock. Every get and set takes that lock, except that a
 * thread already holding the Lock accesses without taking it again (where
 * Python would deadlock); mp_value_lock / unlock take and release it. The
 * lock is not the value's: it must outlive the value in this process; a
 * child that gets the value gets its own handle on the lock with it.
 * MP_EINVAL for a NULL lock, else as mp_value_new. */
MP_API int mp_value_new_with_lock(mp_value **v, char typecode, mp_lock *lock);
MP_API int mp_value_new_with_rlock(mp_value **v, char typecode, mp_rlock *lock);

/* The caller's lock given at creation (Python's get_lock()), or NULL:
 * for a value with a lock of its own (use mp_value_lock), a raw value,
 * NULL, or a lock of the other kind. */
MP_API mp_lock *mp_value_get_lock(mp_value *v);
MP_API mp_rlock *mp_value_get_rlock(mp_value *v);

/* Releases this process's handle. The shared memory lives on while any
 * process (a child) still holds a handle. NULL is ignored; v must not be
 * used afterwards (as after free()). */
MP_API void mp_value_free(mp_value *v);

/* The typecode, e.g. 'd'; '\0' for NULL. */
MP_API char mp_value_typecode(const mp_value *v);

/* Typed access. See the file comment for conversions: MP_EINVAL for
 * get_int / get_uint of a float typecode and set_double into an integer
 * one, MP_ERANGE for a value that does not fit (get_uint of a negative
 * value, set_* of one beyond the type). */
MP_API int mp_value_get_int(mp_value *v, int64_t *out);
MP_API int mp_value_get_uint(mp_value *v, uint64_t *out);
MP_API int mp_value_get_double(mp_value *v, double *out);
MP_API int mp_value_set_int(mp_value *v, int64_t x);
MP_API int mp_value_set_uint(mp_value *v, uint64_t x);
MP_API int mp_value_set_double(mp_value *v, double x);

/* Takes and releases the value's lock (recursive within a thread).
 * mp_value_lock returns MP_EOWNERDEAD, with the lock taken, when the
 * previous holder died holding it: the value may be half-updated.
 * MP_ESTATE for a raw value or (unlock) a lock this thread does not hold.
 * mp_value_lock_timeout: MP_ETIMEDOUT if the lock was not had within
 * timeout seconds (0: only try; negative: no limit), MP_EINVAL for NaN. */
MP_API int mp_value_lock(mp_value *v);
MP_API int mp_value_lock_timeout(mp_value *v, double timeout);
MP_API int mp_value_unlock(mp_value *v);

/* Writes Python's repr of v.value to buf as snprintf does: returns the
 * length of the full repr, writing at most size bytes including the NUL.
 * E.g. "3.1415927", "-5", "True", "b'x'". buf may be NULL with size 0 to
 * learn the length. Negative code on error: MP_EINVAL for a NULL value or
 * a NULL buf with a size, MP_ENOMEM. */
MP_API int mp_value_repr(mp_value *v, char *buf, size_t size);

/* Prints the repr and a newline on stdout, as print(v.value) does.
 * MP_EINVAL for NULL, MP_ESYS if stdout refuses the write. */
MP_API int mp_value_print(mp_value *v);

#ifdef __cplusplus
}
#endif
#endif
