/* ring.h - the ring's bytes, and the record format: the one place that
 * writes a record (its 8-byte length, then the payload padded to 8),
 * whole or, for a stream, header first (stream.c streams the rest), and
 * reads a header back. The copies the usual put and get make inline are
 * here; ring.c has those that wrap. Calls nothing else of the queue. */
#ifndef MP_CORE_QUEUE_RING_H
#define MP_CORE_QUEUE_RING_H

#include <string.h>

#include "core/queue/layout.h"

/* Copies n bytes at ring position pos, wrapping at the end of the ring
 * (src NULL: zeros). */
void q_ring_write(mp_queue *q, uint64_t pos, const void *src, uint64_t n);
void q_ring_read(mp_queue *q, uint64_t pos, void *dst, uint64_t n);

/* Copies n bytes, w <= n <= 2w, as two w-byte pieces that overlap in the
 * middle (w a constant, so each piece is a register move or two). */
static inline void q_copy_two(unsigned char *d, const unsigned char *s, uint64_t n,
                              size_t w)
{
    unsigned char a[32], b[32];
    memcpy(a, s, w);
    memcpy(b, s + n - w, w);
    memcpy(d, a, w);
    memcpy(d + n - w, b, w);
}

/* Copies n bytes between a message and the ring. Most messages are a
 * few bytes, where a call to memcpy costs more than the copy: up to 64
 * bytes move inline, in overlapping pieces that never touch a byte
 * outside either range. */
static inline void q_copy(void *dst, const void *src, uint64_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (n > 64)
        memcpy(d, s, (size_t)n);
    else if (n > 32)
        q_copy_two(d, s, n, 32);
    else if (n >= 16)
        q_copy_two(d, s, n, 16);
    else if (n >= 8)
        q_copy_two(d, s, n, 8);
    else if (n >= 4)
        q_copy_two(d, s, n, 4);
    else if (n) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    }
}

/* The length in the record header at pos. Headers are 8-aligned and the
 * ring is a power of two of at least 4 KiB, so a header never wraps. */
static inline uint64_t q_read_len(mp_queue *q, uint64_t pos)
{
    uint64_t v;
    memcpy(&v, q->ring + (pos & q->mask), sizeof v);
    return v;
}

/* Writes a record's header, len, at pos. */
static inline void q_record_header(mp_queue *q, uint64_t pos, uint64_t len)
{
    q_ring_write(q, pos, &len, Q_REC_HDR);
}

/* Writes a record of len bytes (header and payload) at tail, wrapping or
 * not. */
static inline void q_record_write(mp_queue *q, uint64_t tail, const void *data,
                                  uint64_t len)
{
    q_record_header(q, tail, len);
    q_ring_write(q, tail + Q_REC_HDR, data, len);
}

/* Writes a record as q_record_write does, where the caller has checked
 * that it does not wrap: the usual put's, with the copy inline. */
static inline void q_record_write_flat(mp_queue *q, uint64_t tail, const void *data,
                                       uint64_t len)
{
    unsigned char *at = q->ring + (tail & q->mask);
    memcpy(at, &len, Q_REC_HDR);
    q_copy(at + Q_REC_HDR, data, len); /* data may be NULL if len is 0 */
}

#endif
