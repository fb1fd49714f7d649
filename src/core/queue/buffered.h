/* buffered.h - the per-process counts of buffered messages in the
 * segment (put, not yet written by the process's feeder), so that qsize
 * counts them and forgets a dead process's. buffered.c calls nothing else
 * of the queue; feeder.c keeps the messages themselves. */
#ifndef MP_CORE_QUEUE_BUFFERED_H
#define MP_CORE_QUEUE_BUFFERED_H

#include "core/queue/layout.h"

/* The buffered_slot of a message that was never buffered (see
 * q_write_record); a buffered one has q_my_slot's answer, -1 or more. */
#define Q_NOT_BUFFERED (-2)

/* This process's entry, found or claimed (q->mu held). -1: table full. */
int q_my_slot(mp_queue *q);

/* Adds delta to the buffered count of this process's entry (slot -1: the
 * shared count of processes without one). */
void q_count_buffered(mp_queue *q, int slot, int64_t delta);

/* Messages buffered by live processes. */
uint64_t q_buffered_total(mp_queue *q);

#endif
