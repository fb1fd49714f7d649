/* pidlock.c - the pid lock (see pidlock.h): a spin, then the one waiter. */
#include "base/compat.h"
#include "base/error.h"
#include "core/sync/pidlock.h"

#define SLICE_MAX_NS   100000000ull
#define SPIN_BUDGET    400 /* pauses, docs/synchronize.md */
#define SPIN_DELAY_MAX 64

int mp_pidlock_create(mp_pidlock *l, mp_pidlock_shared *s)
{
    l->s = s;
    mp_store32(&s->owner, 0, MP_RELAXED);
    mp_store32(&s->wp.waiters, 0, MP_RELAXED);
    mp_store32(&s->wp.seq, 0, MP_RELAXED);
    return mp_os_wq_create(&l->wq);
}

int mp_pidlock_handles(const mp_pidlock *l, mp_os_handle *out)
{
    return mp_os_wq_handles(&l->wq, out);
}

int mp_pidlock_adopt(mp_pidlock *l, mp_pidlock_shared *s, const mp_os_handle *h, int n)
{
    l->s = s;
    return mp_os_wq_adopt(&l->wq, h, n);
}

/* What the waiter asks of this lock: the word is the holder's pid. */
typedef struct lock_wait {
    mp_atomic_u32 *owner;
    uint32_t self;
} lock_wait;

static int lock_try_take(void *ctx, uint32_t *owner)
{
    lock_wait *w = ctx;
    uint32_t cur = 0;
    if (mp_cas32(w->owner, &cur, w->self, MP_SEQ_CST)) return 1;
    *owner = cur;
    return 0;
}

static int lock_is_free(void *ctx)
{
    lock_wait *w = ctx;
    return mp_load32(w->owner, MP_SEQ_CST) == 0;
}

static int lock_take_over(void *ctx, uint32_t dead)
{
    lock_wait *w = ctx;
    return mp_cas32(w->owner, &dead, w->self, MP_ACQUIRE);
}

static const mp_wait_ops lock_ops = {lock_try_take, lock_is_free, lock_take_over, NULL};

int mp__pidlock_acquire_slow(mp_pidlock *l, uint64_t deadline_ns)
{
    lock_wait w = {&l->s->owner, mp_os_getpid()};
    uint32_t cur = 0;
    if (mp_cas32(w.owner, &cur, w.self, MP_ACQUIRE)) return 0;
    /* Holders of a Value's lock keep it for a few loads and stores, so a
     * short spin usually wins it without the two system calls of a sleep
     * and a wake-up (the queue's side locks do the same). The looks grow
     * further apart: each one pulls the lock's line away from a holder
     * that is taking and releasing it in a loop, and a look after every
     * pause would hand the lock over on nearly every release, each
     * handover a cache miss on both sides. */
    for (int spent = 0, delay = 1; spent < SPIN_BUDGET; spent += delay) {
        for (int i = 0; i < delay; i++)
            mp_cpu_relax();
        if (delay < SPIN_DELAY_MAX) delay *= 2;
        cur = mp_load32(w.owner, MP_RELAXED);
        if (cur == 0 && mp_cas32(w.owner, &cur, w.self, MP_ACQUIRE)) return 0;
    }
    return mp_wait_for(&l->s->wp, &l->wq, &lock_ops, &w, deadline_ns,
                       MP_WAIT_FIRST_SLICE_NS, SLICE_MAX_NS);
}

void mp__pidlock_wake(mp_pidlock *l)
{
    mp_wait_wake_one(&l->s->wp, &l->wq);
}

uint32_t mp_pidlock_owner(const mp_pidlock *l)
{
    return mp_load32(&l->s->owner, MP_ACQUIRE);
}

int mp_pidlock_owner_dead(const mp_pidlock *l)
{
    uint32_t owner = mp_pidlock_owner(l);
    return owner != 0 && !mp_os_pid_alive(owner);
}

void mp_pidlock_close(mp_pidlock *l)
{
    mp_os_wq_close(&l->wq);
}

MP_THREAD_LOCAL_FAST char mp__thread_anchor;

MP_THREAD_LOCAL_FAST uint32_t mp__thread_number;

uint32_t mp__thread_number_assign(void)
{
    static mp_atomic_u32 last;
    uint32_t n;
    do
        n = mp_add32(&last, 1, MP_RELAXED) + 1;
    while (n == 0);
    mp__thread_number = n;
    return n;
}
