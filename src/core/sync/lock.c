/* lock.c - Lock (mproc/synchronize.h): a pid lock (pidlock.h) in a
 * segment of its own (object.h), released by anyone, as Python's is.
 *
 * Beside the pid word the holder writes its identity (pid and thread
 * number, as an RLock's owner, rlock.c), which only a Condition reads:
 * wait and notify need the lock held by the calling thread, and a pid
 * alone cannot tell the threads of one process apart. */
#include <stdlib.h>

#include "base/deadline.h"
#include "base/error.h"
#include "core/runtime/kind.h"
#include "core/sync/object.h"
#include "core/sync/locks.h"
#include "core/sync/pidlock.h"
#include "mproc/synchronize.h"

typedef struct lock_state {
    mp_pidlock_shared word;
    mp_atomic_u64 holder; /* pid << 32 | thread number of the holder, or 0 */
} lock_state;

struct mp_lock {
    mp_syncobj o;
    mp_pidlock lk; /* lk.s is &state->word */
    lock_state *st;
};

static void attach_state(mp_lock *l)
{
    l->st = l->o.state;
    l->lk.s = &l->st->word;
}

static int null_lock(void)
{
    return mp_set_error(MP_EINVAL, "NULL lock");
}

int mp_lock_new(mp_lock **lock)
{
    mp_clear_error();
    if (!lock) return null_lock();
    *lock = NULL;
    mp_lock *l = calloc(1, sizeof *l);
    if (!l) return mp_set_error(MP_ENOMEM, "out of memory for a Lock");
    int rc =
        mp_syncobj_create(&l->o, &l->lk.wq, MP_SYNC_LOCK, sizeof(lock_state), "Lock");
    if (rc < 0) {
        free(l);
        return rc;
    }
    attach_state(l);
    *lock = l;
    return 0;
}

void mp_lock_free(mp_lock *lock)
{
    if (!lock) return;
    mp_syncobj_close(&lock->o, &lock->lk.wq);
    free(lock);
}

/* Out of line: the caller found the lock held (or was given NaN). */
static int lock_acquire_slow(mp_lock *lock, double timeout)
{
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    rc = mp__pidlock_acquire_slow(&lock->lk, mp_deadline(timeout));
    if (rc == 0 || rc == MP_EOWNERDEAD)
        mp_store64(&lock->st->holder, mp_thread_id(), MP_RELAXED);
    if (rc == MP_EOWNERDEAD)
        mp_set_error(rc, "a process died holding the Lock; it is yours now");
    return rc;
}

int mp_lock_acquire(mp_lock *lock, double timeout)
{
    mp_clear_error();
    if (!lock) return null_lock();
    uint32_t cur = 0;
    /* timeout == timeout: NaN goes the slow way, to be refused there. */
    if (timeout == timeout &&
        mp_cas32(&lock->st->word.owner, &cur, mp_os_self(), MP_ACQUIRE)) {
        mp_store64(&lock->st->holder, mp_thread_id(), MP_RELAXED);
        return 0;
    }
    return lock_acquire_slow(lock, timeout);
}

int mp_lock_release(mp_lock *lock)
{
    mp_clear_error();
    if (!lock) return null_lock();
    return mp__lock_release(lock);
}

int mp__lock_release(mp_lock *lock)
{
    mp_pidlock_shared *s = &lock->st->word;
    /* Cleared first: once the word is free a new holder may write its own. */
    mp_store64(&lock->st->holder, 0, MP_RELAXED);
    if (mp_xchg32(&s->owner, 0, MP_SEQ_CST) == 0)
        return mp_set_error(MP_ESTATE, "Lock released too many times");
    if (mp_load32(&s->wp.waiters, MP_SEQ_CST) != 0) mp__pidlock_wake(&lock->lk);
    return 0;
}

int mp__lock_is_mine(mp_lock *lock)
{
    return mp_load64(&lock->st->holder, MP_RELAXED) == mp_thread_id() &&
           mp_load32(&lock->st->word.owner, MP_RELAXED) == mp_os_self();
}

int mp_lock_locked(mp_lock *lock)
{
    if (!lock) return null_lock();
    return mp_pidlock_owner(&lock->lk) != 0;
}

/* ---- as a process argument ------------------------------------------------ */

static int lock_export(const mp_arg *a, mp_export *ex)
{
    mp_lock *l = a->u.object;
    return mp_syncobj_export(&l->o, &l->lk.wq, MP_SYNC_LOCK, ex);
}

static int lock_import(mp_arg *a, mp_import *im)
{
    mp_lock *l = calloc(1, sizeof *l);
    if (!l) return mp_set_error(MP_ENOMEM, "out of memory for a Lock");
    int rc =
        mp_syncobj_import(&l->o, &l->lk.wq, MP_SYNC_LOCK, sizeof(lock_state), im, "Lock");
    if (rc < 0) {
        free(l);
        return rc;
    }
    attach_state(l);
    a->u.object = l;
    return 0;
}

static void lock_release_arg(mp_arg *a)
{
    mp_lock_free(a->u.object);
}

const mp_kind mp__kind_lock = {"Lock",      mp__kind_copy_ref, NULL,
                               lock_export, lock_import,       lock_release_arg};
