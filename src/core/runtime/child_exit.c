/* child_exit.c - exit work registered by a child's target (see
 * child_exit.h). It runs in run_child, before the arguments are released,
 * so a handler may still use them, and the same way under spawn and fork:
 * a spawned child's atexit() handlers run only after its arguments are
 * gone, and a forked child runs none (it must not run its parent's). */
#include <stddef.h>

#include "base/atomics.h"
#include "base/spinlock.h"
#include "base/error.h"
#include "core/runtime/child_exit.h"
#include "mproc/process.h"

typedef struct handler {
    void (*fn)(void *);
    void *arg;
} handler;

static handler handlers[MP_CHILD_ATEXIT_MAX];
static mp_atomic_u32 count; /* handlers registered */
static mp_atomic_u32 busy;  /* a registration or the run is going on */
static mp_atomic_u32 child; /* 1 while a target may register */

void mp__child_exit_begin(void)
{
    /* Only this thread runs yet: a forked child may have copied the lock
     * held by another thread of its parent, so it is reset, not taken. */
    mp_store32(&count, 0, MP_RELAXED);
    mp_store32(&child, 1, MP_RELAXED);
    mp_spin_unlock(&busy);
}

int mp_child_atexit(void (*fn)(void *), void *arg)
{
    mp_clear_error();
    if (!fn) return mp_set_error(MP_EINVAL, "NULL exit handler");
    int rc = 0;
    mp_spin_lock(&busy);
    uint32_t n = mp_load32(&count, MP_RELAXED);
    if (!mp_load32(&child, MP_RELAXED))
        rc = mp_set_error(MP_ESTATE, "not in a child's target (use atexit() here)");
    else if (n >= MP_CHILD_ATEXIT_MAX)
        rc = mp_set_error(MP_ETOOBIG, "more than %d exit handlers", MP_CHILD_ATEXIT_MAX);
    else {
        handlers[n].fn = fn;
        handlers[n].arg = arg;
        mp_store32(&count, n + 1, MP_RELAXED);
    }
    mp_spin_unlock(&busy);
    return rc;
}

void mp__child_exit_run(void)
{
    mp_spin_lock(&busy);
    mp_store32(&child, 0, MP_RELAXED);
    uint32_t n = mp_load32(&count, MP_RELAXED);
    mp_store32(&count, 0, MP_RELAXED);
    mp_spin_unlock(&busy);
    /* Outside the lock: a handler that registers another gets MP_ESTATE
     * instead of a deadlock. */
    while (n > 0) {
        n--;
        handlers[n].fn(handlers[n].arg);
    }
}
