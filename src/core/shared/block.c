/* block.c - the shared typed block behind Value and Array (see block.h). */
#include <stdlib.h>
#include <string.h>

#include "base/compat.h"
#include "core/shared/block.h"
#include "base/error.h"
#include "core/obj/repr_scalar.h"
#include "core/runtime/kind.h"
#include "core/sync/locks.h"

#define DATA_OFFSET                                                                      \
    ((sizeof(mp_block_header) + MP_BLOCK_ALIGN - 1) / MP_BLOCK_ALIGN * MP_BLOCK_ALIGN)

/* The segment size for count elements of size bytes, or 0 if it is more
 * than any object can hold (PTRDIFF_MAX: see mp_size_bad). */
static size_t segment_size(size_t count, size_t size)
{
    if (count > ((size_t)PTRDIFF_MAX - DATA_OFFSET) / size) return 0;
    return DATA_OFFSET + count * size;
}

int mp_block_create(mp_block *b, char typecode, size_t count, int has_lock)
{
    memset(b, 0, sizeof *b);
    mp_reclock_init(&b->lock);
    b->shm.handle = MP_OS_NO_HANDLE;
    const mp_typecode *tc = mp_typecode_find(typecode);
    if (!tc)
        return mp_set_error(MP_EINVAL, "unknown typecode 0x%02x",
                            (unsigned)(unsigned char)typecode);
    size_t size = segment_size(count, tc->size);
    if (size == 0)
        return mp_set_error(MP_EINVAL, "%zu elements of '%c' overflow the address space",
                            count, typecode);
    /* The segment comes zero-filled and its pages are touched only when
     * used, so a large array costs nothing until written. */
    int rc = mp_os_shm_create(&b->shm, size);
    if (rc < 0) return rc;
    mp_block_header *h = b->shm.base;
    h->magic = MP_BLOCK_MAGIC;
    h->version = MP_BLOCK_VERSION;
    h->typecode = (uint32_t)(unsigned char)typecode;
    h->has_lock = has_lock ? 1u : 0u;
    h->count = count;
    h->data_offset = DATA_OFFSET;
    if (has_lock) {
        rc = mp_pidlock_create(&b->lock.lk, &h->lock);
        if (rc < 0) {
            mp_os_shm_close(&b->shm);
            return rc;
        }
    }
    b->has_lock = has_lock != 0;
    b->tc = tc;
    b->count = count;
    b->data = (unsigned char *)b->shm.base + DATA_OFFSET;
    return 0;
}

void mp_block_use_lock(mp_block *b, mp_lock *lock, mp_rlock *rlock)
{
    b->xlock = lock;
    b->xrlock = rlock;
    b->owns_x = 0;
}

void mp_block_close(mp_block *b)
{
    if (b->owns_x) {
        mp_lock_free(b->xlock);
        mp_rlock_free(b->xrlock);
    }
    if (b->has_lock) mp_pidlock_close(&b->lock.lk);
    mp_os_shm_close(&b->shm);
    b->data = NULL;
}

/* ---- travelling to a child ----------------------------------------------- */

static int bad_import(const char *what);

/* A caller's lock travels after the block, by its own kind (named
 * directly: the table of kinds names this room's kinds). */
extern const mp_kind mp__kind_lock, mp__kind_rlock;

static int export_caller_lock(mp_block *b, mp_export *ex)
{
    mp_arg a;
    a.type = b->xlock ? MP_ARG_LOCK : b->xrlock ? MP_ARG_RLOCK : MP_ARG_NONE;
    a.u.object = b->xlock ? (void *)b->xlock : (void *)b->xrlock;
    mp_buf_u8(ex->buf, (uint8_t)a.type);
    if (a.type == MP_ARG_NONE) return 0;
    return (a.type == MP_ARG_LOCK ? &mp__kind_lock : &mp__kind_rlock)->export_arg(&a, ex);
}

/* Rebuilds it in the child, owned by the block's handle. */
static int import_caller_lock(mp_block *b, mp_import *im)
{
    mp_arg a;
    a.type = (mp_arg_type)mp_rd_u8(im->rd);
    a.u.object = NULL;
    if (im->rd->failed) return bad_import("truncated");
    if (a.type == MP_ARG_NONE) return 0;
    if (a.type != MP_ARG_LOCK && a.type != MP_ARG_RLOCK)
        return bad_import("bad lock kind");
    if (b->has_lock) return bad_import("two locks");
    int rc =
        (a.type == MP_ARG_LOCK ? &mp__kind_lock : &mp__kind_rlock)->import_arg(&a, im);
    if (rc < 0) return rc;
    if (a.type == MP_ARG_LOCK)
        b->xlock = a.u.object;
    else
        b->xrlock = a.u.object;
    b->owns_x = 1;
    return 0;
}

int mp_block_export(mp_block *b, mp_export *ex)
{
    mp_os_handle hs[MP_OS_WQ_MAX_HANDLES];
    int n = 0;
    if (b->has_lock) {
        n = mp_pidlock_handles(&b->lock.lk, hs);
        if (n < 0) return n;
        if (n > MP_OS_WQ_MAX_HANDLES)
            return mp_set_error(MP_ESYS, "lock has %d handles, more than expected", n);
    }
    mp_buf_u8(ex->buf, (uint8_t)b->tc->code);
    mp_buf_u8(ex->buf, (uint8_t)b->has_lock);
    mp_buf_u64(ex->buf, b->count);
    mp_buf_u64(ex->buf, b->shm.size);
    mp_export_handle(ex, b->shm.handle);
    mp_buf_u32(ex->buf, (uint32_t)n);
    for (int i = 0; i < n; i++)
        mp_export_handle(ex, hs[i]);
    int rc = export_caller_lock(b, ex);
    if (rc < 0) return rc;
    if (ex->failed) return ex->failed;
    return ex->buf->failed;
}

static void close_all(mp_os_handle *hs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mp_os_close(hs[i]);
}

static int bad_import(const char *what)
{
    return mp_set_error(MP_EPROTO, "shared value/array from the parent: %s", what);
}

int mp_block_import(mp_block *b, mp_import *im, size_t want_count)
{
    memset(b, 0, sizeof *b);
    mp_reclock_init(&b->lock);
    b->shm.handle = MP_OS_NO_HANDLE;
    mp_rd *r = im->rd;
    unsigned char code = mp_rd_u8(r);
    uint8_t has_lock = mp_rd_u8(r);
    uint64_t count = mp_rd_u64(r);
    uint64_t size = mp_rd_u64(r);
    if (r->failed) return bad_import("truncated");

    /* Everything named here is ours from now on, whatever goes wrong, so
     * the handles are taken before any check can give up. */
    mp_os_handle hs[1 + MP_OS_WQ_MAX_HANDLES];
    size_t taken = 0;
    int rc = mp_import_handle(im, &hs[0]);
    if (rc < 0) return rc;
    taken = 1;
    uint32_t nlock = mp_rd_u32(r);
    if (r->failed || nlock > MP_OS_WQ_MAX_HANDLES) {
        close_all(hs, taken);
        return bad_import("bad lock handle count");
    }
    for (uint32_t i = 0; i < nlock; i++) {
        rc = mp_import_handle(im, &hs[taken]);
        if (rc < 0) {
            close_all(hs, taken);
            return rc;
        }
        taken++;
    }

    const mp_typecode *tc = mp_typecode_find((char)code);
    const char *why = NULL;
    if (!tc)
        why = "unknown typecode";
    else if (has_lock > 1 || (!has_lock && nlock != 0))
        why = "bad lock flag";
    else if ((uint64_t)(size_t)count != count ||
             segment_size((size_t)count, tc->size) == 0)
        why = "element count overflows";
    else if (want_count != SIZE_MAX && count != want_count)
        why = "wrong element count";
    else if (size != segment_size((size_t)count, tc->size))
        why = "size does not match the element count";
    if (why) {
        close_all(hs, taken);
        return bad_import(why);
    }

    rc = mp_os_shm_attach(&b->shm, hs[0], (size_t)size);
    if (rc < 0) {
        close_all(hs + 1, nlock);
        return rc;
    }
    const mp_block_header *h = b->shm.base;
    if (h->magic != MP_BLOCK_MAGIC || h->version != MP_BLOCK_VERSION ||
        h->typecode != code || h->has_lock != has_lock || h->count != count ||
        h->data_offset != DATA_OFFSET) {
        close_all(hs + 1, nlock);
        mp_os_shm_close(&b->shm);
        return bad_import("the shared header disagrees");
    }
    if (has_lock) {
        rc = mp_pidlock_adopt(&b->lock.lk, &((mp_block_header *)b->shm.base)->lock,
                              hs + 1, (int)nlock);
        if (rc < 0) {
            mp_os_shm_close(&b->shm);
            return rc;
        }
    }
    b->has_lock = has_lock;
    b->tc = tc;
    b->count = (size_t)count;
    b->data = (unsigned char *)b->shm.base + DATA_OFFSET;
    rc = import_caller_lock(b, im);
    if (rc < 0) mp_block_close(b);
    return rc;
}

/* ---- locking -------------------------------------------------------------- */

/* A caller's lock, taken until the deadline (converted back to a timeout:
 * the public calls take timeouts). */
static int lock_caller(mp_block *b, uint64_t deadline_ns)
{
    double timeout = -1;
    if (deadline_ns != MP_NO_DEADLINE) {
        uint64_t now = mp_os_now_ns();
        timeout = deadline_ns > now ? (double)(deadline_ns - now) / 1e9 : 0;
    }
    return b->xlock ? mp_lock_acquire(b->xlock, timeout)
                    : mp_rlock_acquire(b->xrlock, timeout);
}

static int no_lock(void)
{
    return mp_set_error(MP_ESTATE, "a raw value or array has no lock");
}

/* The built-in lock first: it is the common case, and the one measured
 * (value_incr). */
int mp_block_lock(mp_block *b, uint64_t deadline_ns)
{
    if (b->has_lock) return mp_reclock_enter(&b->lock, deadline_ns);
    if (b->xlock || b->xrlock) return lock_caller(b, deadline_ns);
    return no_lock();
}

int mp_block_unlock(mp_block *b)
{
    if (b->has_lock) {
        if (!mp_reclock_mine(&b->lock))
            return mp_set_error(MP_ESTATE, "unlock of a lock this thread does not hold");
        mp_reclock_leave(&b->lock);
        return 0;
    }
    if (b->xlock) return mp_lock_release(b->xlock);
    if (b->xrlock) return mp_rlock_release(b->xrlock);
    return no_lock();
}

/* A caller's lock around one access: 1 if taken (leave releases it), 0
 * when this thread holds the Lock already (Python would deadlock there),
 * or a negative code. */
static int enter_caller(mp_block *b)
{
    if (b->xlock && mp__lock_is_mine(b->xlock)) return 0;
    int rc = b->xlock ? mp_lock_acquire(b->xlock, MP_FOREVER)
                      : mp_rlock_acquire(b->xrlock, MP_FOREVER);
    return rc == 0 || rc == MP_EOWNERDEAD ? 1 : rc;
}

/* Takes the lock around one access: 1 if leave must release it, 0 if
 * not, or a negative code. A dead previous holder is recovered silently:
 * a single access cannot make things worse, and whoever locks explicitly
 * is still told through mp_value_lock. */
static inline int enter(mp_block *b)
{
    if (b->has_lock) {
        int rc = mp_reclock_enter(&b->lock, MP_NO_DEADLINE);
        if (rc == 0) return 1;
        if (rc != MP_EOWNERDEAD) return rc;
        mp_clear_error(); /* recovered: the access says nothing */
        return 1;
    }
    if (!b->xlock && !b->xrlock) return 0;
    int rc = enter_caller(b);
    if (rc >= 0) mp_clear_error();
    return rc;
}

static inline void leave(mp_block *b, int taken)
{
    if (!taken) return;
    if (b->has_lock)
        mp_reclock_leave(&b->lock);
    else if (b->xlock)
        mp__lock_release(b->xlock);
    else
        mp_rlock_release(b->xrlock);
}

/* ---- element access ------------------------------------------------------- */

static int check_index(const mp_block *b, size_t i)
{
    if (i < b->count) return 0;
    return mp_set_error(MP_ERANGE, "index %zu out of range for length %zu", i, b->count);
}

static unsigned char *at(const mp_block *b, size_t i)
{
    return b->data + i * b->tc->size;
}

#define ACCESS(call)                                                                     \
    do {                                                                                 \
        int rc_ = check_index(b, i), taken_ = 0;                                         \
        if (rc_ == 0) rc_ = taken_ = enter(b);                                           \
        if (rc_ < 0) return rc_;                                                         \
        rc_ = (call);                                                                    \
        leave(b, taken_);                                                                \
        return rc_;                                                                      \
    } while (0)

/* 1 when an access to element i of a 64-bit integer block may go ahead
 * at once: the calling thread holds the block's own lock (the
 * read-modify-write idiom, lock ... get ... set ... unlock), so no other
 * thread or process can change it, and no depth need count the access.
 * The functions below take this way first and keep everything else out
 * of it, so that it is a leaf with no frame. */
static inline int held_int64(mp_block *b, size_t i)
{
    return b->has_lock && i < b->count && mp_tc_is_int64(b->tc) &&
           mp_reclock_mine(&b->lock);
}

MP_NOINLINE static int get_int(mp_block *b, size_t i, int64_t *out)
{
    if (!out) return mp_set_error(MP_EINVAL, "NULL output");
    if (mp_tc_is_int64(b->tc)) /* the common case, without conversions */
        ACCESS((memcpy(out, at(b, i), sizeof *out), 0));
    ACCESS(mp_tc_load_int(b->tc, at(b, i), out));
}

int mp_block_get_int(mp_block *b, size_t i, int64_t *out)
{
    if (out && held_int64(b, i)) {
        memcpy(out, at(b, i), sizeof *out);
        return 0;
    }
    return get_int(b, i, out);
}

int mp_block_get_uint(mp_block *b, size_t i, uint64_t *out)
{
    if (!out) return mp_set_error(MP_EINVAL, "NULL output");
    ACCESS(mp_tc_load_uint(b->tc, at(b, i), out));
}

int mp_block_get_double(mp_block *b, size_t i, double *out)
{
    if (!out) return mp_set_error(MP_EINVAL, "NULL output");
    ACCESS(mp_tc_load_double(b->tc, at(b, i), out));
}

/* Stores check the value before taking the lock, so that a bad value
 * never waits for the lock only to be refused. */
MP_NOINLINE static int set_int(mp_block *b, size_t i, int64_t x)
{
    if (mp_tc_is_int64(b->tc)) /* every x fits */
        ACCESS((memcpy(at(b, i), &x, sizeof x), 0));
    int rc = mp_tc_check_int(b->tc, x);
    if (rc < 0) return rc;
    ACCESS(mp_tc_store_int(b->tc, at(b, i), x));
}

int mp_block_set_int(mp_block *b, size_t i, int64_t x)
{
    if (held_int64(b, i)) {
        memcpy(at(b, i), &x, sizeof x);
        return 0;
    }
    return set_int(b, i, x);
}

int mp_block_set_uint(mp_block *b, size_t i, uint64_t x)
{
    int rc = mp_tc_check_uint(b->tc, x);
    if (rc < 0) return rc;
    ACCESS(mp_tc_store_uint(b->tc, at(b, i), x));
}

int mp_block_set_double(mp_block *b, size_t i, double x)
{
    if (b->tc->kind != MP_TC_FLOAT)
        return mp_set_error(MP_EINVAL, "a double cannot be stored in typecode '%c'",
                            b->tc->code);
    ACCESS(mp_tc_store_double(b->tc, at(b, i), x));
}

static int check_slice(const mp_block *b, size_t start, size_t count, const void *p)
{
    if (count > b->count || start > b->count - count)
        return mp_set_error(MP_ERANGE,
                            "slice [%zu, %zu + %zu) out of range for length %zu", start,
                            start, count, b->count);
    if (count && !p) return mp_set_error(MP_EINVAL, "NULL buffer");
    return 0;
}

int mp_block_read(mp_block *b, size_t start, size_t count, void *out)
{
    int rc = check_slice(b, start, count, out);
    if (rc < 0 || count == 0) return rc;
    int taken = enter(b);
    if (taken < 0) return taken;
    memcpy(out, at(b, start), count * b->tc->size);
    leave(b, taken);
    return 0;
}

int mp_block_write(mp_block *b, size_t start, size_t count, const void *in)
{
    int rc = check_slice(b, start, count, in);
    if (rc < 0 || count == 0) return rc;
    int taken = enter(b);
    if (taken < 0) return taken;
    if (b->tc->kind == MP_TC_BOOL) {
        /* Keeps the stored bytes 0 or 1 whatever the caller's bytes held. */
        const unsigned char *s = in;
        unsigned char *d = at(b, start);
        for (size_t k = 0; k < count; k++)
            d[k] = s[k] != 0;
    } else {
        memcpy(at(b, start), in, count * b->tc->size);
    }
    leave(b, taken);
    return 0;
}

void mp_block_repr_elem(const mp_block *b, mp_buf *out, const void *p)
{
    const mp_typecode *t = b->tc;
    switch (t->kind) {
    case MP_TC_FLOAT: {
        double d = 0;
        mp_tc_load_double(t, p, &d);
        mp_repr_double(out, d);
        break;
    }
    case MP_TC_BOOL: {
        int64_t v = 0;
        mp_tc_load_int(t, p, &v);
        mp_buf_put(out, v ? "True" : "False", v ? 4 : 5);
        break;
    }
    case MP_TC_CHAR:
        mp_repr_bytes(out, p, 1);
        break;
    case MP_TC_SIGNED: {
        int64_t v = 0;
        mp_tc_load_int(t, p, &v);
        mp_repr_int(out, (long long)v);
        break;
    }
    case MP_TC_UNSIGNED: {
        uint64_t v = 0;
        mp_tc_load_uint(t, p, &v);
        mp_repr_uint(out, (unsigned long long)v);
        break;
    }
    }
}
