/* shared/misuse_array.c - misuse rows for mproc/array.h. */
#include <math.h>
#include <string.h>

#include "misuse.h"

enum { LEN = 4 };

static void setup(mpt_fx *fx)
{
    MPT_OK(mp_array_new_range(&fx->a, 'i', LEN));
    MPT_OK(mp_array_new_raw(&fx->araw, 'd', LEN));
}

static void teardown(mpt_fx *fx)
{
    mp_array_free(fx->a);
    mp_array_free(fx->araw);
}

static const char *check(mpt_fx *fx)
{
    int in[LEN] = {5, 6, 7, 8}, out[LEN] = {0};
    if (mp_array_write(fx->a, 0, LEN, in) < 0 || mp_array_read(fx->a, 0, LEN, out) < 0 ||
        memcmp(in, out, sizeof in) != 0)
        return "the Array";
    double d = 0;
    if (mp_array_set_double(fx->araw, LEN - 1, 0.25) < 0 ||
        mp_array_get_double(fx->araw, LEN - 1, &d) < 0 || d != 0.25)
        return "the raw Array";
    if (mp_array_unlock(fx->a) != MP_ESTATE) return "the Array's lock (left held)";
    return NULL;
}

/* The array a row names: the 'i' one, NULL, or the raw 'd' one. */
static mp_array *pick(mpt_fx *fx, const mpt_row *r)
{
    return r->h == MPT_NULL ? NULL : r->h == MPT_OTHER ? fx->araw : fx->a;
}

static int new_plain(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    mp_array *a = NULL;
    int rc = mp_array_new(r->h == MPT_NULL ? NULL : &a, r->tc, r->n);
    mp_array_free(a);
    return rc;
}

static int new_raw(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    mp_array *a = NULL;
    int rc = mp_array_new_raw(r->h == MPT_NULL ? NULL : &a, r->tc, r->n);
    mp_array_free(a);
    return rc;
}

static int new_from(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    static const int init[LEN] = {1, 2, 3, 4};
    mp_array *a = NULL;
    int rc = mp_array_new_from(r->h == MPT_NULL ? NULL : &a, r->tc,
                               r->h == MPT_NULL_OUT ? NULL : init, r->n);
    mp_array_free(a);
    return rc;
}

static int new_range(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    mp_array *a = NULL;
    int rc = mp_array_new_range(r->h == MPT_NULL ? NULL : &a, r->tc, r->n);
    mp_array_free(a);
    return rc;
}

static int free_null(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    (void)r;
    mp_array_free(NULL);
    return 0;
}

static int queries_null(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    (void)r;
    return mp_array_typecode(NULL) == '\0' && mp_array_len(NULL) == 0 &&
                   mp_array_itemsize(NULL) == 0 && mp_array_data(NULL) == NULL
               ? 0
               : MPT_R_WRONG;
}

static int get_int(mpt_fx *fx, const mpt_row *r)
{
    int64_t x;
    return mp_array_get_int(pick(fx, r), r->i, r->h == MPT_NULL_OUT ? NULL : &x);
}

static int get_uint(mpt_fx *fx, const mpt_row *r)
{
    uint64_t x;
    return mp_array_get_uint(pick(fx, r), r->i, r->h == MPT_NULL_OUT ? NULL : &x);
}

static int get_double(mpt_fx *fx, const mpt_row *r)
{
    double x;
    return mp_array_get_double(pick(fx, r), r->i, r->h == MPT_NULL_OUT ? NULL : &x);
}

static int set_int(mpt_fx *fx, const mpt_row *r)
{
    return mp_array_set_int(pick(fx, r), r->i, r->x);
}

static int set_uint(mpt_fx *fx, const mpt_row *r)
{
    return mp_array_set_uint(pick(fx, r), r->i, (uint64_t)r->x);
}

static int set_double(mpt_fx *fx, const mpt_row *r)
{
    return mp_array_set_double(pick(fx, r), r->i, 0.5);
}

/* The guard words after the buffer must stay untouched: a refused read or
 * write writes nothing. */
static int read_slice(mpt_fx *fx, const mpt_row *r)
{
    int buf[LEN + 2];
    for (int k = 0; k < LEN + 2; k++)
        buf[k] = -77;
    int rc = mp_array_read(pick(fx, r), r->i, r->n, r->h == MPT_NULL_OUT ? NULL : buf);
    if (rc < 0)
        for (int k = 0; k < LEN + 2; k++)
            if (buf[k] != -77) return MPT_R_WRONG;
    return rc;
}

static int write_slice(mpt_fx *fx, const mpt_row *r)
{
    static const int in[LEN] = {9, 9, 9, 9};
    int rc = mp_array_write(pick(fx, r), r->i, r->n, r->h == MPT_NULL_OUT ? NULL : in);
    if (rc < 0) {
        /* Nothing was written: the range 0..3 is still there. */
        int out[LEN];
        MPT_OK(mp_array_read(fx->a, 0, LEN, out));
        for (int k = 0; k < LEN; k++)
            if (out[k] != k) return MPT_R_WRONG;
    }
    return rc;
}

static int lock(mpt_fx *fx, const mpt_row *r)
{
    void *data = &data;
    mp_array *a = pick(fx, r);
    int rc = mp_array_lock(a, r->h == MPT_NULL_OUT ? NULL : &data);
    if (rc == 0) MPT_OK(mp_array_unlock(a));
    /* A failed lock says so in data too. */
    if (rc < 0 && r->h != MPT_NULL_OUT && data != NULL) return MPT_R_WRONG;
    return rc;
}

static int lock_timeout(mpt_fx *fx, const mpt_row *r)
{
    void *data = &data;
    mp_array *a = pick(fx, r);
    int rc = mp_array_lock_timeout(a, &data, r->t);
    if (rc == 0) {
        if (data != mp_array_data(a)) return MPT_R_WRONG;
        MPT_OK(mp_array_unlock(a));
    } else if (data != NULL) {
        return MPT_R_WRONG;
    }
    return rc;
}

static int unlock(mpt_fx *fx, const mpt_row *r)
{
    return mp_array_unlock(pick(fx, r));
}

static int repr(mpt_fx *fx, const mpt_row *r)
{
    char *s = (char *)"untouched";
    int rc = mp_array_repr(pick(fx, r), r->h == MPT_NULL_OUT ? NULL : &s);
    if (rc == 0) mp_free(s);
    if (rc < 0 && r->h != MPT_NULL_OUT && s != NULL) return MPT_R_WRONG;
    return rc;
}

static int print(mpt_fx *fx, const mpt_row *r)
{
    return mp_array_print(pick(fx, r));
}

#define HUGE_LEN ((size_t)-1)

static const mpt_row rows[] = {
    {"mp_array_new", "NULL result pointer", new_plain, MP_EINVAL, .h = MPT_NULL,
     .tc = 'i', .n = 1},
    {"mp_array_new", "typecode 'x'", new_plain, MP_EINVAL, .tc = 'x', .n = 1},
    {"mp_array_new", "length SIZE_MAX (a negative length)", new_plain, MP_EINVAL,
     .tc = 'i', .n = HUGE_LEN},
    {"mp_array_new", "length SIZE_MAX / 8 of 'd' (size overflows)", new_plain, MP_EINVAL,
     .tc = 'd', .n = HUGE_LEN / 8},
    {"mp_array_new", "length PTRDIFF_MAX of 'c' (no object is that large)", new_plain,
     MP_EINVAL, .tc = 'c', .n = (size_t)PTRDIFF_MAX},
    {"mp_array_new", "length 0 (allowed: Array('i', 0))", new_plain, 0, .tc = 'i'},
    {"mp_array_new_raw", "NULL result pointer", new_raw, MP_EINVAL, .h = MPT_NULL,
     .tc = 'i', .n = 1},
    {"mp_array_new_raw", "typecode 'x'", new_raw, MP_EINVAL, .tc = 'x', .n = 1},
    {"mp_array_new_raw", "length SIZE_MAX", new_raw, MP_EINVAL, .tc = 'i', .n = HUGE_LEN},
    {"mp_array_new_from", "NULL result pointer", new_from, MP_EINVAL, .h = MPT_NULL,
     .tc = 'i', .n = LEN},
    {"mp_array_new_from", "NULL initializer with a length", new_from, MP_EINVAL,
     .h = MPT_NULL_OUT, .tc = 'i', .n = LEN},
    {"mp_array_new_from", "NULL initializer, length 0 (allowed)", new_from, 0,
     .h = MPT_NULL_OUT, .tc = 'i'},
    {"mp_array_new_from", "typecode 'x'", new_from, MP_EINVAL, .tc = 'x', .n = LEN},
    {"mp_array_new_from", "length SIZE_MAX (init is never read)", new_from, MP_EINVAL,
     .tc = 'i', .n = HUGE_LEN},
    {"mp_array_new_range", "NULL result pointer", new_range, MP_EINVAL, .h = MPT_NULL,
     .tc = 'i', .n = 3},
    {"mp_array_new_range", "typecode 'x'", new_range, MP_EINVAL, .tc = 'x', .n = 3},
    {"mp_array_new_range", "300 elements of 'b' (299 does not fit)", new_range, MP_ERANGE,
     .tc = 'b', .n = 300},
    {"mp_array_new_range", "length SIZE_MAX of 'q' (SIZE_MAX - 1 does not fit)",
     new_range, MP_ERANGE, .tc = 'q', .n = HUGE_LEN},
    {"mp_array_new_range", "length SIZE_MAX of 'Q' (it fits; the size overflows)",
     new_range, MP_EINVAL, .tc = 'Q', .n = HUGE_LEN},
    {"mp_array_free", "NULL", free_null, 0, .h = MPT_LIVE},
    {"mp_array_typecode/len/itemsize/data", "NULL gives '\\0', 0, 0, NULL", queries_null,
     0, .h = MPT_LIVE},
    {"mp_array_get_int", "NULL array", get_int, MP_EINVAL, .h = MPT_NULL},
    {"mp_array_get_int", "NULL output", get_int, MP_EINVAL, .h = MPT_NULL_OUT},
    {"mp_array_get_int", "index == len", get_int, MP_ERANGE, .i = LEN},
    {"mp_array_get_int", "index SIZE_MAX (-1)", get_int, MP_ERANGE, .i = HUGE_LEN},
    {"mp_array_get_int", "a 'd' array (wrong typecode)", get_int, MP_EINVAL,
     .h = MPT_OTHER},
    {"mp_array_get_uint", "NULL array", get_uint, MP_EINVAL, .h = MPT_NULL},
    {"mp_array_get_uint", "NULL output", get_uint, MP_EINVAL, .h = MPT_NULL_OUT},
    {"mp_array_get_uint", "index past the end", get_uint, MP_ERANGE, .i = LEN + 1},
    {"mp_array_get_double", "NULL array", get_double, MP_EINVAL, .h = MPT_NULL},
    {"mp_array_get_double", "NULL output", get_double, MP_EINVAL, .h = MPT_NULL_OUT},
    {"mp_array_get_double", "index past the end of the raw array", get_double, MP_ERANGE,
     .h = MPT_OTHER, .i = LEN},
    {"mp_array_set_int", "NULL array", set_int, MP_EINVAL, .h = MPT_NULL},
    {"mp_array_set_int", "index == len", set_int, MP_ERANGE, .i = LEN, .x = 1},
    {"mp_array_set_int", "index SIZE_MAX", set_int, MP_ERANGE, .i = HUGE_LEN, .x = 1},
    {"mp_array_set_int", "INT64_MAX into 'i'", set_int, MP_ERANGE, .x = INT64_MAX},
    {"mp_array_set_uint", "NULL array", set_uint, MP_EINVAL, .h = MPT_NULL},
    {"mp_array_set_uint", "UINT64_MAX into 'i'", set_uint, MP_ERANGE, .x = -1},
    {"mp_array_set_uint", "index past the end", set_uint, MP_ERANGE, .i = LEN + 3},
    {"mp_array_set_double", "NULL array", set_double, MP_EINVAL, .h = MPT_NULL},
    {"mp_array_set_double", "a double into 'i' (wrong typecode)", set_double, MP_EINVAL,
     .h = MPT_LIVE},
    {"mp_array_set_double", "index past the end of the raw 'd' array", set_double,
     MP_ERANGE, .h = MPT_OTHER, .i = LEN},
    {"mp_array_read", "NULL array", read_slice, MP_EINVAL, .h = MPT_NULL, .n = 1},
    {"mp_array_read", "NULL buffer with a count", read_slice, MP_EINVAL,
     .h = MPT_NULL_OUT, .n = 1},
    {"mp_array_read", "NULL buffer, count 0 (allowed)", read_slice, 0, .h = MPT_NULL_OUT},
    {"mp_array_read", "slice [3, 5) past the end", read_slice, MP_ERANGE, .i = 3, .n = 2},
    {"mp_array_read", "start past the end, count 0", read_slice, MP_ERANGE, .i = LEN + 1},
    {"mp_array_read", "start at the end, count 0 (allowed)", read_slice, 0, .i = LEN},
    {"mp_array_read", "start SIZE_MAX, count 2 (start + count wraps)", read_slice,
     MP_ERANGE, .i = HUGE_LEN, .n = 2},
    {"mp_array_read", "count SIZE_MAX", read_slice, MP_ERANGE, .n = HUGE_LEN},
    {"mp_array_write", "NULL array", write_slice, MP_EINVAL, .h = MPT_NULL, .n = 1},
    {"mp_array_write", "NULL buffer with a count", write_slice, MP_EINVAL,
     .h = MPT_NULL_OUT, .n = 1},
    {"mp_array_write", "slice [2, 6) past the end", write_slice, MP_ERANGE, .i = 2,
     .n = 4},
    {"mp_array_write", "start SIZE_MAX - 1, count 3 (wraps)", write_slice, MP_ERANGE,
     .i = HUGE_LEN - 1, .n = 3},
    {"mp_array_write", "count SIZE_MAX", write_slice, MP_ERANGE, .n = HUGE_LEN},
    {"mp_array_lock", "NULL array", lock, MP_EINVAL, .h = MPT_NULL},
    {"mp_array_lock", "a raw array (no lock)", lock, MP_ESTATE, .h = MPT_OTHER},
    {"mp_array_lock", "NULL data pointer (allowed)", lock, 0, .h = MPT_NULL_OUT},
    {"mp_array_lock_timeout", "NULL array", lock_timeout, MP_EINVAL, .h = MPT_NULL},
    {"mp_array_lock_timeout", "a raw array", lock_timeout, MP_ESTATE, .h = MPT_OTHER},
    {"mp_array_lock_timeout", "timeout NaN", lock_timeout, MP_EINVAL, .t = NAN},
    {"mp_array_lock_timeout", "timeout -1 (no limit; the lock is free)", lock_timeout, 0,
     .t = -1},
    {"mp_array_lock_timeout", "timeout -inf (no limit; the lock is free)", lock_timeout,
     0, .t = -INFINITY},
    {"mp_array_lock_timeout", "timeout +inf", lock_timeout, 0, .t = INFINITY},
    {"mp_array_unlock", "NULL array", unlock, MP_EINVAL, .h = MPT_NULL},
    {"mp_array_unlock", "not held", unlock, MP_ESTATE, .h = MPT_LIVE},
    {"mp_array_unlock", "a raw array", unlock, MP_ESTATE, .h = MPT_OTHER},
    {"mp_array_repr", "NULL array", repr, MP_EINVAL, .h = MPT_NULL},
    {"mp_array_repr", "NULL output", repr, MP_EINVAL, .h = MPT_NULL_OUT},
    {"mp_array_print", "NULL array", print, MP_EINVAL, .h = MPT_NULL},
};

const mpt_group mpt_misuse_array = MPT_GROUP("array", setup, teardown, check, rows);
