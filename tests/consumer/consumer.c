/* consumer.c - uses the installed mproc: a shared Value set in this process,
 * doubled by a spawned child, checked here. Exits non-zero on any failure. */
#include <mproc.h>
#include <stdio.h>

static int fail(const char *what, int rc)
{
    fprintf(stderr, "consumer: %s: %s (%s)\n", what, mp_error_name(rc), mp_last_error());
    return 1;
}

static int twice(const mp_args *args)
{
    mp_value *v = mp_args_value(args, 0);
    double x = 0;
    if (!v || mp_value_get_double(v, &x) != 0) return 2;
    return mp_value_set_double(v, 2 * x) == 0 ? 0 : 3;
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    printf("mproc %s\n", mp_version_string());
    if (mp_version() != MP_VERSION_HEX) {
        fprintf(stderr, "consumer: header version %x, library %x\n", MP_VERSION_HEX,
                mp_version());
        return 1;
    }

    mp_value *v = NULL;
    int rc = mp_value_new(&v, 'd');
    if (rc) return fail("mp_value_new", rc);
    double x = 0;
    if ((rc = mp_value_set_double(v, 2.5)) || (rc = mp_value_get_double(v, &x)))
        return fail("set/get", rc);
    if (x != 2.5) {
        fprintf(stderr, "consumer: got %g, wanted 2.5\n", x);
        return 1;
    }

    mp_process *p = NULL;
    int code = -1;
    if ((rc = mp_process_new(&p, twice, mp_args_of(v)))) return fail("process_new", rc);
    if ((rc = mp_process_start(p))) return fail("process_start", rc);
    if ((rc = mp_process_join(p, 60.0))) return fail("process_join", rc);
    if ((rc = mp_process_exitcode(p, &code))) return fail("process_exitcode", rc);
    mp_process_free(p);
    if ((rc = mp_value_get_double(v, &x))) return fail("get", rc);
    if (code != 0 || x != 5.0) {
        fprintf(stderr, "consumer: child exit code %d, value %g (wanted 0, 5)\n", code,
                x);
        return 1;
    }
    mp_value_print(v);
    mp_value_free(v);
    puts("consumer: ok");
    return 0;
}
