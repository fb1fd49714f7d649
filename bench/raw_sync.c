/* raw_sync.c - the raw references of lock_* and semaphore_1p: what the C
 * library offers for a lock and a semaphore between processes, in shared
 * memory, without mproc.
 *
 *     raw_sync lock 1 COUNT        ->  "<ns per lock + unlock> ns/op"
 *     raw_sync lock NPROC COUNT    ->  "<increments per second, all processes> incr/s"
 *     raw_sync semaphore COUNT     ->  "<ns per sem_wait + sem_post> ns/op"
 *
 * lock: a pthread mutex that is PTHREAD_PROCESS_SHARED and
 * PTHREAD_MUTEX_ROBUST, the C library's lock that, like mproc's Lock,
 * survives the death of its holder (a plain one is raw_mutex's). Same
 * shape as sync_lock: NPROC 1 locks and unlocks with nothing between, in
 * this process; more forks that many workers released together that each
 * increment a shared counter under the mutex COUNT times, and the rate is
 * all increments from the release until the last is done. No holder dies
 * here, so EOWNERDEAD (or any error) fails the run.
 *
 * semaphore: a POSIX sem_t of value 1 initialised process-shared
 * (sem_init(s, 1, 1)), sem_wait + sem_post in this process: for context
 * beside sync_semaphore, no target. */
#include <pthread.h>
#include <semaphore.h>

#include "raw_shm.h"

struct counter {
    pthread_mutex_t mu;
    volatile uint64_t value;
};

struct job {
    struct counter *c;
    shm_ctl *ctl;
    uint64_t count;
    int id;
};

static void check(int rc, const char *what)
{
    if (rc != 0) bench_die("raw_sync: %s: %s", what, strerror(rc));
}

static void lock_unlock(struct counter *c, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        check(pthread_mutex_lock(&c->mu), "pthread_mutex_lock");
        check(pthread_mutex_unlock(&c->mu), "pthread_mutex_unlock");
    }
}

static void increment(struct counter *c, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        check(pthread_mutex_lock(&c->mu), "pthread_mutex_lock");
        c->value++;
        check(pthread_mutex_unlock(&c->mu), "pthread_mutex_unlock");
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

static void run_lock(uint64_t nproc, uint64_t count)
{
    if (nproc > 14) bench_die("raw_sync lock: at most 14 processes");
    struct counter *c = shm_anon(sizeof *c);
    pthread_mutexattr_t attr;
    check(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
    check(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
          "pthread_mutexattr_setpshared");
    check(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST),
          "pthread_mutexattr_setrobust");
    check(pthread_mutex_init(&c->mu, &attr), "pthread_mutex_init");
    pthread_mutexattr_destroy(&attr);

    if (nproc == 1) {
        lock_unlock(c, count / 100 + 1);
        uint64_t t0 = bench_now_ns();
        lock_unlock(c, count);
        uint64_t ns = bench_now_ns() - t0;
        bench_report((double)ns / (double)count, "ns/op");
        return;
    }
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
    if (c->value != nproc * count) bench_die("raw_sync lock: lost increments");
    bench_report(bench_per_s(nproc * count, t_end - t0), "incr/s");
}

static void wait_post(sem_t *s, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        if (sem_wait(s) != 0) bench_die("raw_sync: sem_wait: %s", strerror(errno));
        if (sem_post(s) != 0) bench_die("raw_sync: sem_post: %s", strerror(errno));
    }
}

static void run_semaphore(uint64_t count)
{
    sem_t *s = shm_anon(sizeof *s);
    if (sem_init(s, 1, 1) != 0) bench_die("raw_sync: sem_init: %s", strerror(errno));
    wait_post(s, count / 100 + 1);
    uint64_t t0 = bench_now_ns();
    wait_post(s, count);
    uint64_t ns = bench_now_ns() - t0;
    int value = -1;
    if (sem_getvalue(s, &value) != 0 || value != 1)
        bench_die("raw_sync semaphore: value %d at the end, expected 1", value);
    bench_report((double)ns / (double)count, "ns/op");
}

int main(int argc, char **argv)
{
    const char *mode = bench_arg_str(argc, argv, 1, "lock|semaphore");
    if (strcmp(mode, "lock") == 0)
        run_lock(bench_arg_u64(argc, argv, 2, "NPROC"),
                 bench_arg_u64(argc, argv, 3, "COUNT"));
    else if (strcmp(mode, "semaphore") == 0)
        run_semaphore(bench_arg_u64(argc, argv, 2, "COUNT"));
    else
        bench_die("raw_sync: lock or semaphore, not '%s'", mode);
    return 0;
}
