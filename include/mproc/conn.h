/* mproc/conn.h - the two ends of a Pipe (Python's Connection).
 *
 * mp_pipe() gives two connected ends. A duplex pipe is a socket pair that
 * both ends read and write; a one-way pipe gives a read end and a write end.
 * Messages are framed exactly as multiprocessing.connection frames them (a
 * 4-byte big-endian length, or -1 and an 8-byte length for messages over
 * 2 GiB - 1), so a Python Connection on the same descriptor reads and
 * writes the same bytes. One end is used by one thread at a time. Writing
 * to a pipe whose reader is gone gives MP_ECLOSED, never SIGPIPE.
 *
 * Every call below that returns an error code gives MP_EINVAL for a NULL
 * end or a NULL output pointer, and for a size or offset above
 * PTRDIFF_MAX (a negative number converted to size_t); nothing is read or
 * written then.
 *
 * The length of an incoming message is the peer's word, so it never
 * decides alone how much memory is taken: a receive without a maxlength
 * is limited by the end's ceiling (MP_CONN_DEFAULT_MAX_MESSAGE unless
 * mp_conn_set_max_message() says otherwise), checked before anything is
 * allocated; under it, memory grows only as the bytes really arrive. */
#ifndef MPROC_CONN_H
#define MPROC_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "types.h"
#include "obj.h"
#include "process.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ceiling of a new end: 1 GiB. Python has none; a peer that claims
 * more is far likelier a bug or an attack than a real message (the queue
 * carries large data better), and a program that means it raises the
 * ceiling of that end. */
#define MP_CONN_DEFAULT_MAX_MESSAGE ((size_t)1 << 30)

/* Creates a pipe. duplex != 0: both ends read and write (Python's default).
 * duplex == 0: *a only reads and *b only writes, as Pipe(duplex=False).
 * The caller owns both and releases each with mp_conn_close(). MP_EINVAL
 * for a NULL pointer, MP_ESYS (MP_ENOMEM) if the OS (memory) refused. */
MP_API int mp_pipe(mp_conn **a, mp_conn **b, int duplex);

/* Closes and releases this process's end. The other end sees end of file
 * once every process holding this end has closed it. NULL is ignored;
 * c must not be used afterwards (as after free()). On an end a child
 * received as an argument, this only closes it: every later call gives
 * MP_ESTATE, closing again does nothing, and the runtime frees it when the
 * target ends. */
MP_API void mp_conn_close(mp_conn *c);

/* 1 if this end can read / write; 0 for NULL and after mp_conn_close() of
 * a child's argument. */
MP_API int mp_conn_readable(const mp_conn *c);
MP_API int mp_conn_writable(const mp_conn *c);

/* Sends size bytes of buf starting at offset as one message; blocks until
 * written. buf may be NULL when size is 0. MP_ECLOSED if the reader is
 * gone, MP_ESTATE on a read-only end, MP_EINVAL for a NULL buf with a size
 * or offset + size above PTRDIFF_MAX, MP_ETOOBIG for a message a Windows
 * pipe cannot carry (over 0xffffffff bytes), MP_ESYS if the OS failed. */
MP_API int mp_conn_send_bytes(mp_conn *c, const void *buf, size_t offset, size_t size);

/* Receives one message into a new buffer (*data, caller frees with
 * mp_free(); *len). A message longer than maxlength - or, with maxlength
 * 0, than the end's ceiling (mp_conn_set_max_message) - is MP_ETOOBIG,
 * found from its length before anything is allocated or read, and as in
 * Python leaves the connection unusable (MP_ESTATE afterwards); except a
 * message kept after MP_ETOOSHORT, which stays kept. MP_ECLOSED at end of
 * file, MP_EPROTO for a corrupt header or if the peer closed in the middle
 * of a message (unusable afterwards too), MP_ESTATE on a write-only or
 * unusable end, MP_ENOMEM (the message is dropped, the stream stays in
 * step), MP_ESYS if the OS failed. */
MP_API int mp_conn_recv_bytes(mp_conn *c, void **data, size_t *len, size_t maxlength);

/* Receives one message into buf at offset (buf holds size bytes in all);
 * *received is the message length. If it does not fit: MP_ETOOSHORT,
 * *received is the length needed, nothing is written to buf, and the
 * message stays with the connection for the next receive call (Python's
 * BufferTooShort hands it over the same way) - unless it is over the
 * end's ceiling, which is MP_ETOOBIG as in mp_conn_recv_bytes(). MP_EINVAL
 * if offset > size, for a NULL buf with a size, or a size above
 * PTRDIFF_MAX; otherwise the errors of mp_conn_recv_bytes(). */
MP_API int mp_conn_recv_bytes_into(mp_conn *c, void *buf, size_t size, size_t offset,
                                   size_t *received);

/* 1 if a message (or end of file) can be read without blocking, 0 if none
 * came within timeout seconds (0: just look; negative, MP_FOREVER: wait
 * with no limit). MP_EINVAL for a NaN timeout, MP_ESTATE on a write-only
 * or unusable end, MP_ESYS if the OS failed. */
MP_API int mp_conn_poll(mp_conn *c, double timeout);

/* Sends o as one message holding its pickle (Python's conn.send(obj)).
 * o stays the caller's. MP_EINVAL for a NULL o, MP_ETOOBIG if o nests
 * deeper than MP_OBJ_MAX_DEPTH; otherwise as mp_conn_send_bytes(). */
MP_API int mp_conn_send(mp_conn *c, const mp_obj *o);

/* Receives one message and decodes it (Python's conn.recv()): *o is a new
 * object the caller frees with mp_obj_free(). A message that is not a
 * pickle of the supported types gives mp_obj_loads()'s error
 * (MP_EUNSUPPORTED, MP_EPROTO, MP_ERANGE): it is consumed and the
 * connection stays usable. Otherwise as mp_conn_recv_bytes(). */
MP_API int mp_conn_recv(mp_conn *c, mp_obj **o);

/* Wraps an inherited OS handle (a POSIX file descriptor, or a Windows
 * HANDLE as an integer) as a connection end, as Python's
 * Connection(handle, readable, writable) does: for a program started with
 * one end of a pipe. Takes ownership of handle, also on failure (it is
 * closed then). MP_EINVAL for a NULL c, a handle of -1, or an end neither
 * readable nor writable; MP_ENOMEM. */
MP_API int mp_conn_from_handle(mp_conn **c, intptr_t handle, int readable, int writable);

/* Sets the ceiling of this end: the longest message a receive without a
 * maxlength (mp_conn_recv_bytes with 0, mp_conn_recv, a message kept by
 * mp_conn_recv_bytes_into) takes. SIZE_MAX means none, as in Python.
 * The ceiling belongs to this process's handle: a child given the end
 * starts from MP_CONN_DEFAULT_MAX_MESSAGE. MP_EINVAL for a NULL end or a
 * ceiling of 0; MP_ESTATE on a child's argument after mp_conn_close(). */
MP_API int mp_conn_set_max_message(mp_conn *c, size_t max);

/* The ceiling of this end; 0 for NULL. */
MP_API size_t mp_conn_max_message(const mp_conn *c);

#ifdef __cplusplus
}
#endif
#endif
