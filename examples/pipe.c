/* pipe.c - the seed's Pipe program in C:
 *
 *     def f(conn):
 *         conn.send([42, None, 'hello'])
 *         conn.close()
 *
 *     parent_conn, child_conn = Pipe()
 *     p = Process(target=f, args=(child_conn,))
 *     p.start()
 *     print(parent_conn.recv())
 *     p.join()
 *
 * Sending the list needs objects (a later issue); this version sends the
 * bytes b'hello' and prints them as Python prints a bytes object:
 *
 *     b'hello'
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mproc.h>

/* Runs in the child. */
static int f(const mp_args *args)
{
    mp_conn *conn = mp_args_conn(args, 0);
    int rc = mp_conn_send_bytes(conn, "hello", 0, 5);
    mp_conn_close(conn);
    return rc == 0 ? 0 : 1;
}

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "%s: %s (%s)\n", what, mp_strerror(rc), mp_last_error());
        exit(1);
    }
}

/* Prints bytes as Python's repr() does: b'...', escaping what it escapes. */
static void print_bytes(const unsigned char *p, size_t n)
{
    char q = memchr(p, '\'', n) && !memchr(p, '"', n) ? '"' : '\'';
    printf("b%c", q);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == q || p[i] == '\\')
            printf("\\%c", p[i]);
        else if (p[i] == '\t')
            printf("\\t");
        else if (p[i] == '\n')
            printf("\\n");
        else if (p[i] == '\r')
            printf("\\r");
        else if (p[i] < 0x20 || p[i] >= 0x7f)
            printf("\\x%02x", p[i]);
        else
            putchar(p[i]);
    }
    printf("%c\n", q);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv); /* in a spawned child, runs f and exits */

    mp_conn *parent_conn, *child_conn;
    mp_process *p;
    check(mp_pipe(&parent_conn, &child_conn, 1), "Pipe()");
    check(mp_process_new(&p, f, mp_args_of(child_conn)), "Process");
    check(mp_process_start(p), "start");

    void *data;
    size_t len;
    check(mp_conn_recv_bytes(parent_conn, &data, &len, 0), "recv_bytes");
    print_bytes(data, len); /* b'hello' */
    mp_free(data);

    check(mp_process_join(p, MP_FOREVER), "join");
    int code;
    check(mp_process_exitcode(p, &code), "exitcode");
    if (code != 0) {
        fprintf(stderr, "the child failed with exit code %d\n", code);
        return 1;
    }
    check(mp_process_close(p), "close");
    mp_conn_close(parent_conn);
    mp_conn_close(child_conn);
    return 0;
}
