/* waiter.c - the one waiter (see waiter.h).
 *
 * Why slices and a pid check rather than a robust mutex: only Linux and
 * FreeBSD have robust mutexes, Windows and macOS need the pid scheme
 * anyway, so one implementation serves every OS and is tested everywhere.
 * The price is that a dead owner is noticed only when a sleep slice ends,
 * which is rare and short; a live owner's release wakes a sleeper at once
 * through the wait queue. */
#include "base/error.h"
#include "core/sync/waiter.h"

#ifdef MPROC_TEST_HOOKS
void (*mp__lock_waiter_hook)(void);
uint64_t mp__lock_first_slice_ns = MP_WAIT_FIRST_SLICE_NS;
mp_atomic_u32 mp__lock_slices_out;
#endif

/* Sets the mark if someone waits and no wake-up is on its way: 1 if the
 * caller must now move the sequence on and wake one. */
static int mark_wakeup(mp_waitpoint *wp)
{
    uint32_t w = mp_load32(&wp->waiters, MP_SEQ_CST);
    do {
        if ((w & ~MP_WAIT_WOKEN) == 0 || (w & MP_WAIT_WOKEN)) return 0;
    } while (!mp_cas32(&wp->waiters, &w, w | MP_WAIT_WOKEN, MP_SEQ_CST));
    return 1;
}

/* A waiter done sleeping (woken or not) clears the mark before its next
 * look at the word: the next release may then wake another. */
static void clear_wakeup(mp_waitpoint *wp)
{
    uint32_t w = mp_load32(&wp->waiters, MP_RELAXED);
    while ((w & MP_WAIT_WOKEN) &&
           !mp_cas32(&wp->waiters, &w, w & ~MP_WAIT_WOKEN, MP_SEQ_CST)) {
    }
}

static int stop_reason(const mp_wait_ops *ops, void *ctx)
{
    return ops->stop ? ops->stop(ctx) : 0;
}

/* One sleep of at most until: registered, a last look, the sleep. */
static int sleep_once(mp_waitpoint *wp, mp_os_wq *wq, const mp_wait_ops *ops, void *ctx,
                      uint64_t until)
{
    uint32_t seen = mp_load32(&wp->seq, MP_SEQ_CST);
    mp_add32(&wp->waiters, 1, MP_SEQ_CST);
    MP_TEST_HOOK(if (mp__lock_waiter_hook) mp__lock_waiter_hook());
    int rc = 0;
    if (!ops->is_free(ctx) && stop_reason(ops, ctx) == 0)
        rc = mp_os_wq_wait(wq, &wp->seq, seen, until);
    MP_TEST_HOOK(if (rc == MP_ETIMEDOUT) mp_add32(&mp__lock_slices_out, 1, MP_RELAXED));
    mp_sub32(&wp->waiters, 1, MP_RELAXED);
    clear_wakeup(wp);
    return rc;
}

int mp_wait_for(mp_waitpoint *wp, mp_os_wq *wq, const mp_wait_ops *ops, void *ctx,
                uint64_t deadline_ns, uint64_t first_slice_ns, uint64_t max_slice_ns)
{
    MP_TEST_HOOK(if (first_slice_ns != MP_WAIT_NO_SLICE) first_slice_ns =
                     mp__lock_first_slice_ns);
    uint64_t slice = first_slice_ns;
    for (;;) {
        int rc = stop_reason(ops, ctx);
        if (rc != 0) return rc;
        uint64_t now = mp_os_now_ns();
        int late = deadline_ns != MP_NO_DEADLINE && now >= deadline_ns;
        rc = MP_ETIMEDOUT;
        if (!late) {
            /* now < deadline_ns here; the form cannot overflow */
            uint64_t until = slice >= deadline_ns - now ? deadline_ns : now + slice;
            rc = sleep_once(wp, wq, ops, ctx, until);
        }
        uint32_t owner = 0;
        if (ops->try_take(ctx, &owner)) return 0;
        int why = stop_reason(ops, ctx);
        if (why != 0) return why;
        if (rc == MP_ETIMEDOUT) {
            /* Only a slice that ran out looks for a dead owner: a wake-up
             * means the owner released, hence was alive. */
            if (owner != 0 && ops->take_over && !mp_os_pid_alive(owner) &&
                ops->take_over(ctx, owner))
                return MP_EOWNERDEAD;
            if (late) return MP_ETIMEDOUT;
            slice = slice < max_slice_ns / 2 ? slice * 2 : max_slice_ns;
        } else if (rc < 0) {
            return rc;
        }
    }
}

/* One wake-up in flight at a time (the mark): a woken waiter may take a
 * while to run when processes outnumber CPUs, and each release meanwhile
 * would make a system call for nobody (docs/queue.md has the counts). A
 * waiter killed in flight leaves the mark set until another waiter's
 * slice runs out (it clears the mark too). */
void mp_wait_wake_one(mp_waitpoint *wp, mp_os_wq *wq)
{
    if (!mark_wakeup(wp)) return;
    mp_add32(&wp->seq, 1, MP_SEQ_CST);
    mp_os_wq_wake(wq, &wp->seq, 1);
}

void mp_wait_wake_all(mp_waitpoint *wp, mp_os_wq *wq)
{
    uint32_t n = mp_wait_count(wp, MP_SEQ_CST);
    if (n == 0) return;
    mp_add32(&wp->seq, 1, MP_SEQ_CST);
    mp_os_wq_wake(wq, &wp->seq, n);
}
