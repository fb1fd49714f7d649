/* args_plain.c - the kinds of plain argument: int, double, str, bytes.
 *
 * They are copied when the process is created (the caller's buffers may go
 * away before start) and travel inside the bootstrap blob; in the child,
 * strings and bytes point into the blob, which outlives the target. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "core/runtime/kind.h"

static int copy_value(mp_arg *dst, const mp_arg *src)
{
    *dst = *src;
    return 0;
}

static int export_int(const mp_arg *a, mp_export *ex)
{
    mp_buf_u64(ex->buf, (uint64_t)a->u.i);
    return 0;
}

static int import_int(mp_arg *a, mp_import *im)
{
    a->u.i = (int64_t)mp_rd_u64(im->rd);
    return 0;
}

const mp_kind mp__kind_int = {"int", copy_value, NULL, export_int, import_int, NULL};

static int export_double(const mp_arg *a, mp_export *ex)
{
    uint64_t bits;
    memcpy(&bits, &a->u.d, sizeof bits);
    mp_buf_u64(ex->buf, bits);
    return 0;
}

static int import_double(mp_arg *a, mp_import *im)
{
    uint64_t bits = mp_rd_u64(im->rd);
    memcpy(&a->u.d, &bits, sizeof bits);
    return 0;
}

const mp_kind mp__kind_double = {"float",       copy_value,    NULL,
                                 export_double, import_double, NULL};

static int copy_str(mp_arg *dst, const mp_arg *src)
{
    if (!src->u.s) return MP_EINVAL;
    size_t n = strlen(src->u.s) + 1;
    char *s = malloc(n);
    if (!s) return MP_ENOMEM;
    memcpy(s, src->u.s, n);
    dst->u.s = s;
    return 0;
}

static void drop_str(mp_arg *a)
{
    free((void *)(uintptr_t)a->u.s);
}

static int export_str(const mp_arg *a, mp_export *ex)
{
    mp_buf_blob(ex->buf, a->u.s, strlen(a->u.s) + 1);
    return 0;
}

static int import_str(mp_arg *a, mp_import *im)
{
    size_t len;
    const char *s = mp_rd_blob(im->rd, &len);
    if (!s || len == 0 || s[len - 1] != '\0' || strlen(s) != len - 1)
        return mp_set_error(MP_EPROTO, "bootstrap data: bad string");
    a->u.s = s;
    return 0;
}

const mp_kind mp__kind_str = {"str", copy_str, drop_str, export_str, import_str, NULL};

static int copy_bytes(mp_arg *dst, const mp_arg *src)
{
    size_t n = src->u.bytes.len;
    if ((!src->u.bytes.data && n) || mp_size_bad(n)) return MP_EINVAL;
    void *d = malloc(n ? n : 1);
    if (!d) return MP_ENOMEM;
    if (n) memcpy(d, src->u.bytes.data, n);
    dst->u.bytes.data = d;
    dst->u.bytes.len = n;
    return 0;
}

void mp__kind_drop_blob(mp_arg *a)
{
    free((void *)(uintptr_t)a->u.bytes.data);
}

int mp__kind_export_blob(const mp_arg *a, mp_export *ex)
{
    mp_buf_blob(ex->buf, a->u.bytes.data, a->u.bytes.len);
    return 0;
}

static int import_bytes(mp_arg *a, mp_import *im)
{
    a->u.bytes.data = mp_rd_blob(im->rd, &a->u.bytes.len);
    return 0;
}

const mp_kind mp__kind_bytes = {
    "bytes", copy_bytes, mp__kind_drop_blob, mp__kind_export_blob, import_bytes, NULL};
