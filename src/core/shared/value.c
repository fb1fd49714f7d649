/* value.c - Value: one typed element in shared memory (see mproc/value.h).
 * The work is done by the shared block (block.c); this file checks the
 * arguments and makes reprs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/runtime/kind.h"
#include "core/shared/block.h"
#include "base/deadline.h"
#include "base/error.h"
#include "mproc/value.h"

struct mp_value {
    mp_block b;
};

static int null_value(void)
{
    return mp_set_error(MP_EINVAL, "NULL value");
}

static int value_new(mp_value **v, char typecode, int has_lock)
{
    if (!v) return null_value();
    *v = NULL;
    mp_value *n = calloc(1, sizeof *n);
    if (!n) return mp_set_error(MP_ENOMEM, "out of memory for a value");
    int rc = mp_block_create(&n->b, typecode, 1, has_lock);
    if (rc < 0) {
        free(n);
        return rc;
    }
    *v = n;
    return 0;
}

int mp_value_new(mp_value **v, char typecode)
{
    mp_clear_error();
    return value_new(v, typecode, 1);
}

int mp_value_new_raw(mp_value **v, char typecode)
{
    mp_clear_error();
    return value_new(v, typecode, 0);
}

int mp_value_new_with_lock(mp_value **v, char typecode, mp_lock *lock)
{
    mp_clear_error();
    if (v) *v = NULL;
    if (!lock) return mp_set_error(MP_EINVAL, "NULL lock");
    int rc = value_new(v, typecode, 0);
    if (rc == 0) mp_block_use_lock(&(*v)->b, lock, NULL);
    return rc;
}

int mp_value_new_with_rlock(mp_value **v, char typecode, mp_rlock *lock)
{
    mp_clear_error();
    if (v) *v = NULL;
    if (!lock) return mp_set_error(MP_EINVAL, "NULL rlock");
    int rc = value_new(v, typecode, 0);
    if (rc == 0) mp_block_use_lock(&(*v)->b, NULL, lock);
    return rc;
}

mp_lock *mp_value_get_lock(mp_value *v)
{
    return v ? v->b.xlock : NULL;
}

mp_rlock *mp_value_get_rlock(mp_value *v)
{
    return v ? v->b.xrlock : NULL;
}

void mp_value_free(mp_value *v)
{
    if (!v) return;
    mp_block_close(&v->b);
    free(v);
}

char mp_value_typecode(const mp_value *v)
{
    return v ? v->b.tc->code : '\0';
}

int mp_value_get_int(mp_value *v, int64_t *out)
{
    mp_clear_error();
    return v ? mp_block_get_int(&v->b, 0, out) : null_value();
}

int mp_value_get_uint(mp_value *v, uint64_t *out)
{
    mp_clear_error();
    return v ? mp_block_get_uint(&v->b, 0, out) : null_value();
}

int mp_value_get_double(mp_value *v, double *out)
{
    mp_clear_error();
    return v ? mp_block_get_double(&v->b, 0, out) : null_value();
}

int mp_value_set_int(mp_value *v, int64_t x)
{
    mp_clear_error();
    return v ? mp_block_set_int(&v->b, 0, x) : null_value();
}

int mp_value_set_uint(mp_value *v, uint64_t x)
{
    mp_clear_error();
    return v ? mp_block_set_uint(&v->b, 0, x) : null_value();
}

int mp_value_set_double(mp_value *v, double x)
{
    mp_clear_error();
    return v ? mp_block_set_double(&v->b, 0, x) : null_value();
}

int mp_value_lock(mp_value *v)
{
    mp_clear_error();
    return v ? mp_block_lock(&v->b, MP_NO_DEADLINE) : null_value();
}

int mp_value_lock_timeout(mp_value *v, double timeout)
{
    mp_clear_error();
    if (!v) return null_value();
    int rc = mp_timeout_check(timeout);
    return rc < 0 ? rc : mp_block_lock(&v->b, mp_deadline(timeout));
}

int mp_value_unlock(mp_value *v)
{
    mp_clear_error();
    return v ? mp_block_unlock(&v->b) : null_value();
}

/* The repr into a fresh mp_buf, NUL-terminated. */
static int value_repr_buf(mp_value *v, mp_buf *out)
{
    unsigned char elem[8];
    int rc = mp_block_read(&v->b, 0, 1, elem);
    if (rc < 0) return rc;
    mp_buf_init(out);
    mp_block_repr_elem(&v->b, out, elem);
    mp_buf_u8(out, '\0');
    if (out->failed) {
        mp_buf_free(out);
        return mp_set_error(MP_ENOMEM, "out of memory for a repr");
    }
    return 0;
}

int mp_value_repr(mp_value *v, char *buf, size_t size)
{
    mp_clear_error();
    if (!v) return null_value();
    if (!buf && size) return mp_set_error(MP_EINVAL, "NULL buffer with a size");
    mp_buf r;
    int rc = value_repr_buf(v, &r);
    if (rc < 0) return rc;
    size_t len = r.len - 1;
    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(buf, r.data, n);
        buf[n] = '\0';
    }
    mp_buf_free(&r);
    return (int)len;
}

int mp_value_print(mp_value *v)
{
    mp_clear_error();
    if (!v) return null_value();
    mp_buf r;
    int rc = value_repr_buf(v, &r);
    if (rc < 0) return rc;
    int bad = fputs((const char *)r.data, stdout) == EOF || putchar('\n') == EOF;
    mp_buf_free(&r);
    return bad ? mp_set_error(MP_ESYS, "writing to stdout failed") : 0;
}

static int value_export(const mp_arg *a, mp_export *ex)
{
    return mp_block_export(&a->u.value->b, ex);
}

int mp__value_import(mp_value **v, mp_import *im)
{
    *v = NULL;
    mp_value *n = calloc(1, sizeof *n);
    if (!n) return mp_set_error(MP_ENOMEM, "out of memory for a value");
    int rc = mp_block_import(&n->b, im, 1);
    if (rc < 0) {
        free(n);
        return rc;
    }
    *v = n;
    return 0;
}

static int value_import(mp_arg *a, mp_import *im)
{
    return mp__value_import(&a->u.value, im);
}

static void value_release(mp_arg *a)
{
    mp_value_free(a->u.value);
}

const mp_kind mp__kind_value = {"Value",      mp__kind_copy_ref, NULL,
                                value_export, value_import,      value_release};
