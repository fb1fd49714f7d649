/* condition.c - Condition (mproc/synchronize.h) over a Lock or an RLock.
 *
 * Every waiter has a slot in the condition's segment: its pid, a ticket
 * (the order of arrival) and a state (free, waiting, notified). A waiter
 * takes a slot and lets go of the lock, then sleeps through the one
 * waiter (waiter.h) until its slot says notified or its deadline passes,
 * then takes the lock again and gives the slot back. notify(n) marks the
 * n oldest waiting slots notified and wakes the sleepers, and returns: it
 * never waits for the woken to answer (Python's does, and hangs when one
 * of them was killed: cpython gh-123899). A slot whose process is gone is
 * freed, not counted, so a killed waiter never takes a live one's
 * notification.
 *
 * The slots change only under the condition's lock (wait and notify
 * require it; a waiter gives its slot back only after taking the lock
 * again), so they need no lock of their own. Every field a dead holder
 * can leave half-written is one word, and a slot becomes waiting last. */
#include <stdlib.h>

#include "base/deadline.h"
#include "base/error.h"
#include "core/runtime/kind.h"
#include "core/sync/locks.h"
#include "core/sync/object.h"
#include "core/sync/waiter.h"
#include "mproc/synchronize.h"

#define SLICE_MAX_NS 100000000ull

enum { SLOT_FREE = 0, SLOT_WAITING = 1, SLOT_NOTIFIED = 2 };

typedef struct cond_slot {
    mp_atomic_u32 state;
    mp_atomic_u32 pid;
    uint32_t ticket;
    uint32_t unused;
} cond_slot;

typedef struct cond_state {
    mp_waitpoint wp;
    uint32_t next_ticket;
    uint32_t used; /* slots [0, used) may be in use */
    cond_slot slot[MP_CONDITION_MAX_WAITERS];
} cond_state;

struct mp_condition {
    mp_syncobj o;
    mp_os_wq wq;
    cond_state *st;
    mp_lock *lock; /* exactly one of lock and rlock */
    mp_rlock *rlock;
    int owns_lock; /* the lock is this handle's to free */
};

static int null_cond(void)
{
    return mp_set_error(MP_EINVAL, "NULL condition");
}

static int cond_new(mp_condition **cond, mp_lock *lock, mp_rlock *rlock, int owns)
{
    mp_condition *c = calloc(1, sizeof *c);
    int rc = MP_ENOMEM;
    if (!c) {
        mp_set_error(rc, "out of memory for a Condition");
        goto fail;
    }
    rc = mp_syncobj_create(&c->o, &c->wq, MP_SYNC_CONDITION, sizeof(cond_state),
                           "Condition");
    if (rc < 0) goto fail;
    c->st = c->o.state;
    c->lock = lock;
    c->rlock = rlock;
    c->owns_lock = owns;
    *cond = c;
    return 0;
fail:
    if (owns) mp_rlock_free(rlock);
    free(c);
    return rc;
}

int mp_condition_new(mp_condition **cond)
{
    mp_clear_error();
    if (!cond) return null_cond();
    *cond = NULL;
    mp_rlock *r;
    int rc = mp_rlock_new(&r);
    return rc < 0 ? rc : cond_new(cond, NULL, r, 1);
}

int mp_condition_new_lock(mp_condition **cond, mp_lock *lock)
{
    mp_clear_error();
    if (!cond) return null_cond();
    *cond = NULL;
    if (!lock) return mp_set_error(MP_EINVAL, "NULL lock");
    return cond_new(cond, lock, NULL, 0);
}

int mp_condition_new_rlock(mp_condition **cond, mp_rlock *lock)
{
    mp_clear_error();
    if (!cond) return null_cond();
    *cond = NULL;
    if (!lock) return mp_set_error(MP_EINVAL, "NULL rlock");
    return cond_new(cond, NULL, lock, 0);
}

void mp_condition_free(mp_condition *cond)
{
    if (!cond) return;
    mp_syncobj_close(&cond->o, &cond->wq);
    if (cond->owns_lock) {
        mp_lock_free(cond->lock);
        mp_rlock_free(cond->rlock);
    }
    free(cond);
}

int mp_condition_acquire(mp_condition *cond, double timeout)
{
    if (!cond) {
        mp_clear_error();
        return null_cond();
    }
    return cond->lock ? mp_lock_acquire(cond->lock, timeout)
                      : mp_rlock_acquire(cond->rlock, timeout);
}

int mp_condition_release(mp_condition *cond)
{
    if (!cond) {
        mp_clear_error();
        return null_cond();
    }
    return cond->lock ? mp_lock_release(cond->lock) : mp_rlock_release(cond->rlock);
}

mp_lock *mp_condition_lock(mp_condition *cond)
{
    return cond ? cond->lock : NULL;
}

mp_rlock *mp_condition_rlock(mp_condition *cond)
{
    return cond ? cond->rlock : NULL;
}

static int is_mine(mp_condition *c)
{
    return c->lock ? mp__lock_is_mine(c->lock) : mp__rlock_is_mine(c->rlock);
}

static int not_mine(const char *call)
{
    return mp_set_error(MP_ESTATE, "cannot %s an un-acquired Condition's lock", call);
}

/* ---- waiting ------------------------------------------------------------- */

/* A free slot, or one whose waiter died; NULL when all are taken. */
static cond_slot *take_slot(cond_state *st)
{
    for (uint32_t i = 0; i < st->used; i++)
        if (mp_load32(&st->slot[i].state, MP_RELAXED) == SLOT_FREE) return &st->slot[i];
    if (st->used < MP_CONDITION_MAX_WAITERS) return &st->slot[st->used++];
    for (uint32_t i = 0; i < st->used; i++)
        if (!mp_os_pid_alive(mp_load32(&st->slot[i].pid, MP_RELAXED)))
            return &st->slot[i];
    return NULL;
}

static void give_slot(cond_state *st, cond_slot *s)
{
    mp_store32(&s->state, SLOT_FREE, MP_RELAXED);
    while (st->used > 0 &&
           mp_load32(&st->slot[st->used - 1].state, MP_RELAXED) == SLOT_FREE)
        st->used--;
}

static int slot_notified(void *ctx)
{
    cond_slot *s = ctx;
    return mp_load32(&s->state, MP_SEQ_CST) == SLOT_NOTIFIED;
}

static int slot_try(void *ctx, uint32_t *owner)
{
    *owner = 0;
    return slot_notified(ctx);
}

static const mp_wait_ops slot_ops = {slot_try, slot_notified, NULL, NULL};

/* Lets go of the lock wholly; *depth says how much to take back. */
static void let_go(mp_condition *c, uint32_t *depth)
{
    if (c->lock) {
        *depth = 1;
        mp__lock_release(c->lock);
    } else {
        *depth = mp__rlock_release_all(c->rlock);
    }
}

static int take_back(mp_condition *c, uint32_t depth)
{
    if (c->rlock) return mp__rlock_restore(c->rlock, depth);
    int rc;
    do
        rc = mp_lock_acquire(c->lock, MP_FOREVER);
    while (rc < 0 && rc != MP_EOWNERDEAD);
    return rc;
}

/* wait's work, the lock held and the timeout checked. */
static int wait_locked(mp_condition *c, uint64_t deadline)
{
    cond_state *st = c->st;
    cond_slot *s = take_slot(st);
    if (!s)
        return mp_set_error(MP_ERANGE, "more than %d waiters on one Condition",
                            MP_CONDITION_MAX_WAITERS);
    s->ticket = st->next_ticket++;
    mp_store32(&s->pid, mp_os_self(), MP_RELAXED);
    mp_store32(&s->state, SLOT_WAITING, MP_SEQ_CST);
    uint32_t depth;
    let_go(c, &depth);
    /* Nobody is taken over, so slices are needed only where a wake-up is
     * a token (a kernel semaphore, a pipe): a sleeper that was not
     * notified can wake, sleep again and take a second token, the notified
     * one's; the slice bounds how long that one then sleeps on. Elsewhere
     * a sleep without a slice arms no timer. */
    uint64_t slice = mp_os_wq_by_address() ? MP_WAIT_NO_SLICE : MP_WAIT_FIRST_SLICE_NS;
    int rc = mp_wait_for(&st->wp, &c->wq, &slot_ops, s, deadline, slice,
                         mp_os_wq_by_address() ? MP_WAIT_NO_SLICE : SLICE_MAX_NS);
    int back = take_back(c, depth);
    /* Notified is what the slot says, under the lock: a notify that came
     * after the deadline but before the lock counts (Python's alike). */
    int notified = mp_load32(&s->state, MP_SEQ_CST) == SLOT_NOTIFIED;
    give_slot(st, s);
    if (back == MP_EOWNERDEAD)
        return mp_set_error(back, "a process died holding the Condition's lock; it is "
                                  "yours again now");
    if (back < 0) return back;
    if (notified) return 0;
    return rc < 0 && rc != MP_ETIMEDOUT ? rc : MP_ETIMEDOUT;
}

int mp_condition_wait(mp_condition *cond, double timeout)
{
    mp_clear_error();
    if (!cond) return null_cond();
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    if (!is_mine(cond)) return not_mine("wait on");
    return wait_locked(cond, mp_deadline(timeout));
}

int mp_condition_wait_for(mp_condition *cond, int (*predicate)(void *arg), void *arg,
                          double timeout)
{
    mp_clear_error();
    if (!cond) return null_cond();
    if (!predicate) return mp_set_error(MP_EINVAL, "NULL predicate");
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    if (!is_mine(cond)) return not_mine("wait on");
    uint64_t deadline = mp_deadline(timeout);
    int result = predicate(arg);
    while (!result) {
        if (deadline != MP_NO_DEADLINE && mp_os_now_ns() >= deadline) break;
        rc = wait_locked(cond, deadline);
        if (rc < 0 && rc != MP_ETIMEDOUT) return rc;
        result = predicate(arg);
    }
    mp_clear_error();
    return result;
}

/* ---- notifying ------------------------------------------------------------ */

/* The oldest waiting slot (by ticket, which wraps), or NULL. */
static cond_slot *oldest_waiting(cond_state *st)
{
    cond_slot *best = NULL;
    for (uint32_t i = 0; i < st->used; i++) {
        cond_slot *s = &st->slot[i];
        if (mp_load32(&s->state, MP_RELAXED) != SLOT_WAITING) continue;
        if (!best || (int32_t)(s->ticket - best->ticket) < 0) best = s;
    }
    return best;
}

static uint32_t count_waiting(cond_state *st)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < st->used; i++)
        n += mp_load32(&st->slot[i].state, MP_RELAXED) == SLOT_WAITING;
    return n;
}

static int notify_locked(mp_condition *c, uint64_t n)
{
    cond_state *st = c->st;
    uint32_t self = mp_os_self();
    uint64_t woken = 0;
    /* When every waiter is to be woken, a dead one takes nothing from a
     * live one: the OS need not be asked (a few system calls a waiter). */
    int ask_os = count_waiting(st) > n;
    cond_slot *s;
    while (woken < n && (s = oldest_waiting(st)) != NULL) {
        uint32_t pid = mp_load32(&s->pid, MP_RELAXED);
        if (ask_os && pid != self && !mp_os_pid_alive(pid)) {
            give_slot(st, s); /* a killed waiter: not counted */
            continue;
        }
        mp_store32(&s->state, SLOT_NOTIFIED, MP_SEQ_CST);
        woken++;
    }
    /* Every sleeper looks at its own slot; the ones not marked sleep again. */
    if (woken) mp_wait_wake_all(&st->wp, &c->wq);
    return 0;
}

int mp_condition_notify(mp_condition *cond, int64_t n)
{
    mp_clear_error();
    if (!cond) return null_cond();
    if (n < 0) return mp_set_error(MP_EINVAL, "notify(n) with n < 0");
    if (!is_mine(cond)) return not_mine("notify on");
    return notify_locked(cond, (uint64_t)n);
}

int mp_condition_notify_all(mp_condition *cond)
{
    mp_clear_error();
    if (!cond) return null_cond();
    if (!is_mine(cond)) return not_mine("notify on");
    return notify_locked(cond, UINT64_MAX);
}

/* ---- as a process argument ------------------------------------------------ */

/* The lock travels first, by its own kind; then the condition's segment.
 * The kinds are named here, not looked up in the table, which names this
 * file's kind (no circle of calls, docs/design.md). */
extern const mp_kind mp__kind_lock, mp__kind_rlock;

static const mp_kind *lock_kind(mp_arg_type t)
{
    return t == MP_ARG_LOCK ? &mp__kind_lock : &mp__kind_rlock;
}

static int cond_export(const mp_arg *a, mp_export *ex)
{
    mp_condition *c = a->u.object;
    mp_arg la = c->lock ? mp_arg_lock(c->lock) : mp_arg_rlock(c->rlock);
    mp_buf_u32(ex->buf, (uint32_t)la.type);
    int rc = lock_kind(la.type)->export_arg(&la, ex);
    return rc < 0 ? rc : mp_syncobj_export(&c->o, &c->wq, MP_SYNC_CONDITION, ex);
}

static int cond_import(mp_arg *a, mp_import *im)
{
    mp_condition *c = calloc(1, sizeof *c);
    mp_arg la = {MP_ARG_NONE, {0}};
    int rc = MP_ENOMEM;
    if (!c) {
        mp_set_error(rc, "out of memory for a Condition");
        goto fail;
    }
    la.type = (mp_arg_type)mp_rd_u32(im->rd);
    if (im->rd->failed || (la.type != MP_ARG_LOCK && la.type != MP_ARG_RLOCK)) {
        la.type = MP_ARG_NONE;
        rc = mp_set_error(MP_EPROTO, "Condition from the parent: bad lock kind");
        goto fail;
    }
    rc = lock_kind(la.type)->import_arg(&la, im);
    if (rc < 0) {
        la.type = MP_ARG_NONE;
        goto fail;
    }
    rc = mp_syncobj_import(&c->o, &c->wq, MP_SYNC_CONDITION, sizeof(cond_state), im,
                           "Condition");
    if (rc < 0) goto fail;
    c->st = c->o.state;
    if (la.type == MP_ARG_LOCK)
        c->lock = la.u.object;
    else
        c->rlock = la.u.object;
    c->owns_lock = 1;
    a->u.object = c;
    return 0;
fail:
    if (la.type != MP_ARG_NONE) lock_kind(la.type)->release(&la);
    free(c);
    return rc;
}

static void cond_release_arg(mp_arg *a)
{
    mp_condition_free(a->u.object);
}

const mp_kind mp__kind_condition = {"Condition", mp__kind_copy_ref, NULL,
                                    cond_export, cond_import,       cond_release_arg};
