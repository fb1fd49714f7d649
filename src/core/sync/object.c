/* object.c - the segment and wait queue of a synchronization object (see
 * object.h). */
#include <string.h>

#include "base/error.h"
#include "core/sync/object.h"

#define STATE_OFFSET 64u

typedef struct sync_header {
    uint32_t magic;
    uint32_t version;
    uint32_t kind;
    uint32_t state_size;
} sync_header;

static size_t segment_size(size_t state_size)
{
    return STATE_OFFSET + state_size;
}

int mp_syncobj_create(mp_syncobj *o, mp_os_wq *wq, uint32_t kind, size_t state_size,
                      const char *what)
{
    memset(o, 0, sizeof *o);
    o->shm.handle = MP_OS_NO_HANDLE;
    int rc = mp_os_shm_create(&o->shm, segment_size(state_size));
    if (rc < 0) goto fail;
    rc = mp_os_wq_create(wq);
    if (rc < 0) goto fail;
    sync_header *h = o->shm.base;
    h->magic = MP_SYNC_MAGIC;
    h->version = MP_SYNC_VERSION;
    h->kind = kind;
    h->state_size = (uint32_t)state_size;
    o->state = (unsigned char *)o->shm.base + STATE_OFFSET;
    return 0;
fail:
    (void)what; /* the OS layer's message names the call that failed */
    if (o->shm.base) mp_os_shm_close(&o->shm);
    return rc;
}

void mp_syncobj_close(mp_syncobj *o, mp_os_wq *wq)
{
    mp_os_wq_close(wq);
    mp_os_shm_close(&o->shm);
    o->state = NULL;
}

int mp_syncobj_export(const mp_syncobj *o, const mp_os_wq *wq, uint32_t kind,
                      mp_export *ex)
{
    mp_buf_u32(ex->buf, kind);
    mp_buf_u64(ex->buf, o->shm.size);
    mp_export_handle(ex, o->shm.handle);
    return mp_syncobj_export_wq(wq, ex);
}

int mp_syncobj_import(mp_syncobj *o, mp_os_wq *wq, uint32_t kind, size_t state_size,
                      mp_import *im, const char *what)
{
    /* The wait queue's handles come last: if a check gives up first, the
     * bootstrap closes them with every other handle nobody claimed
     * (runtime/export.h). */
    mp_os_handle seg = MP_OS_NO_HANDLE;
    const char *why = NULL;
    int rc = 0;
    memset(o, 0, sizeof *o);
    o->shm.handle = MP_OS_NO_HANDLE;

    uint32_t got_kind = mp_rd_u32(im->rd);
    uint64_t size = mp_rd_u64(im->rd);
    if (im->rd->failed) {
        why = "truncated";
        goto out;
    }
    if ((rc = mp_import_handle(im, &seg)) < 0) goto out;
    if (got_kind != kind || size != segment_size(state_size)) {
        why = "not this kind of object";
        goto out;
    }
    rc = mp_os_shm_attach(&o->shm, seg, (size_t)size);
    seg = MP_OS_NO_HANDLE; /* the attach took it, also on failure */
    if (rc < 0) goto out;
    const sync_header *h = o->shm.base;
    if (h->magic != MP_SYNC_MAGIC || h->version != MP_SYNC_VERSION || h->kind != kind ||
        h->state_size != state_size) {
        why = "the shared header disagrees";
        goto out;
    }
    if ((rc = mp_syncobj_import_wq(wq, im, what)) < 0) goto out;
    o->state = (unsigned char *)o->shm.base + STATE_OFFSET;

out:
    if (why) rc = mp_set_error(MP_EPROTO, "%s from the parent: %s", what, why);
    if (rc < 0) {
        if (seg != MP_OS_NO_HANDLE) mp_os_close(seg);
        if (o->shm.base) mp_os_shm_close(&o->shm);
    }
    return rc;
}

int mp_syncobj_export_wq(const mp_os_wq *wq, mp_export *ex)
{
    mp_os_handle hs[MP_OS_WQ_MAX_HANDLES];
    int n = mp_os_wq_handles(wq, hs);
    if (n < 0) return n;
    mp_buf_u32(ex->buf, (uint32_t)n);
    for (int i = 0; i < n; i++)
        mp_export_handle(ex, hs[i]);
    if (ex->failed) return ex->failed;
    return ex->buf->failed;
}

int mp_syncobj_import_wq(mp_os_wq *wq, mp_import *im, const char *what)
{
    mp_os_handle hs[MP_OS_WQ_MAX_HANDLES];
    uint32_t n = mp_rd_u32(im->rd), taken = 0;
    int rc = 0;
    if (im->rd->failed || n > MP_OS_WQ_MAX_HANDLES) {
        rc = mp_set_error(MP_EPROTO, "%s from the parent: bad wait queue handle count",
                          what);
        goto out;
    }
    for (; taken < n; taken++)
        if ((rc = mp_import_handle(im, &hs[taken])) < 0) goto out;
    rc = mp_os_wq_adopt(wq, hs, (int)n);
    taken = 0; /* the adopt took them, also on failure */
out:
    for (uint32_t i = 0; i < taken; i++)
        mp_os_close(hs[i]);
    return rc;
}
