/* raw_futex.c - the raw limit of event_pingpong: a round trip between two
 * processes on one bare futex word in shared memory. Linux only.
 *
 *     raw_futex pingpong COUNT  ->  "<us per round trip> us"
 *
 * The word says whose turn it is (0: the parent's, 1: the forked
 * child's). A side hands over by storing the other's number and calling
 * FUTEX_WAKE; it waits for its turn with FUTEX_WAIT on the value it last
 * saw, so a hand-over between its look and its sleep returns at once.
 * The futex calls are the shared ones (no FUTEX_PRIVATE_FLAG), as between
 * processes they must be, and as mproc's wait queue uses. The wake is
 * unconditional: in a ping-pong the other side is almost always asleep
 * by then, and a waiter count would cost an atomic per hand-over. No
 * spinning before the sleep, as mproc's Event has none: each hand-over is
 * a wake-up of a sleeper, which is what event_pingpong measures. The
 * child's start is covered by min(COUNT/10, 200) untimed round trips. */
#include <linux/futex.h>
#include <sys/syscall.h>

#include "raw_shm.h"

static void pass_to(uint32_t *word, uint32_t who)
{
    __atomic_store_n(word, who, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void wait_for(uint32_t *word, uint32_t me)
{
    uint32_t seen;
    while ((seen = __atomic_load_n(word, __ATOMIC_ACQUIRE)) != me)
        syscall(SYS_futex, word, FUTEX_WAIT, seen, NULL, NULL, 0);
}

struct job {
    uint32_t *word;
    uint64_t total;
};

static int echo(void *arg)
{
    struct job *j = arg;
    for (uint64_t i = 0; i < j->total; i++) {
        wait_for(j->word, 1);
        pass_to(j->word, 0);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = bench_arg_str(argc, argv, 1, "pingpong");
    if (strcmp(mode, "pingpong") != 0) bench_die("raw_futex: pingpong, not '%s'", mode);
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");
    uint64_t warm = count / 10 < 200 ? count / 10 : 200;

    uint32_t *word = shm_anon(sizeof *word);
    struct job j = {word, warm + count};
    pid_t pid = fork_worker(echo, &j);
    for (uint64_t i = 0; i < warm; i++) {
        pass_to(word, 1);
        wait_for(word, 0);
    }
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < count; i++) {
        pass_to(word, 1);
        wait_for(word, 0);
    }
    uint64_t ns = bench_now_ns() - t0;
    wait_worker(pid);
    bench_report((double)ns / 1e3 / (double)count, "us");
    return 0;
}
