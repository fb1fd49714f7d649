/* decode.c - mp_obj_loads(): the data-only subset of Python's pickles.
 *
 * Nothing in a pickle is ever executed. The few opcodes that name a
 * callable are refused, except two that protocols 0 to 2 need for bytes
 * (GLOBAL _codecs.encode and __builtin__.bytes, followed by REDUCE): those
 * are recognised as patterns and turned into a bytes value here.
 *
 * Most pickles never get this far: those that share nothing are decoded
 * in one pass by pickle/decode_fast.c, which leaves anything else to this file.
 *
 * Decoding runs in two passes.
 *
 * 1. The opcodes run on a stack machine, as Python's Unpickler runs them,
 *    but they build a graph of small nodes (below) rather than mp_obj
 *    values. A memo get pushes the node again, so a list that is shared -
 *    Python writes [x, x] as x, then BINGET of x - and later appended to is
 *    seen with its items from everywhere, exactly as Python shares it. The
 *    nodes live until the end, so no memo entry can dangle, and str/bytes
 *    nodes point into the input instead of copying it.
 *
 * 2. A walk of the graph from the result checks what an mp_obj can hold -
 *    no cycles (a recursive list: MP_EUNSUPPORTED), nesting within
 *    MP_OBJ_MAX_DEPTH (MP_ETOOBIG) - and adds up the memory the value will
 *    take once every shared node is copied. Only when that is within
 *    bounds is the mp_obj built, copying shared parts as often as they are
 *    referenced.
 *
 * Memory: the graph is linear in the input (each node costs at least one
 * opcode byte), and the value built in pass 2 is bounded by the estimate.
 * Every length read from the input is checked against the bytes left
 * before anything is sized by it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "core/obj/obj_internal.h"
#include "core/pickle/pickle.h"

/* ---- opcode names (for messages) ------------------------------------------ */

static const char *const op_names[256] = {
    [MP_PK_MARK] = "MARK",
    [MP_PK_EMPTY_TUPLE] = "EMPTY_TUPLE",
    [MP_PK_STOP] = "STOP",
    [MP_PK_POP] = "POP",
    [MP_PK_POP_MARK] = "POP_MARK",
    [MP_PK_DUP] = "DUP",
    [MP_PK_BINBYTES] = "BINBYTES",
    [MP_PK_SHORT_BINBYTES] = "SHORT_BINBYTES",
    [MP_PK_FLOAT] = "FLOAT",
    [MP_PK_BINFLOAT] = "BINFLOAT",
    [MP_PK_INT] = "INT",
    [MP_PK_BININT] = "BININT",
    [MP_PK_BININT1] = "BININT1",
    [MP_PK_LONG] = "LONG",
    [MP_PK_BININT2] = "BININT2",
    [MP_PK_NONE] = "NONE",
    [MP_PK_PERSID] = "PERSID",
    [MP_PK_BINPERSID] = "BINPERSID",
    [MP_PK_REDUCE] = "REDUCE",
    [MP_PK_STRING] = "STRING",
    [MP_PK_BINSTRING] = "BINSTRING",
    [MP_PK_SHORT_BINSTRING] = "SHORT_BINSTRING",
    [MP_PK_UNICODE] = "UNICODE",
    [MP_PK_BINUNICODE] = "BINUNICODE",
    [MP_PK_EMPTY_LIST] = "EMPTY_LIST",
    [MP_PK_APPEND] = "APPEND",
    [MP_PK_BUILD] = "BUILD",
    [MP_PK_GLOBAL] = "GLOBAL",
    [MP_PK_DICT] = "DICT",
    [MP_PK_APPENDS] = "APPENDS",
    [MP_PK_GET] = "GET",
    [MP_PK_BINGET] = "BINGET",
    [MP_PK_INST] = "INST",
    [MP_PK_LONG_BINGET] = "LONG_BINGET",
    [MP_PK_LIST] = "LIST",
    [MP_PK_OBJ] = "OBJ",
    [MP_PK_PUT] = "PUT",
    [MP_PK_BINPUT] = "BINPUT",
    [MP_PK_LONG_BINPUT] = "LONG_BINPUT",
    [MP_PK_SETITEM] = "SETITEM",
    [MP_PK_TUPLE] = "TUPLE",
    [MP_PK_SETITEMS] = "SETITEMS",
    [MP_PK_EMPTY_DICT] = "EMPTY_DICT",
    [MP_PK_PROTO] = "PROTO",
    [MP_PK_NEWOBJ] = "NEWOBJ",
    [MP_PK_EXT1] = "EXT1",
    [MP_PK_EXT2] = "EXT2",
    [MP_PK_EXT4] = "EXT4",
    [MP_PK_TUPLE1] = "TUPLE1",
    [MP_PK_TUPLE2] = "TUPLE2",
    [MP_PK_TUPLE3] = "TUPLE3",
    [MP_PK_NEWTRUE] = "NEWTRUE",
    [MP_PK_NEWFALSE] = "NEWFALSE",
    [MP_PK_LONG1] = "LONG1",
    [MP_PK_LONG4] = "LONG4",
    [MP_PK_SHORT_BINUNICODE] = "SHORT_BINUNICODE",
    [MP_PK_BINUNICODE8] = "BINUNICODE8",
    [MP_PK_BINBYTES8] = "BINBYTES8",
    [MP_PK_EMPTY_SET] = "EMPTY_SET",
    [MP_PK_ADDITEMS] = "ADDITEMS",
    [MP_PK_FROZENSET] = "FROZENSET",
    [MP_PK_NEWOBJ_EX] = "NEWOBJ_EX",
    [MP_PK_STACK_GLOBAL] = "STACK_GLOBAL",
    [MP_PK_MEMOIZE] = "MEMOIZE",
    [MP_PK_FRAME] = "FRAME",
    [MP_PK_BYTEARRAY8] = "BYTEARRAY8",
    [MP_PK_NEXT_BUFFER] = "NEXT_BUFFER",
    [MP_PK_READONLY_BUFFER] = "READONLY_BUFFER",
};

const char *mp__pickle_op_name(int op)
{
    return op >= 0 && op < 256 ? op_names[op] : NULL;
}

/* ---- the graph -------------------------------------------------------------- */

/* Node kinds: the mp_obj types, plus a callable that GLOBAL named and
 * only REDUCE may consume. */
#define NK_GLOBAL 100
enum { G_CODECS_ENCODE = 1, G_BYTES };

/* Estimated memory of one mp_obj, beyond its payload; only the order of
 * magnitude matters (it feeds the bound on memo copies). */
#define NODE_COST 64

typedef struct pnode {
    unsigned char kind;  /* mp_obj_type, or NK_GLOBAL */
    unsigned char walk;  /* pass 2: 0 not seen, 1 on the current path, 2 done */
    unsigned char which; /* NK_GLOBAL: G_* */
    uint32_t height;     /* pass 2: containers on the longest path down */
    uint64_t cost;       /* pass 2: estimated memory of the built value */
    size_t n, cap;       /* items (a dict has 2n: key, value, key, ...) */
    struct pnode **items;
    union {
        int64_t i;
        double f;
        struct {
            const unsigned char *p;
            size_t len;
        } s;
    } u;
} pnode;

#define CHUNK_NODES 256

typedef struct chunk {
    struct chunk *next;
    size_t used;
    pnode nodes[CHUNK_NODES];
} chunk;

typedef struct memo_slot {
    uint32_t key;
    pnode *val; /* NULL: empty slot */
} memo_slot;

typedef struct dec {
    const unsigned char *base;
    size_t len;   /* whole input */
    size_t pos;   /* next byte */
    size_t limit; /* end of the current frame, or len */
    int in_frame;
    size_t op_at; /* offset of the opcode being run, for messages */
    int op;

    pnode **stack;
    size_t sn, scap;
    size_t *marks; /* stack heights at each open MARK */
    size_t mn, mcap;

    memo_slot *memo; /* open addressing, power-of-two capacity */
    size_t memo_n, memo_cap;

    chunk *chunks;
    unsigned char **owned; /* payloads made here (bytes from REDUCE) */
    size_t on, ocap;

    pnode none_, true_, false_; /* shared: scalars are never mutated */
} dec;

static const char supported_types[] =
    "only None, bool, int, float, str, bytes, list, tuple and dict";

/* ---- errors ----------------------------------------------------------------- */

static const char *op_name(int op)
{
    const char *n = mp__pickle_op_name(op);
    return n ? n : "?";
}

static int bad(dec *d, const char *what)
{
    return mp_set_error(MP_EPROTO, "bad pickle: %s %s at offset %zu", op_name(d->op),
                        what, d->op_at);
}

static int unsupported(dec *d, const char *why)
{
    return mp_set_error(MP_EUNSUPPORTED, "pickle opcode %s (0x%02x) is not supported: %s",
                        op_name(d->op), (unsigned)d->op, why);
}

static int oom(void)
{
    return mp_set_error(MP_ENOMEM, "out of memory decoding a pickle");
}

/* ---- reading ---------------------------------------------------------------- */

/* The next n bytes of the current frame (or of the input outside frames),
 * or NULL with the error recorded in *rc. Opcodes never straddle a frame
 * end in what CPython writes, and Python's reader refuses it too. */
static const unsigned char *take(dec *d, size_t n, int *rc)
{
    if (n > d->limit - d->pos) {
        if (d->in_frame && n <= d->len - d->pos)
            *rc = bad(d, "runs past the end of its frame");
        else
            *rc = mp_set_error(MP_EPROTO,
                               "truncated pickle: %s at offset %zu needs %zu more "
                               "bytes, %zu left",
                               op_name(d->op), d->op_at, n, d->limit - d->pos);
        return NULL;
    }
    const unsigned char *p = d->base + d->pos;
    d->pos += n;
    return p;
}

/* take() for a length read from the input, which may exceed size_t. */
static const unsigned char *take64(dec *d, uint64_t n, int *rc)
{
    if (n > d->limit - d->pos) {
        *rc = mp_set_error(MP_EPROTO,
                           "truncated pickle: %s at offset %zu claims %llu bytes, %zu "
                           "left%s",
                           op_name(d->op), d->op_at, (unsigned long long)n,
                           d->limit - d->pos, d->in_frame ? " in its frame" : "");
        return NULL;
    }
    return take(d, (size_t)n, rc);
}

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* A protocol 0 argument: the bytes up to a newline (not included). */
static const unsigned char *take_line(dec *d, size_t *n, int *rc)
{
    const unsigned char *p = d->base + d->pos;
    const unsigned char *nl = memchr(p, '\n', d->limit - d->pos);
    if (!nl) {
        *rc = mp_set_error(MP_EPROTO,
                           "truncated pickle: %s at offset %zu has no end of line",
                           op_name(d->op), d->op_at);
        return NULL;
    }
    *n = (size_t)(nl - p);
    d->pos += *n + 1;
    return p;
}

/* ---- nodes -------------------------------------------------------------------- */

static pnode *node_new(dec *d, int kind)
{
    chunk *c = d->chunks;
    if (!c || c->used == CHUNK_NODES) {
        c = malloc(sizeof *c);
        if (!c) return NULL;
        c->next = d->chunks;
        c->used = 0;
        d->chunks = c;
    }
    pnode *nd = &c->nodes[c->used++];
    memset(nd, 0, sizeof *nd);
    nd->kind = (unsigned char)kind;
    return nd;
}

static int node_add(pnode *c, pnode *item)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        if (cap > SIZE_MAX / sizeof *c->items) return oom();
        pnode **p = realloc(c->items, cap * sizeof *p);
        if (!p) return oom();
        c->items = p;
        c->cap = cap;
    }
    c->items[c->n++] = item;
    return 0;
}

static void dec_free(dec *d)
{
    for (chunk *c = d->chunks, *next; c; c = next) {
        next = c->next;
        for (size_t i = 0; i < c->used; i++)
            free(c->nodes[i].items);
        free(c);
    }
    for (size_t i = 0; i < d->on; i++)
        free(d->owned[i]);
    free(d->owned);
    free(d->stack);
    free(d->marks);
    free(d->memo);
}

/* ---- the stack ---------------------------------------------------------------- */

static int push(dec *d, pnode *nd)
{
    if (!nd) return oom();
    if (d->sn == d->scap) {
        size_t cap = d->scap ? d->scap * 2 : 64;
        if (cap > SIZE_MAX / sizeof *d->stack) return oom();
        pnode **p = realloc(d->stack, cap * sizeof *p);
        if (!p) return oom();
        d->stack = p;
        d->scap = cap;
    }
    d->stack[d->sn++] = nd;
    return 0;
}

/* Items above the topmost MARK: the only ones an opcode may touch, as in
 * Python, where MARK starts a fresh stack. */
static size_t base(const dec *d)
{
    return d->mn ? d->marks[d->mn - 1] : 0;
}

static pnode *top(dec *d, int *rc)
{
    if (d->sn == base(d)) {
        *rc = bad(d, d->mn ? "finds only a MARK on the stack" : "finds an empty stack");
        return NULL;
    }
    return d->stack[d->sn - 1];
}

static pnode *pop(dec *d, int *rc)
{
    pnode *nd = top(d, rc);
    if (nd) d->sn--;
    return nd;
}

/* Closes the topmost MARK; *first is where its items start. */
static int pop_mark(dec *d, size_t *first)
{
    if (!d->mn) return bad(d, "has no MARK to close");
    *first = d->marks[--d->mn];
    return 0;
}

/* ---- the memo ----------------------------------------------------------------- */

static size_t memo_hash(uint32_t k, size_t cap)
{
    return (size_t)(uint32_t)(k * 2654435761u) & (cap - 1);
}

static memo_slot *memo_find(dec *d, uint32_t key)
{
    if (!d->memo_cap) return NULL;
    size_t i = memo_hash(key, d->memo_cap);
    while (d->memo[i].val) {
        if (d->memo[i].key == key) return &d->memo[i];
        i = (i + 1) & (d->memo_cap - 1);
    }
    return &d->memo[i];
}

/* memo[key] = top of the stack. A sparse table: the keys are the
 * pickle's word, and a LONG_BINPUT of 4e9 must not size an array. */
static int memo_put(dec *d, uint32_t key)
{
    int rc = 0;
    pnode *v = top(d, &rc);
    if (!v) return rc;
    if ((d->memo_n + 1) * 2 > d->memo_cap) {
        size_t cap = d->memo_cap ? d->memo_cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof(memo_slot)) return oom();
        memo_slot *old = d->memo;
        size_t old_cap = d->memo_cap;
        d->memo = calloc(cap, sizeof *d->memo);
        if (!d->memo) {
            d->memo = old;
            return oom();
        }
        d->memo_cap = cap;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].val) *memo_find(d, old[i].key) = old[i];
        free(old);
    }
    memo_slot *s = memo_find(d, key);
    if (!s->val) d->memo_n++;
    s->key = key;
    s->val = v;
    return 0;
}

static int memo_get(dec *d, uint64_t key)
{
    memo_slot *s = key <= UINT32_MAX ? memo_find(d, (uint32_t)key) : NULL;
    if (!s || !s->val) {
        return mp_set_error(MP_EPROTO,
                            "bad pickle: %s at offset %zu refers to memo entry %llu, "
                            "which was never stored",
                            op_name(d->op), d->op_at, (unsigned long long)key);
    }
    return push(d, s->val);
}

/* ---- values ------------------------------------------------------------------- */

/* Two's complement reading of u, without the implementation-defined
 * conversion of an out-of-range value to a signed type. */
static int64_t u2i(uint64_t u)
{
    return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

static int push_int(dec *d, int64_t v)
{
    pnode *nd = node_new(d, MP_OBJ_INT);
    if (nd) nd->u.i = v;
    return push(d, nd);
}

/* LONG1 / LONG4: little-endian two's complement of any length. It fits
 * int64_t when the bytes past the eighth only repeat the sign. */
static int push_long_bytes(dec *d, const unsigned char *p, size_t n)
{
    if (n == 0) return push_int(d, 0);
    int neg = (p[n - 1] & 0x80) != 0;
    size_t keep = n < 8 ? n : 8;
    for (size_t i = 8; i < n; i++)
        if (p[i] != (neg ? 0xff : 0x00)) goto range;
    if (n > 8 && ((p[7] & 0x80) != 0) != neg) goto range;
    uint64_t u = le(p, (int)keep);
    if (neg && keep < 8) u |= ~(uint64_t)0 << (8 * keep);
    return push_int(d, u2i(u));
range:
    return mp_set_error(MP_ERANGE,
                        "pickle int at offset %zu does not fit in 64 bits (mp_obj ints "
                        "are int64_t)",
                        d->op_at);
}

/* Protocol 0 INT / LONG: an optional sign and decimal digits (LONG may
 * end in 'L'); INT 00 and 01 are False and True. */
static int push_text_int(dec *d, int is_long)
{
    int rc = 0;
    size_t n = 0;
    const unsigned char *p = take_line(d, &n, &rc);
    if (!p) return rc;
    if (!is_long && n == 2 && p[0] == '0' && (p[1] == '0' || p[1] == '1'))
        return push(d, p[1] == '1' ? &d->true_ : &d->false_);
    if (is_long && n > 0 && p[n - 1] == 'L') n--;
    size_t i = 0;
    int neg = 0;
    if (i < n && (p[i] == '-' || p[i] == '+')) neg = p[i++] == '-';
    if (i == n) return bad(d, "has no digits");
    uint64_t mag = 0;
    int over = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return bad(d, "has a character that is no digit");
        unsigned dig = (unsigned)(p[i] - '0');
        if (mag > (UINT64_MAX - dig) / 10)
            over = 1;
        else
            mag = mag * 10 + dig;
    }
    if (over || mag > (neg ? (uint64_t)1 << 63 : (uint64_t)INT64_MAX))
        return mp_set_error(MP_ERANGE,
                            "pickle int at offset %zu does not fit in 64 bits (mp_obj "
                            "ints are int64_t)",
                            d->op_at);
    return push_int(d, neg ? u2i(0 - mag) : (int64_t)mag);
}

/* Decodes one UTF-8 sequence at p (n bytes available): the code point,
 * or -1 if invalid, -2 for an encoded surrogate (which Python writes with
 * 'surrogatepass' but an mp_obj str cannot hold). *len gets its length. */
static long utf8_next(const unsigned char *p, size_t n, size_t *len)
{
    unsigned c = p[0];
    *len = 1;
    if (c < 0x80) return (long)c;
    size_t k;
    unsigned long cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        k = 2;
        cp = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        k = 3;
        cp = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return -1;
    }
    if (n < k) return -1;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80) return -1;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    *len = k;
    if (cp < min || cp > 0x10ffff) return -1;
    if (cp >= 0xd800 && cp <= 0xdfff) return -2;
    return (long)cp;
}

/* str payloads are checked here, when they are read, so that the error
 * names the offset; the object model's validator decides, and a refusal
 * is then told apart: an encoded surrogate is a str Python can hold but an
 * mp_obj cannot, anything else is a corrupt pickle. */
static int check_utf8(dec *d, const unsigned char *p, size_t n)
{
    if (mp_obj__utf8_check(p, n, NULL) == 0) return 0;
    for (size_t i = 0; i < n;) {
        size_t k;
        long cp = utf8_next(p + i, n - i, &k);
        if (cp == -2)
            return mp_set_error(MP_EUNSUPPORTED,
                                "pickle str at offset %zu holds a lone surrogate "
                                "(Python wrote it with 'surrogatepass'); an mp_obj str "
                                "must be valid UTF-8",
                                d->op_at);
        if (cp < 0) break;
        i += k;
    }
    return mp_set_error(MP_EPROTO, "bad pickle: str at offset %zu is not valid UTF-8",
                        d->op_at);
}

static int push_blob(dec *d, int kind, uint64_t n)
{
    int rc = 0;
    const unsigned char *p = take64(d, n, &rc);
    if (!p) return rc;
    if (kind == MP_OBJ_STR && (rc = check_utf8(d, p, (size_t)n)) < 0) return rc;
    pnode *nd = node_new(d, kind);
    if (nd) {
        nd->u.s.p = p;
        nd->u.s.len = (size_t)n;
    }
    return push(d, nd);
}

/* The items of the topmost MARK become a new list, tuple or dict. */
static int push_from_mark(dec *d, int kind)
{
    size_t first = 0;
    int rc = pop_mark(d, &first);
    if (rc < 0) return rc;
    size_t n = d->sn - first;
    if (kind == MP_OBJ_DICT && n % 2) return bad(d, "has a key without a value");
    pnode *nd = node_new(d, kind);
    if (!nd) return oom();
    if (n) {
        nd->items = malloc(n * sizeof *nd->items);
        if (!nd->items) return oom();
        memcpy(nd->items, d->stack + first, n * sizeof *nd->items);
        nd->n = nd->cap = n;
    }
    d->sn = first;
    return push(d, nd);
}

/* TUPLE1/2/3: the top k items become a tuple. */
static int push_tuple_n(dec *d, size_t k)
{
    if (d->sn - base(d) < k) return bad(d, "finds too few items on the stack");
    pnode *nd = node_new(d, MP_OBJ_TUPLE);
    if (!nd) return oom();
    nd->items = malloc(k * sizeof *nd->items);
    if (!nd->items) return oom();
    memcpy(nd->items, d->stack + d->sn - k, k * sizeof *nd->items);
    nd->n = nd->cap = k;
    d->sn -= k;
    return push(d, nd);
}

/* APPENDS / SETITEMS: the items above the topmost MARK go into the
 * container below it. */
static int add_from_mark(dec *d, int kind)
{
    size_t first = 0;
    int rc = pop_mark(d, &first);
    if (rc < 0) return rc;
    if (first == base(d)) return bad(d, "finds no container below its MARK");
    pnode *c = d->stack[first - 1];
    if (c->kind != kind)
        return bad(d, kind == MP_OBJ_LIST ? "adds to something that is not a list"
                                          : "sets items of something that is not a dict");
    size_t n = d->sn - first;
    if (kind == MP_OBJ_DICT && n % 2) return bad(d, "has a key without a value");
    for (size_t i = first; i < d->sn; i++)
        if ((rc = node_add(c, d->stack[i])) < 0) return rc;
    d->sn = first;
    return 0;
}

/* GLOBAL module\nname\n: only the two callables protocols 0 to 2 use to
 * write bytes are known; they are recognised, never looked up. */
static int push_global(dec *d)
{
    int rc = 0;
    size_t mn = 0, nn = 0;
    const unsigned char *m = take_line(d, &mn, &rc);
    const unsigned char *nm = m ? take_line(d, &nn, &rc) : NULL;
    if (!nm) return rc;
#define IS(p, n, lit) ((n) == sizeof(lit) - 1 && memcmp((p), (lit), (n)) == 0)
    int which = 0;
    if (IS(m, mn, "_codecs") && IS(nm, nn, "encode"))
        which = G_CODECS_ENCODE;
    else if ((IS(m, mn, "__builtin__") || IS(m, mn, "builtins")) && IS(nm, nn, "bytes"))
        which = G_BYTES;
#undef IS
    if (!which) {
        /* Quote the name, keeping only printable ASCII of it. */
        char name[80];
        size_t k = 0;
        for (size_t i = 0; i < mn + 1 + nn && k < sizeof name - 4; i++) {
            unsigned char ch = i < mn ? m[i] : i == mn ? '.' : nm[i - mn - 1];
            name[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
        }
        name[k] = 0;
        return mp_set_error(MP_EUNSUPPORTED,
                            "pickle opcode GLOBAL (0x63) '%s' is not supported: %s", name,
                            supported_types);
    }
    pnode *nd = node_new(d, NK_GLOBAL);
    if (nd) nd->which = (unsigned char)which;
    return push(d, nd);
}

/* REDUCE of a recognised callable: _codecs.encode(s, 'latin1') is the
 * bytes whose values are the code points of s; bytes() is b''. */
static int reduce(dec *d)
{
    int rc = 0;
    pnode *args = pop(d, &rc);
    pnode *fn = args ? top(d, &rc) : NULL;
    if (!fn) return rc;
    if (fn->kind != NK_GLOBAL)
        return unsupported(d, "only the bytes constructors of protocols 0 to 2 are "
                              "recognised");
    if (args->kind != MP_OBJ_TUPLE) return bad(d, "has arguments that are not a tuple");
    pnode *nd = node_new(d, MP_OBJ_BYTES);
    if (!nd) return oom();
    if (fn->which == G_BYTES) {
        if (args->n != 0) return unsupported(d, "bytes() with arguments");
    } else {
        if (args->n != 2 || args->items[0]->kind != MP_OBJ_STR ||
            args->items[1]->kind != MP_OBJ_STR)
            return unsupported(d, "_codecs.encode() with other than (str, 'latin1')");
        const pnode *enc = args->items[1];
        if (!((enc->u.s.len == 6 && memcmp(enc->u.s.p, "latin1", 6) == 0) ||
              (enc->u.s.len == 7 && memcmp(enc->u.s.p, "latin-1", 7) == 0)))
            return unsupported(d, "_codecs.encode() with an encoding other than latin1");
        const pnode *s = args->items[0];
        unsigned char *out = malloc(s->u.s.len ? s->u.s.len : 1);
        if (!out) return oom();
        if (d->on == d->ocap) {
            size_t cap = d->ocap ? d->ocap * 2 : 8;
            unsigned char **o = realloc(d->owned, cap * sizeof *o);
            if (!o) {
                free(out);
                return oom();
            }
            d->owned = o;
            d->ocap = cap;
        }
        d->owned[d->on++] = out;
        size_t k = 0;
        for (size_t i = 0; i < s->u.s.len;) {
            size_t len;
            long cp = utf8_next(s->u.s.p + i, s->u.s.len - i, &len);
            if (cp < 0 || cp > 0xff)
                return bad(d, "encodes a character outside latin1 as bytes");
            out[k++] = (unsigned char)cp;
            i += len;
        }
        nd->u.s.p = out;
        nd->u.s.len = k;
    }
    d->stack[d->sn - 1] = nd;
    return 0;
}

/* ---- pass 1: running the opcodes ---------------------------------------------- */

static int run(dec *d, pnode **result)
{
    int rc = 0;
    const unsigned char *p;
    for (;;) {
        if (d->in_frame && d->pos == d->limit) {
            d->in_frame = 0;
            d->limit = d->len;
        }
        d->op_at = d->pos;
        d->op = -1;
        if (d->pos == d->limit)
            return mp_set_error(MP_EPROTO, "truncated pickle: no STOP after %zu bytes",
                                d->len);
        d->op = d->base[d->pos++];
        switch (d->op) {
        case MP_PK_PROTO:
            if (!(p = take(d, 1, &rc))) return rc;
            if (p[0] > MP_PICKLE_HIGHEST_PROTOCOL)
                return mp_set_error(MP_EUNSUPPORTED,
                                    "pickle protocol %u is not supported "
                                    "(0 to 5 are)",
                                    p[0]);
            break;
        case MP_PK_FRAME: {
            if (!(p = take(d, 8, &rc))) return rc;
            uint64_t n = le(p, 8);
            if (d->in_frame) return bad(d, "starts inside the previous frame");
            if (n > d->len - d->pos)
                return mp_set_error(MP_EPROTO,
                                    "bad pickle: FRAME at offset %zu of %llu bytes runs "
                                    "past the end (%zu left)",
                                    d->op_at, (unsigned long long)n, d->len - d->pos);
            d->in_frame = 1;
            d->limit = d->pos + (size_t)n;
            break;
        }
        case MP_PK_STOP: {
            pnode *v = pop(d, &rc);
            if (!v) return rc;
            if (d->sn || d->mn) return bad(d, "leaves items or a MARK on the stack");
            if (d->pos != d->len)
                return mp_set_error(MP_EPROTO,
                                    "bad pickle: %zu bytes after STOP at offset %zu",
                                    d->len - d->pos, d->op_at);
            *result = v;
            return 0;
        }
        case MP_PK_MARK:
            /* Python writes a MARK per open container at most. */
            if (d->mn > MP_OBJ_MAX_DEPTH)
                return mp_set_error(MP_ETOOBIG,
                                    "pickle nests more than %d MARKs (offset %zu)",
                                    MP_OBJ_MAX_DEPTH, d->op_at);
            if (d->mn == d->mcap) {
                size_t cap = d->mcap ? d->mcap * 2 : 16;
                size_t *m = realloc(d->marks, cap * sizeof *m);
                if (!m) return oom();
                d->marks = m;
                d->mcap = cap;
            }
            d->marks[d->mn++] = d->sn;
            break;
        case MP_PK_POP:
            /* As Python: with nothing above the MARK, POP drops the MARK. */
            if (d->sn == base(d) && d->mn)
                d->mn--;
            else if (!pop(d, &rc))
                return rc;
            break;
        case MP_PK_POP_MARK: {
            size_t first = 0;
            if ((rc = pop_mark(d, &first)) < 0) return rc;
            d->sn = first;
            break;
        }
        case MP_PK_DUP: {
            pnode *v = top(d, &rc);
            if (!v || (rc = push(d, v)) < 0) return rc;
            break;
        }
        case MP_PK_NONE:
            if ((rc = push(d, &d->none_)) < 0) return rc;
            break;
        case MP_PK_NEWTRUE:
        case MP_PK_NEWFALSE:
            if ((rc = push(d, d->op == MP_PK_NEWTRUE ? &d->true_ : &d->false_)) < 0)
                return rc;
            break;
        case MP_PK_INT:
        case MP_PK_LONG:
            if ((rc = push_text_int(d, d->op == MP_PK_LONG)) < 0) return rc;
            break;
        case MP_PK_BININT:
            if (!(p = take(d, 4, &rc))) return rc;
            if ((rc = push_int(
                     d, u2i(le(p, 4) | (p[3] & 0x80 ? ~(uint64_t)0xffffffffu : 0)))) < 0)
                return rc;
            break;
        case MP_PK_BININT1:
            if (!(p = take(d, 1, &rc))) return rc;
            if ((rc = push_int(d, p[0])) < 0) return rc;
            break;
        case MP_PK_BININT2:
            if (!(p = take(d, 2, &rc))) return rc;
            if ((rc = push_int(d, (int64_t)le(p, 2))) < 0) return rc;
            break;
        case MP_PK_LONG1:
        case MP_PK_LONG4: {
            int w = d->op == MP_PK_LONG1 ? 1 : 4;
            if (!(p = take(d, (size_t)w, &rc))) return rc;
            uint64_t n = le(p, w);
            if (w == 4 && (n & 0x80000000u)) return bad(d, "has a negative length");
            if (!(p = take64(d, n, &rc))) return rc;
            if ((rc = push_long_bytes(d, p, (size_t)n)) < 0) return rc;
            break;
        }
        case MP_PK_BINFLOAT: {
            if (!(p = take(d, 8, &rc))) return rc;
            uint64_t u = 0;
            for (int i = 0; i < 8; i++)
                u = u << 8 | p[i]; /* big-endian, unlike the rest */
            pnode *nd = node_new(d, MP_OBJ_FLOAT);
            if (nd) memcpy(&nd->u.f, &u, sizeof u);
            if ((rc = push(d, nd)) < 0) return rc;
            break;
        }
        case MP_PK_SHORT_BINUNICODE:
        case MP_PK_BINUNICODE:
        case MP_PK_BINUNICODE8:
        case MP_PK_SHORT_BINBYTES:
        case MP_PK_BINBYTES:
        case MP_PK_BINBYTES8: {
            int w = (d->op == MP_PK_SHORT_BINUNICODE || d->op == MP_PK_SHORT_BINBYTES) ? 1
                    : (d->op == MP_PK_BINUNICODE || d->op == MP_PK_BINBYTES)           ? 4
                                                                             : 8;
            int kind = (d->op == MP_PK_SHORT_BINUNICODE || d->op == MP_PK_BINUNICODE ||
                        d->op == MP_PK_BINUNICODE8)
                           ? MP_OBJ_STR
                           : MP_OBJ_BYTES;
            if (!(p = take(d, (size_t)w, &rc))) return rc;
            if ((rc = push_blob(d, kind, le(p, w))) < 0) return rc;
            break;
        }
        case MP_PK_EMPTY_LIST:
        case MP_PK_EMPTY_TUPLE:
        case MP_PK_EMPTY_DICT: {
            int kind = d->op == MP_PK_EMPTY_LIST    ? MP_OBJ_LIST
                       : d->op == MP_PK_EMPTY_TUPLE ? MP_OBJ_TUPLE
                                                    : MP_OBJ_DICT;
            if ((rc = push(d, node_new(d, kind))) < 0) return rc;
            break;
        }
        case MP_PK_LIST:
            if ((rc = push_from_mark(d, MP_OBJ_LIST)) < 0) return rc;
            break;
        case MP_PK_TUPLE:
            if ((rc = push_from_mark(d, MP_OBJ_TUPLE)) < 0) return rc;
            break;
        case MP_PK_DICT:
            if ((rc = push_from_mark(d, MP_OBJ_DICT)) < 0) return rc;
            break;
        case MP_PK_TUPLE1:
        case MP_PK_TUPLE2:
        case MP_PK_TUPLE3:
            if ((rc = push_tuple_n(d, (size_t)(d->op - MP_PK_TUPLE1 + 1))) < 0) return rc;
            break;
        case MP_PK_APPEND: {
            pnode *v = pop(d, &rc);
            pnode *l = v ? top(d, &rc) : NULL;
            if (!l) return rc;
            if (l->kind != MP_OBJ_LIST)
                return bad(d, "adds to something that is not a list");
            if ((rc = node_add(l, v)) < 0) return rc;
            break;
        }
        case MP_PK_APPENDS:
            if ((rc = add_from_mark(d, MP_OBJ_LIST)) < 0) return rc;
            break;
        case MP_PK_SETITEM: {
            pnode *v = pop(d, &rc);
            pnode *k = v ? pop(d, &rc) : NULL;
            pnode *dd = k ? top(d, &rc) : NULL;
            if (!dd) return rc;
            if (dd->kind != MP_OBJ_DICT)
                return bad(d, "sets an item of something that is not a dict");
            if ((rc = node_add(dd, k)) < 0 || (rc = node_add(dd, v)) < 0) return rc;
            break;
        }
        case MP_PK_SETITEMS:
            if ((rc = add_from_mark(d, MP_OBJ_DICT)) < 0) return rc;
            break;
        case MP_PK_MEMOIZE:
            if (d->memo_n > UINT32_MAX) return bad(d, "overflows the memo");
            if ((rc = memo_put(d, (uint32_t)d->memo_n)) < 0) return rc;
            break;
        case MP_PK_BINPUT:
        case MP_PK_LONG_BINPUT: {
            int w = d->op == MP_PK_BINPUT ? 1 : 4;
            if (!(p = take(d, (size_t)w, &rc))) return rc;
            if ((rc = memo_put(d, (uint32_t)le(p, w))) < 0) return rc;
            break;
        }
        case MP_PK_BINGET:
        case MP_PK_LONG_BINGET: {
            int w = d->op == MP_PK_BINGET ? 1 : 4;
            if (!(p = take(d, (size_t)w, &rc))) return rc;
            if ((rc = memo_get(d, le(p, w))) < 0) return rc;
            break;
        }
        case MP_PK_PUT:
        case MP_PK_GET: {
            size_t n = 0;
            if (!(p = take_line(d, &n, &rc))) return rc;
            uint64_t key = 0;
            if (n == 0 || n > 10) return bad(d, "has a bad memo key");
            for (size_t i = 0; i < n; i++) {
                if (p[i] < '0' || p[i] > '9') return bad(d, "has a bad memo key");
                key = key * 10 + (unsigned)(p[i] - '0');
            }
            if (d->op == MP_PK_GET)
                rc = memo_get(d, key);
            else
                rc = key > UINT32_MAX ? bad(d, "has a bad memo key")
                                      : memo_put(d, (uint32_t)key);
            if (rc < 0) return rc;
            break;
        }
        case MP_PK_GLOBAL:
            if ((rc = push_global(d)) < 0) return rc;
            break;
        case MP_PK_REDUCE:
            if ((rc = reduce(d)) < 0) return rc;
            break;
        case MP_PK_FLOAT:
            return unsupported(d, "protocol 0 text floats are not read (protocols 1 to "
                                  "5 write BINFLOAT)");
        case MP_PK_UNICODE:
            return unsupported(d, "protocol 0 text strings are not read (protocols 1 "
                                  "to 5 write BINUNICODE)");
        case MP_PK_STRING:
        case MP_PK_BINSTRING:
        case MP_PK_SHORT_BINSTRING:
            return unsupported(d, "Python 2 str values have no encoding to read them by");
        case MP_PK_BYTEARRAY8:
        case MP_PK_NEXT_BUFFER:
        case MP_PK_READONLY_BUFFER:
        case MP_PK_EMPTY_SET:
        case MP_PK_ADDITEMS:
        case MP_PK_FROZENSET:
        case MP_PK_PERSID:
        case MP_PK_BINPERSID:
        case MP_PK_BUILD:
        case MP_PK_INST:
        case MP_PK_OBJ:
        case MP_PK_NEWOBJ:
        case MP_PK_NEWOBJ_EX:
        case MP_PK_EXT1:
        case MP_PK_EXT2:
        case MP_PK_EXT4:
        case MP_PK_STACK_GLOBAL:
            return unsupported(d, supported_types);
        default:
            return mp_set_error(MP_EPROTO,
                                "bad pickle: unknown opcode 0x%02x at offset %zu",
                                (unsigned)d->op, d->op_at);
        }
    }
}

/* ---- pass 2: checking the graph, then building the value ---------------------- */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static int is_container(const pnode *nd)
{
    return nd->kind == MP_OBJ_LIST || nd->kind == MP_OBJ_TUPLE || nd->kind == MP_OBJ_DICT;
}

static void leaf_cost(pnode *nd)
{
    nd->cost = NODE_COST;
    if (nd->kind == MP_OBJ_STR || nd->kind == MP_OBJ_BYTES)
        nd->cost = sat_add(NODE_COST, nd->u.s.len);
    nd->walk = 2;
}

/* Depth-first, without recursion (the graph can be deep until proven
 * otherwise): every container's height and cost are worked out once. A
 * node met again while on the current path closes a cycle. */
static int walk(pnode *root)
{
    if (root->kind == NK_GLOBAL)
        return mp_set_error(MP_EUNSUPPORTED,
                            "pickle holds a callable (GLOBAL) as a value");
    if (!is_container(root)) {
        leaf_cost(root);
        return 0;
    }
    struct frame {
        pnode *nd;
        size_t next;
    } path[MP_OBJ_MAX_DEPTH];
    size_t depth = 1;
    path[0].nd = root;
    path[0].next = 0;
    root->walk = 1;
    root->cost = NODE_COST;
    root->height = 1;
    while (depth) {
        struct frame *f = &path[depth - 1];
        pnode *nd = f->nd;
        if (f->next == nd->n) {
            nd->walk = 2;
            depth--;
            if (depth) {
                pnode *parent = path[depth - 1].nd;
                parent->cost = sat_add(parent->cost, nd->cost);
                if (nd->height + 1 > parent->height) parent->height = nd->height + 1;
            }
            continue;
        }
        pnode *c = nd->items[f->next++];
        if (c->kind == NK_GLOBAL)
            return mp_set_error(MP_EUNSUPPORTED,
                                "pickle holds a callable (GLOBAL) as a value");
        if (c->walk == 1)
            return mp_set_error(MP_EUNSUPPORTED,
                                "pickle holds a recursive structure (a container that "
                                "contains itself), which an mp_obj cannot represent");
        if (c->walk == 0 && !is_container(c)) leaf_cost(c);
        if (c->walk == 2) {
            if (depth + c->height > MP_OBJ_MAX_DEPTH) goto too_deep;
            nd->cost = sat_add(nd->cost, c->cost);
            if (c->height + 1 > nd->height) nd->height = c->height + 1;
            continue;
        }
        if (depth == MP_OBJ_MAX_DEPTH) goto too_deep;
        c->walk = 1;
        c->cost = NODE_COST;
        c->height = 1;
        path[depth].nd = c;
        path[depth].next = 0;
        depth++;
    }
    return 0;
too_deep:
    return mp_set_error(MP_ETOOBIG, "pickle nests containers deeper than %d",
                        MP_OBJ_MAX_DEPTH);
}

/* Builds the mp_obj of a checked node; recursion is bounded by the
 * height walk() verified. */
static int build(const pnode *nd, mp_obj **out)
{
    mp_obj *o = NULL;
    switch (nd->kind) {
    case MP_OBJ_NONE:
        o = mp_obj_none();
        break;
    case MP_OBJ_BOOL:
        o = mp_obj_bool((int)nd->u.i);
        break;
    case MP_OBJ_INT:
        o = mp_obj_int(nd->u.i);
        break;
    case MP_OBJ_FLOAT:
        o = mp_obj_float(nd->u.f);
        break;
    case MP_OBJ_STR:
        o = mp_obj_strn((const char *)nd->u.s.p, nd->u.s.len);
        break;
    case MP_OBJ_BYTES:
        o = mp_obj_bytes(nd->u.s.p, nd->u.s.len);
        break;
    case MP_OBJ_LIST:
    case MP_OBJ_TUPLE:
        /* Sized up front: the node knows its final length. */
        o = nd->kind == MP_OBJ_LIST ? mp_obj__new_list(nd->n) : mp_obj__new_tuple(nd->n);
        for (size_t i = 0; o && i < nd->n; i++) {
            mp_obj *item = NULL;
            int rc = build(nd->items[i], &item);
            if (rc == 0) rc = mp_obj_append(o, item);
            if (rc < 0) {
                mp_obj_free(o);
                return rc;
            }
        }
        break;
    case MP_OBJ_DICT:
        o = mp_obj__new_dict(nd->n / 2);
        for (size_t i = 0; o && i + 1 < nd->n; i += 2) {
            mp_obj *k = NULL, *v = NULL;
            int rc = build(nd->items[i], &k);
            if (rc == 0 && (rc = build(nd->items[i + 1], &v)) < 0) mp_obj_free(k);
            if (rc == 0 && (rc = mp_obj_dict_set(o, k, v)) == MP_EINVAL) {
                /* The object model says why ("unhashable type: 'list'");
                 * from a peer, that is a malformed pickle. */
                char why[160];
                snprintf(why, sizeof why, "%s", mp_last_error());
                rc = mp_set_error(MP_EPROTO, "bad pickle: dict key refused: %s", why);
            }
            if (rc < 0) {
                mp_obj_free(o);
                return rc;
            }
        }
        break;
    default:
        return mp_set_error(MP_EUNSUPPORTED, "pickle holds a callable as a value");
    }
    if (!o) return oom();
    *out = o;
    return 0;
}

int mp__pickle_loads(const void *data, size_t len, mp_obj **out, uint64_t share_limit)
{
    if (!out) return mp_set_error(MP_EINVAL, "mp_obj_loads: NULL result pointer");
    *out = NULL;
    if (!data && len) return mp_set_error(MP_EINVAL, "mp_obj_loads: NULL data");
    if (mp_size_bad(len))
        return mp_set_error(MP_EINVAL, "mp_obj_loads: %zu bytes: a negative length?",
                            len);
    if (len && mp__pickle_fast_loads(data, len, out)) return 0;
    dec d;
    memset(&d, 0, sizeof d);
    d.base = data;
    d.len = len;
    d.limit = len;
    d.none_.kind = MP_OBJ_NONE;
    d.true_.kind = MP_OBJ_BOOL;
    d.true_.u.i = 1;
    d.false_.kind = MP_OBJ_BOOL;
    pnode *root = NULL;
    int rc = len ? run(&d, &root)
                 : mp_set_error(MP_EPROTO, "truncated pickle: no data (0 bytes)");
    if (rc == 0) rc = walk(root);
    if (rc == 0) {
        /* Without sharing, a value costs at most NODE_COST + 1 per input
         * byte; whatever is beyond comes from memo copies. */
        uint64_t own = (uint64_t)len * (NODE_COST + 1) + NODE_COST;
        if (root->cost > sat_add(own, share_limit))
            rc = mp_set_error(MP_ETOOBIG,
                              "pickle of %zu bytes would expand to about %llu MiB "
                              "through shared references (memo gets): refused",
                              len, (unsigned long long)(root->cost >> 20));
    }
    if (rc == 0) rc = build(root, out);
    dec_free(&d);
    return rc;
}

int mp_obj_loads(const void *data, size_t len, mp_obj **out)
{
    mp_clear_error();
    return mp__pickle_loads(data, len, out, MP_PICKLE_SHARE_LIMIT);
}
