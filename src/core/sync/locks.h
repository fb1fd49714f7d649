/* locks.h - what a Condition (condition.c) needs of the public Lock and
 * RLock beyond their public calls: whether the calling thread holds one,
 * and letting go of it wholly while it waits. */
#ifndef MP_CORE_SYNC_LOCKS_H
#define MP_CORE_SYNC_LOCKS_H

#include <stdint.h>

#include "mproc/synchronize.h"

/* 1 if the calling thread took the lock and holds it still. */
int mp__lock_is_mine(mp_lock *lock);

/* mp_lock_release without touching the thread's message on success. */
int mp__lock_release(mp_lock *lock);

/* 1 if the calling thread owns the RLock. */
int mp__rlock_is_mine(mp_rlock *lock);

/* Releases every level the calling thread (its owner) holds; returns how
 * many, for mp__rlock_restore. */
uint32_t mp__rlock_release_all(mp_rlock *lock);

/* Takes the RLock again, waiting without limit, at depth levels: 0, or
 * MP_EOWNERDEAD when taken over from a dead owner. */
int mp__rlock_restore(mp_rlock *lock, uint32_t depth);

#endif
