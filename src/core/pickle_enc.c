/* pickle_enc.c - mp_obj_dumps(): an mp_obj as a protocol 4 pickle.
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
#include <string.h>

#include "buf.h"
#include "err.h"
#include "pickle.h"

#define FRAME_HEADER 9
#define NO_FRAME     SIZE_MAX

typedef struct enc {
    mp_buf b;
    int framing;
    size_t frame_start; /* offset of the reserved frame header, or NO_FRAME */
} enc;

/* Appends opcodes and arguments, opening a frame first if none is open:
 * 9 bytes are reserved for its header and filled in (or removed) when
 * the frame is committed. */
static void put(enc *e, const void *p, size_t n)
{
    if (e->framing && e->frame_start == NO_FRAME && !e->b.failed) {
        static const unsigned char reserve[FRAME_HEADER] = {0};
        e->frame_start = e->b.len;
        mp_buf_put(&e->b, reserve, FRAME_HEADER);
        if (e->b.failed) e->frame_start = NO_FRAME;
    }
    mp_buf_put(&e->b, p, n);
}

static void put1(enc *e, unsigned char op)
{
    put(e, &op, 1);
}

/* Closes the open frame: writes its header, or drops the reserved bytes
 * when the frame is too short to be worth one (as CPython does). */
static void commit_frame(enc *e)
{
    if (e->frame_start == NO_FRAME) return;
    size_t start = e->frame_start;
    e->frame_start = NO_FRAME;
    if (e->b.failed) return;
    size_t n = e->b.len - start - FRAME_HEADER;
    unsigned char *h = e->b.data + start;
    if (n >= MP_PICKLE_FRAME_MIN) {
        h[0] = MP_PK_FRAME;
        for (int i = 0; i < 8; i++)
            h[1 + i] = (unsigned char)((uint64_t)n >> (8 * i));
    } else {
        memmove(h, h + FRAME_HEADER, n);
        e->b.len -= FRAME_HEADER;
    }
}

/* Where CPython may end a frame: before each object is saved. */
static void opcode_boundary(enc *e)
{
    if (e->frame_start != NO_FRAME && !e->b.failed &&
        e->b.len - e->frame_start - FRAME_HEADER >= MP_PICKLE_FRAME_TARGET)
        commit_frame(e);
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
        for (int i = 0; i < 4; i++)
            h[1 + i] = (unsigned char)(n >> (8 * i));
        hl = 5;
    } else {
        h[0] = op8;
        for (int i = 0; i < 8; i++)
            h[1 + i] = (unsigned char)((uint64_t)n >> (8 * i));
        hl = 9;
    }
    if (n >= MP_PICKLE_FRAME_TARGET) {
        /* Large payloads go between frames, unframed. */
        commit_frame(e);
        mp_buf_put(&e->b, h, hl);
        mp_buf_put(&e->b, p, n);
    } else {
        put(e, h, hl);
        put(e, p, n);
    }
    put1(e, MP_PK_MEMOIZE);
}

/* The forms CPython chooses: BININT1 for 0..255, BININT2 for 256..65535,
 * BININT for the rest of the signed 32-bit range, else LONG1 with the
 * fewest little-endian two's complement bytes that keep the sign. */
static void save_int(enc *e, int64_t v)
{
    unsigned char x[10];
    uint64_t u = (uint64_t)v;
    if (v >= 0 && v <= 0xff) {
        x[0] = MP_PK_BININT1;
        x[1] = (unsigned char)v;
        put(e, x, 2);
    } else if (v >= 0 && v <= 0xffff) {
        x[0] = MP_PK_BININT2;
        x[1] = (unsigned char)u;
        x[2] = (unsigned char)(u >> 8);
        put(e, x, 3);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        x[0] = MP_PK_BININT;
        for (int i = 0; i < 4; i++)
            x[1 + i] = (unsigned char)(u >> (8 * i));
        put(e, x, 5);
    } else {
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
        x[0] = MP_PK_LONG1;
        x[1] = (unsigned char)n;
        for (int i = 0; i < n; i++)
            x[2 + i] = (unsigned char)(u >> (8 * i));
        put(e, x, (size_t)n + 2);
    }
}

static int save(enc *e, const mp_obj *o, int depth);

/* Items of a list, tuple-free: one item is saved and APPENDed; more go in
 * MARK ... APPENDS batches of 1000 (CPython's batch_list_exact). */
static int save_list_items(enc *e, const mp_obj *o, int depth)
{
    size_t n = mp_obj_len(o);
    if (n == 0) return 0;
    if (n == 1) {
        int rc = save(e, mp_obj_item(o, 0), depth);
        if (rc < 0) return rc;
        put1(e, MP_PK_APPEND);
        return 0;
    }
    size_t i = 0;
    while (i < n) {
        put1(e, MP_PK_MARK);
        for (size_t k = 0; k < MP_PICKLE_BATCH && i < n; k++, i++) {
            int rc = save(e, mp_obj_item(o, i), depth);
            if (rc < 0) return rc;
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
    size_t n = mp_obj_len(o);
    if (n == 0) return 0;
    if (n == 1) {
        int rc = save(e, mp_obj_dict_key(o, 0), depth);
        if (rc == 0) rc = save(e, mp_obj_dict_value(o, 0), depth);
        if (rc < 0) return rc;
        put1(e, MP_PK_SETITEM);
        return 0;
    }
    size_t i = 0, k;
    do {
        put1(e, MP_PK_MARK);
        for (k = 0; k < MP_PICKLE_BATCH && i < n; k++, i++) {
            int rc = save(e, mp_obj_dict_key(o, i), depth);
            if (rc == 0) rc = save(e, mp_obj_dict_value(o, i), depth);
            if (rc < 0) return rc;
        }
        put1(e, MP_PK_SETITEMS);
    } while (k == MP_PICKLE_BATCH);
    return 0;
}

/* Saves one value; depth counts the containers around it (recursion is
 * bounded by MP_OBJ_MAX_DEPTH, far below what a C stack holds). */
static int save(enc *e, const mp_obj *o, int depth)
{
    if (!o) return mp_set_error(MP_EINVAL, "mp_obj_dumps: NULL item inside a container");
    opcode_boundary(e);
    mp_obj_type t = mp_obj_type_of(o);
    if (t == MP_OBJ_LIST || t == MP_OBJ_TUPLE || t == MP_OBJ_DICT) {
        if (depth >= MP_OBJ_MAX_DEPTH)
            return mp_set_error(MP_ETOOBIG,
                                "mp_obj_dumps: containers nested deeper than %d",
                                MP_OBJ_MAX_DEPTH);
    }
    switch (t) {
    case MP_OBJ_NONE:
        put1(e, MP_PK_NONE);
        return 0;
    case MP_OBJ_BOOL: {
        int v = 0;
        mp_obj_get_bool(o, &v);
        put1(e, v ? MP_PK_NEWTRUE : MP_PK_NEWFALSE);
        return 0;
    }
    case MP_OBJ_INT: {
        int64_t v = 0;
        mp_obj_get_int(o, &v);
        save_int(e, v);
        return 0;
    }
    case MP_OBJ_FLOAT: {
        double d = 0;
        mp_obj_get_float(o, &d);
        uint64_t u;
        memcpy(&u, &d, sizeof u);
        /* The IEEE 754 bits, big-endian (struct.pack('>d')). */
        unsigned char x[9];
        x[0] = MP_PK_BINFLOAT;
        for (int i = 0; i < 8; i++)
            x[1 + i] = (unsigned char)(u >> (56 - 8 * i));
        put(e, x, 9);
        return 0;
    }
    case MP_OBJ_STR: {
        size_t n = 0;
        const char *s = mp_obj_str_data(o, &n);
        save_blob(e, s, n, MP_PK_SHORT_BINUNICODE, MP_PK_BINUNICODE, MP_PK_BINUNICODE8);
        return 0;
    }
    case MP_OBJ_BYTES: {
        size_t n = 0;
        const void *p = mp_obj_bytes_data(o, &n);
        save_blob(e, p, n, MP_PK_SHORT_BINBYTES, MP_PK_BINBYTES, MP_PK_BINBYTES8);
        return 0;
    }
    case MP_OBJ_LIST:
        put1(e, MP_PK_EMPTY_LIST);
        put1(e, MP_PK_MEMOIZE);
        return save_list_items(e, o, depth + 1);
    case MP_OBJ_DICT:
        put1(e, MP_PK_EMPTY_DICT);
        put1(e, MP_PK_MEMOIZE);
        return save_dict_items(e, o, depth + 1);
    case MP_OBJ_TUPLE: {
        size_t n = mp_obj_len(o);
        if (n == 0) {
            /* The empty tuple is a singleton in CPython: never memoised. */
            put1(e, MP_PK_EMPTY_TUPLE);
            return 0;
        }
        if (n > 3) put1(e, MP_PK_MARK);
        for (size_t i = 0; i < n; i++) {
            int rc = save(e, mp_obj_item(o, i), depth + 1);
            if (rc < 0) return rc;
        }
        static const unsigned char short_ops[4] = {0, MP_PK_TUPLE1, MP_PK_TUPLE2,
                                                   MP_PK_TUPLE3};
        put1(e, n > 3 ? MP_PK_TUPLE : short_ops[n]);
        put1(e, MP_PK_MEMOIZE);
        return 0;
    }
    }
    return mp_set_error(MP_EINVAL, "mp_obj_dumps: object of unknown type %d", (int)t);
}

int mp_obj_dumps(const mp_obj *o, void **data, size_t *len)
{
    if (!data || !len) return mp_set_error(MP_EINVAL, "mp_obj_dumps: NULL argument");
    *data = NULL;
    *len = 0;
    if (!o) return mp_set_error(MP_EINVAL, "mp_obj_dumps: NULL object");
    enc e;
    mp_buf_init(&e.b);
    e.framing = 0;
    e.frame_start = NO_FRAME;
    const unsigned char proto[2] = {MP_PK_PROTO, 4};
    mp_buf_put(&e.b, proto, 2);
    e.framing = 1;
    int rc = save(&e, o, 0);
    if (rc == 0) {
        put1(&e, MP_PK_STOP);
        commit_frame(&e);
        if (e.b.failed) rc = mp_set_error(MP_ENOMEM, "mp_obj_dumps: out of memory");
    }
    if (rc < 0) {
        mp_buf_free(&e.b);
        return rc;
    }
    *data = e.b.data;
    *len = e.b.len;
    return 0;
}
