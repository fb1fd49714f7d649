/* joinable.h - a JoinableQueue's count of unfinished tasks (joinable.c):
 * put counts a task before the message goes in, task_done takes one
 * away, join waits for the count to come down to 0. */
#ifndef MP_CORE_QUEUE_JOINABLE_H
#define MP_CORE_QUEUE_JOINABLE_H

#include "core/queue/layout.h"

/* A put begins: one more task. */
void q_task_added(mp_queue *q);

/* The put failed: the task it counted is no task. */
void q_task_undo(mp_queue *q);

#endif
