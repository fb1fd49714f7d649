/* queue.c - the seed's Queue program in C:
 *
 *     def f(q):
 *         q.put([42, None, 'hello'])
 *
 *     q = Queue()
 *     p = Process(target=f, args=(q,))
 *     p.start()
 *     print(q.get())    # prints "[42, None, 'hello']"
 *     p.join()
 */
#include <stdio.h>
#include <stdlib.h>

#include <mproc.h>

static void check(int rc, const char *what)
{
    if (rc < 0) {
        fprintf(stderr, "%s: %s (%s)\n", what, mp_strerror(rc), mp_last_error());
        exit(1);
    }
}

/* Runs in the child. */
static int f(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    mp_obj *msg = MP_LIST(mp_obj_int(42), mp_obj_none(), mp_obj_str("hello"));
    int rc = msg ? mp_queue_put(q, msg, MP_FOREVER) : MP_ENOMEM;
    mp_obj_free(msg);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    mp_main(argc, argv); /* a spawned child runs f here and exits */

    mp_queue *q;
    mp_process *p;
    check(mp_queue_new(&q, 0), "Queue");
    check(mp_process_new(&p, f, mp_args_of(q)), "Process");
    check(mp_process_start(p), "start");

    mp_obj *msg;
    check(mp_queue_get(q, &msg, MP_FOREVER), "get");
    check(mp_obj_print(msg), "print"); /* [42, None, 'hello'] */
    mp_obj_free(msg);

    check(mp_process_join(p, MP_FOREVER), "join");
    check(mp_process_free(p), "close");
    mp_queue_free(q);
    return 0;
}
