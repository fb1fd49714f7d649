/* semaphore.c - Semaphore and BoundedSemaphore (mproc/synchronize.h): a
 * count in shared memory, taken by compare-and-swap, waited for through
 * the one waiter (waiter.h).
 *
 * A semaphore has no owner, so the waiter never takes anything over; its
 * slices still matter: a waiter woken by a release that dies before it
 * takes the unit leaves the one-wake-up-in-flight mark set, and the next
 * waiter whose slice runs out clears it. A release wakes one waiter; a
 * waiter that takes a unit and sees more left wakes the next, so several
 * releases in a row reach as many waiters though only one wake-up is in
 * flight at a time. */
#include <stdlib.h>

#include "base/deadline.h"
#include "base/error.h"
#include "core/runtime/kind.h"
#include "core/sync/object.h"
#include "core/sync/waiter.h"
#include "mproc/synchronize.h"

#define SLICE_MAX_NS 100000000ull

typedef struct sem_state {
    mp_atomic_u32 value;
    mp_waitpoint wp;
    uint32_t max; /* a bounded semaphore's initial value, else MP_SEMAPHORE_MAX */
} sem_state;

struct mp_semaphore {
    mp_syncobj o;
    mp_os_wq wq;
    sem_state *st;
};

static int null_sem(void)
{
    return mp_set_error(MP_EINVAL, "NULL semaphore");
}

static int sem_new(mp_semaphore **sem, int64_t value, int bounded)
{
    mp_clear_error();
    if (!sem) return null_sem();
    *sem = NULL;
    if (value < 0 || value > MP_SEMAPHORE_MAX)
        return mp_set_error(MP_ERANGE, "semaphore value %lld is not in 0..%d",
                            (long long)value, MP_SEMAPHORE_MAX);
    mp_semaphore *s = calloc(1, sizeof *s);
    if (!s) return mp_set_error(MP_ENOMEM, "out of memory for a Semaphore");
    int rc = mp_syncobj_create(&s->o, &s->wq, MP_SYNC_SEMAPHORE, sizeof(sem_state),
                               "Semaphore");
    if (rc < 0) {
        free(s);
        return rc;
    }
    s->st = s->o.state;
    s->st->max = bounded ? (uint32_t)value : MP_SEMAPHORE_MAX;
    mp_store32(&s->st->value, (uint32_t)value, MP_SEQ_CST);
    *sem = s;
    return 0;
}

int mp_semaphore_new(mp_semaphore **sem, int64_t value)
{
    return sem_new(sem, value, 0);
}

int mp_bounded_semaphore_new(mp_semaphore **sem, int64_t value)
{
    return sem_new(sem, value, 1);
}

void mp_semaphore_free(mp_semaphore *sem)
{
    if (!sem) return;
    mp_syncobj_close(&sem->o, &sem->wq);
    free(sem);
}

/* Takes a unit if there is one: 1 if taken. */
static int take_unit(sem_state *st)
{
    uint32_t v = mp_load32(&st->value, MP_RELAXED);
    while (v > 0)
        if (mp_cas32(&st->value, &v, v - 1, MP_ACQUIRE)) return 1;
    return 0;
}

static int sem_try_take(void *ctx, uint32_t *owner)
{
    *owner = 0;
    return take_unit(ctx);
}

static int sem_is_free(void *ctx)
{
    sem_state *st = ctx;
    return mp_load32(&st->value, MP_SEQ_CST) > 0;
}

static const mp_wait_ops sem_ops = {sem_try_take, sem_is_free, NULL, NULL};

static int acquire_slow(mp_semaphore *sem, double timeout)
{
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    sem_state *st = sem->st;
    rc = mp_wait_for(&st->wp, &sem->wq, &sem_ops, st, mp_deadline(timeout),
                     MP_WAIT_FIRST_SLICE_NS, SLICE_MAX_NS);
    if (rc == 0 && mp_load32(&st->value, MP_SEQ_CST) > 0 &&
        mp_wait_count(&st->wp, MP_SEQ_CST) != 0)
        mp_wait_wake_one(&st->wp, &sem->wq);
    return rc;
}

int mp_semaphore_acquire(mp_semaphore *sem, double timeout)
{
    mp_clear_error();
    if (!sem) return null_sem();
    if (timeout == timeout && take_unit(sem->st)) return 0;
    return acquire_slow(sem, timeout);
}

int mp_semaphore_release(mp_semaphore *sem)
{
    mp_clear_error();
    if (!sem) return null_sem();
    sem_state *st = sem->st;
    uint32_t v = mp_load32(&st->value, MP_RELAXED);
    do {
        if (v >= st->max) {
            if (st->max == MP_SEMAPHORE_MAX)
                return mp_set_error(MP_ERANGE, "semaphore value would pass %d",
                                    MP_SEMAPHORE_MAX);
            return mp_set_error(MP_ESTATE, "BoundedSemaphore released too many times");
        }
    } while (!mp_cas32(&st->value, &v, v + 1, MP_SEQ_CST));
    if (mp_load32(&st->wp.waiters, MP_SEQ_CST) != 0) mp_wait_wake_one(&st->wp, &sem->wq);
    return 0;
}

int64_t mp_semaphore_get_value(mp_semaphore *sem)
{
    if (!sem) return null_sem();
    return mp_load32(&sem->st->value, MP_SEQ_CST);
}

/* ---- as a process argument ------------------------------------------------ */

static int sem_export(const mp_arg *a, mp_export *ex)
{
    mp_semaphore *s = a->u.object;
    return mp_syncobj_export(&s->o, &s->wq, MP_SYNC_SEMAPHORE, ex);
}

static int sem_import(mp_arg *a, mp_import *im)
{
    mp_semaphore *s = calloc(1, sizeof *s);
    if (!s) return mp_set_error(MP_ENOMEM, "out of memory for a Semaphore");
    int rc = mp_syncobj_import(&s->o, &s->wq, MP_SYNC_SEMAPHORE, sizeof(sem_state), im,
                               "Semaphore");
    if (rc < 0) {
        free(s);
        return rc;
    }
    s->st = s->o.state;
    a->u.object = s;
    return 0;
}

static void sem_release_arg(mp_arg *a)
{
    mp_semaphore_free(a->u.object);
}

const mp_kind mp__kind_semaphore = {"Semaphore", mp__kind_copy_ref, NULL,
                                    sem_export,  sem_import,        sem_release_arg};
