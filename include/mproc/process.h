/* mproc/process.h - run a function in another process (Python's Process).
 *
 * A target is any function of the signature mp_target. With the default
 * start method, spawn, the child is a fresh run of the same executable:
 * call mp_main(argc, argv) first thing in main() so that such a child runs
 * its target and exits there instead of running your program again. The
 * target is found again in the child by its place in the executable (or
 * shared library) it belongs to, so no registration step is needed.
 *
 * Arguments are passed as an mp_arglist, usually built with mp_args_of():
 * shared objects (mp_value, mp_array, mp_queue, mp_conn, and the objects
 * of mproc/synchronize.h) reach the child as
 * new handles onto the same shared state; plain values (integers, doubles,
 * strings, byte strings, and any mp_obj) are copied.
 *
 * Descriptors. A spawned child holds exactly its standard input, output
 * and error and the descriptors (handles) its arguments need, as Python's
 * spawn: whatever else the parent has open, even without O_CLOEXEC (or
 * inheritable on Windows), is closed in the child, and the numbers the
 * child's arguments use need not be the parent's. A forked child holds
 * every descriptor of the parent, as os.fork() does. (A descriptor that
 * another thread opens without O_CLOEXEC while a spawn runs may still
 * reach the child where the C library has no
 * posix_spawn_file_actions_addclosefrom_np: only O_CLOEXEC closes that
 * race.)
 *
 * How a child exits. When the target returns, the child releases its
 * arguments (a Queue waits for what it still has to send) and exits with
 * the target's return value. A spawned child exits with exit(): its
 * atexit() handlers run, those registered in the child (by the target, or
 * by a library the child loaded), and stdio is flushed. A forked child
 * flushes stdio and ends with _exit(): no atexit() handler runs, neither
 * the parent's (they would run twice) nor one the target registered, as
 * in Python, where os._exit ends a forked child. For work that must run
 * at the child's end under both methods, wherever the target returns
 * from, see mp_child_atexit. */
#ifndef MPROC_PROCESS_H
#define MPROC_PROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "types.h"
#include "obj.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The child's entry point. args and the objects in it belong to the
 * runtime and stay valid until the target returns; the return value is
 * the child's exit code (Python's Process.exitcode), 0..255. */
typedef int (*mp_target)(const mp_args *args);

/* ---- start-up ------------------------------------------------------- */

/* Call first thing in main(). In a process that mproc spawned, this runs
 * the target and exits with its return value: it never returns there. In
 * any other process it records argv[0] and returns at once. A child whose
 * bootstrap fails prints why on stderr and exits with status 255. */
MP_API void mp_main(int argc, char **argv);

/* ---- the machine ------------------------------------------------------ */

/* The number of CPUs in the system, as Python's os.cpu_count() and
 * multiprocessing.cpu_count(): at least 1, or MP_EUNSUPPORTED if the OS
 * cannot tell (Python's NotImplementedError). */
MP_API int mp_cpu_count(void);

/* The number of CPUs this process may run on, as Python 3.13's
 * os.process_cpu_count(): its affinity mask where the OS keeps one (Linux
 * sched_getaffinity, a FreeBSD cpuset, the process affinity mask on
 * Windows), else mp_cpu_count(). Children inherit the mask, so this is the
 * number of workers that can run at once. At least 1, or MP_EUNSUPPORTED. */
MP_API int mp_process_cpu_count(void);

/* The most exit handlers one child may register. */
#define MP_CHILD_ATEXIT_MAX 32

/* In a child's target (or a thread of it): registers fn(arg) to run when
 * the target has returned, before the child releases its arguments (so fn
 * may still use them) and exits, the same under spawn and fork, where an
 * atexit() handler would run only under spawn, after the arguments are
 * gone. Handlers run latest first, once, in the thread that ran the
 * target; a child the target starts does not inherit them. Like Python's
 * multiprocessing.util.Finalize with an exit priority. MP_EINVAL for a
 * NULL fn; MP_ESTATE outside a child's target (use atexit() there), also
 * from a handler while they run; MP_ETOOBIG past MP_CHILD_ATEXIT_MAX. */
MP_API int mp_child_atexit(void (*fn)(void *arg), void *arg);

/* ---- arguments -------------------------------------------------------- */

typedef enum mp_arg_type {
    MP_ARG_NONE = 0,     /* index past the end */
    MP_ARG_INT,          /* int64_t */
    MP_ARG_DOUBLE,       /* double */
    MP_ARG_STR,          /* NUL-terminated string */
    MP_ARG_BYTES,        /* pointer + length */
    MP_ARG_VALUE,        /* mp_value * */
    MP_ARG_ARRAY,        /* mp_array * */
    MP_ARG_QUEUE,        /* mp_queue * */
    MP_ARG_CONN,         /* mp_conn * */
    MP_ARG_OBJ,          /* mp_obj * (any Python-like value, copied) */
    MP_ARG_LOCK,         /* mp_lock * */
    MP_ARG_RLOCK,        /* mp_rlock * */
    MP_ARG_SEMAPHORE,    /* mp_semaphore * (bounded or not) */
    MP_ARG_EVENT,        /* mp_event * */
    MP_ARG_CONDITION,    /* mp_condition * (with its lock) */
    MP_ARG_BARRIER,      /* mp_barrier * */
    MP_ARG_SHARED_MEMORY /* mp_shared_memory * (the child gets its own view) */
} mp_arg_type;

/* Not a type of its own: what mp_arg() makes of an unsigned integer above
 * INT64_MAX, which mp_process_new refuses (MP_ERANGE). */
#define MP__ARG_UINT_RANGE ((mp_arg_type)255)

/* One argument as the parent gives it. Build it with mp_arg() or the
 * mp_arg_* helpers; nothing is copied until mp_process_new(). */
typedef struct mp_arg {
    mp_arg_type type;
    union {
        int64_t i;
        double d;
        const char *s;
        struct {
            const void *data;
            size_t len;
        } bytes;
        mp_value *value;
        mp_array *array;
        mp_queue *queue;
        mp_conn *conn;
        const mp_obj *obj;
        void *object; /* any shared object: the member every kind shares */
    } u;
} mp_arg;

/* A list of arguments: a pointer to count mp_arg. */
typedef struct mp_arglist {
    const mp_arg *items;
    size_t count;
} mp_arglist;

static inline mp_arg mp_arg_int(int64_t v)
{
    mp_arg a;
    a.type = MP_ARG_INT;
    a.u.i = v;
    return a;
}
static inline mp_arg mp_arg_double(double v)
{
    mp_arg a;
    a.type = MP_ARG_DOUBLE;
    a.u.d = v;
    return a;
}
static inline mp_arg mp_arg_str(const char *s)
{
    mp_arg a;
    a.type = MP_ARG_STR;
    a.u.s = s;
    return a;
}
static inline mp_arg mp_arg_bytes(const void *data, size_t len)
{
    mp_arg a;
    a.type = MP_ARG_BYTES;
    a.u.bytes.data = data;
    a.u.bytes.len = len;
    return a;
}
static inline mp_arg mp_arg_value(mp_value *v)
{
    mp_arg a;
    a.type = MP_ARG_VALUE;
    a.u.value = v;
    return a;
}
static inline mp_arg mp_arg_array(mp_array *v)
{
    mp_arg a;
    a.type = MP_ARG_ARRAY;
    a.u.array = v;
    return a;
}
static inline mp_arg mp_arg_queue(mp_queue *v)
{
    mp_arg a;
    a.type = MP_ARG_QUEUE;
    a.u.queue = v;
    return a;
}
static inline mp_arg mp_arg_conn(mp_conn *v)
{
    mp_arg a;
    a.type = MP_ARG_CONN;
    a.u.conn = v;
    return a;
}

/* The synchronization objects (mproc/synchronize.h): each sets u.object. */
#define MP__ARG_OBJECT(name_, ctype_, tag_)                                              \
    static inline mp_arg mp_arg_##name_(ctype_ *v)                                       \
    {                                                                                    \
        mp_arg a;                                                                        \
        a.type = tag_;                                                                   \
        a.u.object = v;                                                                  \
        return a;                                                                        \
    }
MP__ARG_OBJECT(lock, mp_lock, MP_ARG_LOCK)
MP__ARG_OBJECT(rlock, mp_rlock, MP_ARG_RLOCK)
MP__ARG_OBJECT(semaphore, mp_semaphore, MP_ARG_SEMAPHORE)
MP__ARG_OBJECT(event, mp_event, MP_ARG_EVENT)
MP__ARG_OBJECT(condition, mp_condition, MP_ARG_CONDITION)
MP__ARG_OBJECT(barrier, mp_barrier, MP_ARG_BARRIER)
MP__ARG_OBJECT(shared_memory, mp_shared_memory, MP_ARG_SHARED_MEMORY)

static inline mp_arg mp_arg_obj(const mp_obj *v)
{
    mp_arg a;
    a.type = MP_ARG_OBJ;
    a.u.obj = v;
    return a;
}

#ifndef __cplusplus
/* mp_arg(x): wraps x by its C type. Integers of every standard width
 * become MP_ARG_INT (an unsigned value above INT64_MAX makes
 * mp_process_new fail with MP_ERANGE), float and double MP_ARG_DOUBLE,
 * char pointers MP_ARG_STR, mp_obj pointers MP_ARG_OBJ, and each shared
 * object its own kind; byte strings need mp_arg_bytes(). Any other type -
 * a pointer to const shared object, a pointer to anything else, a struct,
 * long double, and compiler extensions such as __int128,
 * _Float16 or _BitInt - does not compile: the error names
 * mp_arg_cannot_pass_this_type. */
#define mp_arg(x)                                                                        \
    _Generic((x),                                                                        \
        mp_value *: mp_arg_value, mp_array *: mp_arg_array, mp_queue *: mp_arg_queue,    \
        mp_conn *: mp_arg_conn, mp_lock *: mp_arg_lock, mp_rlock *: mp_arg_rlock,        \
        mp_semaphore *: mp_arg_semaphore, mp_event *: mp_arg_event,                      \
        mp_condition *: mp_arg_condition, mp_barrier *: mp_arg_barrier,                  \
        mp_shared_memory *: mp_arg_shared_memory,                                        \
        mp_obj *: mp_arg_obj, const mp_obj *: mp_arg_obj,                                \
        char *: mp_arg_str, const char *: mp_arg_str, float: mp_arg_double,              \
        double: mp_arg_double, _Bool: mp_arg_int, char: mp_arg_int,                      \
        signed char: mp_arg_int, unsigned char: mp_arg_int, short: mp_arg_int,           \
        unsigned short: mp_arg_int, int: mp_arg_int, unsigned int: mp_arg_int,           \
        long: mp_arg_int, long long: mp_arg_int, unsigned long: mp__arg_ulong,           \
        unsigned long long: mp__arg_ulonglong, mp_arg: mp__arg_self,                     \
        default: mp_arg_cannot_pass_this_type)(x)
static inline mp_arg mp__arg_self(mp_arg a)
{
    return a;
}
/* What an unsigned 64-bit value becomes: MP_ARG_INT when it fits, else a
 * type no kind serves, which mp_process_new refuses (MP_ERANGE). */
static inline mp_arg mp__arg_u64(uint64_t v)
{
    mp_arg a = mp_arg_int((int64_t)(v & INT64_MAX));
    if (v > (uint64_t)INT64_MAX) a.type = MP__ARG_UINT_RANGE;
    return a;
}
static inline mp_arg mp__arg_ulong(unsigned long v)
{
    return mp__arg_u64(v);
}
static inline mp_arg mp__arg_ulonglong(unsigned long long v)
{
    return mp__arg_u64(v);
}
/* Never defined: selecting it is the compile-time error of mp_arg(). */
extern struct mp_arg_cannot_pass_this_type mp_arg_cannot_pass_this_type;

/* mp_args_of(a, b, ...): an mp_arglist of up to 16 arguments, each wrapped
 * by mp_arg(). It lives as long as the enclosing block. */
#define mp_args_of(...)                                                                  \
    mp_arglist_make((const mp_arg[]){MP__MAP(mp_arg, __VA_ARGS__)},                      \
                    MP__NARGS(__VA_ARGS__))
#endif

/* No arguments. */
#define MP_NO_ARGS mp_arglist_make(NULL, 0)

static inline mp_arglist mp_arglist_make(const mp_arg *items, size_t count)
{
    mp_arglist l;
    l.items = items;
    l.count = count;
    return l;
}

/* ---- the child's view of its arguments --------------------------------- */

/* Number of arguments; 0 for NULL. */
MP_API size_t mp_args_count(const mp_args *args);

/* Type of argument i; MP_ARG_NONE past the end and for NULL args. */
MP_API mp_arg_type mp_args_type(const mp_args *args, size_t i);

/* Shared objects: the child's handle for argument i, or NULL if argument i
 * is not of that type, is past the end, or args is NULL. Owned by the
 * runtime: do not free. */
MP_API mp_value *mp_args_value(const mp_args *args, size_t i);
MP_API mp_array *mp_args_array(const mp_args *args, size_t i);
MP_API mp_queue *mp_args_queue(const mp_args *args, size_t i);
MP_API mp_conn *mp_args_conn(const mp_args *args, size_t i);
MP_API mp_lock *mp_args_lock(const mp_args *args, size_t i);
MP_API mp_rlock *mp_args_rlock(const mp_args *args, size_t i);
MP_API mp_semaphore *mp_args_semaphore(const mp_args *args, size_t i);
MP_API mp_event *mp_args_event(const mp_args *args, size_t i);
MP_API mp_condition *mp_args_condition(const mp_args *args, size_t i);
MP_API mp_barrier *mp_args_barrier(const mp_args *args, size_t i);
MP_API mp_shared_memory *mp_args_shared_memory(const mp_args *args, size_t i);

/* An mp_obj argument: the child's own copy, owned by the runtime (do not
 * free), or NULL if argument i is not an object. */
MP_API mp_obj *mp_args_obj(const mp_args *args, size_t i);

/* Plain values. MP_EINVAL if argument i is not of that type (an integer
 * argument is accepted by mp_args_get_double), is past the end, or an
 * argument or output pointer is NULL; nothing is written then. Strings
 * and bytes point into memory owned by the runtime. */
MP_API int mp_args_get_int(const mp_args *args, size_t i, int64_t *out);
MP_API int mp_args_get_double(const mp_args *args, size_t i, double *out);
MP_API int mp_args_get_str(const mp_args *args, size_t i, const char **out);
MP_API int mp_args_get_bytes(const mp_args *args, size_t i, const void **data,
                             size_t *len);

/* ---- processes ------------------------------------------------------- */

typedef enum mp_start_method {
    MP_START_DEFAULT = 0, /* the process-wide default: spawn unless changed */
    MP_START_SPAWN,       /* re-execute this program (every OS) */
    MP_START_FORK         /* fork() without exec (POSIX only) */
} mp_start_method;

/* Sets the default start method of processes created afterwards, like
 * multiprocessing.set_start_method. MP_EINVAL for anything but
 * MP_START_SPAWN and MP_START_FORK (MP_START_DEFAULT names no method);
 * where the OS has no fork, starting such a process gives
 * MP_EUNSUPPORTED. */
MP_API int mp_set_start_method(mp_start_method method);

/* The longest process name, in bytes (without the NUL). */
#define MP_PROCESS_NAME_MAX 200

/* This process as Python's multiprocessing.current_process() sees it. */
typedef struct mp_process_info {
    const char *name; /* "MainProcess", or the name its parent gave it; owned
                         by mproc, valid while the process runs */
    int64_t pid;      /* its process id */
    int daemon;       /* 1 in a daemonic child */
} mp_process_info;

/* Who the calling process is: in a child mproc started, the name of its
 * mp_process (by default "Process-N", "Process-N:M" for the M-th one made
 * by Process-N, as Python numbers them); elsewhere "MainProcess". */
MP_API mp_process_info mp_current_process(void);

/* In a child mproc started: the process that started it, as Python's
 * multiprocessing.parent_process() (its name and pid, daemon 0), even
 * after that process ended. MP_EINVAL for NULL; MP_ESTATE in the main
 * process (Python's None). */
MP_API int mp_parent_process(mp_process_info *parent);

/* In a child: 1 while the process that started it runs, 0 once it ended
 * (the parent's death is seen at once: POSIX by the child's adoption,
 * Windows by a handle on the parent). MP_ESTATE in the main process. */
MP_API int mp_parent_is_alive(void);

/* The authkey (Python's current_process().authkey): a secret the main
 * process makes of MP_AUTHKEY_SIZE random bytes and every child inherits
 * (or gets its own, mp_process_set_authkey). Listener and Client use it
 * when given MP_AUTHKEY_CURRENT as the key length with a NULL key; a NULL
 * key alone means no authentication, as Python's authkey=None. */
#define MP_AUTHKEY_SIZE    32
#define MP_AUTHKEY_MAX     256
#define MP_AUTHKEY_CURRENT ((size_t)-1)

/* Copies this process's authkey into buf (cap bytes) and its length into
 * *len. MP_ETOOSHORT (with *len set) if it does not fit; MP_EINVAL for a
 * NULL len, or a NULL buf with a cap; MP_ESYS if no random bytes could be
 * had for it. */
MP_API int mp_current_authkey(void *buf, size_t cap, size_t *len);

/* Sets this process's authkey (copied; len bytes, at most MP_AUTHKEY_MAX:
 * MP_ETOOBIG) for the children it starts from now on and for
 * MP_AUTHKEY_CURRENT. Not to be called while another thread starts a
 * child or connects. MP_EINVAL for a NULL key with a length. */
MP_API int mp_set_authkey(const void *key, size_t len);

/* Gives p's child an authkey of its own (Python's p.authkey = key) in
 * place of this process's; before the start. MP_EINVAL for NULL p or a
 * NULL key with a length, MP_ETOOBIG past MP_AUTHKEY_MAX, MP_ESTATE once
 * started or closed. */
MP_API int mp_process_set_authkey(mp_process *p, const void *key, size_t len);

/* Creates a process object that will run target(args) once started.
 * Plain argument values are copied now; shared objects are referenced and
 * must stay alive until mp_process_start() returns (after that they may be
 * freed: the child holds its own handles). MP_EINVAL for a NULL p or
 * target, more than 4096 arguments (or a count without items), an unknown
 * argument type, a NULL string, object or shared object, NULL bytes with a
 * length or a length beyond PTRDIFF_MAX; MP_ETOOBIG for an object nested
 * deeper than MP_OBJ_MAX_DEPTH; MP_ERANGE for an unsigned integer above
 * INT64_MAX (mp_arg of an unsigned 64-bit type); MP_ENOMEM. */
MP_API int mp_process_new(mp_process **p, mp_target target, mp_arglist args);

/* Names p, before it starts (the child's mp_current_process().name).
 * Every process gets a name when created: "Process-N" for the N-th this
 * process created, "Process-1:N" inside Process-1, as Python's. The name
 * is copied. MP_EINVAL for NULL, MP_ETOOBIG past MP_PROCESS_NAME_MAX
 * bytes, MP_ESTATE once started. */
MP_API int mp_process_set_name(mp_process *p, const char *name);

/* Makes p daemonic (daemon 1) or not, before it starts, as Python's
 * Process.daemon: when the program that started it ends (returns from
 * main or calls exit()), or the child that started it ends, a daemonic
 * child still running is terminated; every other child is waited for
 * first, as Python's exit does. A daemonic child may not start children
 * of its own (mp_process_start gives MP_ESTATE there). MP_EINVAL for
 * NULL, MP_ESTATE once started. */
MP_API int mp_process_set_daemon(mp_process *p, int daemon);

/* 1 if p is daemonic, else 0 (also for NULL). */
MP_API int mp_process_daemon(const mp_process *p);

/* The children this process started and has not closed that are still
 * running, as Python's active_children(): reaps those that ended, puts up
 * to max of the running ones into out (they stay their creator's, valid
 * until closed) and returns how many run (which may exceed max).
 * MP_EINVAL for a NULL out with max > 0; MP_ENOMEM. */
MP_API int mp_active_children(mp_process **out, size_t max);

/* p's name, owned by p (valid until mp_process_free); NULL for NULL. */
MP_API const char *mp_process_name(const mp_process *p);

/* The OS handle that becomes ready when the child ends, as Python's
 * Process.sentinel: on POSIX a descriptor that polls readable (end of
 * file), on Windows the process handle, which is signalled. It stays p's:
 * do not close it; it is valid until mp_process_close. MP_EINVAL for
 * NULL, MP_ESTATE before the start (Python's ValueError). */
MP_API int mp_process_sentinel(const mp_process *p, intptr_t *handle);

/* Chooses the start method of p before it starts (MP_START_DEFAULT: the
 * process-wide default). MP_ESTATE once started, MP_EINVAL for NULL or an
 * unknown method. */
MP_API int mp_process_set_start_method(mp_process *p, mp_start_method method);

/* Starts the child. MP_EINVAL for NULL; MP_ESTATE if already started, if
 * spawning before mp_main() was called, or in a daemonic child;
 * MP_EUNSUPPORTED if the target cannot be located in a loaded module, or
 * for fork where the OS has none (the process stays unstarted); MP_ESYS
 * if the OS refused; MP_ENOMEM. */
MP_API int mp_process_start(mp_process *p);

/* Waits until the child exits or the timeout passes (negative, MP_FOREVER:
 * no limit; 0: only look). 0 when it has exited, MP_ETIMEDOUT otherwise,
 * MP_ESTATE if not started, MP_EINVAL for NULL or a NaN timeout. */
MP_API int mp_process_join(mp_process *p, double timeout);

/* 1 if started and not yet exited, else 0 (also for NULL); MP_ESTATE
 * once closed. Reaps the child if it exited. */
MP_API int mp_process_is_alive(mp_process *p);

/* The child's process id, or 0 before start and for NULL; MP_ESTATE once
 * closed. */
MP_API int64_t mp_process_pid(const mp_process *p);

/* The exit code as Python gives it: the target's return value, or minus
 * the number of the signal that ended the child. MP_ESTATE while it runs
 * or before it started (Python's None); MP_EINVAL for a NULL argument.
 * *code is written only on success. */
MP_API int mp_process_exitcode(mp_process *p, int *code);

/* Asks the child to end (SIGTERM; TerminateProcess on Windows) or ends it
 * at once (SIGKILL). 0 also when it had already exited; MP_ESTATE if not
 * started, MP_EINVAL for NULL, MP_ESYS if the OS refused. Objects the
 * child held locked report MP_EOWNERDEAD to the next user; messages it was
 * writing may be lost, as in Python. */
MP_API int mp_process_terminate(mp_process *p);
MP_API int mp_process_kill(mp_process *p);

/* Python's Process.close(): releases what the finished child held in this
 * process (its handles, the copied arguments), keeping the object, so
 * that every later use is refused with one error: MP_ESTATE ("process
 * object is closed") from every function of p but mp_process_name,
 * mp_process_daemon and mp_process_free (mp_process_is_alive and
 * mp_process_pid return MP_ESTATE too). MP_ESTATE, and nothing released,
 * while the child runs: join it first. Closing twice is harmless;
 * MP_EINVAL for NULL. */
MP_API int mp_process_close(mp_process *p);

/* Closes p if it is not closed yet, then frees it: p must not be used
 * afterwards (as after free()). MP_ESTATE, and nothing released, while
 * the child runs. NULL is ignored. */
MP_API int mp_process_free(mp_process *p);

#ifndef __cplusplus
/* Helpers for mp_args_of: count and map up to 16 arguments. */
#define MP__NARGS(...)                                                                   \
    MP__NARGS_(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define MP__NARGS_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15,     \
                   _16, N, ...)                                                          \
    N
#define MP__CAT(a, b)         MP__CAT_(a, b)
#define MP__CAT_(a, b)        a##b
#define MP__MAP(f, ...)       MP__CAT(MP__MAP_, MP__NARGS(__VA_ARGS__))(f, __VA_ARGS__)
#define MP__MAP_1(f, x)       f(x)
#define MP__MAP_2(f, x, ...)  f(x), MP__MAP_1(f, __VA_ARGS__)
#define MP__MAP_3(f, x, ...)  f(x), MP__MAP_2(f, __VA_ARGS__)
#define MP__MAP_4(f, x, ...)  f(x), MP__MAP_3(f, __VA_ARGS__)
#define MP__MAP_5(f, x, ...)  f(x), MP__MAP_4(f, __VA_ARGS__)
#define MP__MAP_6(f, x, ...)  f(x), MP__MAP_5(f, __VA_ARGS__)
#define MP__MAP_7(f, x, ...)  f(x), MP__MAP_6(f, __VA_ARGS__)
#define MP__MAP_8(f, x, ...)  f(x), MP__MAP_7(f, __VA_ARGS__)
#define MP__MAP_9(f, x, ...)  f(x), MP__MAP_8(f, __VA_ARGS__)
#define MP__MAP_10(f, x, ...) f(x), MP__MAP_9(f, __VA_ARGS__)
#define MP__MAP_11(f, x, ...) f(x), MP__MAP_10(f, __VA_ARGS__)
#define MP__MAP_12(f, x, ...) f(x), MP__MAP_11(f, __VA_ARGS__)
#define MP__MAP_13(f, x, ...) f(x), MP__MAP_12(f, __VA_ARGS__)
#define MP__MAP_14(f, x, ...) f(x), MP__MAP_13(f, __VA_ARGS__)
#define MP__MAP_15(f, x, ...) f(x), MP__MAP_14(f, __VA_ARGS__)
#define MP__MAP_16(f, x, ...) f(x), MP__MAP_15(f, __VA_ARGS__)
#endif

#ifdef __cplusplus
}
#endif
#endif
