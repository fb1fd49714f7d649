/* queue_stream.c - queue_small_* and queue_bulk_*: one producer process
 * streams COUNT messages of SIZE bytes through a Queue to one consumer.
 *
 *     queue_stream SIZE COUNT     ->  "<msgs/s> msgs/s" (SIZE <= 4096)
 *                                     "<GiB/s> GiB/s"   (larger SIZE)
 *
 * The producer is a spawned child; the consumer is the parent. The clock
 * runs from the start barrier (both processes up, the producer released)
 * until the consumer holds the last message, so a producer that runs
 * ahead into the ring is not credited: only what arrived counts. The
 * queue is Python's default kind (maxsize 0, default ring), with its full
 * semantics: exact qsize, owner-death detection, the feeder thread.
 * Receives go through mp_queue_get_bytes_into, which copies into the
 * consumer's buffer without allocating, as a C consumer would. */
#include "mp_bench.h"

static int producer(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    mp_array *ctl = mp_args_array(args, 1);
    int64_t size, count;
    BENCH_CHECK(mp_args_get_int(args, 2, &size));
    BENCH_CHECK(mp_args_get_int(args, 3, &count));
    unsigned char *msg = bench_payload((size_t)size);

    ctl_arrive(ctl);
    for (int64_t i = 0; i < count; i++) {
        bench_stamp_msg(msg, (size_t)size, (uint64_t)i);
        BENCH_CHECK(mp_queue_put_bytes(q, msg, (size_t)size, MP_FOREVER));
    }
    free(msg);
    return 0; /* the runtime flushes the feeder before the child exits */
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t size = bench_arg_u64(argc, argv, 1, "SIZE");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");

    mp_queue *q;
    BENCH_CHECK(mp_queue_new(&q, 0));
    mp_array *ctl = ctl_new(0);
    mp_process *p = bench_start(
        producer, mp_args_of(q, ctl, (int64_t)size, (int64_t)count), MP_START_DEFAULT);
    unsigned char *buf = bench_xmalloc((size_t)size);

    uint64_t t0 = ctl_start(ctl, 1);
    for (uint64_t i = 0; i < count; i++) {
        size_t len = 0;
        BENCH_CHECK(mp_queue_get_bytes_into(q, buf, (size_t)size, &len, MP_FOREVER));
        if (len != size || (size >= 8 && bench_msg_seq(buf, len) != i))
            bench_die("queue_stream: message %llu arrived wrong (%zu bytes, seq %llu)",
                      (unsigned long long)i, len,
                      (unsigned long long)bench_msg_seq(buf, len));
    }
    uint64_t ns = bench_now_ns() - t0;

    bench_join(p);
    if (size <= 4096)
        bench_report(bench_per_s(count, ns), "msgs/s");
    else
        bench_report(bench_gib_per_s(size * count, ns), "GiB/s");
    free(buf);
    mp_array_free(ctl);
    mp_queue_free(q);
    return 0;
}
