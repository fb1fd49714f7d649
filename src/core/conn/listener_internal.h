/* listener_internal.h - what tests reach in listener.c beyond the API:
 * which digests a handshake used (to check the legacy/modern choice per
 * Python version). */
#ifndef MP_CORE_CONN_LISTENER_INTERNAL_H
#define MP_CORE_CONN_LISTENER_INTERNAL_H

#include "core/conn/auth.h"
#include "platform.h"
#include "mproc/listener.h"

/* For wait.c: what polls readable while a client waits (still l's). */
mp_os_handle mp__listener_handle(const mp_listener *l);

/* The digests of the last successful handshake of mp_listener_accept. */
mp_auth_info mp__listener_last_auth(const mp_listener *l);

/* mp_client_unix (path != NULL) or mp_client_tcp, reporting the digests
 * of the handshake in *info (may be NULL). */
int mp__client_open(mp_conn **c, const char *path, const char *host, int port,
                    const void *authkey, size_t keylen, mp_auth_info *info);

#endif
