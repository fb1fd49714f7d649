/* typecode.c - the typecode table and converting loads and stores (see
 * typecode.h). */
#include <limits.h>
#include <string.h>

#include "base/error.h"
#include "core/shared/typecode.h"

/* Loads and stores go through fixed-width integers of the type's size; that
 * is only the same object representation if every C type has one of these
 * widths, which holds on every platform mproc targets. */
_Static_assert(sizeof(short) == 2, "short is 16 bits");
_Static_assert(sizeof(int) == 4, "int is 32 bits");
_Static_assert(sizeof(long) == 4 || sizeof(long) == 8, "long is 32 or 64 bits");
_Static_assert(sizeof(long long) == 8, "long long is 64 bits");
_Static_assert(sizeof(_Bool) == 1, "_Bool is one byte");
_Static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE float and double");

static const mp_typecode table[] = {
    {'c', 1, MP_TC_CHAR, 0, UCHAR_MAX},
    {'b', sizeof(signed char), MP_TC_SIGNED, SCHAR_MIN, SCHAR_MAX},
    {'B', sizeof(unsigned char), MP_TC_UNSIGNED, 0, UCHAR_MAX},
    {'?', sizeof(_Bool), MP_TC_BOOL, INT64_MIN, UINT64_MAX},
    {'h', sizeof(short), MP_TC_SIGNED, SHRT_MIN, SHRT_MAX},
    {'H', sizeof(unsigned short), MP_TC_UNSIGNED, 0, USHRT_MAX},
    {'i', sizeof(int), MP_TC_SIGNED, INT_MIN, INT_MAX},
    {'I', sizeof(unsigned int), MP_TC_UNSIGNED, 0, UINT_MAX},
    {'l', sizeof(long), MP_TC_SIGNED, LONG_MIN, LONG_MAX},
    {'L', sizeof(unsigned long), MP_TC_UNSIGNED, 0, ULONG_MAX},
    {'q', sizeof(long long), MP_TC_SIGNED, LLONG_MIN, LLONG_MAX},
    {'Q', sizeof(unsigned long long), MP_TC_UNSIGNED, 0, ULLONG_MAX},
    {'f', sizeof(float), MP_TC_FLOAT, 0, 0},
    {'d', sizeof(double), MP_TC_FLOAT, 0, 0},
};

const mp_typecode *mp_typecode_find(char code)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].code == code) return &table[i];
    return NULL;
}

static int64_t load_signed(const void *p, size_t size)
{
    switch (size) {
    case 1: {
        int8_t v;
        memcpy(&v, p, 1);
        return v;
    }
    case 2: {
        int16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    case 4: {
        int32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    default: {
        int64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    }
}

static uint64_t load_unsigned(const void *p, size_t size)
{
    switch (size) {
    case 1: {
        uint8_t v;
        memcpy(&v, p, 1);
        return v;
    }
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    default: {
        uint64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    }
}

/* Writes the low size bytes of bits; for a signed type, bits is the two's
 * complement of the value, which the range check has proven fits. */
static void store_bits(void *p, size_t size, uint64_t bits)
{
    switch (size) {
    case 1: {
        uint8_t v = (uint8_t)bits;
        memcpy(p, &v, 1);
        break;
    }
    case 2: {
        uint16_t v = (uint16_t)bits;
        memcpy(p, &v, 2);
        break;
    }
    case 4: {
        uint32_t v = (uint32_t)bits;
        memcpy(p, &v, 4);
        break;
    }
    default:
        memcpy(p, &bits, 8);
        break;
    }
}

static double load_float(const mp_typecode *t, const void *p)
{
    if (t->size == sizeof(float)) {
        float f;
        memcpy(&f, p, sizeof f);
        return (double)f;
    }
    double d;
    memcpy(&d, p, sizeof d);
    return d;
}

static void store_float(const mp_typecode *t, void *p, double x)
{
    if (t->size == sizeof(float)) {
        /* IEEE rounding, overflowing to an infinity, as c_float does. */
        float f = (float)x;
        memcpy(p, &f, sizeof f);
    } else {
        memcpy(p, &x, sizeof x);
    }
}

/* Signed kinds load into *s, the others (unsigned, '?', 'c') into *u, so
 * that no value of either range is lost on the way to a range check. */
static void load_integer(const mp_typecode *t, const void *p, int *is_signed, int64_t *s,
                         uint64_t *u)
{
    *is_signed = t->kind == MP_TC_SIGNED;
    if (*is_signed) {
        *s = load_signed(p, t->size);
    } else {
        uint64_t v = load_unsigned(p, t->size);
        *u = t->kind == MP_TC_BOOL ? (v != 0) : v;
    }
}

int mp_tc_load_int(const mp_typecode *t, const void *p, int64_t *out)
{
    if (t->kind == MP_TC_FLOAT)
        return mp_set_error(MP_EINVAL, "a '%c' value is a float: read it as a double",
                            t->code);
    int is_signed;
    int64_t s = 0;
    uint64_t u = 0;
    load_integer(t, p, &is_signed, &s, &u);
    if (!is_signed) {
        if (u > (uint64_t)INT64_MAX)
            return mp_set_error(MP_ERANGE, "'%c' value does not fit int64_t", t->code);
        s = (int64_t)u;
    }
    *out = s;
    return 0;
}

int mp_tc_load_uint(const mp_typecode *t, const void *p, uint64_t *out)
{
    if (t->kind == MP_TC_FLOAT)
        return mp_set_error(MP_EINVAL, "a '%c' value is a float: read it as a double",
                            t->code);
    int is_signed;
    int64_t s = 0;
    uint64_t u = 0;
    load_integer(t, p, &is_signed, &s, &u);
    if (is_signed) {
        if (s < 0) return mp_set_error(MP_ERANGE, "negative value read as unsigned");
        u = (uint64_t)s;
    }
    *out = u;
    return 0;
}

int mp_tc_load_double(const mp_typecode *t, const void *p, double *out)
{
    if (t->kind == MP_TC_FLOAT) {
        *out = load_float(t, p);
        return 0;
    }
    int is_signed;
    int64_t s = 0;
    uint64_t u = 0;
    load_integer(t, p, &is_signed, &s, &u);
    *out = is_signed ? (double)s : (double)u;
    return 0;
}

int mp_tc_check_int(const mp_typecode *t, int64_t x)
{
    switch (t->kind) {
    case MP_TC_FLOAT:
    case MP_TC_BOOL:
        return 0;
    case MP_TC_SIGNED:
        if (x >= t->min && x <= (int64_t)t->max) return 0;
        break;
    case MP_TC_UNSIGNED:
    case MP_TC_CHAR:
        if (x >= 0 && (uint64_t)x <= t->max) return 0;
        break;
    }
    return mp_set_error(MP_ERANGE, "%lld does not fit typecode '%c'", (long long)x,
                        t->code);
}

int mp_tc_check_uint(const mp_typecode *t, uint64_t x)
{
    if (t->kind == MP_TC_FLOAT || t->kind == MP_TC_BOOL || x <= t->max) return 0;
    return mp_set_error(MP_ERANGE, "%llu does not fit typecode '%c'",
                        (unsigned long long)x, t->code);
}

int mp_tc_store_int(const mp_typecode *t, void *p, int64_t x)
{
    int rc = mp_tc_check_int(t, x);
    if (rc < 0) return rc;
    if (t->kind == MP_TC_FLOAT)
        store_float(t, p, (double)x);
    else if (t->kind == MP_TC_BOOL)
        store_bits(p, t->size, (uint64_t)(x != 0));
    else
        store_bits(p, t->size, (uint64_t)x);
    return 0;
}

int mp_tc_store_uint(const mp_typecode *t, void *p, uint64_t x)
{
    int rc = mp_tc_check_uint(t, x);
    if (rc < 0) return rc;
    if (t->kind == MP_TC_FLOAT)
        store_float(t, p, (double)x);
    else if (t->kind == MP_TC_BOOL)
        store_bits(p, t->size, (uint64_t)(x != 0));
    else
        store_bits(p, t->size, x);
    return 0;
}

int mp_tc_store_double(const mp_typecode *t, void *p, double x)
{
    if (t->kind != MP_TC_FLOAT)
        return mp_set_error(MP_EINVAL, "a double cannot be stored in typecode '%c'",
                            t->code);
    store_float(t, p, x);
    return 0;
}
