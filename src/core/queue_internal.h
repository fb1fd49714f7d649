/* queue_internal.h - views into a queue's shared state, for tests that
 * must wait until a peer is in the middle of a message. */
#ifndef MP_CORE_QUEUE_INTERNAL_H
#define MP_CORE_QUEUE_INTERNAL_H

#include <stdint.h>

#include "lock.h"
#include "mproc/queue.h"

/* Bytes published and not yet consumed. */
uint64_t mp__queue_ring_used(mp_queue *q);

/* Ring capacity in bytes. */
uint64_t mp__queue_capacity(mp_queue *q);

/* Bytes of the message a consumer is reading that it has not consumed. */
uint64_t mp__queue_cons_left(mp_queue *q);

/* The producers' lock, to hold it from a test. */
mp_lock *mp__queue_prod_lock(mp_queue *q);

#endif
