/* pipe_pingpong.c - pipe_pingpong_*: one SIZE-byte message each way over
 * a duplex Pipe (a socketpair on POSIX), COUNT times.
 *
 *     pipe_pingpong SIZE COUNT    ->  "<us per round trip> us"
 *
 * The parent sends and waits for the echo from a spawned child; both read
 * with mp_conn_recv_bytes_into, which reads straight into their buffer.
 * Compare with raw_pipe's socketpair round trip of the same SIZE (plus
 * the 4-byte length mproc sends, as Python's Connection does). */
#include "mp_bench.h"

static int echo(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    int64_t size, total;
    BENCH_CHECK(mp_args_get_int(args, 1, &size));
    BENCH_CHECK(mp_args_get_int(args, 2, &total));
    unsigned char *buf = bench_xmalloc((size_t)size);
    for (int64_t i = 0; i < total; i++) {
        size_t n = 0;
        BENCH_CHECK(mp_conn_recv_bytes_into(c, buf, (size_t)size, 0, &n));
        BENCH_CHECK(mp_conn_send_bytes(c, buf, 0, n));
    }
    free(buf);
    return 0;
}

static void round_trip(mp_conn *c, unsigned char *buf, size_t size, uint64_t i)
{
    size_t n = 0;
    bench_stamp_msg(buf, size, i);
    BENCH_CHECK(mp_conn_send_bytes(c, buf, 0, size));
    BENCH_CHECK(mp_conn_recv_bytes_into(c, buf, size, 0, &n));
    if (n != size || bench_msg_seq(buf, n) != (size >= 8 ? i : 0))
        bench_die("pipe_pingpong: wrong echo for round %llu", (unsigned long long)i);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t size = bench_arg_u64(argc, argv, 1, "SIZE");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");
    uint64_t warm = count / 10 < 200 ? count / 10 : 200;

    mp_conn *mine, *theirs;
    BENCH_CHECK(mp_pipe(&mine, &theirs, 1));
    mp_process *p =
        bench_start(echo, mp_args_of(theirs, (int64_t)size, (int64_t)(warm + count)),
                    MP_START_DEFAULT);
    mp_conn_close(theirs); /* the child has its own handle on that end */
    unsigned char *buf = bench_payload((size_t)size);

    for (uint64_t i = 0; i < warm; i++)
        round_trip(mine, buf, (size_t)size, i);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = warm; i < warm + count; i++)
        round_trip(mine, buf, (size_t)size, i);
    uint64_t ns = bench_now_ns() - t0;

    bench_join(p);
    bench_report((double)ns / 1e3 / (double)count, "us");
    free(buf);
    mp_conn_close(mine);
    return 0;
}
