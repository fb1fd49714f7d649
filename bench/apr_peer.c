/* apr_peer.c - the APR peer (libapr1): pipes, a counter in shared memory
 * under apr_proc_mutex, and process creation, in the shapes of the mproc
 * programs so that the numbers compare directly.
 *
 *     apr_peer pipe_pingpong SIZE COUNT       ->  "<us per round trip> us"
 *     apr_peer pipe_bulk SIZE COUNT           ->  "<GiB/s> GiB/s"
 *     apr_peer value_incr NPROC COUNT         ->  "<ns per increment> ns/op"
 *     apr_peer spawn_join BALLAST_MIB COUNT   ->  "<us per start+wait> us"
 *     apr_peer --child                           (the trivial program)
 *
 * APR's pipes are one-way (apr_file_pipe_create_ex, blocking both ends),
 * so a round trip uses two, and its children are made with apr_proc_fork;
 * there is no framing, so a message is SIZE bytes written with
 * apr_file_write_full and read with apr_file_read_full. The counter is a
 * uint64 in anonymous apr_shm guarded by an apr_proc_mutex of the
 * platform's default kind (named on stderr). spawn_join starts this same
 * executable with --child through apr_proc_create, which forks and execs:
 * APR has no posix_spawn path, which the 1 GiB parent shows. */
#include <apr_general.h>
#include <apr_file_io.h>
#include <apr_proc_mutex.h>
#include <apr_shm.h>
#include <apr_thread_proc.h>

#include "raw_shm.h"

static apr_pool_t *pool;

static void check(apr_status_t rc, const char *what)
{
    if (rc != APR_SUCCESS) {
        char msg[256];
        bench_die("apr_peer: %s: %s", what, apr_strerror(rc, msg, sizeof msg));
    }
}

/* Runs fn(arg) in a child made by apr_proc_fork; the child exits with its
 * result. */
static apr_proc_t fork_apr(int (*fn)(void *), void *arg)
{
    apr_proc_t proc;
    fflush(NULL);
    apr_status_t rc = apr_proc_fork(&proc, pool);
    if (rc == APR_INCHILD) _exit(fn(arg));
    if (rc != APR_INPARENT) check(rc, "apr_proc_fork");
    return proc;
}

static void wait_apr(apr_proc_t *proc)
{
    int code = -1;
    apr_exit_why_e why;
    apr_status_t rc = apr_proc_wait(proc, &code, &why, APR_WAIT);
    if (rc != APR_CHILD_DONE) check(rc, "apr_proc_wait");
    if (why != APR_PROC_EXIT || code != 0)
        bench_die("apr_peer: a child failed (why %d, code %d)", (int)why, code);
}

static void write_full(apr_file_t *f, const void *buf, apr_size_t n)
{
    check(apr_file_write_full(f, buf, n, NULL), "apr_file_write_full");
}

static void read_full(apr_file_t *f, void *buf, apr_size_t n)
{
    check(apr_file_read_full(f, buf, n, NULL), "apr_file_read_full");
}

static void make_pipe(apr_file_t **rd, apr_file_t **wr)
{
    check(apr_file_pipe_create_ex(rd, wr, APR_FULL_BLOCK, pool),
          "apr_file_pipe_create_ex");
}

/* ---- pipes ------------------------------------------------------------------------ */

struct pipe_job {
    apr_file_t *rd, *wr;
    shm_ctl *ctl;
    uint64_t size, count;
};

static int echo(void *arg)
{
    struct pipe_job *j = arg;
    unsigned char *buf = bench_xmalloc(j->size);
    for (uint64_t i = 0; i < j->count; i++) {
        read_full(j->rd, buf, j->size);
        write_full(j->wr, buf, j->size);
    }
    return 0;
}

static void pipe_pingpong(uint64_t size, uint64_t count)
{
    apr_file_t *down_rd, *down_wr, *up_rd, *up_wr;
    make_pipe(&down_rd, &down_wr);
    make_pipe(&up_rd, &up_wr);
    uint64_t warm = count / 10 < 200 ? count / 10 : 200;
    struct pipe_job j = {down_rd, up_wr, NULL, size, warm + count};
    apr_proc_t child = fork_apr(echo, &j);
    apr_file_close(down_rd);
    apr_file_close(up_wr);
    unsigned char *buf = bench_payload(size);
    uint64_t t0 = 0;
    for (uint64_t i = 0; i < warm + count; i++) {
        if (i == warm) t0 = bench_now_ns();
        bench_stamp_msg(buf, size, i);
        write_full(down_wr, buf, size);
        read_full(up_rd, buf, size);
        if (size >= 8 && bench_msg_seq(buf, size) != i) bench_die("apr_peer: wrong echo");
    }
    uint64_t ns = bench_now_ns() - t0;
    wait_apr(&child);
    bench_report((double)ns / 1e3 / (double)count, "us");
}

static int sender(void *arg)
{
    struct pipe_job *j = arg;
    unsigned char *buf = bench_payload(j->size);
    shm_ctl_arrive(j->ctl);
    for (uint64_t i = 0; i < j->count; i++) {
        bench_stamp_msg(buf, j->size, i);
        write_full(j->wr, buf, j->size);
    }
    return 0;
}

static void pipe_bulk(uint64_t size, uint64_t count)
{
    apr_file_t *rd, *wr;
    make_pipe(&rd, &wr);
    struct pipe_job j = {rd, wr, shm_ctl_new(), size, count};
    apr_proc_t child = fork_apr(sender, &j);
    apr_file_close(wr);
    unsigned char *buf = bench_xmalloc(size);
    uint64_t t0 = shm_ctl_start(j.ctl, 1);
    for (uint64_t i = 0; i < count; i++) {
        read_full(rd, buf, size);
        if (size >= 8 && bench_msg_seq(buf, size) != i) bench_die("apr_peer: block lost");
    }
    uint64_t ns = bench_now_ns() - t0;
    wait_apr(&child);
    bench_report(bench_gib_per_s(size * count, ns), "GiB/s");
}

/* ---- the counter ----------------------------------------------------------------- */

struct incr_job {
    apr_proc_mutex_t *mu;
    uint64_t *value;
    shm_ctl *ctl;
    uint64_t count;
    int id;
};

static void increment(struct incr_job *j)
{
    for (uint64_t i = 0; i < j->count; i++) {
        check(apr_proc_mutex_lock(j->mu), "apr_proc_mutex_lock");
        (*j->value)++;
        check(apr_proc_mutex_unlock(j->mu), "apr_proc_mutex_unlock");
    }
}

static int incr_worker(void *arg)
{
    struct incr_job *j = arg;
    /* What APR asks of a child before it uses an inherited mutex. */
    check(apr_proc_mutex_child_init(&j->mu, NULL, pool), "apr_proc_mutex_child_init");
    shm_ctl_arrive(j->ctl);
    increment(j);
    shm_ctl_stamp(j->ctl, j->id, bench_now_ns());
    return 0;
}

static void value_incr(uint64_t nproc, uint64_t count)
{
    if (nproc > 14) bench_die("apr_peer: at most 14 processes");
    apr_shm_t *shm;
    apr_proc_mutex_t *mu;
    check(apr_shm_create(&shm, sizeof(uint64_t), NULL, pool), "apr_shm_create");
    check(apr_proc_mutex_create(&mu, NULL, APR_LOCK_DEFAULT, pool),
          "apr_proc_mutex_create");
    fprintf(stderr, "apr_peer: apr_proc_mutex is %s\n", apr_proc_mutex_name(mu));
    uint64_t *value = apr_shm_baseaddr_get(shm);
    *value = 0;

    uint64_t ns;
    if (nproc == 1) {
        struct incr_job j = {mu, value, NULL, count / 100 + 1, 0};
        increment(&j);
        *value = 0;
        j.count = count;
        uint64_t t0 = bench_now_ns();
        increment(&j);
        ns = bench_now_ns() - t0;
    } else {
        shm_ctl *ctl = shm_ctl_new();
        struct incr_job jobs[14];
        apr_proc_t procs[14];
        for (uint64_t i = 0; i < nproc; i++) {
            jobs[i] = (struct incr_job){mu, value, ctl, count, (int)i};
            procs[i] = fork_apr(incr_worker, &jobs[i]);
        }
        uint64_t t0 = shm_ctl_start(ctl, (uint32_t)nproc);
        uint64_t t_end = 0;
        for (uint64_t i = 0; i < nproc; i++) {
            wait_apr(&procs[i]);
            uint64_t t = shm_ctl_stamp_of(ctl, (int)i);
            if (t > t_end) t_end = t;
        }
        ns = t_end - t0;
    }
    if (*value != nproc * count) bench_die("apr_peer: lost increments");
    bench_report((double)ns / (double)(nproc * count), "ns/op");
}

/* ---- process creation ---------------------------------------------------------------
 */

static void spawn_one(const char *self)
{
    apr_pool_t *p;
    apr_procattr_t *attr;
    apr_proc_t proc;
    const char *args[] = {self, "--child", NULL};
    check(apr_pool_create(&p, pool), "apr_pool_create");
    check(apr_procattr_create(&attr, p), "apr_procattr_create");
    check(apr_procattr_cmdtype_set(attr, APR_PROGRAM_ENV), "apr_procattr_cmdtype_set");
    check(apr_proc_create(&proc, self, args, NULL, attr, p), "apr_proc_create");
    wait_apr(&proc);
    apr_pool_destroy(p);
}

static void spawn_join(uint64_t ballast_mib, uint64_t count)
{
    const char *self = "/proc/self/exe";
    void *ballast = bench_ballast(ballast_mib * BENCH_MIB);
    spawn_one(self); /* untimed: load the page cache */
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < count; i++)
        spawn_one(self);
    uint64_t ns = bench_now_ns() - t0;
    bench_report((double)ns / 1e3 / (double)count, "us");
    free(ballast);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--child") == 0) return 0;
    const char *what = bench_arg_str(argc, argv, 1, "workload");
    check(apr_initialize(), "apr_initialize");
    atexit(apr_terminate);
    check(apr_pool_create(&pool, NULL), "apr_pool_create");
    if (strcmp(what, "pipe_pingpong") == 0)
        pipe_pingpong(bench_arg_u64(argc, argv, 2, "SIZE"),
                      bench_arg_u64(argc, argv, 3, "COUNT"));
    else if (strcmp(what, "pipe_bulk") == 0)
        pipe_bulk(bench_arg_u64(argc, argv, 2, "SIZE"),
                  bench_arg_u64(argc, argv, 3, "COUNT"));
    else if (strcmp(what, "value_incr") == 0)
        value_incr(bench_arg_u64(argc, argv, 2, "NPROC"),
                   bench_arg_u64(argc, argv, 3, "COUNT"));
    else if (strcmp(what, "spawn_join") == 0)
        spawn_join(strtoull(bench_arg_str(argc, argv, 2, "BALLAST_MIB"), NULL, 10),
                   bench_arg_u64(argc, argv, 3, "COUNT"));
    else
        bench_die("apr_peer: unknown workload '%s'", what);
    return 0;
}
