/* mproc/conn.h - the two ends of a Pipe (Python's Connection).
 *
 * mp_pipe() gives two connected ends. A duplex pipe is a socket pair that
 * both ends read and write; a one-way pipe gives a read end and a write end.
 * Messages are framed exactly as multiprocessing.connection frames them (a
 * 4-byte big-endian length, or -1 and an 8-byte length for messages over
 * 2 GiB - 1), so a Python Connection on the same descriptor reads and
 * writes the same bytes. One end is used by one thread at a time. Writing
 * to a pipe whose reader is gone gives MP_ECLOSED, never SIGPIPE. */
#ifndef MPROC_CONN_H
#define MPROC_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "obj.h"
#include "process.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates a pipe. duplex != 0: both ends read and write (Python's default).
 * duplex == 0: *a only reads and *b only writes, as Pipe(duplex=False).
 * The caller owns both and releases each with mp_conn_close(). */
MP_API int mp_pipe(mp_conn **a, mp_conn **b, int duplex);

/* Closes and releases this process's end. The other end sees end of file
 * once every process holding this end has closed it. NULL is ignored.
 * On an end a child received as an argument, this only closes it (every
 * later call gives MP_ESTATE): the runtime frees it when the target ends. */
MP_API void mp_conn_close(mp_conn *c);

/* 1 if this end can read / write. */
MP_API int mp_conn_readable(const mp_conn *c);
MP_API int mp_conn_writable(const mp_conn *c);

/* Sends size bytes of buf starting at offset as one message; blocks until
 * written. buf may be NULL when size is 0. MP_ECLOSED if the reader is gone, MP_ESTATE on
 * a read-only end. */
MP_API int mp_conn_send_bytes(mp_conn *c, const void *buf, size_t offset, size_t size);

/* Receives one message into a new buffer (*data, caller frees with
 * mp_free(); *len). maxlength 0 means no limit; a longer message is
 * MP_ETOOBIG and, as in Python, leaves the connection unusable (MP_ESTATE
 * afterwards) - except for a message kept after MP_ETOOSHORT, which stays
 * kept. MP_ECLOSED at end of file, MP_EPROTO if the peer closed in the
 * middle of a message. */
MP_API int mp_conn_recv_bytes(mp_conn *c, void **data, size_t *len, size_t maxlength);

/* Receives one message into buf at offset (buf holds size bytes in all);
 * *received is the message length. If it does not fit: MP_ETOOSHORT,
 * *received is the length needed, nothing is written to buf, and the
 * message stays with the connection for the next receive call (Python's
 * BufferTooShort hands it over the same way). MP_EINVAL if offset > size. */
MP_API int mp_conn_recv_bytes_into(mp_conn *c, void *buf, size_t size, size_t offset,
                                   size_t *received);

/* 1 if a message (or end of file) can be read without blocking, 0 if none
 * came within timeout seconds (0: just look; MP_FOREVER: wait). */
MP_API int mp_conn_poll(mp_conn *c, double timeout);

/* Sends o as one message holding its pickle (Python's conn.send(obj)).
 * o stays the caller's. MP_ETOOBIG if o nests deeper than MP_OBJ_MAX_DEPTH;
 * otherwise as mp_conn_send_bytes(). */
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
 * one end of a pipe. Takes ownership of handle, also on failure. */
MP_API int mp_conn_from_handle(mp_conn **c, intptr_t handle, int readable, int writable);

#ifdef __cplusplus
}
#endif
#endif
