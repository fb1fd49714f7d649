/* runtime/misuse_child.c - misuse rows that only a child can run: reading its
 * arguments as the wrong type or past the end, and a connection argument
 * used after mp_conn_close() (the runtime still holds it, so every later
 * call is MP_ESTATE, and closing again does nothing).
 *
 * The child counts its cases and failures into an Array the parent gave
 * it, prints each failure, and exits with the number of failures. */
#include <string.h>

#include "misuse.h"

enum { A_INT, A_STR, A_BYTES, A_COUNTS, A_CONN, A_OBJ, N_ARGS };

typedef struct child_tally {
    int tried, failed;
} child_tally;

static void expect(child_tally *t, const char *what, int got, int want)
{
    t->tried++;
    if (got == want) return;
    t->failed++;
    fprintf(stderr, "misuse: FAILED in_child: %s gave %d (%s), documented %d\n", what,
            got, mp_last_error(), want);
}

#define EXPECT(t, call, want) expect(t, #call, (call), (want))

static void args_rows(child_tally *t, const mp_args *args)
{
    int64_t i;
    double d;
    const char *s;
    const void *p;
    size_t n;
    EXPECT(t, mp_args_get_int(args, A_STR, &i), MP_EINVAL);
    EXPECT(t, mp_args_get_int(args, N_ARGS, &i), MP_EINVAL);
    EXPECT(t, mp_args_get_int(args, (size_t)-1, &i), MP_EINVAL);
    EXPECT(t, mp_args_get_int(args, A_INT, NULL), MP_EINVAL);
    EXPECT(t, mp_args_get_int(NULL, A_INT, &i), MP_EINVAL);
    EXPECT(t, mp_args_get_double(args, A_STR, &d), MP_EINVAL);
    EXPECT(t, mp_args_get_double(args, A_INT, NULL), MP_EINVAL);
    EXPECT(t, mp_args_get_double(args, A_INT, &d) == 0 && d == 7.0, 1);
    EXPECT(t, mp_args_get_str(args, A_INT, &s), MP_EINVAL);
    EXPECT(t, mp_args_get_str(args, A_STR, NULL), MP_EINVAL);
    EXPECT(t, mp_args_get_str(args, N_ARGS, &s), MP_EINVAL);
    EXPECT(t, mp_args_get_bytes(args, A_STR, &p, &n), MP_EINVAL);
    EXPECT(t, mp_args_get_bytes(args, A_BYTES, NULL, &n), MP_EINVAL);
    EXPECT(t, mp_args_get_bytes(args, A_BYTES, &p, NULL), MP_EINVAL);
    EXPECT(t, mp_args_value(args, A_INT) == NULL, 1);
    EXPECT(t, mp_args_array(args, A_CONN) == NULL, 1);
    EXPECT(t, mp_args_queue(args, N_ARGS) == NULL, 1);
    EXPECT(t, mp_args_conn(args, A_COUNTS) == NULL, 1);
    EXPECT(t, mp_args_obj(args, A_STR) == NULL, 1);
    EXPECT(t, mp_args_type(args, N_ARGS) == MP_ARG_NONE, 1);
    EXPECT(t, mp_args_type(args, (size_t)-1) == MP_ARG_NONE, 1);
    EXPECT(t, mp_args_count(NULL) == 0 && mp_args_type(NULL, 0) == MP_ARG_NONE, 1);
    EXPECT(t, mp_args_value(NULL, 0) == NULL && mp_args_obj(NULL, 0) == NULL, 1);
}

static void closed_conn_rows(child_tally *t, mp_conn *c)
{
    char buf[8];
    void *d = NULL;
    size_t n = 0;
    mp_obj *o = NULL, *one = mp_obj_int(1);
    mp_conn_close(c);
    EXPECT(t, mp_conn_send_bytes(c, "x", 0, 1), MP_ESTATE);
    EXPECT(t, mp_conn_recv_bytes(c, &d, &n, 0), MP_ESTATE);
    EXPECT(t, mp_conn_recv_bytes_into(c, buf, sizeof buf, 0, &n), MP_ESTATE);
    EXPECT(t, mp_conn_poll(c, 0), MP_ESTATE);
    EXPECT(t, mp_conn_poll(c, MP_FOREVER), MP_ESTATE);
    EXPECT(t, mp_conn_send(c, one), MP_ESTATE);
    EXPECT(t, mp_conn_recv(c, &o), MP_ESTATE);
    EXPECT(t, mp_conn_set_max_message(c, 10), MP_ESTATE);
    EXPECT(t, mp_conn_readable(c), 0);
    EXPECT(t, mp_conn_writable(c), 0);
    mp_conn_close(c); /* twice: nothing happens */
    EXPECT(t, mp_conn_poll(c, 0), MP_ESTATE);
    mp_obj_free(one);
    mp_obj_free(o);
}

static int t_misuse_child(const mp_args *args)
{
    child_tally t = {0, 0};
    mp_array *counts = mp_args_array(args, A_COUNTS);
    mp_conn *c = mp_args_conn(args, A_CONN);
    MPT_CHILD_CHECK(counts && c && mp_args_count(args) == N_ARGS);
    MPT_CHILD_CHECK(mp_args_obj(args, A_OBJ) != NULL);
    args_rows(&t, args);
    closed_conn_rows(&t, c);
    MPT_CHILD_CHECK(mp_array_set_int(counts, 0, t.tried) == 0);
    MPT_CHILD_CHECK(mp_array_set_int(counts, 1, t.failed) == 0);
    return t.failed > 100 ? 100 : t.failed;
}

void mpt_misuse_in_child(int *tried, int *failed)
{
    mp_array *counts;
    mp_conn *a, *b;
    mp_obj *o = mp_obj_none();
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    MPT_OK(mp_array_new(&counts, 'i', 2));
    MPT_OK(mp_pipe(&a, &b, 1));
    int code = mpt_run(t_misuse_child,
                       mp_args_of(7, mp_arg_str("s"), mp_arg_bytes("b", 1), counts, b, o),
                       MP_START_SPAWN);
    int64_t n = 0, f = 0;
    MPT_OK(mp_array_get_int(counts, 0, &n));
    MPT_OK(mp_array_get_int(counts, 1, &f));
    CU_ASSERT(n > 0);
    CU_ASSERT_EQUAL(code, f);
    *tried += (int)n;
    *failed += (int)f + (code != f);
    mp_conn_close(a);
    mp_conn_close(b);
    mp_array_free(counts);
    mp_obj_free(o);
}
