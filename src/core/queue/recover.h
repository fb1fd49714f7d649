/* recover.h - the repairs that the next holder of a side's lock makes
 * after a peer died (or a feeder was cancelled) in the middle of a
 * streamed record (docs/queue.md, "Peers that die"). */
#ifndef MP_CORE_QUEUE_RECOVER_H
#define MP_CORE_QUEUE_RECOVER_H

#include "core/queue/layout.h"

/* Producer lock held with count *c: finishes a stream left open by a dead
 * or cancelled producer (restartable if cut short). */
int q_finish_abandoned(mp_queue *q, uint32_t *c, uint64_t deadline);

/* Consumer lock just taken with count *k: skips what a dead consumer left
 * half-read. 1 if a message was dropped (count advanced). */
int q_skip_dead_consumers_record(mp_queue *q, uint32_t *k);

#endif
