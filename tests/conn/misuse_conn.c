/* conn/misuse_conn.c - misuse rows for mproc/conn.h. An end used after
 * mp_conn_close() can only be a child's argument (any other end is freed
 * by the close): runtime/misuse_child.c has those rows. */
#include <math.h>
#include <string.h>

#include "misuse.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <errno.h>
#include <fcntl.h>
#endif

#include "core/conn/conn_internal.h"

static void setup(mpt_fx *fx)
{
    MPT_OK(mp_pipe(&fx->d0, &fx->d1, 1));
    MPT_OK(mp_pipe(&fx->rd, &fx->wr, 0));
}

static void teardown(mpt_fx *fx)
{
    mp_conn_close(fx->d0);
    mp_conn_close(fx->d1);
    mp_conn_close(fx->rd);
    mp_conn_close(fx->wr);
}

static const char *check(mpt_fx *fx)
{
    if (mp_conn_poll(fx->d0, 0) != 0 || mp_conn_poll(fx->d1, 0) != 0 ||
        mp_conn_poll(fx->rd, 0) != 0)
        return "a Pipe (a message left behind)";
    if (mpt_pipe_works(fx->d0, fx->d1) || mpt_pipe_works(fx->d1, fx->d0))
        return "the duplex Pipe";
    if (mpt_pipe_works(fx->wr, fx->rd)) return "the one-way Pipe";
    return NULL;
}

/* The end a row receives on: d0 (whose peer is d1), NULL, or the
 * write-only end. */
static mp_conn *reader(mpt_fx *fx, const mpt_row *r)
{
    return r->h == MPT_NULL ? NULL : r->h == MPT_OTHER ? fx->wr : fx->d0;
}

/* The end a row sends on: d1, NULL, or the read-only end. */
static mp_conn *sender(mpt_fx *fx, const mpt_row *r)
{
    return r->h == MPT_NULL ? NULL : r->h == MPT_OTHER ? fx->rd : fx->d1;
}

/* Receives and drops one message on d0. */
static void drain(mpt_fx *fx)
{
    void *d = NULL;
    size_t n = 0;
    MPT_OK(mp_conn_recv_bytes(fx->d0, &d, &n, 0));
    mp_free(d);
}

static void put(mpt_fx *fx, const void *msg, size_t n)
{
    MPT_OK(mp_conn_send_bytes(fx->d1, msg, 0, n));
}

static int pipe_null(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    mp_conn *a = NULL, *b = NULL;
    int rc = mp_pipe(r->i == 0 ? NULL : &a, r->i == 1 ? NULL : &b, (int)r->x);
    mp_conn_close(a);
    mp_conn_close(b);
    return rc;
}

static int queries_null(mpt_fx *fx, const mpt_row *r)
{
    (void)r;
    mp_conn_close(NULL);
    if (mp_conn_readable(NULL) != 0 || mp_conn_writable(NULL) != 0 ||
        mp_conn_max_message(NULL) != 0)
        return MPT_R_WRONG;
    /* And the shapes of real ends. */
    if (mp_conn_writable(fx->rd) != 0 || mp_conn_readable(fx->wr) != 0)
        return MPT_R_WRONG;
    return mp_conn_max_message(fx->d0) == MP_CONN_DEFAULT_MAX_MESSAGE ? 0 : MPT_R_WRONG;
}

/* Sends n bytes at offset i of an 8-byte buffer (r->n, r->i as given: the
 * library must refuse a range that is no buffer's before reading it). */
static int send_bytes(mpt_fx *fx, const mpt_row *r)
{
    static const char buf[8] = "abcdefg";
    mp_conn *c = sender(fx, r);
    int rc = mp_conn_send_bytes(c, r->h == MPT_NULL_OUT ? NULL : buf, r->i, r->n);
    if (rc == 0) drain(fx);
    return rc;
}

/* r->x: 1 sends 6 bytes first, received with maxlength r->n. */
static int recv_bytes(mpt_fx *fx, const mpt_row *r)
{
    void *d = NULL;
    size_t n = 0;
    if (r->x == 1) put(fx, "sixsix", 6);
    int rc = mp_conn_recv_bytes(reader(fx, r), r->i == 1 ? NULL : &d,
                                r->i == 2 ? NULL : &n, r->n);
    mp_free(d);
    if (rc == 0 && r->x == 1 && n != 6) return MPT_R_WRONG;
    return rc;
}

/* A maxlength refusal, then the receive after it: the read side is given
 * up, as Python's Connection does. */
static int recv_after_too_big(mpt_fx *fx, const mpt_row *r)
{
    (void)r;
    void *d = NULL;
    size_t n = 0;
    put(fx, "sixsix", 6);
    if (mp_conn_recv_bytes(fx->d0, &d, &n, 5) != MP_ETOOBIG) return MPT_R_WRONG;
    int rc = mp_conn_recv_bytes(fx->d0, &d, &n, 0);
    if (rc == MP_ESTATE && mp_conn_poll(fx->d0, 0) != MP_ESTATE) return MPT_R_WRONG;
    /* A duplex end that cannot read any more can still send. */
    if (rc == MP_ESTATE && mpt_pipe_works(fx->d0, fx->d1)) return MPT_R_WRONG;
    return rc;
}

/* Size r->n, offset r->i; r->x: 1 NULL received pointer, 2 an 8-byte
 * message first (for a buffer too short). */
static int recv_into(mpt_fx *fx, const mpt_row *r)
{
    char buf[8];
    size_t n = 0;
    if (r->x == 2) put(fx, "12345678", 8);
    int rc = mp_conn_recv_bytes_into(reader(fx, r), r->h == MPT_NULL_OUT ? NULL : buf,
                                     r->n, r->i, r->x == 1 ? NULL : &n);
    if (rc == MP_ETOOSHORT) {
        /* The needed length is told and the message kept for the next call. */
        void *d = NULL;
        size_t len = 0;
        if (n != 8 || mp_conn_poll(fx->d0, 0) != 1 ||
            mp_conn_recv_bytes(fx->d0, &d, &len, 0) != 0 || len != 8 ||
            memcmp(d, "12345678", 8) != 0)
            rc = MPT_R_WRONG;
        mp_free(d);
    }
    return rc;
}

/* r->x: 1 a message first, so that a wait with no limit returns. */
static int poll_c(mpt_fx *fx, const mpt_row *r)
{
    if (r->x == 1) put(fx, "p", 1);
    int rc = mp_conn_poll(reader(fx, r), r->t);
    if (r->x == 1) drain(fx);
    return rc;
}

/* r->x: 1 an object nested deeper than MP_OBJ_MAX_DEPTH. */
static int send_obj(mpt_fx *fx, const mpt_row *r)
{
    mp_obj *o = r->x == 1 ? mpt_nested(MP_OBJ_MAX_DEPTH) : mp_obj_int(3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    int rc = mp_conn_send(sender(fx, r), r->h == MPT_NULL_OUT ? NULL : o);
    mp_obj_free(o);
    if (rc == 0) drain(fx);
    return rc;
}

/* r->x: 1 a message that is no pickle first. */
static int recv_obj(mpt_fx *fx, const mpt_row *r)
{
    mp_obj *o = NULL;
    if (r->x == 1) put(fx, "\x80\x04", 2);
    int rc = mp_conn_recv(reader(fx, r), r->h == MPT_NULL_OUT ? NULL : &o);
    mp_obj_free(o);
    return rc;
}

/* 1 if h is an open handle of this process. */
static int handle_open(mp_os_handle h)
{
#ifdef _WIN32
    DWORD flags;
    return GetHandleInformation((HANDLE)h, &flags) != 0;
#else
    return fcntl((int)h, F_GETFD) != -1 || errno != EBADF;
#endif
}

/* r->h MPT_NULL: NULL result pointer; r->x 1: handle -1; else neither
 * readable nor writable. Ownership is taken also on failure: the handle
 * must be closed afterwards. */
static int from_handle(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    mp_os_handle h[2] = {MP_OS_NO_HANDLE, MP_OS_NO_HANDLE};
    if (r->x != 1) MPT_OK(mp_os_pipe(0, h));
    mp_conn *c = NULL;
    int rc = mp_conn_from_handle(r->h == MPT_NULL ? NULL : &c,
                                 r->x == 1 ? (intptr_t)-1 : (intptr_t)h[0], r->x != 2, 0);
    if (rc == 0) mp_conn_close(c);
    if (r->x != 1 && handle_open(h[0])) rc = MPT_R_WRONG;
    mp_os_close(h[1]);
    return rc;
}

static int set_max(mpt_fx *fx, const mpt_row *r)
{
    return mp_conn_set_max_message(r->h == MPT_NULL ? NULL : fx->d0, r->n);
}

/* d0's ceiling is r->n; a message of r->i bytes arrives, received by
 * recv_bytes with maxlength r->x (x < 0: by recv_bytes_into a 4-byte
 * buffer; x == -2: by mp_conn_recv). */
static int ceiling(mpt_fx *fx, const mpt_row *r)
{
    static const unsigned char msg[64];
    MPT_OK(mp_conn_set_max_message(fx->d0, r->n));
    put(fx, msg, r->i);
    void *d = NULL;
    size_t n = 0;
    int rc;
    if (r->x == -1) {
        char buf[4];
        rc = mp_conn_recv_bytes_into(fx->d0, buf, sizeof buf, 0, &n);
    } else if (r->x == -2) {
        mp_obj *o = NULL;
        rc = mp_conn_recv(fx->d0, &o);
        mp_obj_free(o);
    } else {
        rc = mp_conn_recv_bytes(fx->d0, &d, &n, (size_t)r->x);
        mp_free(d);
        if (rc == 0 && n != r->i) rc = MPT_R_WRONG;
    }
    if (rc == MP_ETOOBIG && mp_conn_poll(fx->d0, 0) != MP_ESTATE) rc = MPT_R_WRONG;
    if (rc == MP_ETOOSHORT) drain(fx);
    MPT_OK(mp_conn_set_max_message(fx->d0, MP_CONN_DEFAULT_MAX_MESSAGE));
    return rc;
}

#define BIG  ((size_t)-1)
#define PMAX ((size_t)PTRDIFF_MAX)

static const mpt_row rows[] = {
    {"mp_pipe", "NULL first end", pipe_null, MP_EINVAL, .i = 0, .x = 1},
    {"mp_pipe", "NULL second end", pipe_null, MP_EINVAL, .i = 1, .x = 1},
    {"mp_pipe", "NULL second end, one-way", pipe_null, MP_EINVAL, .i = 1, .x = 0},
    {"mp_pipe", "duplex 42 (any non-zero is duplex)", pipe_null, 0, .i = 2, .x = 42},
    {"mp_conn_close, readable, writable, max_message", "NULL (ignored, 0)", queries_null,
     0, .h = MPT_LIVE},
    {"mp_conn_send_bytes", "NULL end", send_bytes, MP_EINVAL, .h = MPT_NULL, .n = 1},
    {"mp_conn_send_bytes", "NULL buffer with a size", send_bytes, MP_EINVAL,
     .h = MPT_NULL_OUT, .n = 1},
    {"mp_conn_send_bytes", "NULL buffer, size 0 (an empty message)", send_bytes, 0,
     .h = MPT_NULL_OUT},
    {"mp_conn_send_bytes", "the read-only end", send_bytes, MP_ESTATE, .h = MPT_OTHER,
     .n = 1},
    {"mp_conn_send_bytes", "size SIZE_MAX (a negative size)", send_bytes, MP_EINVAL,
     .n = BIG},
    {"mp_conn_send_bytes", "size PTRDIFF_MAX + 1", send_bytes, MP_EINVAL, .n = PMAX + 1},
    {"mp_conn_send_bytes", "offset SIZE_MAX, size 1 (offset + size wraps)", send_bytes,
     MP_EINVAL, .i = BIG, .n = 1},
    {"mp_conn_send_bytes", "offset SIZE_MAX - 3, size 2", send_bytes, MP_EINVAL,
     .i = BIG - 3, .n = 2},
    {"mp_conn_send_bytes", "offset and size PTRDIFF_MAX / 2 + 1 (sum past PTRDIFF_MAX)",
     send_bytes, MP_EINVAL, .i = PMAX / 2 + 1, .n = PMAX / 2 + 1},
    {"mp_conn_recv_bytes", "NULL end", recv_bytes, MP_EINVAL, .h = MPT_NULL},
    {"mp_conn_recv_bytes", "NULL data pointer", recv_bytes, MP_EINVAL, .i = 1},
    {"mp_conn_recv_bytes", "NULL length pointer", recv_bytes, MP_EINVAL, .i = 2},
    {"mp_conn_recv_bytes", "the write-only end", recv_bytes, MP_ESTATE, .h = MPT_OTHER},
    {"mp_conn_recv_bytes", "maxlength 5 for 6 bytes", recv_bytes, MP_ETOOBIG, .x = 1,
     .n = 5, .flags = MPT_SPOILS},
    {"mp_conn_recv_bytes", "maxlength SIZE_MAX (no limit)", recv_bytes, 0, .x = 1,
     .n = BIG},
    {"mp_conn_recv_bytes", "after MP_ETOOBIG", recv_after_too_big, MP_ESTATE,
     .flags = MPT_SPOILS},
    {"mp_conn_recv_bytes_into", "NULL end", recv_into, MP_EINVAL, .h = MPT_NULL, .n = 8},
    {"mp_conn_recv_bytes_into", "NULL buffer with a size", recv_into, MP_EINVAL,
     .h = MPT_NULL_OUT, .n = 8},
    {"mp_conn_recv_bytes_into", "NULL received pointer", recv_into, MP_EINVAL, .x = 1,
     .n = 8},
    {"mp_conn_recv_bytes_into", "offset past the buffer", recv_into, MP_EINVAL, .n = 8,
     .i = 9},
    {"mp_conn_recv_bytes_into", "offset SIZE_MAX", recv_into, MP_EINVAL, .n = 8,
     .i = BIG},
    {"mp_conn_recv_bytes_into", "size SIZE_MAX (a negative size)", recv_into, MP_EINVAL,
     .n = BIG},
    {"mp_conn_recv_bytes_into", "the write-only end", recv_into, MP_ESTATE,
     .h = MPT_OTHER, .n = 8},
    {"mp_conn_recv_bytes_into", "a buffer too short (the message is kept)", recv_into,
     MP_ETOOSHORT, .x = 2, .n = 8, .i = 4},
    {"mp_conn_poll", "NULL end", poll_c, MP_EINVAL, .h = MPT_NULL},
    {"mp_conn_poll", "the write-only end", poll_c, MP_ESTATE, .h = MPT_OTHER},
    {"mp_conn_poll", "timeout NaN", poll_c, MP_EINVAL, .t = NAN},
    {"mp_conn_poll", "timeout NaN with a message waiting", poll_c, MP_EINVAL, .t = NAN,
     .x = 1},
    {"mp_conn_poll", "timeout -1 (no limit; a message is there)", poll_c, 1, .t = -1,
     .x = 1},
    {"mp_conn_poll", "timeout -inf (no limit; a message is there)", poll_c, 1,
     .t = -INFINITY, .x = 1},
    {"mp_conn_poll", "timeout +inf (a message is there)", poll_c, 1, .t = INFINITY,
     .x = 1},
    {"mp_conn_poll", "timeout 1e300 (a message is there)", poll_c, 1, .t = 1e300, .x = 1},
    {"mp_conn_poll", "timeout 5e-324, nothing there", poll_c, 0, .t = 5e-324},
    {"mp_conn_send", "NULL end", send_obj, MP_EINVAL, .h = MPT_NULL},
    {"mp_conn_send", "NULL object", send_obj, MP_EINVAL, .h = MPT_NULL_OUT},
    {"mp_conn_send", "the read-only end", send_obj, MP_ESTATE, .h = MPT_OTHER},
    {"mp_conn_send", "an object nested deeper than MP_OBJ_MAX_DEPTH", send_obj,
     MP_ETOOBIG, .x = 1},
    {"mp_conn_recv", "NULL end", recv_obj, MP_EINVAL, .h = MPT_NULL},
    {"mp_conn_recv", "NULL result pointer", recv_obj, MP_EINVAL, .h = MPT_NULL_OUT},
    {"mp_conn_recv", "the write-only end", recv_obj, MP_ESTATE, .h = MPT_OTHER},
    {"mp_conn_recv", "a message that is no pickle (consumed; the end goes on)", recv_obj,
     MP_EPROTO, .x = 1},
    {"mp_conn_from_handle", "handle -1", from_handle, MP_EINVAL, .x = 1},
    {"mp_conn_from_handle", "neither readable nor writable (handle closed)", from_handle,
     MP_EINVAL, .x = 2},
    {"mp_conn_from_handle", "NULL result pointer (handle closed)", from_handle, MP_EINVAL,
     .h = MPT_NULL},
    {"mp_conn_set_max_message", "NULL end", set_max, MP_EINVAL, .h = MPT_NULL, .n = 1},
    {"mp_conn_set_max_message", "a ceiling of 0", set_max, MP_EINVAL, .h = MPT_LIVE},
    {"recv with the ceiling", "16 bytes, ceiling 16", ceiling, 0, .n = 16, .i = 16},
    {"recv with the ceiling", "17 bytes, ceiling 16", ceiling, MP_ETOOBIG, .n = 16,
     .i = 17, .flags = MPT_SPOILS},
    {"recv with the ceiling", "17 bytes, ceiling 16, maxlength 32 (the caller's limit)",
     ceiling, 0, .n = 16, .i = 17, .x = 32},
    {"recv_bytes_into with the ceiling", "17 bytes, ceiling 16, buffer of 4", ceiling,
     MP_ETOOBIG, .n = 16, .i = 17, .x = -1, .flags = MPT_SPOILS},
    {"recv_bytes_into with the ceiling", "16 bytes, ceiling 16, buffer of 4 (kept)",
     ceiling, MP_ETOOSHORT, .n = 16, .i = 16, .x = -1},
    {"mp_conn_recv with the ceiling", "17 bytes, ceiling 16", ceiling, MP_ETOOBIG,
     .n = 16, .i = 17, .x = -2, .flags = MPT_SPOILS},
};

const mpt_group mpt_misuse_conn = MPT_GROUP("conn", setup, teardown, check, rows);

void mpt_suite_conn_misuse(void)
{
    mpt_misuse_add("conn/misuse", &mpt_misuse_conn);
    mpt_misuse_add("conn/misuse", &mpt_misuse_listener);
    mpt_misuse_add("conn/misuse", &mpt_misuse_misc);
}
