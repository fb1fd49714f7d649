/* reclock.c - the first level of the recursive built-in lock (reclock.h). */
#include "base/error.h"
#include "core/sync/reclock.h"

int mp__reclock_first(mp_reclock *r, uint64_t deadline_ns)
{
    int rc = mp_pidlock_acquire(&r->lk, deadline_ns);
    if (rc == MP_ETIMEDOUT) return mp_set_error(rc, "the lock is held elsewhere");
    if (rc < 0 && rc != MP_EOWNERDEAD) return rc;
    mp_store64(&r->owner, (uint64_t)mp_thread_self(), MP_RELAXED);
    r->depth = 1;
    if (rc == MP_EOWNERDEAD)
        mp_set_error(rc, "a process died holding the lock; the data may be half-updated");
    return rc;
}
