/* raw_mutex.c - value_incr without a library: a counter in shared memory
 * guarded by a process-shared pthread mutex, the lock the C library
 * offers for this.
 *
 *     raw_mutex NPROC COUNT       ->  "<ns per increment> ns/op"
 *
 * Same shape as value_incr: NPROC 1 increments in this process; more
 * forks that many workers released together, and the time is from the
 * release until the last is done, over all increments. The mutex is not
 * robust (a robust one costs a little more per lock): this is the floor,
 * not a like-for-like peer, since mproc's lock also detects a dead holder
 * and is recursive. */
#include <pthread.h>

#include "raw_shm.h"

struct counter {
    pthread_mutex_t mu;
    uint64_t value;
};

struct job {
    struct counter *c;
    shm_ctl *ctl;
    uint64_t count;
    int id;
};

static void increment(struct counter *c, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        pthread_mutex_lock(&c->mu);
        c->value++;
        pthread_mutex_unlock(&c->mu);
    }
}

static int worker(void *arg)
{
    struct job *j = arg;
    shm_ctl_arrive(j->ctl);
    increment(j->c, j->count);
    shm_ctl_stamp(j->ctl, j->id, bench_now_ns());
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t nproc = bench_arg_u64(argc, argv, 1, "NPROC");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");
    if (nproc > 14) bench_die("raw_mutex: at most 14 processes");
    struct counter *c = shm_anon(sizeof *c);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&c->mu, &attr);
    pthread_mutexattr_destroy(&attr);

    uint64_t ns;
    if (nproc == 1) {
        increment(c, count / 100 + 1);
        c->value = 0;
        uint64_t t0 = bench_now_ns();
        increment(c, count);
        ns = bench_now_ns() - t0;
    } else {
        shm_ctl *ctl = shm_ctl_new();
        struct job jobs[14];
        pid_t pids[14];
        for (uint64_t i = 0; i < nproc; i++) {
            jobs[i] = (struct job){c, ctl, count, (int)i};
            pids[i] = fork_worker(worker, &jobs[i]);
        }
        uint64_t t0 = shm_ctl_start(ctl, (uint32_t)nproc);
        uint64_t t_end = 0;
        for (uint64_t i = 0; i < nproc; i++) {
            wait_worker(pids[i]);
            uint64_t t = shm_ctl_stamp_of(ctl, (int)i);
            if (t > t_end) t_end = t;
        }
        ns = t_end - t0;
    }
    if (c->value != nproc * count) bench_die("raw_mutex: lost increments");
    bench_report((double)ns / (double)(nproc * count), "ns/op");
    return 0;
}
