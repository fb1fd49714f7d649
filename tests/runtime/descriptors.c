/* runtime/descriptors.c - what a child holds of its parent's descriptors
 * (include/mproc/process.h, "Descriptors"): a spawned child exactly stdio
 * and what its arguments need, as CPython's spawn (close_fds, pass_fds);
 * a forked child everything, as os.fork. The parent holds one temporary
 * file open without O_CLOEXEC under many numbers: below the descriptors
 * mproc uses, among them, just above them (where a spawned child's passed
 * descriptors land) and far above. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif
#include "test.h"

#ifndef _WIN32
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_NUMBERS = 64, SCAN_LIMIT = 4096 };

typedef struct planted {
    int fds[MAX_NUMBERS];
    int n;
    int temp; /* the temporary file, without O_CLOEXEC */
    char path[64];
} planted;

/* The highest descriptor number this test looks at. */
static int scan_limit(void)
{
    long max = sysconf(_SC_OPEN_MAX);
    return max > 0 && max < SCAN_LIMIT ? (int)max : SCAN_LIMIT;
}

static int same_file(int fd, dev_t dev, ino_t ino)
{
    struct stat st;
    return fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

/* In the child: no descriptor is the parent's file, and every descriptor
 * above stdio is one mproc adopted (it marks them close-on-exec again, an
 * inherited stray is not). */
static int t_holds_only_its_own(const mp_args *args)
{
    int64_t dev, ino;
    MPT_CHILD_CHECK(mp_args_get_int(args, 2, &dev) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 3, &ino) == 0);
    MPT_CHILD_CHECK(mp_args_queue(args, 0) != NULL && mp_args_value(args, 1) != NULL);
    int limit = scan_limit(), open_above_stdio = 0;
    for (int fd = 3; fd < limit; fd++) {
        int fl = fcntl(fd, F_GETFD);
        if (fl < 0) continue;
        open_above_stdio++;
        if (same_file(fd, (dev_t)dev, (ino_t)ino)) {
            fprintf(stderr, "child: fd %d is the parent's file\n", fd);
            return 1;
        }
        if (!(fl & FD_CLOEXEC)) {
            fprintf(stderr, "child: fd %d was inherited, not passed\n", fd);
            return 1;
        }
    }
    /* The arguments did need some: a Queue and a Value. */
    MPT_CHILD_CHECK(open_above_stdio > 0);
    /* The arguments still work. */
    MPT_CHILD_CHECK(mp_value_set_int(mp_args_value(args, 1), 41) == 0);
    MPT_CHILD_CHECK(
        mp_queue_put_bytes(mp_args_queue(args, 0), "ok", 2, MPT_JOIN_TIMEOUT) == 0);
    return 0;
}

/* In a forked child: every planted number is still the parent's file. */
static int t_holds_all(const mp_args *args)
{
    int64_t dev, ino, n, fd;
    MPT_CHILD_CHECK(mp_args_get_int(args, 2, &dev) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 3, &ino) == 0);
    MPT_CHILD_CHECK(mp_args_get_int(args, 4, &n) == 0);
    for (int64_t i = 0; i < n; i++) {
        MPT_CHILD_CHECK(mp_args_get_int(args, (size_t)(5 + i), &fd) == 0);
        MPT_CHILD_CHECK(same_file((int)fd, (dev_t)dev, (ino_t)ino));
    }
    MPT_CHILD_CHECK(mp_value_set_int(mp_args_value(args, 1), 41) == 0);
    return 0;
}

static void plant(planted *p, int number)
{
    if (p->n >= MAX_NUMBERS || number >= scan_limit()) return;
    if (fcntl(number, F_GETFD) >= 0) return; /* taken: by mproc, or planted */
    CU_ASSERT_EQUAL_FATAL(dup2(p->temp, number), number);
    p->fds[p->n++] = number;
}

/* The temporary file under numbers below, among, just above and far
 * above the descriptors that q and v hold (low..high). */
static void plant_all(planted *p, int low, int high)
{
    snprintf(p->path, sizeof p->path, "/tmp/mpt-fds-XXXXXX");
    p->temp = mkstemp(p->path); /* mkstemp: no O_CLOEXEC */
    CU_ASSERT_FATAL(p->temp >= 0);
    p->n = 0;
    p->fds[p->n++] = p->temp;
    for (int fd = 3; fd < low; fd++)
        plant(p, fd);
    for (int fd = low; fd <= high; fd++)
        plant(p, fd);
    for (int fd = high + 1; fd <= high + 16; fd++)
        plant(p, fd);
    plant(p, scan_limit() - 1);
    CU_ASSERT_FATAL(p->n >= 10);
}

static void unplant(planted *p)
{
    for (int i = 0; i < p->n; i++)
        close(p->fds[i]);
    unlink(p->path);
}

/* The lowest and highest descriptor open now, above stdio. */
static void open_range(int *low, int *high)
{
    *low = -1;
    *high = -1;
    for (int fd = 3; fd < scan_limit(); fd++)
        if (fcntl(fd, F_GETFD) >= 0) {
            if (*low < 0) *low = fd;
            *high = fd;
        }
}

static void run(mp_start_method method)
{
    /* Free low numbers first, so some planted ones lie below mproc's. */
    int spare[4];
    for (int i = 0; i < 4; i++)
        spare[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    mp_queue *q;
    mp_value *v;
    MPT_OK(mp_queue_new(&q, 0));
    MPT_OK(mp_value_new(&v, 'q'));
    for (int i = 0; i < 4; i++)
        if (spare[i] >= 0) close(spare[i]);
    int low, high;
    open_range(&low, &high);
    planted p;
    plant_all(&p, low, high);
    struct stat st;
    CU_ASSERT_FATAL(fstat(p.temp, &st) == 0);

    if (method == MP_START_SPAWN) {
        CU_ASSERT_EQUAL_FATAL(
            mpt_run(t_holds_only_its_own,
                    mp_args_of(q, v, (int64_t)st.st_dev, (int64_t)st.st_ino), method),
            0);
        void *data = NULL;
        size_t len = 0;
        MPT_OK(mp_queue_get_bytes(q, &data, &len, MPT_JOIN_TIMEOUT));
        CU_ASSERT(len == 2 && memcmp(data, "ok", 2) == 0);
        mp_free(data);
    } else {
        mp_arg items[5 + MAX_NUMBERS];
        items[0] = mp_arg_queue(q);
        items[1] = mp_arg_value(v);
        items[2] = mp_arg_int((int64_t)st.st_dev);
        items[3] = mp_arg_int((int64_t)st.st_ino);
        items[4] = mp_arg_int(p.n);
        for (int i = 0; i < p.n; i++)
            items[5 + i] = mp_arg_int(p.fds[i]);
        CU_ASSERT_EQUAL(
            mpt_run(t_holds_all, mp_arglist_make(items, (size_t)(5 + p.n)), method), 0);
    }
    int64_t got = 0;
    MPT_OK(mp_value_get_int(v, &got));
    CU_ASSERT_EQUAL(got, 41);
    unplant(&p);
    mp_value_free(v);
    mp_queue_free(q);
}

static void spawn_child_gets_only_its_own(void)
{
    run(MP_START_SPAWN);
}

static void fork_child_inherits_all(void)
{
    run(MP_START_FORK);
}
#endif

void mpt_suite_runtime_descriptors(void)
{
    MPT_POSIX_ONLY("runtime/descriptors", "spawn_child_gets_only_its_own",
                   spawn_child_gets_only_its_own,
                   "a Windows child inherits only the handles in its spawn's "
                   "PROC_THREAD_ATTRIBUTE_HANDLE_LIST (src/win32/proc.c)");
    MPT_POSIX_ONLY("runtime/descriptors", "fork_child_inherits_all",
                   fork_child_inherits_all, MPT_NO_FORK);
}
