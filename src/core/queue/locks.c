/* locks.c - the side locks (a spin, a few yields, then the one waiter of
 * sync/waiter.h), the one-sleeper waits of a side's holder for the other
 * side, parking, and where the consumers stand. Declared in locks.h;
 * calls nothing else of the queue. */
#include "base/error.h"
#include "core/queue/locks.h"

#define SPINS  64
#define YIELDS 16

/* ---- side locks ----------------------------------------------------------------- */

static int grab(qside *sd, uint64_t *w, uint32_t self)
{
    return mp_cas64(&sd->word, w, Q_WORD(self, Q_COUNT(*w)), MP_ACQUIRE);
}

int q_trylock(qside *sd, uint32_t *count)
{
    uint32_t self = mp_os_getpid();
    uint64_t w = mp_load64(&sd->word, MP_RELAXED);
    for (;;) {
        uint32_t owner = Q_OWNER(w);
        if (owner != 0 && mp_os_pid_alive(owner)) return MP_ETIMEDOUT;
        if (grab(sd, &w, self)) {
            *count = Q_COUNT(w);
            return owner ? MP_EOWNERDEAD : 0;
        }
    }
}

static int flagged(mp_atomic_u32 *f)
{
    return f && mp_load32(f, MP_SEQ_CST) != 0;
}

/* What the waiter asks of a side lock: the word is holder | count. */
typedef struct side_wait {
    qside *sd;
    uint64_t w; /* the word as last seen */
    uint32_t self;
    uint32_t count; /* the count it held when taken */
    mp_atomic_u32 *parked, *stop;
} side_wait;

static int side_try_take(void *ctx, uint32_t *owner)
{
    side_wait *x = ctx;
    x->w = mp_load64(&x->sd->word, MP_SEQ_CST);
    while (Q_OWNER(x->w) == 0) {
        if (grab(x->sd, &x->w, x->self)) {
            x->count = Q_COUNT(x->w);
            return 1;
        }
    }
    *owner = Q_OWNER(x->w);
    return 0;
}

static int side_is_free(void *ctx)
{
    side_wait *x = ctx;
    return Q_OWNER(mp_load64(&x->sd->word, MP_SEQ_CST)) == 0;
}

static int side_take_over(void *ctx, uint32_t dead)
{
    side_wait *x = ctx;
    if (Q_OWNER(x->w) != dead || !grab(x->sd, &x->w, x->self)) return 0;
    x->count = Q_COUNT(x->w);
    return 1;
}

/* Never both: the feeder passes stop, a producer parked. */
static int side_stop(void *ctx)
{
    side_wait *x = ctx;
    if (flagged(x->stop)) return MP_ECLOSED;
    if (flagged(x->parked)) return Q_DIVERT;
    return 0;
}

static const mp_wait_ops side_ops = {side_try_take, side_is_free, side_take_over,
                                     side_stop};

int q_lock(qside *sd, mp_os_wq *wq, uint64_t deadline, mp_atomic_u32 *parked,
           mp_atomic_u32 *stop, uint32_t *count)
{
    uint32_t self = mp_os_getpid();
    uint64_t w = mp_load64(&sd->word, MP_RELAXED);
    /* Holders keep the lock for a copy, so a short spin usually wins it
     * without a system call. A holder that keeps winning it is in full
     * flow on another CPU: then this process yields its CPU a few times
     * before it sleeps, so that what else is ready here - with processes
     * outnumbering CPUs, often the other side of the queue - runs while
     * this side has nothing to do but wait its turn. Two producers and
     * two consumers on two CPUs, one of each per CPU, ran at 7-22M
     * messages a second without, 20-50M with. */
    for (int spin = 0;; spin++) {
        if (Q_OWNER(w) == 0) {
            if (grab(sd, &w, self)) {
                *count = Q_COUNT(w);
                return 0;
            }
            continue;
        }
        if (flagged(parked)) return Q_DIVERT;
        if (spin == SPINS + YIELDS) break;
        if (spin < SPINS)
            mp_cpu_relax();
        else
            mp_os_yield();
        w = mp_load64(&sd->word, MP_RELAXED);
    }

    side_wait x = {sd, w, self, 0, parked, stop};
    int rc = mp_wait_for(&sd->wp, wq, &side_ops, &x, deadline, MP_WAIT_FIRST_SLICE_NS,
                         Q_SLICE_NS);
    if (rc == 0 || rc == MP_EOWNERDEAD) *count = x.count;
    return rc;
}

void q__wake_lock_waiter(qside *sd, mp_os_wq *wq)
{
    mp_wait_wake_one(&sd->wp, wq);
}

Q_NOINLINE int q_wake_after(qside *sd, mp_os_wq *lock_wq, qwait *w, mp_os_wq *wq)
{
    if (mp_load32(&sd->wp.waiters, MP_SEQ_CST) != 0) q__wake_lock_waiter(sd, lock_wq);
    q_notify(wq, w);
    return 0;
}

void q_publish(qside *sd, uint32_t count)
{
    uint64_t w = mp_load64(&sd->word, MP_RELAXED);
    mp_xchg64(&sd->word, Q_WORD(Q_OWNER(w), count), MP_SEQ_CST);
}

/* ---- sleeping for the other side --------------------------------------------- */

uint32_t q_wait_prepare(qwait *w)
{
    mp_xchg32(&w->flag, 1, MP_SEQ_CST);
    return mp_load32(&w->seq, MP_SEQ_CST);
}

int q_wait_sleep(mp_os_wq *wq, qwait *w, uint32_t seen, uint64_t deadline)
{
    uint64_t until = mp_os_now_ns() + Q_SLICE_NS;
    if (until > deadline) until = deadline;
    return mp_os_wq_wait(wq, &w->seq, seen, until);
}

void q_wait_done(qwait *w)
{
    /* Clearing the flag spares the other side a futile wake-up for each
     * message while we are busy. */
    mp_store32(&w->flag, 0, MP_RELAXED);
}

void q__notify_sleeper(mp_os_wq *wq, qwait *w)
{
    if (mp_xchg32(&w->flag, 0, MP_SEQ_CST) == 0) return;
    mp_add32(&w->seq, 1, MP_SEQ_CST);
    mp_os_wq_wake(wq, &w->seq, 1);
}

void q_park(mp_queue *q)
{
    struct qshared *s = q->s;
    if (mp_load32(&s->p.parked, MP_RELAXED)) return;
    mp_store32(&s->p.parked, 1, MP_SEQ_CST);
    /* Every waiter for the lock looks again and goes the other way. */
    mp_wait_wake_all(&s->p.lk.wp, &q->plock_wq);
}

void q_release_producers(mp_queue *q, uint32_t c)
{
    mp_store32(&q->s->p.parked, 0, MP_RELAXED);
    q_unlock(&q->s->p.lk, &q->plock_wq, c);
    q_notify(&q->data_wq, &q->s->data);
}

/* ---- positions --------------------------------------------------------------- */

uint64_t q_consumer_head(mp_queue *q)
{
    struct qshared *s = q->s;
    for (;;) {
        uint32_t k = Q_COUNT(mp_load64(&s->c.lk.word, MP_ACQUIRE));
        uint64_t head = mp_load64(&s->c.head[k & 1], MP_ACQUIRE);
        /* The slot of a published count stays whole until the count
         * moves on twice; seeing the same count after the read proves it
         * has not. */
        if (Q_COUNT(mp_load64(&s->c.lk.word, MP_ACQUIRE)) != k) continue;
        uint64_t live = mp_load64(&s->c.live, MP_ACQUIRE);
        return live > head ? live : head;
    }
}

int q_wait_room(mp_queue *q, uint64_t tail, uint64_t want, uint64_t deadline)
{
    struct qshared *s = q->s;
    uint64_t head = q_head_view(q);
    if (q_room(q, tail, head) >= want) return 0;
    for (;;) {
        head = q_consumer_head(q);
        mp_store64(&s->p.head_seen, head, MP_RELAXED);
        if (q_room(q, tail, head) >= want) return 0;
        if (mp_load32(&q->stop, MP_RELAXED)) return MP_ECLOSED;
        if (deadline != MP_NO_DEADLINE && mp_os_now_ns() >= deadline) return MP_ETIMEDOUT;
        q_park(q);
        uint32_t seen = q_wait_prepare(&s->room);
        head = q_consumer_head(q);
        if (q_room(q, tail, head) < want)
            q_wait_sleep(&q->room_wq, &s->room, seen, deadline);
        q_wait_done(&s->room);
    }
}
