/* conn/conn.c - Pipe ends: framing, errors, EOF, and other processes.
 *
 * Raw-wire tests build one end around a handle of mp_os_pipe() so that
 * arbitrary (truncated, corrupt) bytes can be put on the wire; messages
 * larger than a pipe buffer always have a thread or a child on the other
 * end, so nothing relies on the kernel's buffer size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conn/conn_internal.h"
#include "platform.h"
#include "test.h"

#define MIB ((size_t)1 << 20)

/* ---- helpers -------------------------------------------------------------- */

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 131u + (i >> 9) + seed);
}

static int check_fill(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 131u + (i >> 9) + seed)) return 0;
    return 1;
}

static unsigned char *pattern(size_t n, unsigned seed)
{
    unsigned char *p = malloc(n ? n : 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    fill(p, n, seed);
    return p;
}

/* Receives one message and checks it is exactly (expect, n). */
static void expect_msg(mp_conn *c, const void *expect, size_t n)
{
    void *d = NULL;
    size_t len = 12345;
    MPT_OK(mp_conn_recv_bytes(c, &d, &len, 0));
    CU_ASSERT_PTR_NOT_NULL(d);
    CU_ASSERT_EQUAL(len, n);
    if (len == n && n) CU_ASSERT(memcmp(d, expect, n) == 0);
    mp_free(d);
}

/* A one-way pipe whose writing side stays a raw handle. The end speaks
 * the length-prefixed framing (on Windows a pipe is a message pipe, whose
 * connections frame by message: forced back to the prefix there, so these
 * tests check the stream framing that sockets use on every OS). */
static void raw_writer(mp_conn **r, mp_os_handle *w)
{
    mp_os_handle h[2];
    MPT_OK(mp_os_pipe(0, h));
    MPT_OK(mp__conn_from_handle(r, h[0], 1, 0));
    mp__conn_set_message(*r, 0);
    *w = h[1];
}

/* A one-way pipe whose reading side stays a raw handle. */
static void raw_reader(mp_os_handle *r, mp_conn **w)
{
    mp_os_handle h[2];
    MPT_OK(mp_os_pipe(0, h));
    MPT_OK(mp__conn_from_handle(w, h[1], 0, 1));
    mp__conn_set_message(*w, 0);
    *r = h[0];
}

static void raw_read(mp_os_handle h, unsigned char *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        size_t got = 0;
        MPT_OK(mp_os_read(h, buf + done, n - done, &got));
        CU_ASSERT_FATAL(got > 0);
        done += got;
    }
}

/* A thread that sends one message on an end. */
typedef struct sender {
    mp_conn *c;
    const unsigned char *data;
    size_t n;
    int rc;
} sender;

static void send_thread(void *arg)
{
    sender *s = arg;
    s->rc = mp_conn_send_bytes(s->c, s->data, 0, s->n);
}

/* Sends n pattern bytes from a thread on b and receives them on a. */
static void thread_round_trip(size_t n, int duplex)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, duplex));
    unsigned char *msg = pattern(n, 7);
    sender s = {b, msg, n, -1000};
    mp_os_thread *t;
    MPT_OK(mp_os_thread_start(&t, send_thread, &s));
    void *d = NULL;
    size_t len = 0;
    int rc = mp_conn_recv_bytes(a, &d, &len, 0);
    MPT_OK(mp_os_thread_join(t));
    MPT_OK(rc);
    MPT_OK(s.rc);
    CU_ASSERT_EQUAL(len, n);
    CU_ASSERT(len == n && check_fill(d, n, 7));
    mp_free(d);
    free(msg);
    mp_conn_close(a);
    mp_conn_close(b);
}

/* ---- basics --------------------------------------------------------------- */

static void test_pipe_ends(void)
{
    mp_conn *a = NULL, *b = NULL;
    MPT_EQ(mp_pipe(NULL, &b, 1), MP_EINVAL);
    MPT_EQ(mp_pipe(&a, NULL, 1), MP_EINVAL);
    MPT_OK(mp_pipe(&a, &b, 1));
    CU_ASSERT(mp_conn_readable(a) && mp_conn_writable(a));
    CU_ASSERT(mp_conn_readable(b) && mp_conn_writable(b));
    mp_conn_close(a);
    mp_conn_close(b);
    MPT_OK(mp_pipe(&a, &b, 0));
    /* Pipe(duplex=False) returns (reader, writer). */
    CU_ASSERT(mp_conn_readable(a) && !mp_conn_writable(a));
    CU_ASSERT(!mp_conn_readable(b) && mp_conn_writable(b));
    mp_conn_close(a);
    mp_conn_close(b);
    mp_conn_close(NULL);
    CU_ASSERT_EQUAL(mp_conn_readable(NULL), 0);
    CU_ASSERT_EQUAL(mp_conn_writable(NULL), 0);
}

static void test_empty_message(void)
{
    for (int duplex = 0; duplex < 2; duplex++) {
        mp_conn *a, *b;
        MPT_OK(mp_pipe(&a, &b, duplex));
        MPT_OK(mp_conn_send_bytes(b, "", 0, 0));
        MPT_OK(mp_conn_send_bytes(b, NULL, 0, 0));
        MPT_OK(mp_conn_send_bytes(b, "x", 0, 1));
        expect_msg(a, "", 0);
        size_t got = 99;
        MPT_OK(mp_conn_recv_bytes_into(a, NULL, 0, 0, &got));
        CU_ASSERT_EQUAL(got, 0);
        expect_msg(a, "x", 1);
        mp_conn_close(a);
        mp_conn_close(b);
    }
}

static void test_small_both_ways(void)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    MPT_OK(mp_conn_send_bytes(a, "hello", 0, 5));
    MPT_OK(mp_conn_send_bytes(b, "thank you", 0, 9));
    MPT_OK(mp_conn_send_bytes(a, "second", 0, 6));
    expect_msg(b, "hello", 5);
    expect_msg(a, "thank you", 9);
    expect_msg(b, "second", 6);
    mp_conn_close(a);
    mp_conn_close(b);
}

static void test_size_16384(void)
{
    thread_round_trip(16384, 1);
    thread_round_trip(16384, 0);
}

static void test_size_16385(void)
{
    thread_round_trip(16385, 1);
    thread_round_trip(16385, 0);
}

static void test_size_1mib(void)
{
    thread_round_trip(MIB, 1);
    thread_round_trip(MIB, 0);
}

static void test_size_8mib(void)
{
    thread_round_trip(8 * MIB + 3, 1);
    thread_round_trip(8 * MIB + 3, 0);
}

static void test_send_offset(void)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    MPT_OK(mp_conn_send_bytes(b, "0123456789", 3, 4));
    MPT_OK(mp_conn_send_bytes(b, "0123456789", 10, 0));
    expect_msg(a, "3456", 4);
    expect_msg(a, "", 0);
    mp_conn_close(a);
    mp_conn_close(b);
}

static void test_bad_arguments(void)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    void *d;
    size_t n;
    char buf[4];
    MPT_EQ(mp_conn_send_bytes(NULL, "x", 0, 1), MP_EINVAL);
    MPT_EQ(mp_conn_send_bytes(b, NULL, 0, 1), MP_EINVAL);
    MPT_EQ(mp_conn_send_bytes(b, "xy", SIZE_MAX, 2), MP_EINVAL);
    MPT_EQ(mp_conn_send_bytes(b, "xy", 1, SIZE_MAX), MP_EINVAL);
    MPT_EQ(mp_conn_recv_bytes(NULL, &d, &n, 0), MP_EINVAL);
    MPT_EQ(mp_conn_recv_bytes(a, NULL, &n, 0), MP_EINVAL);
    MPT_EQ(mp_conn_recv_bytes(a, &d, NULL, 0), MP_EINVAL);
    MPT_EQ(mp_conn_recv_bytes_into(NULL, buf, 4, 0, &n), MP_EINVAL);
    MPT_EQ(mp_conn_recv_bytes_into(a, NULL, 4, 0, &n), MP_EINVAL);
    MPT_EQ(mp_conn_recv_bytes_into(a, buf, 4, 0, NULL), MP_EINVAL);
    MPT_EQ(mp_conn_poll(NULL, 0), MP_EINVAL);
    /* None of that consumed or corrupted anything. */
    MPT_OK(mp_conn_send_bytes(b, "ok", 0, 2));
    expect_msg(a, "ok", 2);
    mp_conn_close(a);
    mp_conn_close(b);
}

/* ---- recv_bytes_into ------------------------------------------------------- */

static void test_into_offset(void)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    char buf[10];
    memset(buf, 'x', sizeof buf);
    size_t got = 0;
    MPT_OK(mp_conn_send_bytes(b, "abc", 0, 3));
    MPT_OK(mp_conn_recv_bytes_into(a, buf, sizeof buf, 4, &got));
    CU_ASSERT_EQUAL(got, 3);
    CU_ASSERT(memcmp(buf, "xxxxabcxxx", 10) == 0);
    MPT_EQ(mp_conn_recv_bytes_into(a, buf, sizeof buf, 11, &got), MP_EINVAL);
    mp_conn_close(a);
    mp_conn_close(b);
}

static void test_into_exact_fit(void)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    char buf[8];
    size_t got = 0;
    MPT_OK(mp_conn_send_bytes(b, "12345678", 0, 8));
    MPT_OK(mp_conn_send_bytes(b, "ab", 0, 2));
    MPT_OK(mp_conn_send_bytes(b, "", 0, 0));
    MPT_OK(mp_conn_recv_bytes_into(a, buf, sizeof buf, 0, &got));
    CU_ASSERT_EQUAL(got, 8);
    CU_ASSERT(memcmp(buf, "12345678", 8) == 0);
    MPT_OK(mp_conn_recv_bytes_into(a, buf, sizeof buf, 6, &got));
    CU_ASSERT_EQUAL(got, 2);
    CU_ASSERT(memcmp(buf, "123456ab", 8) == 0);
    /* offset == size leaves room for an empty message only. */
    MPT_OK(mp_conn_recv_bytes_into(a, buf, sizeof buf, 8, &got));
    CU_ASSERT_EQUAL(got, 0);
    mp_conn_close(a);
    mp_conn_close(b);
}

static void test_into_too_short(void)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    char small[4] = {'-', '-', '-', '-'}, big[20];
    size_t got = 0;
    MPT_OK(mp_conn_send_bytes(b, "hello world", 0, 11));
    MPT_OK(mp_conn_send_bytes(b, "next", 0, 4));
    MPT_EQ(mp_conn_recv_bytes_into(a, small, sizeof small, 0, &got), MP_ETOOSHORT);
    CU_ASSERT_EQUAL(got, 11);
    CU_ASSERT(memcmp(small, "----", 4) == 0);
    /* Asking again with a buffer still too short keeps it again. */
    MPT_EQ(mp_conn_recv_bytes_into(a, big, sizeof big, 10, &got), MP_ETOOSHORT);
    CU_ASSERT_EQUAL(got, 11);
    CU_ASSERT_EQUAL(mp_conn_poll(a, 0), 1);
    MPT_OK(mp_conn_recv_bytes_into(a, big, sizeof big, 0, &got));
    CU_ASSERT_EQUAL(got, 11);
    CU_ASSERT(memcmp(big, "hello world", 11) == 0);
    expect_msg(a, "next", 4);
    CU_ASSERT_EQUAL(mp_conn_poll(a, 0), 0);
    mp_conn_close(a);
    mp_conn_close(b);
}

static void test_too_short_then_recv_bytes(void)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    size_t got = 0;
    void *d = NULL;
    size_t n = 0;
    char one;
    MPT_OK(mp_conn_send_bytes(b, "kept message", 0, 12));
    MPT_EQ(mp_conn_recv_bytes_into(a, &one, 1, 0, &got), MP_ETOOSHORT);
    CU_ASSERT_EQUAL(got, 12);
    /* A limit the kept message breaks refuses it but keeps it. */
    MPT_EQ(mp_conn_recv_bytes(a, &d, &n, 5), MP_ETOOBIG);
    CU_ASSERT_PTR_NULL(d);
    MPT_OK(mp_conn_recv_bytes(a, &d, &n, 12));
    CU_ASSERT_EQUAL(n, 12);
    CU_ASSERT(n == 12 && memcmp(d, "kept message", 12) == 0);
    mp_free(d);
    mp_conn_close(a);
    mp_conn_close(b);
}

/* A message bigger than any pipe buffer, kept after MP_ETOOSHORT. */
static void test_too_short_large(void)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    size_t n = 3 * MIB + 1;
    unsigned char *msg = pattern(n, 3);
    sender s = {b, msg, n, -1000};
    mp_os_thread *t;
    MPT_OK(mp_os_thread_start(&t, send_thread, &s));
    unsigned char small[100];
    size_t got = 0;
    int rc = mp_conn_recv_bytes_into(a, small, sizeof small, 0, &got);
    MPT_OK(mp_os_thread_join(t));
    MPT_EQ(rc, MP_ETOOSHORT);
    MPT_OK(s.rc);
    CU_ASSERT_EQUAL(got, n);
    unsigned char *big = malloc(n + 5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    MPT_OK(mp_conn_recv_bytes_into(a, big, n + 5, 5, &got));
    CU_ASSERT_EQUAL(got, n);
    CU_ASSERT(check_fill(big + 5, n, 3));
    free(big);
    free(msg);
    mp_conn_close(a);
    mp_conn_close(b);
}

/* ---- maxlength ------------------------------------------------------------ */

static void test_maxlength(void)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    void *d = NULL;
    size_t n = 0;
    char buf[64];
    MPT_OK(mp_conn_send_bytes(b, "12345", 0, 5));
    MPT_OK(mp_conn_send_bytes(b, "123456", 0, 6));
    MPT_OK(mp_conn_send_bytes(b, "after", 0, 5));
    MPT_OK(mp_conn_recv_bytes(a, &d, &n, 5)); /* exactly the limit is fine */
    CU_ASSERT_EQUAL(n, 5);
    mp_free(d);
    MPT_EQ(mp_conn_recv_bytes(a, &d, &n, 5), MP_ETOOBIG);
    /* As in Python, the connection cannot be read any more... */
    MPT_EQ(mp_conn_recv_bytes(a, &d, &n, 0), MP_ESTATE);
    MPT_EQ(mp_conn_recv_bytes_into(a, buf, sizeof buf, 0, &n), MP_ESTATE);
    MPT_EQ(mp_conn_poll(a, 0), MP_ESTATE);
    /* ...but a duplex end can still send. */
    MPT_OK(mp_conn_send_bytes(a, "still", 0, 5));
    expect_msg(b, "still", 5);
    mp_conn_close(a);
    mp_conn_close(b);
}

/* ---- end of file and a vanished reader ------------------------------------ */

static void test_eof_after_close(void)
{
    for (int duplex = 0; duplex < 2; duplex++) {
        mp_conn *a, *b;
        MPT_OK(mp_pipe(&a, &b, duplex));
        MPT_OK(mp_conn_send_bytes(b, "last", 0, 4));
        mp_conn_close(b);
        /* What was sent before the close still arrives first. */
        CU_ASSERT_EQUAL(mp_conn_poll(a, 0), 1);
        expect_msg(a, "last", 4);
        CU_ASSERT_EQUAL(mp_conn_poll(a, 0), 1); /* EOF is readable */
        CU_ASSERT_EQUAL(mp_conn_poll(a, MP_FOREVER), 1);
        void *d = NULL;
        size_t n = 0;
        char buf[8];
        MPT_EQ(mp_conn_recv_bytes(a, &d, &n, 0), MP_ECLOSED);
        MPT_EQ(mp_conn_recv_bytes_into(a, buf, sizeof buf, 0, &n), MP_ECLOSED);
        /* EOF is not a broken stream: it stays EOF. */
        MPT_EQ(mp_conn_recv_bytes(a, &d, &n, 0), MP_ECLOSED);
        mp_conn_close(a);
    }
}

/* A SIGPIPE here would kill the test runner. */
static void test_write_reader_gone(void)
{
    static unsigned char big[MIB];
    for (int duplex = 0; duplex < 2; duplex++) {
        mp_conn *a, *b;
        MPT_OK(mp_pipe(&a, &b, duplex));
        mp_conn_close(a);
        MPT_EQ(mp_conn_send_bytes(b, "x", 0, 1), MP_ECLOSED);
        MPT_EQ(mp_conn_send_bytes(b, big, 0, sizeof big), MP_ECLOSED);
        MPT_EQ(mp_conn_send_bytes(b, "", 0, 0), MP_ECLOSED);
        mp_conn_close(b);
    }
}

/* ---- the wire ------------------------------------------------------------- */

static void test_encode_header(void)
{
    unsigned char h[MP_CONN_HEADER_MAX];
    CU_ASSERT_EQUAL(mp__conn_encode_header(0, h), 4);
    CU_ASSERT(memcmp(h, "\0\0\0\0", 4) == 0);
    CU_ASSERT_EQUAL(mp__conn_encode_header(0x01020304, h), 4);
    CU_ASSERT(memcmp(h, "\x01\x02\x03\x04", 4) == 0);
    CU_ASSERT_EQUAL(mp__conn_encode_header(0x7fffffff, h), 4);
    CU_ASSERT(memcmp(h, "\x7f\xff\xff\xff", 4) == 0);
    CU_ASSERT_EQUAL(mp__conn_encode_header(0x80000000u, h), 12);
    CU_ASSERT(memcmp(h, "\xff\xff\xff\xff\0\0\0\0\x80\0\0\0", 12) == 0);
    CU_ASSERT_EQUAL(mp__conn_encode_header(0x0102030405060708ull, h), 12);
    CU_ASSERT(memcmp(h, "\xff\xff\xff\xff\x01\x02\x03\x04\x05\x06\x07\x08", 12) == 0);
}

/* The bytes on the wire are CPython's: struct.pack("!i", n) + payload. */
static void test_wire_bytes(void)
{
    mp_os_handle r;
    mp_conn *w;
    raw_reader(&r, &w);
    unsigned char buf[16];
    MPT_OK(mp_conn_send_bytes(w, "hi", 0, 2));
    raw_read(r, buf, 6);
    CU_ASSERT(memcmp(buf, "\0\0\0\x02hi", 6) == 0);
    MPT_OK(mp_conn_send_bytes(w, "", 0, 0));
    raw_read(r, buf, 4);
    CU_ASSERT(memcmp(buf, "\0\0\0\0", 4) == 0);
    /* Over 16384 bytes header and payload go out separately; same bytes. */
    size_t n = 16385;
    unsigned char *msg = pattern(n, 1);
    sender s = {w, msg, n, -1000};
    mp_os_thread *t;
    MPT_OK(mp_os_thread_start(&t, send_thread, &s));
    unsigned char *got = malloc(n + 4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    raw_read(r, got, n + 4);
    MPT_OK(mp_os_thread_join(t));
    MPT_OK(s.rc);
    CU_ASSERT(memcmp(got, "\0\0\x40\x01", 4) == 0);
    CU_ASSERT(check_fill(got + 4, n, 1));
    free(got);
    free(msg);
    mp_conn_close(w);
    mp_os_close(r);
}

static void test_decode_64bit_header(void)
{
    mp_conn *r;
    mp_os_handle w;
    raw_writer(&r, &w);
    /* Python accepts a small message announced the long way; so do we. */
    MPT_OK(mp_os_write_all(w, "\xff\xff\xff\xff\0\0\0\0\0\0\0\x05hello", 17));
    MPT_OK(mp_os_write_all(w,
                           "\0\0\0\x03"
                           "abc",
                           7));
    MPT_OK(mp_os_write_all(w, "\xff\xff\xff\xff\0\0\0\0\0\0\0\x02xy", 14));
    expect_msg(r, "hello", 5);
    expect_msg(r, "abc", 3);
    char buf[4];
    size_t got = 0;
    MPT_OK(mp_conn_recv_bytes_into(r, buf, sizeof buf, 1, &got));
    CU_ASSERT_EQUAL(got, 2);
    CU_ASSERT(memcmp(buf + 1, "xy", 2) == 0);
    mp_os_close(w);
    mp_conn_close(r);
}

static void test_truncated_header(void)
{
    mp_conn *r;
    mp_os_handle w;
    raw_writer(&r, &w);
    MPT_OK(mp_os_write_all(w, "\0\0", 2));
    mp_os_close(w);
    void *d = NULL;
    size_t n = 0;
    MPT_EQ(mp_conn_recv_bytes(r, &d, &n, 0), MP_EPROTO);
    MPT_EQ(mp_conn_recv_bytes(r, &d, &n, 0), MP_ESTATE);
    mp_conn_close(r);

    /* Cut inside the 8-byte length of the long form. */
    raw_writer(&r, &w);
    MPT_OK(mp_os_write_all(w, "\xff\xff\xff\xff\0\0\0", 7));
    mp_os_close(w);
    MPT_EQ(mp_conn_recv_bytes(r, &d, &n, 0), MP_EPROTO);
    mp_conn_close(r);
}

static void test_truncated_payload(void)
{
    /* Once through recv_bytes, once straight into a caller's buffer. */
    for (int into = 0; into < 2; into++) {
        mp_conn *r;
        mp_os_handle w;
        raw_writer(&r, &w);
        MPT_OK(mp_os_write_all(w,
                               "\0\0\0\x0a"
                               "abc",
                               7));
        mp_os_close(w);
        void *d = NULL;
        size_t n = 0;
        char buf[32];
        if (into)
            MPT_EQ(mp_conn_recv_bytes_into(r, buf, sizeof buf, 0, &n), MP_EPROTO);
        else
            MPT_EQ(mp_conn_recv_bytes(r, &d, &n, 0), MP_EPROTO);
        CU_ASSERT_PTR_NULL(d);
        MPT_EQ(mp_conn_recv_bytes_into(r, buf, sizeof buf, 0, &n), MP_ESTATE);
        MPT_EQ(mp_conn_poll(r, 0), MP_ESTATE);
        mp_conn_close(r);
    }
}

static void test_negative_length(void)
{
    mp_conn *r;
    mp_os_handle w;
    raw_writer(&r, &w);
    MPT_OK(mp_os_write_all(w, "\xff\xff\xff\xfe", 4));
    void *d = NULL;
    size_t n = 0;
    MPT_EQ(mp_conn_recv_bytes(r, &d, &n, 0), MP_EPROTO);
    MPT_EQ(mp_conn_recv_bytes(r, &d, &n, 0), MP_ESTATE);
    mp_os_close(w);
    mp_conn_close(r);

    raw_writer(&r, &w);
    MPT_OK(mp_os_write_all(w, "\x80\0\0\0", 4));
    MPT_EQ(mp_conn_recv_bytes(r, &d, &n, 0), MP_EPROTO);
    mp_os_close(w);
    mp_conn_close(r);
}

/* A corrupt length over the limit is refused before any payload is read
 * or any memory is allocated for it. */
static void test_huge_length_with_limit(void)
{
    mp_conn *r;
    mp_os_handle w;
    raw_writer(&r, &w);
    MPT_OK(mp_os_write_all(w, "\x7f\xff\xff\xff", 4));
    void *d = NULL;
    size_t n = 0;
    MPT_EQ(mp_conn_recv_bytes(r, &d, &n, 1024), MP_ETOOBIG);
    MPT_EQ(mp_conn_recv_bytes(r, &d, &n, 1024), MP_ESTATE);
    mp_os_close(w);
    mp_conn_close(r);

    raw_writer(&r, &w);
    MPT_OK(mp_os_write_all(w, "\xff\xff\xff\xff\x7f\xff\xff\xff\xff\xff\xff\xff", 12));
    MPT_EQ(mp_conn_recv_bytes(r, &d, &n, 1024), MP_ETOOBIG);
    mp_os_close(w);
    mp_conn_close(r);
}

/* Without a limit (no maxlength, and the end's ceiling lifted: by default
 * it refuses such a length at once, see conn/security.c), a corrupt length
 * must not be allocated up front (under ASan an attempt to malloc 2^62
 * bytes would abort): memory follows the bytes that really arrive, and EOF
 * in the middle is MP_EPROTO. */
static void test_huge_length_no_limit(void)
{
    for (int into = 0; into < 2; into++) {
        mp_conn *r;
        mp_os_handle w;
        raw_writer(&r, &w);
        MPT_OK(mp_conn_set_max_message(r, SIZE_MAX));
        MPT_OK(mp_os_write_all(w, "\xff\xff\xff\xff\x40\0\0\0\0\0\0\0abcdef", 18));
        mp_os_close(w);
        void *d = NULL;
        size_t n = 0;
        char buf[8];
        if (into)
            MPT_EQ(mp_conn_recv_bytes_into(r, buf, sizeof buf, 0, &n), MP_EPROTO);
        else
            MPT_EQ(mp_conn_recv_bytes(r, &d, &n, 0), MP_EPROTO);
        mp_conn_close(r);
    }
}

/* ---- poll ----------------------------------------------------------------- */

static void test_poll(void)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    CU_ASSERT_EQUAL(mp_conn_poll(a, 0), 0);
    CU_ASSERT_EQUAL(mp_conn_poll(a, 0.01), 0);
    MPT_OK(mp_conn_send_bytes(b, "x", 0, 1));
    CU_ASSERT_EQUAL(mp_conn_poll(a, 0), 1);
    CU_ASSERT_EQUAL(mp_conn_poll(a, MP_FOREVER), 1);
    CU_ASSERT_EQUAL(mp_conn_poll(a, 0), 1); /* poll does not consume */
    expect_msg(a, "x", 1);
    CU_ASSERT_EQUAL(mp_conn_poll(a, 0), 0);
    CU_ASSERT_EQUAL(mp_conn_poll(b, 0), 0);
    mp_conn_close(b);
    CU_ASSERT_EQUAL(mp_conn_poll(a, 0), 1); /* end of file */
    mp_conn_close(a);
}

static void test_one_way_direction(void)
{
    mp_conn *r, *w;
    MPT_OK(mp_pipe(&r, &w, 0));
    void *d = NULL;
    size_t n = 0;
    char buf[8];
    MPT_EQ(mp_conn_send_bytes(r, "x", 0, 1), MP_ESTATE);
    MPT_EQ(mp_conn_recv_bytes(w, &d, &n, 0), MP_ESTATE);
    MPT_EQ(mp_conn_recv_bytes_into(w, buf, sizeof buf, 0, &n), MP_ESTATE);
    MPT_EQ(mp_conn_poll(w, 0), MP_ESTATE);
    MPT_OK(mp_conn_send_bytes(w, "ok", 0, 2));
    expect_msg(r, "ok", 2);
    mp_conn_close(r);
    mp_conn_close(w);
}

/* ---- threads -------------------------------------------------------------- */

#define THREAD_ROUNDS 1000

/* The other end's thread: echoes every message, reversed. */
static void echo_thread(void *arg)
{
    sender *s = arg;
    s->rc = 0;
    for (int i = 0; i < THREAD_ROUNDS && s->rc == 0; i++) {
        void *d = NULL;
        size_t n = 0;
        s->rc = mp_conn_recv_bytes(s->c, &d, &n, 0);
        if (s->rc) break;
        unsigned char *p = d;
        for (size_t j = 0; j < n / 2; j++) {
            unsigned char t = p[j];
            p[j] = p[n - 1 - j];
            p[n - 1 - j] = t;
        }
        s->rc = mp_conn_send_bytes(s->c, p, 0, n);
        mp_free(d);
    }
}

static void test_two_threads(void)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    sender s = {b, NULL, 0, -1000};
    mp_os_thread *t;
    MPT_OK(mp_os_thread_start(&t, echo_thread, &s));
    unsigned char msg[300], back[300];
    int ok = 1;
    for (int i = 0; i < THREAD_ROUNDS && ok; i++) {
        size_t n = (size_t)(i * 7) % sizeof msg;
        fill(msg, n, (unsigned)i);
        size_t got = 0;
        ok = mp_conn_send_bytes(a, msg, 0, n) == 0 &&
             mp_conn_recv_bytes_into(a, back, sizeof back, 0, &got) == 0 && got == n;
        for (size_t j = 0; ok && j < n; j++)
            ok = back[j] == msg[n - 1 - j];
    }
    if (!ok) { /* lets the thread see end of file and stop */
        mp_conn_close(a);
        a = NULL;
    }
    MPT_OK(mp_os_thread_join(t));
    CU_ASSERT(ok);
    MPT_OK(s.rc);
    mp_conn_close(a);
    mp_conn_close(b);
}

/* ---- other processes ------------------------------------------------------ */

/* Child: echoes count messages back over the conn, unchanged. */
static int echo_child(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    int64_t count = 0;
    MPT_CHILD_CHECK(c != NULL);
    MPT_CHILD_CHECK(mp_args_get_int(args, 1, &count) == 0);
    MPT_CHILD_CHECK(mp_conn_readable(c) && mp_conn_writable(c));
    for (int64_t i = 0; i < count; i++) {
        void *d = NULL;
        size_t n = 0;
        MPT_CHILD_CHECK(mp_conn_recv_bytes(c, &d, &n, 0) == 0);
        int rc = mp_conn_send_bytes(c, d, 0, n);
        mp_free(d);
        MPT_CHILD_CHECK(rc == 0);
    }
    return 0;
}

static void child_echo(mp_start_method method)
{
    static const size_t sizes[] = {0, 1, 16384, 16385, MIB, 8 * MIB};
    const size_t count = sizeof sizes / sizeof sizes[0];
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    mp_process *p = mpt_start(echo_child, mp_args_of(b, (int64_t)count), method);
    mp_conn_close(b);
    for (size_t i = 0; i < count; i++) {
        unsigned char *msg = pattern(sizes[i], (unsigned)i);
        MPT_OK(mp_conn_send_bytes(a, msg, 0, sizes[i]));
        void *d = NULL;
        size_t n = 0;
        MPT_OK(mp_conn_recv_bytes(a, &d, &n, 0));
        CU_ASSERT_EQUAL(n, sizes[i]);
        CU_ASSERT(n == sizes[i] && check_fill(d, n, (unsigned)i));
        mp_free(d);
        free(msg);
    }
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_conn_close(a);
}
MPT_DEFINE_BOTH(child_echo)

/* Bytes this end read ahead of the message it returned go with it to a
 * child: the child receives the next messages whole, including one whose
 * first part the parent's read took and whose rest is still in the pipe. */
static int ahead_child(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    MPT_CHILD_CHECK(c != NULL);
    static const size_t sizes[] = {5000, 20000};
    for (unsigned i = 0; i < 2; i++) {
        void *d = NULL;
        size_t n = 0;
        MPT_CHILD_CHECK(mp_conn_recv_bytes(c, &d, &n, 0) == 0);
        int ok = n == sizes[i] && check_fill(d, n, i + 1);
        mp_free(d);
        MPT_CHILD_CHECK(ok);
    }
    MPT_CHILD_CHECK(mp_conn_send_bytes(c, "ok", 0, 2) == 0);
    return 0;
}

static void read_ahead_travels(mp_start_method method)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    unsigned char *m1 = pattern(5000, 1), *m2 = pattern(20000, 2);
    MPT_OK(mp_conn_send_bytes(a, "first", 0, 5));
    MPT_OK(mp_conn_send_bytes(a, m1, 0, 5000));
    MPT_OK(mp_conn_send_bytes(a, m2, 0, 20000));
    expect_msg(b, "first", 5); /* on a byte stream, reads the others' start */
    mp_process *p = mpt_start(ahead_child, mp_args_of(b), method);
    expect_msg(a, "ok", 2);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    free(m1);
    free(m2);
    mp_conn_close(a);
    mp_conn_close(b);
}
MPT_DEFINE_BOTH(read_ahead_travels)

/* The seed's Pipe program: the child sends and closes, the parent
 * receives (the runtime closes the child's end when the target returns). */
static int seed_child(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    MPT_CHILD_CHECK(c != NULL);
    MPT_CHILD_CHECK(mp_conn_send_bytes(c, "hello", 0, 5) == 0);
    return 0;
}

static void seed_pipe(mp_start_method method)
{
    mp_conn *parent_conn, *child_conn;
    MPT_OK(mp_pipe(&parent_conn, &child_conn, 1));
    mp_process *p = mpt_start(seed_child, mp_args_of(child_conn), method);
    expect_msg(parent_conn, "hello", 5);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_conn_close(parent_conn);
    mp_conn_close(child_conn);
}
MPT_DEFINE_BOTH(seed_pipe)

/* Child: writes two messages on a one-way write end and exits. */
static int writer_child(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    MPT_CHILD_CHECK(c != NULL);
    MPT_CHILD_CHECK(!mp_conn_readable(c) && mp_conn_writable(c));
    MPT_CHILD_CHECK(mp_conn_send_bytes(c, "one", 0, 3) == 0);
    MPT_CHILD_CHECK(mp_conn_send_bytes(c, "two", 0, 3) == 0);
    return 0;
}

static void eof_from_child(mp_start_method method)
{
    mp_conn *r, *w;
    MPT_OK(mp_pipe(&r, &w, 0));
    mp_process *p = mpt_start(writer_child, mp_args_of(w), method);
    /* As in Python: the parent must drop its copy of the write end, or
     * the reader never sees end of file. */
    mp_conn_close(w);
    expect_msg(r, "one", 3);
    expect_msg(r, "two", 3);
    void *d = NULL;
    size_t n = 0;
    MPT_EQ(mp_conn_recv_bytes(r, &d, &n, 0), MP_ECLOSED);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_conn_close(r);
}
MPT_DEFINE_BOTH(eof_from_child)

/* Child: reads from a one-way read end until EOF, then reports the count
 * through the exit code. */
static int reader_child(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    MPT_CHILD_CHECK(c != NULL);
    MPT_CHILD_CHECK(mp_conn_readable(c) && !mp_conn_writable(c));
    int count = 0;
    for (;;) {
        char buf[16];
        size_t n = 0;
        int rc = mp_conn_recv_bytes_into(c, buf, sizeof buf, 0, &n);
        if (rc == MP_ECLOSED) break;
        MPT_CHILD_CHECK(rc == 0 && n == 3 && memcmp(buf, "msg", 3) == 0);
        count++;
    }
    return 10 + count;
}

static void eof_in_child(mp_start_method method)
{
    mp_conn *r, *w;
    MPT_OK(mp_pipe(&r, &w, 0));
    mp_process *p = mpt_start(reader_child, mp_args_of(r), method);
    mp_conn_close(r);
    for (int i = 0; i < 5; i++)
        MPT_OK(mp_conn_send_bytes(w, "msg", 0, 3));
    mp_conn_close(w);
    CU_ASSERT_EQUAL(mpt_join(p), 15);
}

/* Spawn only: a forked child holds a copy of every parent descriptor,
 * its parent's write end too, so it would never see end of file (the same
 * holds for Python's fork start method). */
static void eof_in_child_spawn(void)
{
    eof_in_child(MP_START_SPAWN);
}

#define PING_ROUNDS 1000

/* Child: answers every number with the next one. */
static int pong_child(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    MPT_CHILD_CHECK(c != NULL);
    for (int i = 0; i < PING_ROUNDS; i++) {
        uint64_t v = 0;
        size_t n = 0;
        MPT_CHILD_CHECK(mp_conn_recv_bytes_into(c, &v, sizeof v, 0, &n) == 0);
        MPT_CHILD_CHECK(n == sizeof v);
        v++;
        MPT_CHILD_CHECK(mp_conn_send_bytes(c, &v, 0, sizeof v) == 0);
    }
    return 0;
}

static void ping_pong(mp_start_method method)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    mp_process *p = mpt_start(pong_child, mp_args_of(b), method);
    mp_conn_close(b);
    uint64_t v = 0;
    int ok = 1;
    for (int i = 0; i < PING_ROUNDS && ok; i++) {
        uint64_t back = 0;
        size_t n = 0;
        ok = mp_conn_send_bytes(a, &v, 0, sizeof v) == 0 &&
             mp_conn_recv_bytes_into(a, &back, sizeof back, 0, &n) == 0 &&
             n == sizeof back && back == v + 1;
        v = back + 1;
    }
    CU_ASSERT(ok);
    CU_ASSERT_EQUAL(v, 2 * PING_ROUNDS);
    if (!ok) { /* the child then sees end of file and exits */
        mp_conn_close(a);
        a = NULL;
    }
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_conn_close(a);
}
MPT_DEFINE_BOTH(ping_pong)

/* Child: after its parent is gone as a reader, writing must give
 * MP_ECLOSED, not a SIGPIPE death (which the exit code would show). */
static int orphan_writer_child(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    MPT_CHILD_CHECK(c != NULL);
    /* Wait for the parent's go (or its EOF on a duplex end). */
    void *d = NULL;
    size_t n = 0;
    int rc = mp_conn_recv_bytes(c, &d, &n, 0);
    mp_free(d);
    MPT_CHILD_CHECK(rc == MP_ECLOSED);
    MPT_CHILD_CHECK(mp_conn_send_bytes(c, "x", 0, 1) == MP_ECLOSED);
    return 0;
}

static void write_to_gone_parent(mp_start_method method)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    mp_process *p = mpt_start(orphan_writer_child, mp_args_of(b), method);
    mp_conn_close(b);
    mp_conn_close(a);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
}

/* Spawn only, as eof_in_child: a forked child keeps the parent's end. */
static void write_to_gone_parent_spawn(void)
{
    write_to_gone_parent(MP_START_SPAWN);
}

#ifdef _WIN32
#include <windows.h>

/* One overlapped ReadFile/WriteFile on a pipe end, waited for: what a
 * Python PipeConnection does on the other end. Returns the Win32 error
 * (ERROR_MORE_DATA for a message longer than n). */
static DWORD raw_io(HANDLE h, int write, void *buf, DWORD n, DWORD *done)
{
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    *done = 0;
    BOOL ok = write ? WriteFile(h, buf, n, NULL, &ov) : ReadFile(h, buf, n, NULL, &ov);
    DWORD e = ok ? 0 : GetLastError();
    if (ok || e == ERROR_IO_PENDING || e == ERROR_MORE_DATA)
        e = GetOverlappedResult(h, &ov, done, TRUE) ? 0 : GetLastError();
    CloseHandle(ov.hEvent);
    return e;
}

/* Windows pipes frame as Python's PipeConnection: each message is one
 * pipe message with no length prefix, both ways. */
static void message_framing_win32(void)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    HANDLE ha = (HANDLE)mp__conn_handle(a), hb = (HANDLE)mp__conn_handle(b);
    static const size_t sizes[] = {0, 1, 5, 4096, 4097, 40000};
    unsigned char m[40000], r[40064];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        for (size_t k = 0; k < n; k++)
            m[k] = (unsigned char)(k * 7 + i);
        MPT_OK(mp_conn_send_bytes(a, m, 0, n));
        DWORD got = 0, total = 0, e;
        do {
            e = raw_io(hb, 0, r + total, (DWORD)(sizeof r - total), &got);
            total += got;
        } while (e == ERROR_MORE_DATA);
        CU_ASSERT_EQUAL(e, 0);
        CU_ASSERT_EQUAL(total, n); /* exactly the payload: no prefix */
        CU_ASSERT(n == 0 || memcmp(r, m, n) == 0);
    }
    DWORD done;
    CU_ASSERT_EQUAL(raw_io(ha, 1, "python-style", 12, &done), 0);
    CU_ASSERT_EQUAL(raw_io(ha, 1, "", 0, &done), 0);
    void *d;
    size_t len;
    MPT_OK(mp_conn_recv_bytes(b, &d, &len, 0));
    CU_ASSERT(len == 12 && memcmp(d, "python-style", 12) == 0);
    mp_free(d);
    MPT_OK(mp_conn_recv_bytes(b, &d, &len, 0));
    CU_ASSERT_EQUAL(len, 0);
    mp_free(d);
    mp_conn_close(a);
    mp_conn_close(b);
}
#endif

void mpt_suite_conn(void)
{
#ifdef _WIN32
    mpt_add("conn", "message_framing_win32", message_framing_win32);
#endif
    mpt_add("conn", "pipe_ends", test_pipe_ends);
    mpt_add("conn", "empty_message", test_empty_message);
    mpt_add("conn", "small_both_ways", test_small_both_ways);
    mpt_add("conn", "size_16384", test_size_16384);
    mpt_add("conn", "size_16385", test_size_16385);
    mpt_add("conn", "size_1mib", test_size_1mib);
    mpt_add("conn", "size_8mib", test_size_8mib);
    mpt_add("conn", "send_offset", test_send_offset);
    mpt_add("conn", "bad_arguments", test_bad_arguments);
    mpt_add("conn", "into_offset", test_into_offset);
    mpt_add("conn", "into_exact_fit", test_into_exact_fit);
    mpt_add("conn", "into_too_short", test_into_too_short);
    mpt_add("conn", "too_short_then_recv_bytes", test_too_short_then_recv_bytes);
    mpt_add("conn", "too_short_large", test_too_short_large);
    mpt_add("conn", "maxlength", test_maxlength);
    mpt_add("conn", "eof_after_close", test_eof_after_close);
    mpt_add("conn", "write_reader_gone", test_write_reader_gone);
    mpt_add("conn", "encode_header", test_encode_header);
    mpt_add("conn", "wire_bytes", test_wire_bytes);
    mpt_add("conn", "decode_64bit_header", test_decode_64bit_header);
    mpt_add("conn", "truncated_header", test_truncated_header);
    mpt_add("conn", "truncated_payload", test_truncated_payload);
    mpt_add("conn", "negative_length", test_negative_length);
    mpt_add("conn", "huge_length_with_limit", test_huge_length_with_limit);
    mpt_add("conn", "huge_length_no_limit", test_huge_length_no_limit);
    mpt_add("conn", "poll", test_poll);
    mpt_add("conn", "one_way_direction", test_one_way_direction);
    mpt_add("conn", "two_threads", test_two_threads);
    MPT_BOTH("conn", child_echo);
    MPT_BOTH("conn", seed_pipe);
    MPT_BOTH("conn", read_ahead_travels);
    MPT_BOTH("conn", eof_from_child);
    mpt_add("conn", "eof_in_child_spawn", eof_in_child_spawn);
    MPT_BOTH("conn", ping_pong);
    mpt_add("conn", "write_to_gone_parent_spawn", write_to_gone_parent_spawn);
}
