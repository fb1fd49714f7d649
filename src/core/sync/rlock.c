/* rlock.c - RLock (mproc/synchronize.h): a pid lock (pidlock.h) that
 * knows which thread of the holding process owns it, and how deep.
 *
 * The pid word does the locking, the waiting and the dead-owner take-over.
 * Beside it, the owner writes its identity (pid and thread number in one
 * word) once it holds the lock and clears it before it lets go, so a
 * thread that reads its own identity there holds the lock: no other
 * thread of any process ever writes that value, and a thread always sees
 * its own last write. The depth is touched only by the owner. */
#include <stdlib.h>

#include "base/deadline.h"
#include "base/error.h"
#include "core/runtime/kind.h"
#include "core/sync/locks.h"
#include "core/sync/object.h"
#include "core/sync/pidlock.h"
#include "mproc/synchronize.h"

typedef struct rlock_state {
    mp_pidlock_shared word;
    mp_atomic_u64 owner; /* pid << 32 | thread number; 0 when free */
    mp_atomic_u32 depth;
    uint32_t unused;
} rlock_state;

struct mp_rlock {
    mp_syncobj o;
    mp_pidlock lk; /* lk.s is &state->word */
    rlock_state *st;
};

static int null_rlock(void)
{
    return mp_set_error(MP_EINVAL, "NULL rlock");
}

static void attach_state(mp_rlock *l)
{
    l->st = l->o.state;
    l->lk.s = &l->st->word;
}

int mp_rlock_new(mp_rlock **lock)
{
    mp_clear_error();
    if (!lock) return null_rlock();
    *lock = NULL;
    mp_rlock *l = calloc(1, sizeof *l);
    if (!l) return mp_set_error(MP_ENOMEM, "out of memory for an RLock");
    int rc =
        mp_syncobj_create(&l->o, &l->lk.wq, MP_SYNC_RLOCK, sizeof(rlock_state), "RLock");
    if (rc < 0) {
        free(l);
        return rc;
    }
    attach_state(l);
    *lock = l;
    return 0;
}

void mp_rlock_free(mp_rlock *lock)
{
    if (!lock) return;
    mp_syncobj_close(&lock->o, &lock->lk.wq);
    free(lock);
}

int mp_rlock_acquire(mp_rlock *lock, double timeout)
{
    mp_clear_error();
    if (!lock) return null_rlock();
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    rlock_state *st = lock->st;
    uint64_t me = mp_thread_id();
    if (mp_load64(&st->owner, MP_RELAXED) == me) {
        uint32_t d = mp_load32(&st->depth, MP_RELAXED);
        if (d == UINT32_MAX)
            return mp_set_error(MP_ERANGE, "RLock acquired 2^32-1 times by one thread");
        mp_store32(&st->depth, d + 1, MP_RELAXED);
        return 0;
    }
    uint32_t cur = 0;
    if (!mp_cas32(&st->word.owner, &cur, (uint32_t)(me >> 32), MP_ACQUIRE))
        rc = mp__pidlock_acquire_slow(&lock->lk, mp_deadline(timeout));
    if (rc < 0 && rc != MP_EOWNERDEAD) return rc;
    mp_store64(&st->owner, me, MP_RELAXED);
    mp_store32(&st->depth, 1, MP_RELAXED);
    if (rc == MP_EOWNERDEAD)
        mp_set_error(rc, "a process died holding the RLock; it is yours now");
    return rc;
}

int mp_rlock_release(mp_rlock *lock)
{
    mp_clear_error();
    if (!lock) return null_rlock();
    rlock_state *st = lock->st;
    if (mp_load64(&st->owner, MP_RELAXED) != mp_thread_id())
        return mp_set_error(MP_ESTATE, "cannot release un-acquired RLock");
    uint32_t d = mp_load32(&st->depth, MP_RELAXED) - 1;
    mp_store32(&st->depth, d, MP_RELAXED);
    if (d == 0) {
        mp_store64(&st->owner, 0, MP_RELAXED);
        mp_pidlock_release(&lock->lk);
    }
    return 0;
}

int mp__rlock_is_mine(mp_rlock *lock)
{
    return mp_load64(&lock->st->owner, MP_RELAXED) == mp_thread_id();
}

uint32_t mp__rlock_release_all(mp_rlock *lock)
{
    rlock_state *st = lock->st;
    uint32_t depth = mp_load32(&st->depth, MP_RELAXED);
    mp_store32(&st->depth, 0, MP_RELAXED);
    mp_store64(&st->owner, 0, MP_RELAXED);
    mp_pidlock_release(&lock->lk);
    return depth;
}

int mp__rlock_restore(mp_rlock *lock, uint32_t depth)
{
    rlock_state *st = lock->st;
    int rc = mp_pidlock_acquire(&lock->lk, MP_NO_DEADLINE);
    if (rc < 0 && rc != MP_EOWNERDEAD) return rc;
    mp_store64(&st->owner, mp_thread_id(), MP_RELAXED);
    mp_store32(&st->depth, depth, MP_RELAXED);
    return rc;
}

int64_t mp_rlock_count(mp_rlock *lock)
{
    if (!lock) return null_rlock();
    rlock_state *st = lock->st;
    if (mp_load64(&st->owner, MP_RELAXED) != mp_thread_id()) return 0;
    return mp_load32(&st->depth, MP_RELAXED);
}

/* ---- as a process argument ------------------------------------------------ */

static int rlock_export(const mp_arg *a, mp_export *ex)
{
    mp_rlock *l = a->u.object;
    return mp_syncobj_export(&l->o, &l->lk.wq, MP_SYNC_RLOCK, ex);
}

static int rlock_import(mp_arg *a, mp_import *im)
{
    mp_rlock *l = calloc(1, sizeof *l);
    if (!l) return mp_set_error(MP_ENOMEM, "out of memory for an RLock");
    int rc = mp_syncobj_import(&l->o, &l->lk.wq, MP_SYNC_RLOCK, sizeof(rlock_state), im,
                               "RLock");
    if (rc < 0) {
        free(l);
        return rc;
    }
    attach_state(l);
    a->u.object = l;
    return 0;
}

static void rlock_release_arg(mp_arg *a)
{
    mp_rlock_free(a->u.object);
}

const mp_kind mp__kind_rlock = {"RLock",      mp__kind_copy_ref, NULL,
                                rlock_export, rlock_import,      rlock_release_arg};
