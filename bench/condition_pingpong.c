/* condition_pingpong.c - condition_pingpong: a round trip between two
 * processes through one Condition (mproc/synchronize.h) and a turn
 * variable, COUNT times.
 *
 *     condition_pingpong COUNT  ->  "<us per round trip> us"
 *
 * The Condition is mp_condition_new's, over an RLock of its own (Python's
 * default); the turn is a raw Value 'q' (no lock of its own), read and
 * written only under the Condition's lock. The parent (A), holding the
 * lock, sets turn = 1, notifies one waiter and waits until turn == 0; a
 * spawned child (B), holding the lock, waits until turn == 1, sets
 * turn = 0 and notifies one. Each side takes the lock once per round
 * trip and lets it go at the end, as `with cond:` would. A round trip is
 * two hand-overs, each a notify that wakes a sleeper in wait, which then
 * takes the lock back. The child's start is covered by min(COUNT/10, 200)
 * untimed round trips, as in event_pingpong. Compare raw_futex pingpong,
 * the same turn handed over on one bare futex word: the floor of any
 * sleeping hand-over. */
#include "mp_bench.h"

static int64_t turn_of(mp_value *turn)
{
    int64_t t = 0;
    BENCH_CHECK(mp_value_get_int(turn, &t));
    return t;
}

/* B's side of one round trip: wait for turn 1, hand turn 0 back. */
static void answer(mp_condition *c, mp_value *turn)
{
    BENCH_CHECK(mp_condition_acquire(c, MP_FOREVER));
    while (turn_of(turn) != 1)
        BENCH_CHECK(mp_condition_wait(c, MP_FOREVER));
    BENCH_CHECK(mp_value_set_int(turn, 0));
    BENCH_CHECK(mp_condition_notify(c, 1));
    BENCH_CHECK(mp_condition_release(c));
}

static int echo(const mp_args *args)
{
    mp_condition *c = mp_args_condition(args, 0);
    mp_value *turn = mp_args_value(args, 1);
    int64_t total;
    BENCH_CHECK(mp_args_get_int(args, 2, &total));
    for (int64_t i = 0; i < total; i++)
        answer(c, turn);
    return 0;
}

/* A's side: hand turn 1 over, wait for turn 0. */
static void round_trip(mp_condition *c, mp_value *turn)
{
    BENCH_CHECK(mp_condition_acquire(c, MP_FOREVER));
    BENCH_CHECK(mp_value_set_int(turn, 1));
    BENCH_CHECK(mp_condition_notify(c, 1));
    while (turn_of(turn) != 0)
        BENCH_CHECK(mp_condition_wait(c, MP_FOREVER));
    BENCH_CHECK(mp_condition_release(c));
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t count = bench_arg_u64(argc, argv, 1, "COUNT");
    uint64_t warm = count / 10 < 200 ? count / 10 : 200;

    mp_condition *c;
    mp_value *turn;
    BENCH_CHECK(mp_condition_new(&c));
    BENCH_CHECK(mp_value_new_raw(&turn, 'q'));
    mp_process *p =
        bench_start(echo, mp_args_of(c, turn, (int64_t)(warm + count)), MP_START_DEFAULT);

    for (uint64_t i = 0; i < warm; i++)
        round_trip(c, turn);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < count; i++)
        round_trip(c, turn);
    uint64_t ns = bench_now_ns() - t0;

    bench_join(p);
    if (turn_of(turn) != 0) bench_die("condition_pingpong: the turn is not 0 at the end");
    bench_report((double)ns / 1e3 / (double)count, "us");
    mp_value_free(turn);
    mp_condition_free(c);
    return 0;
}
