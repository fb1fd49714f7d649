/* queue_mpmc.c - queue_mpmc_*: two producer processes and two consumer
 * processes share one Queue; COUNT messages of SIZE bytes in all.
 *
 *     queue_mpmc SIZE COUNT       ->  "<msgs/s> msgs/s"
 *
 * All four are spawned children; the parent only starts them, releases
 * them together and collects. The clock runs from that release until the
 * later consumer has taken its last message (each consumer stamps its own
 * end on the machine-wide monotonic clock).
 *
 * How consumers know they are done without a shared counter (which would
 * cost a lock per message): after its share, each producer puts one
 * 1-byte end marker per consumer, naming itself. A consumer is done when
 * it has seen a marker from every producer, which means every producer's
 * messages, FIFO per producer, were all taken before. A marker from a
 * producer it has already seen belongs to the other consumer, so it puts
 * it back. Consumers thus stop only when the queue is drained, instead of
 * each stopping after a fixed half, which would idle one of them at the
 * end whenever the scheduler favours the other. */
#include "mp_bench.h"

enum { NPROD = 2, NCONS = 2 };

/* ctl slots: consumer c's end stamp at c, its message count at NCONS + c. */

static int producer(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    mp_array *ctl = mp_args_array(args, 1);
    int64_t size, count, id;
    BENCH_CHECK(mp_args_get_int(args, 2, &size));
    BENCH_CHECK(mp_args_get_int(args, 3, &count));
    BENCH_CHECK(mp_args_get_int(args, 4, &id));
    unsigned char *msg = bench_payload((size_t)size);

    ctl_arrive(ctl);
    for (int64_t i = 0; i < count; i++) {
        bench_stamp_msg(msg, (size_t)size, (uint64_t)i);
        BENCH_CHECK(mp_queue_put_bytes(q, msg, (size_t)size, MP_FOREVER));
    }
    unsigned char marker = (unsigned char)id;
    for (int c = 0; c < NCONS; c++)
        BENCH_CHECK(mp_queue_put_bytes(q, &marker, 1, MP_FOREVER));
    free(msg);
    return 0;
}

static int consumer(const mp_args *args)
{
    mp_queue *q = mp_args_queue(args, 0);
    mp_array *ctl = mp_args_array(args, 1);
    int64_t size, id;
    BENCH_CHECK(mp_args_get_int(args, 2, &size));
    BENCH_CHECK(mp_args_get_int(args, 3, &id));
    unsigned char *buf = bench_xmalloc((size_t)size);
    int seen[NPROD] = {0};
    int nseen = 0;
    int64_t got = 0;

    ctl_arrive(ctl);
    while (nseen < NPROD) {
        size_t len = 0;
        BENCH_CHECK(mp_queue_get_bytes_into(q, buf, (size_t)size, &len, MP_FOREVER));
        if (len == (size_t)size) {
            got++;
        } else if (len == 1 && buf[0] < NPROD) {
            if (!seen[buf[0]]) {
                seen[buf[0]] = 1;
                nseen++;
            } else {
                BENCH_CHECK(mp_queue_put_bytes(q, buf, 1, MP_FOREVER));
            }
        } else {
            bench_die("queue_mpmc: unexpected message of %zu bytes", len);
        }
    }
    uint64_t t_end = bench_now_ns();
    ctl_stamp(ctl, (size_t)id, t_end);
    ctl_stamp(ctl, NCONS + (size_t)id, (uint64_t)got);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t size = bench_arg_u64(argc, argv, 1, "SIZE");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");
    if (size < 2) bench_die("queue_mpmc: SIZE must be at least 2 (1 is the end marker)");

    mp_queue *q;
    BENCH_CHECK(mp_queue_new(&q, 0));
    mp_array *ctl = ctl_new(2 * NCONS);
    mp_process *procs[NPROD + NCONS];
    int n = 0;
    for (int c = 0; c < NCONS; c++)
        procs[n++] = bench_start(consumer, mp_args_of(q, ctl, (int64_t)size, (int64_t)c),
                                 MP_START_DEFAULT);
    for (int pr = 0; pr < NPROD; pr++) {
        uint64_t share = count / NPROD + (pr == 0 ? count % NPROD : 0);
        procs[n++] = bench_start(
            producer, mp_args_of(q, ctl, (int64_t)size, (int64_t)share, (int64_t)pr),
            MP_START_DEFAULT);
    }

    uint64_t t0 = ctl_start(ctl, n);
    for (int i = 0; i < n; i++)
        bench_join(procs[i]);
    uint64_t t_end = 0, got = 0;
    for (size_t c = 0; c < NCONS; c++) {
        uint64_t t = ctl_stamp_of(ctl, c);
        if (t > t_end) t_end = t;
        got += ctl_stamp_of(ctl, NCONS + c);
    }
    if (got != count)
        bench_die("queue_mpmc: %llu messages arrived of %llu", (unsigned long long)got,
                  (unsigned long long)count);
    bench_report(bench_per_s(count, t_end - t0), "msgs/s");
    mp_array_free(ctl);
    mp_queue_free(q);
    return 0;
}
