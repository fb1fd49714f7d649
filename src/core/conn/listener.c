/* listener.c - Listener and Client of multiprocessing.connection.
 *
 * The platform layer gives connected stream sockets (AF_UNIX or TCP); each
 * becomes an mp_conn, which frames messages as Python's Connection does.
 * With an authkey the handshake of auth.c runs over that framing, in
 * Python's order: the listener delivers its challenge first and then
 * answers the client's; the client answers first and then delivers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "core/conn/conn_internal.h"
#include "base/deadline.h"
#include "base/error.h"
#include "core/conn/listener_internal.h"
#include "base/wipe.h"
#include "core/runtime/authkey.h"

struct mp_listener {
    mp_os_listener *os;
    /* A private copy of the key; has_key distinguishes an empty key (a
     * handshake with b'', as Python 3.12+ does for authkey=b'') from none. */
    unsigned char *key;
    size_t keylen;
    int has_key;
    char *address;
    mp_auth_info last;
};

/* The checks that are the same on every OS, made once before the layer's
 * call; how long a path may be is the system's (sockaddr_un) and the
 * layer's. */
static int check_path(const char *what, const char *path)
{
    if (!path) return mp_set_error(MP_EINVAL, "%s: NULL path", what);
    if (!*path) return mp_set_error(MP_EINVAL, "AF_UNIX path is empty");
    return 0;
}

/* min is 0 to listen (any free port), 1 to connect. */
static int check_tcp(const char *what, const char *host, int port, int min)
{
    if (!host) return mp_set_error(MP_EINVAL, "%s: NULL host", what);
    if (port < min || port > 65535)
        return mp_set_error(MP_EINVAL, "TCP port %d out of range %d..65535", port, min);
    return 0;
}

/* The first address that takes the listener, IPv4 ones first: Python's
 * Listener and Client speak AF_INET only, so a name like "localhost" must
 * end up where a Python client looks for it. */
static int listen_tcp(mp_os_listener **os, const char *host, int port, int backlog)
{
    mp_os_addrs *a = NULL;
    int rc = mp_os_resolve_tcp(&a, host, port, 1);
    if (rc < 0) goto cleanup;
    size_t count = mp_os_addrs_count(a);
    rc = 1; /* nothing tried yet */
    for (int family = 4; family <= 6 && rc != 0; family += 2)
        for (size_t i = 0; i < count && rc != 0; i++)
            if (mp_os_addrs_family(a, i) == family)
                rc = mp_os_listen_tcp(os, a, i, backlog);
    if (rc == 1) rc = mp_set_error(MP_ESYS, "getaddrinfo %s: no IPv4/IPv6 address", host);
    if (rc == 0) mp_clear_error(); /* an earlier address's failure is not this call's */
cleanup:
    mp_os_addrs_free(a);
    return rc;
}

/* Every address of the name, in the resolver's order, until one answers;
 * the message is the last one's. */
static int connect_tcp(const char *host, int port, mp_os_handle *h)
{
    mp_os_addrs *a = NULL;
    int rc = mp_os_resolve_tcp(&a, host, port, 0);
    if (rc < 0) goto cleanup;
    size_t count = mp_os_addrs_count(a);
    rc = 1; /* nothing tried yet */
    for (size_t i = 0; i < count && rc != 0; i++)
        rc = mp_os_connect_tcp(a, i, h);
    if (rc == 1) rc = mp_set_error(MP_ESYS, "connect %s:%d: no address", host, port);
    if (rc == 0) mp_clear_error(); /* an earlier address's failure is not this call's */
cleanup:
    mp_os_addrs_free(a);
    return rc;
}

/* Creates the wrapper around an OS listener (taken over, also on failure). */
static int listener_wrap(mp_listener **out, mp_os_listener *os, const char *address,
                         const void *authkey, size_t keylen)
{
    mp_listener *l = calloc(1, sizeof *l);
    if (!l) {
        mp_os_listener_close(os);
        return mp_set_error(MP_ENOMEM, "out of memory for a listener");
    }
    l->os = os;
    l->address = malloc(strlen(address) + 1);
    if (authkey) {
        l->has_key = 1;
        l->keylen = keylen;
        l->key = malloc(keylen ? keylen : 1);
        if (l->key && keylen) memcpy(l->key, authkey, keylen);
    }
    if (!l->address || (authkey && !l->key)) {
        mp_listener_close(l);
        return mp_set_error(MP_ENOMEM, "out of memory for a listener");
    }
    strcpy(l->address, address);
    *out = l;
    return 0;
}

int mp_listener_new_unix(mp_listener **l, const char *path, int backlog,
                         const void *authkey, size_t keylen)
{
    mp_clear_error();
    if (!l) return mp_set_error(MP_EINVAL, "mp_listener_new_unix: NULL listener pointer");
    *l = NULL;
    int rc = check_path("mp_listener_new_unix", path);
    if (rc < 0) return rc;
    if (backlog < 0) return mp_set_error(MP_EINVAL, "negative backlog %d", backlog);
    rc = mp__authkey_resolve(&authkey, &keylen);
    if (rc < 0) return rc;
    mp_os_listener *os = NULL;
    rc = mp_os_listen_unix(&os, path, backlog);
    if (rc < 0) return rc;
    return listener_wrap(l, os, path, authkey, keylen);
}

int mp_listener_new_tcp(mp_listener **l, const char *host, int port, int backlog,
                        const void *authkey, size_t keylen)
{
    mp_clear_error();
    if (!l) return mp_set_error(MP_EINVAL, "mp_listener_new_tcp: NULL listener pointer");
    *l = NULL;
    int rc = check_tcp("mp_listener_new_tcp", host, port, 0);
    if (rc < 0) return rc;
    if (backlog < 0) return mp_set_error(MP_EINVAL, "negative backlog %d", backlog);
    rc = mp__authkey_resolve(&authkey, &keylen);
    if (rc < 0) return rc;
    mp_os_listener *os = NULL;
    rc = listen_tcp(&os, host, port, backlog);
    if (rc < 0) return rc;
    /* "host:port"; an IPv6 literal in brackets so the port stays apart. */
    size_t n = strlen(host) + 16;
    char *addr = malloc(n);
    if (!addr) {
        mp_os_listener_close(os);
        return mp_set_error(MP_ENOMEM, "out of memory for a listener");
    }
    snprintf(addr, n, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host,
             mp_os_listener_port(os));
    rc = listener_wrap(l, os, addr, authkey, keylen);
    free(addr);
    return rc;
}

int mp_listener_accept(mp_listener *l, mp_conn **c)
{
    mp_clear_error();
    if (!c) return mp_set_error(MP_EINVAL, "mp_listener_accept: NULL connection pointer");
    *c = NULL;
    if (!l) return mp_set_error(MP_EINVAL, "mp_listener_accept: NULL listener");
    mp_os_handle h = MP_OS_NO_HANDLE;
    int rc = mp_os_accept(l->os, &h);
    if (rc < 0) return rc;
    mp_conn *conn = NULL;
    rc = mp__conn_from_handle(&conn, h, 1, 1);
    if (rc < 0) return rc;
    if (l->has_key) {
        mp_auth_info info = {(mp_digest_alg)0, (mp_digest_alg)0};
        rc = mp__auth_deliver(conn, l->key, l->keylen, &info.peer);
        if (rc == 0) rc = mp__auth_answer(conn, l->key, l->keylen, &info.ours);
        if (rc < 0) {
            mp_conn_close(conn);
            return rc;
        }
        l->last = info;
    }
    *c = conn;
    return 0;
}

int mp_listener_port(const mp_listener *l)
{
    mp_clear_error();
    return l ? mp_os_listener_port(l->os) : 0;
}

const char *mp_listener_address(const mp_listener *l)
{
    return l ? l->address : "";
}

void mp_listener_close(mp_listener *l)
{
    if (!l) return;
    mp_os_listener_close(l->os);
    if (l->key) {
        mp_secure_zero(l->key, l->keylen);
        free(l->key);
    }
    free(l->address);
    free(l);
}

int mp_listener_poll(mp_listener *l, double timeout)
{
    mp_clear_error();
    if (!l) return mp_set_error(MP_EINVAL, "NULL listener");
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    return mp_os_poll_readable(mp_os_listener_handle(l->os), mp_deadline(timeout));
}

mp_os_handle mp__listener_handle(const mp_listener *l)
{
    return mp_os_listener_handle(l->os);
}

mp_auth_info mp__listener_last_auth(const mp_listener *l)
{
    return l->last;
}

int mp__client_open(mp_conn **c, const char *path, const char *host, int port,
                    const void *authkey, size_t keylen, mp_auth_info *info)
{
    if (!c) return mp_set_error(MP_EINVAL, "mp_client: NULL connection pointer");
    *c = NULL;
    int rc = mp__authkey_resolve(&authkey, &keylen);
    if (rc < 0) return rc;
    mp_os_handle h = MP_OS_NO_HANDLE;
    if (path) {
        rc = check_path("mp_client_unix", path);
        if (rc == 0) rc = mp_os_connect_unix(path, &h);
    } else {
        rc = check_tcp("mp_client_tcp", host, port, 1);
        if (rc == 0) rc = connect_tcp(host, port, &h);
    }
    if (rc < 0) return rc;
    mp_conn *conn = NULL;
    rc = mp__conn_from_handle(&conn, h, 1, 1);
    if (rc < 0) return rc;
    if (authkey) {
        mp_auth_info got = {(mp_digest_alg)0, (mp_digest_alg)0};
        rc = mp__auth_answer(conn, authkey, keylen, &got.ours);
        if (rc == 0) rc = mp__auth_deliver(conn, authkey, keylen, &got.peer);
        if (rc < 0) {
            mp_conn_close(conn);
            return rc;
        }
        if (info) *info = got;
    }
    *c = conn;
    return 0;
}

int mp_client_unix(mp_conn **c, const char *path, const void *authkey, size_t keylen)
{
    mp_clear_error();
    if (!path) {
        if (c) *c = NULL;
        return mp_set_error(MP_EINVAL, "mp_client_unix: NULL path");
    }
    return mp__client_open(c, path, NULL, 0, authkey, keylen, NULL);
}

int mp_client_tcp(mp_conn **c, const char *host, int port, const void *authkey,
                  size_t keylen)
{
    mp_clear_error();
    return mp__client_open(c, NULL, host, port, authkey, keylen, NULL);
}
