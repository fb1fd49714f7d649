/* mproc/queue.h - a many-producer many-consumer message queue between
 * processes and threads (Python's multiprocessing.Queue).
 *
 * Messages are byte strings of any size. They travel through a ring in
 * shared memory (8 MiB unless chosen otherwise; pages are touched only as
 * the ring fills); a message larger than the whole ring passes through it
 * in pieces. A consumer receives whole messages, and the messages of one
 * producer thread arrive in the order it put them.
 *
 * Unbounded queue (maxsize 0): as in Python, put() never waits for
 * consumers. A message that does not fit in the ring right now (after a
 * grace of 200 us plus 1 ns per byte) waits in a buffer of the sending process, and a
 * feeder thread moves it into the ring as consumers make room. A process must not exit
 * while its buffer holds messages: mp_queue_free() (or mp_queue_close() +
 * mp_queue_join_thread()) waits for the feeder to flush them, which needs a consumer to
 * make room when they exceed the ring. mp_queue_cancel_join_thread() drops that
 * guarantee.
 *
 * Bounded queue (maxsize > 0): there is no buffer; put() returns once the
 * message is in the ring, waiting up to its timeout for a place under
 * maxsize and for room. So nothing put is lost if the producer dies.
 *
 * A process killed at any point leaves the queue usable and its counts
 * exact (docs/queue.md, "Peers that die"). */
#ifndef MPROC_QUEUE_H
#define MPROC_QUEUE_H

#include <stddef.h>

#include "export.h"
#include "types.h"
#include "obj.h"
#include "process.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default bytes of shared memory for a queue's ring. */
#define MP_QUEUE_DEFAULT_RING ((size_t)8 << 20)

/* Creates a queue holding at most maxsize messages (0: no limit; MP_EINVAL
 * above 2^31 - 1), with the default ring. The caller owns *q and releases
 * it with mp_queue_free(). */
MP_API int mp_queue_new(mp_queue **q, size_t maxsize);

/* The same with a ring of ring_bytes (rounded up to a power of two, at
 * least 4 KiB). MP_EINVAL above 1 GiB. */
MP_API int mp_queue_new_sized(mp_queue **q, size_t maxsize, size_t ring_bytes);

/* Closes this handle (if not yet closed), waits for its feeder to flush
 * (unless cancelled), and releases it. The queue lives on in other
 * processes. NULL is ignored. */
MP_API void mp_queue_free(mp_queue *q);

/* Timeouts below: seconds; negative (MP_FOREVER) waits without limit, 0
 * does not wait, NaN is MP_EINVAL. A NULL queue or a NULL pointer where
 * one is needed is MP_EINVAL; so is a size above PTRDIFF_MAX (a negative
 * number converted). */

/* Puts a copy of len bytes. On a bounded queue, waits while the queue
 * holds maxsize messages or the ring has no room for this one, for timeout
 * seconds (MP_FOREVER: no limit; 0: not at all), then gives MP_EFULL (a
 * message larger than the ring, once begun, is finished whatever the
 * timeout). An unbounded queue ignores timeout. MP_ENOMEM if it had to be
 * buffered and could not; MP_ETOOBIG above 2^62 bytes; MP_ESTATE after
 * mp_queue_close(); MP_EINVAL for NULL q, or NULL data with len > 0. */
MP_API int mp_queue_put_bytes(mp_queue *q, const void *data, size_t len, double timeout);

/* mp_queue_put_bytes(q, data, len, 0). */
MP_API int mp_queue_put_bytes_nowait(mp_queue *q, const void *data, size_t len);

/* Takes the oldest message: *data (caller frees with mp_free()) and *len.
 * Waits up to timeout seconds for one to begin, then gives MP_EEMPTY; once
 * a message larger than the ring has begun arriving, waits for its end
 * (or for its sender's death to be noticed) whatever the timeout. MP_ENOMEM
 * leaves the message in the queue. MP_EOWNERDEAD if a process died while
 * sending or receiving the message at the head: that message is dropped,
 * the queue stays usable. MP_ESTATE after mp_queue_close(). */
MP_API int mp_queue_get_bytes(mp_queue *q, void **data, size_t *len, double timeout);

/* Takes the oldest message into buf (cap bytes), setting *len, without
 * allocating: the fast way to receive. If the message is longer than cap
 * it stays in the queue and MP_ETOOSHORT says so, with its length in *len.
 * Otherwise as mp_queue_get_bytes(). */
MP_API int mp_queue_get_bytes_into(mp_queue *q, void *buf, size_t cap, size_t *len,
                                   double timeout);

/* mp_queue_get_bytes(q, data, len, 0). */
MP_API int mp_queue_get_bytes_nowait(mp_queue *q, void **data, size_t *len);

/* Puts o as its pickle (Python's q.put(obj)); o stays the caller's and is
 * encoded now, so changing it afterwards does not change the message.
 * MP_ETOOBIG if it nests deeper than MP_OBJ_MAX_DEPTH; otherwise as
 * mp_queue_put_bytes(). */
MP_API int mp_queue_put(mp_queue *q, const mp_obj *o, double timeout);
MP_API int mp_queue_put_nowait(mp_queue *q, const mp_obj *o);

/* Takes the oldest message and decodes it (Python's q.get()): *o is a new
 * object the caller frees with mp_obj_free(). A message that is not a
 * supported pickle (put by mp_queue_put_bytes, say) is taken and gives
 * mp_obj_loads()'s error. Otherwise as mp_queue_get_bytes(). */
MP_API int mp_queue_get(mp_queue *q, mp_obj **o, double timeout);
MP_API int mp_queue_get_nowait(mp_queue *q, mp_obj **o);

/* Number of messages put and not yet taken, counted across all processes
 * (including those still in the feeder buffer of a live process). 0 for
 * NULL. It goes on counting after mp_queue_close() (the messages are
 * still there for other processes); mp_queue_is_closed() tells. */
MP_API size_t mp_queue_qsize(mp_queue *q);

/* qsize() == 0, and maxsize != 0 && qsize() >= maxsize: 1 or 0. After
 * mp_queue_close() MP_ESTATE (Python raises), so test for == 1 where a
 * closed handle may reach; MP_EINVAL for NULL. */
MP_API int mp_queue_empty(mp_queue *q);
MP_API int mp_queue_full(mp_queue *q);

/* 1 once mp_queue_close() was called on this handle (and for NULL), else
 * 0. */
MP_API int mp_queue_is_closed(mp_queue *q);

/* This process will put and get no more through this handle: put and get
 * give MP_ESTATE ("queue is closed"), as Python's raise ValueError, and
 * so do empty and full. Does not wait for the feeder. Closing twice is
 * harmless. */
MP_API int mp_queue_close(mp_queue *q);

/* Waits until the feeder thread has moved every buffered message into the
 * queue and exited. MP_ESTATE unless mp_queue_close() was called. */
MP_API int mp_queue_join_thread(mp_queue *q);

/* Makes join_thread and free stop waiting for the feeder: buffered
 * messages may be lost, as with Python's cancel_join_thread(). */
MP_API void mp_queue_cancel_join_thread(mp_queue *q);

/* ---- JoinableQueue ---------------------------------------------------------------- */

/* Creates a JoinableQueue (Python's multiprocessing.JoinableQueue): a
 * queue, used with every mp_queue_* function, that also counts tasks.
 * Each message put is a task until a consumer calls mp_queue_task_done()
 * for it; mp_queue_join() waits until every task is done. The caller
 * owns *q (mp_queue_free). Errors as mp_queue_new(). */
MP_API int mp_joinable_queue_new(mp_queue **q, size_t maxsize);

/* Marks one task done (call once per message taken, when its work is
 * finished). MP_ESTATE ("task_done() called too many times", nothing
 * changed) when no task is unfinished; MP_EINVAL for NULL or a queue that
 * is not joinable. */
MP_API int mp_queue_task_done(mp_queue *q);

/* Waits until every message put has been marked done, up to timeout
 * seconds: 0, or MP_ETIMEDOUT. A consumer that died between get and
 * task_done leaves its task unfinished for good, so a join that must not
 * hang takes a timeout and reads mp_queue_unfinished(). MP_EINVAL for
 * NULL, a NaN timeout or a queue that is not joinable. */
MP_API int mp_queue_join(mp_queue *q, double timeout);

/* The number of tasks put and not yet marked done, across all processes,
 * into *n. MP_EINVAL for NULL or a queue that is not joinable. */
MP_API int mp_queue_unfinished(mp_queue *q, size_t *n);

/* ---- SimpleQueue ------------------------------------------------------------------ */

/* Creates a SimpleQueue (Python's multiprocessing.SimpleQueue): an
 * unbounded queue without a feeder thread or a buffer, the cheapest way
 * for many processes to pass messages. put writes into the ring itself,
 * waiting while the ring has no room (up to its timeout: MP_EFULL after;
 * pass MP_FOREVER for Python's blocking put); use it with mp_queue_put*,
 * mp_queue_get*, mp_queue_empty, mp_queue_close and mp_queue_free. The
 * caller owns *q. MP_EINVAL for NULL, MP_ENOMEM, MP_ESYS. */
MP_API int mp_simple_queue_new(mp_queue **q);

/* The same with a ring of ring_bytes, as mp_queue_new_sized(). */
MP_API int mp_simple_queue_new_sized(mp_queue **q, size_t ring_bytes);

#ifdef __cplusplus
}
#endif
#endif
