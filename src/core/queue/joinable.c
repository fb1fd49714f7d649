/* joinable.c - JoinableQueue: task_done(), join() and the count of
 * unfinished tasks, in the queue's segment (layout.h, `tasks`).
 *
 * Python keeps the count in a semaphore and wakes joiners through a
 * condition whose lock every put, task_done and join takes. Here the
 * count is one atomic word and no lock is taken: task_done takes one off
 * only while the count is above 0 (a compare-and-swap), and the one that
 * brings it to 0 moves `drained` on and wakes every joiner. A joiner
 * waits for `drained` to move rather than for the count to read 0, as
 * Python's join returns once notified: a put racing with the wake-up
 * cannot send a woken joiner back to sleep, so every woken joiner leaves
 * (the condition the one waiter sets for a wake-all without slices,
 * sync/waiter.h). A consumer killed between get and task_done leaves the
 * count above 0 for good: join's timeout and mp_queue_unfinished are the
 * way out (docs/queue.md, "JoinableQueue"). */
#include "base/deadline.h"
#include "base/error.h"
#include "core/queue/joinable.h"

void q_task_added(mp_queue *q)
{
    mp_add32(&q->s->tasks.unfinished, 1, MP_SEQ_CST);
}

/* Takes one task off: 0, or MP_ESTATE if there was none. */
static int task_off(mp_queue *q)
{
    mp_atomic_u32 *u = &q->s->tasks.unfinished;
    uint32_t n = mp_load32(u, MP_SEQ_CST);
    do {
        if (n == 0) return MP_ESTATE;
    } while (!mp_cas32(u, &n, n - 1, MP_SEQ_CST));
    if (n == 1) {
        mp_add32(&q->s->tasks.drained, 1, MP_SEQ_CST);
        mp_wait_wake_all(&q->s->tasks.wp, &q->tasks_wq);
    }
    return 0;
}

void q_task_undo(mp_queue *q)
{
    task_off(q);
}

static int joinable(mp_queue *q)
{
    if (!q) return mp_set_error(MP_EINVAL, "NULL queue");
    if (!(q->flags & Q_JOINABLE))
        return mp_set_error(MP_EINVAL, "not a JoinableQueue (mp_joinable_queue_new)");
    return 0;
}

int mp_queue_task_done(mp_queue *q)
{
    mp_clear_error();
    int rc = joinable(q);
    if (rc == 0 && task_off(q) < 0)
        rc = mp_set_error(MP_ESTATE, "task_done() called too many times");
    return rc;
}

int mp_queue_unfinished(mp_queue *q, size_t *n)
{
    mp_clear_error();
    if (!n) return mp_set_error(MP_EINVAL, "NULL count pointer");
    int rc = joinable(q);
    if (rc == 0) *n = mp_load32(&q->s->tasks.unfinished, MP_SEQ_CST);
    return rc;
}

/* What join waits for: the count at 0, or brought down to 0 since the
 * joiner looked (ctx: the queue, seen: the `drained` it read first). */
typedef struct join_ctx {
    mp_queue *q;
    uint32_t seen;
} join_ctx;

static int join_done(void *ctx)
{
    join_ctx *j = ctx;
    return mp_load32(&j->q->s->tasks.unfinished, MP_SEQ_CST) == 0 ||
           mp_load32(&j->q->s->tasks.drained, MP_SEQ_CST) != j->seen;
}

static int join_try(void *ctx, uint32_t *owner)
{
    *owner = 0;
    return join_done(ctx);
}

static const mp_wait_ops join_ops = {join_try, join_done, NULL, NULL};

int mp_queue_join(mp_queue *q, double timeout)
{
    mp_clear_error();
    int rc = joinable(q);
    if (rc == 0) rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    join_ctx j = {q, mp_load32(&q->s->tasks.drained, MP_SEQ_CST)};
    if (join_done(&j)) return 0;
    rc = mp_wait_for(&q->s->tasks.wp, &q->tasks_wq, &join_ops, &j, mp_deadline(timeout),
                     MP_WAIT_NO_SLICE, MP_WAIT_NO_SLICE);
    if (rc == MP_ETIMEDOUT)
        rc = mp_set_error(MP_ETIMEDOUT, "%u tasks not done",
                          (unsigned)mp_load32(&q->s->tasks.unfinished, MP_SEQ_CST));
    return rc;
}
