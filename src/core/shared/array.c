/* array.c - Array: a fixed-length typed array in shared memory (see
 * mproc/array.h). The work is done by the shared block (block.c); this
 * file checks the arguments, initialises, and makes reprs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/runtime/kind.h"
#include "core/shared/block.h"
#include "base/deadline.h"
#include "base/error.h"
#include "mproc/array.h"
#include "core/obj/repr_scalar.h"

struct mp_array {
    mp_block b;
};

static int null_array(void)
{
    return mp_set_error(MP_EINVAL, "NULL array");
}

static int array_new(mp_array **a, char typecode, size_t len, int has_lock)
{
    if (!a) return null_array();
    *a = NULL;
    mp_array *n = calloc(1, sizeof *n);
    if (!n) return mp_set_error(MP_ENOMEM, "out of memory for an array");
    int rc = mp_block_create(&n->b, typecode, len, has_lock);
    if (rc < 0) {
        free(n);
        return rc;
    }
    *a = n;
    return 0;
}

int mp_array_new(mp_array **a, char typecode, size_t len)
{
    mp_clear_error();
    return array_new(a, typecode, len, 1);
}

int mp_array_new_raw(mp_array **a, char typecode, size_t len)
{
    mp_clear_error();
    return array_new(a, typecode, len, 0);
}

int mp_array_new_with_lock(mp_array **a, char typecode, size_t len, mp_lock *lock)
{
    mp_clear_error();
    if (a) *a = NULL;
    if (!lock) return mp_set_error(MP_EINVAL, "NULL lock");
    int rc = array_new(a, typecode, len, 0);
    if (rc == 0) mp_block_use_lock(&(*a)->b, lock, NULL);
    return rc;
}

int mp_array_new_with_rlock(mp_array **a, char typecode, size_t len, mp_rlock *lock)
{
    mp_clear_error();
    if (a) *a = NULL;
    if (!lock) return mp_set_error(MP_EINVAL, "NULL rlock");
    int rc = array_new(a, typecode, len, 0);
    if (rc == 0) mp_block_use_lock(&(*a)->b, NULL, lock);
    return rc;
}

mp_lock *mp_array_get_lock(mp_array *a)
{
    return a ? a->b.xlock : NULL;
}

mp_rlock *mp_array_get_rlock(mp_array *a)
{
    return a ? a->b.xrlock : NULL;
}

int mp_array_new_from(mp_array **a, char typecode, const void *init, size_t len)
{
    mp_clear_error();
    if (!a) return null_array();
    *a = NULL;
    if (!init && len) return mp_set_error(MP_EINVAL, "NULL initializer");
    mp_array *n;
    int rc = array_new(&n, typecode, len, 1);
    if (rc < 0) return rc;
    rc = mp_block_write(&n->b, 0, len, init);
    if (rc < 0) {
        mp_array_free(n);
        return rc;
    }
    *a = n;
    return 0;
}

int mp_array_new_range(mp_array **a, char typecode, size_t len)
{
    mp_clear_error();
    if (!a) return null_array();
    *a = NULL;
    const mp_typecode *tc = mp_typecode_find(typecode);
    if (!tc)
        return mp_set_error(MP_EINVAL, "unknown typecode 0x%02x",
                            (unsigned)(unsigned char)typecode);
    /* The largest element decides: refuse before creating anything. */
    if (len > 0) {
        int rc = mp_tc_check_uint(tc, (uint64_t)(len - 1));
        if (rc < 0) return rc;
    }
    mp_array *n;
    int rc = array_new(&n, typecode, len, 1);
    if (rc < 0) return rc;
    /* No other process can see the array yet: no lock needed. */
    for (size_t i = 0; i < len; i++)
        mp_tc_store_uint(tc, n->b.data + i * tc->size, (uint64_t)i);
    *a = n;
    return 0;
}

void mp_array_free(mp_array *a)
{
    if (!a) return;
    mp_block_close(&a->b);
    free(a);
}

char mp_array_typecode(const mp_array *a)
{
    return a ? a->b.tc->code : '\0';
}

size_t mp_array_len(const mp_array *a)
{
    return a ? a->b.count : 0;
}

size_t mp_array_itemsize(const mp_array *a)
{
    return a ? a->b.tc->size : 0;
}

int mp_array_get_int(mp_array *a, size_t i, int64_t *out)
{
    mp_clear_error();
    return a ? mp_block_get_int(&a->b, i, out) : null_array();
}

int mp_array_get_uint(mp_array *a, size_t i, uint64_t *out)
{
    mp_clear_error();
    return a ? mp_block_get_uint(&a->b, i, out) : null_array();
}

int mp_array_get_double(mp_array *a, size_t i, double *out)
{
    mp_clear_error();
    return a ? mp_block_get_double(&a->b, i, out) : null_array();
}

int mp_array_set_int(mp_array *a, size_t i, int64_t x)
{
    mp_clear_error();
    return a ? mp_block_set_int(&a->b, i, x) : null_array();
}

int mp_array_set_uint(mp_array *a, size_t i, uint64_t x)
{
    mp_clear_error();
    return a ? mp_block_set_uint(&a->b, i, x) : null_array();
}

int mp_array_set_double(mp_array *a, size_t i, double x)
{
    mp_clear_error();
    return a ? mp_block_set_double(&a->b, i, x) : null_array();
}

int mp_array_read(mp_array *a, size_t start, size_t count, void *out)
{
    mp_clear_error();
    return a ? mp_block_read(&a->b, start, count, out) : null_array();
}

int mp_array_write(mp_array *a, size_t start, size_t count, const void *in)
{
    mp_clear_error();
    return a ? mp_block_write(&a->b, start, count, in) : null_array();
}

int mp_array_lock_timeout(mp_array *a, void **data, double timeout)
{
    mp_clear_error();
    if (data) *data = NULL;
    if (!a) return null_array();
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    rc = mp_block_lock(&a->b, mp_deadline(timeout));
    if ((rc == 0 || rc == MP_EOWNERDEAD) && data) *data = a->b.data;
    return rc;
}

int mp_array_lock(mp_array *a, void **data)
{
    mp_clear_error();
    return mp_array_lock_timeout(a, data, MP_FOREVER);
}

int mp_array_unlock(mp_array *a)
{
    mp_clear_error();
    return a ? mp_block_unlock(&a->b) : null_array();
}

void *mp_array_data(mp_array *a)
{
    return a ? a->b.data : NULL;
}

int mp_array_repr(mp_array *a, char **out)
{
    mp_clear_error();
    if (out) *out = NULL;
    if (!a || !out) return mp_set_error(MP_EINVAL, "NULL array or output");
    const mp_block *b = &a->b;
    size_t size = b->tc->size, n = b->count;
    /* Like Python's a[:], copy under the lock and format outside it, so
     * that other processes wait for a memcpy, not for the formatting. */
    unsigned char *snap = NULL;
    if (n) {
        snap = malloc(n * size);
        if (!snap) return mp_set_error(MP_ENOMEM, "out of memory for a repr");
        int rc = mp_block_read(&a->b, 0, n, snap);
        if (rc < 0) {
            free(snap);
            return rc;
        }
    }
    mp_buf r;
    mp_buf_init(&r);
    if (b->tc->kind == MP_TC_CHAR) {
        mp_repr_bytes(&r, snap, n);
    } else {
        mp_buf_u8(&r, '[');
        for (size_t i = 0; i < n; i++) {
            if (i) mp_buf_put(&r, ", ", 2);
            mp_block_repr_elem(b, &r, snap + i * size);
        }
        mp_buf_u8(&r, ']');
    }
    mp_buf_u8(&r, '\0');
    free(snap);
    if (r.failed) {
        mp_buf_free(&r);
        return mp_set_error(MP_ENOMEM, "out of memory for a repr");
    }
    *out = (char *)r.data;
    return 0;
}

int mp_array_print(mp_array *a)
{
    mp_clear_error();
    char *s;
    int rc = mp_array_repr(a, &s);
    if (rc < 0) return rc;
    int bad = fputs(s, stdout) == EOF || putchar('\n') == EOF;
    mp_free(s);
    return bad ? mp_set_error(MP_ESYS, "writing to stdout failed") : 0;
}

static int array_export(const mp_arg *a, mp_export *ex)
{
    return mp_block_export(&a->u.array->b, ex);
}

static int import_array(mp_array **a, mp_import *im)
{
    *a = NULL;
    mp_array *n = calloc(1, sizeof *n);
    if (!n) return mp_set_error(MP_ENOMEM, "out of memory for an array");
    int rc = mp_block_import(&n->b, im, SIZE_MAX);
    if (rc < 0) {
        free(n);
        return rc;
    }
    *a = n;
    return 0;
}

static int array_import(mp_arg *a, mp_import *im)
{
    return import_array(&a->u.array, im);
}

static void array_release(mp_arg *a)
{
    mp_array_free(a->u.array);
}

const mp_kind mp__kind_array = {"Array",      mp__kind_copy_ref, NULL,
                                array_export, array_import,      array_release};
