/* pool.c - the docs' first Pool program in C:
 *
 *     def f(x):
 *         return x*x
 *
 *     with Pool(5) as p:
 *         print(p.map(f, [1, 2, 3]))    # prints "[1, 4, 9]"
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

/* Runs in a worker: args is the tuple (x,). */
static int f(const mp_obj *args, mp_obj **result)
{
    int64_t x;
    if (mp_obj_get_int(mp_obj_item(args, 0), &x) < 0)
        return mp_pool_fail(result, 1, "f() wants an int");
    *result = mp_obj_int(x * x);
    return 0;
}

int main(int argc, char **argv)
{
    mp_main(argc, argv); /* a spawned worker serves the pool here and exits */

    mp_pool *p;
    check(mp_pool_new(&p, 5, NULL, NULL, 0), "Pool");
    mp_obj *items = MP_LIST(mp_obj_int(1), mp_obj_int(2), mp_obj_int(3));
    mp_obj *squares;
    check(mp_pool_map(p, f, items, 0, &squares), "map");
    check(mp_obj_print(squares), "print"); /* [1, 4, 9] */
    mp_obj_free(squares);
    mp_obj_free(items);
    mp_pool_free(p); /* the end of the with block: terminate */
    return 0;
}
