/* echo_peer.c - the other end of a pipe for a Python program.
 *
 * Usage: echo_peer FD
 *
 * FD is an inherited connection descriptor, as Python's
 * multiprocessing.connection.Connection(fd) takes one. For every object
 * received, echo_peer sends back a two-item list: the object's repr as
 * computed in C, and the object itself. It exits with status 0 at end of
 * file, and 1 on anything else (after saying why on stderr). From Python:
 *
 *     a, b = multiprocessing.Pipe()
 *     p = subprocess.Popen(['echo_peer', str(b.fileno())], pass_fds=[b.fileno()])
 *     b.close()
 *     a.send({'x': (1, 2.5)})
 *     print(a.recv())     # ["{'x': (1, 2.5)}", {'x': (1, 2.5)}]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <mproc.h>

static int fail(int rc, const char *what)
{
    fprintf(stderr, "echo_peer: %s: %s (%s)\n", what, mp_strerror(rc), mp_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    char *end;
    errno = 0;
    long fd = argc == 2 ? strtol(argv[1], &end, 10) : -1;
    if (argc != 2 || errno || *end || fd < 0) {
        fprintf(stderr, "usage: echo_peer FD\n");
        return 2;
    }
    mp_conn *c;
    int rc = mp_conn_from_handle(&c, (intptr_t)fd, 1, 1);
    if (rc < 0) return fail(rc, "connection");

    for (;;) {
        mp_obj *o;
        rc = mp_conn_recv(c, &o);
        if (rc == MP_ECLOSED) break;
        if (rc < 0) {
            mp_conn_close(c);
            return fail(rc, "recv");
        }
        char *repr;
        rc = mp_obj_repr(o, &repr);
        mp_obj *reply = rc == 0 ? MP_LIST(mp_obj_str(repr), o) : NULL;
        if (rc == 0) mp_free(repr);
        if (!reply) {
            if (rc < 0) mp_obj_free(o);
            mp_conn_close(c);
            return fail(rc < 0 ? rc : MP_ENOMEM, "reply");
        }
        rc = mp_conn_send(c, reply);
        mp_obj_free(reply);
        if (rc < 0) {
            mp_conn_close(c);
            return fail(rc, "send");
        }
    }
    mp_conn_close(c);
    return 0;
}
