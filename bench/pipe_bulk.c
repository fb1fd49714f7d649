/* pipe_bulk.c - pipe_bulk_*: COUNT messages of SIZE bytes from a child to
 * the parent with send_bytes / recv_bytes_into.
 *
 *     pipe_bulk duplex|oneway SIZE COUNT   ->  "<GiB/s> GiB/s"
 *
 * duplex is Pipe() (a socketpair on POSIX), oneway is Pipe(duplex=False)
 * (a pipe()); raw_pipe measures plain write/read on the same transports.
 * The clock runs from the start barrier until the parent has received the
 * last byte. The receive goes straight into the parent's buffer: a large
 * message is one read of the 4-byte length and then reads of the payload
 * into place, as a plain read loop would do. */
#include "mp_bench.h"

static int sender(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    mp_array *ctl = mp_args_array(args, 1);
    int64_t size, count;
    BENCH_CHECK(mp_args_get_int(args, 2, &size));
    BENCH_CHECK(mp_args_get_int(args, 3, &count));
    unsigned char *msg = bench_payload((size_t)size);
    ctl_arrive(ctl);
    for (int64_t i = 0; i < count; i++) {
        bench_stamp_msg(msg, (size_t)size, (uint64_t)i);
        BENCH_CHECK(mp_conn_send_bytes(c, msg, 0, (size_t)size));
    }
    free(msg);
    return 0;
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const char *kind = bench_arg_str(argc, argv, 1, "duplex|oneway");
    uint64_t size = bench_arg_u64(argc, argv, 2, "SIZE");
    uint64_t count = bench_arg_u64(argc, argv, 3, "COUNT");
    int duplex = strcmp(kind, "duplex") == 0;
    if (!duplex && strcmp(kind, "oneway") != 0)
        bench_die("pipe_bulk: first argument is duplex or oneway, not '%s'", kind);

    /* For a one-way pipe the first end reads, as in Python. */
    mp_conn *rd, *wr;
    BENCH_CHECK(mp_pipe(&rd, &wr, duplex));
    mp_array *ctl = ctl_new(0);
    mp_process *p = bench_start(
        sender, mp_args_of(wr, ctl, (int64_t)size, (int64_t)count), MP_START_DEFAULT);
    mp_conn_close(wr);
    unsigned char *buf = bench_xmalloc((size_t)size);

    uint64_t t0 = ctl_start(ctl, 1);
    for (uint64_t i = 0; i < count; i++) {
        size_t n = 0;
        BENCH_CHECK(mp_conn_recv_bytes_into(rd, buf, (size_t)size, 0, &n));
        if (n != size || (size >= 8 && bench_msg_seq(buf, n) != i))
            bench_die("pipe_bulk: message %llu arrived wrong", (unsigned long long)i);
    }
    uint64_t ns = bench_now_ns() - t0;

    bench_join(p);
    bench_report(bench_gib_per_s(size * count, ns), "GiB/s");
    free(buf);
    mp_array_free(ctl);
    mp_conn_close(rd);
    return 0;
}
