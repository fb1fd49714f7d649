/* mproc/obj.h - Python-like values: None, bool, int, float, str, bytes,
 * list, tuple and dict.
 *
 * An mp_obj is what Python's Connection.send() and Queue.put() carry:
 * mp_conn_send(), mp_queue_put() and process arguments move these values
 * between processes as pickles, so a C process and a Python process
 * exchange them object for object.
 *
 * Ownership: every constructor returns a new object that the caller owns
 * and releases with mp_obj_free() (which frees its items too). Containers
 * take ownership of the items given to them, also when they fail, so a
 * nested value is built in one expression and checked once:
 *
 *     mp_obj *o = MP_LIST(mp_obj_int(42), mp_obj_none(), mp_obj_str("hello"));
 *     if (!o) ... out of memory or bad input; mp_last_error() says which
 *
 * A constructor given NULL as an item returns NULL (after freeing the other
 * items), so a failure deep inside propagates to the top. Accessors return
 * borrowed pointers that live as long as the container. */
#ifndef MPROC_OBJ_H
#define MPROC_OBJ_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mp_obj_type {
    MP_OBJ_NONE = 0,
    MP_OBJ_BOOL,
    MP_OBJ_INT,   /* 64-bit signed; a larger Python int is refused */
    MP_OBJ_FLOAT, /* double */
    MP_OBJ_STR,   /* valid UTF-8, may contain NUL */
    MP_OBJ_BYTES,
    MP_OBJ_LIST,
    MP_OBJ_TUPLE,
    MP_OBJ_DICT /* insertion-ordered; keys of the hashable kinds */
} mp_obj_type;

/* ---- constructors (NULL on failure) -------------------------------------- */

/* None, False and True are shared, never-changing objects (as in Python):
 * no allocation, and mp_obj_free() of them does nothing, so they may be
 * put in any number of containers. */
MP_API mp_obj *mp_obj_none(void);
MP_API mp_obj *mp_obj_bool(int v);
MP_API mp_obj *mp_obj_int(int64_t v);
MP_API mp_obj *mp_obj_float(double v);

/* A copy of a NUL-terminated / n-byte UTF-8 string. NULL (MP_EINVAL in
 * mp_last_error) if it is not valid UTF-8: overlong forms, surrogates and
 * code points above U+10FFFF are refused, as Python's decoder refuses them.
 * NULL too for a NULL string (mp_obj_strn: with n > 0), and for n beyond
 * PTRDIFF_MAX (a negative length; nothing is read). */
MP_API mp_obj *mp_obj_str(const char *utf8);
MP_API mp_obj *mp_obj_strn(const char *utf8, size_t n);

/* A copy of n bytes (data may be NULL when n is 0). NULL for NULL data
 * with n > 0 or n beyond PTRDIFF_MAX, and when out of memory. */
MP_API mp_obj *mp_obj_bytes(const void *data, size_t n);

/* Containers of n items given as mp_obj * arguments, which they own from
 * now on. mp_obj_dict takes n key/value pairs: 2n arguments, key first.
 * A key that is not hashable (list, dict, or a tuple holding one) gives
 * NULL; a repeated key keeps its first place and the last value, as a
 * Python dict display does. */
MP_API mp_obj *mp_obj_list(size_t n, ...);
MP_API mp_obj *mp_obj_tuple(size_t n, ...);
MP_API mp_obj *mp_obj_dict(size_t n, ...);

/* The same with the count worked out: MP_LIST(a, b, c), MP_TUPLE(a),
 * MP_DICT(k1, v1, k2, v2). Empty containers: mp_obj_list(0) etc. */
#define MP_LIST(...)  mp_obj_list(MP_OBJ__NARGS(__VA_ARGS__), __VA_ARGS__)
#define MP_TUPLE(...) mp_obj_tuple(MP_OBJ__NARGS(__VA_ARGS__), __VA_ARGS__)
#define MP_DICT(...)  mp_obj_dict(MP_OBJ__NARGS(__VA_ARGS__) / 2, __VA_ARGS__)

/* Appends item to a list or a tuple (tuples are immutable in Python; here
 * they can be built up before they are shared); takes ownership of item
 * also on failure. MP_EINVAL for a NULL or other type of seq, a NULL
 * item, and seq itself as the item (then nothing is freed); MP_ENOMEM. */
MP_API int mp_obj_append(mp_obj *seq, mp_obj *item);

/* Sets d[key] = value, taking ownership of both also on failure. An equal
 * key already there keeps its place and gets the new value (Python's
 * equality: 1, 1.0 and True are the same key). MP_EINVAL for a NULL or
 * non-dict d, a NULL or unhashable key, a NULL value, and d itself as key
 * or value (d is then not freed, the other argument is); MP_ETOOBIG for a
 * key nested deeper than MP_OBJ_MAX_DEPTH; MP_ENOMEM. */
MP_API int mp_obj_dict_set(mp_obj *d, mp_obj *key, mp_obj *value);

/* A deep copy; NULL for NULL, when out of memory, or (MP_ETOOBIG) nested
 * deeper than MP_OBJ_MAX_DEPTH. */
MP_API mp_obj *mp_obj_copy(const mp_obj *o);

/* Releases o and everything in it. NULL is ignored. */
MP_API void mp_obj_free(mp_obj *o);

/* ---- queries ----------------------------------------------------------------- */

/* The kind of o; MP_OBJ_NONE for NULL. */
MP_API mp_obj_type mp_obj_type_of(const mp_obj *o);

/* Python's type name: "NoneType", "bool", "int", "float", "str", "bytes",
 * "list", "tuple", "dict"; "NULL" for NULL. */
MP_API const char *mp_obj_type_name(const mp_obj *o);

/* Scalars. MP_EINVAL if o is not of the type, or o or out is NULL;
 * mp_obj_get_int accepts a bool (as Python's int(True)), mp_obj_get_float
 * an int or bool. */
MP_API int mp_obj_get_bool(const mp_obj *o, int *out);
MP_API int mp_obj_get_int(const mp_obj *o, int64_t *out);
MP_API int mp_obj_get_float(const mp_obj *o, double *out);

/* The UTF-8 bytes of a str / the bytes of a bytes object, and the length
 * (a str's text is also NUL-terminated; len may be NULL). NULL for another
 * type or NULL, and *len is left alone. */
MP_API const char *mp_obj_str_data(const mp_obj *o, size_t *len);
MP_API const void *mp_obj_bytes_data(const mp_obj *o, size_t *len);

/* Items of a list or tuple, pairs of a dict, code points of a str, bytes
 * of a bytes object; 0 for the scalars and NULL. */
MP_API size_t mp_obj_len(const mp_obj *o);

/* Item i of a list or tuple, key / value i of a dict (in insertion order);
 * NULL out of range or for another type. Borrowed. */
MP_API mp_obj *mp_obj_item(const mp_obj *seq, size_t i);
MP_API mp_obj *mp_obj_dict_key(const mp_obj *d, size_t i);
MP_API mp_obj *mp_obj_dict_value(const mp_obj *d, size_t i);

/* d[key], or NULL if absent (also for an unhashable key, a d that is no
 * dict, and NULL). Borrowed. */
MP_API mp_obj *mp_obj_dict_get(const mp_obj *d, const mp_obj *key);

/* Python's ==: deep, 1 == 1.0 == True, nan != nan, list != tuple. Items
 * that are the same object compare equal (Python's identity shortcut, so
 * a list holding a NaN equals itself). 0 past MP_OBJ_MAX_DEPTH, and if
 * either is NULL. */
MP_API int mp_obj_equal(const mp_obj *a, const mp_obj *b);

/* Exactly what Python's repr() prints for the same value: shortest
 * round-trip floats, Python's string quoting and escapes, b'...' bytes,
 * (1,) tuples, dicts in insertion order. *out is NUL-terminated and freed
 * with mp_free(). MP_ENOMEM, MP_EINVAL for NULL, or MP_ETOOBIG for
 * nesting deeper than MP_OBJ_MAX_DEPTH. */
MP_API int mp_obj_repr(const mp_obj *o, char **out);

/* Prints the repr and a newline on stdout, as print(repr(o)) does.
 * mp_obj_repr()'s errors, and MP_ESYS if stdout refuses the write. */
MP_API int mp_obj_print(const mp_obj *o);

/* ---- pickles ------------------------------------------------------------------- */

/* Encodes o as a pickle that Python's pickle.loads() accepts (protocol 4,
 * what multiprocessing writes). *data is freed with mp_free(). MP_EINVAL
 * for a NULL argument, MP_ETOOBIG for nesting deeper than
 * MP_OBJ_MAX_DEPTH (*data is NULL then), MP_ENOMEM. */
MP_API int mp_obj_dumps(const mp_obj *o, void **data, size_t *len);

/* Decodes a pickle of these types written by Python at protocols 2 to 5.
 * Any other opcode (globals, reduce, persistent ids...) is MP_EUNSUPPORTED,
 * naming the opcode in mp_last_error(); nothing is ever executed.
 * A structure that contains itself, or a str holding a lone surrogate, is
 * MP_EUNSUPPORTED too. Truncated or malformed input (len 0 included) is
 * MP_EPROTO; an int beyond 64 bits is MP_ERANGE; nesting deeper than
 * MP_OBJ_MAX_DEPTH, or shared references that would expand far beyond the
 * input's size, is MP_ETOOBIG. MP_EINVAL for a NULL out, NULL data with a
 * length, or a len beyond PTRDIFF_MAX (nothing is read); MP_ENOMEM. */
MP_API int mp_obj_loads(const void *data, size_t len, mp_obj **out);

/* Deepest nesting of containers accepted by dumps and loads. */
#define MP_OBJ_MAX_DEPTH 1000

#define MP_OBJ__NARGS(...)                                                               \
    MP_OBJ__NARGS_(__VA_ARGS__, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19,  \
                   18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define MP_OBJ__NARGS_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, \
                       _16, _17, _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28,  \
                       _29, _30, _31, _32, N, ...)                                       \
    N

#ifdef __cplusplus
}
#endif
#endif
