/* stream.h - records larger than the ring, both sides, and writing any
 * record that must wait for room; the reader's buffer and its end of the
 * abort mark, which every get asks about. The repairs a lock's next
 * holder makes (recover.c) are built on the q_stream_* steps below. */
#ifndef MP_CORE_QUEUE_STREAM_H
#define MP_CORE_QUEUE_STREAM_H

#include "core/queue/buffered.h"

/* Producer lock held with count *c: writes one record of any size,
 * waiting for room (until the deadline, which a stream once begun
 * ignores). Advances *c and the tail slot when the record is written; the
 * caller publishes *c (q_unlock). A message from a buffer (buffered_slot
 * >= -1, see q_count_buffered; Q_NOT_BUFFERED otherwise) leaves the
 * buffered count just before it counts as published. */
int q_write_record(mp_queue *q, uint32_t *c, const void *data, uint64_t len,
                   uint64_t deadline, int buffered_slot);

/* Consumer lock held with count k, the record at head larger than the
 * ring (or being streamed): reads it as it arrives, into user (cap bytes)
 * or a new buffer at *data. Publishes k + 1 and releases the lock. */
int q_read_stream(mp_queue *q, uint32_t k, uint64_t head, void *user, size_t cap,
                  void **data, size_t *len);

/* Consumer lock held with count k, a message of n bytes at the head: where
 * to read it, the caller's buffer (user, of cap bytes) or a new one. NULL
 * after releasing the lock, with *rc MP_ETOOSHORT (*len = n) or
 * MP_ENOMEM. */
unsigned char *q__reader_buffer(mp_queue *q, uint32_t k, uint64_t n, void *user,
                                size_t cap, size_t *len, int *rc);
static inline unsigned char *q_reader_buffer(mp_queue *q, uint32_t k, uint64_t n,
                                             void *user, size_t cap, size_t *len, int *rc)
{
    if (user && n <= cap) return user;
    return q__reader_buffer(q, k, n, user, cap, len, rc);
}

/* 1 if the record ending at end was padded after its writer died; clears
 * the mark (the reader drops the record). Every get asks; the answer is
 * almost always no, from one load. */
int q__take_abort_mark(mp_queue *q, uint64_t end);
static inline int q_take_abort_mark(mp_queue *q, uint64_t end)
{
    if (mp_load64(&q->s->aborted_end, MP_ACQUIRE) != end) return 0;
    return q__take_abort_mark(q, end);
}

/* The steps of a stream, for recover.c. */

/* Producer lock held: streams n bytes (zeros if src is NULL) from *live
 * on, publishing as room appears. MP_ECLOSED once q->stop is set. */
int q_stream_out(mp_queue *q, uint64_t *live, const unsigned char *src, uint64_t n);

/* Producer lock held with count *c: makes the streamed record ending at
 * end count as published (advancing *c) and closes the stream. */
void q_stream_close(mp_queue *q, uint32_t *c, uint64_t end, int buffered_slot);

/* Consumer lock held: reads the streamed record ending at end from *pos
 * up to upto, into dst (NULL: discard), as the producer publishes it.
 * MP_EOWNERDEAD if the producer vanished with it unfinished. */
int q_stream_consume(mp_queue *q, unsigned char *dst, uint64_t *pos, uint64_t upto,
                     uint64_t end);

/* Consumer lock held with count *k: the record ending at end is read (or
 * written off): counts it taken (advancing *k). */
void q_stream_taken(mp_queue *q, uint32_t *k, uint64_t end);

#endif
