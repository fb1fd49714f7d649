/* encode.c - mp_obj_dumps(): an mp_obj as a protocol 4 pickle.
 *
 * The output is byte for byte what CPython's pickle.dumps(x, protocol=4)
 * (the C pickler of Python 3.8 to 3.13) writes for the same value, as far
 * as the value model allows: Python memoises by object identity, so a
 * value holding the *same* str or container twice gets a memo get
 * (BINGET) there, where an mp_obj, which has no sharing, writes the item
 * again. Both read back as equal values. docs/pickle.md lists the rules
 * copied here; tests/test_pickle.c compares against python3.
 *
 * Layout, as CPython writes it: PROTO 4 outside any frame, then opcodes
 * grouped into FRAMEs of about 64 KiB (a frame is closed at the first
 * opcode boundary - the start of saving an item - once it holds
 * MP_PICKLE_FRAME_TARGET bytes; a frame under MP_PICKLE_FRAME_MIN bytes is
 * written without its header), with str and bytes payloads of 64 KiB or
 * more written between frames so the reader can take them in place. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "core/obj/obj_internal.h"
#include "core/pickle/pickle.h"

#define FRAME_HEADER 9
#define NO_FRAME     SIZE_MAX

/* The most a scalar, or a container's opening or closing opcodes, take. */
#define SCALAR_ROOM 16
/* The most any leaf takes but a str or bytes of over 255 bytes. */
#define LEAF_ROOM (SCALAR_ROOM + 0xff + 3)

/* The output is written in place: each opcode first makes room for itself
 * (room()), then stores its bytes at e->p. A frame is always open while
 * opcodes are written - an empty one is dropped when committed, which is
 * what opening it lazily at the next opcode would give.
 *
 * Items, the bulk of the work, test one bound: below fast_end there is
 * room for any leaf and the frame is short of its target, so the item
 * needs neither a frame boundary nor a room check. */
typedef struct enc {
    unsigned char *buf, *p, *end;
    unsigned char *fast_end;
    size_t frame_start; /* offset of the open frame's reserved header, or NO_FRAME */
    size_t frame_full;  /* offset at which that frame has reached its target */
    int framed;         /* frames are written (mp__pickle_dumps_items_into: not) */
    int oom;
} enc;

static void set_fast_end(enc *e)
{
    size_t cap = (size_t)(e->end - e->buf);
    size_t lim = cap > LEAF_ROOM ? cap - LEAF_ROOM : 0;
    if (e->frame_full < lim) lim = e->frame_full;
    e->fast_end = e->buf + lim;
}

static int grow(enc *e, size_t n)
{
    size_t len = (size_t)(e->p - e->buf), cap = (size_t)(e->end - e->buf);
    if (e->oom || n > SIZE_MAX / 4 - len) {
        e->oom = 1;
        return -1;
    }
    size_t want = cap * 2 > len + n ? cap * 2 : len + n;
    unsigned char *b = realloc(e->buf, want);
    if (!b) {
        e->oom = 1;
        return -1;
    }
    e->buf = b;
    e->p = b + len;
    e->end = b + want;
    set_fast_end(e);
    return 0;
}

/* Room for n more bytes at e->p; NULL once out of memory. */
static inline unsigned char *room(enc *e, size_t n)
{
    if ((size_t)(e->end - e->p) < n && grow(e, n) < 0) return NULL;
    return e->p;
}

static void put(enc *e, const void *p, size_t n)
{
    unsigned char *w = room(e, n);
    if (!w) return;
    memcpy(w, p, n);
    e->p += n;
}

static void put1(enc *e, unsigned char op)
{
    unsigned char *w = room(e, 1);
    if (w) *e->p++ = op;
}

/* Reserves the header of a new frame, filled in when it is committed. */
static void open_frame(enc *e)
{
    if (!e->framed) {
        set_fast_end(e);
        return;
    }
    if (!room(e, FRAME_HEADER)) return;
    e->frame_start = (size_t)(e->p - e->buf);
    e->frame_full = e->frame_start + FRAME_HEADER + MP_PICKLE_FRAME_TARGET;
    e->p += FRAME_HEADER;
    set_fast_end(e);
}

/* Closes the open frame: writes its header, or drops the reserved bytes
 * when the frame is too short to be worth one (as CPython does). */
static void commit_frame(enc *e)
{
    if (e->frame_start == NO_FRAME) return;
    size_t start = e->frame_start;
    e->frame_start = NO_FRAME;
    e->frame_full = SIZE_MAX;
    set_fast_end(e);
    if (e->oom) return;
    unsigned char *h = e->buf + start;
    size_t n = (size_t)(e->p - h) - FRAME_HEADER;
    if (n >= MP_PICKLE_FRAME_MIN) {
        h[0] = MP_PK_FRAME;
        for (int i = 0; i < 8; i++)
            h[1 + i] = (unsigned char)((uint64_t)n >> (8 * i));
    } else {
        memmove(h, h + FRAME_HEADER, n);
        e->p -= FRAME_HEADER;
    }
}

/* Before each object is saved: where CPython may end a frame, and room
 * for any leaf. 0 when out of memory. */
static int item_start_slow(enc *e)
{
    if ((size_t)(e->p - e->buf) >= e->frame_full) {
        commit_frame(e);
        open_frame(e);
    }
    return room(e, LEAF_ROOM) != NULL;
}

static inline int item_start(enc *e)
{
    return e->p < e->fast_end || item_start_slow(e);
}

static unsigned char *le_bytes(unsigned char *w, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        *w++ = (unsigned char)(v >> (8 * i));
    return w;
}

/* A str or bytes: the shortest of the three length forms, then MEMOIZE
 * (protocol 4 memoises every str and bytes; Python's reader expects
 * nothing of it, but byte identity with CPython does). */
static void save_blob(enc *e, const void *p, size_t n, unsigned char op1,
                      unsigned char op4, unsigned char op8)
{
    unsigned char h[9];
    size_t hl;
    if (n <= 0xff) {
        h[0] = op1;
        h[1] = (unsigned char)n;
        hl = 2;
    } else if ((uint64_t)n <= 0xffffffffu) {
        h[0] = op4;
        le_bytes(h + 1, n, 4);
        hl = 5;
    } else {
        h[0] = op8;
        le_bytes(h + 1, n, 8);
        hl = 9;
    }
    if (n >= MP_PICKLE_FRAME_TARGET) {
        /* Large payloads go between frames, unframed. */
        commit_frame(e);
        put(e, h, hl);
        put(e, p, n);
        open_frame(e);
        put1(e, MP_PK_MEMOIZE);
        return;
    }
    unsigned char *w = room(e, hl + n + 1);
    if (!w) return;
    memcpy(w, h, hl);
    if (n) memcpy(w + hl, p, n);
    w[hl + n] = MP_PK_MEMOIZE;
    e->p = w + hl + n + 1;
}

/* The forms CPython chooses: BININT1 for 0..255, BININT2 for 256..65535,
 * BININT for the rest of the signed 32-bit range, else LONG1 with the
 * fewest little-endian two's complement bytes that keep the sign. w has
 * room for 10 bytes; returns the end of what was written. */
static unsigned char *write_int(unsigned char *w, int64_t v)
{
    uint64_t u = (uint64_t)v;
    if (v >= 0 && v <= 0xff) {
        w[0] = MP_PK_BININT1;
        w[1] = (unsigned char)v;
        return w + 2;
    }
    if (v >= 0 && v <= 0xffff) {
        w[0] = MP_PK_BININT2;
        return le_bytes(w + 1, u, 2);
    }
    if (v >= INT32_MIN && v <= INT32_MAX) {
        w[0] = MP_PK_BININT;
        return le_bytes(w + 1, u, 4);
    }
    int n = 8;
    /* Drop a top byte while the byte below it carries the same sign. */
    while (n > 1) {
        unsigned top = (unsigned)(u >> (8 * (n - 1))) & 0xffu;
        unsigned next_sign = (unsigned)(u >> (8 * (n - 1) - 1)) & 1u;
        if ((top == 0 && !next_sign) || (top == 0xff && next_sign))
            n--;
        else
            break;
    }
    w[0] = MP_PK_LONG1;
    w[1] = (unsigned char)n;
    return le_bytes(w + 2, u, n);
}

/* The IEEE 754 bits, big-endian (struct.pack('>d')). */
static unsigned char *write_float(unsigned char *w, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    w[0] = MP_PK_BINFLOAT;
    for (int i = 0; i < 8; i++)
        w[1 + i] = (unsigned char)(u >> (56 - 8 * i));
    return w + 9;
}

static int save(enc *e, const mp_obj *o, int depth);

/* memcpy of a short payload without a call: overlapping word moves. */
static void copy_short(unsigned char *d, const char *s, size_t n)
{
    uint64_t a, b;
    uint32_t c, f;
    if (n >= 8 && n <= 16) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(&c, s, 4);
        memcpy(&f, s + n - 4, 4);
        memcpy(d, &c, 4);
        memcpy(d + n - 4, &f, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++)
            d[i] = (unsigned char)s[i];
    } else {
        memcpy(d, s, n);
    }
}

static int is_leaf(const mp_obj *o)
{
    return o->type != MP_OBJ_LIST && o->type != MP_OBJ_TUPLE && o->type != MP_OBJ_DICT;
}

/* Saves a leaf - the bulk of any value, so written inline - once
 * item_start() has made LEAF_ROOM bytes of room. */
static inline int save_leaf(enc *e, const mp_obj *o)
{
    unsigned char *w = e->p;
    switch (o->type) {
    case MP_OBJ_NONE:
        *w = MP_PK_NONE;
        e->p = w + 1;
        return 0;
    case MP_OBJ_BOOL:
        *w = o->u.b ? MP_PK_NEWTRUE : MP_PK_NEWFALSE;
        e->p = w + 1;
        return 0;
    case MP_OBJ_INT:
        e->p = write_int(w, o->u.i);
        return 0;
    case MP_OBJ_FLOAT:
        e->p = write_float(w, o->u.f);
        return 0;
    case MP_OBJ_STR:
    case MP_OBJ_BYTES: {
        int str = o->type == MP_OBJ_STR;
        size_t n = o->u.s.len;
        if (n <= 0xff) {
            w[0] = str ? MP_PK_SHORT_BINUNICODE : MP_PK_SHORT_BINBYTES;
            w[1] = (unsigned char)n;
            copy_short(w + 2, o->u.s.data, n);
            w[n + 2] = MP_PK_MEMOIZE;
            e->p = w + n + 3;
        } else if (str) {
            save_blob(e, o->u.s.data, n, MP_PK_SHORT_BINUNICODE, MP_PK_BINUNICODE,
                      MP_PK_BINUNICODE8);
        } else {
            save_blob(e, o->u.s.data, n, MP_PK_SHORT_BINBYTES, MP_PK_BINBYTES,
                      MP_PK_BINBYTES8);
        }
        return 0;
    }
    default:
        return mp_set_error(MP_EINVAL, "mp_obj_dumps: object of unknown type %d",
                            (int)o->type);
    }
}

static int null_item(void)
{
    return mp_set_error(MP_EINVAL, "mp_obj_dumps: NULL item inside a container");
}

/* One item of a container. */
static int save_item(enc *e, const mp_obj *o, int depth)
{
    return o ? save(e, o, depth) : null_item();
}

/* Items of a list: one item is saved and APPENDed; more go in MARK ...
 * APPENDS batches of 1000 (CPython's batch_list_exact). */
static int save_list_items(enc *e, const mp_obj *o, int depth)
{
    size_t n = o->u.seq.len;
    mp_obj *const *items = o->u.seq.items;
    if (n == 0) return 0;
    if (n == 1) {
        int rc = save_item(e, items[0], depth);
        if (rc < 0) return rc;
        put1(e, MP_PK_APPEND);
        return 0;
    }
    size_t i = 0;
    while (i < n) {
        put1(e, MP_PK_MARK);
        /* save(), spelled out: the loop most values spend their time
         * in. */
        for (size_t k = 0; k < MP_PICKLE_BATCH && i < n; k++, i++) {
            const mp_obj *it = items[i];
            if (!it) return null_item();
            if (!is_leaf(it)) {
                int rc = save(e, it, depth);
                if (rc < 0) return rc;
            } else if (item_start(e)) {
                int rc = save_leaf(e, it);
                if (rc < 0) return rc;
            }
        }
        put1(e, MP_PK_APPENDS);
    }
    return 0;
}

/* Pairs of a dict: one pair is SETITEM; more go in MARK ... SETITEMS
 * batches of 1000. CPython's batch_dict_exact loops while the last batch
 * was full, so a dict of exactly 1000k pairs ends with an empty
 * MARK SETITEMS; that is copied too. */
static int save_dict_items(enc *e, const mp_obj *o, int depth)
{
    size_t n = o->u.d.len;
    const mp_obj_entry *en = o->u.d.e;
    if (n == 0) return 0;
    if (n == 1) {
        int rc = save_item(e, en[0].key, depth);
        if (rc == 0) rc = save_item(e, en[0].value, depth);
        if (rc < 0) return rc;
        put1(e, MP_PK_SETITEM);
        return 0;
    }
    size_t i = 0, k;
    do {
        put1(e, MP_PK_MARK);
        for (k = 0; k < MP_PICKLE_BATCH && i < n; k++, i++) {
            int rc = save_item(e, en[i].key, depth);
            if (rc == 0) rc = save_item(e, en[i].value, depth);
            if (rc < 0) return rc;
        }
        put1(e, MP_PK_SETITEMS);
    } while (k == MP_PICKLE_BATCH);
    return 0;
}

static int save_tuple(enc *e, const mp_obj *o, int depth)
{
    size_t n = o->u.seq.len;
    if (n == 0) {
        /* The empty tuple is a singleton in CPython: never memoised. */
        put1(e, MP_PK_EMPTY_TUPLE);
        return 0;
    }
    if (n > 3) put1(e, MP_PK_MARK);
    for (size_t i = 0; i < n; i++) {
        int rc = save_item(e, o->u.seq.items[i], depth + 1);
        if (rc < 0) return rc;
    }
    static const unsigned char short_ops[4] = {0, MP_PK_TUPLE1, MP_PK_TUPLE2,
                                               MP_PK_TUPLE3};
    unsigned char end[2] = {n > 3 ? MP_PK_TUPLE : short_ops[n], MP_PK_MEMOIZE};
    put(e, end, 2);
    return 0;
}

/* Saves one value; depth counts the containers around it (recursion is
 * bounded by MP_OBJ_MAX_DEPTH, far below what a C stack holds). */
static int save(enc *e, const mp_obj *o, int depth)
{
    if (!item_start(e)) return 0; /* out of memory: reported at the end */
    if (is_leaf(o)) return save_leaf(e, o);
    if (depth >= MP_OBJ_MAX_DEPTH)
        return mp_set_error(MP_ETOOBIG, "mp_obj_dumps: containers nested deeper than %d",
                            MP_OBJ_MAX_DEPTH);
    if (o->type == MP_OBJ_TUPLE) return save_tuple(e, o, depth);
    unsigned char *w = e->p;
    w[0] = o->type == MP_OBJ_LIST ? MP_PK_EMPTY_LIST : MP_PK_EMPTY_DICT;
    w[1] = MP_PK_MEMOIZE;
    e->p = w + 2;
    return o->type == MP_OBJ_LIST ? save_list_items(e, o, depth + 1)
                                  : save_dict_items(e, o, depth + 1);
}

/* A first guess at the output's size, so that it is rarely regrown:
 * about 10 bytes per item of the top container. */
static size_t first_size(const mp_obj *o)
{
    size_t n = 0;
    if (o->type == MP_OBJ_LIST || o->type == MP_OBJ_TUPLE)
        n = o->u.seq.len;
    else if (o->type == MP_OBJ_DICT)
        n = 2 * o->u.d.len;
    else if (o->type == MP_OBJ_STR || o->type == MP_OBJ_BYTES)
        n = o->u.s.len / 10;
    if (n > ((size_t)1 << 20)) n = (size_t)1 << 20;
    return 2 * LEAF_ROOM + 10 * n;
}

/* Starts an encoding at buf[at + headroom], buf[0..at) kept (headroom
 * bytes left unwritten for the caller): buf (of cap bytes, NULL for none)
 * is grown to fit about want bytes more; in frames as CPython writes
 * them when framed. 0, or MP_ENOMEM. */
static int enc_start_at(enc *e, unsigned char *buf, size_t cap, size_t at,
                        size_t headroom, size_t want, int framed)
{
    if (want > SIZE_MAX / 2 - at - headroom)
        return mp_set_error(MP_ENOMEM, "mp_obj_dumps: out of memory");
    size_t need = at + headroom + want;
    if (need > cap) {
        size_t size = cap * 2 > need ? cap * 2 : need;
        unsigned char *b = realloc(buf, size);
        if (!b) return mp_set_error(MP_ENOMEM, "mp_obj_dumps: out of memory");
        buf = b;
        cap = size;
    }
    e->buf = buf;
    e->end = buf + cap;
    e->oom = 0;
    e->frame_start = NO_FRAME;
    e->frame_full = SIZE_MAX;
    /* PROTO 4 is outside any frame. */
    e->buf[at + headroom] = MP_PK_PROTO;
    e->buf[at + headroom + 1] = 4;
    e->p = e->buf + at + headroom + 2;
    e->fast_end = e->buf;
    e->framed = framed;
    open_frame(e);
    return 0;
}

/* A new encoding in frames, as mp_obj_dumps makes. */
static int enc_start(enc *e, size_t headroom, size_t cap)
{
    return enc_start_at(e, NULL, 0, 0, headroom, cap, 1);
}

/* Ends an encoding whose saving returned rc: hands the buffer over, or
 * frees it and returns the error. */
/* Ends the pickle of an encoding whose saving returned rc (STOP, the
 * last frame closed): rc, or MP_ENOMEM if memory ran out on the way. */
static int enc_stop(enc *e, int rc)
{
    if (rc < 0) return rc;
    put1(e, MP_PK_STOP);
    commit_frame(e);
    return e->oom ? mp_set_error(MP_ENOMEM, "mp_obj_dumps: out of memory") : 0;
}

static int enc_finish(enc *e, int rc, void **data, size_t *len)
{
    rc = enc_stop(e, rc);
    if (rc < 0) {
        free(e->buf);
        return rc;
    }
    *data = e->buf;
    *len = (size_t)(e->p - e->buf);
    return 0;
}

int mp_obj_dumps(const mp_obj *o, void **data, size_t *len)
{
    mp_clear_error();
    if (!data || !len) return mp_set_error(MP_EINVAL, "mp_obj_dumps: NULL argument");
    *data = NULL;
    *len = 0;
    if (!o) return mp_set_error(MP_EINVAL, "mp_obj_dumps: NULL object");
    enc e;
    int rc = enc_start(&e, 0, first_size(o));
    if (rc < 0) return rc;
    return enc_finish(&e, save(&e, o, 0), data, len);
}

/* One item of mp__pickle_dumps_items, in a 1-tuple when wrap is set. */
static int save_listed(enc *e, const mp_obj *it, int wrap)
{
    if (!it) return null_item();
    int rc = save(e, it, wrap ? 2 : 1);
    if (rc == 0 && wrap) {
        static const unsigned char end[2] = {MP_PK_TUPLE1, MP_PK_MEMOIZE};
        put(e, end, 2);
    }
    return rc;
}

int mp__pickle_dumps_items_into(mp_obj *const *items, size_t n, int wrap, size_t headroom,
                                void **buf, size_t *used, size_t *cap)
{
    enc e;
    size_t guess = n > ((size_t)1 << 20) ? (size_t)1 << 20 : n;
    int rc = enc_start_at(&e, *buf, *cap, *used, headroom, 2 * LEAF_ROOM + 12 * guess, 0);
    if (rc < 0) return rc;
    static const unsigned char open[2] = {MP_PK_EMPTY_LIST, MP_PK_MEMOIZE};
    put(&e, open, 2);
    if (n == 1) {
        rc = save_listed(&e, items[0], wrap);
        if (rc == 0) put1(&e, MP_PK_APPEND);
    }
    for (size_t i = 0; rc == 0 && n > 1 && i < n;) {
        put1(&e, MP_PK_MARK);
        for (size_t k = 0; rc == 0 && k < MP_PICKLE_BATCH && i < n; k++, i++)
            rc = save_listed(&e, items[i], wrap);
        put1(&e, MP_PK_APPENDS);
    }
    rc = enc_stop(&e, rc);
    /* The buffer may have moved, also when this failed. */
    *buf = e.buf;
    *cap = (size_t)(e.end - e.buf);
    if (rc == 0) *used = (size_t)(e.p - e.buf);
    return rc;
}
