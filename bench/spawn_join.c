/* spawn_join.c - spawn_join_*: start a process running a trivial target
 * and join it, COUNT times, from a parent with BALLAST MiB resident.
 *
 *     spawn_join spawn|fork BALLAST_MIB COUNT   ->  "<us per start+join> us"
 *
 * Each round is mp_process_new, mp_process_start, mp_process_join and
 * mp_process_free: what Process(target=f).start(); p.join() costs. The
 * ballast is allocated and written before the clock starts, so it is
 * resident: fork must copy the page tables of all of it (the point of the
 * _1g variants), while spawn (posix_spawn, a vfork underneath on glibc)
 * should not notice it. One untimed round first loads the executable and
 * libraries into the page cache. */
#include "mp_bench.h"

static int trivial(const mp_args *args)
{
    (void)args;
    return 0;
}

static void one(mp_start_method method)
{
    bench_join(bench_start(trivial, MP_NO_ARGS, method));
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const char *how = bench_arg_str(argc, argv, 1, "spawn|fork");
    uint64_t ballast_mib =
        strtoull(bench_arg_str(argc, argv, 2, "BALLAST_MIB"), NULL, 10);
    uint64_t count = bench_arg_u64(argc, argv, 3, "COUNT");
    mp_start_method method;
    if (strcmp(how, "spawn") == 0)
        method = MP_START_SPAWN;
    else if (strcmp(how, "fork") == 0)
        method = MP_START_FORK;
    else
        bench_die("spawn_join: first argument is spawn or fork, not '%s'", how);

    void *ballast = bench_ballast(ballast_mib * BENCH_MIB);
    one(method);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < count; i++)
        one(method);
    uint64_t ns = bench_now_ns() - t0;
    bench_report((double)ns / 1e3 / (double)count, "us");
    free(ballast);
    return 0;
}
