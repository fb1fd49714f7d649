/* pipe_session.c - the seed's interactive Pipe session, in one process:
 *
 *     >>> a, b = Pipe()
 *     >>> a.send([1, 'hello', None])
 *     >>> b.recv()
 *     [1, 'hello', None]
 *     >>> b.send_bytes(b'thank you')
 *     >>> a.recv_bytes()
 *     b'thank you'
 *     >>> arr1 = array.array('i', range(5))
 *     >>> arr2 = array.array('i', [0] * 10)
 *     >>> a.send_bytes(arr1)
 *     >>> count = b.recv_bytes_into(arr2)
 *     >>> assert count == len(arr1) * arr1.itemsize
 *     >>> arr2
 *     array('i', [0, 1, 2, 3, 4, 0, 0, 0, 0, 0])
 *
 * It prints what the session shows, as Python prints it.
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

int main(int argc, char **argv)
{
    mp_main(argc, argv);

    mp_conn *a, *b;
    check(mp_pipe(&a, &b, 1), "Pipe()");

    mp_obj *msg = MP_LIST(mp_obj_int(1), mp_obj_str("hello"), mp_obj_none());
    if (!msg) check(MP_ENOMEM, "[1, 'hello', None]");
    check(mp_conn_send(a, msg), "send");
    mp_obj_free(msg);
    mp_obj *got;
    check(mp_conn_recv(b, &got), "recv");
    check(mp_obj_print(got), "print"); /* [1, 'hello', None] */
    mp_obj_free(got);

    check(mp_conn_send_bytes(b, "thank you", 0, 9), "send_bytes");
    void *data;
    size_t len;
    check(mp_conn_recv_bytes(a, &data, &len, 0), "recv_bytes");
    mp_obj *bytes = mp_obj_bytes(data, len);
    mp_free(data);
    if (!bytes) check(MP_ENOMEM, "bytes");
    check(mp_obj_print(bytes), "print"); /* b'thank you' */
    mp_obj_free(bytes);

    int arr1[5] = {0, 1, 2, 3, 4};
    int arr2[10] = {0};
    check(mp_conn_send_bytes(a, arr1, 0, sizeof arr1), "send_bytes(arr1)");
    size_t count;
    check(mp_conn_recv_bytes_into(b, arr2, sizeof arr2, 0, &count), "recv_bytes_into");
    if (count != sizeof arr1) { /* assert count == len(arr1) * arr1.itemsize */
        fprintf(stderr, "received %zu bytes, expected %zu\n", count, sizeof arr1);
        return 1;
    }
    printf("%zu\n", count); /* 20 */

    printf("array('i', [");
    for (int i = 0; i < 10; i++)
        printf(i ? ", %d" : "%d", arr2[i]);
    printf("])\n");

    mp_conn_close(a);
    mp_conn_close(b);
    return 0;
}
