/* queue_solo.c - not a workload of the suite but a diagnostic: what one
 * message costs the Queue when no second CPU is involved.
 *
 *     queue_solo SIZE COUNT [RING_BYTES]   ->  "<ns per put + get> ns/op"
 *
 * One process puts half a ring of SIZE-byte messages, gets them back, and
 * does that again until COUNT messages have made the trip, so the ring
 * stays in this CPU's caches and no line crosses to another core. What is
 * left is the per-message work itself (the lock words, the checks, the
 * copies); `raw_ring solo` measures the same for the futex ring.
 * docs/performance.md uses both to show where the Queue's floor lies with
 * 8-byte messages. RING_BYTES defaults to 1 MiB, as raw_ring's. */
#include "mp_bench.h"

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t size = bench_arg_u64(argc, argv, 1, "SIZE");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");
    uint64_t ring = argc > 3 ? bench_arg_u64(argc, argv, 3, "RING_BYTES") : BENCH_MIB;
    mp_queue *q;
    BENCH_CHECK(mp_queue_new_sized(&q, 0, (size_t)ring));
    unsigned char *msg = bench_payload((size_t)size), *buf = bench_xmalloc((size_t)size);
    /* A record is the message, padded, and a header: half the ring in
     * records of at most size + 16 bytes never makes put wait. */
    uint64_t fill = ring / (size + 16) / 2, done = 0, t0 = bench_now_ns();
    while (done < count) {
        uint64_t n = count - done < fill ? count - done : fill;
        for (uint64_t i = 0; i < n; i++) {
            bench_stamp_msg(msg, (size_t)size, done + i);
            BENCH_CHECK(mp_queue_put_bytes(q, msg, (size_t)size, MP_FOREVER));
        }
        for (uint64_t i = 0; i < n; i++) {
            size_t len = 0;
            BENCH_CHECK(mp_queue_get_bytes_into(q, buf, (size_t)size, &len, MP_FOREVER));
            if (len != size || bench_msg_seq(buf, (size_t)size) != done + i)
                bench_die("queue_solo: message %llu wrong",
                          (unsigned long long)(done + i));
        }
        done += n;
    }
    bench_report((double)(bench_now_ns() - t0) / (double)count, "ns/op");
    free(buf);
    free(msg);
    mp_queue_free(q);
    return 0;
}
