/* wire.c - the Pool's messages: a task (kind, chunk id, the function's
 * place, the pickle of its argument tuples) and a result (a fixed head
 * and a pickle). They never leave the pool's own queues, so the head is
 * plain little-endian integers, checked on the way in all the same. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "core/pickle/pickle.h"
#include "core/pool/pool.h"

/* kind u8, id u64, place length u32: then the place, then the pickle. */
#define TASK_HEAD 13

static void le(unsigned char *w, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        w[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t rd_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* The place of a function: its address in this process (valid as it is
 * in a child that shares the layout, a forked one), then its offset in
 * its module and the module's name (to find it in any other). */
int pool_wire_fn(void (*fn)(void), pool_fn_place *out)
{
    mp_os_fnloc loc;
    int rc = mp_os_fn_locate(fn, &loc);
    if (rc < 0) return rc;
    loc.module[sizeof loc.module - 1] = '\0';
    size_t mlen = strlen(loc.module);
    le(out->bytes, (uint64_t)(uintptr_t)fn, 8);
    le(out->bytes + 8, loc.offset, 8);
    memcpy(out->bytes + POOL_FN_HEAD, loc.module, mlen);
    out->len = POOL_FN_HEAD + mlen;
    return 0;
}

int pool_wire_fn_resolve(const void *p, size_t len, int same_layout, void (**fn)(void))
{
    mp_os_fnloc loc;
    if (len < POOL_FN_HEAD || len - POOL_FN_HEAD >= sizeof loc.module)
        return mp_set_error(MP_EPROTO, "pool: bad function place");
    /* Not through the loader where the address holds: a forked child may
     * have inherited the loader's lock held by another of the parent's
     * threads, and would wait on it forever. */
    if (same_layout) {
        *fn = (void (*)(void))(uintptr_t)rd_le(p, 8);
        return 0;
    }
    loc.offset = rd_le((const unsigned char *)p + 8, 8);
    memcpy(loc.module, (const unsigned char *)p + POOL_FN_HEAD, len - POOL_FN_HEAD);
    loc.module[len - POOL_FN_HEAD] = '\0';
    return mp_os_fn_resolve(&loc, fn);
}

int pool_wire_task(const pool_fn_place *place, mp_obj *const *items, size_t n, int wrap,
                   pool_wire_buf *b, size_t *len)
{
    size_t at = b->used, head = TASK_HEAD + place->len;
    void *buf = b->bytes;
    int rc = mp__pickle_dumps_items_into(items, n, wrap, head, &buf, &b->used, &b->cap);
    b->bytes = buf;
    if (rc < 0) return rc;
    *len = b->used - at;
    if (*len > POOL_TASK_MAX) {
        b->used = at;
        return mp_set_error(
            MP_ETOOBIG,
            "pool: a chunk's arguments take %zu bytes, over %zu: pass large "
            "data through SharedMemory, or use a smaller chunksize",
            *len, (size_t)POOL_TASK_MAX);
    }
    unsigned char *w = b->bytes + at;
    w[0] = POOL_MSG_TASK;
    le(w + 1, 0, 8);
    le(w + 9, place->len, 4);
    memcpy(w + TASK_HEAD, place->bytes, place->len);
    return 0;
}

void pool_wire_set_id(void *msg, uint64_t id)
{
    le((unsigned char *)msg + 1, id, 8);
}

int mp__pool_parse_task(const void *msg, size_t len, pool_task_view *v)
{
    const unsigned char *p = msg;
    memset(v, 0, sizeof *v);
    if (len >= 1 && p[0] == POOL_MSG_STOP) {
        v->kind = POOL_MSG_STOP;
        return 0;
    }
    if (len < TASK_HEAD || p[0] != POOL_MSG_TASK)
        return mp_set_error(MP_EPROTO, "pool: bad task message");
    size_t fnlen = (size_t)rd_le(p + 9, 4);
    if (fnlen > len - TASK_HEAD) return mp_set_error(MP_EPROTO, "pool: bad task message");
    v->kind = POOL_MSG_TASK;
    v->id = rd_le(p + 1, 8);
    v->fnloc = p + TASK_HEAD;
    v->fnlen = fnlen;
    v->args = p + TASK_HEAD + fnlen;
    v->args_len = len - TASK_HEAD - fnlen;
    return 0;
}

void mp__pool_wire_result_head(unsigned char *out, const pool_result_head *h)
{
    le(out, h->worker, 4);
    le(out + 4, (uint32_t)h->status, 4);
    le(out + 8, h->id, 8);
    le(out + 16, h->elapsed_ns, 8);
    le(out + 24, h->index, 8);
    le(out + 32, 0, 4);
}

int pool_wire_parse_result(const void *msg, size_t len, pool_result_head *h,
                           const void **body, size_t *body_len)
{
    const unsigned char *p = msg;
    if (len < POOL_RESULT_HEAD_SIZE) return mp_set_error(MP_EPROTO, "pool: bad result");
    h->worker = (uint32_t)rd_le(p, 4);
    h->status = (int32_t)(uint32_t)rd_le(p + 4, 4);
    h->id = rd_le(p + 8, 8);
    h->elapsed_ns = rd_le(p + 16, 8);
    h->index = rd_le(p + 24, 8);
    *body = p + POOL_RESULT_HEAD_SIZE;
    *body_len = len - POOL_RESULT_HEAD_SIZE;
    return 0;
}
