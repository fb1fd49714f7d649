/* raw_pipe.c - the raw limits for Pipes: plain write() and read() on a
 * socketpair or a pipe, with no framing and no library.
 *
 *     raw_pipe pingpong socket|pipe SIZE COUNT  ->  "<us per round trip> us"
 *     raw_pipe bulk socket|pipe SIZE COUNT      ->  "<GiB/s> GiB/s"
 *
 * pingpong: the parent writes SIZE bytes and reads SIZE bytes back from a
 * forked child that echoes them (a socketpair is one duplex channel; with
 * pipe, two pipes). It is the floor under pipe_pingpong: one write and
 * one read per hop, where a Connection also writes a 4-byte length and
 * reads it separately.
 *
 * bulk: a forked child writes COUNT blocks of SIZE bytes, the parent reads
 * each whole into one buffer; the clock runs from the start barrier until
 * the last byte is read, as in pipe_bulk. */
#include <sys/socket.h>

#include "raw_shm.h"

struct job {
    int rd, wr; /* the child's ends */
    shm_ctl *ctl;
    uint64_t size, count;
};

static void channel(int socket, int parent[2], int child[2])
{
    if (socket) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
            bench_die("socketpair: %s", strerror(errno));
        parent[0] = parent[1] = sv[0];
        child[0] = child[1] = sv[1];
    } else {
        int down[2], up[2]; /* parent -> child, child -> parent */
        if (pipe(down) != 0 || pipe(up) != 0) bench_die("pipe: %s", strerror(errno));
        parent[0] = up[0];
        parent[1] = down[1];
        child[0] = down[0];
        child[1] = up[1];
    }
}

static int echo(void *arg)
{
    struct job *j = arg;
    unsigned char *buf = bench_xmalloc(j->size);
    for (uint64_t i = 0; i < j->count; i++) {
        read_all(j->rd, buf, j->size);
        write_all(j->wr, buf, j->size);
    }
    return 0;
}

static double pingpong(int socket, uint64_t size, uint64_t count)
{
    int mine[2], theirs[2];
    channel(socket, mine, theirs);
    uint64_t warm = count / 10 < 200 ? count / 10 : 200;
    struct job j = {theirs[0], theirs[1], NULL, size, warm + count};
    pid_t pid = fork_worker(echo, &j);
    unsigned char *buf = bench_payload(size);
    uint64_t t0 = 0;
    for (uint64_t i = 0; i < warm + count; i++) {
        if (i == warm) t0 = bench_now_ns();
        bench_stamp_msg(buf, size, i);
        write_all(mine[1], buf, size);
        read_all(mine[0], buf, size);
    }
    uint64_t ns = bench_now_ns() - t0;
    wait_worker(pid);
    return (double)ns / 1e3 / (double)count;
}

static int sender(void *arg)
{
    struct job *j = arg;
    unsigned char *buf = bench_payload(j->size);
    shm_ctl_arrive(j->ctl);
    for (uint64_t i = 0; i < j->count; i++) {
        bench_stamp_msg(buf, j->size, i);
        write_all(j->wr, buf, j->size);
    }
    return 0;
}

static double bulk(int socket, uint64_t size, uint64_t count)
{
    int mine[2], theirs[2];
    channel(socket, mine, theirs);
    struct job j = {theirs[0], theirs[1], shm_ctl_new(), size, count};
    pid_t pid = fork_worker(sender, &j);
    unsigned char *buf = bench_xmalloc(size);
    uint64_t t0 = shm_ctl_start(j.ctl, 1);
    for (uint64_t i = 0; i < count; i++) {
        read_all(mine[0], buf, size);
        if (size >= 8 && bench_msg_seq(buf, size) != i) bench_die("raw_pipe: block lost");
    }
    uint64_t ns = bench_now_ns() - t0;
    wait_worker(pid);
    return bench_gib_per_s(size * count, ns);
}

int main(int argc, char **argv)
{
    const char *mode = bench_arg_str(argc, argv, 1, "pingpong|bulk");
    const char *how = bench_arg_str(argc, argv, 2, "socket|pipe");
    uint64_t size = bench_arg_u64(argc, argv, 3, "SIZE");
    uint64_t count = bench_arg_u64(argc, argv, 4, "COUNT");
    int socket = strcmp(how, "socket") == 0;
    if (!socket && strcmp(how, "pipe") != 0)
        bench_die("raw_pipe: transport is socket or pipe, not '%s'", how);
    if (strcmp(mode, "pingpong") == 0)
        bench_report(pingpong(socket, size, count), "us");
    else if (strcmp(mode, "bulk") == 0)
        bench_report(bulk(socket, size, count), "GiB/s");
    else
        bench_die("raw_pipe: mode is pingpong or bulk, not '%s'", mode);
    return 0;
}
