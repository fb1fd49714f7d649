/* lock.c - the shared-memory lock with dead-holder detection (see lock.h).
 *
 * Why not a robust pthread mutex: only Linux and FreeBSD have one, and
 * Windows and macOS need the pid scheme anyway, so one implementation
 * serves every OS and is tested everywhere. The price is that a dead
 * holder is noticed only when a waiter's sleep slice ends (2 ms at first,
 * growing to 100 ms), which is rare and short; a live holder's release
 * wakes a sleeper at once through the wait queue. */
#include "base/compat.h"
#include "base/error.h"
#include "core/sync/lock.h"

#define SLICE_MAX_NS 100000000ull
#define LOCK_SPINS   100

#ifdef MPROC_TEST_HOOKS
void (*mp__lock_waiter_hook)(void);
uint64_t mp__lock_first_slice_ns = MP_LOCK_FIRST_SLICE_NS;
mp_atomic_u32 mp__lock_slices_out;
#endif

int mp_lock_create(mp_lock *l, mp_lock_shared *s)
{
    l->s = s;
    mp_store32(&s->owner, 0, MP_RELAXED);
    mp_store32(&s->waiters, 0, MP_RELAXED);
    mp_store32(&s->wseq, 0, MP_RELAXED);
    return mp_os_wq_create(&l->wq);
}

int mp_lock_handles(const mp_lock *l, mp_os_handle *out)
{
    return mp_os_wq_handles(&l->wq, out);
}

int mp_lock_adopt(mp_lock *l, mp_lock_shared *s, const mp_os_handle *h, int n)
{
    l->s = s;
    return mp_os_wq_adopt(&l->wq, h, n);
}

/* Takes the lock from a holder that no longer exists. */
static int take_over(mp_lock *l, uint32_t dead, uint32_t self)
{
    if (!mp_os_pid_alive(dead) && mp_cas32(&l->s->owner, &dead, self, MP_ACQUIRE))
        return 1;
    return 0;
}

int mp__lock_acquire_slow(mp_lock *l, uint64_t deadline_ns)
{
    mp_lock_shared *s = l->s;
    uint32_t self = mp_os_getpid();
    uint32_t cur = 0;
    if (mp_cas32(&s->owner, &cur, self, MP_ACQUIRE)) return 0;
    /* Holders of a Value's lock keep it for a few loads and stores, so a
     * short spin usually wins it without the two system calls of a sleep
     * and a wake-up (the queue's side locks do the same). */
    for (int spin = 0; spin < LOCK_SPINS; spin++) {
        mp_cpu_relax();
        cur = mp_load32(&s->owner, MP_RELAXED);
        if (cur == 0 && mp_cas32(&s->owner, &cur, self, MP_ACQUIRE)) return 0;
    }

    uint64_t slice = mp__lock_first_slice_ns;
    for (;;) {
        uint64_t now = mp_os_now_ns();
        if (deadline_ns != MP_NO_DEADLINE && now >= deadline_ns) {
            /* A caller that never waits (timeout 0) must still be able to
             * recover a lock whose holder died. */
            if (cur != 0 && take_over(l, cur, self)) return MP_EOWNERDEAD;
            return MP_ETIMEDOUT;
        }
        uint64_t until = now + slice;
        if (until > deadline_ns) until = deadline_ns;

        /* Register as a waiter before the last look at the word, so that a
         * release after that look sees us and wakes us. The wake-up count
         * is read before registering: a wake-up meant for any registered
         * waiter then never finds this one asleep (MP_LOCK_WOKEN). */
        uint32_t seen = mp_load32(&s->wseq, MP_SEQ_CST);
        mp_add32(&s->waiters, 1, MP_SEQ_CST);
        MP_TEST_HOOK(if (mp__lock_waiter_hook) mp__lock_waiter_hook());
        cur = mp_load32(&s->owner, MP_SEQ_CST);
        int rc = 0;
        if (cur != 0) rc = mp_os_wq_wait(&l->wq, &s->wseq, seen, until);
        MP_TEST_HOOK(if (rc == MP_ETIMEDOUT)
                         mp_add32(&mp__lock_slices_out, 1, MP_RELAXED));
        mp_sub32(&s->waiters, 1, MP_RELAXED);
        mp__lock_clear_wakeup(&s->waiters);

        cur = 0;
        if (mp_cas32(&s->owner, &cur, self, MP_SEQ_CST)) return 0;
        if (rc == MP_ETIMEDOUT) {
            if (take_over(l, cur, self)) return MP_EOWNERDEAD;
            if (slice < SLICE_MAX_NS) slice *= 2;
        } else if (rc < 0) {
            return rc;
        }
    }
}

/* One wake-up in flight at a time (lock.h, MP_LOCK_WOKEN): until the
 * woken waiter has run and tried the word, further releases would each
 * make a system call for nobody. A waiter killed in flight leaves the
 * mark set until another waiter's sleep slice runs out (it clears the
 * mark too). */
void mp__lock_wake_one(mp_atomic_u32 *waiters, mp_atomic_u32 *seq, mp_os_wq *wq)
{
    if (!mp__lock_mark_wakeup(waiters)) return;
    mp_add32(seq, 1, MP_SEQ_CST);
    mp_os_wq_wake(wq, seq, 1);
}

void mp__lock_wake(mp_lock *l)
{
    mp__lock_wake_one(&l->s->waiters, &l->s->wseq, &l->wq);
}

uint32_t mp_lock_owner(const mp_lock *l)
{
    return mp_load32(&l->s->owner, MP_ACQUIRE);
}

int mp_lock_owner_dead(const mp_lock *l)
{
    uint32_t owner = mp_lock_owner(l);
    return owner != 0 && !mp_os_pid_alive(owner);
}

void mp_lock_close(mp_lock *l)
{
    mp_os_wq_close(&l->wq);
}

MP_THREAD_LOCAL char mp__thread_anchor;
