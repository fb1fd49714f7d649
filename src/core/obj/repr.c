/* repr.c - mp_obj_repr() and mp_obj_print(): Python's repr() of an
 * mp_obj, byte for byte.
 *
 * Floats and bytes go through repr_scalar.c, which Value and Array share. A str
 * follows CPython's unicode_repr(): single quotes unless the text holds a
 * ' and no ", backslash escapes for \\, the quote, \t \n \r, \xNN for the
 * other ASCII controls and DEL, and for everything else beyond ASCII the
 * character itself when Python calls it printable (the generated table of
 * unicode_printable.c) or else \xNN, \uNNNN or \U00NNNNNN, lowercase.
 *
 * Containers recurse, bounded by MP_OBJ_MAX_DEPTH (counted as in
 * obj_internal.h), so a hostile nesting is MP_ETOOBIG, never a stack
 * overflow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/error.h"
#include "core/obj/obj_internal.h"
#include "core/obj/repr_scalar.h"
#include "core/obj/unicode_printable.h"

static void put_str(mp_buf *b, const char *s)
{
    mp_buf_put(b, s, strlen(s));
}

/* The code point at p (valid UTF-8, as every str is), advancing p. */
static uint32_t next_cp(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    uint32_t c = p[0];
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n == 2) c &= 0x1F;
    if (n == 3) c &= 0x0F;
    if (n == 4) c &= 0x07;
    for (size_t i = 1; i < n; i++)
        c = (c << 6) | (p[i] & 0x3Fu);
    *pp = p + n;
    return c;
}

static void put_escape(mp_buf *b, uint32_t c)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[10];
    int digits = c < 0x100 ? 2 : c < 0x10000 ? 4 : 8;
    tmp[0] = '\\';
    tmp[1] = c < 0x100 ? 'x' : c < 0x10000 ? 'u' : 'U';
    for (int i = 0; i < digits; i++)
        tmp[2 + i] = hex[(c >> (4 * (digits - 1 - i))) & 0xF];
    mp_buf_put(b, tmp, (size_t)digits + 2);
}

static void repr_str(mp_buf *b, const char *s, size_t n)
{
    /* Python's choice: ' unless there is a ' and no ". */
    char quote = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    mp_buf_u8(b, (uint8_t)quote);
    while (p < end) {
        const unsigned char *start = p;
        uint32_t c = next_cp(&p);
        if (c == (uint32_t)quote || c == '\\') {
            mp_buf_u8(b, '\\');
            mp_buf_u8(b, (uint8_t)c);
        } else if (c == '\t') {
            put_str(b, "\\t");
        } else if (c == '\n') {
            put_str(b, "\\n");
        } else if (c == '\r') {
            put_str(b, "\\r");
        } else if (c < 0x20 || c == 0x7F) {
            put_escape(b, c);
        } else if (c < 0x7F || mp_unicode_printable(c)) {
            mp_buf_put(b, start, (size_t)(p - start));
        } else {
            put_escape(b, c);
        }
    }
    mp_buf_u8(b, (uint8_t)quote);
}

static int repr(mp_buf *b, const mp_obj *o, unsigned depth)
{
    int64_t i = 0;
    double d = 0;
    int v = 0;
    size_t n = 0;
    const void *data;
    mp_obj_type t = mp_obj_type_of(o);
    if (!o) return mp_set_error(MP_EINVAL, "repr of NULL");
    switch (t) {
    case MP_OBJ_NONE:
        put_str(b, "None");
        return 0;
    case MP_OBJ_BOOL:
        mp_obj_get_bool(o, &v);
        put_str(b, v ? "True" : "False");
        return 0;
    case MP_OBJ_INT:
        mp_obj_get_int(o, &i);
        mp_repr_int(b, (long long)i);
        return 0;
    case MP_OBJ_FLOAT:
        mp_obj_get_float(o, &d);
        mp_repr_double(b, d);
        return 0;
    case MP_OBJ_STR:
        data = mp_obj_str_data(o, &n);
        repr_str(b, data, n);
        return 0;
    case MP_OBJ_BYTES:
        data = mp_obj_bytes_data(o, &n);
        mp_repr_bytes(b, data, n);
        return 0;
    default:
        break;
    }
    if (depth >= MP_OBJ_MAX_DEPTH)
        return mp_set_error(MP_ETOOBIG, "repr of a value nested deeper than %d",
                            MP_OBJ_MAX_DEPTH);
    n = mp_obj_len(o);
    if (t == MP_OBJ_DICT) {
        mp_buf_u8(b, '{');
        for (size_t k = 0; k < n; k++) {
            if (k) put_str(b, ", ");
            int rc = repr(b, mp_obj_dict_key(o, k), depth + 1);
            if (rc == 0) {
                put_str(b, ": ");
                rc = repr(b, mp_obj_dict_value(o, k), depth + 1);
            }
            if (rc < 0) return rc;
        }
        mp_buf_u8(b, '}');
        return 0;
    }
    mp_buf_u8(b, t == MP_OBJ_LIST ? '[' : '(');
    for (size_t k = 0; k < n; k++) {
        if (k) put_str(b, ", ");
        int rc = repr(b, mp_obj_item(o, k), depth + 1);
        if (rc < 0) return rc;
    }
    if (t == MP_OBJ_TUPLE && n == 1) mp_buf_u8(b, ',');
    mp_buf_u8(b, t == MP_OBJ_LIST ? ']' : ')');
    return 0;
}

int mp_obj_repr(const mp_obj *o, char **out)
{
    mp_clear_error();
    if (!out) return mp_set_error(MP_EINVAL, "NULL output for repr");
    *out = NULL;
    mp_buf b;
    mp_buf_init(&b);
    int rc = repr(&b, o, 0);
    mp_buf_u8(&b, '\0');
    if (rc == 0 && b.failed) rc = mp_set_error(MP_ENOMEM, "out of memory for a repr");
    if (rc < 0) {
        mp_buf_free(&b);
        return rc;
    }
    *out = (char *)b.data; /* mp_buf allocates with malloc: mp_free() frees it */
    return 0;
}

int mp_obj_print(const mp_obj *o)
{
    mp_clear_error();
    char *s = NULL;
    int rc = mp_obj_repr(o, &s);
    if (rc < 0) return rc;
    int bad = fputs(s, stdout) == EOF || fputc('\n', stdout) == EOF;
    free(s);
    return bad ? mp_set_error(MP_ESYS, "writing to stdout failed") : 0;
}
