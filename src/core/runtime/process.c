/* process.c - Process: start a target in a child, join it, read its exit
 * code; and the child's side of the start-up (mp_main).
 *
 * The parent describes the child's work in a bootstrap blob: where the
 * target lives (module + offset, so a freshly executed copy of the program
 * finds it without any registration) and every argument, shared objects
 * included (their parameters in the blob, their OS handles in a list that
 * the platform layer makes the child inherit). A forked child reads the
 * same blob from memory, so both start methods build the child's argument
 * objects by one path. docs/spawn.md describes the protocol. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "base/buf.h"
#include "base/deadline.h"
#include "base/error.h"
#include "mproc/conn.h"
#include "mproc/process.h"
#include "mproc/queue.h"
#include "mproc/value.h"
#include "mproc/array.h"
#include "mproc/obj.h"
#include "core/runtime/export.h"

#define BLOB_MAGIC   0x3143504du /* "MPC1" */
#define MAX_ARGS     4096
#define EXIT_BOOTERR 255

struct mp_process {
    mp_target target;
    mp_start_method method;
    mp_arg *args;
    size_t nargs;
    int started;
    mp_os_proc proc;
};

/* The child's view: the arguments with objects rebuilt in this process. */
struct mp_args {
    mp_arg *items;
    size_t count;
};

static mp_start_method default_method = MP_START_SPAWN;
static int main_called;

int mp_set_start_method(mp_start_method method)
{
    if (method != MP_START_SPAWN && method != MP_START_FORK)
        return mp_set_error(MP_EINVAL, "unknown start method %d", (int)method);
    default_method = method;
    return 0;
}

/* ---- arguments ------------------------------------------------------------ */

static void free_arg_copies(mp_arg *args, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (args[i].type == MP_ARG_STR) free((void *)args[i].u.s);
        if (args[i].type == MP_ARG_BYTES || args[i].type == MP_ARG_OBJ)
            free((void *)args[i].u.bytes.data); /* an object is kept pickled */
    }
    free(args);
}

/* Copies the plain values so the caller's buffers may go away before
 * start(); shared objects stay references. */
static int copy_args(mp_arglist list, mp_arg **out)
{
    *out = NULL;
    if (list.count == 0) return 0;
    if (!list.items || list.count > MAX_ARGS)
        return mp_set_error(MP_EINVAL, "bad argument list (%zu items)", list.count);
    mp_arg *args = calloc(list.count, sizeof *args);
    if (!args) return MP_ENOMEM;
    for (size_t i = 0; i < list.count; i++) {
        const mp_arg *a = &list.items[i];
        args[i].type = MP_ARG_NONE;
        int bad = 0;
        switch (a->type) {
        case MP_ARG_INT:
        case MP_ARG_DOUBLE:
            args[i] = *a;
            break;
        case MP_ARG_STR: {
            if (!a->u.s) {
                bad = 1;
                break;
            }
            size_t n = strlen(a->u.s) + 1;
            char *s = malloc(n);
            if (!s) {
                free_arg_copies(args, i);
                return MP_ENOMEM;
            }
            memcpy(s, a->u.s, n);
            args[i].type = MP_ARG_STR;
            args[i].u.s = s;
            break;
        }
        case MP_ARG_BYTES: {
            size_t n = a->u.bytes.len;
            if ((!a->u.bytes.data && n) || mp_size_bad(n)) {
                bad = 1;
                break;
            }
            void *d = malloc(n ? n : 1);
            if (!d) {
                free_arg_copies(args, i);
                return MP_ENOMEM;
            }
            if (n) memcpy(d, a->u.bytes.data, n);
            args[i].type = MP_ARG_BYTES;
            args[i].u.bytes.data = d;
            args[i].u.bytes.len = n;
            break;
        }
        case MP_ARG_OBJ: {
            /* Pickled now: the caller may change or free the object, and the
             * child needs exactly these bytes. */
            void *d = NULL;
            size_t n = 0;
            int rc = a->u.obj ? mp_obj_dumps(a->u.obj, &d, &n) : MP_EINVAL;
            if (rc < 0) {
                free_arg_copies(args, i);
                return mp_set_error(rc, "argument %zu: %s", i, mp_strerror(rc));
            }
            args[i].type = MP_ARG_OBJ;
            args[i].u.bytes.data = d;
            args[i].u.bytes.len = n;
            break;
        }
        case MP_ARG_VALUE:
        case MP_ARG_ARRAY:
        case MP_ARG_QUEUE:
        case MP_ARG_CONN:
            /* Every member of the union is a pointer here. */
            if (!a->u.value) bad = 1;
            args[i] = *a;
            break;
        default:
            bad = 1;
        }
        if (bad) {
            free_arg_copies(args, i + 1);
            return mp_set_error(MP_EINVAL, "argument %zu: bad type or NULL", i);
        }
    }
    *out = args;
    return 0;
}

static int export_args(const mp_arg *args, size_t n, mp_export *ex)
{
    mp_buf *b = ex->buf;
    mp_buf_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        const mp_arg *a = &args[i];
        mp_buf_u8(b, (uint8_t)a->type);
        int rc = 0;
        switch (a->type) {
        case MP_ARG_INT:
            mp_buf_u64(b, (uint64_t)a->u.i);
            break;
        case MP_ARG_DOUBLE: {
            uint64_t bits;
            memcpy(&bits, &a->u.d, sizeof bits);
            mp_buf_u64(b, bits);
            break;
        }
        case MP_ARG_STR:
            mp_buf_blob(b, a->u.s, strlen(a->u.s) + 1);
            break;
        case MP_ARG_BYTES:
        case MP_ARG_OBJ:
            mp_buf_blob(b, a->u.bytes.data, a->u.bytes.len);
            break;
        case MP_ARG_VALUE:
            rc = mp__value_export(a->u.value, ex);
            break;
        case MP_ARG_ARRAY:
            rc = mp__array_export(a->u.array, ex);
            break;
        case MP_ARG_QUEUE:
            rc = mp__queue_export(a->u.queue, ex);
            break;
        case MP_ARG_CONN:
            rc = mp__conn_export(a->u.conn, ex);
            break;
        default:
            rc = MP_EINVAL;
        }
        if (rc < 0) return rc;
    }
    if (ex->failed) return ex->failed;
    return b->failed;
}

/* Releases the objects the child runtime built. Queues are freed first
 * thing after the target: freeing one waits for its feeder, as a Python
 * child waits for its queues' feeder threads before it exits. */
static void free_child_args(mp_args *args)
{
    for (size_t i = 0; i < args->count; i++) {
        mp_arg *a = &args->items[i];
        switch (a->type) {
        case MP_ARG_VALUE:
            mp_value_free(a->u.value);
            break;
        case MP_ARG_ARRAY:
            mp_array_free(a->u.array);
            break;
        case MP_ARG_QUEUE:
            mp_queue_free(a->u.queue);
            break;
        case MP_ARG_CONN:
            mp__conn_release(a->u.conn);
            break;
        case MP_ARG_OBJ:
            /* The child's own decoded copy (const only in the parent's view). */
            mp_obj_free((mp_obj *)(uintptr_t)a->u.obj);
            break;
        default:
            break;
        }
    }
    free(args->items);
    args->items = NULL;
    args->count = 0;
}

/* Rebuilds the arguments; strings and bytes point into the blob. */
static int import_args(mp_args *args, mp_import *im)
{
    mp_rd *r = im->rd;
    uint32_t n = mp_rd_u32(r);
    if (r->failed || n > MAX_ARGS) return mp_set_error(MP_EPROTO, "bad argument count");
    args->count = 0;
    args->items = n ? calloc(n, sizeof *args->items) : NULL;
    if (n && !args->items) return MP_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        mp_arg *a = &args->items[i];
        mp_arg_type t = (mp_arg_type)mp_rd_u8(r);
        int rc = 0;
        switch (t) {
        case MP_ARG_INT:
            a->u.i = (int64_t)mp_rd_u64(r);
            break;
        case MP_ARG_DOUBLE: {
            uint64_t bits = mp_rd_u64(r);
            memcpy(&a->u.d, &bits, sizeof bits);
            break;
        }
        case MP_ARG_STR: {
            size_t len;
            const char *s = mp_rd_blob(r, &len);
            if (!s || len == 0 || s[len - 1] != '\0' || strlen(s) != len - 1)
                rc = MP_EPROTO;
            a->u.s = s;
            break;
        }
        case MP_ARG_BYTES:
            a->u.bytes.data = mp_rd_blob(r, &a->u.bytes.len);
            break;
        case MP_ARG_OBJ: {
            size_t len;
            const void *p = mp_rd_blob(r, &len);
            mp_obj *o = NULL;
            rc = p ? mp_obj_loads(p, len, &o) : MP_EPROTO;
            a->u.obj = o;
            break;
        }
        case MP_ARG_VALUE:
            rc = mp__value_import(&a->u.value, im);
            break;
        case MP_ARG_ARRAY:
            rc = mp__array_import(&a->u.array, im);
            break;
        case MP_ARG_QUEUE:
            rc = mp__queue_import(&a->u.queue, im);
            break;
        case MP_ARG_CONN:
            rc = mp__conn_import(&a->u.conn, im);
            if (rc == 0) mp__conn_hold(a->u.conn);
            break;
        default:
            rc = MP_EPROTO;
        }
        if (r->failed && rc == 0) rc = MP_EPROTO;
        if (rc < 0) return mp_set_error(rc, "argument %u: %s", i, mp_strerror(rc));
        a->type = t;
        args->count = i + 1;
    }
    return 0;
}

/* ---- the child ------------------------------------------------------------ */

/* Runs in the child: rebuilds the arguments, calls the target, exits.
 * known is the target itself after fork; NULL after spawn, where the blob
 * says where to find it. Never returns. */
static void run_child(const void *blob, size_t len, mp_os_handle *handles, size_t n,
                      mp_target known, int forked)
{
    mp_rd rd;
    mp_rd_init(&rd, blob, len);
    mp_import im = {&rd, handles, n};
    mp_args args = {NULL, 0};
    mp_target target = known;
    int rc = 0;

    if (mp_rd_u32(&rd) != BLOB_MAGIC) rc = mp_set_error(MP_EPROTO, "bad bootstrap magic");
    size_t modlen = 0;
    const char *module = mp_rd_blob(&rd, &modlen);
    uint64_t offset = mp_rd_u64(&rd);
    if (rc == 0 && (rd.failed || modlen == 0 || module[modlen - 1] != '\0' ||
                    modlen > sizeof(((mp_os_fnloc *)0)->module)))
        rc = mp_set_error(MP_EPROTO, "bad target location");
    if (rc == 0 && !target) {
        mp_os_fnloc loc;
        memcpy(loc.module, module, modlen);
        loc.offset = offset;
        void (*fn)(void) = NULL;
        rc = mp_os_fn_resolve(&loc, &fn);
        /* The platform layer checked that the address is code of the same
         * module of the same program; converting back to the target's own
         * type is what the parent converted from. */
        if (rc == 0) target = (mp_target)fn;
    }
    if (rc == 0) rc = import_args(&args, &im);
    for (size_t i = 0; i < n; i++)
        mp_os_close(handles[i]); /* unclaimed */
    if (!forked) free(handles);

    int code = EXIT_BOOTERR;
    if (rc == 0) {
        code = target(&args);
    } else {
        fprintf(stderr, "mproc: child start-up failed: %s (%s)\n", mp_strerror(rc),
                mp_last_error());
    }
    free_child_args(&args);
    if (!forked) free((void *)blob);
    mp_os_exit(code, forked);
}

void mp_main(int argc, char **argv)
{
    main_called = 1;
    if (argc > 0 && argv && argv[0]) mp_os_set_argv0(argv[0]);
    void *blob = NULL;
    size_t len = 0, n = 0;
    mp_os_handle *handles = NULL;
    int rc = mp_os_child_boot(argc, argv, &blob, &len, &handles, &n);
    if (rc == 0) return;
    if (rc < 0) {
        fprintf(stderr, "mproc: child start-up failed: %s (%s)\n", mp_strerror(rc),
                mp_last_error());
        mp_os_exit(EXIT_BOOTERR, 0);
    }
    run_child(blob, len, handles, n, NULL, 0);
}

/* ---- the child's argument accessors -------------------------------------- */

static const mp_arg *arg_at(const mp_args *args, size_t i, mp_arg_type t)
{
    if (!args || i >= args->count || args->items[i].type != t) return NULL;
    return &args->items[i];
}

size_t mp_args_count(const mp_args *args)
{
    return args ? args->count : 0;
}

mp_arg_type mp_args_type(const mp_args *args, size_t i)
{
    if (!args || i >= args->count) return MP_ARG_NONE;
    return args->items[i].type;
}

mp_value *mp_args_value(const mp_args *args, size_t i)
{
    const mp_arg *a = arg_at(args, i, MP_ARG_VALUE);
    return a ? a->u.value : NULL;
}

mp_array *mp_args_array(const mp_args *args, size_t i)
{
    const mp_arg *a = arg_at(args, i, MP_ARG_ARRAY);
    return a ? a->u.array : NULL;
}

mp_queue *mp_args_queue(const mp_args *args, size_t i)
{
    const mp_arg *a = arg_at(args, i, MP_ARG_QUEUE);
    return a ? a->u.queue : NULL;
}

mp_conn *mp_args_conn(const mp_args *args, size_t i)
{
    const mp_arg *a = arg_at(args, i, MP_ARG_CONN);
    return a ? a->u.conn : NULL;
}

mp_obj *mp_args_obj(const mp_args *args, size_t i)
{
    const mp_arg *a = arg_at(args, i, MP_ARG_OBJ);
    return a ? (mp_obj *)(uintptr_t)a->u.obj : NULL;
}

int mp_args_get_int(const mp_args *args, size_t i, int64_t *out)
{
    const mp_arg *a = arg_at(args, i, MP_ARG_INT);
    if (!a || !out) return mp_set_error(MP_EINVAL, "argument %zu is not an integer", i);
    *out = a->u.i;
    return 0;
}

int mp_args_get_double(const mp_args *args, size_t i, double *out)
{
    const mp_arg *a = arg_at(args, i, MP_ARG_DOUBLE);
    const mp_arg *n = arg_at(args, i, MP_ARG_INT);
    if ((!a && !n) || !out)
        return mp_set_error(MP_EINVAL, "argument %zu is not a number", i);
    *out = a ? a->u.d : (double)n->u.i;
    return 0;
}

int mp_args_get_str(const mp_args *args, size_t i, const char **out)
{
    const mp_arg *a = arg_at(args, i, MP_ARG_STR);
    if (!a || !out) return mp_set_error(MP_EINVAL, "argument %zu is not a string", i);
    *out = a->u.s;
    return 0;
}

int mp_args_get_bytes(const mp_args *args, size_t i, const void **data, size_t *len)
{
    const mp_arg *a = arg_at(args, i, MP_ARG_BYTES);
    if (!a || !data || !len)
        return mp_set_error(MP_EINVAL, "argument %zu is not bytes", i);
    *data = a->u.bytes.data;
    *len = a->u.bytes.len;
    return 0;
}

/* ---- the parent ----------------------------------------------------------- */

int mp_process_new(mp_process **out, mp_target target, mp_arglist args)
{
    if (!out) return mp_set_error(MP_EINVAL, "NULL process pointer");
    *out = NULL;
    if (!target) return mp_set_error(MP_EINVAL, "NULL target");
    mp_process *p = calloc(1, sizeof *p);
    if (!p) return MP_ENOMEM;
    int rc = copy_args(args, &p->args);
    if (rc < 0) {
        free(p);
        return rc;
    }
    p->nargs = args.count;
    p->target = target;
    p->method = MP_START_DEFAULT;
    p->proc.sentinel = MP_OS_NO_HANDLE;
    p->proc.process = MP_OS_NO_HANDLE;
    *out = p;
    return 0;
}

int mp_process_set_start_method(mp_process *p, mp_start_method method)
{
    if (!p) return mp_set_error(MP_EINVAL, "NULL process");
    if (method != MP_START_DEFAULT && method != MP_START_SPAWN && method != MP_START_FORK)
        return mp_set_error(MP_EINVAL, "unknown start method %d", (int)method);
    if (p->started) return mp_set_error(MP_ESTATE, "process already started");
    p->method = method;
    return 0;
}

int mp_process_start(mp_process *p)
{
    if (!p) return mp_set_error(MP_EINVAL, "NULL process");
    if (p->started) return mp_set_error(MP_ESTATE, "a process can be started only once");
    mp_start_method method = p->method == MP_START_DEFAULT ? default_method : p->method;
    if (method == MP_START_SPAWN && !main_called)
        return mp_set_error(MP_ESTATE,
                            "spawn needs mp_main(argc, argv) at the top of main()");

    mp_os_fnloc loc;
    memset(&loc, 0, sizeof loc);
    if (method == MP_START_SPAWN) {
        /* Converting the function pointer is what lets the layer look at
         * the code address; the child converts it back to mp_target. */
        int rc = mp_os_fn_locate((void (*)(void))p->target, &loc);
        if (rc < 0) return rc;
    }

    mp_buf b;
    mp_buf_init(&b);
    mp_export ex = {&b, NULL, 0, 0, 0};
    mp_buf_u32(&b, BLOB_MAGIC);
    mp_buf_blob(&b, loc.module, strlen(loc.module) + 1);
    mp_buf_u64(&b, loc.offset);
    int rc = export_args(p->args, p->nargs, &ex);

    /* Output buffered before the start would otherwise come after the
     * child's, or twice after a fork. */
    fflush(stdout);
    fflush(stderr);

    if (rc == 0 && method == MP_START_SPAWN) {
        rc = mp_os_spawn(&p->proc, b.data, b.len, ex.handles, ex.n);
    } else if (rc == 0) {
        int in_child = 0;
        rc = mp_os_fork(&p->proc, &in_child);
        if (rc == 0 && in_child) run_child(b.data, b.len, ex.handles, ex.n, p->target, 1);
    }
    free(ex.handles);
    mp_buf_free(&b);
    if (rc < 0) return rc;
    p->started = 1;
    return 0;
}

int mp_process_join(mp_process *p, double timeout)
{
    if (!p) return mp_set_error(MP_EINVAL, "NULL process");
    int rc = mp_timeout_check(timeout);
    if (rc < 0) return rc;
    if (!p->started) return mp_set_error(MP_ESTATE, "process not started");
    if (p->proc.exited) return 0;
    return mp_os_proc_wait(&p->proc, mp_deadline(timeout));
}

/* Reaps the child if it has exited, without waiting. */
static int poll_exit(mp_process *p)
{
    if (p->started && !p->proc.exited) {
        int rc = mp_os_proc_wait(&p->proc, 0);
        if (rc < 0 && rc != MP_ETIMEDOUT) return rc;
    }
    return 0;
}

int mp_process_is_alive(mp_process *p)
{
    if (!p || !p->started) return 0;
    poll_exit(p);
    return !p->proc.exited;
}

int64_t mp_process_pid(const mp_process *p)
{
    return p && p->started ? p->proc.pid : 0;
}

int mp_process_exitcode(mp_process *p, int *code)
{
    if (!p || !code) return mp_set_error(MP_EINVAL, "NULL argument");
    if (!p->started) return mp_set_error(MP_ESTATE, "process not started");
    int rc = poll_exit(p);
    if (rc < 0) return rc;
    if (!p->proc.exited) return mp_set_error(MP_ESTATE, "process still running");
    *code = p->proc.exitcode;
    return 0;
}

static int send_signal(mp_process *p, int hard)
{
    if (!p) return mp_set_error(MP_EINVAL, "NULL process");
    if (!p->started) return mp_set_error(MP_ESTATE, "process not started");
    if (p->proc.exited) return 0;
    return mp_os_proc_signal(&p->proc, hard);
}

int mp_process_terminate(mp_process *p)
{
    return send_signal(p, 0);
}

int mp_process_kill(mp_process *p)
{
    return send_signal(p, 1);
}

int mp_process_close(mp_process *p)
{
    if (!p) return 0;
    if (p->started) {
        poll_exit(p);
        if (!p->proc.exited)
            return mp_set_error(MP_ESTATE, "process still running: join it first");
        mp_os_proc_release(&p->proc);
    }
    free_arg_copies(p->args, p->nargs);
    free(p);
    return 0;
}
