/* obj_internal.h - what the codec and the repr (and, for one call, the
 * pool) need from the object model beyond mproc/obj.h.
 *
 * The struct is shared with the codec (pickle_*.c), which reads and builds
 * objects directly: a call per field would cost more than the work.
 * Everything else goes through mproc/obj.h.
 *
 * Depth: the root object is at depth 0 and the items of a container at
 * depth d are at depth d + 1; a container at depth >= MP_OBJ_MAX_DEPTH is
 * refused with MP_ETOOBIG (so MP_OBJ_MAX_DEPTH nested lists are fine and
 * one more is not). Copy, equality, hashing and repr all count this way.
 *
 * Arenas: the pickle decoder builds a whole value in one arena (a few
 * large blocks) instead of an allocation per object. The root container
 * owns the arena (MP_OBJF_OWNER) and mp_obj_free() of it releases the
 * arena at once. Every other object of the value is flagged MP_OBJF_ARENA
 * and is never passed to free(). The public ownership rules still hold:
 * an item can only leave the tree by being freed (a replaced dict value),
 * never by being handed to another owner, so an arena object can never
 * outlive its owner. A container of an arena that is changed marks the
 * arena dirty; a dirty arena's tree may hold memory of its own (appended
 * items, grown arrays), so freeing it walks the tree first. */
#ifndef MP_CORE_OBJ_OBJ_INTERNAL_H
#define MP_CORE_OBJ_OBJ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mproc/obj.h"

#define MP_OBJ_DICT_SMALL 8 /* up to this many entries, a dict has no index */

enum {
    MP_OBJF_STATIC = 1,      /* None / False / True: never freed */
    MP_OBJF_ARENA = 2,       /* the struct lives in an arena */
    MP_OBJF_OWNER = 4,       /* container that frees its arena with itself */
    MP_OBJF_ITEMS_ARENA = 8, /* items / entries array lives in the arena */
    MP_OBJF_INDEX_ARENA = 16 /* dict index lives in the arena */
};

typedef struct mp_obj_entry {
    mp_obj *key, *value;
    uint64_t hash;
} mp_obj_entry;

typedef struct mp_arena mp_arena;

/* A container's link: while it lives in an arena, the arena (to mark it
 * dirty); while mp_obj_free walks it, its parent. */
typedef union mp_obj_link {
    mp_obj *up;
    mp_arena *arena;
} mp_obj_link;

struct mp_obj {
    mp_obj_type type;
    unsigned flags; /* MP_OBJF_* */
    union {
        int b;
        int64_t i;
        double f;
        struct {
            char *data; /* NUL-terminated; follows the struct */
            size_t len; /* bytes */
            size_t ncp; /* code points (str) */
        } s;
        struct {
            mp_obj **items;
            size_t len, cap;
            mp_obj_link link;
        } seq;
        struct {
            mp_obj_entry *e;
            size_t len, cap;
            size_t *index; /* entry number + 1, 0 = empty; NULL while small */
            size_t mask;   /* index slots - 1 */
            mp_obj_link link;
        } d;
    } u;
};

/* Bytes an object of a kind needs: scalars and blobs in an arena are
 * allocated only up to the union member they use (nothing reads past
 * it). */
#define MP_OBJ_SCALAR_SIZE (offsetof(mp_obj, u) + sizeof(int64_t))
#define MP_OBJ_BLOB_SIZE   (offsetof(mp_obj, u) + 3 * sizeof(size_t))

/* ---- arenas ---------------------------------------------------------------------- */

struct mp_arena {
    unsigned char *cur, *end; /* free room of the newest block */
    void *blocks;             /* blocks after the first (which holds this) */
    size_t next_size;         /* size of the next block */
    int dirty;                /* a container of it was changed */
    mp_obj *walk_up;          /* the owner's parent while mp_obj_free walks */
};

/* An arena whose first block has about size bytes of room; NULL when out
 * of memory (nothing is recorded: callers fall back). */
mp_arena *mp_arena_new(size_t size);
void mp_arena_free(mp_arena *a);
void *mp_arena__grow(mp_arena *a, size_t n);

/* n bytes, 8-aligned (the strictest alignment of the struct's members);
 * NULL when out of memory. */
static inline void *mp_arena_alloc(mp_arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if ((size_t)(a->end - a->cur) < n) return mp_arena__grow(a, n);
    void *p = a->cur;
    a->cur += n;
    return p;
}

/* Adds pairs kv[0..2n) (key, value, ...) to dict d of arena a, growing its
 * entries and index inside the arena; a repeated key keeps its place and
 * takes the last value. A negative code (unhashable key, out of memory)
 * leaves d usable but perhaps with some of the pairs. */
int mp_obj__arena_dict_add(mp_arena *a, mp_obj *d, mp_obj *const *kv, size_t n);

/* ---- the rest ------------------------------------------------------------------- */

/* An empty list, tuple or dict with room for cap items (pairs for a dict)
 * allocated now; NULL (MP_ENOMEM) when that room cannot be had. */
mp_obj *mp_obj__new_list(size_t cap);
mp_obj *mp_obj__new_tuple(size_t cap);
mp_obj *mp_obj__new_dict(size_t cap);

/* The items of a list or tuple as the array they are kept in (NULL for
 * anything else, or an empty one): for the pool, which pickles slices of
 * a caller's list without copying out its pointers. */
mp_obj *const *mp_obj__seq_items(const mp_obj *seq);

/* A tuple of items[0..n), which it owns from now on, also on failure; the
 * array itself stays the caller's. No item may be NULL. */
mp_obj *mp_obj__tuple_take(mp_obj **items, size_t n);

/* Checks that s[0..n) is well-formed UTF-8 (Unicode table 3-7: no overlong
 * forms, surrogates or code points above U+10FFFF, no truncated sequence).
 * 0 with the number of code points in *ncp (may be NULL), or MP_EINVAL
 * with the offending byte offset in mp_last_error(). */
int mp_obj__utf8_check(const void *s, size_t n, size_t *ncp);

/* 0 if key may be a dict key (None, bool, int, float, str, bytes, tuples of
 * those), else MP_EINVAL (or MP_ETOOBIG for a tuple nested too deep), with
 * the reason in mp_last_error(). */
int mp_obj__hashable(const mp_obj *key);

#endif
