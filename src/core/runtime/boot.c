/* boot.c - the spawn bootstrap segment, written by the parent and read by
 * the child, the same on every OS.
 *
 * A spawned child is a fresh run of this program that knows nothing: the
 * marker "--mproc-child=<h>" in argv[1] (argv, not the environment, which
 * grandchildren would inherit) names an anonymous shared-memory segment it
 * inherited, holding, little-endian at fixed widths (base/buf.h):
 *
 *   u32 magic "MPS1" | u32 n | u64 bloblen | u64 the layer's own handle
 *   (all ones: none) | n x u64 handle | bloblen bytes of blob
 *
 * The handle values are the child's, which only the platform layer knows
 * before the child runs (a POSIX dup2 target, a Windows inheritable
 * duplicate): hence the two-step spawn of platform.h, with the segment
 * written between the steps. The child maps the fixed head first, because
 * it learns the segment's size only from it; every later read stays
 * inside the size the head announced and the OS confirmed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/error.h"
#include "core/runtime/boot.h"

#define SEG_MAGIC 0x3153504du /* "MPS1" read as little-endian bytes */
#define SEG_HEAD  24u         /* magic, n, bloblen, own */
#define NO_WORD   UINT64_MAX  /* no handle, in the segment */

/* What the head of a segment says. */
typedef struct seg_head {
    uint32_t n;
    uint64_t bloblen;
    uint64_t own;
    size_t size; /* of the whole segment, checked not to overflow */
} seg_head;

/* ---- the parent ----------------------------------------------------------- */

static void proc_clear(mp_os_proc *p)
{
    p->pid = 0;
    p->sentinel = MP_OS_NO_HANDLE;
    p->process = MP_OS_NO_HANDLE;
    p->exited = 0;
    p->exitcode = 0;
}

static int check_request(const void *blob, size_t len, size_t n)
{
    if (n > MP_BOOT_MAX_HANDLES)
        return mp_set_error(MP_EINVAL, "spawn: %zu handles is too many", n);
    if (len && !blob) return mp_set_error(MP_EINVAL, "spawn: NULL blob");
    if (len > SIZE_MAX - SEG_HEAD - 8 * n)
        return mp_set_error(MP_EINVAL, "spawn: bootstrap data too large");
    return 0;
}

static uint64_t handle_word(mp_os_handle h)
{
    return h == MP_OS_NO_HANDLE ? NO_WORD : (uint64_t)h;
}

/* Fills the segment: the head and handle values through an mp_buf, then
 * the blob, copied once. */
static int seg_write(mp_os_shm *seg, const mp_os_handle *child, size_t n,
                     mp_os_handle own, const void *blob, size_t len)
{
    mp_buf b;
    mp_buf_init(&b);
    mp_buf_u32(&b, SEG_MAGIC);
    mp_buf_u32(&b, (uint32_t)n);
    mp_buf_u64(&b, len);
    mp_buf_u64(&b, handle_word(own));
    for (size_t i = 0; i < n; i++)
        mp_buf_u64(&b, handle_word(child[i]));
    int rc = b.failed ? mp_set_error(MP_ENOMEM, "spawn: out of memory") : 0;
    if (rc == 0) {
        memcpy(seg->base, b.data, b.len);
        if (len) memcpy((unsigned char *)seg->base + b.len, blob, len);
    }
    mp_buf_free(&b);
    return rc;
}

int mp__boot_spawn(mp_os_proc *p, const void *blob, size_t len,
                   const mp_os_handle *handles, size_t n)
{
    mp_os_shm seg = {MP_OS_NO_HANDLE, NULL, 0};
    mp_os_handle *list = NULL; /* the segment, then the caller's; then the child's */
    mp_os_spawn *s = NULL;
    mp_os_handle own = MP_OS_NO_HANDLE;
    proc_clear(p);
    int rc = check_request(blob, len, n);
    if (rc < 0) goto cleanup;
    if ((rc = mp_os_shm_create(&seg, SEG_HEAD + 8 * n + len)) < 0) goto cleanup;
    list = malloc(2 * (n + 1) * sizeof *list);
    if (!list) {
        rc = mp_set_error(MP_ENOMEM, "spawn: out of memory");
        goto cleanup;
    }
    mp_os_handle *child = list + n + 1;
    list[0] = seg.handle;
    if (n) memcpy(list + 1, handles, n * sizeof *list);
    if ((rc = mp_os_spawn_prepare(&s, list, n + 1, child, &own)) < 0) goto cleanup;
    if ((rc = seg_write(&seg, child + 1, n, own, blob, len)) < 0) goto cleanup;
    char marker[sizeof MP_BOOT_MARKER + 24];
    snprintf(marker, sizeof marker, MP_BOOT_MARKER "%llu",
             (unsigned long long)handle_word(child[0]));
    rc = mp_os_spawn_start(s, marker, p);
    s = NULL; /* freed by the start, also on failure */
cleanup:
    mp_os_spawn_cancel(s);
    free(list);
    /* The child holds its own reference to the segment by now. */
    mp_os_shm_close(&seg);
    return rc;
}

/* ---- the child ------------------------------------------------------------ */

/* A handle value from the marker or the segment, strictly: a value no
 * handle can have is refused here, so the layer sees only candidates. */
static int word_to_handle(uint64_t v, mp_os_handle *h)
{
    if (v > (uint64_t)INTPTR_MAX)
        return mp_set_error(MP_EPROTO, "bootstrap: handle %llu is not open",
                            (unsigned long long)v);
    *h = (mp_os_handle)v;
    return 0;
}

/* Decimal digits only: no sign, no space, no overflow. */
static int parse_marker(const char *arg, mp_os_handle *h)
{
    const char *s = arg + sizeof MP_BOOT_MARKER - 1;
    uint64_t v = 0;
    int ok = *s != '\0';
    for (; ok && *s; s++) {
        unsigned d = (unsigned)(*s - '0');
        ok = d <= 9 && v <= (UINT64_MAX - d) / 10;
        v = v * 10 + d;
    }
    if (!ok) return mp_set_error(MP_EPROTO, "bootstrap: bad marker '%s'", arg);
    return word_to_handle(v, h);
}

static int head_read(const void *p, seg_head *hd)
{
    mp_rd r;
    mp_rd_init(&r, p, SEG_HEAD);
    uint32_t magic = mp_rd_u32(&r);
    hd->n = mp_rd_u32(&r);
    hd->bloblen = mp_rd_u64(&r);
    hd->own = mp_rd_u64(&r);
    if (magic != SEG_MAGIC) return mp_set_error(MP_EPROTO, "bootstrap: bad magic");
    if (hd->n > MP_BOOT_MAX_HANDLES)
        return mp_set_error(MP_EPROTO, "bootstrap: %u handles is too many", hd->n);
    size_t fixed = SEG_HEAD + 8 * (size_t)hd->n;
    if (hd->bloblen > SIZE_MAX - fixed)
        return mp_set_error(MP_EPROTO, "bootstrap: blob of %llu bytes does not fit",
                            (unsigned long long)hd->bloblen);
    hd->size = fixed + (size_t)hd->bloblen;
    return 0;
}

/* Maps the whole segment at h (taken over, also on failure): the head
 * first, for the size; attaching checks that the OS's segment is that
 * large, so a head claiming more than was written is refused. */
static int seg_map(mp_os_shm *seg, mp_os_handle h, seg_head *hd)
{
    mp_os_shm head;
    int rc = mp_os_child_adopt(h);
    if (rc < 0) return rc; /* not open: nothing to close */
    if ((rc = mp_os_shm_attach(&head, h, SEG_HEAD)) < 0) return rc;
    rc = head_read(head.base, hd);
    head.handle = MP_OS_NO_HANDLE; /* unmap only: h maps again below */
    mp_os_shm_close(&head);
    if (rc < 0) {
        mp_os_close(h);
        return rc;
    }
    return mp_os_shm_attach(seg, h, hd->size);
}

/* The handles and the blob, out of a mapped segment. */
static int seg_read(const mp_os_shm *seg, const seg_head *hd, void **blob,
                    mp_os_handle **handles)
{
    mp_rd r;
    mp_rd_init(&r, seg->base, hd->size);
    mp_rd_take(&r, SEG_HEAD);
    /* Never NULL, so a caller may test the pointers rather than the sizes. */
    mp_os_handle *hs = malloc(hd->n ? hd->n * sizeof *hs : 1);
    void *data = malloc(hd->bloblen ? (size_t)hd->bloblen : 1);
    int rc = 0;
    if (!hs || !data) {
        rc = mp_set_error(MP_ENOMEM, "bootstrap: out of memory");
        goto cleanup;
    }
    uint32_t adopted = 0;
    for (; adopted < hd->n && rc == 0; adopted++) {
        rc = word_to_handle(mp_rd_u64(&r), &hs[adopted]);
        if (rc == 0) rc = mp_os_child_adopt(hs[adopted]);
    }
    if (rc < 0) {
        /* The ones adopted before the bad one are this process's now. */
        for (uint32_t i = 0; i + 1 < adopted; i++)
            mp_os_close(hs[i]);
        goto cleanup;
    }
    const void *b = mp_rd_take(&r, (size_t)hd->bloblen);
    if (hd->bloblen) memcpy(data, b, (size_t)hd->bloblen);
cleanup:
    if (rc < 0) {
        free(hs);
        free(data);
        hs = NULL;
        data = NULL;
    }
    *handles = hs;
    *blob = data;
    return rc;
}

int mp__boot_child(int argc, char **argv, void **blob, size_t *len,
                   mp_os_handle **handles, size_t *n)
{
    *blob = NULL;
    *len = 0;
    *handles = NULL;
    *n = 0;
    if (argc < 2 || !argv || !argv[1] ||
        strncmp(argv[1], MP_BOOT_MARKER, sizeof MP_BOOT_MARKER - 1) != 0)
        return 0;
    mp_os_shm seg = {MP_OS_NO_HANDLE, NULL, 0};
    seg_head hd = {0, 0, NO_WORD, 0};
    mp_os_handle h = MP_OS_NO_HANDLE;
    int rc = parse_marker(argv[1], &h);
    if (rc < 0) goto cleanup;
    if ((rc = seg_map(&seg, h, &hd)) < 0) goto cleanup;
    if ((rc = seg_read(&seg, &hd, blob, handles)) < 0) goto cleanup;
    mp_os_handle own = MP_OS_NO_HANDLE;
    if (hd.own != NO_WORD && word_to_handle(hd.own, &own) < 0) mp_clear_error();
    mp_os_child_keep(own);
    *len = (size_t)hd.bloblen;
    *n = hd.n;
    rc = 1;
cleanup:
    mp_os_shm_close(&seg);
    return rc;
}
