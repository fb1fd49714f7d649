/* wait_many.c - wait_100: mp_wait over IDLE + 1 connections of which one
 * is ready, COUNT times, in one process.
 *
 *     wait_many IDLE COUNT    ->  "<ns per wait> ns/op"
 *
 * The ready connection holds one byte that nobody reads, so every wait
 * returns at once and reports it: what is measured is the cost of looking
 * at IDLE + 1 objects and finding the ready one, against raw_wait's
 * poll(2) over the same kind of descriptors (and Python's
 * multiprocessing.connection.wait). */
#include "mp_bench.h"

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t idle = bench_arg_u64(argc, argv, 1, "IDLE");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");
    size_t n = (size_t)idle + 1;
    mp_conn **r = bench_xmalloc(n * sizeof *r), **w = bench_xmalloc(n * sizeof *w);
    mp_waitable *list = bench_xmalloc(n * sizeof *list);
    size_t *ready = bench_xmalloc(n * sizeof *ready);
    for (size_t i = 0; i < n; i++) {
        BENCH_CHECK(mp_pipe(&r[i], &w[i], 0));
        list[i] = mp_waitable_conn(r[i]);
    }
    size_t hot = n / 2;
    BENCH_CHECK(mp_conn_send_bytes(w[hot], "x", 0, 1));

    uint64_t warm = count / 10 + 1, found = 0;
    for (uint64_t i = 0; i < warm; i++)
        found += (uint64_t)mp_wait(list, n, MP_FOREVER, ready);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < count; i++) {
        int k = mp_wait(list, n, MP_FOREVER, ready);
        if (k != 1 || ready[0] != hot) bench_die("wait_many: wait gave %d", k);
    }
    uint64_t ns = bench_now_ns() - t0;
    if (found != warm) bench_die("wait_many: a warm-up wait missed the ready one");

    for (size_t i = 0; i < n; i++) {
        mp_conn_close(r[i]);
        mp_conn_close(w[i]);
    }
    free(r);
    free(w);
    free(list);
    free(ready);
    bench_report((double)ns / (double)count, "ns/op");
    return 0;
}
