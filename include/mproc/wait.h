/* mproc/wait.h - waiting on many objects at once
 * (multiprocessing.connection.wait).
 *
 * mp_wait() sleeps until any of a list of objects is ready and reports
 * every one that is ready then, not only the first, so that a busy object
 * early in the list never starves the others. Ready means:
 *   connection  a message (or end of file) to receive: mp_conn_recv will
 *               not block
 *   listener    a client waits: mp_listener_accept will not block
 *   queue       a message is in the queue (another process may take it
 *               first, so get with a timeout of 0 may still say MP_EEMPTY)
 *   process     the child ended (its sentinel)
 *   parent      the process that started this one ended
 *   handle      an OS handle of the caller's: an fd that polls readable on
 *               POSIX, a signalled object on Windows
 * There is no limit of the OS's on how many (Windows waits on at most 64
 * objects at a time; mproc waits on any number). docs/wait.md says how
 * each kind is waited on, and what it costs. */
#ifndef MPROC_WAIT_H
#define MPROC_WAIT_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mp_wait_kind {
    MP_WAIT_CONN = 1,
    MP_WAIT_LISTENER,
    MP_WAIT_QUEUE,
    MP_WAIT_PROCESS,
    MP_WAIT_PARENT,
    MP_WAIT_HANDLE
} mp_wait_kind;

/* One entry of the list: make it with the functions below. The object
 * stays the caller's. */
typedef struct mp_waitable {
    mp_wait_kind kind;
    void *obj;       /* the connection, listener, queue or process */
    intptr_t handle; /* MP_WAIT_HANDLE: the fd or HANDLE */
} mp_waitable;

static inline mp_waitable mp_wait_on(mp_wait_kind kind, void *obj, intptr_t handle)
{
    mp_waitable w;
    w.kind = kind;
    w.obj = obj;
    w.handle = handle;
    return w;
}
static inline mp_waitable mp_waitable_conn(mp_conn *c)
{
    return mp_wait_on(MP_WAIT_CONN, c, -1);
}
static inline mp_waitable mp_waitable_listener(mp_listener *l)
{
    return mp_wait_on(MP_WAIT_LISTENER, l, -1);
}
static inline mp_waitable mp_waitable_queue(mp_queue *q)
{
    return mp_wait_on(MP_WAIT_QUEUE, q, -1);
}
static inline mp_waitable mp_waitable_process(mp_process *p)
{
    return mp_wait_on(MP_WAIT_PROCESS, p, -1);
}
/* In a child mproc started: its parent (Python's parent_process().sentinel). */
static inline mp_waitable mp_waitable_parent(void)
{
    return mp_wait_on(MP_WAIT_PARENT, NULL, -1);
}
static inline mp_waitable mp_waitable_handle(intptr_t handle)
{
    return mp_wait_on(MP_WAIT_HANDLE, NULL, handle);
}

/* Waits until at least one of the n objects is ready, or timeout seconds
 * pass (negative, MP_FOREVER: no limit; 0: only look). Returns how many
 * are ready (0 when the timeout passed), and writes their positions in
 * the list, in increasing order, to ready (room for n; NULL if only the
 * count is wanted). A negative code on error, with nothing written:
 * MP_EINVAL for a NULL list with n > 0, a NULL object, an unknown kind, a
 * NaN timeout or a handle that is not open; MP_ESTATE for a closed or
 * unreadable connection, a closed queue, a process not started or closed,
 * or MP_WAIT_PARENT in the main process; MP_ENOMEM; MP_ESYS. */
MP_API int mp_wait(const mp_waitable *objects, size_t n, double timeout, size_t *ready);

#ifdef __cplusplus
}
#endif
#endif
