/* typecode.h - Python's array/ctypes typecodes: the C type behind each
 * letter, and loads and stores that convert as Python's Value does.
 *
 * Elements are read and written with memcpy at their exact width, so a
 * pointer into shared memory needs no particular alignment and a '?' byte
 * that holds something other than 0 or 1 (written through
 * mp_array_data) is never loaded as a _Bool. */
#ifndef MP_CORE_SHARED_TYPECODE_H
#define MP_CORE_SHARED_TYPECODE_H

#include <stddef.h>
#include <stdint.h>

typedef enum mp_tc_kind {
    MP_TC_SIGNED,   /* b h i l q */
    MP_TC_UNSIGNED, /* B H I L Q */
    MP_TC_FLOAT,    /* f d */
    MP_TC_BOOL,     /* ? : stored as 0 or 1 */
    MP_TC_CHAR      /* c : one byte, 0..255 as an integer */
} mp_tc_kind;

typedef struct mp_typecode {
    char code;
    unsigned char size; /* sizeof the C type on this platform */
    mp_tc_kind kind;
    int64_t min;  /* integer range a store accepts ('?': any integer) */
    uint64_t max; /* for MP_TC_FLOAT: unused */
} mp_typecode;

/* 1 for a signed 64-bit type ('q', and 'l' where long has 64 bits):
 * int64_t loads and stores of it need no conversion or range check. */
static inline int mp_tc_is_int64(const mp_typecode *t)
{
    return t->kind == MP_TC_SIGNED && t->size == 8;
}

/* The entry for code, or NULL if code is not a typecode mproc knows. */
const mp_typecode *mp_typecode_find(char code);

/* Loads the element at p. load_int: MP_EINVAL for a float type, MP_ERANGE
 * for an unsigned value above INT64_MAX. load_uint: MP_EINVAL for a float
 * type, MP_ERANGE for a negative value. load_double works on every type. */
int mp_tc_load_int(const mp_typecode *t, const void *p, int64_t *out);
int mp_tc_load_uint(const mp_typecode *t, const void *p, uint64_t *out);
int mp_tc_load_double(const mp_typecode *t, const void *p, double *out);

/* Checks that x can be stored (MP_ERANGE if it does not fit, MP_EINVAL for a
 * double into a non-float type) without writing anything; the store
 * functions check the same way, then write. '?' accepts any integer and
 * stores 1 for non-zero. A double too large for 'f' becomes an infinity,
 * as ctypes' c_float does. */
int mp_tc_check_int(const mp_typecode *t, int64_t x);
int mp_tc_check_uint(const mp_typecode *t, uint64_t x);
int mp_tc_store_int(const mp_typecode *t, void *p, int64_t x);
int mp_tc_store_uint(const mp_typecode *t, void *p, uint64_t x);
int mp_tc_store_double(const mp_typecode *t, void *p, double x);

#endif
