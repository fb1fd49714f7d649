/* decode_fast.c - the common case of mp_obj_loads() in one pass.
 *
 * What Python (and mp_obj_dumps) write for plain data shares nothing: no
 * memo get, no DUP, every object is pushed once and consumed once. Such a
 * pickle needs none of the general decoder's graph (pickle/decode.c): the
 * value can be built as the opcodes run, straight into one arena (see
 * obj_internal.h), without cycles to fear, and freed in one go.
 *
 * This pass only ever accepts; it never reports. Anything it does not
 * expect - an opcode outside the plain-data set, a malformed or truncated
 * pickle, an unhashable key, nesting too deep, even running out of
 * memory - makes it give up, and the general decoder runs instead and
 * decides, with its messages. So it must accept only what the general
 * decoder accepts, and build the same value. */
#include <stdlib.h>
#include <string.h>

#include "core/obj/obj_internal.h"
#include "core/pickle/pickle.h"

#define LOCAL_STACK 256
#define MAX_MARKS   64 /* deeper MARK nesting is left to the general decoder */

typedef struct fast {
    const unsigned char *p, *limit, *end; /* next byte, end of frame, end of input */
    int in_frame;
    mp_arena *a;
    mp_obj **so;    /* the stack: objects ... */
    uint32_t *sh;   /* ... and their heights (containers on the longest path down) */
    size_t sn, cap; /* items, room */
    size_t marks[MAX_MARKS];
    size_t mn;
    mp_obj *none, *yes, *no; /* the shared singletons */
    mp_obj **into;           /* where the root list's items go, or NULL */
    size_t into_cap;
    mp_obj *scratch; /* the root list's container then, made once */
    mp_obj *so_local[LOCAL_STACK];
    uint32_t sh_local[LOCAL_STACK];
} fast;

static int grow_stack(fast *f)
{
    /* Straight to a size that fits a batch of 1000 items, then doubling. */
    size_t cap = f->cap < 1024 ? 1024 + 16 : f->cap * 2;
    mp_obj **so = malloc(cap * sizeof *so);
    uint32_t *sh = so ? malloc(cap * sizeof *sh) : NULL;
    if (!sh) {
        free(so);
        return -1;
    }
    memcpy(so, f->so, f->sn * sizeof *so);
    memcpy(sh, f->sh, f->sn * sizeof *sh);
    if (f->so != f->so_local) {
        free(f->so);
        free(f->sh);
    }
    f->so = so;
    f->sh = sh;
    f->cap = cap;
    return 0;
}

static inline int push(fast *f, mp_obj *o, uint32_t h)
{
    if (!o || (f->sn == f->cap && grow_stack(f) < 0)) return -1;
    f->so[f->sn] = o;
    f->sh[f->sn++] = h;
    return 0;
}

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static mp_obj *scalar(fast *f, mp_obj_type t)
{
    mp_obj *o = mp_arena_alloc(f->a, MP_OBJ_SCALAR_SIZE);
    if (o) {
        o->type = t;
        o->flags = MP_OBJF_ARENA;
    }
    return o;
}

static uint64_t load8(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

static uint32_t load4(const unsigned char *p)
{
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* ASCII needs no further check, and its code points are its bytes. Short
 * strings are read as two words that overlap, never past the end. */
static int is_ascii(const unsigned char *p, size_t n)
{
    uint64_t acc;
    if (n >= 8) {
        acc = load8(p + n - 8);
        for (size_t i = 0; i + 8 < n; i += 8)
            acc |= load8(p + i);
    } else if (n >= 4) {
        acc = load4(p) | load4(p + n - 4);
    } else {
        acc = 0;
        for (size_t i = 0; i < n; i++)
            acc |= p[i];
    }
    return !(acc & UINT64_C(0x8080808080808080));
}

/* memcpy of a few bytes without a call: overlapping word moves. */
static void copy_short(unsigned char *d, const unsigned char *s, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a = load8(s), b = load8(s + n - 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a = load4(s), b = load4(s + n - 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    } else {
        memcpy(d, s, n);
    }
}

static mp_obj *new_blob(fast *f, mp_obj_type t, const unsigned char *p, size_t n)
{
    size_t ncp = n;
    if (t == MP_OBJ_STR && !is_ascii(p, n) && mp_obj__utf8_check(p, n, &ncp) < 0)
        return NULL;
    mp_obj *o = mp_arena_alloc(f->a, MP_OBJ_BLOB_SIZE + n + 1);
    if (!o) return NULL;
    o->type = t;
    o->flags = MP_OBJF_ARENA;
    o->u.s.data = (char *)o + MP_OBJ_BLOB_SIZE;
    o->u.s.len = n;
    o->u.s.ncp = t == MP_OBJ_STR ? ncp : 0;
    copy_short((unsigned char *)o->u.s.data, p, n);
    o->u.s.data[n] = '\0';
    return o;
}

static mp_obj *container(fast *f, mp_obj_type t)
{
    mp_obj *o = mp_arena_alloc(f->a, sizeof *o);
    if (!o) return NULL;
    memset(o, 0, sizeof *o);
    o->type = t;
    o->flags = MP_OBJF_ARENA | MP_OBJF_ITEMS_ARENA;
    if (t == MP_OBJ_DICT)
        o->u.d.link.arena = f->a;
    else
        o->u.seq.link.arena = f->a;
    return o;
}

/* An empty list at the root: its items go where into says, if set (the
 * items array of mp__pickle_fast_loads_lists's list, at this pickle's
 * place), so that they are stored once. */
static mp_obj *root_list(fast *f)
{
    if (!f->into) return container(f, MP_OBJ_LIST);
    /* One container for every pickle's root: only its items are kept. */
    if (!f->scratch) f->scratch = container(f, MP_OBJ_LIST);
    mp_obj *c = f->scratch;
    if (c) {
        c->u.seq.len = 0;
        c->u.seq.items = f->into;
        c->u.seq.cap = f->into_cap;
        f->into = NULL;
    }
    return c;
}

/* Adds the stack's items [first, sn) to container c, whose height is *ch,
 * and drops them from the stack. */
static int add_items(fast *f, mp_obj *c, uint32_t *ch, size_t first)
{
    size_t n = f->sn - first;
    /* A container is one higher than its highest item; refused past the
     * depth the general decoder allows. */
    uint32_t top = 0;
    for (size_t i = first; i < f->sn; i++)
        top = f->sh[i] > top ? f->sh[i] : top;
    if (n && top + 1 > *ch) {
        if (top + 1 > MP_OBJ_MAX_DEPTH) return -1;
        *ch = top + 1;
    }
    if (c->type == MP_OBJ_DICT) {
        if (n % 2 || mp_obj__arena_dict_add(f->a, c, f->so + first, n / 2) < 0) return -1;
    } else if (n) {
        size_t len = c->u.seq.len;
        if (len + n > c->u.seq.cap) {
            /* An outgrown array stays in the arena, unused. */
            size_t cap = len + n > 2 * c->u.seq.cap ? len + n : 2 * c->u.seq.cap;
            mp_obj **items = mp_arena_alloc(f->a, cap * sizeof *items);
            if (!items) return -1;
            if (len) memcpy(items, c->u.seq.items, len * sizeof *items);
            c->u.seq.items = items;
            c->u.seq.cap = cap;
        }
        memcpy(c->u.seq.items + len, f->so + first, n * sizeof *c->u.seq.items);
        c->u.seq.len = len + n;
    }
    f->sn = first;
    return 0;
}

/* LIST, TUPLE, DICT, TUPLE1..3: the items from first up become a new
 * container in their place. */
static int push_new(fast *f, mp_obj_type t, size_t first)
{
    mp_obj *c = container(f, t);
    uint32_t h = 1;
    if (!c || add_items(f, c, &h, first) < 0) return -1;
    return push(f, c, h);
}

/* APPEND(S), SETITEM(S): the items from first up go into the container
 * just below them, which must be of kind t and above the current MARK. */
static int add_below(fast *f, mp_obj_type t, size_t first)
{
    size_t base = f->mn ? f->marks[f->mn - 1] : 0;
    if (first <= base) return -1;
    mp_obj *c = f->so[first - 1];
    if (c->type != t) return -1;
    return add_items(f, c, &f->sh[first - 1], first);
}

/* The loop keeps the cursor and the stack in locals (stores through the
 * arena's byte pointers would otherwise force them back to memory on
 * every opcode); helpers see them through f, synced around each call. */
#define NEED(n)                                                                          \
    do {                                                                                 \
        if ((uint64_t)(limit - p) < (uint64_t)(n)) return -1;                            \
    } while (0)
#define SYNC()   (f->p = p, f->sn = sn)
#define RELOAD() (sn = f->sn, so = f->so, sh = f->sh, cap = f->cap)
#define PUSH(o, h)                                                                       \
    do {                                                                                 \
        mp_obj *o_ = (o);                                                                \
        if (!o_) return -1;                                                              \
        if (sn == cap) {                                                                 \
            SYNC();                                                                      \
            if (grow_stack(f) < 0) return -1;                                            \
            RELOAD();                                                                    \
        }                                                                                \
        so[sn] = o_;                                                                     \
        sh[sn++] = (h);                                                                  \
    } while (0)
#define CALL(expr)                                                                       \
    do {                                                                                 \
        SYNC();                                                                          \
        if ((expr) < 0) return -1;                                                       \
        RELOAD();                                                                        \
    } while (0)

static mp_obj *new_int(fast *f, int64_t v)
{
    mp_obj *o = scalar(f, MP_OBJ_INT);
    if (o) o->u.i = v;
    return o;
}

/* Runs the opcodes up to STOP: 0 with the value alone on the stack, or
 * -1 to give up. */
static int run(fast *f)
{
    const unsigned char *p = f->p, *limit = f->limit, *end = f->end;
    mp_obj **so = f->so;
    uint32_t *sh = f->sh;
    size_t sn = 0, cap = f->cap, first = 0;
    size_t base = 0; /* stack height at the topmost MARK */
    for (;;) {
        if (p == limit) {
            if (!f->in_frame) return -1;
            f->in_frame = 0;
            limit = end;
            if (p == limit) return -1;
        }
        int op = *p++;
        switch (op) {
        case MP_PK_NONE:
            PUSH(f->none, 0);
            break;
        case MP_PK_NEWTRUE:
            PUSH(f->yes, 0);
            break;
        case MP_PK_NEWFALSE:
            PUSH(f->no, 0);
            break;
        case MP_PK_BININT1:
            NEED(1);
            p++;
            PUSH(new_int(f, p[-1]), 0);
            break;
        case MP_PK_BININT2:
            NEED(2);
            p += 2;
            PUSH(new_int(f, (int64_t)le(p - 2, 2)), 0);
            break;
        case MP_PK_BININT: {
            NEED(4);
            uint32_t u = (uint32_t)le(p, 4);
            p += 4;
            PUSH(new_int(f, u & 0x80000000u ? -(int64_t)(~u) - 1 : (int64_t)u), 0);
            break;
        }
        case MP_PK_LONG1: {
            NEED(1);
            size_t n = *p++;
            NEED(n);
            p += n;
            if (n > 8) return -1;
            uint64_t u = n ? le(p - n, (int)n) : 0;
            if (n && n < 8 && (p[-1] & 0x80)) u |= ~(uint64_t)0 << (8 * n);
            PUSH(new_int(f, u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1),
                 0);
            break;
        }
        case MP_PK_BINFLOAT: {
            NEED(8);
            uint64_t u = 0;
            for (int i = 0; i < 8; i++)
                u = u << 8 | p[i]; /* big-endian, unlike the rest */
            p += 8;
            mp_obj *o = scalar(f, MP_OBJ_FLOAT);
            if (o) memcpy(&o->u.f, &u, sizeof u);
            PUSH(o, 0);
            break;
        }
        case MP_PK_SHORT_BINUNICODE:
        case MP_PK_SHORT_BINBYTES: {
            NEED(1);
            size_t n = *p++;
            NEED(n);
            p += n;
            PUSH(new_blob(f, op == MP_PK_SHORT_BINUNICODE ? MP_OBJ_STR : MP_OBJ_BYTES,
                          p - n, n),
                 0);
            break;
        }
        case MP_PK_BINUNICODE:
        case MP_PK_BINBYTES:
        case MP_PK_BINUNICODE8:
        case MP_PK_BINBYTES8: {
            int w = op == MP_PK_BINUNICODE || op == MP_PK_BINBYTES ? 4 : 8;
            NEED(w);
            uint64_t n64 = le(p, w);
            p += w;
            NEED(n64);
            size_t n = (size_t)n64; /* fits: no more than the bytes left */
            p += n;
            mp_obj_type t = op == MP_PK_BINUNICODE || op == MP_PK_BINUNICODE8
                                ? MP_OBJ_STR
                                : MP_OBJ_BYTES;
            PUSH(new_blob(f, t, p - n, n), 0);
            break;
        }
        case MP_PK_MEMOIZE:
            /* Nothing reads the memo of a pickle without gets. */
            if (sn == base) return -1;
            break;
        case MP_PK_BINPUT:
        case MP_PK_LONG_BINPUT:
            NEED(op == MP_PK_BINPUT ? 1 : 4);
            p += op == MP_PK_BINPUT ? 1 : 4;
            if (sn == base) return -1;
            break;
        case MP_PK_EMPTY_LIST:
            PUSH(sn == 0 && !f->mn ? root_list(f) : container(f, MP_OBJ_LIST), 1);
            break;
        case MP_PK_EMPTY_DICT:
            PUSH(container(f, MP_OBJ_DICT), 1);
            break;
        case MP_PK_EMPTY_TUPLE:
            PUSH(container(f, MP_OBJ_TUPLE), 1);
            break;
        case MP_PK_MARK:
            if (f->mn == MAX_MARKS) return -1;
            f->marks[f->mn++] = base = sn;
            break;
        case MP_PK_APPEND:
        case MP_PK_SETITEM: {
            size_t k = op == MP_PK_APPEND ? 1 : 2;
            if (sn - base < k) return -1;
            CALL(add_below(f, op == MP_PK_APPEND ? MP_OBJ_LIST : MP_OBJ_DICT, sn - k));
            break;
        }
        case MP_PK_APPENDS:
        case MP_PK_SETITEMS:
            if (!f->mn) return -1;
            first = f->marks[--f->mn];
            base = f->mn ? f->marks[f->mn - 1] : 0;
            CALL(add_below(f, op == MP_PK_APPENDS ? MP_OBJ_LIST : MP_OBJ_DICT, first));
            break;
        case MP_PK_TUPLE1:
        case MP_PK_TUPLE2:
        case MP_PK_TUPLE3: {
            size_t k = (size_t)(op - MP_PK_TUPLE1 + 1);
            if (sn - base < k) return -1;
            CALL(push_new(f, MP_OBJ_TUPLE, sn - k));
            break;
        }
        case MP_PK_TUPLE:
        case MP_PK_LIST:
        case MP_PK_DICT:
            if (!f->mn) return -1;
            first = f->marks[--f->mn];
            base = f->mn ? f->marks[f->mn - 1] : 0;
            CALL(push_new(f,
                          op == MP_PK_TUPLE  ? MP_OBJ_TUPLE
                          : op == MP_PK_LIST ? MP_OBJ_LIST
                                             : MP_OBJ_DICT,
                          first));
            break;
        case MP_PK_PROTO:
            NEED(1);
            if (*p++ > MP_PICKLE_HIGHEST_PROTOCOL) return -1;
            break;
        case MP_PK_FRAME: {
            NEED(8);
            uint64_t n = le(p, 8);
            p += 8;
            if (f->in_frame || n > (uint64_t)(end - p)) return -1;
            f->in_frame = 1;
            limit = p + (size_t)n;
            break;
        }
        case MP_PK_STOP:
            SYNC();
            return sn == 1 && f->mn == 0 && p == end ? 0 : -1;
        default:
            return -1;
        }
    }
}

#undef NEED
#undef SYNC
#undef RELOAD
#undef PUSH
#undef CALL

/* The decoded value out of the arena: a container takes the arena along
 * as its owner; a lone scalar is copied out, and the arena dropped. */
static mp_obj *finish(fast *f)
{
    mp_obj *r = f->so[0];
    if (r->type == MP_OBJ_LIST || r->type == MP_OBJ_TUPLE || r->type == MP_OBJ_DICT) {
        r->flags |= MP_OBJF_OWNER;
        f->a = NULL;
        return r;
    }
    return r->flags & MP_OBJF_STATIC ? r : mp_obj_copy(r);
}

/* A decoder over data[0..len), with an arena of about guess bytes. */
static int start(fast *f, const void *data, size_t len, size_t guess)
{
    f->p = data;
    f->end = f->p + len;
    f->limit = f->end;
    f->in_frame = 0;
    f->so = f->so_local;
    f->sh = f->sh_local;
    f->sn = 0;
    f->cap = LOCAL_STACK;
    f->mn = 0;
    f->none = mp_obj_none();
    f->yes = mp_obj_bool(1);
    f->no = mp_obj_bool(0);
    f->into = NULL;
    f->scratch = NULL;
    f->a = mp_arena_new(guess);
    return f->a ? 0 : -1;
}

static void stop(fast *f)
{
    mp_arena_free(f->a);
    if (f->so != f->so_local) {
        free(f->so);
        free(f->sh);
    }
}

/* A value takes a few times its pickle's size. */
static size_t arena_guess(size_t len)
{
    return len < (SIZE_MAX >> 4) ? len * 6 + 256 : SIZE_MAX >> 4;
}

int mp__pickle_fast_loads(const void *data, size_t len, mp_obj **out)
{
    /* Big enough that the memo, which counts up to the number of opcodes,
     * cannot outgrow 32 bits here, as the general decoder checks. */
    if (len > UINT32_MAX) return 0;
    fast f;
    mp_obj *r =
        start(&f, data, len, arena_guess(len)) == 0 && run(&f) == 0 ? finish(&f) : NULL;
    stop(&f);
    if (!r) return 0;
    *out = r;
    return 1;
}

/* Decodes each list into the arena, its items straight into the items
 * array of one list made first with room for expect. A pickle that is
 * not a plain list, or holds more than that room, gives up: its items
 * would be somewhere else, perhaps in the room by a list below the root. */
static mp_obj *join_lists(fast *f, const unsigned char *base, const size_t *at,
                          const size_t *len, size_t n, size_t expect)
{
    mp_obj *all = container(f, MP_OBJ_LIST);
    mp_obj **items =
        all ? mp_arena_alloc(f->a, (expect ? expect : 1) * sizeof *items) : NULL;
    if (!items) return NULL;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (len[i] > UINT32_MAX) return NULL;
        f->p = base + at[i];
        f->end = f->p + len[i];
        f->limit = f->end;
        f->in_frame = 0;
        f->sn = 0;
        f->mn = 0;
        f->into = items + total;
        f->into_cap = expect - total;
        if (run(f) < 0) return NULL;
        mp_obj *r = f->so[0];
        if (r->type != MP_OBJ_LIST || r->u.seq.items != items + total) return NULL;
        total += r->u.seq.len;
    }
    all->u.seq.items = items;
    all->u.seq.cap = expect;
    all->u.seq.len = total;
    /* No deeper than the deepest list, each within the limit. */
    all->flags |= MP_OBJF_OWNER;
    f->a = NULL;
    return all;
}

int mp__pickle_fast_loads_lists(const unsigned char *base, const size_t *at,
                                const size_t *len, size_t n, size_t expect, mp_obj **out)
{
    size_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = len[i] > SIZE_MAX - sum ? SIZE_MAX : sum + len[i];
    if (expect > SIZE_MAX / 16) return 0;
    fast f;
    mp_obj *all = NULL;
    if (start(&f, base, 0, arena_guess(sum) + expect * sizeof(mp_obj *)) == 0)
        all = join_lists(&f, base, at, len, n, expect);
    stop(&f);
    if (!all) return 0;
    *out = all;
    return 1;
}
