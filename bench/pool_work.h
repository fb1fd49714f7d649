/* pool_work.h - what pool_map.c and pool_mpi_map.c share: the trivial
 * task, the list of items, a map checked for its length, and the timed
 * run itself. */
#ifndef MP_BENCH_POOL_WORK_H
#define MP_BENCH_POOL_WORK_H

#include "mp_bench.h"

static inline int trivial(const mp_obj *args, mp_obj **result)
{
    (void)args;
    (void)result; /* left NULL: None */
    return 0;
}

static inline mp_obj *int_list(uint64_t n)
{
    mp_obj *l = mp_obj_list(0);
    if (!l) bench_die("pool bench: out of memory");
    for (uint64_t i = 0; i < n; i++)
        BENCH_CHECK(mp_obj_append(l, mp_obj_int((int64_t)i)));
    return l;
}

static inline void map_once(mp_pool *p, const mp_obj *items, size_t chunksize)
{
    mp_obj *out = NULL;
    BENCH_CHECK(mp_pool_map(p, trivial, items, chunksize, &out));
    if (mp_obj_len(out) != mp_obj_len(items))
        bench_die("pool bench: %zu results for %zu items", mp_obj_len(out),
                  mp_obj_len(items));
    mp_obj_free(out);
}

/* Runs one small map untimed, then times the map of count items in chunks
 * of chunksize, closes and frees p, and prints tasks per second. */
static inline void timed_map(mp_pool *p, uint64_t chunksize, uint64_t count)
{
    mp_obj *warm = int_list(count / 100 + 10), *items = int_list(count);
    map_once(p, warm, (size_t)chunksize);
    uint64_t t0 = bench_now_ns();
    map_once(p, items, (size_t)chunksize);
    uint64_t ns = bench_now_ns() - t0;
    BENCH_CHECK(mp_pool_close(p));
    BENCH_CHECK(mp_pool_join(p));
    mp_pool_free(p);
    mp_obj_free(warm);
    mp_obj_free(items);
    bench_report(bench_per_s(count, ns), "tasks/s");
}

#endif
