/* shared/value.c - Value: typecodes and conversions, locking (recursion,
 * timeouts, a dead holder), children of both start methods and threads;
 * and the repr helpers (core/obj/repr_scalar.h) that Value, Array and the objects
 * share. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "core/shared/block.h"
#include "core/obj/repr_scalar.h"
#include "platform.h"
#include "test.h"

#define COUNT_STEPS   1000
#define COUNT_WORKERS 4

/* ---- helpers -------------------------------------------------------------- */

static mp_value *new_value(char tc)
{
    mp_value *v = NULL;
    MPT_OK(mp_value_new(&v, tc));
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    return v;
}

/* The value's repr, in a static buffer. */
static const char *vrepr(mp_value *v)
{
    static char buf[128];
    int n = mp_value_repr(v, buf, sizeof buf);
    CU_ASSERT_FATAL(n >= 0 && (size_t)n < sizeof buf);
    return buf;
}

#define ASSERT_REPR(v, text)                                                             \
    do {                                                                                 \
        const char *mpt_r_ = vrepr(v);                                                   \
        if (strcmp(mpt_r_, (text)) != 0)                                                 \
            fprintf(stderr, "%s:%d: repr %s, wanted %s\n", __FILE__, __LINE__, mpt_r_,   \
                    (text));                                                             \
        CU_ASSERT_STRING_EQUAL(mpt_r_, (text));                                          \
    } while (0)

static char *repr_double(double x)
{
    static char out[64];
    mp_buf b;
    mp_buf_init(&b);
    mp_repr_double(&b, x);
    CU_ASSERT_FATAL(!b.failed && b.len < sizeof out);
    memcpy(out, b.data, b.len);
    out[b.len] = '\0';
    mp_buf_free(&b);
    return out;
}

static char *repr_bytes(const char *p, size_t n)
{
    static char out[256];
    mp_buf b;
    mp_buf_init(&b);
    mp_repr_bytes(&b, p, n);
    CU_ASSERT_FATAL(!b.failed && b.len < sizeof out);
    memcpy(out, b.data, b.len);
    out[b.len] = '\0';
    mp_buf_free(&b);
    return out;
}

/* Waits (polling: the other side is another process) until v holds want. */
static int wait_for(mp_value *v, int64_t want)
{
    double waited = 0;
    for (;;) {
        int64_t x = -1;
        if (mp_value_get_int(v, &x) < 0) return 0;
        if (x == want) return 1;
        if (waited > MPT_JOIN_TIMEOUT) return 0;
        mp_os_sleep_ns(1000000);
        waited += 0.001;
    }
}

/* ---- repr helpers --------------------------------------------------------- */

static void repr_floats(void)
{
    static const struct {
        double x;
        const char *repr;
    } cases[] = {
        {3.1415927, "3.1415927"},
        {0.1, "0.1"},
        {1e16, "1e+16"},
        {1e15, "1000000000000000.0"},
        {9999999999999998.0, "9999999999999998.0"},
        {1e-05, "1e-05"},
        {0.0001, "0.0001"},
        {0.00012345, "0.00012345"},
        {123456789012345678.0, "1.2345678901234568e+17"},
        {-0.0, "-0.0"},
        {0.0, "0.0"},
        {1.0, "1.0"},
        {-1.0, "-1.0"},
        {2.5, "2.5"},
        {100.0, "100.0"},
        {1e22, "1e+22"},
        {1e100, "1e+100"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"},
        {0.30000000000000004, "0.30000000000000004"},
        {1.0 / 3, "0.3333333333333333"},
        {-123.456, "-123.456"},
        {1.5e-7, "1.5e-07"},
        /* A power of two whose shortest repr is not the nearest 16-digit
         * decimal: the next double down is closer than the next up. */
        {7.120236347223045e-307, "7.120236347223045e-307"},
        {(double)0.1f, "0.10000000149011612"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = repr_double(cases[i].x);
        if (strcmp(got, cases[i].repr) != 0)
            fprintf(stderr, "repr(%.17g) = %s, wanted %s\n", cases[i].x, got,
                    cases[i].repr);
        CU_ASSERT_STRING_EQUAL(got, cases[i].repr);
    }
    CU_ASSERT_STRING_EQUAL(repr_double(INFINITY), "inf");
    CU_ASSERT_STRING_EQUAL(repr_double(-INFINITY), "-inf");
    CU_ASSERT_STRING_EQUAL(repr_double(NAN), "nan");
    CU_ASSERT_STRING_EQUAL(repr_double(-NAN), "nan");
}

static void repr_bytes_quotes_and_escapes(void)
{
    CU_ASSERT_STRING_EQUAL(repr_bytes("", 0), "b''");
    CU_ASSERT_STRING_EQUAL(repr_bytes("hello", 5), "b'hello'");
    CU_ASSERT_STRING_EQUAL(repr_bytes("it's", 4), "b\"it's\"");
    CU_ASSERT_STRING_EQUAL(repr_bytes("say \"hi\"", 8), "b'say \"hi\"'");
    CU_ASSERT_STRING_EQUAL(repr_bytes("'\"", 2), "b'\\'\"'");
    CU_ASSERT_STRING_EQUAL(repr_bytes("\t\n\r\\", 4), "b'\\t\\n\\r\\\\'");
    CU_ASSERT_STRING_EQUAL(repr_bytes("\0\x01\x1f \x7e\x7f\x80\xff", 8),
                           "b'\\x00\\x01\\x1f ~\\x7f\\x80\\xff'");
    CU_ASSERT_STRING_EQUAL(repr_bytes("ab\0'x", 5), "b\"ab\\x00'x\"");
}

/* ---- typecodes and conversions ------------------------------------------- */

static void signed_roundtrip(char tc, int64_t lo, int64_t hi)
{
    mp_value *v = new_value(tc);
    int64_t x = 1;
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, 0); /* zero-initialised */
    MPT_OK(mp_value_set_int(v, lo));
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, lo);
    MPT_OK(mp_value_set_int(v, hi));
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, hi);
    uint64_t u = 0;
    MPT_OK(mp_value_get_uint(v, &u));
    CU_ASSERT_EQUAL(u, (uint64_t)hi);
    if (hi < INT64_MAX) {
        MPT_EQ(mp_value_set_int(v, hi + 1), MP_ERANGE);
        MPT_EQ(mp_value_set_uint(v, (uint64_t)hi + 1), MP_ERANGE);
        MPT_EQ(mp_value_set_int(v, lo - 1), MP_ERANGE);
    }
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, hi); /* refused stores wrote nothing */
    MPT_OK(mp_value_set_int(v, -1));
    MPT_EQ(mp_value_get_uint(v, &u), MP_ERANGE);
    CU_ASSERT_EQUAL(mp_value_typecode(v), tc);
    mp_value_free(v);
}

static void unsigned_roundtrip(char tc, uint64_t hi)
{
    mp_value *v = new_value(tc);
    uint64_t u = 1;
    MPT_OK(mp_value_get_uint(v, &u));
    CU_ASSERT_EQUAL(u, 0);
    MPT_OK(mp_value_set_uint(v, hi));
    MPT_OK(mp_value_get_uint(v, &u));
    CU_ASSERT_EQUAL(u, hi);
    int64_t x = 0;
    if (hi > (uint64_t)INT64_MAX) {
        MPT_EQ(mp_value_get_int(v, &x), MP_ERANGE);
    } else {
        MPT_OK(mp_value_get_int(v, &x));
        CU_ASSERT_EQUAL(x, (int64_t)hi);
        MPT_EQ(mp_value_set_uint(v, hi + 1), MP_ERANGE);
        MPT_EQ(mp_value_set_int(v, (int64_t)hi + 1), MP_ERANGE);
    }
    MPT_EQ(mp_value_set_int(v, -1), MP_ERANGE);
    MPT_OK(mp_value_get_uint(v, &u));
    CU_ASSERT_EQUAL(u, hi);
    mp_value_free(v);
}

static void integer_typecodes(void)
{
    signed_roundtrip('b', SCHAR_MIN, SCHAR_MAX);
    signed_roundtrip('h', SHRT_MIN, SHRT_MAX);
    signed_roundtrip('i', INT_MIN, INT_MAX);
    signed_roundtrip('l', LONG_MIN, LONG_MAX);
    signed_roundtrip('q', LLONG_MIN, LLONG_MAX);
    unsigned_roundtrip('B', UCHAR_MAX);
    unsigned_roundtrip('H', USHRT_MAX);
    unsigned_roundtrip('I', UINT_MAX);
    unsigned_roundtrip('L', ULONG_MAX);
    unsigned_roundtrip('Q', ULLONG_MAX);
}

static void integer_reprs(void)
{
    mp_value *q = new_value('q'), *u = new_value('Q'), *b = new_value('b');
    MPT_OK(mp_value_set_int(q, INT64_MIN));
    ASSERT_REPR(q, "-9223372036854775808");
    MPT_OK(mp_value_set_uint(u, UINT64_MAX));
    ASSERT_REPR(u, "18446744073709551615");
    MPT_OK(mp_value_set_int(b, -5));
    ASSERT_REPR(b, "-5");
    double d = 0;
    MPT_OK(mp_value_get_double(u, &d));
    CU_ASSERT_EQUAL(d, 18446744073709551615.0);
    MPT_OK(mp_value_get_double(b, &d));
    CU_ASSERT_EQUAL(d, -5.0);
    mp_value_free(q);
    mp_value_free(u);
    mp_value_free(b);
}

static void float_typecodes(void)
{
    mp_value *d = new_value('d'), *f = new_value('f');
    ASSERT_REPR(d, "0.0");
    MPT_OK(mp_value_set_double(d, 3.1415927));
    ASSERT_REPR(d, "3.1415927");
    double x = 0;
    MPT_OK(mp_value_get_double(d, &x));
    CU_ASSERT_EQUAL(x, 3.1415927);
    int64_t i = 0;
    uint64_t u = 0;
    MPT_EQ(mp_value_get_int(d, &i), MP_EINVAL); /* a float reads only as a double */
    MPT_EQ(mp_value_get_uint(d, &u), MP_EINVAL);
    MPT_OK(mp_value_set_int(d, 3)); /* Value('d').value = 3 */
    ASSERT_REPR(d, "3.0");
    MPT_OK(mp_value_set_uint(d, UINT64_MAX));
    ASSERT_REPR(d, "1.8446744073709552e+19");
    MPT_OK(mp_value_set_double(d, -INFINITY));
    ASSERT_REPR(d, "-inf");
    MPT_OK(mp_value_set_double(d, NAN));
    ASSERT_REPR(d, "nan");

    /* c_float: stored as float, shown as the double it converts to. */
    MPT_OK(mp_value_set_double(f, 0.1));
    ASSERT_REPR(f, "0.10000000149011612");
    MPT_OK(mp_value_set_double(f, 1e300));
    ASSERT_REPR(f, "inf");
    MPT_OK(mp_value_set_double(f, -2.5));
    MPT_OK(mp_value_get_double(f, &x));
    CU_ASSERT_EQUAL(x, -2.5);
    MPT_EQ(mp_value_get_int(f, &i), MP_EINVAL);
    mp_value_free(d);
    mp_value_free(f);
}

static void double_into_integer_refused(void)
{
    static const char codes[] = "cbB?hHiIlLqQ";
    for (const char *c = codes; *c; c++) {
        mp_value *v = new_value(*c);
        MPT_OK(mp_value_set_int(v, 1));
        MPT_EQ(mp_value_set_double(v, 2.0), MP_EINVAL);
        int64_t x = 0;
        MPT_OK(mp_value_get_int(v, &x));
        CU_ASSERT_EQUAL(x, 1);
        mp_value_free(v);
    }
}

static void bool_typecode(void)
{
    mp_value *v = new_value('?');
    ASSERT_REPR(v, "False");
    MPT_OK(mp_value_set_int(v, 5));
    int64_t x = 0;
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, 1);
    ASSERT_REPR(v, "True");
    MPT_OK(mp_value_set_int(v, 0));
    ASSERT_REPR(v, "False");
    MPT_OK(mp_value_set_uint(v, UINT64_MAX));
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, 1);
    MPT_OK(mp_value_set_int(v, INT64_MIN));
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, 1);
    double d = 0;
    MPT_OK(mp_value_get_double(v, &d));
    CU_ASSERT_EQUAL(d, 1.0);
    mp_value_free(v);
}

static void char_typecode(void)
{
    mp_value *v = new_value('c');
    ASSERT_REPR(v, "b'\\x00'");
    MPT_OK(mp_value_set_int(v, 'x'));
    ASSERT_REPR(v, "b'x'");
    MPT_OK(mp_value_set_int(v, '\''));
    ASSERT_REPR(v, "b\"'\"");
    MPT_OK(mp_value_set_int(v, '\n'));
    ASSERT_REPR(v, "b'\\n'");
    MPT_OK(mp_value_set_int(v, 255));
    ASSERT_REPR(v, "b'\\xff'");
    int64_t x = 0;
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, 255); /* a byte, never a negative char */
    MPT_EQ(mp_value_set_int(v, 256), MP_ERANGE);
    MPT_EQ(mp_value_set_int(v, -1), MP_ERANGE);
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, 255);
    mp_value_free(v);
}

static void bad_typecodes(void)
{
    static const char bad[] = {'x', 'u', 'D', 'F', ' ', '\0', (char)0xe9};
    for (size_t i = 0; i < sizeof bad; i++) {
        mp_value *v = (mp_value *)&v;
        MPT_EQ(mp_value_new(&v, bad[i]), MP_EINVAL);
        CU_ASSERT_PTR_NULL(v);
        MPT_EQ(mp_value_new_raw(&v, bad[i]), MP_EINVAL);
        CU_ASSERT_PTR_NULL(v);
    }
}

static void null_arguments(void)
{
    int64_t x;
    uint64_t u;
    double d;
    char buf[8];
    MPT_EQ(mp_value_new(NULL, 'i'), MP_EINVAL);
    MPT_EQ(mp_value_get_int(NULL, &x), MP_EINVAL);
    MPT_EQ(mp_value_get_uint(NULL, &u), MP_EINVAL);
    MPT_EQ(mp_value_get_double(NULL, &d), MP_EINVAL);
    MPT_EQ(mp_value_set_int(NULL, 1), MP_EINVAL);
    MPT_EQ(mp_value_set_uint(NULL, 1), MP_EINVAL);
    MPT_EQ(mp_value_set_double(NULL, 1), MP_EINVAL);
    MPT_EQ(mp_value_lock(NULL), MP_EINVAL);
    MPT_EQ(mp_value_lock_timeout(NULL, 0), MP_EINVAL);
    MPT_EQ(mp_value_unlock(NULL), MP_EINVAL);
    MPT_EQ(mp_value_repr(NULL, buf, sizeof buf), MP_EINVAL);
    MPT_EQ(mp_value_print(NULL), MP_EINVAL);
    CU_ASSERT_EQUAL(mp_value_typecode(NULL), '\0');
    mp_value_free(NULL);

    mp_value *v = new_value('i');
    MPT_EQ(mp_value_get_int(v, NULL), MP_EINVAL);
    MPT_EQ(mp_value_get_uint(v, NULL), MP_EINVAL);
    MPT_EQ(mp_value_get_double(v, NULL), MP_EINVAL);
    MPT_EQ(mp_value_repr(v, NULL, 4), MP_EINVAL);
    mp_value_free(v);
}

static void repr_like_snprintf(void)
{
    mp_value *v = new_value('d');
    MPT_OK(mp_value_set_double(v, 3.1415927));
    char small[4] = "zzz";
    CU_ASSERT_EQUAL(mp_value_repr(v, small, sizeof small), 9);
    CU_ASSERT_STRING_EQUAL(small, "3.1");
    CU_ASSERT_EQUAL(mp_value_repr(v, NULL, 0), 9);
    char one[1] = {'z'};
    CU_ASSERT_EQUAL(mp_value_repr(v, one, 1), 9);
    CU_ASSERT_EQUAL(one[0], '\0');
    mp_value_free(v);
}

/* ---- locking in one process ----------------------------------------------- */

static void lock_is_recursive(void)
{
    mp_value *v = new_value('i');
    MPT_OK(mp_value_lock(v));
    MPT_OK(mp_value_lock(v));
    MPT_OK(mp_value_lock_timeout(v, 0)); /* held by this thread: no wait */
    int64_t x = 0;
    MPT_OK(mp_value_get_int(v, &x));
    MPT_OK(mp_value_set_int(v, x + 41));
    MPT_OK(mp_value_unlock(v));
    MPT_OK(mp_value_unlock(v));
    MPT_OK(mp_value_unlock(v));
    MPT_EQ(mp_value_unlock(v), MP_ESTATE); /* one unlock too many */
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, 41);
    MPT_OK(mp_value_lock_timeout(v, 0)); /* really free again */
    MPT_OK(mp_value_unlock(v));
    mp_value_free(v);
}

static void unlock_without_lock(void)
{
    mp_value *v = new_value('i');
    MPT_EQ(mp_value_unlock(v), MP_ESTATE);
    MPT_OK(mp_value_set_int(v, 7)); /* still usable */
    mp_value_free(v);
}

static void raw_value_has_no_lock(void)
{
    mp_value *v = NULL;
    MPT_OK(mp_value_new_raw(&v, 'q'));
    MPT_EQ(mp_value_lock(v), MP_ESTATE);
    MPT_EQ(mp_value_lock_timeout(v, 1.0), MP_ESTATE);
    MPT_EQ(mp_value_unlock(v), MP_ESTATE);
    MPT_OK(mp_value_set_int(v, -3));
    ASSERT_REPR(v, "-3");
    mp_value_free(v);
}

typedef struct thread_probe {
    mp_value *v;
    int lock_rc, unlock_rc, get_rc;
} thread_probe;

static void probe_locked(void *arg)
{
    thread_probe *p = arg;
    p->lock_rc = mp_value_lock_timeout(p->v, 0.05);
    p->unlock_rc = mp_value_unlock(p->v);
}

/* Another thread of the same process is not this thread: it must wait, and
 * cannot unlock what this thread holds. */
static void other_thread_waits(void)
{
    mp_value *v = new_value('i');
    MPT_OK(mp_value_lock(v));
    thread_probe p = {v, 1, 1, 1};
    mp_os_thread *t;
    MPT_OK(mp_os_thread_start(&t, probe_locked, &p));
    MPT_OK(mp_os_thread_join(t));
    CU_ASSERT_EQUAL(p.lock_rc, MP_ETIMEDOUT);
    CU_ASSERT_EQUAL(p.unlock_rc, MP_ESTATE);
    MPT_OK(mp_value_unlock(v));
    mp_value_free(v);
}

typedef struct counter_arg {
    mp_value *v;
    int failures;
} counter_arg;

static int increment(mp_value *v, int steps)
{
    for (int i = 0; i < steps; i++) {
        int64_t x;
        if (mp_value_lock(v) != 0) return 1;
        if (mp_value_get_int(v, &x) != 0 || mp_value_set_int(v, x + 1) != 0) return 1;
        if (mp_value_unlock(v) != 0) return 1;
    }
    return 0;
}

static void counter_thread(void *arg)
{
    counter_arg *c = arg;
    c->failures = increment(c->v, COUNT_STEPS);
}

static void threads_count_exactly(void)
{
    mp_value *v = new_value('q');
    mp_os_thread *t[COUNT_WORKERS];
    counter_arg args[COUNT_WORKERS];
    for (int i = 0; i < COUNT_WORKERS; i++) {
        args[i].v = v;
        args[i].failures = -1;
        MPT_OK(mp_os_thread_start(&t[i], counter_thread, &args[i]));
    }
    for (int i = 0; i < COUNT_WORKERS; i++) {
        MPT_OK(mp_os_thread_join(t[i]));
        CU_ASSERT_EQUAL(args[i].failures, 0);
    }
    int64_t x = 0;
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, COUNT_WORKERS * COUNT_STEPS);
    mp_value_free(v);
}

/* ---- export / import ------------------------------------------------------ */

/* Feeds a hand-made description to mp__value_import with one handle, the
 * read end of a pipe, in slot 0. The import must refuse it and close the
 * handle it took: the write end then finds no reader. */
static void import_refused(char tc, uint8_t has_lock, uint64_t count, uint64_t size,
                           uint32_t nlock)
{
    mp_os_handle h[2];
    MPT_OK(mp_os_pipe(0, h));
    mp_buf b;
    mp_buf_init(&b);
    mp_buf_u8(&b, (uint8_t)tc);
    mp_buf_u8(&b, has_lock);
    mp_buf_u64(&b, count);
    mp_buf_u64(&b, size);
    mp_buf_u32(&b, 0); /* handle index 0 */
    mp_buf_u32(&b, nlock);
    CU_ASSERT_FATAL(!b.failed);
    mp_rd rd;
    mp_rd_init(&rd, b.data, b.len);
    mp_os_handle list[1] = {h[0]};
    mp_import im = {&rd, list, 1};
    mp_value *v = (mp_value *)&v;
    MPT_EQ(mp__value_import(&v, &im), MP_EPROTO);
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_EQUAL(list[0], MP_OS_NO_HANDLE);
    MPT_EQ(mp_os_write_all(h[1], "x", 1), MP_ECLOSED);
    mp_os_close(h[1]);
    mp_buf_free(&b);
}

static void import_validates(void)
{
    uint64_t size1 = 64 + sizeof(double);         /* header block + one element */
    import_refused('x', 1, 1, size1, 0);          /* unknown typecode */
    import_refused('d', 1, 2, 64 + 16, 0);        /* a Value has one element */
    import_refused('d', 1, 1, size1 + 1, 0);      /* size disagrees with count */
    import_refused('d', 1, UINT64_MAX, size1, 0); /* count overflows */
    import_refused('d', 2, 1, size1, 0);          /* bad lock flag */
    import_refused('d', 0, 1, size1, 1);          /* raw, yet lock handles */
    import_refused('d', 1, 1, size1, 3);          /* too many lock handles */
}

static void import_checks_shared_header(void)
{
    /* A zeroed segment of the right size: everything in the description
     * agrees, but the header in shared memory does not. */
    mp_os_shm shm;
    MPT_OK(mp_os_shm_create(&shm, 64 + sizeof(double)));
    mp_buf b;
    mp_buf_init(&b);
    mp_buf_u8(&b, 'd');
    mp_buf_u8(&b, 0);
    mp_buf_u64(&b, 1);
    mp_buf_u64(&b, shm.size);
    mp_buf_u32(&b, 0);
    mp_buf_u32(&b, 0);
    mp_rd rd;
    mp_rd_init(&rd, b.data, b.len);
    mp_os_handle list[1] = {shm.handle};
    mp_import im = {&rd, list, 1};
    mp_value *v = NULL;
    MPT_EQ(mp__value_import(&v, &im), MP_EPROTO);
    CU_ASSERT_EQUAL(list[0], MP_OS_NO_HANDLE);
    shm.handle = MP_OS_NO_HANDLE; /* the import took and closed it */
    mp_os_shm_close(&shm);
    mp_buf_free(&b);

    /* A truncated description takes nothing. */
    mp_os_handle spare[1] = {MP_OS_NO_HANDLE};
    mp_rd_init(&rd, "d", 1);
    mp_import im2 = {&rd, spare, 1};
    MPT_EQ(mp__value_import(&v, &im2), MP_EPROTO);
}

/* ---- across processes ----------------------------------------------------- */

static int t_set_pi(const mp_args *args)
{
    mp_value *v = mp_args_value(args, 0);
    MPT_CHILD_CHECK(v && mp_value_typecode(v) == 'd');
    double x = -1;
    MPT_CHILD_CHECK(mp_value_get_double(v, &x) == 0 && x == 0.5);
    MPT_CHILD_CHECK(mp_value_set_double(v, 3.1415927) == 0);
    return 0;
}

static void child_sets_value(mp_start_method m)
{
    mp_value *v = new_value('d');
    MPT_OK(mp_value_set_double(v, 0.5));
    CU_ASSERT_EQUAL(mpt_run(t_set_pi, mp_args_of(v), m), 0);
    ASSERT_REPR(v, "3.1415927");
    mp_value_free(v);
}
MPT_DEFINE_BOTH(child_sets_value)

static int t_count(const mp_args *args)
{
    return increment(mp_args_value(args, 0), COUNT_STEPS);
}

static void children_count_exactly(mp_start_method m)
{
    mp_value *v = new_value('i');
    mp_process *p[COUNT_WORKERS];
    for (int i = 0; i < COUNT_WORKERS; i++)
        p[i] = mpt_start(t_count, mp_args_of(v), m);
    /* The parent counts too, while the children run. */
    CU_ASSERT_EQUAL(increment(v, COUNT_STEPS), 0);
    for (int i = 0; i < COUNT_WORKERS; i++)
        CU_ASSERT_EQUAL(mpt_join(p[i]), 0);
    int64_t x = 0;
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, (COUNT_WORKERS + 1) * COUNT_STEPS);
    mp_value_free(v);
}
MPT_DEFINE_BOTH(children_count_exactly)

static int t_raw(const mp_args *args)
{
    mp_value *v = mp_args_value(args, 0);
    int64_t x = 0;
    MPT_CHILD_CHECK(mp_value_lock(v) == MP_ESTATE);
    MPT_CHILD_CHECK(mp_value_get_int(v, &x) == 0 && x == -7);
    MPT_CHILD_CHECK(mp_value_set_int(v, 70000) == 0);
    return 0;
}

static void raw_value_in_child(mp_start_method m)
{
    mp_value *v = NULL;
    MPT_OK(mp_value_new_raw(&v, 'l'));
    MPT_OK(mp_value_set_int(v, -7));
    CU_ASSERT_EQUAL(mpt_run(t_raw, mp_args_of(v), m), 0);
    ASSERT_REPR(v, "70000");
    mp_value_free(v);
}
MPT_DEFINE_BOTH(raw_value_in_child)

/* Holds v's lock until the parent has seen it held. flag: 1 = held,
 * 2 = the parent is done. */
static int t_hold(const mp_args *args)
{
    mp_value *v = mp_args_value(args, 0), *flag = mp_args_value(args, 1);
    MPT_CHILD_CHECK(mp_value_lock(v) == 0);
    MPT_CHILD_CHECK(mp_value_set_int(flag, 1) == 0);
    MPT_CHILD_CHECK(wait_for(flag, 2));
    MPT_CHILD_CHECK(mp_value_set_int(v, 99) == 0);
    MPT_CHILD_CHECK(mp_value_unlock(v) == 0);
    return 0;
}

static void lock_timeout_while_child_holds(mp_start_method m)
{
    mp_value *v = new_value('i'), *flag = new_value('i');
    mp_process *p = mpt_start(t_hold, mp_args_of(v, flag), m);
    CU_ASSERT_FATAL(wait_for(flag, 1));
    MPT_EQ(mp_value_lock_timeout(v, 0.05), MP_ETIMEDOUT);
    MPT_EQ(mp_value_lock_timeout(v, 0), MP_ETIMEDOUT);
    MPT_EQ(mp_value_unlock(v), MP_ESTATE); /* the timeout took nothing */
    MPT_OK(mp_value_set_int(flag, 2));
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    MPT_OK(mp_value_lock_timeout(v, 0));
    int64_t x = 0;
    MPT_OK(mp_value_get_int(v, &x));
    CU_ASSERT_EQUAL(x, 99);
    MPT_OK(mp_value_unlock(v));
    mp_value_free(v);
    mp_value_free(flag);
}
MPT_DEFINE_BOTH(lock_timeout_while_child_holds)

/* Returns (so the child exits) with the lock held and the value
 * half-updated. */
static int t_die_holding(const mp_args *args)
{
    mp_value *v = mp_args_value(args, 0);
    MPT_CHILD_CHECK(mp_value_lock(v) == 0);
    MPT_CHILD_CHECK(mp_value_set_int(v, 13) == 0);
    return 0;
}

static void owner_death_reported(mp_start_method m)
{
    mp_value *v = new_value('i');
    CU_ASSERT_EQUAL(mpt_run(t_die_holding, mp_args_of(v), m), 0);
    MPT_EQ(mp_value_lock(v), MP_EOWNERDEAD);
    int64_t x = 0;
    MPT_OK(mp_value_get_int(v, &x)); /* the lock is ours: no wait */
    CU_ASSERT_EQUAL(x, 13);
    MPT_OK(mp_value_set_int(v, 14));
    MPT_OK(mp_value_unlock(v));
    MPT_EQ(mp_value_unlock(v), MP_ESTATE);
    MPT_OK(mp_value_lock_timeout(v, 0)); /* recovered for good */
    MPT_OK(mp_value_unlock(v));
    mp_value_free(v);
}
MPT_DEFINE_BOTH(owner_death_reported)

static void owner_death_recovered_by_get(mp_start_method m)
{
    mp_value *v = new_value('i');
    CU_ASSERT_EQUAL(mpt_run(t_die_holding, mp_args_of(v), m), 0);
    int64_t x = 0;
    MPT_OK(mp_value_get_int(v, &x)); /* a single access recovers silently */
    CU_ASSERT_EQUAL(x, 13);
    MPT_OK(mp_value_lock_timeout(v, 0));
    MPT_OK(mp_value_unlock(v));
    mp_value_free(v);
}
MPT_DEFINE_BOTH(owner_death_recovered_by_get)

void mpt_suite_shared_value(void)
{
    const char *s = "shared/value";
    mpt_add(s, "repr_floats", repr_floats);
    mpt_add(s, "repr_bytes_quotes_and_escapes", repr_bytes_quotes_and_escapes);
    mpt_add(s, "integer_typecodes", integer_typecodes);
    mpt_add(s, "integer_reprs", integer_reprs);
    mpt_add(s, "float_typecodes", float_typecodes);
    mpt_add(s, "double_into_integer_refused", double_into_integer_refused);
    mpt_add(s, "bool_typecode", bool_typecode);
    mpt_add(s, "char_typecode", char_typecode);
    mpt_add(s, "bad_typecodes", bad_typecodes);
    mpt_add(s, "null_arguments", null_arguments);
    mpt_add(s, "repr_like_snprintf", repr_like_snprintf);
    mpt_add(s, "lock_is_recursive", lock_is_recursive);
    mpt_add(s, "unlock_without_lock", unlock_without_lock);
    mpt_add(s, "raw_value_has_no_lock", raw_value_has_no_lock);
    mpt_add(s, "other_thread_waits", other_thread_waits);
    mpt_add(s, "threads_count_exactly", threads_count_exactly);
    mpt_add(s, "import_validates", import_validates);
    mpt_add(s, "import_checks_shared_header", import_checks_shared_header);
    MPT_BOTH(s, child_sets_value);
    MPT_BOTH(s, children_count_exactly);
    MPT_BOTH(s, raw_value_in_child);
    MPT_BOTH(s, lock_timeout_while_child_holds);
    MPT_BOTH(s, owner_death_reported);
    MPT_BOTH(s, owner_death_recovered_by_get);
}
