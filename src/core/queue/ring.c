/* ring.c - copies into and out of the ring that wrap at its end; the
 * record format and the inline copies are in ring.h. Calls nothing else
 * of the queue. */
#include <string.h>

#include "core/queue/ring.h"

void q_ring_write(mp_queue *q, uint64_t pos, const void *src, uint64_t n)
{
    uint64_t off = pos & q->mask;
    uint64_t first = n < q->cap - off ? n : q->cap - off;
    if (src) {
        memcpy(q->ring + off, src, (size_t)first);
        memcpy(q->ring, (const unsigned char *)src + first, (size_t)(n - first));
    } else {
        memset(q->ring + off, 0, (size_t)first);
        memset(q->ring, 0, (size_t)(n - first));
    }
}

void q_ring_read(mp_queue *q, uint64_t pos, void *dst, uint64_t n)
{
    uint64_t off = pos & q->mask;
    uint64_t first = n < q->cap - off ? n : q->cap - off;
    memcpy(dst, q->ring + off, (size_t)first);
    memcpy((unsigned char *)dst + first, q->ring, (size_t)(n - first));
}
