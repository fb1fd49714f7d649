/* object.h - what every public synchronization object is made of: a small
 * shared segment holding its state, and one wait queue to sleep in.
 *
 * Lock (lock.c), RLock (rlock.c), Semaphore (semaphore.c), Event
 * (event.c), Condition (condition.c) and Barrier (barrier.c) each keep their state at
 * mp_syncobj.state and sleep through the one waiter (waiter.h) on that wait queue. This
 * file creates the pair, sends it to a child (its argument kind's export) and rebuilds it
 * there (import), checking that the child got the kind it expects.
 *
 * In the segment: a header (magic, layout version, kind, state size), then
 * the state at a 64-byte offset, zero to start. */
#ifndef MP_CORE_SYNC_OBJECT_H
#define MP_CORE_SYNC_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/runtime/export.h"
#include "platform.h"

#define MP_SYNC_MAGIC   0x434e5953u /* "SYNC" */
#define MP_SYNC_VERSION 1u

/* The kinds, as written in the header and in the export. */
enum {
    MP_SYNC_LOCK = 1,
    MP_SYNC_RLOCK,
    MP_SYNC_SEMAPHORE,
    MP_SYNC_EVENT,
    MP_SYNC_CONDITION,
    MP_SYNC_BARRIER
};

typedef struct mp_syncobj {
    mp_os_shm shm;
    void *state; /* in this process's mapping */
} mp_syncobj;

/* Creates a zeroed segment with room for state_size bytes of state, and
 * the wait queue wq. what names the object in messages ("Lock"). */
int mp_syncobj_create(mp_syncobj *o, mp_os_wq *wq, uint32_t kind, size_t state_size,
                      const char *what);

/* Releases this process's mapping and the wait queue's handles. */
void mp_syncobj_close(mp_syncobj *o, mp_os_wq *wq);

/* Writes the segment and wait queue for a child (runtime/export.h). */
int mp_syncobj_export(const mp_syncobj *o, const mp_os_wq *wq, uint32_t kind,
                      mp_export *ex);

/* Rebuilds them in the child; MP_EPROTO, with every handle it took
 * closed, when the export is not one of this kind and size. */
int mp_syncobj_import(mp_syncobj *o, mp_os_wq *wq, uint32_t kind, size_t state_size,
                      mp_import *im, const char *what);

/* A second wait queue, for an object with two kinds of waiter (a
 * Barrier: its short internal lock, and the end of a generation): each
 * waitpoint needs a queue of its own where wake-ups are tokens (Windows,
 * the portable flavour), or one would take the other's. */
int mp_syncobj_export_wq(const mp_os_wq *wq, mp_export *ex);
int mp_syncobj_import_wq(mp_os_wq *wq, mp_import *im, const char *what);

#endif
