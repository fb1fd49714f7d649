/* shm_create_attach.c - shm_create_attach: a named SharedMemory of SIZE
 * bytes created, attached to by name, both views closed and the name
 * unlinked, COUNT times in one process.
 *
 *     shm_create_attach SIZE COUNT    ->  "<blocks per second> msgs/s"
 *
 * What Python's SharedMemory(create=True, size=SIZE) + SharedMemory(name)
 * + close + close + unlink costs (py_peer.py shm_create_attach), the
 * shape of a program that hands a fresh block to an unrelated process. */
#include "mp_bench.h"

static void one(uint64_t size)
{
    mp_shared_memory *a, *b;
    BENCH_CHECK(mp_shared_memory_create(&a, NULL, (size_t)size));
    BENCH_CHECK(mp_shared_memory_attach(&b, mp_shared_memory_name(a)));
    ((unsigned char *)mp_shared_memory_buf(a))[0] = 1;
    if (((unsigned char *)mp_shared_memory_buf(b))[0] != 1)
        bench_die("shm_create_attach: the views differ");
    BENCH_CHECK(mp_shared_memory_close(b));
    BENCH_CHECK(mp_shared_memory_close(a));
    BENCH_CHECK(mp_shared_memory_unlink(a));
    mp_shared_memory_free(b);
    mp_shared_memory_free(a);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    uint64_t size = bench_arg_u64(argc, argv, 1, "SIZE");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");
    for (uint64_t i = 0; i < count / 10 + 1; i++)
        one(size);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < count; i++)
        one(size);
    bench_report(bench_per_s(count, bench_now_ns() - t0), "msgs/s");
    return 0;
}
