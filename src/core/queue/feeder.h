/* feeder.h - this process's buffer of an unbounded queue's messages,
 * and the feeder thread that writes them into the ring. */
#ifndef MP_CORE_QUEUE_FEEDER_H
#define MP_CORE_QUEUE_FEEDER_H

#include "core/queue/layout.h"

/* Buffers a copy of the message for the feeder thread (started on first
 * need). MP_ENOMEM, MP_ESTATE if closed meanwhile. */
int q_buffer(mp_queue *q, const void *data, size_t len);

/* Drops what is still buffered (after cancel_join_thread, at free). */
void q_drop_buffered(mp_queue *q);

#endif
