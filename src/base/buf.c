/* buf.c - byte buffer writer and bounds-checked reader (see buf.h). */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "mproc/error.h"

void mp_buf_init(mp_buf *b)
{
    memset(b, 0, sizeof *b);
}

void mp_buf_free(mp_buf *b)
{
    free(b->data);
    mp_buf_init(b);
}

void mp_buf_put(mp_buf *b, const void *p, size_t n)
{
    if (b->failed || n == 0) return;
    if (n > SIZE_MAX / 2 - b->len) {
        b->failed = MP_ENOMEM;
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (!d) {
            b->failed = MP_ENOMEM;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void mp_buf_u8(mp_buf *b, uint8_t v)
{
    mp_buf_put(b, &v, 1);
}

void mp_buf_u32(mp_buf *b, uint32_t v)
{
    unsigned char x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    mp_buf_put(b, x, 4);
}

void mp_buf_u64(mp_buf *b, uint64_t v)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    mp_buf_put(b, x, 8);
}

void mp_buf_blob(mp_buf *b, const void *p, size_t n)
{
    mp_buf_u64(b, n);
    mp_buf_put(b, p, n);
}

void mp_rd_init(mp_rd *r, const void *p, size_t n)
{
    r->p = p;
    r->left = n;
    r->failed = 0;
}

const void *mp_rd_take(mp_rd *r, size_t n)
{
    if (r->failed || n > r->left) {
        r->failed = MP_EPROTO;
        return NULL;
    }
    const void *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

uint8_t mp_rd_u8(mp_rd *r)
{
    const unsigned char *x = mp_rd_take(r, 1);
    return x ? x[0] : 0;
}

uint32_t mp_rd_u32(mp_rd *r)
{
    const unsigned char *x = mp_rd_take(r, 4);
    uint32_t v = 0;
    if (x)
        for (int i = 3; i >= 0; i--)
            v = (v << 8) | x[i];
    return v;
}

uint64_t mp_rd_u64(mp_rd *r)
{
    const unsigned char *x = mp_rd_take(r, 8);
    uint64_t v = 0;
    if (x)
        for (int i = 7; i >= 0; i--)
            v = (v << 8) | x[i];
    return v;
}

const void *mp_rd_blob(mp_rd *r, size_t *n)
{
    uint64_t len = mp_rd_u64(r);
    if (r->failed || len > r->left) {
        r->failed = MP_EPROTO;
        *n = 0;
        return NULL;
    }
    *n = (size_t)len;
    return mp_rd_take(r, (size_t)len);
}
