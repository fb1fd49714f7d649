/* socket.c - Listener/Client sockets: not yet on Windows.
 *
 * The sockets section of platform.h (AF_UNIX paths and TCP, for Listener
 * and Client) is the next part of the Win32 work: Winsock sockets made
 * with WSA_FLAG_NO_HANDLE_INHERIT, TCP everywhere and AF_UNIX from
 * Windows 10 1803 (docs/win32-layer.md). Until then every call fails with
 * MP_EUNSUPPORTED, so the library links and the rest works. */
#include "win32_util.h"

struct mp_os_listener {
    int unused;
};

static int not_yet(const char *what)
{
    return mp_set_error(MP_EUNSUPPORTED, "%s: sockets are not implemented on Windows yet",
                        what);
}

int mp_os_listen_unix(mp_os_listener **l, const char *path, int backlog)
{
    (void)path;
    (void)backlog;
    *l = NULL;
    return not_yet("listen (AF_UNIX)");
}

int mp_os_listen_tcp(mp_os_listener **l, const char *host, int port, int backlog)
{
    (void)host;
    (void)port;
    (void)backlog;
    *l = NULL;
    return not_yet("listen (TCP)");
}

int mp_os_listener_port(const mp_os_listener *l)
{
    (void)l;
    return 0;
}

mp_os_handle mp_os_listener_handle(const mp_os_listener *l)
{
    (void)l;
    return MP_OS_NO_HANDLE;
}

int mp_os_accept(mp_os_listener *l, mp_os_handle *h)
{
    (void)l;
    *h = MP_OS_NO_HANDLE;
    return not_yet("accept");
}

void mp_os_listener_close(mp_os_listener *l)
{
    (void)l;
}

int mp_os_connect_unix(const char *path, mp_os_handle *h)
{
    (void)path;
    *h = MP_OS_NO_HANDLE;
    return not_yet("connect (AF_UNIX)");
}

int mp_os_connect_tcp(const char *host, int port, mp_os_handle *h)
{
    (void)host;
    (void)port;
    *h = MP_OS_NO_HANDLE;
    return not_yet("connect (TCP)");
}
