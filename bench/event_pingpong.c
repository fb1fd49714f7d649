/* event_pingpong.c - event_pingpong: a round trip between two processes
 * made of two Events (mproc/synchronize.h), COUNT times.
 *
 *     event_pingpong COUNT      ->  "<us per round trip> us"
 *
 * The parent (A) sets e1, waits for e2 and clears it; a spawned child (B)
 * waits for e1, clears it and sets e2. Each side clears the Event it
 * waited for before it lets the other go on, so a set is never lost and
 * never seen twice. A round trip is two hand-overs, each a set that wakes
 * a sleeper. The child's start is covered by min(COUNT/10, 200) untimed
 * round trips, as in pipe_pingpong. Compare raw_futex pingpong, the same
 * on one bare futex word in shared memory. */
#include "mp_bench.h"

static int echo(const mp_args *args)
{
    mp_event *e1 = mp_args_event(args, 0);
    mp_event *e2 = mp_args_event(args, 1);
    int64_t total;
    BENCH_CHECK(mp_args_get_int(args, 2, &total));
    for (int64_t i = 0; i < total; i++) {
        BENCH_CHECK(mp_event_wait(e1, MP_FOREVER));
        BENCH_CHECK(mp_event_clear(e1));
        BENCH_CHECK(mp_event_set(e2));
    }
    return 0;
}

static void round_trip(mp_event *e1, mp_event *e2)
{
    BENCH_CHECK(mp_event_set(e1));
    BENCH_CHECK(mp_event_wait(e2, MP_FOREVER));
    BENCH_CHECK(mp_event_clear(e2));
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t count = bench_arg_u64(argc, argv, 1, "COUNT");
    uint64_t warm = count / 10 < 200 ? count / 10 : 200;

    mp_event *e1, *e2;
    BENCH_CHECK(mp_event_new(&e1));
    BENCH_CHECK(mp_event_new(&e2));
    mp_process *p =
        bench_start(echo, mp_args_of(e1, e2, (int64_t)(warm + count)), MP_START_DEFAULT);

    for (uint64_t i = 0; i < warm; i++)
        round_trip(e1, e2);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < count; i++)
        round_trip(e1, e2);
    uint64_t ns = bench_now_ns() - t0;

    bench_join(p);
    if (mp_event_is_set(e1) != 0 || mp_event_is_set(e2) != 0)
        bench_die("event_pingpong: an Event is still set at the end");
    bench_report((double)ns / 1e3 / (double)count, "us");
    mp_event_free(e2);
    mp_event_free(e1);
    return 0;
}
