/* wakeup.h - the scenario the lock and queue suites share: a lock waiter
 * must not sleep through the wake-up marked for it (lock.h,
 * MP_LOCK_WOKEN).
 *
 * A release wakes one waiter and no other until that one has looked at
 * the word again. The danger is a waiter that has registered but not yet
 * looked when the wake-up is marked: if the word is taken again before it
 * looks, it must still not sleep, or no release will wake it (the mark
 * says one is on its way). The test hook stops the waiter right there;
 * the first sleep slice is made 60 s long, so a waiter that slept through
 * shows in mp__lock_slices_out instead of being hidden by a short slice. */
#ifndef MPT_WAKEUP_H
#define MPT_WAKEUP_H

#include <stdint.h>

/* Runs the scenario on a lock that take(ctx) takes (0 on success) and
 * drop(ctx) releases; waiter(ctx) runs in a thread of its own and must
 * take and release the lock once. Returns how many sleeps ran out their
 * slice meanwhile: 0 for a lock that keeps its promise. */
uint32_t mpt_wakeup_scenario(int (*take)(void *), void (*drop)(void *),
                             void (*waiter)(void *), void *ctx);

#endif
