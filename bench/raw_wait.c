/* raw_wait.c - the raw limit for wait_100: poll(2) over IDLE + 1 pipes of
 * which one holds a byte, COUNT times, then a scan for the ready one (as
 * any caller of poll must make).
 *
 *     raw_wait IDLE COUNT    ->  "<ns per wait> ns/op" */
#include <poll.h>

#include "raw_shm.h"

int main(int argc, char **argv)
{
    uint64_t idle = bench_arg_u64(argc, argv, 1, "IDLE");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");
    size_t n = (size_t)idle + 1, hot = n / 2;
    struct pollfd *pfd = bench_xmalloc(n * sizeof *pfd);
    int *wr = bench_xmalloc(n * sizeof *wr);
    for (size_t i = 0; i < n; i++) {
        int fds[2];
        if (pipe(fds) != 0) bench_die("pipe: %s", strerror(errno));
        pfd[i].fd = fds[0];
        pfd[i].events = POLLIN;
        wr[i] = fds[1];
    }
    write_all(wr[hot], "x", 1);

    uint64_t t0 = 0;
    for (uint64_t i = 0, warm = count / 10 + 1; i < warm + count; i++) {
        if (i == warm) t0 = bench_now_ns();
        int k = poll(pfd, (nfds_t)n, -1);
        size_t seen = n;
        for (size_t j = 0; j < n; j++)
            if (pfd[j].revents) seen = j;
        if (k != 1 || seen != hot) bench_die("raw_wait: poll gave %d", k);
    }
    uint64_t ns = bench_now_ns() - t0;
    for (size_t i = 0; i < n; i++) {
        close(pfd[i].fd);
        close(wr[i]);
    }
    free(pfd);
    free(wr);
    bench_report((double)ns / (double)count, "ns/op");
    return 0;
}
