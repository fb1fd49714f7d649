/* mproc/pool.h - a pool of worker processes that run tasks (Python's
 * multiprocessing.Pool).
 *
 * A task is a function of one signature, mp_pool_fn, called in a worker
 * with a tuple of positional arguments and giving back one mp_obj, as
 * Python calls f(*args). Arguments and results travel as pickles, so they
 * are the values mp_obj holds. The function is found in the worker again
 * by where it lives in the program, as a Process target is: no
 * registration.
 *
 * A worker that dies while it runs a task (killed, crashed, or calling
 * exit) costs only that task: it fails with MP_EWORKERDIED, naming the
 * worker and its exit code, the worker is replaced, and every other task
 * runs exactly once. Tasks a dead worker had been given but had not begun
 * go to another worker. docs/pool.md tells how.
 *
 * Results: the synchronous calls give the value or an error code, with
 * mp_last_error() saying which task failed and why; the _async calls give
 * an mp_async_result whose mp_async_result_error() gives the details as
 * an mp_task_error. Threads may share a pool; a result or an iterator is
 * used by one thread at a time. */
#ifndef MPROC_POOL_H
#define MPROC_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "obj.h"
#include "process.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mp_pool mp_pool;
typedef struct mp_async_result mp_async_result;
typedef struct mp_pool_iter mp_pool_iter;

/* A task. args is a tuple of the positional arguments (a 1-tuple of the
 * item for map and imap), owned by the pool. On success the function
 * stores its result in *result (the pool takes it; leaving NULL means
 * None) and returns 0. Any other return value fails the task with
 * MP_ETASK: that value is the task's error value, and *result, when it is
 * a str, its message (see mp_pool_fail()). */
typedef int (*mp_pool_fn)(const mp_obj *args, mp_obj **result);

/* Run once in each worker before its first task, with the initargs tuple
 * (an empty tuple when none was given). A non-zero return ends the worker
 * with that exit code; see mp_pool_new(). */
typedef int (*mp_pool_init_fn)(const mp_obj *args);

/* For a task to fail with a message: sets *result to a str made from fmt
 * (printf-style) and returns value, so that a task can end with
 * return mp_pool_fail(result, 7, "%d is odd", x);
 * value must not be 0 (0 is taken as 1). If the message cannot be made
 * the task still fails, without it. */
MP_API int mp_pool_fail(mp_obj **result, int value, const char *fmt, ...)
#if defined(__MINGW32__)
    __attribute__((format(gnu_printf, 3, 4))) /* the library formats as GNU does */
#elif defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Why a task failed. */
typedef struct mp_task_error {
    int code;          /* MP_ETASK, MP_EWORKERDIED, or MP_ESTATE (pool terminated) */
    int value;         /* MP_ETASK: what the task function returned */
    int64_t pid;       /* MP_EWORKERDIED: the worker's process id */
    int exitcode;      /* MP_EWORKERDIED: its exit code, -N for signal N */
    size_t index;      /* the item of the map that failed (0 for apply) */
    char message[256]; /* the task's message, or what happened; NUL-ended */
} mp_task_error;

/* ---- the pool ------------------------------------------------------------ */

/* Pool(processes, initializer, initargs, maxtasksperchild), with
 * everything a pool can be given. */
typedef struct mp_pool_config {
    int processes;                /* 0: mp_process_cpu_count() (Python 3.13) */
    mp_pool_init_fn initializer;  /* NULL: none */
    const mp_obj *initargs;       /* tuple or list for initializer; NULL: () */
    int maxtasksperchild;         /* 0: workers live as long as the pool */
    mp_start_method start_method; /* MP_START_DEFAULT: the process default */
} mp_pool_config;

/* Starts a pool and its workers. The caller owns *pool and releases it
 * with mp_pool_free(). A worker whose initializer fails (or that dies
 * before it is ready for tasks) is replaced like any other; after 8 such
 * deaths in a row with nothing run, the pool stops replacing them and
 * fails its tasks with MP_EWORKERDIED rather than start workers forever.
 * MP_EINVAL for a negative count, NULL pool, or initargs that is not a
 * tuple or list; MP_ENOMEM, MP_ESYS, MP_EUNSUPPORTED (a start method the
 * OS lacks). */
MP_API int mp_pool_new_config(mp_pool **pool, const mp_pool_config *config);

/* mp_pool_new_config with the default start method. */
MP_API int mp_pool_new(mp_pool **pool, int processes, mp_pool_init_fn initializer,
                       const mp_obj *initargs, int maxtasksperchild);

/* The number of workers the pool keeps. */
MP_API int mp_pool_processes(const mp_pool *pool);

/* The process ids of the workers now running, up to max of them: the
 * number written, or MP_EINVAL. For tests and monitors; a worker may exit
 * at any time. */
MP_API int mp_pool_worker_pids(mp_pool *pool, int64_t *pids, size_t max);

/* Accepts no more tasks; the workers exit once every task given so far is
 * done. MP_ESTATE after mp_pool_terminate(). */
MP_API int mp_pool_close(mp_pool *pool);

/* Stops the workers at once. Tasks not yet done fail with MP_ESTATE
 * ("the pool was terminated"); nothing waits on them forever. */
MP_API int mp_pool_terminate(mp_pool *pool);

/* Waits for the workers to exit: MP_ESTATE while the pool is running (call
 * mp_pool_close() or mp_pool_terminate() first, as in Python). */
MP_API int mp_pool_join(mp_pool *pool);

/* Terminates the pool if it runs (Python's with-block exit), waits for its
 * workers and frees it. Results and iterators taken from it stay valid
 * until freed themselves. NULL is ignored. */
MP_API void mp_pool_free(mp_pool *pool);

/* ---- submitting work ------------------------------------------------------ */

/* Common errors: MP_EINVAL for a NULL pool, fn or out pointer, or args /
 * items that are not a tuple or list (items of starmap: each a tuple or
 * list); MP_EUNSUPPORTED if fn lies outside the program's modules;
 * MP_ESTATE once the pool is closed or terminated; MP_ETOOBIG for values
 * nested deeper than MP_OBJ_MAX_DEPTH, or a chunk whose arguments pickle
 * to more than MP_POOL_TASK_MAX bytes (pass large data through
 * SharedMemory; results have no such limit). chunksize 0 is Python's
 * default: the items split into about four chunks per worker. A call
 * that fails gives no result and leaves nothing waiting; in a map of
 * many chunks, which go to the workers in groups as they are pickled,
 * chunks before the one that failed may have run. */
#define MP_POOL_TASK_MAX ((size_t)4 << 20)

/* Runs fn(*args) in a worker and waits for it: *out is its result, the
 * caller's. MP_ETASK or MP_EWORKERDIED if it failed (mp_last_error()
 * tells). */
MP_API int mp_pool_apply(mp_pool *pool, mp_pool_fn fn, const mp_obj *args, mp_obj **out);

/* apply without waiting: *result is the caller's. */
MP_API int mp_pool_apply_async(mp_pool *pool, mp_pool_fn fn, const mp_obj *args,
                               mp_async_result **result);

/* fn(item) for each item of items (a list or tuple), in chunks; *out is a
 * new list of the results, in order. If a task failed: the error of the
 * first to fail, as soon as it has (as Python), and no list. */
MP_API int mp_pool_map(mp_pool *pool, mp_pool_fn fn, const mp_obj *items,
                       size_t chunksize, mp_obj **out);
MP_API int mp_pool_map_async(mp_pool *pool, mp_pool_fn fn, const mp_obj *items,
                             size_t chunksize, mp_async_result **result);

/* map where each item is a tuple (or list) of arguments: fn(*item). */
MP_API int mp_pool_starmap(mp_pool *pool, mp_pool_fn fn, const mp_obj *items,
                           size_t chunksize, mp_obj **out);
MP_API int mp_pool_starmap_async(mp_pool *pool, mp_pool_fn fn, const mp_obj *items,
                                 size_t chunksize, mp_async_result **result);

/* map whose results come one by one through mp_pool_iter_next(): in the
 * order of items (imap), or as they finish (imap_unordered). chunksize 0
 * is 1, as in Python. *it is the caller's. */
MP_API int mp_pool_imap(mp_pool *pool, mp_pool_fn fn, const mp_obj *items,
                        size_t chunksize, mp_pool_iter **it);
MP_API int mp_pool_imap_unordered(mp_pool *pool, mp_pool_fn fn, const mp_obj *items,
                                  size_t chunksize, mp_pool_iter **it);

/* ---- results -------------------------------------------------------------- */

/* Waits up to timeout seconds for the result: 0 with *out pointing at it
 * (owned by result, valid until mp_async_result_free(); a list for
 * map), MP_ETIMEDOUT, or the task's error (MP_ETASK, MP_EWORKERDIED,
 * MP_ESTATE if the pool was terminated first). */
MP_API int mp_async_result_get(mp_async_result *result, double timeout,
                               const mp_obj **out);

/* Waits up to timeout seconds for the task to end, however it ended: 0
 * once it has, else MP_ETIMEDOUT. */
MP_API int mp_async_result_wait(mp_async_result *result, double timeout);

/* 1 if the task has ended, 0 if not, MP_EINVAL for NULL. */
MP_API int mp_async_result_ready(mp_async_result *result);

/* 1 if it ended with a result, 0 if it failed; MP_ESTATE if it has not
 * ended (Python's ValueError). */
MP_API int mp_async_result_successful(mp_async_result *result);

/* The failure of an ended, failed task into *err: 0, or MP_ESTATE if it
 * has not ended or did not fail. */
MP_API int mp_async_result_error(mp_async_result *result, mp_task_error *err);

/* Frees the result, whether or not its task has ended (the task still
 * runs). NULL is ignored. */
MP_API void mp_async_result_free(mp_async_result *result);

/* The next result, waiting up to timeout seconds for it: 0 with *out
 * (the caller's), MP_ECLOSED once every result was given (StopIteration),
 * MP_ETIMEDOUT, or the error of a failed chunk (mp_pool_iter_error()
 * tells), after which iteration goes on with the next chunk. */
MP_API int mp_pool_iter_next(mp_pool_iter *it, double timeout, mp_obj **out);

/* The failure that the latest mp_pool_iter_next() returned: 0, or
 * MP_ESTATE if it returned none. */
MP_API int mp_pool_iter_error(mp_pool_iter *it, mp_task_error *err);

/* Frees the iterator; its tasks still run. NULL is ignored. */
MP_API void mp_pool_iter_free(mp_pool_iter *it);

#ifdef __cplusplus
}
#endif
#endif
