/* runtime/misuse.c - misuse rows for mproc/process.h: a process not
 * started yet, and one whose child is running. */
#include <math.h>
#include <string.h>

#include "misuse.h"

/* Child target: returns 0 at once. */
static int t_nothing(const mp_args *args)
{
    (void)args;
    return 0;
}

/* Child target: waits until its pipe end says go (a message or end of
 * file), so the parent's rows find it running. */
static int t_wait(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    MPT_CHILD_CHECK(c != NULL);
    return mp_conn_poll(c, MPT_JOIN_TIMEOUT) == 1 ? 0 : 1;
}

static void setup(mpt_fx *fx)
{
    MPT_OK(mp_process_new(&fx->p, t_nothing, MP_NO_ARGS));
}

static void teardown(mpt_fx *fx)
{
    if (fx->p) MPT_OK(mp_process_free(fx->p));
}

static const char *check(mpt_fx *fx)
{
    /* Still a usable, unstarted process: a method can be chosen. */
    if (mp_process_set_start_method(fx->p, MP_START_SPAWN) < 0) return "the Process";
    if (mp_process_pid(fx->p) != 0 || mp_process_is_alive(fx->p) != 0)
        return "the Process (looks started)";
    return NULL;
}

static void setup_running(mpt_fx *fx)
{
    mp_conn *child_end = NULL;
    MPT_OK(mp_pipe(&child_end, &fx->hold, 1));
    fx->p = mpt_start(t_wait, mp_args_of(child_end), MP_START_SPAWN);
    mp_conn_close(child_end);
}

static void teardown_running(mpt_fx *fx)
{
    mp_conn_close(fx->hold); /* end of file: the child returns */
    if (fx->p) CU_ASSERT_EQUAL(mpt_join(fx->p), 0);
}

static const char *check_running(mpt_fx *fx)
{
    if (mp_process_is_alive(fx->p) != 1) return "the running Process (not alive)";
    if (mp_process_pid(fx->p) <= 0) return "the running Process (no pid)";
    return NULL;
}

static int set_default(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    return mp_set_start_method((mp_start_method)r->x);
}

static int new_proc(mpt_fx *fx, const mpt_row *r)
{
    (void)fx;
    mp_process *p = NULL;
    mp_target target = r->h == MPT_NULL_OUT ? NULL : t_nothing;
    mp_arg one[1];
    mp_arglist args = MP_NO_ARGS;
    int dummy = 0;
    switch (r->x) {
    case 1: /* count without items */
        args = mp_arglist_make(NULL, 1);
        break;
    case 2: /* more than 4096 */
        args = mp_arglist_make(one, 5000);
        break;
    case 3: /* an unknown type */
        one[0].type = (mp_arg_type)99;
        args = mp_arglist_make(one, 1);
        break;
    case 4: /* MP_ARG_NONE */
        one[0].type = MP_ARG_NONE;
        args = mp_arglist_make(one, 1);
        break;
    case 5:
        one[0] = mp_arg_str(NULL);
        args = mp_arglist_make(one, 1);
        break;
    case 6:
        one[0] = mp_arg_bytes(NULL, 3);
        args = mp_arglist_make(one, 1);
        break;
    case 7: /* a length no buffer has */
        one[0] = mp_arg_bytes(&dummy, (size_t)-1);
        args = mp_arglist_make(one, 1);
        break;
    case 8:
        one[0] = mp_arg_value(NULL);
        args = mp_arglist_make(one, 1);
        break;
    case 9:
        one[0] = mp_arg_conn(NULL);
        args = mp_arglist_make(one, 1);
        break;
    case 10:
        one[0] = mp_arg_obj(NULL);
        args = mp_arglist_make(one, 1);
        break;
    case 11: /* an object too deep to pickle */
    {
        mp_obj *o = mpt_nested(MP_OBJ_MAX_DEPTH);
        CU_ASSERT_PTR_NOT_NULL_FATAL(o);
        one[0] = mp_arg_obj(o);
        int rc = mp_process_new(&p, target, mp_arglist_make(one, 1));
        mp_obj_free(o);
        mp_process_free(p);
        return rc;
    }
    default:
        break;
    }
    int rc = mp_process_new(r->h == MPT_NULL ? NULL : &p, target, args);
    mp_process_free(p);
    return rc;
}

static mp_process *pick(mpt_fx *fx, const mpt_row *r)
{
    return r->h == MPT_NULL ? NULL : fx->p;
}

static int set_method(mpt_fx *fx, const mpt_row *r)
{
    return mp_process_set_start_method(pick(fx, r), (mp_start_method)r->x);
}

static int start(mpt_fx *fx, const mpt_row *r)
{
    return mp_process_start(pick(fx, r));
}

/* Windows has no fork: starting such a process is refused, and the
 * process object stays as it was. */
static int start_fork(mpt_fx *fx, const mpt_row *r)
{
    (void)r;
    MPT_OK(mp_process_set_start_method(fx->p, MP_START_FORK));
    return mp_process_start(fx->p);
}

static int join(mpt_fx *fx, const mpt_row *r)
{
    return mp_process_join(pick(fx, r), r->t);
}

/* A wait with no limit, once the child was told to go. */
static int join_forever(mpt_fx *fx, const mpt_row *r)
{
    MPT_OK(mp_conn_send_bytes(fx->hold, "go", 0, 2));
    int rc = mp_process_join(fx->p, r->t);
    int code = -1;
    if (rc == 0 && (mp_process_exitcode(fx->p, &code) != 0 || code != 0))
        return MPT_R_WRONG;
    return rc;
}

static int queries(mpt_fx *fx, const mpt_row *r)
{
    mp_process *p = pick(fx, r);
    return mp_process_is_alive(p) == 0 && mp_process_pid(p) == 0 ? 0 : MPT_R_WRONG;
}

static int exitcode(mpt_fx *fx, const mpt_row *r)
{
    int code = 12345;
    int rc = mp_process_exitcode(pick(fx, r), r->i == 1 ? NULL : &code);
    if (rc < 0 && code != 12345) return MPT_R_WRONG; /* nothing written */
    return rc;
}

static int terminate(mpt_fx *fx, const mpt_row *r)
{
    return mp_process_terminate(pick(fx, r));
}

static int kill_p(mpt_fx *fx, const mpt_row *r)
{
    return mp_process_kill(pick(fx, r));
}

static int free_p(mpt_fx *fx, const mpt_row *r)
{
    return mp_process_free(pick(fx, r));
}

static int close_p(mpt_fx *fx, const mpt_row *r)
{
    return mp_process_close(pick(fx, r));
}

static const mpt_row rows[] = {
    {"mp_set_start_method", "method 99", set_default, MP_EINVAL, .x = 99},
    {"mp_set_start_method", "method -1", set_default, MP_EINVAL, .x = -1},
    {"mp_set_start_method", "MP_START_DEFAULT (not a method to set)", set_default,
     MP_EINVAL, .x = MP_START_DEFAULT},
    {"mp_process_new", "NULL result pointer", new_proc, MP_EINVAL, .h = MPT_NULL},
    {"mp_process_new", "NULL target", new_proc, MP_EINVAL, .h = MPT_NULL_OUT},
    {"mp_process_new", "a count without items", new_proc, MP_EINVAL, .x = 1},
    {"mp_process_new", "5000 arguments (over 4096)", new_proc, MP_EINVAL, .x = 2},
    {"mp_process_new", "argument type 99", new_proc, MP_EINVAL, .x = 3},
    {"mp_process_new", "argument type MP_ARG_NONE", new_proc, MP_EINVAL, .x = 4},
    {"mp_process_new", "a NULL string", new_proc, MP_EINVAL, .x = 5},
    {"mp_process_new", "NULL bytes with a length", new_proc, MP_EINVAL, .x = 6},
    {"mp_process_new", "bytes of length SIZE_MAX", new_proc, MP_EINVAL, .x = 7},
    {"mp_process_new", "a NULL Value", new_proc, MP_EINVAL, .x = 8},
    {"mp_process_new", "a NULL Connection", new_proc, MP_EINVAL, .x = 9},
    {"mp_process_new", "a NULL object", new_proc, MP_EINVAL, .x = 10},
    {"mp_process_new", "an object nested deeper than MP_OBJ_MAX_DEPTH", new_proc,
     MP_ETOOBIG, .x = 11},
    {"mp_process_set_start_method", "NULL process", set_method, MP_EINVAL, .h = MPT_NULL,
     .x = MP_START_SPAWN},
    {"mp_process_set_start_method", "method 7", set_method, MP_EINVAL, .x = 7},
    {"mp_process_start", "NULL", start, MP_EINVAL, .h = MPT_NULL},
    {"mp_process_start", "fork on Windows", start_fork, MP_EUNSUPPORTED,
     .flags = MPT_WINDOWS},
    {"mp_process_join", "NULL", join, MP_EINVAL, .h = MPT_NULL, .t = 1},
    {"mp_process_join", "not started", join, MP_ESTATE, .t = 0},
    {"mp_process_join", "not started, timeout -1", join, MP_ESTATE, .t = -1},
    {"mp_process_join", "timeout NaN", join, MP_EINVAL, .t = NAN},
    {"mp_process_is_alive, mp_process_pid", "NULL gives 0", queries, 0, .h = MPT_NULL},
    {"mp_process_is_alive, mp_process_pid", "not started gives 0", queries, 0,
     .h = MPT_LIVE},
    {"mp_process_exitcode", "NULL process", exitcode, MP_EINVAL, .h = MPT_NULL},
    {"mp_process_exitcode", "NULL output", exitcode, MP_EINVAL, .i = 1},
    {"mp_process_exitcode", "not started", exitcode, MP_ESTATE, .h = MPT_LIVE},
    {"mp_process_terminate", "NULL", terminate, MP_EINVAL, .h = MPT_NULL},
    {"mp_process_terminate", "not started", terminate, MP_ESTATE, .h = MPT_LIVE},
    {"mp_process_kill", "NULL", kill_p, MP_EINVAL, .h = MPT_NULL},
    {"mp_process_kill", "not started", kill_p, MP_ESTATE, .h = MPT_LIVE},
    {"mp_process_free", "NULL (ignored)", free_p, 0, .h = MPT_NULL},
    {"mp_process_close", "NULL", close_p, MP_EINVAL, .h = MPT_NULL},
};

/* The same process while its child runs. */
static const mpt_row running_rows[] = {
    {"mp_process_start", "a second time", start, MP_ESTATE, .h = MPT_LIVE},
    {"mp_process_set_start_method", "after start", set_method, MP_ESTATE,
     .x = MP_START_SPAWN},
    {"mp_process_join", "timeout NaN while running", join, MP_EINVAL, .t = NAN},
    {"mp_process_join", "timeout 0 while running", join, MP_ETIMEDOUT, .t = 0},
    {"mp_process_join", "timeout -5e-324 (no limit; the child is told to end)",
     join_forever, 0, .t = -5e-324, .flags = MPT_SPOILS},
    {"mp_process_join", "timeout -inf (no limit; the child is told to end)", join_forever,
     0, .t = -INFINITY, .flags = MPT_SPOILS},
    {"mp_process_exitcode", "while running", exitcode, MP_ESTATE, .h = MPT_LIVE},
    {"mp_process_free", "while running (nothing released)", free_p, MP_ESTATE,
     .h = MPT_LIVE},
    {"mp_process_close", "while running (nothing released)", close_p, MP_ESTATE,
     .h = MPT_LIVE},
};

const mpt_group mpt_misuse_process = MPT_GROUP("process", setup, teardown, check, rows);
const mpt_group mpt_misuse_process_running = MPT_GROUP(
    "process_running", setup_running, teardown_running, check_running, running_rows);

void mpt_suite_runtime_misuse(void)
{
    mpt_misuse_add("runtime/misuse", &mpt_misuse_process);
    mpt_misuse_add("runtime/misuse", &mpt_misuse_process_running);
    mpt_misuse_add_in_child("runtime/misuse");
}
