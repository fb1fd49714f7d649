/* pool/pool.c - the Pool's behaviour, each test a port of what CPython's
 * _TestPool (Lib/test/_test_multiprocessing.py) asserts, named in its
 * comment, run with spawned and forked workers. */
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "tasks.h"
#include "test.h"

static void task_sleep_ms(int64_t ms)
{
    mpt_sleep_us((uint64_t)ms * 1000u);
}

/* ---- tasks (they run in the workers) ---------------------------------------- */

/* The worker's process id. */
static int whoami(const mp_obj *args, mp_obj **result)
{
    (void)args;
    *result = mp_obj_int(mp_current_process().pid);
    return 0;
}

static int init_fails(const mp_obj *args)
{
    (void)args;
    return 5;
}

/* ---- helpers ------------------------------------------------------------------- */

static mp_pool *pool_of(int n, mp_start_method m)
{
    mp_pool_config cfg = {n, NULL, NULL, 0, m};
    mp_pool *p = NULL;
    MPT_EQ(mp_pool_new_config(&p, &cfg), 0);
    return p;
}

static mp_obj *args2(int64_t a, int64_t b)
{
    return MP_TUPLE(mp_obj_int(a), mp_obj_int(b));
}

static void close_join(mp_pool *p)
{
    MPT_OK(mp_pool_close(p));
    MPT_OK(mp_pool_join(p));
    mp_pool_free(p);
}

/* ---- tests ----------------------------------------------------------------------- */

/* test_apply, test_map (with and without chunksize), test_starmap. */
static void apply_map_starmap(mp_start_method m)
{
    mp_pool *p = pool_of(4, m);
    mp_obj *out = NULL, *five = MP_TUPLE(mp_obj_int(5));
    MPT_OK(mp_pool_apply(p, sqr, five, &out));
    int64_t v = 0;
    MPT_OK(mp_obj_get_int(out, &v));
    CU_ASSERT_EQUAL(v, 25);
    mp_obj_free(out);

    mp_obj *r10 = range(10), *r100 = range(100);
    MPT_OK(mp_pool_map(p, sqr, r10, 0, &out));
    CU_ASSERT_TRUE(squares(out, 10));
    mp_obj_free(out);
    MPT_OK(mp_pool_map(p, sqr, r100, 20, &out));
    CU_ASSERT_TRUE(squares(out, 100));
    mp_obj_free(out);

    mp_obj *pairs = mp_obj_list(0);
    for (int64_t i = 0; i < 10; i++)
        mp_obj_append(pairs, args2(i, i + 10));
    for (size_t chunk = 0; chunk <= 6; chunk += 6) {
        MPT_OK(mp_pool_starmap(p, mul, pairs, chunk, &out));
        CU_ASSERT_EQUAL(mp_obj_len(out), 10);
        for (int64_t i = 0; out && i < 10; i++) {
            MPT_OK(mp_obj_get_int(mp_obj_item(out, (size_t)i), &v));
            CU_ASSERT_EQUAL(v, i * (i + 10));
        }
        mp_obj_free(out);
    }
    /* starmap wants tuples */
    MPT_EQ(mp_pool_starmap(p, mul, r10, 0, &out), MP_EINVAL);
    mp_obj_free(pairs);
    mp_obj_free(r10);
    mp_obj_free(r100);
    mp_obj_free(five);
    close_join(p);
}
MPT_DEFINE_BOTH(apply_map_starmap)

/* test_map_async, test_starmap_async, test_async (get, ready,
 * successful), test_async_timeout. */
static void async_results(mp_start_method m)
{
    mp_pool *p = pool_of(2, m);
    mp_async_result *r;
    const mp_obj *v;
    int64_t x = 0;
    mp_obj *r10 = range(10);
    MPT_OK(mp_pool_map_async(p, sqr, r10, 0, &r));
    MPT_OK(mp_async_result_get(r, MPT_JOIN_TIMEOUT, &v));
    CU_ASSERT_TRUE(squares(v, 10));
    CU_ASSERT_EQUAL(mp_async_result_ready(r), 1);
    CU_ASSERT_EQUAL(mp_async_result_successful(r), 1);
    mp_async_result_free(r);

    mp_obj *seven = args2(7, 100);
    MPT_OK(mp_pool_apply_async(p, sqr, seven, &r));
    MPT_OK(mp_async_result_get(r, MPT_JOIN_TIMEOUT, &v));
    MPT_OK(mp_obj_get_int(v, &x));
    CU_ASSERT_EQUAL(x, 49);
    mp_async_result_free(r);

    /* test_async_timeout: a task of 1 s and a get of 0.1 s */
    mp_obj *six = args2(6, 1000);
    MPT_OK(mp_pool_apply_async(p, sqr, six, &r));
    MPT_EQ(mp_async_result_get(r, 0.1, &v), MP_ETIMEDOUT);
    MPT_EQ(mp_async_result_wait(r, 0), MP_ETIMEDOUT);
    CU_ASSERT_EQUAL(mp_async_result_ready(r), 0);
    MPT_EQ(mp_async_result_successful(r), MP_ESTATE); /* ValueError while not ready */
    MPT_OK(mp_async_result_wait(r, MPT_JOIN_TIMEOUT));
    MPT_OK(mp_async_result_get(r, 0, &v));
    MPT_OK(mp_obj_get_int(v, &x));
    CU_ASSERT_EQUAL(x, 36);
    mp_async_result_free(r);
    mp_obj_free(six);
    mp_obj_free(seven);
    mp_obj_free(r10);
    close_join(p);
}
MPT_DEFINE_BOTH(async_results)

/* test_imap (in order, StopIteration after the end, chunksize 100) and
 * test_imap_unordered (chunksize 1 and 53). */
static void imap_both(mp_start_method m)
{
    mp_pool *p = pool_of(3, m);
    mp_obj *r10 = range(10), *r1000 = range(1000), *out;
    mp_pool_iter *it;
    int64_t v;
    MPT_OK(mp_pool_imap(p, sqr, r10, 0, &it));
    for (int64_t i = 0; i < 10; i++) {
        MPT_OK(mp_pool_iter_next(it, MPT_JOIN_TIMEOUT, &out));
        MPT_OK(mp_obj_get_int(out, &v));
        CU_ASSERT_EQUAL(v, i * i);
        mp_obj_free(out);
    }
    MPT_EQ(mp_pool_iter_next(it, MPT_JOIN_TIMEOUT, &out), MP_ECLOSED);
    MPT_EQ(mp_pool_iter_next(it, 0, &out), MP_ECLOSED);
    mp_pool_iter_free(it);

    MPT_OK(mp_pool_imap(p, sqr, r1000, 100, &it));
    int ok = 1;
    for (int64_t i = 0; i < 1000 && ok; i++) {
        ok = mp_pool_iter_next(it, MPT_JOIN_TIMEOUT, &out) == 0 &&
             mp_obj_get_int(out, &v) == 0 && v == i * i;
        mp_obj_free(out);
    }
    CU_ASSERT_TRUE(ok);
    MPT_EQ(mp_pool_iter_next(it, MPT_JOIN_TIMEOUT, &out), MP_ECLOSED);
    mp_pool_iter_free(it);

    for (size_t chunk = 1; chunk <= 53; chunk += 52) {
        MPT_OK(mp_pool_imap_unordered(p, sqr, r1000, chunk, &it));
        unsigned char *seen = calloc(1000, 1);
        ok = 1;
        for (int k = 0; k < 1000 && ok; k++) {
            ok = mp_pool_iter_next(it, MPT_JOIN_TIMEOUT, &out) == 0 &&
                 mp_obj_get_int(out, &v) == 0;
            mp_obj_free(out);
            int64_t root = 0;
            while (ok && root * root < v)
                root++;
            ok = ok && root < 1000 && root * root == v && !seen[root];
            if (ok) seen[root] = 1;
        }
        CU_ASSERT_TRUE(ok);
        MPT_EQ(mp_pool_iter_next(it, MPT_JOIN_TIMEOUT, &out), MP_ECLOSED);
        mp_pool_iter_free(it);
        free(seen);
    }
    mp_obj_free(r10);
    mp_obj_free(r1000);
    close_join(p);
}
MPT_DEFINE_BOTH(imap_both)

/* test_empty_iterable and test_map_chunksize: nothing to do gives [],
 * and an iterator that ends at once; none waits. */
static void empty_iterable(mp_start_method m)
{
    mp_pool *p = pool_of(2, m);
    mp_obj *none = mp_obj_list(0), *out = NULL;
    MPT_OK(mp_pool_map(p, sqr, none, 0, &out));
    CU_ASSERT_EQUAL(mp_obj_len(out), 0);
    mp_obj_free(out);
    mp_async_result *r;
    const mp_obj *v;
    MPT_OK(mp_pool_map_async(p, sqr, none, 1, &r));
    MPT_OK(mp_async_result_get(r, MPT_JOIN_TIMEOUT, &v));
    CU_ASSERT_EQUAL(mp_obj_len(v), 0);
    mp_async_result_free(r);
    mp_pool_iter *it;
    MPT_OK(mp_pool_imap(p, sqr, none, 0, &it));
    MPT_EQ(mp_pool_iter_next(it, MPT_JOIN_TIMEOUT, &out), MP_ECLOSED);
    mp_pool_iter_free(it);
    MPT_OK(mp_pool_imap_unordered(p, sqr, none, 0, &it));
    MPT_EQ(mp_pool_iter_next(it, MPT_JOIN_TIMEOUT, &out), MP_ECLOSED);
    mp_pool_iter_free(it);
    mp_obj_free(none);
    close_join(p);
}
MPT_DEFINE_BOTH(empty_iterable)

/* test_traceback / test_map_no_failfast: a task's error comes back for
 * that task (value, message, which item), the pool goes on; imap gives
 * the failed item's error and then the rest. */
static void task_errors(mp_start_method m)
{
    mp_pool *p = pool_of(2, m);
    mp_obj *three = MP_TUPLE(mp_obj_int(3)), *out = NULL;
    MPT_EQ(mp_pool_apply(p, fails_on_3, three, &out), MP_ETASK);
    CU_ASSERT_PTR_NOT_NULL(strstr(mp_last_error(), "no threes (3)"));
    CU_ASSERT_PTR_NULL(out);

    mp_async_result *r;
    mp_task_error e;
    mp_obj *r10 = range(10);
    MPT_OK(mp_pool_map_async(p, fails_on_3, r10, 1, &r));
    MPT_EQ(mp_async_result_wait(r, MPT_JOIN_TIMEOUT), 0);
    const mp_obj *v;
    MPT_EQ(mp_async_result_get(r, 0, &v), MP_ETASK);
    CU_ASSERT_EQUAL(mp_async_result_successful(r), 0);
    MPT_OK(mp_async_result_error(r, &e));
    CU_ASSERT_EQUAL(e.code, MP_ETASK);
    CU_ASSERT_EQUAL(e.value, 7);
    CU_ASSERT_EQUAL(e.index, 3);
    CU_ASSERT_STRING_EQUAL(e.message, "no threes (3)");
    mp_async_result_free(r);
    MPT_EQ(mp_pool_map(p, fails_on_3, r10, 4, &out), MP_ETASK);
    CU_ASSERT_PTR_NULL(out);

    /* the pool still works */
    MPT_OK(mp_pool_map(p, sqr, r10, 0, &out));
    CU_ASSERT_TRUE(squares(out, 10));
    mp_obj_free(out);

    mp_pool_iter *it;
    MPT_OK(mp_pool_imap(p, fails_on_3, r10, 1, &it));
    for (int64_t i = 0; i < 10; i++) {
        int rc = mp_pool_iter_next(it, MPT_JOIN_TIMEOUT, &out);
        if (i == 3) {
            MPT_EQ(rc, MP_ETASK);
            MPT_OK(mp_pool_iter_error(it, &e));
            CU_ASSERT_EQUAL(e.value, 7);
            CU_ASSERT_EQUAL(e.index, 3);
            continue;
        }
        MPT_OK(rc);
        MPT_EQ(mp_pool_iter_error(it, &e), MP_ESTATE);
        int64_t x;
        MPT_OK(mp_obj_get_int(out, &x));
        CU_ASSERT_EQUAL(x, i);
        mp_obj_free(out);
    }
    MPT_EQ(mp_pool_iter_next(it, MPT_JOIN_TIMEOUT, &out), MP_ECLOSED);
    mp_pool_iter_free(it);
    mp_obj_free(r10);
    mp_obj_free(three);
    close_join(p);
}
MPT_DEFINE_BOTH(task_errors)

/* test_terminate: terminate with thousands of tasks queued returns soon,
 * and what never ran fails rather than waits; test_enter: a terminated
 * pool refuses work; join on a running pool is refused. */
static void terminate(mp_start_method m)
{
    mp_pool *p = pool_of(2, m);
    mp_obj *tasks = mp_obj_list(0);
    for (int i = 0; i < 2000; i++)
        mp_obj_append(tasks, args2(i, 5));
    mp_async_result *r;
    MPT_OK(mp_pool_starmap_async(p, sqr, tasks, 1, &r));
    MPT_EQ(mp_pool_join(p), MP_ESTATE);
    MPT_OK(mp_pool_terminate(p));
    MPT_OK(mp_pool_join(p));
    const mp_obj *v;
    MPT_EQ(mp_async_result_get(r, MPT_JOIN_TIMEOUT, &v), MP_ESTATE);
    mp_obj *out = NULL;
    MPT_EQ(mp_pool_map(p, sqr, tasks, 0, &out), MP_ESTATE);
    MPT_EQ(mp_pool_close(p), MP_ESTATE);
    CU_ASSERT_EQUAL(mp_pool_worker_pids(p, NULL, 0), 0);
    mp_pool_free(p);
    /* the result outlives its pool */
    CU_ASSERT_EQUAL(mp_async_result_ready(r), 1);
    mp_async_result_free(r);
    mp_obj_free(tasks);
}
MPT_DEFINE_BOTH(terminate)

/* _TestPoolWorkerLifetime.test_pool_worker_lifetime: with
 * maxtasksperchild 10, 100 tasks over 3 workers all succeed and are run by
 * at least 10 different processes; test_pool_worker_lifetime_early_close:
 * with maxtasksperchild 1, close and join after three tasks finish them. */
static void worker_lifetime(mp_start_method m)
{
    mp_pool_config cfg = {3, NULL, NULL, 10, m};
    mp_pool *p;
    MPT_OK(mp_pool_new_config(&p, &cfg));
    mp_async_result *r[100];
    mp_obj *noargs = mp_obj_tuple(0);
    for (int i = 0; i < 100; i++)
        MPT_OK(mp_pool_apply_async(p, whoami, noargs, &r[i]));
    int64_t pids[100];
    int distinct = 0;
    for (int i = 0; i < 100; i++) {
        const mp_obj *v;
        MPT_OK(mp_async_result_get(r[i], MPT_JOIN_TIMEOUT, &v));
        MPT_OK(mp_obj_get_int(v, &pids[i]));
        int seen = 0;
        for (int k = 0; k < i; k++)
            seen |= pids[k] == pids[i];
        distinct += !seen;
        mp_async_result_free(r[i]);
    }
    CU_ASSERT_TRUE(distinct >= 10);
    close_join(p);

    mp_pool_config one = {1, NULL, NULL, 1, m};
    MPT_OK(mp_pool_new_config(&p, &one));
    for (int i = 0; i < 3; i++)
        MPT_OK(mp_pool_apply_async(p, whoami, noargs, &r[i]));
    MPT_OK(mp_pool_close(p));
    MPT_OK(mp_pool_join(p));
    for (int i = 0; i < 3; i++) {
        const mp_obj *v;
        MPT_OK(mp_async_result_get(r[i], 0, &v));
        mp_async_result_free(r[i]);
    }
    mp_pool_free(p);
    mp_obj_free(noargs);
}
MPT_DEFINE_BOTH(worker_lifetime)

/* test_pool_initializer: each worker runs the initializer with initargs
 * before its tasks. A failing initializer: workers are replaced a few
 * times, then the pool gives up and fails the task instead of starting
 * workers forever (Python loops; gh-65014). */
static void initializer(mp_start_method m)
{
    mp_obj *initargs = MP_TUPLE(mp_obj_int(42)), *noargs = mp_obj_tuple(0), *out;
    mp_pool_config cfg = {2, remember, initargs, 0, m};
    mp_pool *p;
    MPT_OK(mp_pool_new_config(&p, &cfg));
    for (int i = 0; i < 4; i++) {
        MPT_OK(mp_pool_apply(p, what_init_saw, noargs, &out));
        int64_t v = 0;
        MPT_OK(mp_obj_get_int(out, &v));
        CU_ASSERT_EQUAL(v, 42);
        mp_obj_free(out);
    }
    close_join(p);

    mp_pool_config bad = {1, init_fails, NULL, 0, m};
    MPT_OK(mp_pool_new_config(&p, &bad));
    MPT_EQ(mp_pool_apply(p, what_init_saw, noargs, &out), MP_EWORKERDIED);
    mp_pool_free(p);
    mp_obj_free(initargs);
    mp_obj_free(noargs);
}
MPT_DEFINE_BOTH(initializer)

/* 1 if o is pattern_bytes' result for n. */
static int is_pattern(const mp_obj *o, size_t n)
{
    size_t len = 0;
    const unsigned char *b = (const unsigned char *)mp_obj_bytes_data(o, &len);
    if (!b || len != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (b[i] != (unsigned char)((i + n) % 251)) return 0;
    return 1;
}

/* Results larger than the result queue's ring (1 MiB) stream through it
 * between small ones, in order, from both workers at once. No CPython
 * case: results have no size limit (docs/pool.md). */
static void large_results(mp_start_method m)
{
    mp_pool *p = pool_of(2, m);
    static const int64_t sizes[] = {3 << 20, 10, 5 << 20, 0, 2 << 20, 7};
    size_t n = sizeof sizes / sizeof sizes[0];
    mp_obj *items = mp_obj_list(0);
    for (size_t i = 0; i < n; i++)
        mp_obj_append(items, mp_obj_int(sizes[i]));
    mp_obj *out = NULL;
    MPT_OK(mp_pool_map(p, pattern_bytes, items, 1, &out));
    CU_ASSERT_EQUAL(mp_obj_len(out), n);
    for (size_t i = 0; out && i < n; i++)
        CU_ASSERT_TRUE(is_pattern(mp_obj_item(out, i), (size_t)sizes[i]));
    mp_obj_free(out);
    mp_obj_free(items);
    close_join(p);
}
MPT_DEFINE_BOTH(large_results)

/* Threads that submit while another closes or terminates the pool. No
 * CPython case: Python documents a Pool's methods as safe from any
 * thread. Every submission either is refused (MP_ESTATE, and every later
 * one too) or ends: with its value after close, with its value or
 * MP_ESTATE after terminate. None waits forever. */
#define SUBMITTERS 3
#define PER_THREAD 2000

typedef struct submitter {
    mp_pool *pool;
    mp_async_result *r[PER_THREAD];
    int accepted;        /* submissions that were taken, the first ones */
    int refused_then;    /* a submission taken after one was refused */
    int bad_refusal;     /* a refusal that was not MP_ESTATE */
    mp_atomic_u32 taken; /* accepted, as the main thread sees it */
    mp_atomic_u32 *go;   /* so that the threads start together */
} submitter;

static void submit_loop(void *arg)
{
    submitter *s = arg;
    int refused = 0;
    while (!mp_load32(s->go, MP_ACQUIRE))
        mp_cpu_relax();
    for (int i = 0; i < PER_THREAD; i++) {
        mp_obj *a = MP_TUPLE(mp_obj_int(i));
        mp_async_result *r = NULL;
        int rc = mp_pool_apply_async(s->pool, sqr, a, &r);
        mp_obj_free(a);
        if (rc == 0 && !refused) {
            s->r[s->accepted++] = r;
            mp_store32(&s->taken, (uint32_t)s->accepted, MP_RELAXED);
        } else if (rc == 0) {
            s->refused_then = 1;
            mp_async_result_free(r);
        } else {
            refused = 1;
            if (rc != MP_ESTATE) s->bad_refusal = 1;
        }
    }
}

static void submit_racing(int terminate)
{
    mp_pool *p = pool_of(2, MP_START_DEFAULT);
    submitter *s = calloc(SUBMITTERS, sizeof *s);
    mp_os_thread *t[SUBMITTERS];
    mp_atomic_u32 go = 0;
    for (int k = 0; k < SUBMITTERS; k++) {
        s[k].pool = p;
        s[k].go = &go;
        MPT_OK(mp_os_thread_start(&t[k], submit_loop, &s[k]));
    }
    mp_store32(&go, 1, MP_RELEASE);
    /* every thread under way */
    for (int k = 0; k < SUBMITTERS; k++)
        while (mp_load32(&s[k].taken, MP_RELAXED) < 20)
            mp_os_yield();
    MPT_OK(terminate ? mp_pool_terminate(p) : mp_pool_close(p));
    for (int k = 0; k < SUBMITTERS; k++)
        MPT_OK(mp_os_thread_join(t[k]));
    for (int k = 0; k < SUBMITTERS; k++) {
        CU_ASSERT_FALSE(s[k].refused_then);
        CU_ASSERT_FALSE(s[k].bad_refusal);
        for (int i = 0; i < s[k].accepted; i++) {
            const mp_obj *v = NULL;
            int rc = mp_async_result_get(s[k].r[i], MPT_JOIN_TIMEOUT, &v);
            int64_t x = -1;
            if (rc == 0) mp_obj_get_int(v, &x);
            if (rc == 0) CU_ASSERT_EQUAL(x, (int64_t)i * i);
            if (!terminate) MPT_OK(rc);
            if (terminate && rc < 0) MPT_EQ(rc, MP_ESTATE);
            mp_async_result_free(s[k].r[i]);
        }
    }
    MPT_OK(mp_pool_join(p));
    mp_pool_free(p);
    free(s);
}

static void submit_racing_close(void)
{
    submit_racing(0);
}

static void submit_racing_terminate(void)
{
    submit_racing(1);
}

/* test_make_pool: a negative count is refused; 0 is the CPUs this process
 * may use; bad arguments are refused, not crashed on. */
static void make_pool(void)
{
    mp_pool *p = NULL;
    MPT_EQ(mp_pool_new(&p, -1, NULL, NULL, 0), MP_EINVAL);
    MPT_EQ(mp_pool_new(&p, 1, NULL, NULL, -1), MP_EINVAL);
    mp_obj *notseq = mp_obj_int(1);
    MPT_EQ(mp_pool_new(&p, 1, remember, notseq, 0), MP_EINVAL);
    MPT_EQ(mp_pool_new(NULL, 1, NULL, NULL, 0), MP_EINVAL);
    MPT_OK(mp_pool_new(&p, 0, NULL, NULL, 0));
    CU_ASSERT_EQUAL(mp_pool_processes(p), mp_process_cpu_count());
    int64_t pids[64];
    CU_ASSERT_EQUAL(mp_pool_worker_pids(p, pids, 64), mp_process_cpu_count());
    mp_obj *out = NULL;
    MPT_EQ(mp_pool_map(p, sqr, notseq, 0, &out), MP_EINVAL);
    MPT_EQ(mp_pool_map(p, NULL, notseq, 0, &out), MP_EINVAL);
    MPT_EQ(mp_pool_apply(p, sqr, notseq, NULL), MP_EINVAL);
    /* a chunk over the limit is refused whole, and the pool goes on */
    size_t big = MP_POOL_TASK_MAX / 2 + 1;
    char *blob = calloc(2, big);
    mp_obj *two = MP_LIST(mp_obj_bytes(blob, big), mp_obj_bytes(blob, big));
    MPT_EQ(mp_pool_map(p, sqr, two, 2, &out), MP_ETOOBIG);
    /* ... also when it comes after chunks that went to the workers already
     * (they are handed over in groups as they are pickled): those end, the
     * call fails, and nothing is left waiting */
    mp_obj *late = range(100);
    MPT_OK(mp_obj_append(late, mp_obj_bytes(blob, big * 2)));
    mp_async_result *r = NULL;
    MPT_EQ(mp_pool_map_async(p, sqr, late, 1, &r), MP_ETOOBIG);
    CU_ASSERT_PTR_NULL(r);
    MPT_EQ(mp_pool_map(p, sqr, late, 1, &out), MP_ETOOBIG);
    CU_ASSERT_PTR_NULL(out);
    mp_obj_free(late);
    mp_obj *small = MP_LIST(mp_obj_int(4));
    MPT_OK(mp_pool_map(p, sqr, small, 0, &out));
    CU_ASSERT_TRUE(out && mp_obj_len(out) == 1);
    mp_obj_free(out);
    mp_obj_free(small);
    mp_obj_free(two);
    free(blob);
    mp_obj_free(notseq);
    mp_pool_free(p); /* running: terminated, as leaving Python's with block */
}

void mpt_suite_pool(void)
{
    MPT_BOTH("pool", apply_map_starmap);
    MPT_BOTH("pool", async_results);
    MPT_BOTH("pool", imap_both);
    MPT_BOTH("pool", empty_iterable);
    MPT_BOTH("pool", task_errors);
    MPT_BOTH("pool", terminate);
    MPT_BOTH("pool", large_results);
    mpt_add("pool", "submit_racing_close", submit_racing_close);
    mpt_add("pool", "submit_racing_terminate", submit_racing_terminate);
    MPT_BOTH("pool", worker_lifetime);
    MPT_BOTH("pool", initializer);
    mpt_add("pool", "make_pool", make_pool);
}
