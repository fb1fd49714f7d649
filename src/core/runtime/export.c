/* export.c - handle lists of the bootstrap blob (see runtime/export.h). */
#include <stdlib.h>

#include "base/error.h"
#include "core/runtime/export.h"

void mp_export_handle(mp_export *ex, mp_os_handle h)
{
    if (ex->failed) return;
    if (ex->n == ex->cap) {
        size_t cap = ex->cap ? ex->cap * 2 : 8;
        mp_os_handle *hs = realloc(ex->handles, cap * sizeof *hs);
        if (!hs) {
            ex->failed = MP_ENOMEM;
            return;
        }
        ex->handles = hs;
        ex->cap = cap;
    }
    mp_buf_u32(ex->buf, (uint32_t)ex->n);
    ex->handles[ex->n++] = h;
}

int mp_import_handle(mp_import *im, mp_os_handle *h)
{
    uint32_t i = mp_rd_u32(im->rd);
    if (im->rd->failed || i >= im->n || im->handles[i] == MP_OS_NO_HANDLE)
        return mp_set_error(MP_EPROTO, "bootstrap data names a bad handle");
    *h = im->handles[i];
    im->handles[i] = MP_OS_NO_HANDLE;
    return 0;
}
