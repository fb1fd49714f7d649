/* buf.h - a growable byte buffer to write to and a bounds-checked reader.
 *
 * Integers are written little-endian at fixed widths. Both sides latch the
 * first failure (out of memory, reading past the end) so that a sequence
 * of calls is checked once at the end. */
#ifndef MP_BASE_BUF_H
#define MP_BASE_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct mp_buf {
    unsigned char *data;
    size_t len, cap;
    int failed; /* MP_ENOMEM once a write failed */
} mp_buf;

void mp_buf_init(mp_buf *b);
void mp_buf_free(mp_buf *b);
void mp_buf_put(mp_buf *b, const void *p, size_t n);
void mp_buf_u8(mp_buf *b, uint8_t v);
void mp_buf_u32(mp_buf *b, uint32_t v);
void mp_buf_u64(mp_buf *b, uint64_t v);
/* A length-prefixed byte string (u64 length). */
void mp_buf_blob(mp_buf *b, const void *p, size_t n);

typedef struct mp_rd {
    const unsigned char *p;
    size_t left;
    int failed; /* MP_EPROTO once a read ran past the end */
} mp_rd;

void mp_rd_init(mp_rd *r, const void *p, size_t n);
uint8_t mp_rd_u8(mp_rd *r);
uint32_t mp_rd_u32(mp_rd *r);
uint64_t mp_rd_u64(mp_rd *r);
/* Points *p at the next n bytes (no copy); NULL past the end. */
const void *mp_rd_take(mp_rd *r, size_t n);
/* A length-prefixed byte string written by mp_buf_blob; *n gets its length. */
const void *mp_rd_blob(mp_rd *r, size_t *n);

#endif
