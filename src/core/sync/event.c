/* event.c - Event (mproc/synchronize.h): a flag in shared memory, waited
 * for through the one waiter (waiter.h); set wakes every waiter. */
#include <stdlib.h>

#include "base/deadline.h"
#include "base/error.h"
#include "core/runtime/kind.h"
#include "core/sync/object.h"
#include "core/sync/waiter.h"
#include "mproc/synchronize.h"

typedef struct event_state {
    mp_atomic_u32 flag;
    mp_waitpoint wp;
} event_state;

struct mp_event {
    mp_syncobj o;
    mp_os_wq wq;
    event_state *st;
};

static int null_event(void)
{
    return mp_set_error(MP_EINVAL, "NULL event");
}

int mp_event_new(mp_event **ev)
{
    mp_clear_error();
    if (!ev) return null_event();
    *ev = NULL;
    mp_event *e = calloc(1, sizeof *e);
    if (!e) return mp_set_error(MP_ENOMEM, "out of memory for an Event");
    int rc =
        mp_syncobj_create(&e->o, &e->wq, MP_SYNC_EVENT, sizeof(event_state), "Event");
    if (rc < 0) {
        free(e);
        return rc;
    }
    e->st = e->o.state;
    *ev = e;
    return 0;
}

void mp_event_free(mp_event *ev)
{
    if (!ev) return;
    mp_syncobj_close(&ev->o, &ev->wq);
    free(ev);
}

int mp_event_set(mp_event *ev)
{
    mp_clear_error();
    if (!ev) return null_event();
    mp_store32(&ev->st->flag, 1, MP_SEQ_CST);
    mp_wait_wake_all(&ev->st->wp, &ev->wq);
    return 0;
}

int mp_event_clear(mp_event *ev)
{
    mp_clear_error();
    if (!ev) return null_event();
    mp_store32(&ev->st->flag, 0, MP_SEQ_CST);
    return 0;
}

int mp_event_is_set(mp_event *ev)
{
    if (!ev) return null_event();
    return mp_load32(&ev->st->flag, MP_SEQ_CST) != 0;
}

/* Waiting takes nothing: "taking" the word is seeing the flag set. */
static int event_is_set(void *ctx)
{
    event_state *st = ctx;
    return mp_load32(&st->flag, MP_SEQ_CST) != 0;
}

static int event_try(void *ctx, uint32_t *owner)
{
    *owner = 0;
    return event_is_set(ctx);
}

static const mp_wait_ops event_ops = {event_try, event_is_set, NULL, NULL};

int mp_event_wait(mp_event *ev, double timeout)
{
    mp_clear_error();
    if (!ev) return null_event();
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    if (event_is_set(ev->st)) return 0;
    return mp_wait_for(&ev->st->wp, &ev->wq, &event_ops, ev->st, mp_deadline(timeout),
                       MP_WAIT_NO_SLICE, MP_WAIT_NO_SLICE);
}

/* ---- as a process argument ------------------------------------------------ */

static int event_export(const mp_arg *a, mp_export *ex)
{
    mp_event *e = a->u.object;
    return mp_syncobj_export(&e->o, &e->wq, MP_SYNC_EVENT, ex);
}

static int event_import(mp_arg *a, mp_import *im)
{
    mp_event *e = calloc(1, sizeof *e);
    if (!e) return mp_set_error(MP_ENOMEM, "out of memory for an Event");
    int rc =
        mp_syncobj_import(&e->o, &e->wq, MP_SYNC_EVENT, sizeof(event_state), im, "Event");
    if (rc < 0) {
        free(e);
        return rc;
    }
    e->st = e->o.state;
    a->u.object = e;
    return 0;
}

static void event_release_arg(mp_arg *a)
{
    mp_event_free(a->u.object);
}

const mp_kind mp__kind_event = {"Event",      mp__kind_copy_ref, NULL,
                                event_export, event_import,      event_release_arg};
