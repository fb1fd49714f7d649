/* shareable_list.c - ShareableList (mproc/shareable_list.h) in a named
 * SharedMemory block, in Python's layout (all numbers native-endian, as
 * Python's struct packs them without a prefix):
 *
 *   q        n, the number of items
 *   q[n+1]   offsets of the items from the data start, the first 0 and
 *            the last the data's end (Python 3.8: q[n], each item's size)
 *   data     the items, each in a slot of 8 bytes or, for str and bytes,
 *            a multiple of 8 with at least one NUL after the value
 *   8s[n]    each item's struct format: "q", "d", "xxxxxxx?" (bool),
 *            "xxxxxx?x" (None), "<count>s" (str, bytes)
 *   b[n]     each item's type code: 0 as unpacked, 1 str, 2 bytes, 3 None
 *
 * The block comes from another process, maybe another program: every
 * offset, format and code is checked before it is used, and what Python
 * never writes is MP_EPROTO. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "mproc/obj.h"
#include "mproc/shareable_list.h"
#include "mproc/shared_memory.h"

#define SLOT        8u /* Python's _alignment */
#define FORMAT_SIZE 8u

enum { CODE_PLAIN = 0, CODE_STR = 1, CODE_BYTES = 2, CODE_NONE = 3 };

struct mp_shareable_list {
    mp_shared_memory *shm;
    unsigned char *base;
    size_t size, n;
    uint64_t *offsets; /* n + 1, from the data start, in this process's memory */
    size_t data, formats, codes; /* where each part starts in the block */
};

static uint64_t load_u64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* ---- what goes into a slot ------------------------------------------------ */

/* The format, code and bytes of a value: the bytes for str and bytes, 8
 * packed bytes for the rest. */
typedef struct packed {
    char format[FORMAT_SIZE + 1];
    int code;
    const unsigned char *text; /* str, bytes: their data */
    size_t len;
    unsigned char fixed[SLOT];
} packed;

static int pack(const mp_obj *v, packed *p)
{
    memset(p, 0, sizeof *p);
    int64_t i;
    double d;
    int b;
    switch (mp_obj_type_of(v)) {
    case MP_OBJ_NONE:
        strcpy(p->format, "xxxxxx?x"); /* a False at byte 6, read back as None */
        p->code = CODE_NONE;
        return 0;
    case MP_OBJ_BOOL:
        mp_obj_get_bool(v, &b);
        strcpy(p->format, "xxxxxxx?");
        p->fixed[7] = (unsigned char)(b != 0);
        return 0;
    case MP_OBJ_INT:
        mp_obj_get_int(v, &i);
        strcpy(p->format, "q");
        memcpy(p->fixed, &i, sizeof i);
        return 0;
    case MP_OBJ_FLOAT:
        mp_obj_get_float(v, &d);
        strcpy(p->format, "d");
        memcpy(p->fixed, &d, sizeof d);
        return 0;
    case MP_OBJ_STR:
        p->text = (const unsigned char *)mp_obj_str_data(v, &p->len);
        p->code = CODE_STR;
        break;
    case MP_OBJ_BYTES:
        p->text = mp_obj_bytes_data(v, &p->len);
        p->code = CODE_BYTES;
        break;
    default:
        return mp_set_error(MP_EINVAL, "a ShareableList holds no %s",
                            mp_obj_type_name(v));
    }
    if (p->len > 0 && p->text[p->len - 1] == 0)
        return mp_set_error(MP_EINVAL,
                            "a %s ending in NUL: Python's ShareableList "
                            "would read it without (cpython gh-96779)",
                            mp_obj_type_name(v));
    return 0;
}

/* The slot Python gives a str or bytes of len bytes at creation. */
static uint64_t text_slot(size_t len)
{
    return SLOT * ((uint64_t)len / SLOT + 1);
}

/* Writes p as item i, whose slot is slot bytes, with format (p's own, or
 * for text "<count>s"). */
static void store(mp_shareable_list *l, size_t i, const packed *p, const char *format)
{
    unsigned char *f = l->base + l->formats + FORMAT_SIZE * i;
    memset(f, 0, FORMAT_SIZE);
    memcpy(f, format, strlen(format));
    l->base[l->codes + i] = (unsigned char)p->code;
    unsigned char *dst = l->base + l->data + l->offsets[i];
    if (!p->text) {
        memcpy(dst, p->fixed, SLOT);
        return;
    }
    unsigned long count = strtoul(format, NULL, 10);
    memcpy(dst, p->text, p->len);
    memset(dst + p->len, 0, count - p->len);
}

/* ---- the layout ------------------------------------------------------------ */

/* Reads and checks the header of an attached block: count, offsets (of
 * either layout), where each part starts. */
static int read_layout(mp_shareable_list *l)
{
    const unsigned char *b = l->base;
    if (l->size < 8)
        return mp_set_error(MP_EPROTO, "block too small for a ShareableList");
    uint64_t n = load_u64(b);
    if (n > (l->size - 8) / (8 + FORMAT_SIZE + 1))
        return mp_set_error(MP_EPROTO, "ShareableList of %llu items in %zu bytes",
                            (unsigned long long)n, l->size);
    l->n = (size_t)n;
    l->offsets = calloc(l->n + 1, sizeof *l->offsets);
    if (!l->offsets) return mp_set_error(MP_ENOMEM, "out of memory for a ShareableList");
    if (n == 0) { /* Python 3.8 made an empty list of the count alone */
        l->data = l->formats = l->codes = 8;
        return 0;
    }
    /* Python 3.9 and later store offsets, the first 0; 3.8 stored sizes,
     * none of which is 0. */
    int sizes = n > 0 && load_u64(b + 8) != 0;
    size_t heads = sizes ? l->n + 1 : l->n + 2;
    if (!sizes && l->size < 8 * heads)
        return mp_set_error(MP_EPROTO, "ShareableList header past the block");
    uint64_t at = 0, limit = l->size;
    for (size_t i = 0; i < l->n; i++) {
        uint64_t next = sizes ? at + load_u64(b + 8 + 8 * i) : load_u64(b + 8 * (i + 2));
        if (next < at || next > limit)
            return mp_set_error(MP_EPROTO, "ShareableList item %zu past the block", i);
        l->offsets[i + 1] = next;
        at = next;
    }
    l->data = 8 * heads;
    uint64_t end = l->data + at + (FORMAT_SIZE + 1) * (uint64_t)l->n;
    if (end > l->size || end < at)
        return mp_set_error(MP_EPROTO, "ShareableList of %zu bytes needs %llu", l->size,
                            (unsigned long long)end);
    l->formats = l->data + (size_t)at;
    l->codes = l->formats + FORMAT_SIZE * l->n;
    return 0;
}

static void release(mp_shareable_list *l)
{
    if (!l) return;
    mp_shared_memory_free(l->shm);
    free(l->offsets);
    free(l);
}

static void bind(mp_shareable_list *l)
{
    l->base = mp_shared_memory_buf(l->shm);
    l->size = mp_shared_memory_size(l->shm);
}

int mp_shareable_list_new(mp_shareable_list **out, const char *name, const mp_obj *items)
{
    mp_clear_error();
    if (!out) return mp_set_error(MP_EINVAL, "NULL ShareableList pointer");
    *out = NULL;
    mp_obj_type t = mp_obj_type_of(items);
    if (!items || (t != MP_OBJ_LIST && t != MP_OBJ_TUPLE))
        return mp_set_error(MP_EINVAL, "a ShareableList is made from a list or tuple");
    size_t n = mp_obj_len(items);
    packed *p = calloc(n ? n : 1, sizeof *p);
    mp_shareable_list *l = calloc(1, sizeof *l);
    uint64_t *offsets = calloc(n + 1, sizeof *offsets);
    int rc = p && l && offsets ? 0 : mp_set_error(MP_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = pack(mp_obj_item(items, i), &p[i]);
        offsets[i + 1] = offsets[i] + (p[i].text ? text_slot(p[i].len) : SLOT);
    }
    if (rc == 0) {
        l->offsets = offsets;
        offsets = NULL;
        l->n = n;
        l->data = 8 * (n + 2);
        l->formats = l->data + (size_t)l->offsets[n];
        l->codes = l->formats + FORMAT_SIZE * n;
        rc = mp_shared_memory_create(&l->shm, name, l->codes + n);
    }
    if (rc == 0) {
        bind(l);
        memcpy(l->base, &(uint64_t){n}, 8);
        for (size_t i = 0; i <= n; i++)
            memcpy(l->base + 8 * (i + 1), &l->offsets[i], 8);
        for (size_t i = 0; i < n; i++) {
            char format[FORMAT_SIZE + 1];
            if (p[i].text)
                snprintf(format, sizeof format, "%llus",
                         (unsigned long long)(l->offsets[i + 1] - l->offsets[i]));
            else
                strcpy(format, p[i].format);
            store(l, i, &p[i], format);
        }
        *out = l;
        l = NULL;
    }
    free(p);
    free(offsets);
    release(l);
    return rc;
}

int mp_shareable_list_attach(mp_shareable_list **out, const char *name)
{
    mp_clear_error();
    if (!out) return mp_set_error(MP_EINVAL, "NULL ShareableList pointer");
    *out = NULL;
    mp_shareable_list *l = calloc(1, sizeof *l);
    if (!l) return mp_set_error(MP_ENOMEM, "out of memory for a ShareableList");
    int rc = mp_shared_memory_attach(&l->shm, name);
    if (rc == 0) {
        bind(l);
        rc = read_layout(l);
    }
    if (rc < 0) {
        release(l);
        return rc;
    }
    *out = l;
    return 0;
}

size_t mp_shareable_list_len(const mp_shareable_list *l)
{
    return l ? l->n : 0;
}

mp_shared_memory *mp_shareable_list_shm(mp_shareable_list *l)
{
    return l ? l->shm : NULL;
}

void mp_shareable_list_free(mp_shareable_list *l)
{
    release(l);
}

/* ---- items ------------------------------------------------------------------ */

static int position(const mp_shareable_list *l, int64_t i, size_t *at)
{
    if (!l) return mp_set_error(MP_EINVAL, "NULL ShareableList");
    if (!l->base) return mp_set_error(MP_ESTATE, "ShareableList is closed");
    int64_t n = (int64_t)l->n;
    if (i < 0) i += n;
    if (i < 0 || i >= n) return mp_set_error(MP_ERANGE, "index out of range");
    *at = (size_t)i;
    return 0;
}

/* Item i's format, NULs stripped, into out (9 bytes). */
static void format_of(const mp_shareable_list *l, size_t i, char *out)
{
    memcpy(out, l->base + l->formats + FORMAT_SIZE * i, FORMAT_SIZE);
    out[FORMAT_SIZE] = '\0';
}

/* "<count>s": the count, or -1 for another format. */
static long text_count(const char *format)
{
    size_t digits = strspn(format, "0123456789");
    if (digits == 0 || format[digits] != 's' || format[digits + 1] != '\0') return -1;
    return strtol(format, NULL, 10);
}

static int decode(const mp_shareable_list *l, size_t i, mp_obj **out)
{
    char format[FORMAT_SIZE + 1];
    format_of(l, i, format);
    int code = (signed char)l->base[l->codes + i];
    const unsigned char *src = l->base + l->data + l->offsets[i];
    uint64_t room = l->formats - (l->data + l->offsets[i]);
    long count = text_count(format);
    mp_obj *o = NULL;
    if (code < CODE_PLAIN || code > CODE_NONE)
        return mp_set_error(MP_EPROTO, "item %zu: type code %d", i, code);
    if (count >= 0) {
        if ((uint64_t)count > room)
            return mp_set_error(MP_EPROTO, "item %zu: %ld bytes past the data", i, count);
        size_t len = (size_t)count;
        /* Python's back transform for str and bytes strips the padding. */
        if (code == CODE_STR || code == CODE_BYTES)
            while (len > 0 && src[len - 1] == 0)
                len--;
        if (code == CODE_STR) {
            o = mp_obj_strn((const char *)src, len);
            if (!o)
                return mp_set_error(MP_EPROTO,
                                    "item %zu: not UTF-8 (a str Python "
                                    "truncated? cpython gh-106939)",
                                    i);
        } else {
            o = code == CODE_NONE ? mp_obj_none() : mp_obj_bytes(src, len);
        }
    } else if (room < SLOT) {
        return mp_set_error(MP_EPROTO, "item %zu: slot past the data", i);
    } else if (code == CODE_NONE) {
        o = mp_obj_none();
    } else if (strcmp(format, "q") == 0 && code == CODE_PLAIN) {
        o = mp_obj_int((int64_t)load_u64(src));
    } else if (strcmp(format, "d") == 0 && code == CODE_PLAIN) {
        double d;
        memcpy(&d, src, sizeof d);
        o = mp_obj_float(d);
    } else if (strcmp(format, "xxxxxxx?") == 0 && code == CODE_PLAIN) {
        o = mp_obj_bool(src[7] != 0);
    } else {
        return mp_set_error(MP_EPROTO, "item %zu: format '%s' with code %d", i, format,
                            code);
    }
    if (!o) return mp_set_error(MP_ENOMEM, "out of memory for an item");
    *out = o;
    return 0;
}

int mp_shareable_list_get(mp_shareable_list *l, int64_t i, mp_obj **out)
{
    mp_clear_error();
    if (!out) return mp_set_error(MP_EINVAL, "NULL result pointer");
    *out = NULL;
    size_t at = 0;
    int rc = position(l, i, &at);
    return rc < 0 ? rc : decode(l, at, out);
}

int mp_shareable_list_set(mp_shareable_list *l, int64_t i, const mp_obj *value)
{
    mp_clear_error();
    if (!value) return mp_set_error(MP_EINVAL, "NULL value");
    size_t at = 0;
    int rc = position(l, i, &at);
    packed p;
    if (rc == 0) rc = pack(value, &p);
    if (rc < 0) return rc;
    uint64_t slot = l->offsets[at + 1] - l->offsets[at];
    if (!p.text) {
        if (slot < SLOT)
            return mp_set_error(MP_EPROTO, "item %zu: slot of %llu bytes", at,
                                (unsigned long long)slot);
        store(l, at, &p, p.format);
        return 0;
    }
    if (p.len > slot)
        return mp_set_error(MP_ETOOBIG,
                            "bytes/str item exceeds available storage "
                            "(%zu bytes, slot of %llu)",
                            p.len, (unsigned long long)slot);
    /* Python keeps a text item's format; a count too small for the value
     * (which Python would silently cut) gives way to the whole slot. */
    char format[FORMAT_SIZE + 1];
    format_of(l, at, format);
    long count = text_count(format);
    if (count < 0 || (size_t)count < p.len || (uint64_t)count > slot)
        snprintf(format, sizeof format, "%llus", (unsigned long long)slot);
    store(l, at, &p, format);
    return 0;
}

static int find(mp_shareable_list *l, const mp_obj *value, size_t *first, size_t *count)
{
    mp_clear_error();
    if (!l || !value) return mp_set_error(MP_EINVAL, "NULL argument");
    *count = 0;
    *first = SIZE_MAX;
    for (size_t i = 0; i < l->n; i++) {
        mp_obj *item = NULL;
        int rc = mp_shareable_list_get(l, (int64_t)i, &item);
        if (rc < 0) return rc;
        if (mp_obj_equal(item, value)) {
            if (*count == 0) *first = i;
            (*count)++;
        }
        mp_obj_free(item);
    }
    return 0;
}

int mp_shareable_list_index(mp_shareable_list *l, const mp_obj *value, size_t *pos)
{
    size_t first, count;
    if (!pos) return mp_set_error(MP_EINVAL, "NULL position pointer");
    int rc = find(l, value, &first, &count);
    if (rc < 0) return rc;
    if (count == 0) return mp_set_error(MP_ENOTFOUND, "value not in this container");
    *pos = first;
    return 0;
}

int mp_shareable_list_count(mp_shareable_list *l, const mp_obj *value, size_t *n)
{
    size_t first;
    if (!n) return mp_set_error(MP_EINVAL, "NULL count pointer");
    return find(l, value, &first, n);
}

int mp_shareable_list_to_obj(mp_shareable_list *l, mp_obj **list)
{
    mp_clear_error();
    if (!l || !list) return mp_set_error(MP_EINVAL, "NULL argument");
    *list = mp_obj_list(0);
    int rc = *list ? 0 : mp_set_error(MP_ENOMEM, "out of memory for a list");
    for (size_t i = 0; i < l->n && rc == 0; i++) {
        mp_obj *item = NULL;
        rc = mp_shareable_list_get(l, (int64_t)i, &item);
        if (rc == 0) rc = mp_obj_append(*list, item);
    }
    if (rc < 0) {
        mp_obj_free(*list);
        *list = NULL;
    }
    return rc;
}
