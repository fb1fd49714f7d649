/* pipe.c - the seed's Pipe program in C:
 *
 *     def f(conn):
 *         conn.send([42, None, 'hello'])
 *         conn.close()
 *
 *     parent_conn, child_conn = Pipe()
 *     p = Process(target=f, args=(child_conn,))
 *     p.start()
 *     print(parent_conn.recv())   # prints "[42, None, 'hello']"
 *     p.join()
 */
#include <stdio.h>
#include <stdlib.h>

#include <mproc.h>

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "%s: %s (%s)\n", what, mp_strerror(rc), mp_last_error());
        exit(1);
    }
}

/* Runs in the child. */
static int f(const mp_args *args)
{
    mp_conn *conn = mp_args_conn(args, 0);
    mp_obj *msg = MP_LIST(mp_obj_int(42), mp_obj_none(), mp_obj_str("hello"));
    int rc = msg ? mp_conn_send(conn, msg) : MP_ENOMEM;
    mp_obj_free(msg);
    mp_conn_close(conn);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    mp_main(argc, argv); /* in a spawned child, runs f and exits */

    mp_conn *parent_conn, *child_conn;
    mp_process *p;
    check(mp_pipe(&parent_conn, &child_conn, 1), "Pipe()");
    check(mp_process_new(&p, f, mp_args_of(child_conn)), "Process");
    check(mp_process_start(p), "start");

    mp_obj *msg;
    check(mp_conn_recv(parent_conn, &msg), "recv");
    check(mp_obj_print(msg), "print"); /* [42, None, 'hello'] */
    mp_obj_free(msg);

    check(mp_process_join(p, MP_FOREVER), "join");
    check(mp_process_free(p), "close");
    mp_conn_close(parent_conn);
    mp_conn_close(child_conn);
    return 0;
}
