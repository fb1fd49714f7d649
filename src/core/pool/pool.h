/* pool.h - the Pool's parts and how they meet (room pool/).
 *
 * The parent keeps one handler thread (handler.c) that sends chunks to
 * workers and takes their results through a backend: local processes
 * (local.c), or MPI ranks (mpi/, built apart as mproc::mpi). It knows
 * exactly what each worker holds: the chunks it sent and has no result
 * for, in order. A dead worker's begun chunk fails; the others go back to
 * the front of the pending list (workers.c). Locally, each worker has a
 * task queue of its own that only the handler writes; every worker
 * writes its results into one result queue that only the handler reads,
 * and that also carries the nudges of threads that submitted work; a raw
 * shared array holds one word per worker: the id of the chunk it has
 * begun (0 until its initializer has run, 1 when ready). docs/pool.md
 * tells the story.
 *
 * Files: pool.c (life of the pool), submit.c (the calls that give work),
 * job.c (a submission's chunks and their ends), result.c (AsyncResult),
 * iter.c (imap), handler.c, inbox.c (the result queue), workers.c (what
 * workers hold), local.c (the local backend), worker.c (the worker's
 * side), wire.c (messages), apart.c (the platform, for a backend built
 * apart). */
#ifndef MP_CORE_POOL_POOL_H
#define MP_CORE_POOL_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "base/atomics.h"
#include "base/error.h"
#include "base/testhook.h"
#include "mproc/pool.h"
#include "mproc/queue.h"
#include "platform.h"

typedef struct pool_job pool_job;
typedef struct pool_chunk pool_chunk;

/* A slice of a job's items, as one task message: chunk seq of its job
 * (job->chunks[seq]) holds items [seq * chunksize, + chunksize). Kept
 * small: a map of one-item chunks has one per item. */
struct pool_chunk {
    pool_chunk *next; /* in the pending list or a worker's in-flight list */
    pool_job *job;
    uint64_t id; /* unique in the pool, >= POOL_FIRST_ID */
    void *msg;   /* the task message (wire.c), in its job's msgs */
    size_t len;
};

enum pool_job_kind { JOB_APPLY, JOB_MAP, JOB_IMAP, JOB_IMAP_UNORDERED };

/* One submission, in one allocation with its chunks and their records
 * (pool_job_new). Guarded by its pool's mutex once handed over. It lives
 * while its user holds it (user) or any chunk has not ended. */
#define POOL_SMALL_RESULTS 64
struct pool_job {
    mp_pool *pool;
    enum pool_job_kind kind;
    int user; /* 1 until the caller frees its result or iterator */
    size_t nitems;
    size_t chunksize;
    size_t nchunks;
    pool_chunk *chunks;
    unsigned char *msgs; /* the chunks' task messages in blocks (submit.c) */
    size_t ended;        /* chunks that ended, with a value or an error */
    /* Results stay pickles, back to back in one buffer, until a caller
     * asks: the handler only copies bytes, and a map of many small tasks
     * costs no allocation per result (docs/pool.md). */
    unsigned char *bytes; /* small, until that is too small */
    size_t blen, bcap;
    unsigned char small[POOL_SMALL_RESULTS];
    size_t *at, *len;       /* per chunk: where its pickle (a list) is in bytes;
                               len 0 until it ended with results (a pickle never
                               is empty) */
    mp_task_error **errors; /* per chunk: its failure, or NULL */
    mp_obj *decoded;        /* apply: chunk 0's list, once a get decoded it */
    size_t first_failed;    /* 1 + the chunk that failed first; 0: none */
    size_t *order;          /* imap_unordered: chunks in the order they ended */
    mp_obj *assembled;      /* map: the list, once a get built it */
};

/* A worker and what it holds. live, pid, proc and tasks change only on
 * the handler thread (or before it starts and after it ends), under the
 * mutex. */
typedef struct pool_worker {
    int live;                /* a worker holds this place and may be given chunks */
    int64_t pid;             /* its process id, once known */
    mp_process *proc;        /* the local backend's process, or NULL */
    mp_queue *tasks;         /* the local backend's task queue */
    pool_chunk *head, *tail; /* sent, no result yet, in order */
    size_t inflight;
    size_t given;      /* chunks sent to this process */
    uint64_t chunk_ns; /* average time of its chunks, 0: unknown */
    int full;          /* its queue had no room; cleared by a result */
} pool_worker;

enum pool_state { POOL_RUN, POOL_CLOSE, POOL_TERMINATE };

/* Where the workers are and how messages reach them: local processes
 * (local.c), or MPI ranks (mpi/, built apart as mproc::mpi). The handler
 * thread makes the calls while it runs; start, kill and release are made
 * by the pool's caller before it starts or after it ended. */
typedef struct pool_backend {
    /* 1 if check replaces a dead worker; 0: the pool fails its tasks once
     * no worker is left. */
    int replaces;
    /* Starts worker i, as the pool starts. Not under the mutex. */
    int (*start)(mp_pool *pool, int i);
    /* Sends a task message to live worker i without waiting: 0, or
     * MP_EFULL to be tried again after its next result. Under the mutex. */
    int (*send)(mp_pool *pool, int i, const void *msg, size_t len);
    /* Takes what came (results through mp__pool_take_result, nudges), waiting
     * up to timeout seconds for it: 1 if something came. */
    int (*receive)(mp_pool *pool, double timeout);
    /* Looks at each worker: a dead one is settled (pool_settle) and,
     * where the backend replaces workers and the pool still wants it,
     * replaced. */
    void (*check)(mp_pool *pool);
    /* After close, with every chunk done: stops the workers, waits for them. */
    void (*stop)(mp_pool *pool);
    /* Stops the workers now (terminate, or a pool that failed to start);
     * nothing after stop. */
    void (*kill)(mp_pool *pool);
    /* Frees what the backend keeps (backend_data, when not NULL), after
     * kill or stop. */
    void (*release)(void *data);
} pool_backend;

struct mp_pool {
    mp_os_mutex *mu;
    mp_os_cond *cv;     /* broadcast whenever a chunk ends or the state moves */
    mp_atomic_u32 refs; /* the caller's handle and every live job */
    enum pool_state state;
    /* Submitting threads never take the mutex (submit.c): they push their
     * chunks on incoming, a stack the handler empties at each turn, while
     * open (cleared by close and terminate), counted in submitting. They
     * nudge the handler only when it is about to sleep (idle). */
    mp_atomic_u64 incoming; /* the top chunk, as an integer */
    mp_atomic_u32 open, submitting, idle;
    const pool_backend *backend;
    void *backend_data;
    int handler_done; /* the handler thread has left its loop */
    int nworkers;
    pool_worker *workers;
    mp_queue *results; /* results of local workers, and the nudges */
    mp_array *slots;   /* local: raw 'Q', one word per worker */
    pool_chunk *pending, *pending_tail;
    mp_atomic_u64 next_id;
    mp_atomic_u32 nudged; /* a nudge is in the result queue */
    mp_os_thread *handler;
    unsigned char *rbuf; /* the handler's receive buffer */
    size_t rcap;
    int joined;         /* the handler thread has been joined */
    int unready_deaths; /* workers that died before ready, in a row */
    int broken;         /* gave up replacing them (mproc/pool.h), or none is left */
    const char *broken_why;
    unsigned named; /* workers started so far, for their names */
    /* what each worker is started with */
    void *init_loc; /* the initializer's place (wire.c), or NULL */
    size_t init_loc_len;
    mp_obj *initargs;
    int maxtasks;
    mp_start_method method;
};

/* Chunk ids start above the slot words' two states. */
#define POOL_SLOT_STARTING 0u
#define POOL_SLOT_READY    1u
#define POOL_FIRST_ID      2u

/* ---- wire.c: messages ---- */

enum pool_msg { POOL_MSG_STOP = 1, POOL_MSG_TASK = 2 };

/* Each worker's task queue has the default ring; a task message must fit
 * in half of it, so that the handler's put never waits on a worker that
 * may have died (a message larger than the ring waits for its reader
 * whatever the timeout). docs/pool.md. */
#define POOL_TASK_MAX MP_POOL_TASK_MAX
_Static_assert(POOL_TASK_MAX <= MP_QUEUE_DEFAULT_RING / 2, "a task fits in its ring");

/* The place of a function (its address, module and offset) as bytes.
 * MP_EUNSUPPORTED if it lies in no module. */
#define POOL_FN_HEAD 16
typedef struct pool_fn_place {
    size_t len;
    unsigned char bytes[POOL_FN_HEAD + sizeof(((mp_os_fnloc *)0)->module)];
} pool_fn_place;
int pool_wire_fn(void (*fn)(void), pool_fn_place *out);

/* Finds the function of such bytes again in this process: by its address
 * when same_layout (this process has the parent's layout: the worker saw
 * its own entry point where the parent's is), else by module and offset. */
int pool_wire_fn_resolve(const void *p, size_t len, int same_layout, void (**fn)(void));

/* The worker's entry point as an integer: the parent passes its own, and
 * a worker that finds the same has the parent's layout. */
int64_t pool_layout_mark(void);

/* A growing buffer of messages, freed with free(bytes). */
typedef struct pool_wire_buf {
    unsigned char *bytes;
    size_t used, cap;
} pool_wire_buf;

/* A task message for items[0..n) (each wrapped in a 1-tuple when wrap),
 * appended to b, *len bytes long: the kind, the chunk id (written later
 * by pool_wire_set_id), the function's place, then the pickle of the
 * argument tuples. On failure b holds what it held. */
int pool_wire_task(const pool_fn_place *place, mp_obj *const *items, size_t n, int wrap,
                   pool_wire_buf *b, size_t *len);
void pool_wire_set_id(void *msg, uint64_t id);

/* A task message parsed in place: the function's place and the pickle. */
typedef struct pool_task_view {
    int kind;
    uint64_t id;
    const void *fnloc;
    size_t fnlen;
    const void *args;
    size_t args_len;
} pool_task_view;
MP_API int mp__pool_parse_task(const void *msg, size_t len, pool_task_view *v);

/* Result messages: a header then a pickle (the list of results, or the
 * failure's message). A nudge is a header with worker POOL_NUDGE. */
#define POOL_NUDGE UINT32_MAX
typedef struct pool_result_head {
    uint32_t worker;
    int32_t status; /* 0, or the task's error value */
    uint64_t id;
    uint64_t elapsed_ns;
    uint64_t index; /* the failed item within the chunk */
} pool_result_head;
#define POOL_RESULT_HEAD_SIZE 36
MP_API void mp__pool_wire_result_head(unsigned char *out, const pool_result_head *h);
int pool_wire_parse_result(const void *msg, size_t len, pool_result_head *h,
                           const void **body, size_t *body_len);

/* ---- job.c ---- */

/* A job of nitems items in chunks of chunksize (at least 1); the caller
 * holds it as user. */
int pool_job_new(mp_pool *pool, enum pool_job_kind kind, size_t nitems, size_t chunksize,
                 pool_job **out);

/* Records chunk c's end: its results (body, the pickle of their list,
 * copied), or err (taken); frees c. Under the mutex; wakes the waiters
 * that need it. */
void pool_job_end_chunk(pool_chunk *c, const void *body, size_t len, mp_task_error *err);

/* Decodes the results of chunk seq, which ended with results: a new list
 * the caller frees. Under the mutex, or once every chunk has ended. */
int pool_job_chunk_values(pool_job *job, size_t seq, mp_obj **list);

/* A failure record: code, with a formatted message. NULL if out of memory
 * (the chunk then ends with a static record). */
mp_task_error *pool_error_new(int code, const char *fmt, ...) MP_PRINTF(2, 3);

/* The caller lets go of its job: frees it if every chunk has ended, and
 * the pool with it if that was the last reference. Under the mutex, which
 * it unlocks. */
void pool_job_release_unlock(pool_job *job);

/* A job that was never handed over (its submission failed): freed with
 * its messages, and its pool reference dropped. Not under the mutex. */
void pool_job_discard(pool_job *job);

/* Drops one reference to the pool; frees it at the last. Under the mutex,
 * which it unlocks. */
void pool_unref_unlock(mp_pool *pool);

/* Waits on the pool's condition until pred(job) or the deadline; 1 if
 * pred holds. Under the mutex. */
int pool_job_wait(pool_job *job, int (*pred)(pool_job *), uint64_t deadline);

/* Sets mp_last_error from a failure record and returns its code. */
int pool_error_report(const mp_task_error *err);

/* ---- submit.c ---- */

/* Makes the chunks of job from items (wrap: each item its own 1-tuple)
 * and hands them to the handler, group by group. Not under the mutex. On
 * failure the job is let go of (discarded, or, if some chunks went out,
 * the rest failed and the job released): the caller no longer has it. */
int pool_submit(mp_pool *pool, pool_job *job, mp_pool_fn fn, mp_obj *const *items,
                int wrap);

/* Moves what submitting threads handed over to the end of the pending
 * list. Under the mutex. */
void pool_take_incoming(mp_pool *pool);

/* Closes the pool to submissions (close, terminate) and waits until none
 * is half made. Not under the mutex. */
void pool_shut(mp_pool *pool);

/* Wakes the handler if no nudge is on its way. Not under the mutex. */
void pool_nudge(mp_pool *pool);

/* ---- result.c / iter.c ---- */

/* Waits for job (a JOB_APPLY or JOB_MAP) to end and moves its value to
 * *out (the caller's), or gives its error. Not under the mutex. */
int pool_result_take(pool_job *job, mp_obj **out);

/* An iterator over job's results; on failure releases job. */
int pool_iter_new(pool_job *job, mp_pool_iter **it);

/* ---- handler.c / workers.c: the workers seen from the parent ---- */

void pool_handler_main(void *arg);

/* Sends as many pending chunks as the live workers may take. Under the
 * mutex. */
void pool_dispatch(mp_pool *pool);

/* How long the handler may sleep before it takes results, when every
 * worker holds enough short tasks that none will run dry meanwhile: so
 * a stream of short tasks costs no wake-up per result. 0: wait on the
 * result queue instead. Under the mutex. */
uint64_t pool_pace_ns(const mp_pool *pool);

/* Settles what dead worker i held: of the chunks sent to it, the first
 * taken ones fail (the one whose id is begun "while running"), the rest
 * go back to the front of the pending list; the worker is no longer
 * live. begun POOL_SLOT_STARTING: it died before it was ready. Under the
 * mutex. */
void pool_settle(mp_pool *pool, int i, size_t taken, uint64_t begun, int exitcode,
                 int64_t pid, const char *name);

/* 1 if the pool still needs worker places filled. Under the mutex. */
int pool_wants_workers(const mp_pool *pool);

/* Ends every chunk not yet ended (pending and in flight) with err_code.
 * Under the mutex. */
void pool_fail_all(mp_pool *pool, int code, const char *why);

/* ---- local.c: the backend of local processes ---- */

extern const pool_backend pool_local_backend;

/* ---- inbox.c: the result queue, read by the handler thread ---- */

/* Takes one message from the result queue, waiting up to timeout seconds:
 * 1 if something came (a message, or word that one was lost), 0 if not.
 * The local backend's receive; another backend's waits here for nudges. */
MP_API int mp__pool_receive_local(mp_pool *pool, double timeout);

/* Takes every message the result queue holds now. */
void pool_drain(mp_pool *pool);

/* Handles one result message (or nudge). Handler thread, not under the
 * mutex. */
MP_API void mp__pool_take_result(mp_pool *pool, const void *msg, size_t len);

/* ---- worker.c: the worker's side ---- */

/* Runs the chunks of task messages, whatever brings them. */
typedef struct pool_runner {
    uint32_t index;    /* the worker's place, in its result heads */
    int same_layout;   /* see pool_wire_fn_resolve */
    pool_wire_buf out; /* the latest result message */
    /* the last function resolved, by its place */
    unsigned char *fnloc;
    size_t fnlen;
    mp_pool_fn fn;
} pool_runner;

/* Runs the initializer at place (as pool_wire_fn made it; NULL: none)
 * with initargs: what it returned, or 1 if it cannot be found. */
MP_API int mp__pool_run_initializer(const pool_runner *r, const void *place, size_t len,
                                    const mp_obj *initargs);

/* Runs the chunk of task v and makes its result message (its failure,
 * if the task failed or could not run) in r->out: 0, or an error if not
 * even that could be made. */
MP_API int mp__pool_run_chunk(pool_runner *r, const pool_task_view *v);

/* After the result message went: lets go of a buffer a large one grew. */
MP_API void mp__pool_runner_sent(pool_runner *r);
MP_API void mp__pool_runner_free(pool_runner *r);

/* The local worker process. */
int mp__pool_worker_main(const mp_args *args);

/* ---- for a backend built apart (mproc::mpi): exported, not public ---- */

/* A pool on backend be (with data, which the backend's release frees,
 * also on failure) of nworkers places, each started with be->start. */
MP_API int mp__pool_new_backend(mp_pool **out, const mp_pool_config *cfg, int nworkers,
                                const pool_backend *be, void *data);

/* Worker i is live, with process id pid. Not under the mutex. */
MP_API void mp__pool_worker_up(mp_pool *pool, int i, int64_t pid);

/* pool_settle, taking the mutex. */
MP_API void mp__pool_worker_died(mp_pool *pool, int i, size_t taken, uint64_t begun,
                                 int exitcode, int64_t pid, const char *name);

/* apart.c: the platform's calls such a backend needs, as platform.h
 * says them. mp__pool_pid_alive: 1 if a process of that id runs on this
 * machine, 0 if not. */
MP_API int mp__pool_pid_alive(int64_t pid);
MP_API void mp__pool_sleep_ns(uint64_t ns);
MP_API int mp__pool_thread_start(mp_os_thread **t, void (*fn)(void *), void *arg);
MP_API int mp__pool_thread_join(mp_os_thread *t);
MP_API int mp__pool_mutex_new(mp_os_mutex **m);
MP_API void mp__pool_mutex_free(mp_os_mutex *m);
MP_API void mp__pool_mutex_lock(mp_os_mutex *m);
MP_API void mp__pool_mutex_unlock(mp_os_mutex *m);

#ifdef MPROC_TEST_HOOKS
/* In a worker: its result queue, so that a test's task can take that
 * queue's lock and be killed holding it. */
extern mp_queue *mp__pool_worker_results;
#endif

#endif
