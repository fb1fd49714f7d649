/* process.c - Process: start a target in a child, join it, read its exit
 * code; and the child's side of the start-up (mp_main).
 *
 * The parent describes the child's work in a bootstrap blob: where the
 * target lives (module + offset, so a freshly executed copy of the program
 * finds it without any registration) and every argument, shared objects
 * included (their parameters in the blob, their OS handles in a list that
 * the platform layer makes the child inherit). A forked child reads the
 * same blob from memory, so both start methods build the child's argument
 * objects by one path. How a spawned child gets the blob and the handles
 * is boot.c's; docs/spawn.md describes the protocol.
 *
 * Room runtime/: this file; args.c, a process's arguments from the
 * parent's list to the child's view, by the table of argument kinds
 * (kinds.c, kind.h: each kind's operations live in its subject's file);
 * export.c, the handle lists the kinds export into; boot.c, the spawn
 * segment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "base/buf.h"
#include "base/deadline.h"
#include "base/error.h"
#include "base/wipe.h"
#include "mproc/process.h"
#include "core/runtime/args.h"
#include "core/runtime/authkey.h"
#include "core/runtime/boot.h"
#include "core/runtime/child_exit.h"
#include "core/runtime/children.h"
#include "core/runtime/identity.h"

#define BLOB_MAGIC   0x3143504du /* "MPC1" */
#define EXIT_BOOTERR 255

struct mp_process {
    mp_target target;
    mp_start_method method;
    mp_arg *args;
    size_t nargs;
    int started;
    int closed; /* mp_process_close: the OS's part released, the object kept */
    unsigned char *authkey; /* the child's, if set (else it inherits this one's) */
    size_t authkey_len;
    mp_os_proc proc;
    char identity[MP_IDENTITY_MAX]; /* "1:2": see identity.h */
    char name[MP_IDENTITY_MAX];
    int daemon;
};

static void end_children(void);

static mp_start_method default_method = MP_START_SPAWN;
static int main_called;

int mp_set_start_method(mp_start_method method)
{
    mp_clear_error();
    if (method != MP_START_SPAWN && method != MP_START_FORK)
        return mp_set_error(MP_EINVAL, "unknown start method %d", (int)method);
    default_method = method;
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
    if (rc == 0) rc = mp__identity_import(&rd);
    if (rc == 0) rc = mp__authkey_import(&rd);
    if (rc == 0 && mp_rd_u32(&rd) != 0) {
        mp_os_handle tracker;
        rc = mp_import_handle(&im, &tracker);
        if (rc == 0) mp_os_shm_tracker_adopt(tracker);
    }
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
    if (rc == 0) rc = mp__args_import(&args, &im);
    /* A forked child's copy of the list names its parent's children. */
    mp__children_forget();
    for (size_t i = 0; i < n; i++)
        mp_os_close(handles[i]); /* unclaimed */
    if (!forked) free(handles);

    int code = EXIT_BOOTERR;
    if (rc == 0) {
        mp__child_exit_begin();
        code = target(&args);
        mp__child_exit_run();
        end_children();
    } else {
        fprintf(stderr, "mproc: child start-up failed: %s (%s)\n", mp_strerror(rc),
                mp_last_error());
    }
    /* Queues are freed first thing after the target: freeing one waits for
     * its feeder, as a Python child waits for its queues' feeder threads. */
    mp__args_release(&args);
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
    int rc = mp__boot_child(argc, argv, &blob, &len, &handles, &n);
    if (rc == 0) return;
    if (rc < 0) {
        fprintf(stderr, "mproc: child start-up failed: %s (%s)\n", mp_strerror(rc),
                mp_last_error());
        mp_os_exit(EXIT_BOOTERR, 0);
    }
    run_child(blob, len, handles, n, NULL, 0);
}

/* ---- the parent ----------------------------------------------------------- */

int mp_process_new(mp_process **out, mp_target target, mp_arglist args)
{
    mp_clear_error();
    if (!out) return mp_set_error(MP_EINVAL, "NULL process pointer");
    *out = NULL;
    if (!target) return mp_set_error(MP_EINVAL, "NULL target");
    mp_process *p = calloc(1, sizeof *p);
    if (!p) return mp_set_error(MP_ENOMEM, "out of memory for a process");
    int rc = mp__args_copy(args, &p->args);
    if (rc < 0) {
        free(p);
        return rc;
    }
    rc = mp__identity_next(p->identity, p->name);
    if (rc < 0) {
        mp__args_drop(p->args, args.count);
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

/* Python's _check_closed: after close every use but the name is refused. */
static int usable(const mp_process *p)
{
    if (!p) return mp_set_error(MP_EINVAL, "NULL process");
    if (p->closed) return mp_set_error(MP_ESTATE, "process object is closed");
    return 0;
}

int mp_process_set_start_method(mp_process *p, mp_start_method method)
{
    mp_clear_error();
    int rc = usable(p);
    if (rc < 0) return rc;
    if (method != MP_START_DEFAULT && method != MP_START_SPAWN && method != MP_START_FORK)
        return mp_set_error(MP_EINVAL, "unknown start method %d", (int)method);
    if (p->started) return mp_set_error(MP_ESTATE, "process already started");
    p->method = method;
    return 0;
}

int mp_process_set_name(mp_process *p, const char *name)
{
    mp_clear_error();
    if (!name) return mp_set_error(MP_EINVAL, "NULL name");
    int rc = usable(p);
    if (rc < 0) return rc;
    if (strlen(name) > MP_PROCESS_NAME_MAX)
        return mp_set_error(MP_ETOOBIG, "a process name has at most %d bytes",
                            MP_PROCESS_NAME_MAX);
    if (p->started)
        return mp_set_error(MP_ESTATE, "the name is given to the child at its start");
    snprintf(p->name, sizeof p->name, "%s", name);
    return 0;
}

const char *mp_process_name(const mp_process *p)
{
    return p ? p->name : NULL;
}

int mp_process_sentinel(const mp_process *p, intptr_t *handle)
{
    mp_clear_error();
    if (!handle) return mp_set_error(MP_EINVAL, "NULL handle pointer");
    *handle = (intptr_t)MP_OS_NO_HANDLE;
    int rc = usable(p);
    if (rc < 0) return rc;
    if (!p->started) return mp_set_error(MP_ESTATE, "process not started");
    *handle = (intptr_t)mp_os_proc_sentinel(&p->proc);
    return 0;
}

int mp_process_set_authkey(mp_process *p, const void *key, size_t len)
{
    mp_clear_error();
    int rc = usable(p);
    if (rc < 0) return rc;
    if (!key && len) return mp_set_error(MP_EINVAL, "NULL authkey with a length");
    if (len > MP_AUTHKEY_MAX)
        return mp_set_error(MP_ETOOBIG, "an authkey has at most %d bytes",
                            MP_AUTHKEY_MAX);
    if (p->started) return mp_set_error(MP_ESTATE, "the authkey is given at the start");
    unsigned char *copy = malloc(len ? len : 1);
    if (!copy) return mp_set_error(MP_ENOMEM, "out of memory for an authkey");
    if (len) memcpy(copy, key, len);
    if (p->authkey) mp_secure_zero(p->authkey, p->authkey_len);
    free(p->authkey);
    p->authkey = copy;
    p->authkey_len = len;
    return 0;
}

int mp_process_set_daemon(mp_process *p, int daemon)
{
    mp_clear_error();
    int rc = usable(p);
    if (rc < 0) return rc;
    if (p->started) return mp_set_error(MP_ESTATE, "process already started");
    p->daemon = daemon != 0;
    return 0;
}

int mp_process_daemon(const mp_process *p)
{
    return p ? p->daemon : 0;
}

/* What Python's exit function does at the end of a program or of a child:
 * daemonic children still running are terminated, then every child is
 * waited for. A fork child's copy of a started process is not waited for:
 * the list was forgotten at its start. */
static void end_children(void)
{
    size_t n = 0;
    mp_process **c = NULL;
    mp__children_copy(&c, &n);
    for (size_t i = 0; i < n; i++)
        if (c[i]->daemon && mp_process_is_alive(c[i])) mp_process_terminate(c[i]);
    for (size_t i = 0; i < n; i++)
        if (!c[i]->proc.exited) mp_os_proc_wait(&c[i]->proc, MP_NO_DEADLINE);
    free(c);
}

static void end_children_at_exit(void)
{
    end_children();
}

/* At the first start: the program's exit ends its children, as Python's
 * does (a forked child, which leaves with _exit, ends them in run_child). */
static void register_end_of_program(void)
{
    static mp_atomic_u32 registered;
    uint32_t no = 0;
    if (mp_cas32(&registered, &no, 1, MP_RELAXED)) atexit(end_children_at_exit);
}

int mp_active_children(mp_process **out, size_t max)
{
    mp_clear_error();
    if (!out && max > 0) return mp_set_error(MP_EINVAL, "NULL list with room");
    size_t n = 0;
    mp_process **c = NULL;
    int rc = mp__children_copy(&c, &n);
    if (rc < 0) return rc;
    int live = 0;
    for (size_t i = 0; i < n; i++) {
        if (!mp_process_is_alive(c[i])) continue;
        if ((size_t)live < max) out[live] = c[i];
        live++;
    }
    free(c);
    return live;
}

int mp_process_start(mp_process *p)
{
    mp_clear_error();
    int rc = usable(p);
    if (rc < 0) return rc;
    if (p->started) return mp_set_error(MP_ESTATE, "a process can be started only once");
    mp_start_method method = p->method == MP_START_DEFAULT ? default_method : p->method;
    if (method == MP_START_SPAWN && !main_called)
        return mp_set_error(MP_ESTATE,
                            "spawn needs mp_main(argc, argv) at the top of main()");
    if (mp__identity_daemon())
        return mp_set_error(MP_ESTATE, "a daemonic process may not start children");
    /* Listed first, so a start never leaves a child unlisted. */
    rc = mp__children_add(p);
    if (rc < 0) return rc;

    mp_os_fnloc loc;
    memset(&loc, 0, sizeof loc);
    if (method == MP_START_SPAWN) {
        /* Converting the function pointer is what lets the layer look at
         * the code address; the child converts it back to mp_target. */
        rc = mp_os_fn_locate((void (*)(void))p->target, &loc);
        if (rc < 0) {
            mp__children_remove(p);
            return rc;
        }
    }

    mp_buf b;
    mp_buf_init(&b);
    mp_export ex = {&b, NULL, 0, 0, 0};
    mp_buf_u32(&b, BLOB_MAGIC);
    mp_buf_blob(&b, loc.module, strlen(loc.module) + 1);
    mp_buf_u64(&b, loc.offset);
    mp__identity_export(&b, p->identity, p->name, p->daemon);
    rc = mp__authkey_export(&b, p->authkey, p->authkey_len);
    /* The SharedMemory tracker's pipe, so that the child's tracked blocks
     * live as long as this program (a forked child has it anyway). */
    mp_os_handle tracker = mp_os_shm_tracker();
    mp_buf_u32(&b, tracker != MP_OS_NO_HANDLE);
    if (tracker != MP_OS_NO_HANDLE) mp_export_handle(&ex, tracker);
    if (rc == 0) rc = mp__args_export(p->args, p->nargs, &ex);

    /* Output buffered before the start would otherwise come after the
     * child's, or twice after a fork. */
    fflush(stdout);
    fflush(stderr);

    if (rc == 0 && method == MP_START_SPAWN) {
        rc = mp__boot_spawn(&p->proc, b.data, b.len, ex.handles, ex.n);
    } else if (rc == 0) {
        int in_child = 0;
        rc = mp_os_fork(&p->proc, &in_child);
        if (rc == 0 && in_child) run_child(b.data, b.len, ex.handles, ex.n, p->target, 1);
    }
    free(ex.handles);
    mp_buf_free(&b);
    if (rc < 0) {
        mp__children_remove(p);
        return rc;
    }
    p->started = 1;
    register_end_of_program();
    return 0;
}

int mp_process_join(mp_process *p, double timeout)
{
    mp_clear_error();
    int rc = usable(p);
    if (rc == 0) rc = mp_timeout_check(timeout);
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
    mp_clear_error();
    if (p && p->closed) return mp_set_error(MP_ESTATE, "process object is closed");
    if (!p || !p->started) return 0;
    poll_exit(p);
    return !p->proc.exited;
}

int64_t mp_process_pid(const mp_process *p)
{
    if (p && p->closed) return MP_ESTATE;
    return p && p->started ? p->proc.pid : 0;
}

int mp_process_exitcode(mp_process *p, int *code)
{
    mp_clear_error();
    if (!code) return mp_set_error(MP_EINVAL, "NULL argument");
    int rc = usable(p);
    if (rc < 0) return rc;
    if (!p->started) return mp_set_error(MP_ESTATE, "process not started");
    rc = poll_exit(p);
    if (rc < 0) return rc;
    if (!p->proc.exited) return mp_set_error(MP_ESTATE, "process still running");
    *code = p->proc.exitcode;
    return 0;
}

static int send_signal(mp_process *p, int hard)
{
    int rc = usable(p);
    if (rc < 0) return rc;
    if (!p->started) return mp_set_error(MP_ESTATE, "process not started");
    if (p->proc.exited) return 0;
    return mp_os_proc_signal(&p->proc, hard);
}

int mp_process_terminate(mp_process *p)
{
    mp_clear_error();
    return send_signal(p, 0);
}

int mp_process_kill(mp_process *p)
{
    mp_clear_error();
    return send_signal(p, 1);
}

int mp_process_close(mp_process *p)
{
    mp_clear_error();
    if (!p) return mp_set_error(MP_EINVAL, "NULL process");
    if (p->closed) return 0;
    if (p->started) {
        poll_exit(p);
        if (!p->proc.exited)
            return mp_set_error(MP_ESTATE, "process still running: join it first");
        mp_os_proc_release(&p->proc);
        mp__children_remove(p);
    }
    mp__args_drop(p->args, p->nargs);
    p->args = NULL;
    p->nargs = 0;
    if (p->authkey) mp_secure_zero(p->authkey, p->authkey_len);
    free(p->authkey);
    p->authkey = NULL;
    p->closed = 1;
    return 0;
}

int mp_process_free(mp_process *p)
{
    mp_clear_error();
    if (!p) return 0;
    int rc = mp_process_close(p);
    if (rc == 0) free(p);
    return rc;
}
