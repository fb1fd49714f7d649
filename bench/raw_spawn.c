/* raw_spawn.c - the raw limits for starting a process: posix_spawn +
 * waitpid, and fork + waitpid, of a trivial program.
 *
 *     raw_spawn spawn|fork BALLAST_MIB COUNT  ->  "<us per start+wait> us"
 *     raw_spawn --child                        (the trivial program: exits 0)
 *
 * spawn runs this same executable with --child (a small dynamically
 * linked C program that exits at once), as mproc's spawn runs its own
 * executable; fork's child calls _exit(0) at once. The ballast is written
 * before the clock starts so that it is resident, as in spawn_join. */
#include <spawn.h>

#include "raw_shm.h"

extern char **environ;

static void spawn_one(char *self)
{
    char *argv[] = {self, (char *)"--child", NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, self, NULL, NULL, argv, environ);
    if (rc != 0) bench_die("posix_spawn %s: %s", self, strerror(rc));
    wait_worker(pid);
}

static int nothing(void *arg)
{
    (void)arg;
    return 0;
}

static void fork_one(void)
{
    wait_worker(fork_worker(nothing, NULL));
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--child") == 0) return 0;
    const char *how = bench_arg_str(argc, argv, 1, "spawn|fork");
    uint64_t ballast_mib =
        strtoull(bench_arg_str(argc, argv, 2, "BALLAST_MIB"), NULL, 10);
    uint64_t count = bench_arg_u64(argc, argv, 3, "COUNT");
    int spawn = strcmp(how, "spawn") == 0;
    if (!spawn && strcmp(how, "fork") != 0)
        bench_die("raw_spawn: first argument is spawn or fork, not '%s'", how);
    /* posix_spawn wants a path: /proc/self/exe is this very file even when
     * argv[0] is a bare name found through PATH. */
    char self[] = "/proc/self/exe";

    void *ballast = bench_ballast(ballast_mib * BENCH_MIB);
    /* One untimed round first loads the page cache. */
    uint64_t t0 = 0;
    for (uint64_t i = 0; i <= count; i++) {
        if (i == 1) t0 = bench_now_ns();
        if (spawn)
            spawn_one(self);
        else
            fork_one();
    }
    uint64_t ns = bench_now_ns() - t0;
    bench_report((double)ns / 1e3 / (double)count, "us");
    free(ballast);
    return 0;
}
