/* obj_internal.h - what the codec and the repr need from the object model
 * beyond mproc/obj.h.
 *
 * The struct stays private to obj.c; these calls give the pickle decoder
 * containers sized up front (a pickle says how many items follow only in
 * part, so reserving is a hint, never a limit) and a tuple built straight
 * from a slice of its stack, and give everyone the one UTF-8 validator and
 * the one notion of nesting depth.
 *
 * Depth: the root object is at depth 0 and the items of a container at
 * depth d are at depth d + 1; a container at depth >= MP_OBJ_MAX_DEPTH is
 * refused with MP_ETOOBIG (so MP_OBJ_MAX_DEPTH nested lists are fine and
 * one more is not). Copy, equality, hashing and repr all count this way. */
#ifndef MP_CORE_OBJ_INTERNAL_H
#define MP_CORE_OBJ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mproc/obj.h"

/* An empty list, tuple or dict with room for cap items (pairs for a dict)
 * allocated now; NULL (MP_ENOMEM) when that room cannot be had. */
mp_obj *mp_obj__new_list(size_t cap);
mp_obj *mp_obj__new_tuple(size_t cap);
mp_obj *mp_obj__new_dict(size_t cap);

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
