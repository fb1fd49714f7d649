/* arg.c - the argument kind of an mp_obj: it travels to a child as its
 * pickle (see kind.h).
 *
 * The object is pickled when the process is created, so the caller may
 * change or free it before start and the child gets exactly what it was
 * then; the child decodes its own copy, freed after the target. */
#include <stdint.h>

#include "base/error.h"
#include "core/runtime/kind.h"
#include "mproc/obj.h"

static int copy_obj(mp_arg *dst, const mp_arg *src)
{
    void *d = NULL;
    size_t n = 0;
    int rc = src->u.obj ? mp_obj_dumps(src->u.obj, &d, &n) : MP_EINVAL;
    if (rc < 0) return rc;
    dst->u.bytes.data = d;
    dst->u.bytes.len = n;
    return 0;
}

static int import_obj(mp_arg *a, mp_import *im)
{
    size_t len;
    const void *p = mp_rd_blob(im->rd, &len);
    mp_obj *o = NULL;
    int rc = p ? mp_obj_loads(p, len, &o) : MP_EPROTO;
    a->u.obj = o;
    return rc;
}

static void release_obj(mp_arg *a)
{
    mp_obj_free((mp_obj *)(uintptr_t)a->u.obj);
}

const mp_kind mp__kind_obj = {"object",           copy_obj,
                              mp__kind_drop_blob, mp__kind_export_blob,
                              import_obj,         release_obj};
