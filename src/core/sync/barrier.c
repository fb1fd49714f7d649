/* barrier.c - Barrier (mproc/synchronize.h).
 *
 * A generation counter says when the parties waiting may go: a waiter
 * notes the generation it arrived in and sleeps through the one waiter
 * (waiter.h) until the counter has moved on, then reads how its
 * generation ended (released, or broken) from a small ring. The fields
 * that change together - the count of arrivals, the pids of the parties
 * waiting, the broken flag - change under a short pid lock of the
 * barrier's own (pidlock.h); the last arrival runs the action under it.
 *
 * A party killed while it waits: a waiter whose sleep slice runs out asks
 * the OS about one waiting party each time (the waiter's dead-owner
 * check, turning through them), and breaks the barrier when one is gone,
 * so the others get MP_EBROKEN within a bounded time instead of waiting
 * for a party that will never come back (cpython gh-123899). A process
 * killed under the barrier's own lock breaks it too: the next to take the
 * lock cannot trust the count. */
#include <stdlib.h>
#include <string.h>

#include "base/deadline.h"
#include "base/error.h"
#include "core/runtime/args.h" /* struct mp_args */
#include "core/runtime/kind.h"
#include "core/sync/object.h"
#include "core/sync/pidlock.h"
#include "core/sync/waiter.h"
#include "mproc/synchronize.h"

#define SLICE_MAX_NS 100000000ull
#define OUTCOMES     64u /* a waiter reads its outcome within 64 generations */

typedef struct barrier_state {
    mp_pidlock_shared lock;
    mp_waitpoint wp;      /* waiters for the generation to end */
    mp_atomic_u32 gen;    /* moves on when a generation ends */
    mp_atomic_u32 broken; /* until reset */
    mp_atomic_u32 count;  /* arrivals in this generation */
    uint32_t parties;
    uint64_t timeout_ns;             /* the default; UINT64_MAX: none */
    mp_atomic_u32 outcome[OUTCOMES]; /* of generation g at g % OUTCOMES: 1 broken */
    mp_atomic_u32 pid[];             /* pid[i]: the party that arrived i-th */
} barrier_state;

struct mp_barrier {
    mp_syncobj o;
    mp_pidlock lk; /* lk.s is &st->lock; lk.wq the lock's queue */
    mp_os_wq gen_wq;
    barrier_state *st;
    mp_target action;
};

static int null_barrier(void)
{
    return mp_set_error(MP_EINVAL, "NULL barrier");
}

static size_t state_size(uint32_t parties)
{
    return sizeof(barrier_state) + (size_t)parties * sizeof(mp_atomic_u32);
}

int mp_barrier_new(mp_barrier **barrier, int64_t parties, mp_target action,
                   double timeout)
{
    mp_clear_error();
    if (!barrier) return null_barrier();
    *barrier = NULL;
    if (parties < 1 || parties > MP_BARRIER_MAX_PARTIES)
        return mp_set_error(MP_EINVAL, "a Barrier of %lld parties (1..%d)",
                            (long long)parties, MP_BARRIER_MAX_PARTIES);
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    mp_barrier *b = calloc(1, sizeof *b);
    if (!b) return mp_set_error(MP_ENOMEM, "out of memory for a Barrier");
    rc = mp_syncobj_create(&b->o, &b->lk.wq, MP_SYNC_BARRIER,
                           state_size((uint32_t)parties), "Barrier");
    if (rc < 0) {
        free(b);
        return rc;
    }
    rc = mp_os_wq_create(&b->gen_wq);
    if (rc < 0) {
        mp_syncobj_close(&b->o, &b->lk.wq);
        free(b);
        return rc;
    }
    b->st = b->o.state;
    b->lk.s = &b->st->lock;
    b->st->parties = (uint32_t)parties;
    b->st->timeout_ns =
        timeout < 0 || timeout > 1e9 ? UINT64_MAX : (uint64_t)(timeout * 1e9);
    b->action = action;
    *barrier = b;
    return 0;
}

void mp_barrier_free(mp_barrier *barrier)
{
    if (!barrier) return;
    mp_os_wq_close(&barrier->gen_wq);
    mp_syncobj_close(&barrier->o, &barrier->lk.wq);
    free(barrier);
}

/* ---- the barrier's own lock, and the ends of a generation ------------------- */

/* Ends the generation: released (broken 0) or broken. Under the lock;
 * its waiters are woken by unlock, after the lock is free, so that they
 * do not wake only to wait for it. */
static void end_generation(mp_barrier *b, int broken)
{
    barrier_state *st = b->st;
    uint32_t g = mp_load32(&st->gen, MP_RELAXED);
    mp_store32(&st->outcome[g % OUTCOMES], broken ? 1u : 0u, MP_RELAXED);
    mp_store32(&st->count, 0, MP_RELAXED);
    mp_store32(&st->gen, g + 1, MP_SEQ_CST);
}

/* Breaks the barrier; 1 if that ended a generation (someone to wake). */
static int break_barrier(mp_barrier *b)
{
    mp_store32(&b->st->broken, 1, MP_RELAXED);
    if (mp_load32(&b->st->count, MP_RELAXED) == 0) return 0;
    end_generation(b, 1);
    return 1;
}

/* Releases the lock, then wakes the waiters of a generation that ended
 * under it. */
static void unlock(mp_barrier *b, int ended)
{
    mp_pidlock_release(&b->lk);
    if (ended) mp_wait_wake_all(&b->st->wp, &b->gen_wq);
}

/* Takes the barrier's lock: 0, or MP_EBROKEN when its holder died (the
 * barrier is then broken, and *ended says whether that ended a
 * generation), both with the lock held (held() says so); another
 * negative code when the OS failed, without it. */
static int take_lock(mp_barrier *b, int *ended)
{
    *ended = 0;
    int rc = mp_pidlock_acquire(&b->lk, MP_NO_DEADLINE);
    if (rc == MP_EOWNERDEAD) {
        *ended = break_barrier(b);
        return mp_set_error(MP_EBROKEN, "a process died inside the Barrier");
    }
    return rc;
}

static int held(int rc)
{
    return rc == 0 || rc == MP_EBROKEN;
}

static int broken_error(void)
{
    return mp_set_error(MP_EBROKEN, "the Barrier is broken");
}

/* ---- waiting for the generation to end ------------------------------------- */

typedef struct gen_wait {
    mp_barrier *b;
    uint32_t gen;
    uint32_t next; /* which waiting party to ask the OS about next */
    uint32_t self;
} gen_wait;

static int gen_over(void *ctx)
{
    gen_wait *w = ctx;
    return mp_load32(&w->b->st->gen, MP_SEQ_CST) != w->gen;
}

/* "Taking" is seeing the generation end; the owner to check for death is
 * the next waiting party other than this process. */
static int gen_try(void *ctx, uint32_t *owner)
{
    gen_wait *w = ctx;
    if (gen_over(ctx)) return 1;
    barrier_state *st = w->b->st;
    uint32_t n = mp_load32(&st->count, MP_RELAXED);
    *owner = 0;
    for (uint32_t k = 0; k < n && k < st->parties; k++) {
        uint32_t pid = mp_load32(&st->pid[(w->next + k) % n], MP_RELAXED);
        if (pid != w->self && pid != 0) {
            w->next = (w->next + k + 1) % n;
            *owner = pid;
            break;
        }
    }
    return 0;
}

/* A waiting party is gone: break the barrier, if it is still the same
 * generation and that party is still in it. */
static int gen_take_over(void *ctx, uint32_t dead)
{
    gen_wait *w = ctx;
    mp_barrier *b = w->b;
    int ended;
    int rc = take_lock(b, &ended);
    if (rc == 0 && mp_load32(&b->st->gen, MP_RELAXED) == w->gen) {
        uint32_t n = mp_load32(&b->st->count, MP_RELAXED);
        for (uint32_t i = 0; i < n; i++)
            if (mp_load32(&b->st->pid[i], MP_RELAXED) == dead) {
                ended = break_barrier(b);
                break;
            }
    }
    if (held(rc)) unlock(b, ended);
    return gen_over(ctx);
}

static const mp_wait_ops gen_ops = {gen_try, gen_over, gen_take_over, NULL};

/* How generation g ended: its index, or MP_EBROKEN. */
static int outcome(mp_barrier *b, uint32_t g, int index)
{
    return mp_load32(&b->st->outcome[g % OUTCOMES], MP_ACQUIRE) ? broken_error() : index;
}

/* The last arrival: the action, then the others go. Under the lock. */
static int release_all(mp_barrier *b, int index)
{
    if (b->action) {
        mp_args none = {NULL, 0};
        int code = b->action(&none);
        if (code != 0) {
            unlock(b, break_barrier(b));
            return mp_set_error(MP_EBROKEN, "the Barrier's action returned %d", code);
        }
    }
    end_generation(b, 0);
    unlock(b, 1);
    return index;
}

int mp_barrier_wait(mp_barrier *barrier, double timeout)
{
    mp_clear_error();
    if (!barrier) return null_barrier();
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    mp_barrier *b = barrier;
    barrier_state *st = b->st;
    uint64_t deadline = timeout >= 0 ? mp_deadline(timeout)
                        : st->timeout_ns == UINT64_MAX
                            ? MP_NO_DEADLINE
                            : mp_deadline((double)st->timeout_ns / 1e9);
    int ended;
    if ((rc = take_lock(b, &ended)) < 0) {
        if (held(rc)) unlock(b, ended);
        return rc;
    }
    if (mp_load32(&st->broken, MP_RELAXED)) {
        mp_pidlock_release(&b->lk);
        return broken_error();
    }
    gen_wait w = {b, mp_load32(&st->gen, MP_RELAXED), 0, mp_os_self()};
    uint32_t index = mp_load32(&st->count, MP_RELAXED);
    mp_store32(&st->pid[index], w.self, MP_RELAXED);
    mp_store32(&st->count, index + 1, MP_RELAXED);
    if (index + 1 == st->parties) return release_all(b, (int)index);
    mp_pidlock_release(&b->lk);

    rc = mp_wait_for(&st->wp, &b->gen_wq, &gen_ops, &w, deadline, MP_WAIT_FIRST_SLICE_NS,
                     SLICE_MAX_NS);
    if (rc == 0 || rc == MP_EOWNERDEAD) return outcome(b, w.gen, (int)index);
    /* Timed out (Python breaks the barrier then) or failed: unless the
     * generation ended meanwhile, this waiter breaks it for the others. */
    int taken = take_lock(b, &ended);
    if (taken == 0 && mp_load32(&st->gen, MP_RELAXED) == w.gen) ended = break_barrier(b);
    if (held(taken)) unlock(b, ended);
    return outcome(b, w.gen, (int)index);
}

int mp_barrier_reset(mp_barrier *barrier)
{
    mp_clear_error();
    if (!barrier) return null_barrier();
    int ended;
    int rc = take_lock(barrier, &ended); /* a dead holder's break is what reset undoes */
    if (!held(rc)) return rc;
    if (mp_load32(&barrier->st->count, MP_RELAXED) > 0) {
        end_generation(barrier, 1);
        ended = 1;
    }
    mp_store32(&barrier->st->broken, 0, MP_RELAXED);
    unlock(barrier, ended);
    mp_clear_error();
    return 0;
}

int mp_barrier_abort(mp_barrier *barrier)
{
    mp_clear_error();
    if (!barrier) return null_barrier();
    int ended;
    int rc = take_lock(barrier, &ended);
    if (!held(rc)) return rc;
    ended |= break_barrier(barrier);
    unlock(barrier, ended);
    mp_clear_error();
    return 0;
}

int64_t mp_barrier_parties(mp_barrier *barrier)
{
    return barrier ? (int64_t)barrier->st->parties : null_barrier();
}

int64_t mp_barrier_n_waiting(mp_barrier *barrier)
{
    if (!barrier) return null_barrier();
    if (mp_load32(&barrier->st->broken, MP_RELAXED)) return 0;
    return mp_load32(&barrier->st->count, MP_RELAXED);
}

int mp_barrier_broken(mp_barrier *barrier)
{
    return barrier ? mp_load32(&barrier->st->broken, MP_SEQ_CST) != 0 : null_barrier();
}

/* ---- as a process argument ------------------------------------------------ */

/* The parties, the action by its place in the program (found again in
 * the child, as a Process target is), the segment and both queues. */
static int barrier_export(const mp_arg *a, mp_export *ex)
{
    mp_barrier *b = a->u.object;
    mp_os_fnloc loc;
    memset(&loc, 0, sizeof loc);
    int rc = b->action ? mp_os_fn_locate((void (*)(void))b->action, &loc) : 0;
    if (rc < 0) return rc;
    mp_buf_u32(ex->buf, b->st->parties);
    mp_buf_u8(ex->buf, b->action != NULL);
    mp_buf_blob(ex->buf, loc.module, strlen(loc.module) + 1);
    mp_buf_u64(ex->buf, loc.offset);
    rc = mp_syncobj_export(&b->o, &b->lk.wq, MP_SYNC_BARRIER, ex);
    return rc < 0 ? rc : mp_syncobj_export_wq(&b->gen_wq, ex);
}

static int bad_import(const char *why)
{
    return mp_set_error(MP_EPROTO, "Barrier from the parent: %s", why);
}

static int barrier_import(mp_arg *a, mp_import *im)
{
    mp_barrier *b = calloc(1, sizeof *b);
    int rc = MP_ENOMEM, have_seg = 0;
    if (!b) {
        mp_set_error(rc, "out of memory for a Barrier");
        goto fail;
    }
    uint32_t parties = mp_rd_u32(im->rd);
    uint8_t has_action = mp_rd_u8(im->rd);
    size_t modlen = 0;
    const char *module = mp_rd_blob(im->rd, &modlen);
    mp_os_fnloc loc;
    memset(&loc, 0, sizeof loc);
    loc.offset = mp_rd_u64(im->rd);
    if (im->rd->failed || parties < 1 || parties > MP_BARRIER_MAX_PARTIES ||
        has_action > 1 || modlen == 0 || modlen > sizeof loc.module ||
        module[modlen - 1] != '\0') {
        rc = bad_import("truncated or out of range");
        goto fail;
    }
    memcpy(loc.module, module, modlen);
    rc = mp_syncobj_import(&b->o, &b->lk.wq, MP_SYNC_BARRIER, state_size(parties), im,
                           "Barrier");
    if (rc < 0) goto fail;
    have_seg = 1;
    rc = mp_syncobj_import_wq(&b->gen_wq, im, "Barrier");
    if (rc < 0) goto fail;
    b->st = b->o.state;
    b->lk.s = &b->st->lock;
    if (b->st->parties != parties) {
        mp_os_wq_close(&b->gen_wq);
        rc = bad_import("the shared header disagrees");
        goto fail;
    }
    if (has_action) {
        void (*fn)(void) = NULL;
        rc = mp_os_fn_resolve(&loc, &fn);
        if (rc < 0) {
            mp_os_wq_close(&b->gen_wq);
            goto fail;
        }
        /* the parent converted from this type (mp_os_fn_locate) */
        b->action = (mp_target)fn;
    }
    a->u.object = b;
    return 0;
fail:
    if (have_seg) mp_syncobj_close(&b->o, &b->lk.wq);
    free(b);
    return rc;
}

static void barrier_release_arg(mp_arg *a)
{
    mp_barrier_free(a->u.object);
}

const mp_kind mp__kind_barrier = {"Barrier",      mp__kind_copy_ref, NULL,
                                  barrier_export, barrier_import,    barrier_release_arg};
