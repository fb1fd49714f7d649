/* raw_shm_named.c - the raw limit for shm_create_attach: the system calls
 * a named shared block cannot do without, and nothing else: shm_open with
 * O_CREAT | O_EXCL, ftruncate, mmap and a first write; shm_open, fstat,
 * mmap and a read to attach; munmap and close for each view; shm_unlink.
 *
 *     raw_shm_named SIZE COUNT    ->  "<blocks per second> msgs/s"
 *
 * The name is a counter, not drawn at random: that is the one call
 * (getrandom) mproc makes beyond these. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "raw_shm.h"

static void one(uint64_t size, uint64_t i)
{
    char name[32];
    snprintf(name, sizeof name, "/psm_raw%llx_%d", (unsigned long long)i, (int)getpid());
    int a = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (a < 0 || ftruncate(a, (off_t)size) != 0) bench_die("create: %s", strerror(errno));
    unsigned char *pa = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, a, 0);
    if (pa == MAP_FAILED) bench_die("mmap: %s", strerror(errno));
    pa[0] = 1;
    int b = shm_open(name, O_RDWR, 0);
    struct stat st;
    if (b < 0 || fstat(b, &st) != 0) bench_die("attach: %s", strerror(errno));
    unsigned char *pb =
        mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, b, 0);
    if (pb == MAP_FAILED || pb[0] != 1) bench_die("the views differ");
    munmap(pb, (size_t)st.st_size);
    close(b);
    munmap(pa, size);
    close(a);
    if (shm_unlink(name) != 0) bench_die("unlink: %s", strerror(errno));
}

int main(int argc, char **argv)
{
    uint64_t size = bench_arg_u64(argc, argv, 1, "SIZE");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");
    for (uint64_t i = 0; i < count / 10 + 1; i++)
        one(size, i);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < count; i++)
        one(size, i);
    bench_report(bench_per_s(count, bench_now_ns() - t0), "msgs/s");
    return 0;
}
