/* interop/interop.c - objects between C and Python, and objects in mproc's own
 * queues, pipes and process arguments.
 *
 * Against every Python 3.8+ on the machine: a Python parent sends
 * thousands of random nested objects to the echo_peer example and checks
 * the repr computed in C and the object that comes back; then a C parent
 * echoes for a Python child, and sends objects built in C for Python to
 * judge. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdlib.h>
#include <string.h>

#include "core/conn/conn_internal.h"
#include "pythons.h"
#include "test.h"

/* Objects built in C that exercise every type and the repr corners. */
static mp_obj *c_built(int i)
{
    switch (i) {
    case 0:
        return MP_LIST(mp_obj_int(42), mp_obj_none(), mp_obj_str("hello"));
    case 1:
        return MP_DICT(mp_obj_str("k"), MP_TUPLE(mp_obj_float(2.5)), mp_obj_int(-7),
                       mp_obj_bytes("\x00\xff'", 3));
    case 2:
        return MP_TUPLE(mp_obj_bool(1), mp_obj_bool(0), mp_obj_float(-0.0),
                        mp_obj_float(1e16), mp_obj_float(0.1));
    case 3:
        return mp_obj_str(
            "tab\t quote' dq\" nl\n \xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80");
    case 4:
        return mp_obj_int(INT64_MIN);
    case 5:
        return mp_obj_list(0);
    default:
        return MP_LIST(MP_LIST(MP_LIST(mp_obj_tuple(0))), mp_obj_dict(0));
    }
}
enum { C_BUILT = 7 };

#ifndef _WIN32

static const mpt_python *pythons;
static int npythons = -1;

static int find_pythons(void)
{
    if (npythons < 0) pythons = mpt_pythons("interop suite", &npythons);
    return npythons;
}

static const char *script(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/interop/%s", mpt_source_dir(), name);
    return path;
}

static void python_parent(void)
{
    CU_ASSERT_FATAL(find_pythons() > 0);
    const char *peer = getenv("MPT_ECHO_PEER");
    if (!peer || !*peer) peer = MPT_DEFAULT_ECHO_PEER;
    for (int i = 0; i < npythons; i++) {
        char seed[16];
        snprintf(seed, sizeof seed, "%d", 1000 + i);
        const char *argv[] = {
            pythons[i].path, script("py_parent.py"), peer, "2000", seed, NULL};
        int code = mpt_run_program(argv, -1, -1);
        if (code != 0) fprintf(stderr, "python %s: exit %d\n", pythons[i].version, code);
        CU_ASSERT_EQUAL(code, 0);
    }
}

/* Answers what Python sends as echo_peer does: [repr, object]. */
static int echo_one(mp_conn *c)
{
    mp_obj *o = NULL;
    int rc = mp_conn_recv(c, &o);
    if (rc < 0) return rc;
    char *repr = NULL;
    rc = mp_obj_repr(o, &repr);
    mp_obj *reply = rc == 0 ? MP_LIST(mp_obj_str(repr), o) : NULL;
    if (rc < 0) mp_obj_free(o);
    mp_free(repr);
    if (!reply) return rc < 0 ? rc : MP_ENOMEM;
    rc = mp_conn_send(c, reply);
    mp_obj_free(reply);
    return rc;
}

static void c_parent(void)
{
    CU_ASSERT_FATAL(find_pythons() > 0);
    for (int i = 0; i < npythons; i++) {
        mp_conn *ours, *theirs;
        MPT_OK(mp_pipe(&ours, &theirs, 1));
        char seed[16];
        snprintf(seed, sizeof seed, "%d", 2000 + i);
        const char *argv[] = {
            pythons[i].path, script("py_child.py"), "100", "1500", seed, NULL};
        long pid = mpt_spawn_program(argv, (int)mp__conn_handle(theirs), 100);
        mp_conn_close(theirs);
        CU_ASSERT_FATAL(pid > 0);
        int rc = 0;
        for (int k = 0; k < 1500 && rc == 0; k++)
            rc = echo_one(ours);
        MPT_OK(rc);
        /* Objects built here, judged by Python's repr. */
        for (int k = 0; k < C_BUILT; k++) {
            mp_obj *o = c_built(k), *back = NULL;
            CU_ASSERT_PTR_NOT_NULL_FATAL(o);
            MPT_OK(mp_conn_send(ours, o));
            MPT_OK(mp_conn_recv(ours, &back));
            char *mine = NULL;
            size_t len = 0;
            MPT_OK(mp_obj_repr(o, &mine));
            const char *theirs_repr = mp_obj_str_data(mp_obj_item(back, 0), &len);
            CU_ASSERT(theirs_repr && strcmp(theirs_repr, mine) == 0);
            if (theirs_repr && strcmp(theirs_repr, mine) != 0)
                fprintf(stderr, "C repr %s, Python repr %s\n", mine, theirs_repr);
            CU_ASSERT(mp_obj_equal(mp_obj_item(back, 1), o));
            mp_free(mine);
            mp_obj_free(o);
            mp_obj_free(back);
        }
        mp_conn_close(ours);
        int code = mpt_wait_program(pid);
        if (code != 0) fprintf(stderr, "python %s: exit %d\n", pythons[i].version, code);
        CU_ASSERT_EQUAL(code, 0);
    }
}

#endif

/* ---- objects through mproc's own channels --------------------------------------- */

static int t_obj_arg(const mp_args *args)
{
    mp_obj *o = mp_args_obj(args, 0);
    int64_t k;
    MPT_CHILD_CHECK(o && mp_args_get_int(args, 1, &k) == 0);
    mp_obj *want = c_built((int)k);
    int same = mp_obj_equal(o, want);
    mp_obj_free(want);
    MPT_CHILD_CHECK(same);
    MPT_CHILD_CHECK(mp_args_obj(args, 1) == NULL);
    return 0;
}

static void obj_args(mp_start_method m)
{
    for (int k = 0; k < C_BUILT; k++) {
        mp_obj *o = c_built(k);
        mp_process *p;
        MPT_OK(mp_process_new(&p, t_obj_arg, mp_args_of(o, k)));
        mp_obj_free(o); /* copied at mp_process_new */
        MPT_OK(mp_process_set_start_method(p, m));
        MPT_OK(mp_process_start(p));
        CU_ASSERT_EQUAL(mpt_join(p), 0);
    }
}
MPT_DEFINE_BOTH(obj_args)

static int t_put_objs(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    for (int k = 0; k < C_BUILT; k++) {
        mp_obj *o = c_built(k);
        int rc = mp_queue_put(q, o, MP_FOREVER);
        mp_obj_free(o);
        MPT_CHILD_CHECK(rc == 0);
    }
    return 0;
}

static void queue_objs(mp_start_method m)
{
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, 0));
    mp_process *p = mpt_start(t_put_objs, mp_args_of(q), m);
    for (int k = 0; k < C_BUILT; k++) {
        mp_obj *o = NULL, *want = c_built(k);
        MPT_OK(mp_queue_get(q, &o, MPT_JOIN_TIMEOUT));
        CU_ASSERT(mp_obj_equal(o, want));
        mp_obj_free(o);
        mp_obj_free(want);
    }
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    /* Bytes that are not a pickle are taken and reported. */
    MPT_OK(mp_queue_put_bytes(q, "junk", 4, 0));
    mp_obj *o = (mp_obj *)q;
    CU_ASSERT(mp_queue_get_nowait(q, &o) < 0);
    CU_ASSERT_PTR_NULL(o);
    CU_ASSERT_EQUAL(mp_queue_empty(q), 1);
    mp_queue_free(q);
}
MPT_DEFINE_BOTH(queue_objs)

static int t_send_objs(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    for (int k = 0; k < C_BUILT; k++) {
        mp_obj *o = c_built(k);
        int rc = mp_conn_send(c, o);
        mp_obj_free(o);
        MPT_CHILD_CHECK(rc == 0);
    }
    mp_conn_close(c);
    return 0;
}

static void conn_objs(mp_start_method m)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 0));
    mp_process *p = mpt_start(t_send_objs, mp_args_of(b), m);
    mp_conn_close(b);
    for (int k = 0; k < C_BUILT; k++) {
        mp_obj *o = NULL, *want = c_built(k);
        MPT_OK(mp_conn_recv(a, &o));
        CU_ASSERT(mp_obj_equal(o, want));
        mp_obj_free(o);
        mp_obj_free(want);
    }
    mp_obj *o = NULL;
    MPT_EQ(mp_conn_recv(a, &o), MP_ECLOSED);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_conn_close(a);
}
MPT_DEFINE_BOTH(conn_objs)

static void conn_bad_pickle(void)
{
    mp_conn *a, *b;
    MPT_OK(mp_pipe(&a, &b, 1));
    /* A pickle of a global (Python's os.system): refused, never run. */
    static const char evil[] = "\x80\x04\x95\x14\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix"
                               "\x94\x8c\x06system\x94\x93\x94.";
    MPT_OK(mp_conn_send_bytes(a, evil, 0, sizeof evil - 1));
    mp_obj *o = NULL;
    MPT_EQ(mp_conn_recv(b, &o), MP_EUNSUPPORTED);
    CU_ASSERT_PTR_NULL(o);
    /* The connection is still in step. */
    mp_obj *ok = mp_obj_int(5);
    MPT_OK(mp_conn_send(a, ok));
    MPT_OK(mp_conn_recv(b, &o));
    CU_ASSERT(mp_obj_equal(o, ok));
    mp_obj_free(o);
    mp_obj_free(ok);
    MPT_EQ(mp_conn_send(a, NULL), MP_EINVAL);
    MPT_EQ(mp_conn_recv(b, NULL), MP_EINVAL);
    mp_conn_close(a);
    mp_conn_close(b);
}

void mpt_suite_interop(void)
{
    MPT_POSIX_ONLY("interop", "python_parent", python_parent, MPT_NO_PYTHON);
    MPT_POSIX_ONLY("interop", "c_parent", c_parent, MPT_NO_PYTHON);
    MPT_BOTH("interop", obj_args);
    MPT_BOTH("interop", queue_objs);
    MPT_BOTH("interop", conn_objs);
    mpt_add("interop", "conn_bad_pickle", conn_bad_pickle);
}
