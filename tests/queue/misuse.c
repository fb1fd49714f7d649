/* queue/misuse.c - misuse rows for mproc/queue.h: an open queue, and
 * one after mp_queue_close() (every put and get gives MP_ESTATE then). */
#include <math.h>
#include <string.h>

#include "misuse.h"

static void setup(mpt_fx *fx)
{
    MPT_OK(mp_queue_new_sized(&fx->q, 2, 4096));
}

static void teardown(mpt_fx *fx)
{
    mp_queue_free(fx->q);
}

static const char *check(mpt_fx *fx)
{
    void *d = NULL;
    size_t n = 0;
    if (mp_queue_qsize(fx->q) != 0) return "the Queue (messages left behind)";
    if (mp_queue_put_bytes(fx->q, "probe", 5, 0) < 0 ||
        mp_queue_get_bytes(fx->q, &d, &n, MPT_JOIN_TIMEOUT) < 0)
        return "the Queue";
    int bad = n != 5 || memcmp(d, "probe", 5) != 0;
    mp_free(d);
    return bad ? "the Queue (a message changed)" : NULL;
}

static void setup_closed(mpt_fx *fx)
{
    setup(fx);
    MPT_OK(mp_queue_close(fx->q));
}

static mp_queue *pick(mpt_fx *fx, const mpt_row *r)
{
    return r->h == MPT_NULL ? NULL : fx->q;
}

/* Takes the message a row put, so that the fixture check finds none. */
static int drain_one(mp_queue *q)
{
    void *d = NULL;
    size_t n = 0;
    int rc = mp_queue_get_bytes(q, &d, &n, MPT_JOIN_TIMEOUT);
    mp_free(d);
    return rc;
}

static int new_plain(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    mp_queue *q = NULL;
    int rc = mp_queue_new(r->h == MPT_NULL ? NULL : &q, r->n);
    mp_queue_free(q);
    return rc;
}

static int new_sized(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    mp_queue *q = NULL;
    int rc = mp_queue_new_sized(r->h == MPT_NULL ? NULL : &q, 0, r->n);
    mp_queue_free(q);
    return rc;
}

static int free_null(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    (void)r;
    mp_queue_free(NULL);
    mp_queue_cancel_join_thread(NULL);
    return 0;
}

static int put_bytes(mpt_fx *fx, const mpt_row *r)
{
    static const char msg[8] = "message";
    mp_queue *q = pick(fx, r);
    int rc = mp_queue_put_bytes(q, r->h == MPT_NULL_OUT ? NULL : msg, r->n, r->t);
    if (rc == 0 && q) MPT_OK(drain_one(q));
    return rc;
}

static int put_bytes_nowait(mpt_fx *fx, const mpt_row *r)
{
    mp_queue *q = pick(fx, r);
    int rc = mp_queue_put_bytes_nowait(q, r->h == MPT_NULL_OUT ? NULL : "m", r->n);
    if (rc == 0 && q) MPT_OK(drain_one(q));
    return rc;
}

/* With r->x set, a message is put first, so that a wait with no limit
 * returns at once. */
static int get_bytes(mpt_fx *fx, const mpt_row *r)
{
    void *d = NULL;
    size_t n = 0;
    if (r->x) MPT_OK(mp_queue_put_bytes(fx->q, "here", 4, 0));
    int rc = mp_queue_get_bytes(pick(fx, r), r->i == 1 ? NULL : &d, r->i == 2 ? NULL : &n,
                                r->t);
    mp_free(d);
    return rc;
}

static int get_bytes_nowait(mpt_fx *fx, const mpt_row *r)
{
    void *d = NULL;
    size_t n = 0;
    int rc = mp_queue_get_bytes_nowait(pick(fx, r), r->i == 1 ? NULL : &d,
                                       r->i == 2 ? NULL : &n);
    mp_free(d);
    return rc;
}

static int get_into(mpt_fx *fx, const mpt_row *r)
{
    char buf[16];
    size_t n = 0;
    if (r->x) MPT_OK(mp_queue_put_bytes(fx->q, "eight by", 8, 0));
    int rc = mp_queue_get_bytes_into(pick(fx, r), r->h == MPT_NULL_OUT ? NULL : buf, r->n,
                                     r->i == 2 ? NULL : &n, r->t);
    /* Too short: the length is told and the message stays for the next get. */
    if (rc == MP_ETOOSHORT && (n != 8 || drain_one(fx->q) < 0)) return MPT_R_WRONG;
    return rc;
}

static int put_obj(mpt_fx *fx, const mpt_row *r)
{
    mp_obj *o = r->x ? mpt_nested(MP_OBJ_MAX_DEPTH) : mp_obj_int(1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    mp_queue *q = pick(fx, r);
    int rc = mp_queue_put(q, r->h == MPT_NULL_OUT ? NULL : o, r->t);
    mp_obj_free(o);
    if (rc == 0 && q) MPT_OK(drain_one(q));
    return rc;
}

static int put_nowait_obj(mpt_fx *fx, const mpt_row *r)
{
    mp_obj *o = mp_obj_none();
    mp_queue *q = pick(fx, r);
    int rc = mp_queue_put_nowait(q, r->h == MPT_NULL_OUT ? NULL : o);
    mp_obj_free(o);
    if (rc == 0 && q) MPT_OK(drain_one(q));
    return rc;
}

/* r->x: 1 puts a valid pickle first, 2 a truncated one. */
static int get_obj(mpt_fx *fx, const mpt_row *r)
{
    mp_obj *o = NULL;
    if (r->x == 1) MPT_OK(mp_queue_put(fx->q, fx->num, 0));
    if (r->x == 2) MPT_OK(mp_queue_put_bytes(fx->q, "\x80\x04", 2, 0));
    int rc = mp_queue_get(pick(fx, r), r->h == MPT_NULL_OUT ? NULL : &o, r->t);
    mp_obj_free(o);
    return rc;
}

static int get_nowait_obj(mpt_fx *fx, const mpt_row *r)
{
    mp_obj *o = NULL;
    int rc = mp_queue_get_nowait(pick(fx, r), r->h == MPT_NULL_OUT ? NULL : &o);
    mp_obj_free(o);
    return rc;
}

static int state_null(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    (void)r;
    /* qsize counts nothing; the answers that can carry a code give it. */
    return mp_queue_qsize(NULL) == 0 && mp_queue_empty(NULL) == MP_EINVAL &&
                   mp_queue_full(NULL) == MP_EINVAL && mp_queue_is_closed(NULL) == 1
               ? 0
               : MPT_R_WRONG;
}

static int close_q(mpt_fx *fx, const mpt_row *r)
{
    return mp_queue_close(pick(fx, r));
}

/* Closing twice is harmless; join_thread then has nothing to wait for. */
static int close_twice(mpt_fx *fx, const mpt_row *r)
{
    (void)r;
    MPT_OK(mp_queue_close(fx->q));
    int rc = mp_queue_close(fx->q);
    return rc < 0 ? rc : mp_queue_join_thread(fx->q);
}

static int join_thread(mpt_fx *fx, const mpt_row *r)
{
    return mp_queue_join_thread(pick(fx, r));
}

static void setup_num(mpt_fx *fx)
{
    setup(fx);
    fx->num = mp_obj_int(5);
}

static void teardown_num(mpt_fx *fx)
{
    mp_obj_free(fx->num);
    teardown(fx);
}

#define BIG ((size_t)-1)

static const mpt_row rows[] = {
    {"mp_queue_new", "NULL result pointer", new_plain, MP_EINVAL, .h = MPT_NULL},
    {"mp_queue_new", "maxsize SIZE_MAX (over 2^31 - 1)", new_plain, MP_EINVAL, .n = BIG},
    {"mp_queue_new", "maxsize 2^31 - 1 (the largest)", new_plain, 0, .n = 0x7fffffff},
    {"mp_queue_new_sized", "NULL result pointer", new_sized, MP_EINVAL, .h = MPT_NULL,
     .n = 4096},
    {"mp_queue_new_sized", "ring of 1 GiB + 1", new_sized, MP_EINVAL,
     .n = ((size_t)1 << 30) + 1},
    {"mp_queue_new_sized", "ring of SIZE_MAX", new_sized, MP_EINVAL, .n = BIG},
    {"mp_queue_new_sized", "ring of 0 (rounded up to 4 KiB)", new_sized, 0,
     .h = MPT_LIVE},
    {"mp_queue_free, mp_queue_cancel_join_thread", "NULL", free_null, 0, .h = MPT_LIVE},
    {"mp_queue_put_bytes", "NULL queue", put_bytes, MP_EINVAL, .h = MPT_NULL, .n = 1},
    {"mp_queue_put_bytes", "NULL data with a length", put_bytes, MP_EINVAL,
     .h = MPT_NULL_OUT, .n = 1},
    {"mp_queue_put_bytes", "NULL data, length 0 (an empty message)", put_bytes, 0,
     .h = MPT_NULL_OUT},
    {"mp_queue_put_bytes", "length SIZE_MAX (a negative length)", put_bytes, MP_EINVAL,
     .n = BIG},
    {"mp_queue_put_bytes", "length PTRDIFF_MAX + 1", put_bytes, MP_EINVAL,
     .n = (size_t)PTRDIFF_MAX + 1},
    {
        "mp_queue_put_bytes",
        "timeout NaN",
        put_bytes,
        MP_EINVAL,
        .n = 1,
        .t = NAN,
    },
    {"mp_queue_put_bytes", "timeout -1 (no limit; there is room)", put_bytes, 0, .n = 1,
     .t = -1},
    {"mp_queue_put_bytes", "timeout -inf (no limit; there is room)", put_bytes, 0, .n = 1,
     .t = -INFINITY},
    {"mp_queue_put_bytes", "timeout +inf", put_bytes, 0, .n = 1, .t = INFINITY},
    {"mp_queue_put_bytes_nowait", "NULL queue", put_bytes_nowait, MP_EINVAL,
     .h = MPT_NULL, .n = 1},
    {"mp_queue_put_bytes_nowait", "NULL data with a length", put_bytes_nowait, MP_EINVAL,
     .h = MPT_NULL_OUT, .n = 1},
    {"mp_queue_get_bytes", "NULL queue", get_bytes, MP_EINVAL, .h = MPT_NULL},
    {"mp_queue_get_bytes", "NULL data pointer", get_bytes, MP_EINVAL, .i = 1},
    {"mp_queue_get_bytes", "NULL length pointer", get_bytes, MP_EINVAL, .i = 2},
    {
        "mp_queue_get_bytes",
        "timeout NaN",
        get_bytes,
        MP_EINVAL,
        .t = NAN,
    },
    {"mp_queue_get_bytes", "timeout 0 on an empty queue", get_bytes, MP_EEMPTY,
     .h = MPT_LIVE},
    {"mp_queue_get_bytes", "timeout -1 (no limit; a message is there)", get_bytes, 0,
     .t = -1, .x = 1},
    {"mp_queue_get_bytes", "timeout -inf (no limit; a message is there)", get_bytes, 0,
     .t = -INFINITY, .x = 1},
    {"mp_queue_get_bytes_nowait", "NULL queue", get_bytes_nowait, MP_EINVAL,
     .h = MPT_NULL},
    {"mp_queue_get_bytes_nowait", "NULL data pointer", get_bytes_nowait, MP_EINVAL,
     .i = 1},
    {"mp_queue_get_bytes_nowait", "NULL length pointer", get_bytes_nowait, MP_EINVAL,
     .i = 2},
    {"mp_queue_get_bytes_into", "NULL queue", get_into, MP_EINVAL, .h = MPT_NULL,
     .n = 16},
    {"mp_queue_get_bytes_into", "NULL buffer with a capacity", get_into, MP_EINVAL,
     .h = MPT_NULL_OUT, .n = 16},
    {"mp_queue_get_bytes_into", "NULL length pointer", get_into, MP_EINVAL, .i = 2,
     .n = 16},
    {
        "mp_queue_get_bytes_into",
        "capacity SIZE_MAX",
        get_into,
        MP_EINVAL,
        .n = BIG,
    },
    {
        "mp_queue_get_bytes_into",
        "timeout NaN",
        get_into,
        MP_EINVAL,
        .n = 16,
        .t = NAN,
    },
    {"mp_queue_get_bytes_into", "a buffer too short (the message stays)", get_into,
     MP_ETOOSHORT, .n = 4, .x = 1},
    {"mp_queue_put", "NULL queue", put_obj, MP_EINVAL, .h = MPT_NULL},
    {"mp_queue_put", "NULL object", put_obj, MP_EINVAL, .h = MPT_NULL_OUT},
    {"mp_queue_put", "an object nested deeper than MP_OBJ_MAX_DEPTH", put_obj, MP_ETOOBIG,
     .x = 1},
    {
        "mp_queue_put",
        "timeout NaN",
        put_obj,
        MP_EINVAL,
        .t = NAN,
    },
    {"mp_queue_put_nowait", "NULL queue", put_nowait_obj, MP_EINVAL, .h = MPT_NULL},
    {"mp_queue_put_nowait", "NULL object", put_nowait_obj, MP_EINVAL, .h = MPT_NULL_OUT},
    {"mp_queue_get", "NULL queue", get_obj, MP_EINVAL, .h = MPT_NULL},
    {"mp_queue_get", "NULL result pointer", get_obj, MP_EINVAL, .h = MPT_NULL_OUT},
    {
        "mp_queue_get",
        "timeout NaN",
        get_obj,
        MP_EINVAL,
        .t = NAN,
    },
    {"mp_queue_get", "a message that is no pickle (taken; the queue goes on)", get_obj,
     MP_EPROTO, .x = 2},
    {"mp_queue_get", "timeout -1 (no limit; a message is there)", get_obj, 0, .t = -1,
     .x = 1},
    {"mp_queue_get_nowait", "NULL queue", get_nowait_obj, MP_EINVAL, .h = MPT_NULL},
    {"mp_queue_get_nowait", "NULL result pointer", get_nowait_obj, MP_EINVAL,
     .h = MPT_NULL_OUT},
    {"mp_queue_qsize, mp_queue_empty, mp_queue_full, mp_queue_is_closed",
     "NULL gives 0, MP_EINVAL, MP_EINVAL, 1", state_null, 0, .h = MPT_LIVE},
    {"mp_queue_close", "NULL", close_q, MP_EINVAL, .h = MPT_NULL},
    {"mp_queue_join_thread", "NULL", join_thread, MP_EINVAL, .h = MPT_NULL},
    {"mp_queue_join_thread", "before mp_queue_close", join_thread, MP_ESTATE,
     .h = MPT_LIVE},
    {"mp_queue_close", "twice (harmless), then join_thread", close_twice, 0,
     .flags = MPT_SPOILS},
};

/* The same calls on a closed queue: this process will put and get no more
 * through the handle. */
static const mpt_row closed_rows[] = {
    {"mp_queue_put_bytes", "after close", put_bytes, MP_ESTATE, .n = 1},
    {"mp_queue_put_bytes_nowait", "after close", put_bytes_nowait, MP_ESTATE, .n = 1},
    {"mp_queue_get_bytes", "after close", get_bytes, MP_ESTATE, .h = MPT_LIVE},
    {"mp_queue_get_bytes_nowait", "after close", get_bytes_nowait, MP_ESTATE,
     .h = MPT_LIVE},
    {"mp_queue_get_bytes_into", "after close", get_into, MP_ESTATE, .n = 16},
    {"mp_queue_put", "after close", put_obj, MP_ESTATE, .h = MPT_LIVE},
    {"mp_queue_put_nowait", "after close", put_nowait_obj, MP_ESTATE, .h = MPT_LIVE},
    {"mp_queue_get", "after close", get_obj, MP_ESTATE, .h = MPT_LIVE},
    {"mp_queue_get_nowait", "after close", get_nowait_obj, MP_ESTATE, .h = MPT_LIVE},
    {"mp_queue_close", "a second time", close_q, 0, .h = MPT_LIVE},
    {"mp_queue_join_thread", "after close", join_thread, 0, .h = MPT_LIVE},
};

const mpt_group mpt_misuse_queue =
    MPT_GROUP("queue", setup_num, teardown_num, check, rows);
const mpt_group mpt_misuse_queue_closed =
    MPT_GROUP("queue_closed", setup_closed, teardown, NULL, closed_rows);

void mpt_suite_queue_misuse(void)
{
    mpt_misuse_add("queue/misuse", &mpt_misuse_queue);
    mpt_misuse_add("queue/misuse", &mpt_misuse_queue_closed);
}
