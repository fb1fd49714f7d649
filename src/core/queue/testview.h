/* testview.h - views into a queue's shared state, for tests that
 * must wait until a peer is in the middle of a message, and the feeder's
 * hooks: only in the instrumented build (base/testhook.h). */
#ifndef MP_CORE_QUEUE_TESTVIEW_H
#define MP_CORE_QUEUE_TESTVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "base/testhook.h"
#include "mproc/queue.h"

#ifdef MPROC_TEST_HOOKS

/* Bytes published and not yet consumed. */
uint64_t mp__queue_ring_used(mp_queue *q);

/* Ring capacity in bytes. */
uint64_t mp__queue_capacity(mp_queue *q);

/* Bytes of the message a consumer is reading that it has not consumed. */
uint64_t mp__queue_cons_left(mp_queue *q);

/* Takes the producers' lock as a test's stand-in producer, without any
 * repair: 0, or MP_EOWNERDEAD if its holder had died. */
int mp__queue_prod_grab(mp_queue *q);

/* Releases it, publishing nothing. */
void mp__queue_prod_drop(mp_queue *q);

/* 1 while the producers' lock holder waits for consumers (parked). */
int mp__queue_prod_parked(mp_queue *q);

/* How many threads wait for the producers' lock. */
uint32_t mp__queue_prod_waiters(mp_queue *q);

/* Rounds this process's consumers have waited to keep behind streaming
 * producers (keep_behind in get.c), and whether they ever do (not
 * under ThreadSanitizer, where the caches it rests on are off). */
uint32_t mp__queue_lag_rounds(void);
int mp__queue_lag_enabled(void);

/* Called by this process's feeder after each record it writes, with the
 * producer lock held (written: records of the batch so far). NULL: none.
 * Lets a test kill a feeder between two records of one batch. */
extern void (*mp__queue_feeder_hook)(size_t written);

/* Called by this process's feeder just before each publish of a batch,
 * its slot already written (unpublished: records of the batch not yet
 * published). NULL: none. Lets a test kill a feeder between the two. */
extern void (*mp__queue_publish_hook)(uint32_t unpublished);

#endif /* MPROC_TEST_HOOKS */

#endif
