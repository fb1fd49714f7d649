/* shared_memory.c - SharedMemory (mproc/shared_memory.h): a named segment
 * of the layer (mp_os_shm_*_named), Python's names, and its travel to a
 * child: the child gets the segment's handle (so a block unlinked
 * meanwhile still reaches it) and the name (for its own unlink). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "core/runtime/kind.h"
#include "mproc/shared_memory.h"
#include "platform.h"

struct mp_shared_memory {
    mp_os_shm shm;
    size_t size; /* kept after close, as Python's size stays readable */
    int tracked; /* made by mp_shared_memory_create_tracked in this process */
    char name[MP_SHARED_MEMORY_NAME_MAX + 1];
};

/* Python's random names are the prefix and hex digits up to 14
 * characters, the most FreeBSD allows. */
#define SAFE_NAME_LENGTH 14
#define NAME_ATTEMPTS    64

static int check_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0) return mp_set_error(MP_EINVAL, "empty shared memory name");
    if (n > MP_SHARED_MEMORY_NAME_MAX)
        return mp_set_error(MP_EINVAL, "shared memory name of %zu bytes (at most %d)", n,
                            MP_SHARED_MEMORY_NAME_MAX);
    if (strpbrk(name, "/\\"))
        return mp_set_error(MP_EINVAL, "shared memory name '%s' holds a slash", name);
    return 0;
}

static int random_name(char *out)
{
    const char *prefix = mp_os_shm_name_prefix();
    size_t len = strlen(prefix);
    unsigned char rnd[SAFE_NAME_LENGTH / 2];
    size_t nbytes = (SAFE_NAME_LENGTH - len) / 2;
    int rc = mp_os_random(rnd, nbytes);
    if (rc < 0) return rc;
    memcpy(out, prefix, len);
    for (size_t i = 0; i < nbytes; i++)
        snprintf(out + len + 2 * i, 3, "%02x", rnd[i]);
    return 0;
}

static int start(mp_shared_memory **out, const char *name)
{
    if (!out) return mp_set_error(MP_EINVAL, "NULL shared memory pointer");
    *out = NULL;
    if (name) {
        int rc = check_name(name);
        if (rc < 0) return rc;
    }
    *out = calloc(1, sizeof **out);
    if (!*out) return mp_set_error(MP_ENOMEM, "out of memory for a SharedMemory");
    (*out)->shm.handle = MP_OS_NO_HANDLE;
    return 0;
}

static void finish(mp_shared_memory **out, int rc)
{
    if (rc < 0) {
        free(*out);
        *out = NULL;
    } else {
        (*out)->size = (*out)->shm.size;
    }
}

static int create(mp_shared_memory **out, const char *name, size_t size)
{
    int rc = start(out, name);
    if (rc < 0) return rc;
    mp_shared_memory *s = *out;
    if (size == 0)
        rc = mp_set_error(MP_EINVAL, "a SharedMemory needs a size above 0");
    else if (name) {
        snprintf(s->name, sizeof s->name, "%s", name);
        rc = mp_os_shm_create_named(&s->shm, s->name, size);
    } else {
        /* A random name taken already: draw again, as Python does. */
        rc = MP_EEXIST;
        for (int i = 0; i < NAME_ATTEMPTS && rc == MP_EEXIST; i++) {
            rc = random_name(s->name);
            if (rc == 0) rc = mp_os_shm_create_named(&s->shm, s->name, size);
        }
    }
    finish(out, rc);
    return rc;
}

int mp_shared_memory_create(mp_shared_memory **out, const char *name, size_t size)
{
    mp_clear_error();
    return create(out, name, size);
}

int mp_shared_memory_create_tracked(mp_shared_memory **out, const char *name, size_t size)
{
    mp_clear_error();
    int rc = create(out, name, size);
    if (rc < 0) return rc;
    rc = mp_os_shm_track((*out)->name);
    if (rc < 0) {
        /* Untracked it would outlive a killed program: not made at all. */
        mp_os_shm_unlink_named((*out)->name);
        mp_shared_memory_free(*out);
        *out = NULL;
        return rc;
    }
    (*out)->tracked = 1;
    return 0;
}

int mp_shared_memory_attach(mp_shared_memory **out, const char *name)
{
    mp_clear_error();
    if (!name) return mp_set_error(MP_EINVAL, "NULL shared memory name");
    int rc = start(out, name);
    if (rc < 0) return rc;
    snprintf((*out)->name, sizeof(*out)->name, "%s", name);
    rc = mp_os_shm_open_named(&(*out)->shm, name);
    finish(out, rc);
    return rc;
}

void *mp_shared_memory_buf(mp_shared_memory *shm)
{
    return shm ? shm->shm.base : NULL;
}

size_t mp_shared_memory_size(const mp_shared_memory *shm)
{
    return shm ? shm->size : 0;
}

const char *mp_shared_memory_name(const mp_shared_memory *shm)
{
    return shm ? shm->name : "";
}

int mp_shared_memory_close(mp_shared_memory *shm)
{
    mp_clear_error();
    if (!shm) return mp_set_error(MP_EINVAL, "NULL shared memory");
    mp_os_shm_close(&shm->shm);
    return 0;
}

int mp_shared_memory_unlink(mp_shared_memory *shm)
{
    mp_clear_error();
    if (!shm) return mp_set_error(MP_EINVAL, "NULL shared memory");
    int rc = mp_os_shm_unlink_named(shm->name);
    /* Gone either way: the tracker must not unlink a later block of the
     * same name. */
    if (shm->tracked && (rc == 0 || rc == MP_ENOTFOUND)) {
        mp_os_shm_untrack(shm->name);
        shm->tracked = 0;
    }
    return rc;
}

void mp_shared_memory_free(mp_shared_memory *shm)
{
    if (!shm) return;
    mp_os_shm_close(&shm->shm);
    free(shm);
}

/* ---- as a process argument ------------------------------------------------ */

/* Export: the name, the size mapped, the handle. */
static int shm_export(const mp_arg *a, mp_export *ex)
{
    const mp_shared_memory *s = a->u.object;
    if (!s->shm.base) return mp_set_error(MP_ESTATE, "SharedMemory is closed");
    mp_buf_blob(ex->buf, s->name, strlen(s->name) + 1);
    mp_buf_u64(ex->buf, s->shm.size);
    mp_export_handle(ex, s->shm.handle);
    return 0;
}

static int shm_import(mp_arg *a, mp_import *im)
{
    size_t n = 0;
    const char *name = mp_rd_blob(im->rd, &n);
    uint64_t size = mp_rd_u64(im->rd);
    mp_os_handle h;
    int rc = mp_import_handle(im, &h);
    if (rc < 0) return rc;
    if (im->rd->failed || n == 0 || n > MP_SHARED_MEMORY_NAME_MAX + 1 ||
        name[n - 1] != '\0' || size == 0 || size > (uint64_t)SIZE_MAX) {
        mp_os_close(h);
        return mp_set_error(MP_EPROTO, "bad SharedMemory in bootstrap data");
    }
    mp_shared_memory *s = calloc(1, sizeof *s);
    if (!s) {
        mp_os_close(h);
        return mp_set_error(MP_ENOMEM, "out of memory for a SharedMemory");
    }
    memcpy(s->name, name, n);
    rc = mp_os_shm_attach(&s->shm, h, (size_t)size);
    if (rc < 0) {
        free(s);
        return rc;
    }
    s->size = s->shm.size;
    a->u.object = s;
    return 0;
}

/* The child's view goes at its end; the name stays (attaching never
 * unlinks). */
static void shm_release(mp_arg *a)
{
    mp_shared_memory_free(a->u.object);
}

const mp_kind mp__kind_shared_memory = {"SharedMemory", mp__kind_copy_ref, NULL,
                                        shm_export,     shm_import,        shm_release};
