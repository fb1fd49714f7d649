/* mpi/pool_mpi.c - the Pool's behaviour on MPI workers: each test a port
 * of what CPython's _TestPool (Lib/test/_test_multiprocessing.py) asserts,
 * named in its comment, as tests/pool/pool.c runs them on local workers.
 *
 *   mpirun -n 3 mproc_mpi_tests world   rank 0 tests, ranks 1 and 2 serve
 *   mproc_mpi_tests spawn               spawns 2 workers for each pool
 *
 * CUnit runs in the leader; the workers never return from mp_mpi_main.
 * Exit status: the number of failed assertions (0: all passed). */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mproc.h>
#include <mproc/mpi.h>

#include "../pool/tasks.h"

static mp_mpi_mode mode = MP_MPI_WORLD;

#define WORKERS 2

/* ---- tasks (they run in the workers) ---------------------------------------- */

static void task_sleep_ms(int64_t ms)
{
    /* An Event nobody sets, waited on: a sleep without a POSIX call. */
    mp_event *e = NULL;
    if (mp_event_new(&e) == 0) {
        mp_event_wait(e, (double)ms / 1000.0);
        mp_event_free(e);
    }
}

/* The worker's process id, after wait milliseconds. */
static int whoami(const mp_obj *args, mp_obj **result)
{
    task_sleep_ms(int_at(args, 0));
    *result = mp_obj_int(mp_current_process().pid);
    return 0;
}

/* x, but the worker exits (without MPI_Finalize) on x == 3. */
static int exits_on_3(const mp_obj *args, mp_obj **result)
{
    int64_t x = int_at(args, 0);
    if (x == 3) _Exit(3);
    *result = mp_obj_int(x);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------- */

static mp_pool *pool_with(mp_pool_init_fn init, const mp_obj *initargs)
{
    mp_mpi_pool_config cfg = {mode, WORKERS, init, initargs, NULL};
    mp_pool *p = NULL;
    int rc = mp_mpi_pool_new(&p, &cfg);
    if (rc != 0)
        fprintf(stderr, "mp_mpi_pool_new: %s (%s)\n", mp_strerror(rc), mp_last_error());
    CU_ASSERT_FATAL(rc == 0);
    return p;
}

static mp_pool *pool_new(void)
{
    return pool_with(NULL, NULL);
}

static void close_join(mp_pool *p)
{
    CU_ASSERT_EQUAL(mp_pool_close(p), 0);
    CU_ASSERT_EQUAL(mp_pool_join(p), 0);
    mp_pool_free(p);
}

/* ---- tests ------------------------------------------------------------------- */

/* test_apply: apply(sqr, (5,)) == 25; apply(mul, (3, 4)) == 12. */
static void test_apply(void)
{
    mp_pool *p = pool_new();
    mp_obj *r = NULL, *a = MP_TUPLE(mp_obj_int(5)),
           *b = MP_TUPLE(mp_obj_int(3), mp_obj_int(4));
    int64_t v = 0;
    CU_ASSERT_EQUAL(mp_pool_apply(p, sqr, a, &r), 0);
    CU_ASSERT(mp_obj_get_int(r, &v) == 0 && v == 25);
    mp_obj_free(r);
    CU_ASSERT_EQUAL(mp_pool_apply(p, mul, b, &r), 0);
    CU_ASSERT(mp_obj_get_int(r, &v) == 0 && v == 12);
    mp_obj_free(r);
    mp_obj_free(a);
    mp_obj_free(b);
    close_join(p);
}

/* test_map: map(sqr, range(10)) and map(sqr, range(100), chunksize=20). */
static void test_map(void)
{
    mp_pool *p = pool_new();
    mp_obj *r = NULL, *ten = range(10), *hundred = range(100);
    CU_ASSERT_EQUAL(mp_pool_map(p, sqr, ten, 0, &r), 0);
    CU_ASSERT(squares(r, 10));
    mp_obj_free(r);
    CU_ASSERT_EQUAL(mp_pool_map(p, sqr, hundred, 20, &r), 0);
    CU_ASSERT(squares(r, 100));
    mp_obj_free(r);
    /* chunksize 1: one MPI message per item each way */
    CU_ASSERT_EQUAL(mp_pool_map(p, sqr, hundred, 1, &r), 0);
    CU_ASSERT(squares(r, 100));
    mp_obj_free(r);
    mp_obj_free(ten);
    mp_obj_free(hundred);
    close_join(p);
}

/* test_starmap: starmap(mul, zip(range(10), range(10))). */
static void test_starmap(void)
{
    mp_pool *p = pool_new();
    mp_obj *items = mp_obj_list(0), *r = NULL;
    for (int64_t i = 0; i < 10; i++)
        mp_obj_append(items, MP_TUPLE(mp_obj_int(i), mp_obj_int(i)));
    CU_ASSERT_EQUAL(mp_pool_starmap(p, mul, items, 3, &r), 0);
    CU_ASSERT(squares(r, 10));
    mp_obj_free(r);
    mp_obj_free(items);
    close_join(p);
}

/* test_async, test_async_timeout: get after the task's time; a get with a
 * shorter timeout than the task times out. */
static void test_async(void)
{
    mp_pool *p = pool_new();
    mp_obj *a = MP_TUPLE(mp_obj_int(7), mp_obj_int(300));
    mp_async_result *res = NULL;
    const mp_obj *v = NULL;
    int64_t x = 0;
    CU_ASSERT_EQUAL(mp_pool_apply_async(p, sqr, a, &res), 0);
    CU_ASSERT_EQUAL(mp_async_result_get(res, 0.05, &v), MP_ETIMEDOUT);
    CU_ASSERT_EQUAL(mp_async_result_get(res, 60, &v), 0);
    CU_ASSERT(mp_obj_get_int(v, &x) == 0 && x == 49);
    CU_ASSERT_EQUAL(mp_async_result_successful(res), 1);
    mp_async_result_free(res);
    mp_obj_free(a);
    close_join(p);
}

/* test_imap: imap(sqr, range(10)) and range(1000) in chunks of 100, in
 * order, then StopIteration. */
static void test_imap(void)
{
    mp_pool *p = pool_new();
    int sizes[2] = {10, 1000}, chunks[2] = {1, 100};
    for (int k = 0; k < 2; k++) {
        mp_obj *items = range(sizes[k]);
        mp_pool_iter *it = NULL;
        CU_ASSERT_EQUAL_FATAL(mp_pool_imap(p, sqr, items, (size_t)chunks[k], &it), 0);
        int ok = 1;
        for (int64_t i = 0; i < sizes[k]; i++) {
            mp_obj *r = NULL;
            int64_t v = -1;
            if (mp_pool_iter_next(it, 60, &r) != 0 || mp_obj_get_int(r, &v) < 0 ||
                v != i * i)
                ok = 0;
            mp_obj_free(r);
        }
        CU_ASSERT(ok);
        mp_obj *r = NULL;
        CU_ASSERT_EQUAL(mp_pool_iter_next(it, 60, &r), MP_ECLOSED);
        mp_pool_iter_free(it);
        mp_obj_free(items);
    }
    close_join(p);
}

/* test_imap_unordered: every result once, in whatever order. */
static void test_imap_unordered(void)
{
    mp_pool *p = pool_new();
    mp_obj *items = range(1000);
    mp_pool_iter *it = NULL;
    CU_ASSERT_EQUAL_FATAL(mp_pool_imap_unordered(p, sqr, items, 53, &it), 0);
    char *seen = calloc(1000, 1);
    int ok = 1;
    for (int i = 0; i < 1000; i++) {
        mp_obj *r = NULL;
        int64_t v = -1;
        if (mp_pool_iter_next(it, 60, &r) != 0 || mp_obj_get_int(r, &v) < 0) ok = 0;
        for (int64_t x = 0; x < 1000; x++)
            if (x * x == v) seen[x]++;
        mp_obj_free(r);
    }
    for (int i = 0; i < 1000; i++)
        if (seen[i] != 1) ok = 0;
    CU_ASSERT(ok);
    free(seen);
    mp_pool_iter_free(it);
    mp_obj_free(items);
    close_join(p);
}

/* test_empty_iterable: map, imap of nothing. */
static void test_empty(void)
{
    mp_pool *p = pool_new();
    mp_obj *none = mp_obj_list(0), *r = NULL;
    CU_ASSERT_EQUAL(mp_pool_map(p, sqr, none, 0, &r), 0);
    CU_ASSERT(r && mp_obj_len(r) == 0);
    mp_obj_free(r);
    mp_pool_iter *it = NULL;
    CU_ASSERT_EQUAL_FATAL(mp_pool_imap(p, sqr, none, 1, &it), 0);
    CU_ASSERT_EQUAL(mp_pool_iter_next(it, 60, &r), MP_ECLOSED);
    mp_pool_iter_free(it);
    mp_obj_free(none);
    close_join(p);
}

/* test_map_handle_iterable_exception / test_imap_handle_iterable_exception
 * as far as a C task goes: a failing task fails the map with its value
 * and message; imap gives the error in its place and goes on. */
static void test_task_failure(void)
{
    mp_pool *p = pool_new();
    mp_obj *items = range(6), *r = NULL;
    CU_ASSERT_EQUAL(mp_pool_map(p, fails_on_3, items, 1, &r), MP_ETASK);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_PTR_NOT_NULL(strstr(mp_last_error(), "no threes (3)"));
    mp_pool_iter *it = NULL;
    CU_ASSERT_EQUAL_FATAL(mp_pool_imap(p, fails_on_3, items, 1, &it), 0);
    for (int64_t i = 0; i < 6; i++) {
        int rc = mp_pool_iter_next(it, 60, &r);
        if (i == 3) {
            mp_task_error err;
            CU_ASSERT_EQUAL(rc, MP_ETASK);
            CU_ASSERT_EQUAL(mp_pool_iter_error(it, &err), 0);
            CU_ASSERT_EQUAL(err.value, 7);
        } else {
            int64_t v = -1;
            CU_ASSERT(rc == 0 && mp_obj_get_int(r, &v) == 0 && v == i);
            mp_obj_free(r);
        }
        r = NULL;
    }
    mp_pool_iter_free(it);
    mp_obj_free(items);
    close_join(p);
}

/* Results larger than one MPI message (MPROC_MPI_PIECE makes a piece
 * small in these tests): they arrive whole and in order between small
 * ones. */
static void test_large_results(void)
{
    mp_pool *p = pool_new();
    int64_t sizes[5] = {10, 5 << 20, 3, (3 << 20) + 7, 1 << 20};
    mp_obj *items = mp_obj_list(0), *r = NULL;
    for (int i = 0; i < 5; i++)
        mp_obj_append(items, mp_obj_int(sizes[i]));
    CU_ASSERT_EQUAL_FATAL(mp_pool_map(p, pattern_bytes, items, 1, &r), 0);
    int ok = mp_obj_len(r) == 5;
    for (int i = 0; ok && i < 5; i++) {
        size_t n = 0;
        const unsigned char *b = mp_obj_bytes_data(mp_obj_item(r, (size_t)i), &n);
        ok = b && n == (size_t)sizes[i];
        for (size_t k = 0; ok && k < n; k++)
            ok = b[k] == (unsigned char)((k + n) % 251);
    }
    CU_ASSERT(ok);
    mp_obj_free(r);
    mp_obj_free(items);
    close_join(p);
}

/* A result over 2 GiB, beyond one MPI call's int count: it crosses in
 * pieces of at most 1 GiB and arrives whole (mproc_mpi_tests world huge;
 * about 9 GiB of memory across the ranks). */
static void test_huge_result(void)
{
    mp_pool *p = pool_new();
    int64_t n = ((int64_t)1 << 31) + 17;
    mp_obj *args = MP_TUPLE(mp_obj_int(n)), *r = NULL;
    CU_ASSERT_EQUAL_FATAL(mp_pool_apply(p, pattern_bytes, args, &r), 0);
    size_t len = 0;
    const unsigned char *b = mp_obj_bytes_data(r, &len);
    int ok = b && len == (size_t)n;
    /* every byte is checked: a piece in the wrong place would show */
    for (size_t k = 0; ok && k < len; k++)
        ok = b[k] == (unsigned char)((k + len) % 251);
    CU_ASSERT(ok);
    mp_obj_free(r);
    mp_obj_free(args);
    close_join(p);
}

/* test_pool_initializer: each worker ran the initializer with initargs. */
static void test_initializer(void)
{
    mp_obj *initargs = MP_TUPLE(mp_obj_int(42));
    mp_pool *p = pool_with(remember, initargs);
    mp_obj *items = range(8), *r = NULL;
    CU_ASSERT_EQUAL(mp_pool_map(p, what_init_saw, items, 1, &r), 0);
    int ok = r && mp_obj_len(r) == 8;
    for (size_t i = 0; ok && i < 8; i++) {
        int64_t v = 0;
        ok = mp_obj_get_int(mp_obj_item(r, i), &v) == 0 && v == 42;
    }
    CU_ASSERT(ok);
    mp_obj_free(r);
    mp_obj_free(items);
    mp_obj_free(initargs);
    close_join(p);
}

/* The tasks run in the workers: other processes than this one, both of
 * them given work (test_pool_worker_lifetime's pids, without the
 * lifetime: MPI workers are not replaced). */
static void test_workers_are_processes(void)
{
    mp_pool *p = pool_new();
    mp_obj *items = mp_obj_list(0), *r = NULL;
    for (int i = 0; i < 20; i++)
        mp_obj_append(items, mp_obj_int(20));
    CU_ASSERT_EQUAL_FATAL(mp_pool_map(p, whoami, items, 1, &r), 0);
    int64_t me = mp_current_process().pid, first = -1, other = -1;
    int mine = 0;
    for (size_t i = 0; i < mp_obj_len(r); i++) {
        int64_t pid = 0;
        mp_obj_get_int(mp_obj_item(r, i), &pid);
        if (pid == me) mine++;
        if (first < 0)
            first = pid;
        else if (pid != first)
            other = pid;
    }
    CU_ASSERT_EQUAL(mine, 0);
    CU_ASSERT(other > 0);
    int64_t pids[WORKERS];
    CU_ASSERT_EQUAL(mp_pool_worker_pids(p, pids, WORKERS), WORKERS);
    mp_obj_free(r);
    mp_obj_free(items);
    close_join(p);
}

/* test_terminate: a terminate with long tasks waiting fails them with
 * MP_ESTATE at once; the running ones end (a remote rank cannot be
 * interrupted), and the next pool runs on the same ranks. */
static void test_terminate(void)
{
    mp_pool *p = pool_new();
    mp_obj *items = mp_obj_list(0);
    for (int i = 0; i < 40; i++)
        mp_obj_append(items, MP_TUPLE(mp_obj_int(i), mp_obj_int(100)));
    mp_async_result *res = NULL;
    CU_ASSERT_EQUAL_FATAL(mp_pool_starmap_async(p, sqr, items, 1, &res), 0);
    task_sleep_ms(50);
    CU_ASSERT_EQUAL(mp_pool_terminate(p), 0);
    const mp_obj *v = NULL;
    CU_ASSERT_EQUAL(mp_async_result_get(res, 10, &v), MP_ESTATE);
    mp_async_result_free(res);
    CU_ASSERT_EQUAL(mp_pool_join(p), 0);
    mp_pool_free(p);
    mp_obj_free(items);

    p = pool_new();
    mp_obj *ten = range(10), *r = NULL;
    CU_ASSERT_EQUAL(mp_pool_map(p, sqr, ten, 1, &r), 0);
    CU_ASSERT(squares(r, 10));
    mp_obj_free(r);
    mp_obj_free(ten);
    close_join(p);
}

/* Misuse: a second MPI pool while one lives; more ranks than the world
 * has; a negative count. */
static void test_misuse(void)
{
    mp_pool *p = pool_new(), *q = NULL;
    mp_mpi_pool_config cfg = {mode, WORKERS, NULL, NULL, NULL};
    CU_ASSERT_EQUAL(mp_mpi_pool_new(&q, &cfg), MP_ESTATE);
    close_join(p);
    cfg.processes = -1;
    CU_ASSERT_EQUAL(mp_mpi_pool_new(&q, &cfg), MP_EINVAL);
    if (mode == MP_MPI_WORLD) {
        cfg.processes = mp_mpi_world_size();
        CU_ASSERT_EQUAL(mp_mpi_pool_new(&q, &cfg), MP_EINVAL);
    }
    CU_ASSERT_PTR_NULL(q);
}

/* A spawned worker that dies in a task (test_pool_worker_dies' case; Python
 * hangs, mproc reports it): that task fails with MP_EWORKERDIED within a
 * bounded time, the tasks it held but had not begun run on the other
 * worker, and the pool closes. Spawn mode only, with Open MPI's
 * orte_enable_recovery (docs/distributed.md: a dead rank of the static
 * world ends the whole job). Last: the spawned group is damaged after it. */
static void test_worker_dies(void)
{
    mp_pool *p = pool_new();
    mp_obj *items = range(8);
    mp_pool_iter *it = NULL;
    CU_ASSERT_EQUAL_FATAL(mp_pool_imap(p, exits_on_3, items, 1, &it), 0);
    for (int64_t i = 0; i < 8; i++) {
        mp_obj *r = NULL;
        int rc = mp_pool_iter_next(it, 60, &r);
        if (i == 3) {
            mp_task_error err;
            CU_ASSERT_EQUAL(rc, MP_EWORKERDIED);
            CU_ASSERT_EQUAL(mp_pool_iter_error(it, &err), 0);
            CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "while running the task"));
            CU_ASSERT(err.pid > 0 && err.pid != mp_current_process().pid);
        } else {
            int64_t v = -1;
            CU_ASSERT(rc == 0 && mp_obj_get_int(r, &v) == 0 && v == i);
        }
        mp_obj_free(r);
    }
    mp_pool_iter_free(it);
    int64_t pids[WORKERS];
    CU_ASSERT_EQUAL(mp_pool_worker_pids(p, pids, WORKERS), 1);
    mp_obj_free(items);
    close_join(p);
}

int main(int argc, char **argv)
{
    if (mp_mpi_main(&argc, &argv) < 0) {
        fprintf(stderr, "mp_mpi_main: %s\n", mp_last_error());
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "spawn") == 0) mode = MP_MPI_SPAWN;
    if (mode == MP_MPI_WORLD && mp_mpi_world_size() != WORKERS + 1) {
        fprintf(stderr, "run as: mpirun -n %d %s world\n", WORKERS + 1, argv[0]);
        return 1;
    }
    CU_initialize_registry();
    CU_pSuite s =
        CU_add_suite(mode == MP_MPI_WORLD ? "mpi/world" : "mpi/spawn", NULL, NULL);
    CU_add_test(s, "apply", test_apply);
    CU_add_test(s, "map", test_map);
    CU_add_test(s, "starmap", test_starmap);
    CU_add_test(s, "async", test_async);
    CU_add_test(s, "imap", test_imap);
    CU_add_test(s, "imap_unordered", test_imap_unordered);
    CU_add_test(s, "empty", test_empty);
    CU_add_test(s, "task_failure", test_task_failure);
    CU_add_test(s, "large_results", test_large_results);
    CU_add_test(s, "initializer", test_initializer);
    CU_add_test(s, "workers_are_processes", test_workers_are_processes);
    CU_add_test(s, "terminate", test_terminate);
    CU_add_test(s, "misuse", test_misuse);
    if (mode == MP_MPI_SPAWN) CU_add_test(s, "worker_dies", test_worker_dies);
    if (argc > 2 && strcmp(argv[2], "huge") == 0)
        CU_add_test(s, "huge_result", test_huge_result);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
