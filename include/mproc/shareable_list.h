/* mproc/shareable_list.h - a fixed-length list of scalars in a named
 * SharedMemory block (multiprocessing.shared_memory.ShareableList).
 *
 * Items are int (64-bit), float, bool, None, str and bytes, as mp_obj
 * values. The block has Python's exact layout (the item count, the
 * offsets of the items, the packed items, a struct format of 8 bytes and
 * a type code per item), so Python's ShareableList(name=...) reads a list
 * made here and mproc reads one Python made, Python 3.8's older layout
 * included. The list's length is fixed; an item may change type but not
 * outgrow the slot it got at creation. There is no lock, as in Python:
 * a reader racing a writer of the same item may see a mix of both.
 *
 * Python cannot keep trailing NUL characters (its reader strips them:
 * cpython gh-96779), so mproc refuses to store a str or bytes ending in
 * NUL rather than write what Python would misread. Slots for str are
 * sized by their UTF-8 bytes, where Python sizes them by characters and
 * so truncates multi-byte text (gh-106939); such a value written by
 * Python reads here as MP_EPROTO (Python's own reader fails on it too).
 * docs/shared_memory.md has both cases. */
#ifndef MPROC_SHAREABLE_LIST_H
#define MPROC_SHAREABLE_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates a list in a new block named name (NULL: a random name, as
 * mp_shared_memory_create) holding the items of items, a list or tuple
 * of int, float, bool, None, str and bytes. The caller owns *l
 * (mp_shareable_list_free) and the name (unlink it through
 * mp_shareable_list_shm). MP_EINVAL for NULL l or items, an items that is
 * not a list or tuple, an item of another type, or a str or bytes ending
 * in NUL; otherwise as mp_shared_memory_create. */
MP_API int mp_shareable_list_new(mp_shareable_list **l, const char *name,
                                 const mp_obj *items);

/* Attaches to the list in the block named name. MP_ENOTFOUND if no block
 * has the name, MP_EPROTO if the block holds no list in Python's layout;
 * otherwise as mp_shared_memory_attach. */
MP_API int mp_shareable_list_attach(mp_shareable_list **l, const char *name);

/* The number of items (0 for NULL). */
MP_API size_t mp_shareable_list_len(const mp_shareable_list *l);

/* Item i (negative counts from the end, as in Python) as a new object the
 * caller frees (mp_obj_free). MP_ERANGE for an index out of range,
 * MP_EPROTO for an item Python's layout cannot hold (a format or code it
 * never writes, a slot past the block, text that is not UTF-8),
 * MP_EINVAL for NULL, MP_ENOMEM. */
MP_API int mp_shareable_list_get(mp_shareable_list *l, int64_t i, mp_obj **out);

/* Stores value as item i. MP_ETOOBIG (Python's ValueError "exceeds
 * available storage") for a str or bytes longer than the item's slot, the
 * old value kept; MP_EINVAL for another type, a str or bytes ending in
 * NUL, or NULL; MP_ERANGE for an index out of range. */
MP_API int mp_shareable_list_set(mp_shareable_list *l, int64_t i, const mp_obj *value);

/* The position of the first item equal to value (Python's index), or
 * MP_ENOTFOUND; the number of items equal to it (count). Equality is
 * Python's (mp_obj_equal). MP_EINVAL for NULL; an item that cannot be
 * read gives its error. */
MP_API int mp_shareable_list_index(mp_shareable_list *l, const mp_obj *value,
                                   size_t *pos);
MP_API int mp_shareable_list_count(mp_shareable_list *l, const mp_obj *value, size_t *n);

/* Every item, as a new list object (print it with mp_obj_print to get
 * Python's list(sl)). */
MP_API int mp_shareable_list_to_obj(mp_shareable_list *l, mp_obj **list);

/* The block (Python's .shm): for its name, for unlink. Still l's; NULL
 * for NULL. */
MP_API mp_shared_memory *mp_shareable_list_shm(mp_shareable_list *l);

/* Closes this process's view and releases l; never unlinks. NULL is
 * ignored. */
MP_API void mp_shareable_list_free(mp_shareable_list *l);

#ifdef __cplusplus
}
#endif
#endif
