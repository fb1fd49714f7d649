/* wait.c - mp_wait (mproc/wait.h): Python's multiprocessing.connection.wait
 * over connections, listeners, queues, process sentinels, the parent and
 * raw handles.
 *
 * Most kinds are an OS handle, and the layer waits on all of them in one
 * call (mp_os_wait_many: one poll on POSIX, waits of 64 objects in threads
 * on Windows). A queue is not: its messages are counts in shared memory,
 * and no OS call sleeps on a shared word and on handles at once. Neither
 * is the parent where the OS gives no handle on it (POSIX but Linux).
 * For those the wait is cut into slices, growing from WAIT_FIRST_SLICE_NS
 * to WAIT_MAX_SLICE_NS, and they are looked at between slices: a queue in
 * the list is seen ready within a slice of its first message (the
 * numbers and the reason are in docs/wait.md). A list without them makes
 * one OS wait.
 *
 * Every object ready when the wait returns is reported (a last look
 * without waiting covers the ones a slice's end found), so none starves. */
#include <stdlib.h>

#include "base/deadline.h"
#include "base/error.h"
#include "core/conn/conn_internal.h"
#include "core/conn/listener_internal.h"
#include "core/queue/ready.h"
#include "mproc/process.h"
#include "mproc/wait.h"

#define WAIT_STACK          256
#define WAIT_FIRST_SLICE_NS 100000ull
#define WAIT_MAX_SLICE_NS   5000000ull

/* One wait's working arrays: on the stack for short lists. */
typedef struct wait_set {
    mp_os_handle *h;       /* what the OS waits on; MP_OS_NO_HANDLE: nothing */
    unsigned char *now;    /* ready without an OS wait */
    unsigned char *os;     /* what the OS said: 0, 1, or 2 (empty message taken) */
    unsigned char *looked; /* looked at between slices (queue, parent) */
    int any_looked;
} wait_set;

/* Fills entry i: its handle, or a readiness known now, or a mark to look
 * at it between slices. */
static int prepare(const mp_waitable *w, size_t i, wait_set *ws)
{
    int rc = 0;
    ws->looked[i] = 0;
    if (w->kind == MP_WAIT_CONN && w->obj) {
        /* The usual entry, first: one call and two stores. */
        rc = mp__conn_wait_prepare(w->obj, &ws->h[i]);
        if (rc < 0) return rc;
        if (rc == 1) ws->h[i] = MP_OS_NO_HANDLE;
        ws->now[i] = (unsigned char)rc;
        return 0;
    }
    ws->h[i] = MP_OS_NO_HANDLE;
    ws->now[i] = 0;
    if (w->kind != MP_WAIT_PARENT && w->kind != MP_WAIT_HANDLE && !w->obj)
        return mp_set_error(MP_EINVAL, "mp_wait: object %zu is NULL", i);
    intptr_t x = 0;
    switch (w->kind) {
    case MP_WAIT_LISTENER:
        ws->h[i] = mp__listener_handle(w->obj);
        break;
    case MP_WAIT_QUEUE:
        rc = mp__queue_ready(w->obj);
        ws->looked[i] = 1;
        break;
    case MP_WAIT_PROCESS:
        rc = mp_process_sentinel(w->obj, &x);
        ws->h[i] = (mp_os_handle)x;
        break;
    case MP_WAIT_PARENT:
        rc = mp_parent_is_alive();
        if (rc >= 0) {
            rc = !rc;
            ws->h[i] = mp_os_parent_sentinel();
            ws->looked[i] = ws->h[i] == MP_OS_NO_HANDLE;
        }
        break;
    case MP_WAIT_HANDLE:
        if (w->handle == (intptr_t)MP_OS_NO_HANDLE)
            return mp_set_error(MP_EINVAL, "mp_wait: handle %zu is -1", i);
        ws->h[i] = (mp_os_handle)w->handle;
        break;
    default:
        return mp_set_error(MP_EINVAL, "mp_wait: object %zu has kind %d", i,
                            (int)w->kind);
    }
    if (rc < 0) return rc;
    ws->now[i] = rc == 1;
    ws->any_looked |= ws->looked[i];
    return 0;
}

/* Looks again at the entries that have no handle: 0, or an error. */
static int look(const mp_waitable *objects, size_t n, wait_set *ws)
{
    for (size_t i = 0; i < n; i++) {
        if (!ws->looked[i]) continue;
        int rc = objects[i].kind == MP_WAIT_QUEUE ? mp__queue_ready(objects[i].obj)
                                                  : !mp_os_parent_alive();
        if (rc < 0) return rc;
        ws->now[i] = rc == 1;
    }
    return 0;
}

/* One OS wait until the deadline, then the list of what is ready. */
static int wait_round(const mp_waitable *objects, size_t n, wait_set *ws,
                      uint64_t deadline, size_t *ready)
{
    int rc = mp_os_wait_many(ws->h, n, deadline, ws->os);
    if (rc < 0) return rc;
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        /* An empty message the wait took off a pipe is the connection's
         * next message, whatever this call returns. */
        if (ws->os[i] == 2 && objects[i].kind == MP_WAIT_CONN)
            mp__conn_took_empty(objects[i].obj);
        if (!ws->now[i] && !ws->os[i]) continue;
        if (ready) ready[count] = i;
        count++;
    }
    return count;
}

static int wait_all(const mp_waitable *objects, size_t n, uint64_t deadline,
                    size_t *ready, wait_set *ws)
{
    int rc = 0, known = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = prepare(&objects[i], i, ws);
        known |= ws->now[i];
    }
    if (rc < 0) return rc;
    if (!ws->any_looked) return wait_round(objects, n, ws, known ? 0 : deadline, ready);
    uint64_t slice = WAIT_FIRST_SLICE_NS;
    for (;;) {
        uint64_t now = mp_os_now_ns();
        uint64_t until = deadline;
        if (known)
            until = 0;
        else if (deadline > now && deadline - now > slice)
            until = now + slice;
        rc = wait_round(objects, n, ws, until, ready);
        if (rc != 0 || now >= deadline) return rc;
        rc = look(objects, n, ws);
        if (rc < 0) return rc;
        known = 0;
        for (size_t i = 0; i < n; i++)
            known |= ws->now[i];
        if (!known && mp_os_now_ns() >= deadline) return 0;
        if (slice < WAIT_MAX_SLICE_NS) slice *= 2;
    }
}

int mp_wait(const mp_waitable *objects, size_t n, double timeout, size_t *ready)
{
    mp_clear_error();
    if (!objects && n > 0) return mp_set_error(MP_EINVAL, "mp_wait: NULL list");
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    uint64_t deadline = mp_deadline(timeout);
    if (n > (size_t)INT32_MAX) return mp_set_error(MP_EINVAL, "mp_wait: %zu objects", n);
    if (n == 0) {
        /* Python's wait([], timeout) sleeps out its timeout. */
        for (uint64_t now; (now = mp_os_now_ns()) < deadline;)
            mp_os_sleep_ns(deadline - now < 1000000000ull ? deadline - now
                                                          : 1000000000ull);
        return 0;
    }

    mp_os_handle h_stack[WAIT_STACK];
    unsigned char flags_stack[3 * WAIT_STACK];
    wait_set ws = {h_stack, flags_stack, flags_stack + WAIT_STACK,
                   flags_stack + 2 * WAIT_STACK, 0};
    void *heap = NULL;
    if (n > WAIT_STACK) {
        heap = malloc(n * (sizeof(mp_os_handle) + 3));
        if (!heap) return mp_set_error(MP_ENOMEM, "mp_wait: out of memory for %zu", n);
        ws.h = heap;
        ws.now = (unsigned char *)(ws.h + n);
        ws.os = ws.now + n;
        ws.looked = ws.os + n;
    }
    rc = wait_all(objects, n, deadline, ready, &ws);
    free(heap);
    return rc;
}
