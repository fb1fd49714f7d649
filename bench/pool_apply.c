/* pool_apply.c - pool_apply_async: COUNT apply_async calls of a trivial
 * task on a Pool(2), then a get of each result, in tasks per second.
 *
 *     pool_apply COUNT    ->  "<tasks per second> tasks/s"
 *
 * What `rs = [p.apply_async(f, (i,)) for i in range(COUNT)]` followed by
 * `[r.get() for r in rs]` costs once the workers are up (py_peer.py
 * pool_apply, and pool_apply_futures for ProcessPoolExecutor.submit and
 * Future.result): every task is one message each way, with no chunking.
 * The pool is started and COUNT/100 + 10 tasks are run untimed first.
 * The task does nothing and gives None. */
#include "mp_bench.h"

static int trivial(const mp_obj *args, mp_obj **result)
{
    (void)args;
    (void)result; /* left NULL: None */
    return 0;
}

static void apply_all(mp_pool *p, mp_async_result **rs, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        mp_obj *args = MP_TUPLE(mp_obj_int((int64_t)i));
        if (!args) bench_die("pool_apply: out of memory");
        BENCH_CHECK(mp_pool_apply_async(p, trivial, args, &rs[i]));
        mp_obj_free(args);
    }
    for (uint64_t i = 0; i < n; i++) {
        const mp_obj *out = NULL;
        BENCH_CHECK(mp_async_result_get(rs[i], MP_FOREVER, &out));
        if (mp_obj_type_of(out) != MP_OBJ_NONE) bench_die("pool_apply: not None");
        mp_async_result_free(rs[i]);
    }
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t count = bench_arg_u64(argc, argv, 1, "COUNT");
    mp_async_result **rs = bench_xmalloc((size_t)count * sizeof *rs);
    mp_pool *p;
    BENCH_CHECK(mp_pool_new(&p, 2, NULL, NULL, 0));
    apply_all(p, rs, count / 100 + 10 < count ? count / 100 + 10 : count);
    uint64_t t0 = bench_now_ns();
    apply_all(p, rs, count);
    uint64_t ns = bench_now_ns() - t0;
    BENCH_CHECK(mp_pool_close(p));
    BENCH_CHECK(mp_pool_join(p));
    mp_pool_free(p);
    free(rs);
    bench_report(bench_per_s(count, ns), "tasks/s");
    return 0;
}
