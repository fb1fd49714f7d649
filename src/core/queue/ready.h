/* ready.h - what wait() (conn/wait.c) asks of a queue (ready.c). */
#ifndef MP_CORE_QUEUE_READY_H
#define MP_CORE_QUEUE_READY_H

#include "mproc/queue.h"

/* 1 if a message is in the ring to take, 0 if not; MP_ESTATE for a
 * closed handle. Takes nothing, and no lock. */
int mp__queue_ready(mp_queue *q);

#endif
