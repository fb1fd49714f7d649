/* conn.c - the ends of a Pipe, framed as CPython's Connection frames them.
 *
 * Room conn/: connections. This file is the framing and the end itself;
 * listener.c is Listener and Client, auth.c the authkey handshake both
 * sides run, digest.c its built-in hashes; the OS's pipes and sockets are
 * platform.h (src/posix/pipe.c, socket.c and their win32 twins).
 *
 * Two transports, chosen per end by what the platform says its handle is
 * (mp_os_handle_is_message), as Python chooses its class by transport:
 *
 * Byte streams (every POSIX fd, every socket): Connection._send_bytes's
 * framing, a 4-byte big-endian signed length, then the payload; a message
 * longer than 0x7fffffff bytes has the length -1 and then an 8-byte
 * big-endian unsigned length. A read takes whatever the stream holds, up
 * to CONN_AHEAD bytes, so that a small message costs one read instead of
 * two (header, payload); what it took of later messages waits in the end's
 * read-ahead buffer, which travels with the end when it is handed to a
 * child. (Python reads unbuffered; the bytes on the wire are the same.)
 *
 * Message pipes (Windows pipes): PipeConnection's framing, which is none:
 * each message is one message of the pipe, written whole; a reader takes
 * a first part, learns what is left of the message, and reads the rest
 * (PipeConnection._recv_bytes and _get_more_data). */
#include <stdlib.h>
#include <string.h>

#include "core/conn/conn_internal.h"
#include "base/deadline.h"
#include "base/error.h"
#include "core/runtime/kind.h"

/* Reads and writes are issued in pieces of at most this size, because some
 * systems reject single I/O calls above 2 GiB (and Windows takes a DWORD). */
#define CONN_IO_CHUNK ((size_t)1 << 30)

/* First allocation for an incoming message. The length comes from the
 * peer, so memory is committed only as fast as bytes really arrive. */
#define CONN_GROW_START ((size_t)1 << 20)

/* The first read of a message on a message pipe: a message this short
 * costs one read and no look at the rest (CPython reads 128 bytes first;
 * the size of the first read is not visible on the wire). */
#define CONN_MSG_FIRST 4096

/* The read-ahead buffer of a byte stream. Reads of this much or more go
 * straight to their destination. */
#define CONN_AHEAD 8192

enum { CONN_READABLE = 1, CONN_WRITABLE = 2, CONN_BROKEN = 4, CONN_HAS_AHEAD = 8 };

struct mp_conn {
    mp_os_handle h;
    int readable, writable;
    /* Set once the stream lost its place in the framing (bad length,
     * truncated message): Python makes the Connection unreadable then. */
    int broken;
    /* A message that did not fit a recv_bytes_into() buffer; handed out
     * by the next receive call (BufferTooShort carries it in Python). */
    int has_pending;
    unsigned char *pending;
    size_t pending_len;
    /* An argument of a child's target: the child runtime frees it after
     * the target returns, so the target's own mp_conn_close (Python's
     * conn.close() idiom) only closes the handle. */
    int held_by_runtime;
    /* The handle is a message pipe (Windows): no length prefix, one pipe
     * message per message. */
    int message;
    /* A poll on a message pipe took an empty message off the pipe (it can
     * only be seen by reading it); the next receive returns it. Like a
     * kept message, it lives in this process only. */
    int got_empty;
    /* The longest message a receive without a maxlength takes into memory
     * (mp_conn_set_max_message). Process-local, like a kept message: an
     * end handed to a child starts again from the default there. */
    size_t max_message;
    /* Bytes read from a byte stream and not yet received: ahead[pos, len).
     * Allocated on the first small read. */
    unsigned char *ahead;
    size_t ahead_pos, ahead_len;
};

/* ---- framing -------------------------------------------------------------- */

size_t mp__conn_encode_header(uint64_t n, unsigned char out[MP_CONN_HEADER_MAX])
{
    if (n > 0x7fffffffu) {
        memset(out, 0xff, 4);
        for (int i = 0; i < 8; i++)
            out[4 + i] = (unsigned char)(n >> (56 - 8 * i));
        return 12;
    }
    for (int i = 0; i < 4; i++)
        out[i] = (unsigned char)(n >> (24 - 8 * i));
    return 4;
}

static int write_all(mp_os_handle h, const unsigned char *p, size_t n)
{
    while (n > 0) {
        size_t k = n < CONN_IO_CHUNK ? n : CONN_IO_CHUNK;
        int rc = mp_os_write_all(h, p, k);
        if (rc < 0) return rc;
        p += k;
        n -= k;
    }
    return 0;
}

/* Moves up to n bytes of the read-ahead buffer to p; returns how many. */
static size_t take_ahead(mp_conn *c, unsigned char *p, size_t n)
{
    size_t k = c->ahead_len - c->ahead_pos;
    if (k > n) k = n;
    if (k) {
        memcpy(p, c->ahead + c->ahead_pos, k);
        c->ahead_pos += k;
    }
    return k;
}

static int ahead_empty(const mp_conn *c)
{
    return c->ahead_pos == c->ahead_len;
}

/* Reads exactly n bytes of a byte stream unless end of file or an error
 * comes first; *got says how many arrived. MP_ECLOSED at end of file. A
 * short remainder is read through the read-ahead buffer (one read may
 * bring the next header and payload too), a long one straight into p. */
static int conn_read(mp_conn *c, unsigned char *p, size_t n, size_t *got)
{
    size_t done = take_ahead(c, p, n);
    int rc = 0;
    while (done < n) {
        size_t left = n - done, k = 0;
        int via_ahead =
            left < CONN_AHEAD && (c->ahead || (c->ahead = malloc(CONN_AHEAD)));
        if (via_ahead)
            rc = mp_os_read(c->h, c->ahead, CONN_AHEAD, &k);
        else
            rc = mp_os_read(c->h, p + done, left < CONN_IO_CHUNK ? left : CONN_IO_CHUNK,
                            &k);
        if (rc < 0) break;
        if (k == 0) {
            rc = MP_ECLOSED;
            break;
        }
        if (via_ahead) {
            c->ahead_pos = 0;
            c->ahead_len = k;
            k = take_ahead(c, p + done, left);
        }
        done += k;
    }
    *got = done;
    return rc;
}

/* The stream is out of step with the framing: no later read can be
 * trusted, so refuse them (Python's _bad_message_length). */
static int conn_break(mp_conn *c, int code, const char *what)
{
    c->broken = 1;
    return mp_set_error(code, "connection: %s", what);
}

/* Reads one frame header. MP_ECLOSED only at a clean end of file, before
 * the first byte of a message. */
static int read_header(mp_conn *c, uint64_t *len)
{
    unsigned char b[8];
    size_t got = 0;
    int rc = conn_read(c, b, 4, &got);
    if (rc == MP_ECLOSED && got == 0) return mp_set_error(MP_ECLOSED, "end of file");
    if (rc == MP_ECLOSED) return conn_break(c, MP_EPROTO, "end of file inside a header");
    if (rc < 0) return got ? conn_break(c, rc, "read failed inside a header") : rc;
    uint32_t u = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    if (u == 0xffffffffu) {
        rc = conn_read(c, b, 8, &got);
        if (rc == MP_ECLOSED)
            return conn_break(c, MP_EPROTO, "end of file inside a header");
        if (rc < 0) return conn_break(c, rc, "read failed inside a header");
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v = v << 8 | b[i];
        *len = v;
        return 0;
    }
    /* CPython reads any other negative length as an empty message; that
     * can only come from a corrupt stream, so say so instead. */
    if (u & 0x80000000u) return conn_break(c, MP_EPROTO, "negative message length");
    *len = u;
    return 0;
}

/* The length is the peer's word: it must fit size_t before anything is
 * sized by it (only ever false where size_t is narrower than 64 bits). */
static int check_size(mp_conn *c, uint64_t n)
{
#if SIZE_MAX < UINT64_MAX
    if (n > (uint64_t)SIZE_MAX)
        return conn_break(c, MP_EPROTO, "message length does not fit in memory");
#else
    (void)c;
    (void)n;
#endif
    return 0;
}

/* Reads and drops the n bytes left of a message we had no memory for, so
 * that the next message starts where it should. */
static int drain(mp_conn *c, size_t n)
{
    unsigned char sink[4096];
    while (n > 0) {
        size_t got = 0;
        int rc = conn_read(c, sink, n < sizeof sink ? n : sizeof sink, &got);
        if (rc == MP_ECLOSED)
            return conn_break(c, MP_EPROTO, "end of file inside a message");
        if (rc < 0) return conn_break(c, rc, "read failed inside a message");
        n -= got;
    }
    return mp_set_error(MP_ENOMEM, "connection: no memory for the message; dropped");
}

/* Reads an n-byte payload into a new buffer (never NULL, even for n == 0). */
static int read_payload(mp_conn *c, size_t n, unsigned char **out)
{
    size_t cap = n < CONN_GROW_START ? n : CONN_GROW_START;
    unsigned char *p = malloc(cap ? cap : 1);
    if (!p) return drain(c, n);
    size_t done = 0;
    while (done < n) {
        if (done == cap) {
            size_t ncap = cap > n / 2 ? n : cap * 2;
            unsigned char *q = realloc(p, ncap);
            if (!q) {
                free(p);
                return drain(c, n - done);
            }
            p = q;
            cap = ncap;
        }
        size_t got = 0;
        int rc = conn_read(c, p + done, cap - done, &got);
        done += got;
        if (rc < 0) {
            free(p);
            if (rc == MP_ECLOSED)
                return conn_break(c, MP_EPROTO, "end of file inside a message");
            return conn_break(c, rc, "read failed inside a message");
        }
    }
    *out = p;
    return 0;
}

/* ---- message pipes ---------------------------------------------------------- */

/* Reads the rest of the current message, which the pipe said is left
 * bytes, into p. The pipe keeps messages whole, so anything but exactly
 * left bytes means this end lost its place: no later read is trusted. */
static int msg_read_rest(mp_conn *c, unsigned char *p, size_t left)
{
    size_t done = 0;
    for (;;) {
        size_t got = 0;
        int more = 0;
        int rc = mp_os_msg_recv(c->h, p + done, left - done, &got, &more);
        if (rc == MP_ECLOSED)
            return conn_break(c, MP_EPROTO, "end of file inside a message");
        if (rc < 0) return conn_break(c, rc, "read failed inside a message");
        done += got;
        if (!more) break;
        if (done >= left)
            return conn_break(c, MP_EPROTO, "message longer than the pipe said");
    }
    if (done != left)
        return conn_break(c, MP_EPROTO, "message shorter than the pipe said");
    return 0;
}

/* Reads and drops the rest of a message we had no memory for, so that
 * the next message is intact. */
static int msg_drain(mp_conn *c)
{
    unsigned char sink[4096];
    int more = 1;
    while (more) {
        size_t got = 0;
        int rc = mp_os_msg_recv(c->h, sink, sizeof sink, &got, &more);
        if (rc < 0) return conn_break(c, rc, "read failed inside a message");
    }
    return mp_set_error(MP_ENOMEM, "connection: no memory for the message; dropped");
}

/* Starts on the next message: its first part (up to CONN_MSG_FIRST bytes)
 * into first, *n0 bytes; *total its whole length; *more whether a part is
 * left to read. MP_ECLOSED only at end of file, between messages. */
static int msg_begin(mp_conn *c, unsigned char *first, size_t *n0, uint64_t *total,
                     int *more)
{
    *total = 0;
    int rc = mp_os_msg_recv(c->h, first, CONN_MSG_FIRST, n0, more);
    if (rc == MP_ECLOSED) return mp_set_error(MP_ECLOSED, "end of file");
    if (rc < 0) return rc; /* nothing of a message was taken */
    *total = *n0;
    if (*more) {
        /* What _get_more_data asks PeekNamedPipe. */
        size_t left = 0;
        rc = mp_os_msg_left(c->h, &left);
        if (rc < 0) return conn_break(c, rc, "cannot learn the rest of a message");
        if (left == 0)
            return conn_break(c, MP_EPROTO,
                              "a message goes on, but nothing is left of it");
        *total += left;
    }
    return 0;
}

/* A message of n bytes is over the limit of a receive: maxlength if the
 * caller gave one, else the connection's ceiling. Its payload is not read,
 * so the stream has lost its place (Python's _bad_message_length). */
static int too_big(mp_conn *c, uint64_t n, size_t maxlength)
{
    c->broken = 1;
    if (maxlength)
        return mp_set_error(MP_ETOOBIG,
                            "message of %llu bytes over the limit of %zu; "
                            "the connection is unusable now",
                            (unsigned long long)n, maxlength);
    return mp_set_error(MP_ETOOBIG,
                        "message of %llu bytes over the connection's ceiling of %zu "
                        "(mp_conn_set_max_message); the connection is unusable now",
                        (unsigned long long)n, c->max_message);
}

/* The limit of a receive: the caller's maxlength, or without one the
 * connection's ceiling, so that a peer's length word alone never decides
 * how much this process takes into memory. */
static size_t recv_limit(const mp_conn *c, size_t maxlength)
{
    return maxlength ? maxlength : c->max_message;
}

/* recv_bytes on a message pipe. */
static int msg_recv_bytes(mp_conn *c, void **data, size_t *len, size_t maxlength)
{
    unsigned char first[CONN_MSG_FIRST];
    size_t n0 = 0;
    uint64_t total = 0;
    int more = 0;
    int rc = msg_begin(c, first, &n0, &total, &more);
    if (rc < 0) return rc;
    /* As _bad_message_length after _get_more_data: the rest stays in the
     * pipe and the read side is given up. */
    if (total > recv_limit(c, maxlength)) return too_big(c, total, maxlength);
    rc = check_size(c, total);
    if (rc < 0) return rc;
    unsigned char *p = malloc(total ? (size_t)total : 1);
    if (!p) {
        if (more) return msg_drain(c);
        return mp_set_error(MP_ENOMEM, "connection: no memory for the message; dropped");
    }
    if (n0) memcpy(p, first, n0);
    if (more) {
        rc = msg_read_rest(c, p + n0, (size_t)total - n0);
        if (rc < 0) {
            free(p);
            return rc;
        }
    }
    *data = p;
    *len = (size_t)total;
    return 0;
}

/* recv_bytes_into on a message pipe: the first part goes through a stack
 * buffer, so that nothing is written to the caller's buffer when the
 * message turns out not to fit; the rest of a fitting message is read
 * straight into it. */
static int msg_recv_into(mp_conn *c, unsigned char *dst, size_t room, size_t *received)
{
    unsigned char first[CONN_MSG_FIRST];
    size_t n0 = 0;
    uint64_t total = 0;
    int more = 0;
    int rc = msg_begin(c, first, &n0, &total, &more);
    if (rc < 0) return rc;
    if (total <= room) {
        if (n0) memcpy(dst, first, n0);
        if (more) {
            rc = msg_read_rest(c, dst + n0, (size_t)total - n0);
            if (rc < 0) return rc;
        }
        *received = (size_t)total;
        return 0;
    }
    if (total > c->max_message) return too_big(c, total, 0);
    rc = check_size(c, total);
    if (rc < 0) return rc;
    unsigned char *p = malloc((size_t)total);
    if (!p) {
        if (more) return msg_drain(c);
        return mp_set_error(MP_ENOMEM, "connection: no memory for the message; dropped");
    }
    memcpy(p, first, n0);
    if (more) {
        rc = msg_read_rest(c, p + n0, (size_t)total - n0);
        if (rc < 0) {
            free(p);
            return rc;
        }
    }
    c->pending = p;
    c->pending_len = (size_t)total;
    c->has_pending = 1;
    *received = (size_t)total;
    return mp_set_error(MP_ETOOSHORT, "message of %zu bytes, room for %zu", (size_t)total,
                        room);
}

/* A child's argument after mp_conn_close(): the runtime still holds the
 * struct, the handle is gone. */
static int is_closed(const mp_conn *c)
{
    return c->h == MP_OS_NO_HANDLE;
}

static int check_read(mp_conn *c)
{
    if (is_closed(c)) return mp_set_error(MP_ESTATE, "connection is closed");
    if (!c->readable) return mp_set_error(MP_ESTATE, "connection is write-only");
    if (c->broken)
        return mp_set_error(MP_ESTATE, "connection unusable after a bad message");
    return 0;
}

/* ---- lifetime ------------------------------------------------------------- */

int mp__conn_from_handle(mp_conn **c, mp_os_handle h, int readable, int writable)
{
    if (!c) {
        mp_os_close(h);
        return mp_set_error(MP_EINVAL, "NULL connection pointer");
    }
    *c = calloc(1, sizeof **c);
    if (!*c) {
        mp_os_close(h);
        return mp_set_error(MP_ENOMEM, "out of memory for a connection");
    }
    (*c)->h = h;
    (*c)->readable = readable != 0;
    (*c)->writable = writable != 0;
    /* Asked here, so an end made by mp_pipe, accepted by a listener, or
     * inherited by a child gets the framing its transport calls for. */
    (*c)->message = mp_os_handle_is_message(h) == 1;
    (*c)->max_message = MP_CONN_DEFAULT_MAX_MESSAGE;
    return 0;
}

void mp__conn_set_message(mp_conn *c, int message)
{
    if (c) c->message = message != 0;
}

mp_os_handle mp__conn_handle(const mp_conn *c)
{
    return c ? c->h : MP_OS_NO_HANDLE;
}

int mp_pipe(mp_conn **a, mp_conn **b, int duplex)
{
    mp_clear_error();
    if (!a || !b) return mp_set_error(MP_EINVAL, "mp_pipe: NULL argument");
    *a = *b = NULL;
    mp_os_handle h[2];
    int rc = mp_os_pipe(duplex != 0, h);
    if (rc < 0) return rc;
    /* h[0] reads on a one-way pipe: Pipe(duplex=False) returns (reader,
     * writer) in that order. */
    rc = mp__conn_from_handle(a, h[0], 1, duplex != 0);
    if (rc < 0) {
        mp_os_close(h[1]);
        return rc;
    }
    rc = mp__conn_from_handle(b, h[1], duplex != 0, 1);
    if (rc < 0) {
        mp_conn_close(*a);
        *a = NULL;
        return rc;
    }
    return 0;
}

void mp_conn_close(mp_conn *c)
{
    if (!c) return;
    if (c->held_by_runtime) {
        mp_os_close(c->h);
        c->h = MP_OS_NO_HANDLE;
        c->readable = c->writable = 0;
        return;
    }
    mp_os_close(c->h);
    free(c->pending);
    free(c->ahead);
    free(c);
}

int mp_conn_set_max_message(mp_conn *c, size_t max)
{
    mp_clear_error();
    if (!c) return mp_set_error(MP_EINVAL, "mp_conn_set_max_message: NULL connection");
    if (is_closed(c)) return mp_set_error(MP_ESTATE, "connection is closed");
    if (max == 0)
        return mp_set_error(MP_EINVAL, "mp_conn_set_max_message: a ceiling of 0 bytes");
    c->max_message = max;
    return 0;
}

size_t mp_conn_max_message(const mp_conn *c)
{
    return c ? c->max_message : 0;
}

int mp_conn_readable(const mp_conn *c)
{
    mp_clear_error();
    return c ? c->readable : 0;
}

int mp_conn_writable(const mp_conn *c)
{
    mp_clear_error();
    return c ? c->writable : 0;
}

/* ---- sending -------------------------------------------------------------- */

int mp_conn_send_bytes(mp_conn *c, const void *buf, size_t offset, size_t size)
{
    mp_clear_error();
    if (!c) return mp_set_error(MP_EINVAL, "mp_conn_send_bytes: NULL connection");
    if (!buf && size > 0)
        return mp_set_error(MP_EINVAL, "mp_conn_send_bytes: NULL buffer");
    if (mp_size_bad(size) || mp_size_bad(offset) || mp_size_bad(offset + size))
        return mp_set_error(MP_EINVAL,
                            "mp_conn_send_bytes: offset %zu + size %zu is no buffer's",
                            offset, size);
    if (is_closed(c)) return mp_set_error(MP_ESTATE, "connection is closed");
    if (!c->writable) return mp_set_error(MP_ESTATE, "connection is read-only");
    const unsigned char *p = size ? (const unsigned char *)buf + offset : NULL;
    /* A message pipe keeps the boundary itself: the message goes whole,
     * without a prefix (PipeConnection._send_bytes). */
    if (c->message) return mp_os_msg_send(c->h, p, size);
    if (size <= MP_CONN_SMALL) {
        /* One write, as CPython: no Nagle delay between header and
         * payload on a TCP socket, and an empty message never becomes a
         * zero-length write of its own. */
        unsigned char frame[4 + MP_CONN_SMALL];
        size_t hl = mp__conn_encode_header(size, frame);
        if (size) memcpy(frame + hl, p, size);
        return write_all(c->h, frame, hl + size);
    }
    /* Large payloads are written from the caller's memory, never copied. */
    unsigned char hdr[MP_CONN_HEADER_MAX];
    size_t hl = mp__conn_encode_header(size, hdr);
    int rc = write_all(c->h, hdr, hl);
    if (rc < 0) return rc;
    return write_all(c->h, p, size);
}

/* ---- receiving ------------------------------------------------------------ */

int mp_conn_recv_bytes(mp_conn *c, void **data, size_t *len, size_t maxlength)
{
    mp_clear_error();
    if (!c || !data || !len)
        return mp_set_error(MP_EINVAL, "mp_conn_recv_bytes: NULL argument");
    *data = NULL;
    *len = 0;
    int rc = check_read(c);
    if (rc < 0) return rc;
    if (c->has_pending) {
        /* The stream is still in step, so refusing the kept message does
         * not cost the connection: it stays for a larger limit. */
        if (maxlength && c->pending_len > maxlength)
            return mp_set_error(MP_ETOOBIG, "message of %zu bytes over the limit of %zu",
                                c->pending_len, maxlength);
        *data = c->pending ? (void *)c->pending : malloc(1);
        if (!*data) return mp_set_error(MP_ENOMEM, "out of memory");
        *len = c->pending_len;
        c->pending = NULL;
        c->pending_len = 0;
        c->has_pending = 0;
        return 0;
    }
    if (c->got_empty) {
        c->got_empty = 0;
        *data = malloc(1);
        if (!*data) return mp_set_error(MP_ENOMEM, "out of memory");
        return 0;
    }
    if (c->message) return msg_recv_bytes(c, data, len, maxlength);
    uint64_t n = 0;
    rc = read_header(c, &n);
    if (rc < 0) return rc;
    if (n > recv_limit(c, maxlength)) return too_big(c, n, maxlength);
    rc = check_size(c, n);
    if (rc < 0) return rc;
    unsigned char *p = NULL;
    rc = read_payload(c, (size_t)n, &p);
    if (rc < 0) return rc;
    *data = p;
    *len = (size_t)n;
    return 0;
}

int mp_conn_recv_bytes_into(mp_conn *c, void *buf, size_t size, size_t offset,
                            size_t *received)
{
    mp_clear_error();
    if (!c || !received || (!buf && size > 0))
        return mp_set_error(MP_EINVAL, "mp_conn_recv_bytes_into: NULL argument");
    *received = 0;
    if (mp_size_bad(size))
        return mp_set_error(MP_EINVAL, "a buffer of %zu bytes is no buffer's", size);
    if (offset > size)
        return mp_set_error(MP_EINVAL, "offset %zu past the buffer of %zu bytes", offset,
                            size);
    int rc = check_read(c);
    if (rc < 0) return rc;
    size_t room = size - offset;
    unsigned char *dst = buf ? (unsigned char *)buf + offset : NULL;
    if (c->has_pending) {
        *received = c->pending_len;
        if (c->pending_len > room)
            return mp_set_error(MP_ETOOSHORT, "message of %zu bytes, room for %zu",
                                c->pending_len, room);
        if (c->pending_len) memcpy(dst, c->pending, c->pending_len);
        free(c->pending);
        c->pending = NULL;
        c->pending_len = 0;
        c->has_pending = 0;
        return 0;
    }
    if (c->got_empty) {
        c->got_empty = 0;
        return 0;
    }
    if (c->message) return msg_recv_into(c, dst, room, received);
    uint64_t n = 0;
    rc = read_header(c, &n);
    if (rc < 0) return rc;
    if (n <= room) {
        /* It fits: into the caller's buffer, copied only from the read-ahead. */
        size_t got = 0;
        rc = conn_read(c, dst, (size_t)n, &got);
        if (rc == MP_ECLOSED)
            return conn_break(c, MP_EPROTO, "end of file inside a message");
        if (rc < 0) return conn_break(c, rc, "read failed inside a message");
        *received = (size_t)n;
        return 0;
    }
    /* Kept for the next receive, so held in memory: the ceiling applies. */
    if (n > c->max_message) return too_big(c, n, 0);
    rc = check_size(c, n);
    if (rc < 0) return rc;
    unsigned char *p = NULL;
    rc = read_payload(c, (size_t)n, &p);
    if (rc < 0) return rc;
    c->pending = p;
    c->pending_len = (size_t)n;
    c->has_pending = 1;
    *received = (size_t)n;
    return mp_set_error(MP_ETOOSHORT, "message of %zu bytes, room for %zu", (size_t)n,
                        room);
}

int mp_conn_poll(mp_conn *c, double timeout)
{
    mp_clear_error();
    if (!c) return mp_set_error(MP_EINVAL, "mp_conn_poll: NULL connection");
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    rc = check_read(c);
    if (rc < 0) return rc;
    if (c->has_pending || c->got_empty || !ahead_empty(c)) return 1;
    rc = mp_os_poll_readable(c->h, mp_deadline(timeout));
    if (rc == 2) {
        /* The wait took an empty message off a message pipe (the only way
         * to see one): it is the next message received. */
        c->got_empty = 1;
        return 1;
    }
    return rc;
}

/* ---- for wait() (conn/wait.c) --------------------------------------------- */

int mp__conn_wait_prepare(mp_conn *c, mp_os_handle *h)
{
    int rc = check_read(c);
    if (rc < 0) return rc;
    *h = c->h;
    return c->has_pending || c->got_empty || !ahead_empty(c);
}

void mp__conn_took_empty(mp_conn *c)
{
    c->got_empty = 1;
}

/* ---- handing an end to a child -------------------------------------------- */

static int conn_export(const mp_arg *a, mp_export *ex)
{
    const mp_conn *c = a->u.conn;
    /* A kept (too long) message, and an empty one a poll took off a
     * message pipe, live in this process's memory only; the child gets the
     * stream as it stands, like a dup'ed fd in Python. Bytes read ahead are
     * part of that stream, so they go along (this end keeps its copy: of
     * two processes reading one end, each may then receive them, which in
     * Python would be a race on the fd instead). The child asks the
     * platform again whether the handle is a message pipe. */
    size_t ahead = c->ahead_len - c->ahead_pos;
    uint32_t flags = (c->readable ? CONN_READABLE : 0u) |
                     (c->writable ? CONN_WRITABLE : 0u) | (c->broken ? CONN_BROKEN : 0u) |
                     (ahead ? CONN_HAS_AHEAD : 0u);
    mp_buf_u32(ex->buf, flags);
    if (ahead) mp_buf_blob(ex->buf, c->ahead + c->ahead_pos, ahead);
    mp_export_handle(ex, c->h);
    if (ex->failed) return ex->failed;
    return ex->buf->failed;
}

static int import_conn(mp_conn **c, mp_import *im)
{
    *c = NULL;
    uint32_t flags = mp_rd_u32(im->rd);
    if (im->rd->failed || (flags & ~(uint32_t)(CONN_READABLE | CONN_WRITABLE |
                                               CONN_BROKEN | CONN_HAS_AHEAD)))
        return mp_set_error(MP_EPROTO, "bootstrap data: bad connection flags");
    size_t ahead = 0;
    const void *bytes = (flags & CONN_HAS_AHEAD) ? mp_rd_blob(im->rd, &ahead) : NULL;
    mp_os_handle h = MP_OS_NO_HANDLE;
    int rc = mp_import_handle(im, &h); /* owned from here, whatever follows */
    if (rc < 0) return rc;
    if (im->rd->failed || ahead > CONN_AHEAD) {
        mp_os_close(h);
        return mp_set_error(MP_EPROTO, "bootstrap data: bad read-ahead bytes");
    }
    rc = mp__conn_from_handle(c, h, (flags & CONN_READABLE) != 0,
                              (flags & CONN_WRITABLE) != 0);
    if (rc < 0) return rc;
    (*c)->broken = (flags & CONN_BROKEN) != 0;
    if (ahead) {
        (*c)->ahead = malloc(CONN_AHEAD);
        if (!(*c)->ahead) {
            mp_conn_close(*c);
            *c = NULL;
            return mp_set_error(MP_ENOMEM, "out of memory for a connection");
        }
        memcpy((*c)->ahead, bytes, ahead);
        (*c)->ahead_len = ahead;
    }
    return 0;
}

/* A child's argument conn is held by the runtime: mp_conn_close() by the
 * target then only closes the handle, and the release after the target
 * frees it. */
static int conn_import(mp_arg *a, mp_import *im)
{
    int rc = import_conn(&a->u.conn, im);
    if (rc == 0) a->u.conn->held_by_runtime = 1;
    return rc;
}

static void conn_release(mp_arg *a)
{
    mp_conn *c = a->u.conn;
    c->held_by_runtime = 0;
    mp_conn_close(c);
}

const mp_kind mp__kind_conn = {"Connection", mp__kind_copy_ref, NULL,
                               conn_export,  conn_import,       conn_release};

/* ---- objects -------------------------------------------------------------- */

int mp_conn_send(mp_conn *c, const mp_obj *o)
{
    mp_clear_error();
    if (!c || !o) return mp_set_error(MP_EINVAL, "NULL argument");
    void *data;
    size_t len;
    int rc = mp_obj_dumps(o, &data, &len);
    if (rc < 0) return rc;
    rc = mp_conn_send_bytes(c, data, 0, len);
    mp_free(data);
    return rc;
}

int mp_conn_recv(mp_conn *c, mp_obj **o)
{
    mp_clear_error();
    if (!o) return mp_set_error(MP_EINVAL, "NULL argument");
    *o = NULL;
    void *data;
    size_t len;
    int rc = mp_conn_recv_bytes(c, &data, &len, 0);
    if (rc < 0) return rc;
    rc = mp_obj_loads(data, len, o);
    mp_free(data);
    return rc;
}

int mp_conn_from_handle(mp_conn **c, intptr_t handle, int readable, int writable)
{
    mp_clear_error();
    if (handle == (intptr_t)MP_OS_NO_HANDLE || (!readable && !writable)) {
        if (c) *c = NULL;
        /* Ownership is taken also on failure, as the header promises. */
        mp_os_close((mp_os_handle)handle);
        return mp_set_error(MP_EINVAL, "bad handle or neither readable nor writable");
    }
    return mp__conn_from_handle(c, (mp_os_handle)handle, readable, writable);
}
