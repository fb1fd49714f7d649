/* mproc/listener.h - connections between unrelated processes
 * (multiprocessing.connection's Listener and Client).
 *
 * A listener waits on an AF_UNIX path or a TCP address; a client connects
 * to it; each side then holds an mp_conn framed exactly as Python's
 * Connection, so either side may be a Python program. With an authkey,
 * both sides prove they know it by Python's challenge/response (HMAC; the
 * digest negotiated as by Python 3.12+, and the plain HMAC-MD5 form of
 * Python 3.11 and older, which is recognised and answered). A wrong key is
 * MP_EAUTH on both sides and the connection is closed. Answers are
 * compared in constant time; handshake messages over 256 bytes are
 * refused before they are read.
 *
 * An authkey is given as a pointer and a length. NULL with
 * MP_AUTHKEY_CURRENT (mproc/process.h) is this process's authkey, the one
 * its children inherit (Python's managers use it so; Python's Listener
 * and Client need it passed: current_process().authkey).
 *
 * Every call that returns an error code gives MP_EINVAL for a NULL
 * listener, result pointer, path or host, and for a NULL authkey with
 * another keylen; nothing is made then. */
#ifndef MPROC_LISTENER_H
#define MPROC_LISTENER_H

#include <stddef.h>

#include "conn.h"
#include "export.h"
#include "process.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Listens on an AF_UNIX socket at path (which must not exist yet), with a
 * backlog of pending connections. authkey NULL: no authentication; a
 * non-NULL authkey of keylen 0 is the empty key, as Python's b''. The
 * caller owns *l and releases it with mp_listener_close(), which also
 * removes the path. The socket file gets the mode the umask leaves, as in
 * Python. MP_EINVAL for a negative backlog or a path longer than the
 * system's sockaddr_un holds; MP_ESYS if the path exists or the OS
 * refused; MP_EUNSUPPORTED where the system has no AF_UNIX (older
 * Windows, Wine). */
MP_API int mp_listener_new_unix(mp_listener **l, const char *path, int backlog,
                                const void *authkey, size_t keylen);

/* Listens on TCP host:port (host a numeric address or a name, "" for every
 * interface - reachable from the network, so use an authkey; port 0 picks
 * a free port, see mp_listener_port()). MP_EINVAL for a port outside
 * 0..65535 or a negative backlog; MP_ESYS if the name does not resolve or
 * the OS refused (port in use). */
MP_API int mp_listener_new_tcp(mp_listener **l, const char *host, int port, int backlog,
                               const void *authkey, size_t keylen);

/* Waits for a client and, with an authkey, runs the handshake: on success
 * *c is a new connection the caller owns, else *c is NULL. MP_EAUTH if the
 * client failed the challenge (that connection is closed; the listener
 * stays usable); MP_ECLOSED / MP_ESYS if the client went away or the OS
 * failed during the handshake. */
MP_API int mp_listener_accept(mp_listener *l, mp_conn **c);

/* 1 if a client waits to be accepted, 0 if none came within timeout
 * seconds (0: just look; negative, MP_FOREVER: wait with no limit), or a
 * negative code: MP_EINVAL for NULL or a NaN timeout, MP_ESYS. */
MP_API int mp_listener_poll(mp_listener *l, double timeout);

/* The TCP port listened on (0 for AF_UNIX and NULL). */
MP_API int mp_listener_port(const mp_listener *l);

/* The address as text: the path, or "host:port" ("" for NULL). Valid until
 * close. */
MP_API const char *mp_listener_address(const mp_listener *l);

/* Stops listening and releases l; removes the AF_UNIX path and wipes the
 * key. NULL is ignored; l must not be used afterwards (as after free()).
 * Connections already accepted stay open. */
MP_API void mp_listener_close(mp_listener *l);

/* Connects to a listener and, with an authkey, runs the handshake. The
 * caller owns *c (NULL on failure). MP_EINVAL for a TCP port outside
 * 1..65535 or an AF_UNIX path too long; MP_ESYS if nothing listens there,
 * MP_EAUTH for a key the listener refused (or a listener that could not
 * prove its own), MP_ECLOSED if it hung up during the handshake,
 * MP_EUNSUPPORTED for AF_UNIX where the system has none. */
MP_API int mp_client_unix(mp_conn **c, const char *path, const void *authkey,
                          size_t keylen);
MP_API int mp_client_tcp(mp_conn **c, const char *host, int port, const void *authkey,
                         size_t keylen);

#ifdef __cplusplus
}
#endif
#endif
