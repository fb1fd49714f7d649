/* raw_futex.c - the raw limits of event_pingpong and condition_pingpong
 * (pingpong) and of barrier_2p (barrier): two processes handing over on
 * bare futex words in shared memory. Linux only.
 *
 *     raw_futex pingpong COUNT  ->  "<us per round trip> us"
 *     raw_futex barrier COUNT   ->  "<us per pass> us"
 *
 * pingpong: the word says whose turn it is (0: the parent's, 1: the
 * forked child's). A side hands over by storing the other's number and
 * calling FUTEX_WAKE; it waits for its turn with FUTEX_WAIT on the value
 * it last saw, so a hand-over between its look and its sleep returns at
 * once. The futex calls are the shared ones (no FUTEX_PRIVATE_FLAG), as
 * between processes they must be, and as mproc's wait queue uses. The
 * wake is unconditional: in a ping-pong the other side is almost always
 * asleep by then, and a waiter count would cost an atomic per hand-over.
 * No spinning before the sleep, as mproc's Event has none: each
 * hand-over is a wake-up of a sleeper, which is what event_pingpong
 * measures.
 *
 * barrier: a two-party barrier of two words, the arrivals of this pass
 * and a generation. A party notes the generation and counts itself in;
 * the second to arrive zeroes the count, moves the generation on and
 * calls FUTEX_WAKE (unconditionally, as above); the first sleeps with
 * FUTEX_WAIT on the generation it noted until it moves. The parent and
 * the child pass it warm + COUNT times each; a pass is one hand-over, the
 * wake-up of the first arrival by the second: the floor under
 * mp_barrier_wait, which also keeps the arrivals' pids, a broken flag and
 * each generation's outcome under a lock of its own.
 *
 * Both time the parent's last COUNT round trips or passes; the child's
 * start is covered by min(COUNT/10, 200) untimed ones. */
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

static void run_pingpong(uint64_t count, uint64_t warm)
{
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
}

struct barrier {
    uint32_t count; /* arrivals in this generation */
    uint32_t gen;   /* moves on when both have arrived */
};

static void barrier_wait(struct barrier *b)
{
    uint32_t g = __atomic_load_n(&b->gen, __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(&b->count, 1, __ATOMIC_ACQ_REL) == 2) {
        /* The other waits for gen to move, so it cannot arrive again
         * before the count is back at 0. */
        __atomic_store_n(&b->count, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&b->gen, g + 1, __ATOMIC_SEQ_CST);
        syscall(SYS_futex, &b->gen, FUTEX_WAKE, 1, NULL, NULL, 0);
        return;
    }
    while (__atomic_load_n(&b->gen, __ATOMIC_ACQUIRE) == g)
        syscall(SYS_futex, &b->gen, FUTEX_WAIT, g, NULL, NULL, 0);
}

struct barrier_job {
    struct barrier *b;
    uint64_t total;
};

static int barrier_party(void *arg)
{
    struct barrier_job *j = arg;
    for (uint64_t i = 0; i < j->total; i++)
        barrier_wait(j->b);
    return 0;
}

static void run_barrier(uint64_t count, uint64_t warm)
{
    struct barrier *b = shm_anon(sizeof *b);
    struct barrier_job j = {b, warm + count};
    pid_t pid = fork_worker(barrier_party, &j);
    for (uint64_t i = 0; i < warm; i++)
        barrier_wait(b);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < count; i++)
        barrier_wait(b);
    uint64_t ns = bench_now_ns() - t0;
    wait_worker(pid);
    if (b->gen != (uint32_t)(warm + count) || b->count != 0)
        bench_die("raw_futex barrier: %u passes, expected %llu", b->gen,
                  (unsigned long long)(warm + count));
    bench_report((double)ns / 1e3 / (double)count, "us");
}

int main(int argc, char **argv)
{
    const char *mode = bench_arg_str(argc, argv, 1, "pingpong|barrier");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");
    uint64_t warm = count / 10 < 200 ? count / 10 : 200;
    if (strcmp(mode, "pingpong") == 0)
        run_pingpong(count, warm);
    else if (strcmp(mode, "barrier") == 0)
        run_barrier(count, warm);
    else
        bench_die("raw_futex: pingpong or barrier, not '%s'", mode);
    return 0;
}
