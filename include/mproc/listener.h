/* mproc/listener.h - connections between unrelated processes
 * (multiprocessing.connection's Listener and Client).
 *
 * A listener waits on an AF_UNIX path or a TCP address; a client connects
 * to it; each side then holds an mp_conn framed exactly as Python's
 * Connection, so either side may be a Python program. With an authkey,
 * both sides prove they know it by Python's challenge/response (HMAC; the
 * digest negotiated as by Python 3.12+, and the plain HMAC-MD5 form of
 * Python 3.11 and older, which is recognised and answered). A wrong key is
 * MP_EAUTH on both sides and the connection is closed. */
#ifndef MPROC_LISTENER_H
#define MPROC_LISTENER_H

#include <stddef.h>

#include "conn.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mp_listener mp_listener;

/* Listens on an AF_UNIX socket at path (which must not exist yet), with a
 * backlog of pending connections. authkey NULL: no authentication; a
 * non-NULL authkey of keylen 0 is the empty key, as Python's b''. The caller owns *l and
 * releases it with mp_listener_close(), which also removes the path. */
MP_API int mp_listener_new_unix(mp_listener **l, const char *path, int backlog,
                                const void *authkey, size_t keylen);

/* Listens on TCP host:port (host a numeric address or a name, "" for every
 * interface; port 0 picks a free port, see mp_listener_port()). */
MP_API int mp_listener_new_tcp(mp_listener **l, const char *host, int port, int backlog,
                               const void *authkey, size_t keylen);

/* Waits for a client and, with an authkey, runs the handshake: on success
 * *c is a new connection the caller owns; MP_EAUTH if the client failed
 * the challenge (that connection is closed; the listener stays usable). */
MP_API int mp_listener_accept(mp_listener *l, mp_conn **c);

/* 1 if a client waits to be accepted, 0 if none came within timeout
 * seconds (0: just look; MP_FOREVER: wait), or a negative code. */
MP_API int mp_listener_poll(mp_listener *l, double timeout);

/* The TCP port listened on (0 for AF_UNIX). */
MP_API int mp_listener_port(const mp_listener *l);

/* The address as text: the path, or "host:port". Valid until close. */
MP_API const char *mp_listener_address(const mp_listener *l);

/* Stops listening and releases l; removes the AF_UNIX path. NULL is
 * ignored. Connections already accepted stay open. */
MP_API void mp_listener_close(mp_listener *l);

/* Connects to a listener and, with an authkey, runs the handshake. The
 * caller owns *c. MP_ESYS if nothing listens there, MP_EAUTH for a key the
 * listener refused (or a listener that could not prove its own). */
MP_API int mp_client_unix(mp_conn **c, const char *path, const void *authkey,
                          size_t keylen);
MP_API int mp_client_tcp(mp_conn **c, const char *host, int port, const void *authkey,
                         size_t keylen);

#ifdef __cplusplus
}
#endif
#endif
