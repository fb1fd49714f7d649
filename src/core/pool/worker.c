/* worker.c - a pool worker process: runs the initializer, then takes
 * chunks from its own task queue, marks each begun in its slot word
 * before calling the function, and puts each chunk's results (or its
 * failure) into the result queue whole. Ends on a stop message, after
 * maxtasksperchild chunks, or when the parent is gone. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pickle/pickle.h"
#include "core/pool/pool.h"
#include "mproc/array.h"

#define WAIT_SLICE 0.5                /* seconds between looks at the parent while idle */
#define HEAP_KEEP  ((size_t)64 << 20) /* docs/pool.md, "Memory" */
#define OUT_KEEP   ((size_t)1 << 20)  /* the same */

int mp_pool_fail(mp_obj **result, int value, const char *fmt, ...)
{
    if (value == 0) value = 1;
    if (!result || !fmt) return value;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (text) {
        va_start(ap, fmt);
        vsnprintf(text, (size_t)n + 1, fmt, ap);
        va_end(ap);
        mp_obj_free(*result);
        *result = mp_obj_strn(text, (size_t)n);
        free(text);
    }
    return value;
}

#ifdef MPROC_TEST_HOOKS
mp_queue *mp__pool_worker_results;
#endif

typedef struct worker {
    mp_queue *tasks, *results;
    mp_atomic_u64 *slot;
    unsigned char *buf;
    size_t cap;
    pool_runner run;
} worker;

/* The next task message into w->buf: its length, 0 when the parent is
 * gone, or a negative error. */
static int64_t next_task(worker *w)
{
    /* A look without waiting first: a get that may wait lingers to let a
     * streaming producer get ahead, and the handler sends more only when
     * results come back. */
    double wait = 0;
    for (;; wait = WAIT_SLICE) {
        size_t len = 0;
        int rc = mp_queue_get_bytes_into(w->tasks, w->buf, w->cap, &len, wait);
        if (rc == 0) return (int64_t)len;
        if (rc == MP_ETOOSHORT) {
            unsigned char *bigger = realloc(w->buf, len);
            if (!bigger) return mp_set_error(MP_ENOMEM, "pool worker: out of memory");
            w->buf = bigger;
            w->cap = len;
            continue;
        }
        if (rc != MP_EEMPTY) return rc;
        if (wait > 0 && mp_parent_is_alive() == 0) return 0;
    }
}

static int resolve(pool_runner *w, const pool_task_view *v)
{
    if (w->fn && v->fnlen == w->fnlen && memcmp(v->fnloc, w->fnloc, v->fnlen) == 0)
        return 0;
    void (*fn)(void) = NULL;
    int rc = pool_wire_fn_resolve(v->fnloc, v->fnlen, w->same_layout, &fn);
    if (rc < 0) return rc;
    unsigned char *copy = malloc(v->fnlen ? v->fnlen : 1);
    if (!copy) return mp_set_error(MP_ENOMEM, "pool worker: out of memory");
    memcpy(copy, v->fnloc, v->fnlen);
    free(w->fnloc);
    w->fnloc = copy;
    w->fnlen = v->fnlen;
    w->fn = (mp_pool_fn)fn;
    return 0;
}

/* Puts a result message, looking at the parent while the queue is full. */
static int send(worker *w, const void *msg, size_t len)
{
    for (;;) {
        int rc = mp_queue_put_bytes(w->results, msg, len, WAIT_SLICE);
        if (rc != MP_EFULL) return rc;
        if (mp_parent_is_alive() == 0) return MP_ECLOSED;
    }
}

/* Makes the end of chunk id in w->out: the list of its n results, or
 * (status not 0) a failure at item index with message (a str, or NULL). */
static int reply(pool_runner *w, uint64_t id, uint64_t elapsed, int status, size_t index,
                 mp_obj **items, size_t n, mp_obj *message)
{
    pool_wire_buf *b = &w->out;
    void *buf = b->bytes;
    int rc = 0;
    mp_obj *made = NULL;
    b->used = 0;
    if (status == 0) {
        rc = mp__pickle_dumps_items_into(items, n, 0, POOL_RESULT_HEAD_SIZE, &buf,
                                         &b->used, &b->cap);
        if (rc < 0) {
            /* Python's MaybeEncodingError: the task ran, its result cannot
             * travel. */
            status = rc;
            message = made = mp_obj_str("the task's result cannot be sent");
        }
    }
    if (status != 0) {
        mp_obj *text = message && mp_obj_type_of(message) == MP_OBJ_STR ? message : NULL;
        mp_obj *one = text ? text : mp_obj_none();
        rc = mp__pickle_dumps_items_into(&one, 1, 0, POOL_RESULT_HEAD_SIZE, &buf,
                                         &b->used, &b->cap);
    }
    b->bytes = buf;
    mp_obj_free(made);
    if (rc == 0) {
        pool_result_head h = {w->index, status, id, elapsed, index};
        mp__pool_wire_result_head(b->bytes, &h);
    }
    return rc;
}

void mp__pool_runner_sent(pool_runner *w)
{
    /* Kept for the next result, unless a large one made it large. */
    if (w->out.cap > OUT_KEEP) {
        free(w->out.bytes);
        w->out = (pool_wire_buf){NULL, 0, 0};
    }
}

void mp__pool_runner_free(pool_runner *w)
{
    free(w->out.bytes);
    free(w->fnloc);
    memset(w, 0, sizeof *w);
}

int mp__pool_run_chunk(pool_runner *w, const pool_task_view *v)
{
    mp_obj *args = NULL;
    int rc = resolve(w, v);
    if (rc == 0) rc = mp_obj_loads(v->args, v->args_len, &args);
    if (rc < 0) {
        mp_obj *why = mp_obj_str(mp_last_error());
        rc = reply(w, v->id, 0, rc, 0, NULL, 0, why);
        mp_obj_free(why);
        return rc;
    }
    size_t n = mp_obj_len(args), done = 0;
    mp_obj **out = calloc(n ? n : 1, sizeof *out);
    int status = 0;
    mp_obj *failure = NULL;
    uint64_t t0 = mp_os_now_ns();
    if (!out) status = MP_ENOMEM;
    for (; status == 0 && done < n; done++) {
        mp_obj *r = NULL;
        status = w->fn(mp_obj_item(args, done), &r);
        if (status != 0) {
            failure = r;
            break;
        }
        out[done] = r ? r : mp_obj_none();
    }
    uint64_t elapsed = mp_os_now_ns() - t0;
    rc = reply(w, v->id, elapsed, status, done, out, n, failure);
    for (size_t i = 0; out && i < done; i++)
        mp_obj_free(out[i]);
    free(out);
    mp_obj_free(failure);
    mp_obj_free(args);
    return rc;
}

int64_t pool_layout_mark(void)
{
    return (int64_t)(uintptr_t)mp__pool_worker_main;
}

int mp__pool_run_initializer(const pool_runner *w, const void *p, size_t len,
                             const mp_obj *initargs)
{
    if (!p) return 0;
    void (*fn)(void) = NULL;
    int rc = pool_wire_fn_resolve(p, len, w->same_layout, &fn);
    if (rc < 0) return 1;
    return ((mp_pool_init_fn)fn)(initargs);
}

int mp__pool_worker_main(const mp_args *args)
{
    worker w;
    memset(&w, 0, sizeof w);
    int64_t index = 0, maxtasks = 0, mark = 0;
    w.tasks = mp_args_queue(args, 0);
    w.results = mp_args_queue(args, 1);
    mp_array *slots = mp_args_array(args, 2);
    if (!w.tasks || !w.results || !slots || mp_args_get_int(args, 3, &index) < 0 ||
        mp_args_get_int(args, 6, &maxtasks) < 0 || mp_args_get_int(args, 7, &mark) < 0)
        return 70; /* EX_SOFTWARE: the pool and its worker disagree */
    w.run.index = (uint32_t)index;
    mp_os_heap_keep(HEAP_KEEP);
    w.run.same_layout = mark == pool_layout_mark();
    MP_TEST_HOOK(mp__pool_worker_results = w.results);
    w.slot = (mp_atomic_u64 *)mp_array_data(slots) + index;
    size_t plen = 0;
    const void *place = mp_obj_bytes_data(mp_args_obj(args, 4), &plen);
    int code = mp__pool_run_initializer(&w.run, place, plen, mp_args_obj(args, 5));
    if (code != 0) return code;
    mp_store64(w.slot, POOL_SLOT_READY, MP_RELEASE);
    for (int64_t ran = 0; maxtasks == 0 || ran < maxtasks; ran++) {
        int64_t len = next_task(&w);
        if (len <= 0) {
            code = len < 0 ? 70 : 0;
            break;
        }
        pool_task_view v;
        if (mp__pool_parse_task(w.buf, (size_t)len, &v) < 0) {
            code = 70;
            break;
        }
        if (v.kind == POOL_MSG_STOP) break;
        mp_store64(w.slot, v.id, MP_RELEASE);
        int rc = mp__pool_run_chunk(&w.run, &v);
        if (rc == 0) rc = send(&w, w.run.out.bytes, w.run.out.used);
        mp__pool_runner_sent(&w.run);
        if (rc < 0) {
            code = 70;
            break;
        }
    }
    free(w.buf);
    mp__pool_runner_free(&w.run);
    return code;
}
