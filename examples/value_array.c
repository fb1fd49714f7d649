/* value_array.c - the seed's Value and Array program in C:
 *
 *     def f(n, a):
 *         n.value = 3.1415927
 *         for i in range(len(a)):
 *             a[i] = -a[i]
 *
 *     num = Value('d', 0.0)
 *     arr = Array('i', range(10))
 *     p = Process(target=f, args=(num, arr))
 *     p.start(); p.join()
 *     print(num.value)
 *     print(arr[:])
 *
 * It prints what Python prints:
 *
 *     3.1415927
 *     [0, -1, -2, -3, -4, -5, -6, -7, -8, -9]
 */
#include <stdio.h>
#include <stdlib.h>

#include <mproc.h>

/* Runs in the child. Its return value is the child's exit code. */
static int f(const mp_args *args)
{
    mp_value *n = mp_args_value(args, 0);
    mp_array *a = mp_args_array(args, 1);
    if (mp_value_set_double(n, 3.1415927) != 0) return 1;
    for (size_t i = 0; i < mp_array_len(a); i++) {
        int64_t x;
        if (mp_array_get_int(a, i, &x) != 0 || mp_array_set_int(a, i, -x) != 0) return 1;
    }
    return 0;
}

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "%s: %s (%s)\n", what, mp_strerror(rc), mp_last_error());
        exit(1);
    }
}

int main(int argc, char **argv)
{
    mp_main(argc, argv); /* in a spawned child, runs f and exits */

    mp_value *num;
    mp_array *arr;
    mp_process *p;
    check(mp_value_new(&num, 'd'), "Value('d')");
    check(mp_array_new_range(&arr, 'i', 10), "Array('i', range(10))");

    check(mp_process_new(&p, f, mp_args_of(num, arr)), "Process");
    check(mp_process_start(p), "start");
    check(mp_process_join(p, MP_FOREVER), "join");
    int code;
    check(mp_process_exitcode(p, &code), "exitcode");
    if (code != 0) {
        fprintf(stderr, "the child failed with exit code %d\n", code);
        return 1;
    }
    check(mp_process_free(p), "close");

    check(mp_value_print(num), "print(num.value)"); /* 3.1415927 */
    check(mp_array_print(arr), "print(arr[:])");    /* [0, -1, -2, ..., -9] */

    mp_value_free(num);
    mp_array_free(arr);
    return 0;
}
