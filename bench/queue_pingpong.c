/* queue_pingpong.c - queue_pingpong_*: one SIZE-byte message each way
 * through two Queues, COUNT times; the latency of a round trip.
 *
 *     queue_pingpong SIZE COUNT   ->  "<us per round trip> us"
 *
 * The parent puts on `ping` and waits on `pong`; a spawned child echoes.
 * Both sides sleep when their queue is empty, so this measures the wake-up
 * path (two sleeps and two wakes per round trip), the same thing
 * pipe_pingpong measures for a Pipe. A few hundred round trips before the
 * clock starts let both sides settle. */
#include "mp_bench.h"

static int echo(const mp_args *args)
{
    mp_queue *ping = mp_args_queue(args, 0);
    mp_queue *pong = mp_args_queue(args, 1);
    int64_t size, total;
    BENCH_CHECK(mp_args_get_int(args, 2, &size));
    BENCH_CHECK(mp_args_get_int(args, 3, &total));
    unsigned char *buf = bench_xmalloc((size_t)size);
    for (int64_t i = 0; i < total; i++) {
        size_t len = 0;
        BENCH_CHECK(mp_queue_get_bytes_into(ping, buf, (size_t)size, &len, MP_FOREVER));
        BENCH_CHECK(mp_queue_put_bytes(pong, buf, len, MP_FOREVER));
    }
    free(buf);
    return 0;
}

static void round_trip(mp_queue *ping, mp_queue *pong, unsigned char *buf, size_t size,
                       uint64_t i)
{
    size_t len = 0;
    bench_stamp_msg(buf, size, i);
    BENCH_CHECK(mp_queue_put_bytes(ping, buf, size, MP_FOREVER));
    BENCH_CHECK(mp_queue_get_bytes_into(pong, buf, size, &len, MP_FOREVER));
    if (len != size || bench_msg_seq(buf, len) != (size >= 8 ? i : 0))
        bench_die("queue_pingpong: wrong echo for round %llu", (unsigned long long)i);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t size = bench_arg_u64(argc, argv, 1, "SIZE");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");
    uint64_t warm = count / 10 < 200 ? count / 10 : 200;

    mp_queue *ping, *pong;
    BENCH_CHECK(mp_queue_new(&ping, 0));
    BENCH_CHECK(mp_queue_new(&pong, 0));
    mp_process *p =
        bench_start(echo, mp_args_of(ping, pong, (int64_t)size, (int64_t)(warm + count)),
                    MP_START_DEFAULT);
    unsigned char *buf = bench_payload((size_t)size);

    for (uint64_t i = 0; i < warm; i++)
        round_trip(ping, pong, buf, (size_t)size, i);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = warm; i < warm + count; i++)
        round_trip(ping, pong, buf, (size_t)size, i);
    uint64_t ns = bench_now_ns() - t0;

    bench_join(p);
    bench_report((double)ns / 1e3 / (double)count, "us");
    free(buf);
    mp_queue_free(pong);
    mp_queue_free(ping);
    return 0;
}
