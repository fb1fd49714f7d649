/* obj.c - the object model (see mproc/obj.h and obj_internal.h).
 *
 * Room obj/: mp_obj, Python's values. This file is the model, arena.c the
 * pickle decoder's bulk allocation, repr.c Python's repr() of an object
 * (floats, bytes and ints through repr_scalar.c, which Value and Array
 * share; str printability through unicode_printable.c). The codec that
 * carries objects between processes is pickle/.
 *
 * One struct with a union per kind. A str or bytes object is one
 * allocation: the bytes (plus a NUL) follow the struct. A str caches its
 * length in code points, counted while its UTF-8 is validated.
 *
 * A dict keeps its entries in an array in insertion order, each with its
 * key's hash, and, once it has more than DICT_SMALL entries, an open-
 * addressing index (linear probing, at most half full) of entry numbers,
 * so building or looking up n keys costs O(n). Nothing is ever removed
 * from a dict, so the index needs no tombstones. Small dicts, the usual
 * message, skip the index and scan the hashes.
 *
 * Hashes only have to agree for keys Python calls equal: an int, a bool
 * and an integral float hash as the same int64 (-0.0 as 0); str and bytes
 * never compare equal, so they hash apart. They are not Python's hash()
 * values and are not randomised: a peer that sends many colliding keys
 * makes decoding slow, never wrong (the decoder bounds sizes).
 *
 * Copy, equality and hashing recurse, bounded by MP_OBJ_MAX_DEPTH (see
 * obj_internal.h); mp_obj_free cannot fail, so it walks any depth without
 * recursion or allocation, threading its way back up through a pointer
 * kept in each container.
 *
 * Values decoded from pickles live in arenas (obj_internal.h): their
 * objects are never freed one by one, and an arena array that must grow
 * is copied out to the heap first. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "core/obj/obj_internal.h"

#define DICT_SMALL MP_OBJ_DICT_SMALL

typedef mp_obj_entry entry;

static int is_seq(const mp_obj *o)
{
    return o && (o->type == MP_OBJ_LIST || o->type == MP_OBJ_TUPLE);
}

static const char *kind_name(mp_obj_type t)
{
    static const char *const names[] = {"NoneType", "bool", "int",   "float", "str",
                                        "bytes",    "list", "tuple", "dict"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static mp_obj *new_obj(mp_obj_type t)
{
    mp_obj *o = calloc(1, sizeof *o);
    if (!o) {
        mp_set_error(MP_ENOMEM, "out of memory for a %s", kind_name(t));
        return NULL;
    }
    o->type = t;
    return o;
}

/* ---- scalars ----------------------------------------------------------------- */

/* None, False and True are never changed after creation, so one object of
 * each serves every caller, as in Python: no allocation, and freeing them
 * does nothing. (A third of a typical decoded list is these.) */
static mp_obj the_none = {MP_OBJ_NONE, MP_OBJF_STATIC, {0}};
static mp_obj the_false = {MP_OBJ_BOOL, MP_OBJF_STATIC, {.b = 0}};
static mp_obj the_true = {MP_OBJ_BOOL, MP_OBJF_STATIC, {.b = 1}};

mp_obj *mp_obj_none(void)
{
    return &the_none;
}

mp_obj *mp_obj_bool(int v)
{
    return v ? &the_true : &the_false;
}

mp_obj *mp_obj_int(int64_t v)
{
    mp_obj *o = new_obj(MP_OBJ_INT);
    if (o) o->u.i = v;
    return o;
}

mp_obj *mp_obj_float(double v)
{
    mp_obj *o = new_obj(MP_OBJ_FLOAT);
    if (o) o->u.f = v;
    return o;
}

/* The byte ranges of Unicode's table 3-7 ("well-formed UTF-8 byte
 * sequences"): the second byte's range depends on the first, which is
 * what rules out overlong forms (E0, F0), surrogates (ED) and code points
 * above U+10FFFF (F4); C0, C1 and F5..FF never start a sequence. */
int mp_obj__utf8_check(const void *s, size_t n, size_t *ncp)
{
    const unsigned char *p = s;
    size_t i = 0, count = 0;
    while (i < n) {
        /* Text is mostly ASCII: skip it a word at a time. */
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, sizeof w);
            if (!(w & UINT64_C(0x8080808080808080))) {
                i += 8;
                count += 8;
                continue;
            }
        }
        unsigned c = p[i];
        if (c < 0x80) {
            i++;
            count++;
            continue;
        }
        size_t need;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return mp_set_error(MP_EINVAL, "invalid UTF-8: byte 0x%02x at offset %zu", c,
                                i);
        }
        if (n - i - 1 < need)
            return mp_set_error(MP_EINVAL,
                                "invalid UTF-8: truncated sequence at offset %zu", i);
        for (size_t k = 1; k <= need; k++) {
            unsigned t = p[i + k];
            if (t < lo || t > hi)
                return mp_set_error(MP_EINVAL,
                                    "invalid UTF-8: byte 0x%02x at offset %zu "
                                    "(overlong, surrogate, beyond U+10FFFF or truncated)",
                                    t, i + k);
            lo = 0x80;
            hi = 0xBF;
        }
        i += need + 1;
        count++;
    }
    if (ncp) *ncp = count;
    return 0;
}

/* One allocation holding the struct and then the n bytes and a NUL. */
static mp_obj *new_blob(mp_obj_type t, const void *data, size_t n)
{
    if (n > SIZE_MAX - sizeof(mp_obj) - 1) {
        mp_set_error(MP_ENOMEM, "%s of %zu bytes is too large", kind_name(t), n);
        return NULL;
    }
    mp_obj *o = malloc(sizeof(mp_obj) + n + 1);
    if (!o) {
        mp_set_error(MP_ENOMEM, "out of memory for a %s of %zu bytes", kind_name(t), n);
        return NULL;
    }
    memset(o, 0, sizeof *o);
    o->type = t;
    o->u.s.data = (char *)(o + 1);
    o->u.s.len = n;
    if (n) memcpy(o->u.s.data, data, n);
    o->u.s.data[n] = '\0';
    return o;
}

mp_obj *mp_obj_strn(const char *utf8, size_t n)
{
    size_t ncp = 0;
    if (!utf8 && n) {
        mp_set_error(MP_EINVAL, "NULL string");
        return NULL;
    }
    /* Checked before the UTF-8 scan reads n bytes. */
    if (mp_size_bad(n)) {
        mp_set_error(MP_EINVAL, "string of %zu bytes: a negative length?", n);
        return NULL;
    }
    if (mp_obj__utf8_check(utf8, n, &ncp) < 0) return NULL;
    mp_obj *o = new_blob(MP_OBJ_STR, utf8, n);
    if (o) o->u.s.ncp = ncp;
    return o;
}

mp_obj *mp_obj_str(const char *utf8)
{
    if (!utf8) {
        mp_set_error(MP_EINVAL, "NULL string");
        return NULL;
    }
    return mp_obj_strn(utf8, strlen(utf8));
}

mp_obj *mp_obj_bytes(const void *data, size_t n)
{
    if ((!data && n) || mp_size_bad(n)) {
        mp_set_error(MP_EINVAL, "%s bytes of length %zu", data ? "bad" : "NULL", n);
        return NULL;
    }
    return new_blob(MP_OBJ_BYTES, data, n);
}

/* ---- free ---------------------------------------------------------------------- */

/* Detaches and returns one child of a container (the last), or NULL when
 * it has none left. */
static mp_obj *pop_child(mp_obj *o)
{
    if (is_seq(o)) {
        if (!o->u.seq.items) return NULL;
        while (o->u.seq.len) {
            mp_obj *c = o->u.seq.items[--o->u.seq.len];
            if (c) return c;
        }
        return NULL;
    }
    while (o->u.d.len) {
        entry *e = &o->u.d.e[o->u.d.len - 1];
        mp_obj *c = e->value ? e->value : e->key;
        if (e->value)
            e->value = NULL;
        else {
            e->key = NULL;
            o->u.d.len--;
        }
        if (c) return c;
    }
    return NULL;
}

static int is_container(const mp_obj *o)
{
    return is_seq(o) || o->type == MP_OBJ_DICT;
}

static mp_obj_link *link_of(mp_obj *o)
{
    return is_seq(o) ? &o->u.seq.link : &o->u.d.link;
}

/* Where mp_obj_free keeps the parent of a container it is emptying. An
 * arena's owner keeps it in the arena: its link must still find the
 * arena once its items are gone. */
static mp_obj **walk_up_of(mp_obj *o)
{
    mp_obj_link *l = link_of(o);
    return o->flags & MP_OBJF_OWNER ? &l->arena->walk_up : &l->up;
}

/* A change to a container of an arena: its tree may now hold memory of
 * its own, which freeing must find. */
static void touch(mp_obj *o)
{
    if (o->flags & MP_OBJF_ARENA) link_of(o)->arena->dirty = 1;
}

/* Frees an emptied container's arrays and the container, or o itself,
 * except what lives in an arena; the owner takes its arena along. */
static void release(mp_obj *o)
{
    unsigned f = o->flags;
    if (is_seq(o)) {
        if (!(f & MP_OBJF_ITEMS_ARENA)) free(o->u.seq.items);
    } else if (o->type == MP_OBJ_DICT) {
        if (!(f & MP_OBJF_ITEMS_ARENA)) free(o->u.d.e);
        if (!(f & MP_OBJF_INDEX_ARENA)) free(o->u.d.index);
    }
    if (f & MP_OBJF_OWNER)
        mp_arena_free(link_of(o)->arena);
    else if (!(f & (MP_OBJF_ARENA | MP_OBJF_STATIC)))
        free(o);
}

/* Depth-first without a stack: a container being emptied links to the one
 * it sits in. An arena nobody changed holds nothing but itself, so its
 * owner goes at once, without a walk. */
void mp_obj_free(mp_obj *o)
{
    mp_obj *up = NULL;
    while (o) {
        if (is_container(o) &&
            !((o->flags & MP_OBJF_OWNER) && !link_of(o)->arena->dirty)) {
            mp_obj *c = pop_child(o);
            if (c) {
                *walk_up_of(o) = up;
                up = o;
                o = c;
                continue;
            }
        }
        release(o);
        o = up;
        if (o) up = *walk_up_of(o);
    }
}

/* ---- hashing ------------------------------------------------------------------- */

/* splitmix64's finaliser: every input bit reaches every output bit, so
 * consecutive ints spread over the index's low bits. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

/* 1 if d is an integer that an int64 holds exactly (then *out gets it). */
static int double_as_int64(double d, int64_t *out)
{
    /* The range test is false for NaN too; 2^63 itself does not fit. */
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return 0;
    int64_t t = (int64_t)d;
    if ((double)t != d) return 0;
    *out = t;
    return 1;
}

static uint64_t hash_bytes(const char *p, size_t n, uint64_t seed)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325) ^ seed; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return mix(h ^ n);
}

static int hash_of(const mp_obj *k, uint64_t *h, unsigned depth)
{
    int64_t iv;
    switch (k->type) {
    case MP_OBJ_NONE:
        *h = UINT64_C(0x6e6f6e65);
        return 0;
    case MP_OBJ_BOOL:
        *h = mix((uint64_t)k->u.b);
        return 0;
    case MP_OBJ_INT:
        *h = mix((uint64_t)k->u.i);
        return 0;
    case MP_OBJ_FLOAT:
        if (double_as_int64(k->u.f, &iv)) {
            *h = mix((uint64_t)iv);
        } else {
            uint64_t bits;
            memcpy(&bits, &k->u.f, sizeof bits);
            *h = mix(bits ^ UINT64_C(0x666c6f6174));
        }
        return 0;
    case MP_OBJ_STR:
        *h = hash_bytes(k->u.s.data, k->u.s.len, 1);
        return 0;
    case MP_OBJ_BYTES:
        *h = hash_bytes(k->u.s.data, k->u.s.len, 2);
        return 0;
    case MP_OBJ_TUPLE: {
        if (depth >= MP_OBJ_MAX_DEPTH)
            return mp_set_error(MP_ETOOBIG, "dict key nested deeper than %d",
                                MP_OBJ_MAX_DEPTH);
        uint64_t acc = mix(k->u.seq.len ^ UINT64_C(0x7475706c65));
        for (size_t i = 0; i < k->u.seq.len; i++) {
            uint64_t ih;
            int rc = hash_of(k->u.seq.items[i], &ih, depth + 1);
            if (rc < 0) return rc;
            acc = mix(acc * UINT64_C(31) + ih);
        }
        *h = acc;
        return 0;
    }
    default:
        return mp_set_error(MP_EINVAL, "unhashable type: '%s'", kind_name(k->type));
    }
}

int mp_obj__hashable(const mp_obj *key)
{
    uint64_t h = 0;
    if (!key) return mp_set_error(MP_EINVAL, "NULL key");
    return hash_of(key, &h, 0);
}

/* ---- equality ------------------------------------------------------------------ */

static int is_number(const mp_obj *o)
{
    return o->type == MP_OBJ_BOOL || o->type == MP_OBJ_INT || o->type == MP_OBJ_FLOAT;
}

/* Python compares an int and a float exactly, not through a rounded
 * double: 2**53 + 1 != float(2**53). */
static int numbers_equal(const mp_obj *a, const mp_obj *b)
{
    if (a->type == MP_OBJ_FLOAT && b->type == MP_OBJ_FLOAT) return a->u.f == b->u.f;
    if (a->type == MP_OBJ_FLOAT || b->type == MP_OBJ_FLOAT) {
        const mp_obj *f = a->type == MP_OBJ_FLOAT ? a : b;
        const mp_obj *n = f == a ? b : a;
        int64_t iv, nv = n->type == MP_OBJ_BOOL ? n->u.b : n->u.i;
        return double_as_int64(f->u.f, &iv) && iv == nv;
    }
    int64_t av = a->type == MP_OBJ_BOOL ? a->u.b : a->u.i;
    int64_t bv = b->type == MP_OBJ_BOOL ? b->u.b : b->u.i;
    return av == bv;
}

static int equal(const mp_obj *a, const mp_obj *b, unsigned depth);
static const entry *dict_find(const mp_obj *d, const mp_obj *key, uint64_t h,
                              size_t *slot, unsigned depth);

/* Items, as Python's containers compare them: the same object is equal
 * to itself (which matters only for NaN, and for a container compared
 * with itself, since no object sits in two containers). */
static int item_equal(const mp_obj *a, const mp_obj *b, unsigned depth)
{
    return a == b || equal(a, b, depth);
}

static int equal(const mp_obj *a, const mp_obj *b, unsigned depth)
{
    if (is_number(a) && is_number(b)) return numbers_equal(a, b);
    if (a->type != b->type) return 0;
    switch (a->type) {
    case MP_OBJ_NONE:
        return 1;
    case MP_OBJ_STR:
    case MP_OBJ_BYTES:
        return a->u.s.len == b->u.s.len &&
               memcmp(a->u.s.data, b->u.s.data, a->u.s.len) == 0;
    case MP_OBJ_LIST:
    case MP_OBJ_TUPLE:
        if (a->u.seq.len != b->u.seq.len) return 0;
        if (depth >= MP_OBJ_MAX_DEPTH) {
            mp_set_error(MP_ETOOBIG, "comparison nested deeper than %d",
                         MP_OBJ_MAX_DEPTH);
            return 0;
        }
        for (size_t i = 0; i < a->u.seq.len; i++)
            if (!item_equal(a->u.seq.items[i], b->u.seq.items[i], depth + 1)) return 0;
        return 1;
    case MP_OBJ_DICT:
        if (a->u.d.len != b->u.d.len) return 0;
        if (depth >= MP_OBJ_MAX_DEPTH) {
            mp_set_error(MP_ETOOBIG, "comparison nested deeper than %d",
                         MP_OBJ_MAX_DEPTH);
            return 0;
        }
        /* Order does not matter: look each key of a up in b. */
        for (size_t i = 0; i < a->u.d.len; i++) {
            const entry *ea = &a->u.d.e[i];
            const entry *eb = dict_find(b, ea->key, ea->hash, NULL, depth + 1);
            if (!eb || !item_equal(ea->value, eb->value, depth + 1)) return 0;
        }
        return 1;
    default:
        return 0;
    }
}

int mp_obj_equal(const mp_obj *a, const mp_obj *b)
{
    mp_clear_error();
    if (!a || !b) return 0;
    return equal(a, b, 0);
}

/* ---- containers --------------------------------------------------------------- */

static int grow_items(mp_obj *o, size_t need)
{
    if (need <= o->u.seq.cap) return 0;
    size_t cap = o->u.seq.cap ? o->u.seq.cap : 4;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > SIZE_MAX / sizeof(mp_obj *))
        return mp_set_error(MP_ENOMEM, "%s too large", kind_name(o->type));
    /* An array in an arena is copied out: it cannot be resized there. */
    int in_arena = (o->flags & MP_OBJF_ITEMS_ARENA) != 0;
    mp_obj **items = realloc(in_arena ? NULL : o->u.seq.items, cap * sizeof *items);
    if (!items)
        return mp_set_error(MP_ENOMEM, "out of memory for a %s of %zu items",
                            kind_name(o->type), need);
    if (in_arena && o->u.seq.len)
        memcpy(items, o->u.seq.items, o->u.seq.len * sizeof *items);
    o->flags &= ~(unsigned)MP_OBJF_ITEMS_ARENA;
    o->u.seq.items = items;
    o->u.seq.cap = cap;
    return 0;
}

static int grow_entries(mp_obj *d, size_t need)
{
    if (need <= d->u.d.cap) return 0;
    size_t cap = d->u.d.cap ? d->u.d.cap : 4;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > SIZE_MAX / sizeof(entry)) return mp_set_error(MP_ENOMEM, "dict too large");
    int in_arena = (d->flags & MP_OBJF_ITEMS_ARENA) != 0;
    entry *e = realloc(in_arena ? NULL : d->u.d.e, cap * sizeof *e);
    if (!e) return mp_set_error(MP_ENOMEM, "out of memory for a dict of %zu items", need);
    if (in_arena && d->u.d.len) memcpy(e, d->u.d.e, d->u.d.len * sizeof *e);
    d->flags &= ~(unsigned)MP_OBJF_ITEMS_ARENA;
    d->u.d.e = e;
    d->u.d.cap = cap;
    return 0;
}

/* Index slots for n entries at most half full: a power of two, 0 if too
 * many. */
static size_t index_slots(size_t n)
{
    size_t slots = 16;
    while (slots < 2 * n) {
        if (slots > SIZE_MAX / 4 / sizeof(size_t)) return 0;
        slots *= 2;
    }
    return slots;
}

/* Fills a zeroed index of mask + 1 slots with d's entries. */
static void fill_index(mp_obj *d, size_t *index, size_t mask)
{
    for (size_t i = 0; i < d->u.d.len; i++) {
        size_t s = (size_t)d->u.d.e[i].hash & mask;
        while (index[s])
            s = (s + 1) & mask;
        index[s] = i + 1;
    }
    d->u.d.index = index;
    d->u.d.mask = mask;
}

/* Rebuilds the index with room for at least n entries at most half full. */
static int rebuild_index(mp_obj *d, size_t n)
{
    size_t slots = index_slots(n);
    if (!slots) return mp_set_error(MP_ENOMEM, "dict too large");
    size_t *index = calloc(slots, sizeof *index);
    if (!index) return mp_set_error(MP_ENOMEM, "out of memory for a dict index");
    if (!(d->flags & MP_OBJF_INDEX_ARENA)) free(d->u.d.index);
    d->flags &= ~(unsigned)MP_OBJF_INDEX_ARENA;
    fill_index(d, index, slots - 1);
    return 0;
}

/* Keys compare as Python's dict compares them: identity first, then the
 * hash, then ==. */
static int key_equal(const entry *e, const mp_obj *key, uint64_t h, unsigned depth)
{
    return e->key == key || (e->hash == h && equal(e->key, key, depth));
}

/* The entry with a key equal to key (hash h), or NULL; then, with an
 * index, *slot (if not NULL) gets the empty slot where it would go. */
static const entry *dict_find(const mp_obj *d, const mp_obj *key, uint64_t h,
                              size_t *slot, unsigned depth)
{
    if (!d->u.d.index) {
        for (size_t i = 0; i < d->u.d.len; i++)
            if (key_equal(&d->u.d.e[i], key, h, depth)) return &d->u.d.e[i];
        return NULL;
    }
    size_t mask = d->u.d.mask, s = (size_t)h & mask;
    for (;;) {
        size_t n = d->u.d.index[s];
        if (!n) break;
        if (key_equal(&d->u.d.e[n - 1], key, h, depth)) return &d->u.d.e[n - 1];
        s = (s + 1) & mask;
    }
    if (slot) *slot = s;
    return NULL;
}

static mp_obj *new_container(mp_obj_type t, size_t cap)
{
    mp_obj *o = new_obj(t);
    if (!o || !cap) return o;
    int rc = t == MP_OBJ_DICT ? grow_entries(o, cap) : grow_items(o, cap);
    if (rc == 0 && t == MP_OBJ_DICT && cap > DICT_SMALL) rc = rebuild_index(o, cap);
    if (rc < 0) {
        mp_obj_free(o);
        return NULL;
    }
    return o;
}

mp_obj *mp_obj__new_list(size_t cap)
{
    return new_container(MP_OBJ_LIST, cap);
}

mp_obj *mp_obj__new_tuple(size_t cap)
{
    return new_container(MP_OBJ_TUPLE, cap);
}

mp_obj *mp_obj__new_dict(size_t cap)
{
    return new_container(MP_OBJ_DICT, cap);
}

mp_obj *mp_obj__tuple_take(mp_obj **items, size_t n)
{
    mp_obj *t = new_container(MP_OBJ_TUPLE, n);
    if (!t) {
        for (size_t i = 0; i < n; i++)
            mp_obj_free(items[i]);
        return NULL;
    }
    if (n) memcpy(t->u.seq.items, items, n * sizeof *items);
    t->u.seq.len = n;
    return t;
}

int mp_obj_append(mp_obj *seq, mp_obj *item)
{
    mp_clear_error();
    int rc = 0;
    if (!is_seq(seq))
        rc = mp_set_error(MP_EINVAL, "append to a %s",
                          seq ? kind_name(seq->type) : "NULL object");
    else if (!item)
        rc = mp_set_error(MP_EINVAL, "append of a NULL item");
    else if (item == seq)
        /* Freeing the item would free seq under the caller: leave both. */
        return mp_set_error(MP_EINVAL, "a %s cannot contain itself",
                            kind_name(seq->type));
    else if (seq->u.seq.len == SIZE_MAX)
        rc = mp_set_error(MP_ENOMEM, "%s too large", kind_name(seq->type));
    else {
        touch(seq);
        rc = grow_items(seq, seq->u.seq.len + 1);
    }
    if (rc < 0) {
        mp_obj_free(item);
        return rc;
    }
    seq->u.seq.items[seq->u.seq.len++] = item;
    return 0;
}

/* mp_obj_dict_set without forgetting the message first: for constructors,
 * which leave it alone. */
static int dict_set(mp_obj *d, mp_obj *key, mp_obj *value)
{
    int rc = 0;
    uint64_t h = 0;
    if (!d || d->type != MP_OBJ_DICT)
        rc = mp_set_error(MP_EINVAL, "dict_set on a %s",
                          d ? kind_name(d->type) : "NULL object");
    else if (!key || !value)
        rc = mp_set_error(MP_EINVAL, "dict_set with a NULL %s", key ? "value" : "key");
    else if (key == d || value == d) {
        /* Free only the other one: freeing d would pull it from under the
         * caller. */
        mp_obj_free(key == d ? (value == d ? NULL : value) : key);
        return mp_set_error(MP_EINVAL, "a dict cannot contain itself");
    } else
        rc = hash_of(key, &h, 0);
    if (rc < 0) goto fail;
    touch(d);

    size_t slot = 0;
    entry *e = (entry *)dict_find(d, key, h, &slot, 0);
    if (e) {
        /* Python keeps the first key object and its place. */
        mp_obj_free(key);
        mp_obj_free(e->value);
        e->value = value;
        return 0;
    }
    if (d->u.d.len == SIZE_MAX) {
        rc = mp_set_error(MP_ENOMEM, "dict too large");
        goto fail;
    }
    size_t n = d->u.d.len + 1;
    if ((rc = grow_entries(d, n)) < 0) goto fail;
    int need_index = n > DICT_SMALL && (!d->u.d.index || 2 * n > d->u.d.mask + 1);
    if (need_index && (rc = rebuild_index(d, d->u.d.cap)) < 0) goto fail;
    if (need_index) {
        /* The slot found before the rebuild is stale. */
        slot = (size_t)h & d->u.d.mask;
        while (d->u.d.index[slot])
            slot = (slot + 1) & d->u.d.mask;
    }
    d->u.d.e[d->u.d.len] = (entry){key, value, h};
    if (d->u.d.index) d->u.d.index[slot] = n;
    d->u.d.len = n;
    return 0;
fail:
    mp_obj_free(key);
    mp_obj_free(value);
    return rc;
}

int mp_obj_dict_set(mp_obj *d, mp_obj *key, mp_obj *value)
{
    mp_clear_error();
    return dict_set(d, key, value);
}

/* ---- arena dicts --------------------------------------------------------------- */

/* An index for n entries of a dict in arena a, made in the arena. */
static int arena_index(mp_arena *a, mp_obj *d, size_t n)
{
    size_t slots = index_slots(n);
    if (!slots) return mp_set_error(MP_ENOMEM, "dict too large");
    size_t *index = mp_arena_alloc(a, slots * sizeof *index);
    if (!index) return mp_set_error(MP_ENOMEM, "out of memory for a dict index");
    memset(index, 0, slots * sizeof *index);
    fill_index(d, index, slots - 1);
    d->flags |= MP_OBJF_INDEX_ARENA;
    return 0;
}

/* Room for n more entries, in the arena; an outgrown array stays there
 * unused (the arena goes as a whole). */
static int arena_entries(mp_arena *a, mp_obj *d, size_t n)
{
    size_t len = d->u.d.len;
    if (n > SIZE_MAX / 2 / sizeof(entry) - len)
        return mp_set_error(MP_ENOMEM, "dict too large");
    if (len + n <= d->u.d.cap) return 0;
    size_t cap = len + n > 2 * d->u.d.cap ? len + n : 2 * d->u.d.cap;
    entry *e = mp_arena_alloc(a, cap * sizeof *e);
    if (!e)
        return mp_set_error(MP_ENOMEM, "out of memory for a dict of %zu items", len + n);
    if (len) memcpy(e, d->u.d.e, len * sizeof *e);
    d->u.d.e = e;
    d->u.d.cap = cap;
    d->flags |= MP_OBJF_ITEMS_ARENA;
    return 0;
}

int mp_obj__arena_dict_add(mp_arena *a, mp_obj *d, mp_obj *const *kv, size_t n)
{
    int rc = arena_entries(a, d, n);
    size_t need = d->u.d.len + n;
    if (rc == 0 && need > DICT_SMALL && (!d->u.d.index || 2 * need > d->u.d.mask + 1))
        rc = arena_index(a, d, need);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        mp_obj *k = kv[2 * i], *v = kv[2 * i + 1];
        uint64_t h = 0;
        size_t slot = 0;
        if ((rc = hash_of(k, &h, 0)) < 0) break;
        entry *e = (entry *)dict_find(d, k, h, &slot, 0);
        if (e) {
            /* Python keeps the first key and its place; the dropped
             * objects are the arena's. */
            e->value = v;
            continue;
        }
        d->u.d.e[d->u.d.len] = (entry){k, v, h};
        if (d->u.d.index) d->u.d.index[slot] = d->u.d.len + 1;
        d->u.d.len++;
    }
    return rc;
}

/* Records that item i of a container was NULL, keeping the message of
 * whatever failed to make it (the buffer is overwritten, so copy it). */
static void null_item(const char *what, size_t i)
{
    char prev[200];
    snprintf(prev, sizeof prev, "%s", mp_last_error());
    mp_set_error(MP_EINVAL, "item %zu of a %s is NULL%s%s", i, what, prev[0] ? ": " : "",
                 prev);
}

static mp_obj *seq_va(mp_obj_type t, size_t n, va_list ap)
{
    mp_obj *o = new_container(t, n);
    int failed = !o;
    for (size_t i = 0; i < n; i++) {
        mp_obj *item = va_arg(ap, mp_obj *);
        if (failed) {
            mp_obj_free(item);
        } else if (!item) {
            null_item(kind_name(t), i);
            failed = 1;
        } else {
            o->u.seq.items[o->u.seq.len++] = item;
        }
    }
    if (failed) {
        mp_obj_free(o);
        return NULL;
    }
    return o;
}

mp_obj *mp_obj_list(size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    mp_obj *o = seq_va(MP_OBJ_LIST, n, ap);
    va_end(ap);
    return o;
}

mp_obj *mp_obj_tuple(size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    mp_obj *o = seq_va(MP_OBJ_TUPLE, n, ap);
    va_end(ap);
    return o;
}

mp_obj *mp_obj_dict(size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    mp_obj *d = new_container(MP_OBJ_DICT, n);
    int failed = !d;
    for (size_t i = 0; i < 2 * n; i += 2) {
        mp_obj *k = va_arg(ap, mp_obj *);
        mp_obj *v = va_arg(ap, mp_obj *);
        if (failed) {
            mp_obj_free(k);
            mp_obj_free(v);
        } else if (!k || !v) {
            null_item("dict", k ? i + 1 : i);
            mp_obj_free(k);
            mp_obj_free(v);
            failed = 1;
        } else if (dict_set(d, k, v) < 0) {
            failed = 1;
        }
    }
    va_end(ap);
    if (failed) {
        mp_obj_free(d);
        return NULL;
    }
    return d;
}

/* ---- copy ---------------------------------------------------------------------- */

static mp_obj *copy(const mp_obj *o, unsigned depth)
{
    switch (o->type) {
    case MP_OBJ_NONE:
        return mp_obj_none();
    case MP_OBJ_BOOL:
        return mp_obj_bool(o->u.b);
    case MP_OBJ_INT:
    case MP_OBJ_FLOAT: {
        mp_obj *c = new_obj(o->type);
        /* Field by field: an arena scalar has no room past its value. */
        if (c && o->type == MP_OBJ_INT) c->u.i = o->u.i;
        if (c && o->type == MP_OBJ_FLOAT) c->u.f = o->u.f;
        return c;
    }
    case MP_OBJ_STR:
    case MP_OBJ_BYTES: {
        mp_obj *c = new_blob(o->type, o->u.s.data, o->u.s.len);
        if (c) c->u.s.ncp = o->u.s.ncp;
        return c;
    }
    default:
        break;
    }
    if (depth >= MP_OBJ_MAX_DEPTH) {
        mp_set_error(MP_ETOOBIG, "copy of a value nested deeper than %d",
                     MP_OBJ_MAX_DEPTH);
        return NULL;
    }
    if (is_seq(o)) {
        mp_obj *c = new_container(o->type, o->u.seq.len);
        if (!c) return NULL;
        for (size_t i = 0; i < o->u.seq.len; i++) {
            mp_obj *item = copy(o->u.seq.items[i], depth + 1);
            if (!item) {
                mp_obj_free(c);
                return NULL;
            }
            c->u.seq.items[c->u.seq.len++] = item;
        }
        return c;
    }
    /* A dict: the keys are known to be distinct, so entries and index are
     * copied as they are, hashes included. */
    mp_obj *c = new_container(MP_OBJ_DICT, o->u.d.len);
    if (!c) return NULL;
    for (size_t i = 0; i < o->u.d.len; i++) {
        mp_obj *k = copy(o->u.d.e[i].key, depth + 1);
        mp_obj *v = k ? copy(o->u.d.e[i].value, depth + 1) : NULL;
        if (!v) {
            mp_obj_free(k);
            mp_obj_free(c);
            return NULL;
        }
        c->u.d.e[c->u.d.len++] = (entry){k, v, o->u.d.e[i].hash};
    }
    if (c->u.d.index && rebuild_index(c, c->u.d.len) < 0) {
        mp_obj_free(c);
        return NULL;
    }
    return c;
}

mp_obj *mp_obj_copy(const mp_obj *o)
{
    if (!o) {
        mp_set_error(MP_EINVAL, "copy of NULL");
        return NULL;
    }
    return copy(o, 0);
}

/* ---- queries ------------------------------------------------------------------- */

mp_obj_type mp_obj_type_of(const mp_obj *o)
{
    return o ? o->type : MP_OBJ_NONE;
}

const char *mp_obj_type_name(const mp_obj *o)
{
    return o ? kind_name(o->type) : "NULL";
}

int mp_obj_get_bool(const mp_obj *o, int *out)
{
    mp_clear_error();
    if (!o || !out || o->type != MP_OBJ_BOOL)
        return mp_set_error(MP_EINVAL, "get_bool of a %s", mp_obj_type_name(o));
    *out = o->u.b;
    return 0;
}

int mp_obj_get_int(const mp_obj *o, int64_t *out)
{
    mp_clear_error();
    if (!o || !out || (o->type != MP_OBJ_INT && o->type != MP_OBJ_BOOL))
        return mp_set_error(MP_EINVAL, "get_int of a %s", mp_obj_type_name(o));
    *out = o->type == MP_OBJ_BOOL ? o->u.b : o->u.i;
    return 0;
}

int mp_obj_get_float(const mp_obj *o, double *out)
{
    mp_clear_error();
    if (!o || !out || !is_number(o))
        return mp_set_error(MP_EINVAL, "get_float of a %s", mp_obj_type_name(o));
    *out = o->type == MP_OBJ_FLOAT ? o->u.f
           : o->type == MP_OBJ_INT ? (double)o->u.i
                                   : (double)o->u.b;
    return 0;
}

const char *mp_obj_str_data(const mp_obj *o, size_t *len)
{
    if (!o || o->type != MP_OBJ_STR) return NULL;
    if (len) *len = o->u.s.len;
    return o->u.s.data;
}

const void *mp_obj_bytes_data(const mp_obj *o, size_t *len)
{
    if (!o || o->type != MP_OBJ_BYTES) return NULL;
    if (len) *len = o->u.s.len;
    return o->u.s.data;
}

size_t mp_obj_len(const mp_obj *o)
{
    if (!o) return 0;
    switch (o->type) {
    case MP_OBJ_STR:
        return o->u.s.ncp;
    case MP_OBJ_BYTES:
        return o->u.s.len;
    case MP_OBJ_LIST:
    case MP_OBJ_TUPLE:
        return o->u.seq.len;
    case MP_OBJ_DICT:
        return o->u.d.len;
    default:
        return 0;
    }
}

mp_obj *mp_obj_item(const mp_obj *seq, size_t i)
{
    return is_seq(seq) && i < seq->u.seq.len ? seq->u.seq.items[i] : NULL;
}

mp_obj *const *mp_obj__seq_items(const mp_obj *seq)
{
    return is_seq(seq) ? seq->u.seq.items : NULL;
}

mp_obj *mp_obj_dict_key(const mp_obj *d, size_t i)
{
    return d && d->type == MP_OBJ_DICT && i < d->u.d.len ? d->u.d.e[i].key : NULL;
}

mp_obj *mp_obj_dict_value(const mp_obj *d, size_t i)
{
    return d && d->type == MP_OBJ_DICT && i < d->u.d.len ? d->u.d.e[i].value : NULL;
}

mp_obj *mp_obj_dict_get(const mp_obj *d, const mp_obj *key)
{
    uint64_t h = 0;
    if (!d || d->type != MP_OBJ_DICT || !key || hash_of(key, &h, 0) < 0) return NULL;
    const entry *e = dict_find(d, key, h, NULL, 0);
    return e ? e->value : NULL;
}
