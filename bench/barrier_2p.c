/* barrier_2p.c - barrier_2p: two processes passing one Barrier of two
 * parties (mproc/synchronize.h) COUNT times.
 *
 *     barrier_2p COUNT          ->  "<us per pass> us"
 *
 * mp_barrier_new(&b, 2, NULL, MP_FOREVER): no action, no default timeout.
 * The parent and a spawned child each call mp_barrier_wait(b, MP_FOREVER)
 * warm + COUNT times; each pass lets both go once both have arrived, so
 * the two run in lockstep and a pass is one hand-over: the first to
 * arrive sleeps, the second wakes it. The parent times its last COUNT
 * passes; the min(COUNT/10, 200) untimed ones before cover the child's
 * start, as in event_pingpong. Each side checks that its places in the
 * arrival (0 or 1) add up over the passes to what two parties give.
 * Compare raw_futex barrier, a two-party barrier on a bare futex word. */
#include "mp_bench.h"

/* Passes the barrier n times; returns the sum of this side's places. */
static int64_t pass(mp_barrier *b, int64_t n)
{
    int64_t places = 0;
    for (int64_t i = 0; i < n; i++) {
        int rc = mp_barrier_wait(b, MP_FOREVER);
        BENCH_CHECK(rc);
        if (rc > 1) bench_die("barrier_2p: place %d in a Barrier of 2", rc);
        places += rc;
    }
    return places;
}

static int other(const mp_args *args)
{
    mp_barrier *b = mp_args_barrier(args, 0);
    mp_array *places = mp_args_array(args, 1);
    int64_t total;
    BENCH_CHECK(mp_args_get_int(args, 2, &total));
    BENCH_CHECK(mp_array_set_int(places, 0, pass(b, total)));
    return 0;
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t count = bench_arg_u64(argc, argv, 1, "COUNT");
    uint64_t warm = count / 10 < 200 ? count / 10 : 200;

    mp_barrier *b;
    mp_array *places;
    BENCH_CHECK(mp_barrier_new(&b, 2, NULL, MP_FOREVER));
    BENCH_CHECK(mp_array_new_raw(&places, 'q', 1));
    mp_process *p = bench_start(other, mp_args_of(b, places, (int64_t)(warm + count)),
                                MP_START_DEFAULT);

    int64_t mine = pass(b, (int64_t)warm);
    uint64_t t0 = bench_now_ns();
    mine += pass(b, (int64_t)count);
    uint64_t ns = bench_now_ns() - t0;

    bench_join(p);
    int64_t theirs = 0;
    BENCH_CHECK(mp_array_get_int(places, 0, &theirs));
    /* Every pass has one party at place 0 and one at place 1. */
    if (mine + theirs != (int64_t)(warm + count))
        bench_die("barrier_2p: places add up to %lld over %llu passes",
                  (long long)(mine + theirs), (unsigned long long)(warm + count));
    if (mp_barrier_broken(b) != 0 || mp_barrier_n_waiting(b) != 0)
        bench_die("barrier_2p: the Barrier is broken or has waiters at the end");
    bench_report((double)ns / 1e3 / (double)count, "us");
    mp_array_free(places);
    mp_barrier_free(b);
    return 0;
}
