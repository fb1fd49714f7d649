/* args.c - a process's arguments: the parent's copy, their travel through
 * the bootstrap blob and the child's accessors. Every step asks the table
 * of kinds (kind.h); nothing here knows a kind. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/error.h"
#include "core/runtime/args.h"
#include "core/runtime/kind.h"

#define MAX_ARGS 4096

int mp__args_copy(mp_arglist list, mp_arg **out)
{
    *out = NULL;
    if (list.count == 0) return 0;
    if (!list.items || list.count > MAX_ARGS)
        return mp_set_error(MP_EINVAL, "bad argument list (%zu items)", list.count);
    mp_arg *args = calloc(list.count, sizeof *args);
    if (!args)
        return mp_set_error(MP_ENOMEM, "out of memory for %zu arguments", list.count);
    int rc = 0;
    size_t i;
    for (i = 0; i < list.count; i++) {
        const mp_arg *a = &list.items[i];
        const mp_kind *k = mp__kind(a->type);
        args[i].type = MP_ARG_NONE;
        if (a->type == MP__ARG_UINT_RANGE) {
            rc = mp_set_error(MP_ERANGE, "argument %zu: unsigned integer above INT64_MAX",
                              i);
            break;
        }
        if (!k) {
            rc =
                mp_set_error(MP_EINVAL, "argument %zu: unknown type %d", i, (int)a->type);
            break;
        }
        mp_clear_error();
        if ((rc = k->copy(&args[i], a)) < 0) {
            char why[160];
            snprintf(why, sizeof why, "%s",
                     *mp_last_error()  ? mp_last_error()
                     : rc == MP_EINVAL ? "NULL or bad value"
                                       : mp_strerror(rc));
            rc = mp_set_error(rc, "argument %zu (%s): %s", i, k->name, why);
            break;
        }
        args[i].type = a->type;
    }
    if (rc < 0) {
        mp__args_drop(args, i + 1);
        args = NULL;
    }
    *out = args;
    return rc;
}

void mp__args_drop(mp_arg *args, size_t n)
{
    for (size_t i = 0; args && i < n; i++) {
        const mp_kind *k = mp__kind(args[i].type);
        if (k && k->drop) k->drop(&args[i]);
    }
    free(args);
}

int mp__args_export(const mp_arg *args, size_t n, mp_export *ex)
{
    mp_buf_u32(ex->buf, (uint32_t)n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        mp_buf_u8(ex->buf, (uint8_t)args[i].type);
        rc = mp__kind(args[i].type)->export_arg(&args[i], ex);
    }
    if (rc == 0) rc = ex->failed ? ex->failed : ex->buf->failed;
    if (rc == MP_ENOMEM && !*mp_last_error())
        rc = mp_set_error(rc, "out of memory for the bootstrap data");
    return rc;
}

int mp__args_import(mp_args *args, mp_import *im)
{
    mp_rd *r = im->rd;
    uint32_t n = mp_rd_u32(r);
    args->count = 0;
    args->items = NULL;
    if (r->failed || n > MAX_ARGS) return mp_set_error(MP_EPROTO, "bad argument count");
    if (n == 0) return 0;
    args->items = calloc(n, sizeof *args->items);
    if (!args->items) return mp_set_error(MP_ENOMEM, "out of memory for %u arguments", n);
    for (uint32_t i = 0; i < n; i++) {
        mp_arg *a = &args->items[i];
        mp_arg_type t = (mp_arg_type)mp_rd_u8(r);
        const mp_kind *k = r->failed ? NULL : mp__kind(t);
        mp_clear_error();
        int rc = k ? k->import_arg(a, im) : MP_EPROTO;
        if (rc == 0) {
            a->type = t;
            args->count = i + 1; /* released with the others from here */
        }
        /* What was read is whole only if the reader did not run out. */
        if (rc == 0 && r->failed) rc = MP_EPROTO;
        if (rc < 0) {
            char why[160];
            snprintf(why, sizeof why, "%s",
                     *mp_last_error() ? mp_last_error() : mp_strerror(rc));
            return mp_set_error(rc, "argument %u (%s): %s", i,
                                k ? k->name : "unknown type", why);
        }
    }
    return 0;
}

void mp__args_release(mp_args *args)
{
    for (size_t i = 0; i < args->count; i++) {
        const mp_kind *k = mp__kind(args->items[i].type);
        if (k && k->release) k->release(&args->items[i]);
    }
    free(args->items);
    args->items = NULL;
    args->count = 0;
}

/* ---- the child's accessors ------------------------------------------------ */

static const mp_arg *arg_at(const mp_args *args, size_t i, mp_arg_type t)
{
    if (!args || i >= args->count || args->items[i].type != t) return NULL;
    return &args->items[i];
}

size_t mp_args_count(const mp_args *args)
{
    return args ? args->count : 0;
}

mp_arg_type mp_args_type(const mp_args *args, size_t i)
{
    if (!args || i >= args->count) return MP_ARG_NONE;
    return args->items[i].type;
}

void *mp__args_object(const mp_args *args, size_t i, mp_arg_type t)
{
    const mp_arg *a = arg_at(args, i, t);
    return a ? a->u.object : NULL;
}

mp_value *mp_args_value(const mp_args *args, size_t i)
{
    return mp__args_object(args, i, MP_ARG_VALUE);
}

mp_array *mp_args_array(const mp_args *args, size_t i)
{
    return mp__args_object(args, i, MP_ARG_ARRAY);
}

mp_queue *mp_args_queue(const mp_args *args, size_t i)
{
    return mp__args_object(args, i, MP_ARG_QUEUE);
}

mp_conn *mp_args_conn(const mp_args *args, size_t i)
{
    return mp__args_object(args, i, MP_ARG_CONN);
}

mp_lock *mp_args_lock(const mp_args *args, size_t i)
{
    return mp__args_object(args, i, MP_ARG_LOCK);
}

mp_rlock *mp_args_rlock(const mp_args *args, size_t i)
{
    return mp__args_object(args, i, MP_ARG_RLOCK);
}

mp_semaphore *mp_args_semaphore(const mp_args *args, size_t i)
{
    return mp__args_object(args, i, MP_ARG_SEMAPHORE);
}

mp_event *mp_args_event(const mp_args *args, size_t i)
{
    return mp__args_object(args, i, MP_ARG_EVENT);
}

mp_condition *mp_args_condition(const mp_args *args, size_t i)
{
    return mp__args_object(args, i, MP_ARG_CONDITION);
}

mp_barrier *mp_args_barrier(const mp_args *args, size_t i)
{
    return mp__args_object(args, i, MP_ARG_BARRIER);
}

mp_shared_memory *mp_args_shared_memory(const mp_args *args, size_t i)
{
    return mp__args_object(args, i, MP_ARG_SHARED_MEMORY);
}

mp_obj *mp_args_obj(const mp_args *args, size_t i)
{
    const mp_arg *a = arg_at(args, i, MP_ARG_OBJ);
    /* The child's own decoded copy (const only in the parent's view). */
    return a ? (mp_obj *)(uintptr_t)a->u.obj : NULL;
}

int mp_args_get_int(const mp_args *args, size_t i, int64_t *out)
{
    mp_clear_error();
    const mp_arg *a = arg_at(args, i, MP_ARG_INT);
    if (!a || !out) return mp_set_error(MP_EINVAL, "argument %zu is not an integer", i);
    *out = a->u.i;
    return 0;
}

int mp_args_get_double(const mp_args *args, size_t i, double *out)
{
    mp_clear_error();
    const mp_arg *a = arg_at(args, i, MP_ARG_DOUBLE);
    const mp_arg *n = arg_at(args, i, MP_ARG_INT);
    if ((!a && !n) || !out)
        return mp_set_error(MP_EINVAL, "argument %zu is not a number", i);
    *out = a ? a->u.d : (double)n->u.i;
    return 0;
}

int mp_args_get_str(const mp_args *args, size_t i, const char **out)
{
    mp_clear_error();
    const mp_arg *a = arg_at(args, i, MP_ARG_STR);
    if (!a || !out) return mp_set_error(MP_EINVAL, "argument %zu is not a string", i);
    *out = a->u.s;
    return 0;
}

int mp_args_get_bytes(const mp_args *args, size_t i, const void **data, size_t *len)
{
    mp_clear_error();
    const mp_arg *a = arg_at(args, i, MP_ARG_BYTES);
    if (!a || !data || !len)
        return mp_set_error(MP_EINVAL, "argument %zu is not bytes", i);
    *data = a->u.bytes.data;
    *len = a->u.bytes.len;
    return 0;
}
