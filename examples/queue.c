/* queue.c - the seed's Queue program in C: a child puts a message, the
 * parent gets and prints it.
 *
 *   from multiprocessing import Process, Queue
 *   def f(q):
 *       q.put(b'hello')
 *   q = Queue(); p = Process(target=f, args=(q,)); p.start()
 *   print(q.get()); p.join()
 *
 * (The seed puts [42, None, 'hello']; objects come with mp_obj.) */
#include <stdio.h>
#include <stdlib.h>

#include <mproc.h>

static int f(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    return mp_queue_put_bytes(q, "hello", 5, MP_FOREVER) == 0 ? 0 : 1;
}

static void check(int rc, const char *what)
{
    if (rc < 0) {
        fprintf(stderr, "%s: %s (%s)\n", what, mp_strerror(rc), mp_last_error());
        exit(1);
    }
}

int main(int argc, char **argv)
{
    mp_main(argc, argv); /* a spawned child runs f here and exits */

    mp_queue *q;
    mp_process *p;
    check(mp_queue_new(&q, 0), "Queue");
    check(mp_process_new(&p, f, mp_args_of(q)), "Process");
    check(mp_process_start(p), "start");

    void *msg;
    size_t len;
    check(mp_queue_get_bytes(q, &msg, &len, MP_FOREVER), "get");
    printf("b'%.*s'\n", (int)len, (const char *)msg); /* b'hello' */
    mp_free(msg);

    check(mp_process_join(p, MP_FOREVER), "join");
    check(mp_process_close(p), "close");
    mp_queue_free(q);
    return 0;
}
