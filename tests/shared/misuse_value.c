/* shared/misuse_value.c - misuse rows for mproc/value.h. */
#include <math.h>
#include <string.h>

#include "misuse.h"

static void setup(mpt_fx *fx)
{
    MPT_OK(mp_value_new(&fx->v, 'i'));
    MPT_OK(mp_value_new(&fx->vd, 'd'));
    MPT_OK(mp_value_new_raw(&fx->vraw, 'i'));
}

static void teardown(mpt_fx *fx)
{
    mp_value_free(fx->v);
    mp_value_free(fx->vd);
    mp_value_free(fx->vraw);
}

static const char *check(mpt_fx *fx)
{
    if (mpt_value_works(fx->v)) return "the Value";
    if (mpt_value_works(fx->vraw)) return "the raw Value";
    double d = 0;
    if (mp_value_set_double(fx->vd, 2.5) < 0 || mp_value_get_double(fx->vd, &d) < 0 ||
        d != 2.5)
        return "the 'd' Value";
    /* A lock left held would block another thread; this one sees depth. */
    if (mp_value_unlock(fx->v) != MP_ESTATE) return "the Value's lock (left held)";
    return NULL;
}

/* The value a row names: the 'i' one, NULL, or the raw one. */
static mp_value *pick(mpt_fx *fx, const mpt_row *r)
{
    return r->h == MPT_NULL ? NULL : r->h == MPT_OTHER ? fx->vraw : fx->v;
}

static int new_locked(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    mp_value *v = NULL;
    int rc = mp_value_new(r->h == MPT_NULL ? NULL : &v, r->tc);
    mp_value_free(v);
    return rc;
}

static int new_raw(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    mp_value *v = NULL;
    int rc = mp_value_new_raw(r->h == MPT_NULL ? NULL : &v, r->tc);
    mp_value_free(v);
    return rc;
}

static int free_null(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    (void)r;
    mp_value_free(NULL);
    return 0;
}

static int typecode(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    (void)r;
    return mp_value_typecode(NULL) == '\0' ? 0 : MPT_R_WRONG;
}

static int get_int(mpt_fx *fx, const mpt_row *r)
{
    int64_t x;
    mp_value *v = r->tc == 'd' ? fx->vd : pick(fx, r);
    return mp_value_get_int(v, r->h == MPT_NULL_OUT ? NULL : &x);
}

static int get_uint(mpt_fx *fx, const mpt_row *r)
{
    uint64_t x;
    if (r->x) MPT_OK(mp_value_set_int(fx->v, r->x));
    mp_value *v = r->tc == 'd' ? fx->vd : pick(fx, r);
    return mp_value_get_uint(v, r->h == MPT_NULL_OUT ? NULL : &x);
}

static int get_double(mpt_fx *fx, const mpt_row *r)
{
    double x;
    return mp_value_get_double(pick(fx, r), r->h == MPT_NULL_OUT ? NULL : &x);
}

static int set_int(mpt_fx *fx, const mpt_row *r)
{
    return mp_value_set_int(pick(fx, r), r->x);
}

static int set_uint(mpt_fx *fx, const mpt_row *r)
{
    return mp_value_set_uint(pick(fx, r), (uint64_t)r->x);
}

static int set_double(mpt_fx *fx, const mpt_row *r)
{
    return mp_value_set_double(r->tc == 'd' ? fx->vd : pick(fx, r), 1.5);
}

static int lock(mpt_fx *fx, const mpt_row *r)
{
    return mp_value_lock(pick(fx, r));
}

/* A successful lock is given back, so the fixture check sees it free. */
static int lock_timeout(mpt_fx *fx, const mpt_row *r)
{
    mp_value *v = pick(fx, r);
    int rc = mp_value_lock_timeout(v, r->t);
    if (rc == 0) MPT_OK(mp_value_unlock(v));
    return rc;
}

static int unlock(mpt_fx *fx, const mpt_row *r)
{
    return mp_value_unlock(pick(fx, r));
}

/* Two unlocks after one lock: the second is not this thread's to give. */
static int unlock_twice(mpt_fx *fx, const mpt_row *r)
{
    (void)r;
    MPT_OK(mp_value_lock(fx->v));
    MPT_OK(mp_value_unlock(fx->v));
    return mp_value_unlock(fx->v);
}

static int repr(mpt_fx *fx, const mpt_row *r)
{
    char buf[32];
    int rc = mp_value_repr(pick(fx, r), r->h == MPT_NULL_OUT ? NULL : buf, r->n);
    /* With size 0 only the length is asked for: "0" is 1 long. */
    return rc >= 0 ? (rc == 1 ? 0 : MPT_R_WRONG) : rc;
}

static int print(mpt_fx *fx, const mpt_row *r)
{
    return mp_value_print(pick(fx, r));
}

static const mpt_row rows[] = {
    {"mp_value_new", "NULL result pointer", new_locked, MP_EINVAL, .h = MPT_NULL,
     .tc = 'i'},
    {"mp_value_new", "typecode 'x'", new_locked, MP_EINVAL, .tc = 'x'},
    {"mp_value_new", "typecode '\\0'", new_locked, MP_EINVAL, .tc = '\0'},
    {"mp_value_new", "typecode 'u' (Python's wchar_t, not supported)", new_locked,
     MP_EINVAL, .tc = 'u'},
    {"mp_value_new_raw", "NULL result pointer", new_raw, MP_EINVAL, .h = MPT_NULL,
     .tc = 'd'},
    {"mp_value_new_raw", "typecode 'z'", new_raw, MP_EINVAL, .tc = 'z'},
    {"mp_value_free", "NULL", free_null, 0, .h = MPT_LIVE},
    {"mp_value_typecode", "NULL gives '\\0'", typecode, 0, .h = MPT_LIVE},
    {"mp_value_get_int", "NULL value", get_int, MP_EINVAL, .h = MPT_NULL},
    {"mp_value_get_int", "NULL output", get_int, MP_EINVAL, .h = MPT_NULL_OUT},
    {"mp_value_get_int", "a 'd' value (read floats as double)", get_int, MP_EINVAL,
     .tc = 'd'},
    {"mp_value_get_uint", "NULL value", get_uint, MP_EINVAL, .h = MPT_NULL},
    {"mp_value_get_uint", "NULL output", get_uint, MP_EINVAL, .h = MPT_NULL_OUT},
    {"mp_value_get_uint", "a negative value", get_uint, MP_ERANGE, .x = -3},
    {"mp_value_get_uint", "a 'd' value", get_uint, MP_EINVAL, .tc = 'd'},
    {"mp_value_get_double", "NULL value", get_double, MP_EINVAL, .h = MPT_NULL},
    {"mp_value_get_double", "NULL output", get_double, MP_EINVAL, .h = MPT_NULL_OUT},
    {"mp_value_set_int", "NULL value", set_int, MP_EINVAL, .h = MPT_NULL, .x = 1},
    {"mp_value_set_int", "INT64_MAX into 'i'", set_int, MP_ERANGE, .x = INT64_MAX},
    {"mp_value_set_int", "INT64_MIN into 'i'", set_int, MP_ERANGE, .x = INT64_MIN},
    {"mp_value_set_uint", "NULL value", set_uint, MP_EINVAL, .h = MPT_NULL, .x = 1},
    {"mp_value_set_uint", "UINT64_MAX into 'i'", set_uint, MP_ERANGE, .x = -1},
    {"mp_value_set_uint", "2^31 into 'i'", set_uint, MP_ERANGE, .x = INT64_C(1) << 31},
    {"mp_value_set_double", "NULL value", set_double, MP_EINVAL, .h = MPT_NULL},
    {"mp_value_set_double", "a double into 'i' (wrong typecode)", set_double, MP_EINVAL,
     .h = MPT_LIVE},
    {"mp_value_set_double", "a double into a raw 'i'", set_double, MP_EINVAL,
     .h = MPT_OTHER},
    {"mp_value_lock", "NULL", lock, MP_EINVAL, .h = MPT_NULL},
    {"mp_value_lock", "a raw value (no lock)", lock, MP_ESTATE, .h = MPT_OTHER},
    {"mp_value_lock_timeout", "NULL", lock_timeout, MP_EINVAL, .h = MPT_NULL, .t = 1},
    {"mp_value_lock_timeout", "a raw value", lock_timeout, MP_ESTATE, .h = MPT_OTHER,
     .t = 0},
    {"mp_value_lock_timeout", "timeout NaN", lock_timeout, MP_EINVAL, .t = NAN},
    {"mp_value_lock_timeout", "timeout -NaN", lock_timeout, MP_EINVAL, .t = -NAN},
    {"mp_value_lock_timeout", "timeout -1 (no limit; the lock is free)", lock_timeout, 0,
     .t = -1},
    {"mp_value_lock_timeout", "timeout -0.5 (no limit; the lock is free)", lock_timeout,
     0, .t = -0.5},
    {"mp_value_lock_timeout", "timeout -inf (no limit; the lock is free)", lock_timeout,
     0, .t = -INFINITY},
    {"mp_value_lock_timeout", "timeout +inf", lock_timeout, 0, .t = INFINITY},
    {"mp_value_lock_timeout", "timeout 1e300", lock_timeout, 0, .t = 1e300},
    {"mp_value_lock_timeout", "timeout 5e-324", lock_timeout, 0, .t = 5e-324},
    {"mp_value_lock_timeout", "timeout -0.0", lock_timeout, 0, .t = -0.0},
    {"mp_value_unlock", "NULL", unlock, MP_EINVAL, .h = MPT_NULL},
    {"mp_value_unlock", "not held", unlock, MP_ESTATE, .h = MPT_LIVE},
    {"mp_value_unlock", "a raw value", unlock, MP_ESTATE, .h = MPT_OTHER},
    {"mp_value_unlock", "twice after one lock", unlock_twice, MP_ESTATE, .h = MPT_LIVE},
    {"mp_value_repr", "NULL value", repr, MP_EINVAL, .h = MPT_NULL, .n = 8},
    {"mp_value_repr", "NULL buffer with a size", repr, MP_EINVAL, .h = MPT_NULL_OUT,
     .n = 8},
    {"mp_value_repr", "NULL buffer, size 0 (length only)", repr, 0, .h = MPT_NULL_OUT},
    {"mp_value_print", "NULL", print, MP_EINVAL, .h = MPT_NULL},
};

const mpt_group mpt_misuse_value = MPT_GROUP("value", setup, teardown, check, rows);

void mpt_suite_shared_misuse(void)
{
    mpt_misuse_add("shared/misuse", &mpt_misuse_value);
    mpt_misuse_add("shared/misuse", &mpt_misuse_array);
}
