/* repr_scalar.h - Python's repr of floats and bytes, appended to an mp_buf.
 *
 * Shared by Value/Array (their reprs) and the objects codec: every repr
 * mproc prints must be the one Python prints for the same value. */
#ifndef MP_CORE_OBJ_REPR_SCALAR_H
#define MP_CORE_OBJ_REPR_SCALAR_H

#include <stddef.h>

#include "base/buf.h"

/* Python's repr(float): the shortest digits that read back as x, laid out
 * as Python does ("3.1415927", "1e-05", "1e+16", "1.0", "-0.0", "inf",
 * "nan"). */
void mp_repr_double(mp_buf *b, double x);

/* Python's repr(bytes): b'...' (b"..." when the bytes hold ' but no "),
 * with \t \n \r \\ \' and \xNN escapes. */
void mp_repr_bytes(mp_buf *b, const void *p, size_t n);

/* Decimal integers. */
void mp_repr_int(mp_buf *b, long long x);
void mp_repr_uint(mp_buf *b, unsigned long long x);

#endif
