/* mproc/array.h - a fixed-length typed array in shared memory (Python's
 * Array).
 *
 * Typecodes, conversions and locking are those of mproc/value.h. Every
 * index is checked: out of range is MP_ERANGE and nothing is read or
 * written. Bulk reads and writes copy elements of the typecode's C type
 * (int for 'i', double for 'd'...) under the lock.
 *
 * Every call that returns an error code gives MP_EINVAL for a NULL array
 * or a NULL output pointer (a NULL buffer is allowed with a count of 0),
 * and nothing happens then.
 * Timeouts are as in mproc/error.h: negative waits with no limit, NaN is
 * MP_EINVAL. */
#ifndef MPROC_ARRAY_H
#define MPROC_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "types.h"
#include "process.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates an array of len zeroed elements, with a lock (len 0 is allowed).
 * The caller owns *a and releases it with mp_array_free(). MP_EINVAL for a
 * NULL a, an unknown typecode, or a length whose size in bytes is beyond
 * PTRDIFF_MAX; MP_ENOMEM / MP_ESYS if memory cannot be had. */
MP_API int mp_array_new(mp_array **a, char typecode, size_t len);

/* Creates an array initialised from len elements of the typecode's C type
 * at init (Array('i', [1, 2, 3])). Errors as mp_array_new(), and MP_EINVAL
 * for a NULL init with len > 0; init is not read when the length is
 * refused. */
MP_API int mp_array_new_from(mp_array **a, char typecode, const void *init, size_t len);

/* Creates an array holding 0, 1, ..., len-1 (Array('i', range(len))).
 * MP_ERANGE if len-1 does not fit the type (checked first); otherwise the
 * errors of mp_array_new(). */
MP_API int mp_array_new_range(mp_array **a, char typecode, size_t len);

/* Like mp_array_new, without a lock (Python's RawArray); fill it with
 * mp_array_write() or through mp_array_data(). */
MP_API int mp_array_new_raw(mp_array **a, char typecode, size_t len);

/* len zeroed elements over the caller's Lock or RLock instead of a lock
 * of its own (Python's Array(typecode, len, lock=L)): as
 * mp_value_new_with_lock (mproc/value.h). Fill it with mp_array_write. */
MP_API int mp_array_new_with_lock(mp_array **a, char typecode, size_t len, mp_lock *lock);
MP_API int mp_array_new_with_rlock(mp_array **a, char typecode, size_t len,
                                   mp_rlock *lock);

/* The caller's lock given at creation (Python's get_lock()), or NULL: as
 * mp_value_get_lock. */
MP_API mp_lock *mp_array_get_lock(mp_array *a);
MP_API mp_rlock *mp_array_get_rlock(mp_array *a);

/* Releases this process's handle; the memory lives while any process holds
 * one. NULL is ignored; a must not be used afterwards (as after free()). */
MP_API void mp_array_free(mp_array *a);

/* The typecode ('\0' for NULL) and the number of elements (0 for NULL). */
MP_API char mp_array_typecode(const mp_array *a);
MP_API size_t mp_array_len(const mp_array *a);

/* Size in bytes of one element; 0 for NULL. */
MP_API size_t mp_array_itemsize(const mp_array *a);

/* Element access by index, with the conversions of mproc/value.h (and
 * its MP_EINVAL / MP_ERANGE for a wrong typecode or a value that does not
 * fit). MP_ERANGE for an index >= len. */
MP_API int mp_array_get_int(mp_array *a, size_t i, int64_t *out);
MP_API int mp_array_get_uint(mp_array *a, size_t i, uint64_t *out);
MP_API int mp_array_get_double(mp_array *a, size_t i, double *out);
MP_API int mp_array_set_int(mp_array *a, size_t i, int64_t x);
MP_API int mp_array_set_uint(mp_array *a, size_t i, uint64_t x);
MP_API int mp_array_set_double(mp_array *a, size_t i, double x);

/* Copies count elements starting at start out of the array (read) or into
 * it (write), under the lock. MP_ERANGE unless start + count <= len
 * (computed without overflow), and nothing is copied then. */
MP_API int mp_array_read(mp_array *a, size_t start, size_t count, void *out);
MP_API int mp_array_write(mp_array *a, size_t start, size_t count, const void *in);

/* Takes the lock and gives the elements' address in this process, valid
 * until mp_array_unlock(). data may be NULL; on failure *data is NULL.
 * MP_EOWNERDEAD (lock taken) if the previous holder died holding it;
 * MP_ESTATE for a raw array or (unlock) a lock this thread does not hold;
 * mp_array_lock_timeout: MP_ETIMEDOUT if not had within timeout seconds
 * (0: only try; negative: no limit), MP_EINVAL for NaN. */
MP_API int mp_array_lock(mp_array *a, void **data);
MP_API int mp_array_lock_timeout(mp_array *a, void **data, double timeout);
MP_API int mp_array_unlock(mp_array *a);

/* The elements' address without locking: for raw arrays, or while holding
 * the lock. Valid until mp_array_free(). NULL for NULL. */
MP_API void *mp_array_data(mp_array *a);

/* Python's repr of a[:] as a string the caller frees with mp_free():
 * "[0, -1, -2]", "[1.5, 2.0]", "[True, False]", or b'...' for 'c'. On
 * failure *out is NULL: MP_EINVAL, MP_ENOMEM. */
MP_API int mp_array_repr(mp_array *a, char **out);

/* Prints that repr and a newline on stdout, as print(a[:]) does.
 * MP_EINVAL for NULL, MP_ENOMEM, MP_ESYS if stdout refuses the write. */
MP_API int mp_array_print(mp_array *a);

#ifdef __cplusplus
}
#endif
#endif
