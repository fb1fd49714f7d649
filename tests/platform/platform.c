/* platform/platform.c - the OS layer (platform.h) on its own.
 *
 * On POSIX these tests use mp_os_fork directly, not mp_process, so they
 * check the layer without the core. Every forked child is waited for (the
 * leak suite counts children and fds). Children report through their exit
 * code: 0 is success, anything else names the check that failed. Nothing
 * relies on timing: handshakes go through shared words, deadlines are
 * generous, and the only time checks are lower bounds.
 *
 * The tests that need no child run on Windows too, through the handle
 * helpers below. Windows has no fork: there the cross-process tests are
 * spawned children (mp_process) that take raw handles out of the parent
 * (mpt_w32_steal), and test_platform_win32.c adds the Windows-only tests
 * (command-line quoting, the handle list, pipe-name collisions...). */
#ifndef _WIN32
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#endif

#include "base/error.h"
#include "core/runtime/boot.h"
#include "platform.h"
#include "test.h"

#ifdef _WIN32
void mpt_platform_win32_tests(void);
#endif

#define MS ((uint64_t)1000000)

/* ---- helpers -------------------------------------------------------------- */

static uint64_t in_s(double s)
{
    return mp_os_now_ns() + (uint64_t)(s * 1e9);
}

/* A second handle to what h refers to, not inherited (POSIX: close-on-
 * exec, as dup gives; Windows: DuplicateHandle without inheritance). */
static mp_os_handle dup_handle(mp_os_handle h)
{
#ifdef _WIN32
    HANDLE d = NULL;
    if (!DuplicateHandle(GetCurrentProcess(), (HANDLE)h, GetCurrentProcess(), &d, 0,
                         FALSE, DUPLICATE_SAME_ACCESS))
        return MP_OS_NO_HANDLE;
    return (mp_os_handle)d;
#else
    int fd = fcntl((int)h, F_DUPFD_CLOEXEC, 0);
    return fd < 0 ? MP_OS_NO_HANDLE : fd;
#endif
}

/* Whether h is open and will not reach a child by accident (POSIX:
 * FD_CLOEXEC; Windows: HANDLE_FLAG_INHERIT clear). */
static int not_inherited(mp_os_handle h)
{
#ifdef _WIN32
    DWORD flags = 0;
    return GetHandleInformation((HANDLE)h, &flags) && !(flags & HANDLE_FLAG_INHERIT);
#else
    int fl = fcntl((int)h, F_GETFD);
    return fl >= 0 && (fl & FD_CLOEXEC);
#endif
}

/* Whether h is closed. (Handle values are reused at once on Windows, so
 * only ask right after the call that should have closed it.) */
static int is_closed(mp_os_handle h)
{
#ifdef _WIN32
    DWORD flags = 0;
    return !GetHandleInformation((HANDLE)h, &flags);
#else
    return fcntl((int)h, F_GETFD) < 0 && errno == EBADF;
#endif
}

#ifndef _WIN32
/* Forks; returns 1 in the child. */
static int fork_child(mp_os_proc *p)
{
    int in_child = -1;
    MPT_OK(mp_os_fork(p, &in_child));
    CU_ASSERT(in_child == 0 || in_child == 1);
    return in_child;
}

/* Waits for a forked child and returns its exit code. */
static int join_child(mp_os_proc *p)
{
    MPT_OK(mp_os_proc_wait(p, in_s(MPT_JOIN_TIMEOUT)));
    CU_ASSERT_EQUAL(p->exited, 1);
    mp_os_proc_release(p);
    return p->exitcode;
}

/* Ends a forked child without running the parent's atexit handlers. */
static void child_exit(int code)
{
    mp_os_exit(code, 1);
}

#endif

/* ---- clock, identity, randomness ------------------------------------------ */

static void test_clock_and_sleep(void)
{
    uint64_t t0 = mp_os_now_ns();
    mp_os_sleep_ns(20 * MS);
    uint64_t t1 = mp_os_now_ns();
    CU_ASSERT(t1 >= t0 + 20 * MS);
#ifdef _WIN32
    CU_ASSERT_EQUAL(mp_os_getpid(), (uint32_t)GetCurrentProcessId());
#else
    CU_ASSERT_EQUAL(mp_os_getpid(), (uint32_t)getpid());
#endif
    CU_ASSERT(mp_os_getpid() != 0);
}

static void test_random(void)
{
    unsigned char a[32], b[32], zero[32] = {0};
    MPT_OK(mp_os_random(a, sizeof a));
    MPT_OK(mp_os_random(b, sizeof b));
    CU_ASSERT(memcmp(a, b, sizeof a) != 0);
    CU_ASSERT(memcmp(a, zero, sizeof a) != 0);
    /* More than one getrandom() call may be needed for a large buffer. */
    size_t big = 1 << 20;
    unsigned char *p = calloc(1, big);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    MPT_OK(mp_os_random(p, big));
    size_t zeros = 0;
    for (size_t i = 0; i < big; i++)
        zeros += p[i] == 0;
    CU_ASSERT(zeros < big / 128); /* ~big/256 expected */
    free(p);
}

/* ---- shared memory -------------------------------------------------------- */

#ifdef _WIN32
/* Spawned children of the Windows tests get raw handles through these:
 * argument 0 is the parent's pid, the handle values follow. */
static mp_os_handle steal_arg(const mp_args *args, size_t i)
{
    int64_t ppid = 0, v = 0;
    if (mp_args_get_int(args, 0, &ppid) || mp_args_get_int(args, i, &v))
        return MP_OS_NO_HANDLE;
    return mpt_w32_steal(ppid, v);
}

static int64_t int_arg(const mp_args *args, size_t i)
{
    int64_t v = -1;
    mp_args_get_int(args, i, &v);
    return v;
}

static int64_t me(void)
{
    return (int64_t)mp_os_getpid();
}

/* Runs target(args) in a spawned child and returns its exit code. */
static int spawn_run(mp_target target, mp_arglist args)
{
    return mpt_run(target, args, MP_START_SPAWN);
}

static int t_shm_write(const mp_args *args)
{
    mp_os_shm view;
    mp_os_handle h = steal_arg(args, 1);
    size_t size = (size_t)int_arg(args, 2);
    MPT_CHILD_CHECK(h != MP_OS_NO_HANDLE && mp_os_shm_attach(&view, h, size) == 0);
    unsigned char *b = view.base;
    b[0] = 0x11;
    b[size / 2] = 0x22;
    b[size - 1] = 0x33;
    mp_os_shm_close(&view);
    return 0;
}

/* The Windows form of shm_fork_write: a spawned child maps the section
 * from its own copy of the handle and writes through it. */
static void test_shm_spawn_write(void)
{
    mp_os_shm shm;
    size_t size = 4u << 20;
    MPT_OK(mp_os_shm_create(&shm, size));
    unsigned char *b = shm.base;
    CU_ASSERT_EQUAL(shm.size, size);
    CU_ASSERT(b[0] == 0 && b[size / 2] == 0 && b[size - 1] == 0);
    CU_ASSERT_EQUAL(
        spawn_run(t_shm_write, mp_args_of(me(), (int64_t)shm.handle, (int64_t)size)), 0);
    CU_ASSERT_EQUAL(b[0], 0x11);
    CU_ASSERT_EQUAL(b[size / 2], 0x22);
    CU_ASSERT_EQUAL(b[size - 1], 0x33);
    mp_os_shm_close(&shm);
    CU_ASSERT_PTR_NULL(shm.base);
    CU_ASSERT_EQUAL(shm.handle, MP_OS_NO_HANDLE);
}
#else
static void test_shm_fork_write(void)
{
    mp_os_shm shm;
    size_t size = 4u << 20;
    MPT_OK(mp_os_shm_create(&shm, size));
    unsigned char *b = shm.base;
    CU_ASSERT_EQUAL(shm.size, size);
    CU_ASSERT(shm.handle >= 0);
    CU_ASSERT(b[0] == 0 && b[size / 2] == 0 && b[size - 1] == 0);
    mp_os_proc p;
    if (fork_child(&p)) {
        b[0] = 0x11;
        b[size / 2] = 0x22;
        b[size - 1] = 0x33;
        child_exit(0);
    }
    CU_ASSERT_EQUAL(join_child(&p), 0);
    CU_ASSERT_EQUAL(b[0], 0x11);
    CU_ASSERT_EQUAL(b[size / 2], 0x22);
    CU_ASSERT_EQUAL(b[size - 1], 0x33);
    mp_os_shm_close(&shm);
    CU_ASSERT_PTR_NULL(shm.base);
    CU_ASSERT_EQUAL(shm.handle, MP_OS_NO_HANDLE);
}
#endif

/* A second mapping from a copy of the fd, as a spawned child makes it. */
static int attach_and_check(const mp_os_shm *orig)
{
    mp_os_handle h = dup_handle(orig->handle);
    if (h == MP_OS_NO_HANDLE) return 10;
    mp_os_shm view;
    if (mp_os_shm_attach(&view, h, orig->size) != 0) return 11;
    if (view.base == orig->base) return 12;
    unsigned char *a = orig->base, *v = view.base;
    v[100] = 0x5a;
    if (a[100] != 0x5a) return 13;
    a[200] = 0xa5;
    if (v[200] != 0xa5) return 14;
    if (v[300] != 0x77) return 15; /* written by the parent before */
    v[400] = 0x42;
    mp_os_shm_close(&view);
    return 0;
}

#ifdef _WIN32
/* The child maps the parent's section, then checks a second mapping of
 * it against the first. */
static int t_shm_attach(const mp_args *args)
{
    mp_os_shm view;
    mp_os_handle h = steal_arg(args, 1);
    MPT_CHILD_CHECK(h != MP_OS_NO_HANDLE &&
                    mp_os_shm_attach(&view, h, (size_t)int_arg(args, 2)) == 0);
    int rc = attach_and_check(&view);
    mp_os_shm_close(&view);
    return rc;
}
#endif

static void test_shm_attach_other_address(void)
{
    mp_os_shm shm;
    MPT_OK(mp_os_shm_create(&shm, 65536));
    unsigned char *a = shm.base;
    a[300] = 0x77;
    CU_ASSERT_EQUAL(attach_and_check(&shm), 0); /* in this process */
    a[400] = 0;
#ifdef _WIN32
    CU_ASSERT_EQUAL(
        spawn_run(t_shm_attach, mp_args_of(me(), (int64_t)shm.handle, (int64_t)shm.size)),
        0);
#else
    mp_os_proc p;
    if (fork_child(&p)) child_exit(attach_and_check(&shm));
    CU_ASSERT_EQUAL(join_child(&p), 0);
#endif
    CU_ASSERT_EQUAL(a[400], 0x42);
    mp_os_shm_close(&shm);
}

static void test_shm_errors(void)
{
    mp_os_shm shm, view;
    MPT_EQ(mp_os_shm_create(&shm, 0), MP_EINVAL);
    MPT_OK(mp_os_shm_create(&shm, 4096));
    /* Larger than the segment: refused (touching it would be SIGBUS, or
     * an access violation on Windows), and the handle is consumed all the
     * same. */
    mp_os_handle h = dup_handle(shm.handle);
    CU_ASSERT_FATAL(h != MP_OS_NO_HANDLE);
    MPT_EQ(mp_os_shm_attach(&view, h, 1 << 20), MP_EPROTO);
    CU_ASSERT(is_closed(h));
    CU_ASSERT_PTR_NULL(view.base);
    h = dup_handle(shm.handle);
    CU_ASSERT_FATAL(h != MP_OS_NO_HANDLE);
    MPT_EQ(mp_os_shm_attach(&view, h, 0), MP_EINVAL);
    CU_ASSERT(is_closed(h));
    MPT_EQ(mp_os_shm_attach(&view, MP_OS_NO_HANDLE, 4096), MP_EINVAL);
    mp_os_shm_close(&shm);
    mp_os_shm_close(&shm); /* closing twice is harmless */
}

/* ---- wait queues ---------------------------------------------------------- */

typedef struct {
    mp_atomic_u32 word;
    mp_atomic_u32 ready;
} wq_words;

static void test_wq_word_differs(void)
{
    mp_os_wq wq;
    mp_atomic_u32 word;
    MPT_OK(mp_os_wq_create(&wq));
    mp_store32(&word, 1, MP_SEQ_CST);
    MPT_OK(mp_os_wq_wait(&wq, &word, 0, MP_NO_DEADLINE));
    MPT_OK(mp_os_wq_wait(&wq, &word, 0, 0));
    mp_os_wq_close(&wq);
}

static void test_wq_past_deadline(void)
{
    mp_os_wq wq;
    mp_atomic_u32 word;
    MPT_OK(mp_os_wq_create(&wq));
    mp_store32(&word, 0, MP_SEQ_CST);
    MPT_EQ(mp_os_wq_wait(&wq, &word, 0, 0), MP_ETIMEDOUT);
    MPT_EQ(mp_os_wq_wait(&wq, &word, 0, mp_os_now_ns()), MP_ETIMEDOUT);
    mp_os_wq_close(&wq);
}

static void test_wq_timeout_lower_bound(void)
{
    mp_os_wq wq;
    mp_atomic_u32 word;
    MPT_OK(mp_os_wq_create(&wq));
    mp_store32(&word, 0, MP_SEQ_CST);
    uint64_t t0 = mp_os_now_ns(), deadline = t0 + 50 * MS;
    int rc = 0, rounds = 0;
    /* Spurious returns are allowed; timing out early is not. */
    while ((rc = mp_os_wq_wait(&wq, &word, 0, deadline)) == 0 && ++rounds < 10000) {
    }
    MPT_EQ(rc, MP_ETIMEDOUT);
    CU_ASSERT(mp_os_now_ns() - t0 >= 50 * MS);
    mp_os_wq_close(&wq);
}

#ifdef _WIN32
/* Rebuilds a wait queue from handles i .. i+n-1 of the arguments. */
static int adopt_arg(mp_os_wq *wq, const mp_args *args, size_t i, int n)
{
    mp_os_handle h[MP_OS_WQ_MAX_HANDLES];
    for (int k = 0; k < n; k++)
        if ((h[k] = steal_arg(args, i + (size_t)k)) == MP_OS_NO_HANDLE) return -1;
    return mp_os_wq_adopt(wq, h, n);
}

/* Arguments: ppid, segment, n, n handles of wq_word, n of wq_ready. */
static int t_wq_wait(const mp_args *args)
{
    mp_os_shm shm;
    mp_os_wq wq_word, wq_ready;
    int n = (int)int_arg(args, 2);
    mp_os_handle h = steal_arg(args, 1);
    MPT_CHILD_CHECK(h != MP_OS_NO_HANDLE && mp_os_shm_attach(&shm, h, 4096) == 0);
    MPT_CHILD_CHECK(adopt_arg(&wq_word, args, 3, n) == 0);
    MPT_CHILD_CHECK(adopt_arg(&wq_ready, args, 3 + (size_t)n, n) == 0);
    wq_words *w = shm.base;
    mp_store32(&w->ready, 1, MP_SEQ_CST);
    mp_os_wq_wake(&wq_ready, &w->ready, 1);
    while (mp_load32(&w->word, MP_SEQ_CST) == 0)
        MPT_CHILD_CHECK(mp_os_wq_wait(&wq_word, &w->word, 0, in_s(60)) == 0);
    MPT_CHILD_CHECK(mp_load32(&w->word, MP_SEQ_CST) == 7);
    mp_os_wq_close(&wq_word);
    mp_os_wq_close(&wq_ready);
    mp_os_shm_close(&shm);
    return 0;
}

/* The Windows form of wq_wake_forked_child: the child sleeps on its own
 * copies of the wait queues' handles. */
static void test_wq_wake_spawned_child(void)
{
    mp_os_shm shm;
    MPT_OK(mp_os_shm_create(&shm, 4096));
    wq_words *w = shm.base;
    mp_os_wq wq_word, wq_ready;
    MPT_OK(mp_os_wq_create(&wq_word));
    MPT_OK(mp_os_wq_create(&wq_ready));
    mp_os_handle hw[MP_OS_WQ_MAX_HANDLES], hr[MP_OS_WQ_MAX_HANDLES];
    int n = mp_os_wq_handles(&wq_word, hw);
    CU_ASSERT_FATAL(n >= 0 && mp_os_wq_handles(&wq_ready, hr) == n);
    mp_arg a[3 + 2 * MP_OS_WQ_MAX_HANDLES];
    a[0] = mp_arg(me());
    a[1] = mp_arg((int64_t)shm.handle);
    a[2] = mp_arg((int64_t)n);
    for (int k = 0; k < n; k++) {
        a[3 + k] = mp_arg((int64_t)hw[k]);
        a[3 + n + k] = mp_arg((int64_t)hr[k]);
    }
    mp_process *p =
        mpt_start(t_wq_wait, mp_arglist_make(a, 3 + 2 * (size_t)n), MP_START_SPAWN);
    while (mp_load32(&w->ready, MP_SEQ_CST) == 0)
        MPT_OK(mp_os_wq_wait(&wq_ready, &w->ready, 0, in_s(60)));
    /* Likely (not necessarily) asleep by now; either way must work. */
    mp_os_sleep_ns(20 * MS);
    mp_store32(&w->word, 7, MP_SEQ_CST);
    mp_os_wq_wake(&wq_word, &w->word, 1);
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    mp_os_wq_close(&wq_word);
    mp_os_wq_close(&wq_ready);
    mp_os_shm_close(&shm);
}
#else
static void test_wq_wake_forked_child(void)
{
    mp_os_shm shm;
    MPT_OK(mp_os_shm_create(&shm, 4096));
    wq_words *w = shm.base;
    mp_os_wq wq_word, wq_ready;
    MPT_OK(mp_os_wq_create(&wq_word));
    MPT_OK(mp_os_wq_create(&wq_ready));
    mp_os_proc p;
    if (fork_child(&p)) {
        mp_store32(&w->ready, 1, MP_SEQ_CST);
        mp_os_wq_wake(&wq_ready, &w->ready, 1);
        while (mp_load32(&w->word, MP_SEQ_CST) == 0)
            if (mp_os_wq_wait(&wq_word, &w->word, 0, in_s(60)) != 0) child_exit(2);
        child_exit(mp_load32(&w->word, MP_SEQ_CST) == 7 ? 0 : 3);
    }
    while (mp_load32(&w->ready, MP_SEQ_CST) == 0)
        MPT_OK(mp_os_wq_wait(&wq_ready, &w->ready, 0, in_s(60)));
    /* Likely (not necessarily) asleep by now; either way must work. */
    mp_os_sleep_ns(20 * MS);
    mp_store32(&w->word, 7, MP_SEQ_CST);
    mp_os_wq_wake(&wq_word, &w->word, 1);
    CU_ASSERT_EQUAL(join_child(&p), 0);
    mp_os_wq_close(&wq_word);
    mp_os_wq_close(&wq_ready);
    mp_os_shm_close(&shm);
}
#endif

typedef struct {
    mp_os_wq *wq;
    mp_atomic_u32 *word;
    mp_atomic_u32 *woken;
    int rc;
} waiter_arg;

static void waiter(void *arg)
{
    waiter_arg *a = arg;
    a->rc = 0;
    while (a->rc == 0 && mp_load32(a->word, MP_SEQ_CST) == 0)
        a->rc = mp_os_wq_wait(a->wq, a->word, 0, in_s(60));
    mp_add32(a->woken, 1, MP_SEQ_CST);
}

/* A queue rebuilt from its handles (as in a spawned child) shares the
 * sleeping place with the original; and wrong handle counts are refused,
 * with the handles consumed. */
static void test_wq_adopt(void)
{
    mp_os_wq wq, copy;
    MPT_OK(mp_os_wq_create(&wq));
    mp_os_handle hs[MP_OS_WQ_MAX_HANDLES], dups[MP_OS_WQ_MAX_HANDLES];
    int n = mp_os_wq_handles(&wq, hs);
    CU_ASSERT_FATAL(n >= 0 && n <= MP_OS_WQ_MAX_HANDLES);
    for (int i = 0; i < n; i++) {
        CU_ASSERT(not_inherited(hs[i]));
        dups[i] = dup_handle(hs[i]);
        CU_ASSERT_FATAL(dups[i] != MP_OS_NO_HANDLE);
    }
    MPT_OK(mp_os_wq_adopt(&copy, dups, n));
    mp_atomic_u32 word, woken;
    mp_store32(&word, 0, MP_SEQ_CST);
    mp_store32(&woken, 0, MP_SEQ_CST);
    waiter_arg a = {&copy, &word, &woken, -99};
    mp_os_thread *t;
    MPT_OK(mp_os_thread_start(&t, waiter, &a));
    mp_os_sleep_ns(10 * MS);
    mp_store32(&word, 1, MP_SEQ_CST);
    mp_os_wq_wake(&wq, &word, 1);
    MPT_OK(mp_os_thread_join(t));
    CU_ASSERT_EQUAL(a.rc, 0);
    CU_ASSERT_EQUAL(mp_load32(&woken, MP_SEQ_CST), 1);
    mp_os_wq_close(&copy);
    mp_os_wq_close(&wq);

    /* One handle more than the queue has: refused, every one closed. */
    mp_os_handle pipe_h[2], wrong[MP_OS_WQ_MAX_HANDLES + 1];
    MPT_OK(mp_os_pipe(0, pipe_h));
    for (int i = 0; i <= n; i++) {
        wrong[i] = dup_handle(pipe_h[0]);
        CU_ASSERT_FATAL(wrong[i] != MP_OS_NO_HANDLE);
    }
    CU_ASSERT(mp_os_wq_adopt(&copy, wrong, n + 1) < 0);
    for (int i = 0; i <= n; i++)
        CU_ASSERT(is_closed(wrong[i]));
    mp_os_close(pipe_h[0]);
    mp_os_close(pipe_h[1]);
}

static void test_wq_wake_many_threads(void)
{
    enum { N = 3 };
    mp_os_wq wq;
    MPT_OK(mp_os_wq_create(&wq));
    mp_atomic_u32 word, woken;
    mp_store32(&word, 0, MP_SEQ_CST);
    mp_store32(&woken, 0, MP_SEQ_CST);
    waiter_arg a[N];
    mp_os_thread *t[N];
    for (int i = 0; i < N; i++) {
        a[i] = (waiter_arg){&wq, &word, &woken, -99};
        MPT_OK(mp_os_thread_start(&t[i], waiter, &a[i]));
    }
    mp_os_sleep_ns(10 * MS);
    mp_store32(&word, 1, MP_SEQ_CST);
    mp_os_wq_wake(&wq, &word, N);
    for (int i = 0; i < N; i++) {
        MPT_OK(mp_os_thread_join(t[i]));
        CU_ASSERT_EQUAL(a[i].rc, 0);
    }
    CU_ASSERT_EQUAL(mp_load32(&woken, MP_SEQ_CST), N);
    mp_os_wq_close(&wq);
}

/* ---- threads, mutex, condition variable ----------------------------------- */

typedef struct {
    mp_os_mutex *m;
    mp_os_cond *c;
    long counter;
    int go;
} shared_state;

static void counter_thread(void *arg)
{
    shared_state *s = arg;
    mp_os_mutex_lock(s->m);
    while (!s->go)
        mp_os_cond_wait(s->c, s->m);
    mp_os_mutex_unlock(s->m);
    for (int i = 0; i < 20000; i++) {
        mp_os_mutex_lock(s->m);
        s->counter++;
        mp_os_mutex_unlock(s->m);
    }
}

static void test_threads_mutex_cond(void)
{
    shared_state s = {NULL, NULL, 0, 0};
    MPT_OK(mp_os_mutex_new(&s.m));
    MPT_OK(mp_os_cond_new(&s.c));
    mp_os_thread *t[2];
    for (int i = 0; i < 2; i++)
        MPT_OK(mp_os_thread_start(&t[i], counter_thread, &s));
    mp_os_mutex_lock(s.m);
    s.go = 1;
    mp_os_cond_broadcast(s.c);
    mp_os_mutex_unlock(s.m);
    for (int i = 0; i < 2; i++)
        MPT_OK(mp_os_thread_join(t[i]));
    CU_ASSERT_EQUAL(s.counter, 40000);
    mp_os_cond_free(s.c);
    mp_os_mutex_free(s.m);
}

/* ---- processes ------------------------------------------------------------ */

#ifdef _WIN32
static int t_exit7(const mp_args *args)
{
    (void)args;
    return 7;
}

/* Windows: a child that exited, its handle still held by the parent
 * (joined, not closed: OpenProcess on its pid still succeeds, the
 * analogue of a zombie) and then released; and a pid that is no process. */
static void test_pid_alive_child(void)
{
    CU_ASSERT_EQUAL(mp_os_pid_alive(mp_os_getpid()), 1);
    CU_ASSERT_EQUAL(mp_os_pid_alive(0), 0); /* the idle process: "free" to the lock */
    mp_process *p = mpt_start(t_exit7, MP_NO_ARGS, MP_START_SPAWN);
    uint32_t pid = (uint32_t)mp_process_pid(p);
    MPT_OK(mp_process_join(p, MPT_JOIN_TIMEOUT));
    CU_ASSERT_EQUAL(mp_os_pid_alive(pid), 0);
    MPT_OK(mp_process_free(p));
    CU_ASSERT_EQUAL(mp_os_pid_alive(pid), 0);
    CU_ASSERT_EQUAL(mp_os_pid_alive(0xfffffffcu), 0);
}
#else
static void test_pid_alive_self_and_reaped(void)
{
    CU_ASSERT_EQUAL(mp_os_pid_alive(mp_os_getpid()), 1);
    CU_ASSERT_EQUAL(mp_os_pid_alive(0), 0);
    CU_ASSERT_EQUAL(mp_os_pid_alive(1), 1); /* init: exists, maybe EPERM */
    mp_os_proc p;
    if (fork_child(&p)) child_exit(0);
    uint32_t pid = (uint32_t)p.pid;
    CU_ASSERT_EQUAL(join_child(&p), 0);
    CU_ASSERT_EQUAL(mp_os_pid_alive(pid), 0);
}

static void test_pid_alive_zombie(void)
{
    mp_os_proc p;
    if (fork_child(&p)) child_exit(0);
    /* Wait until it is a zombie, without reaping it. */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    while (waitid(P_PID, (id_t)p.pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
    }
    CU_ASSERT_EQUAL(si.si_pid, (pid_t)p.pid);
    CU_ASSERT_EQUAL(kill((pid_t)p.pid, 0), 0); /* kill() still reaches it */
    CU_ASSERT_EQUAL(mp_os_pid_alive((uint32_t)p.pid), 0);
    CU_ASSERT_EQUAL(join_child(&p), 0);
}

/* A child that blocks reading h until the parent writes a byte, then
 * exits 3 (or 4 if it read end of file). */
static void start_blocked_child(mp_os_proc *p, mp_os_handle h[2])
{
    MPT_OK(mp_os_pipe(0, h));
    if (fork_child(p)) {
        mp_os_close(h[1]);
        char c;
        size_t got = 0;
        if (mp_os_read(h[0], &c, 1, &got) != 0) child_exit(5);
        child_exit(got == 1 ? 3 : 4);
    }
    mp_os_close(h[0]);
}

static void test_proc_wait_deadline(void)
{
    mp_os_proc p;
    mp_os_handle h[2];
    start_blocked_child(&p, h);
    CU_ASSERT(not_inherited(p.sentinel));
    MPT_EQ(mp_os_proc_wait(&p, 0), MP_ETIMEDOUT);
    CU_ASSERT_EQUAL(p.exited, 0);
    uint64_t t0 = mp_os_now_ns();
    MPT_EQ(mp_os_proc_wait(&p, t0 + 30 * MS), MP_ETIMEDOUT);
    CU_ASSERT(mp_os_now_ns() - t0 >= 30 * MS);
    CU_ASSERT_EQUAL(mp_os_pid_alive((uint32_t)p.pid), 1);
    MPT_OK(mp_os_write_all(h[1], "x", 1));
    CU_ASSERT_EQUAL(join_child(&p), 3);
    /* Waiting again answers at once from what is recorded. */
    MPT_OK(mp_os_proc_wait(&p, 0));
    CU_ASSERT_EQUAL(p.exitcode, 3);
    mp_os_close(h[1]);
}

static void test_exit_code(void)
{
    mp_os_proc p;
    if (fork_child(&p)) child_exit(7);
    CU_ASSERT_EQUAL(join_child(&p), 7);
    if (fork_child(&p)) _exit(255);
    CU_ASSERT_EQUAL(join_child(&p), 255);
}

static void test_kill_and_terminate(void)
{
    mp_os_proc p;
    mp_os_handle h[2];
    start_blocked_child(&p, h);
    MPT_OK(mp_os_proc_signal(&p, 1));
    CU_ASSERT_EQUAL(join_child(&p), -SIGKILL);
    MPT_OK(mp_os_proc_signal(&p, 1)); /* already ended: still 0 */
    mp_os_close(h[1]);

    start_blocked_child(&p, h);
    MPT_OK(mp_os_proc_signal(&p, 0));
    CU_ASSERT_EQUAL(join_child(&p), -SIGTERM);
    mp_os_close(h[1]);
}

/* The fork child closes its inherited copy of the parent's fds like any
 * other; its exit still ends the wait even while a grandchild that holds
 * the child's sentinel lives on. */
static void test_wait_with_grandchild(void)
{
    mp_os_handle h[2];
    MPT_OK(mp_os_pipe(0, h));
    mp_os_proc p;
    if (fork_child(&p)) {
        /* A plain fork: the grandchild keeps the sentinel's write end. */
        pid_t g = fork();
        if (g == 0) {
            char c;
            size_t got;
            mp_os_close(h[1]);
            mp_os_read(h[0], &c, 1, &got);
            _exit(0);
        }
        child_exit(g > 0 ? 6 : 1);
    }
    mp_os_close(h[0]);
    CU_ASSERT_EQUAL(join_child(&p), 6);
    mp_os_close(h[1]); /* the grandchild, reparented to init, ends now */
}

/* The child half of spawn, fed a segment laid out as core's boot.c writes
 * it: u32 magic | u32 n | u64 bloblen | u64 own (all ones: none) |
 * n x u64 handle | blob. */
static int make_boot(mp_os_shm *seg, uint32_t magic, uint32_t n, int32_t fd,
                     uint64_t bloblen, const char *blob)
{
    if (mp_os_shm_create(seg, 24 + 8 * (size_t)n + strlen(blob)) != 0) return -1;
    unsigned char *b = seg->base;
    uint64_t own = UINT64_MAX, h = (uint64_t)(int64_t)fd;
    memcpy(b, &magic, 4);
    memcpy(b + 4, &n, 4);
    memcpy(b + 8, &bloblen, 8);
    memcpy(b + 16, &own, 8);
    for (uint32_t i = 0; i < n; i++)
        memcpy(b + 24 + 8 * i, &h, 8);
    memcpy(b + 24 + 8 * n, blob, strlen(blob));
    return (int)seg->handle;
}

static int boot(int segfd, void **blob, size_t *len, mp_os_handle **hs, size_t *n)
{
    char marker[64];
    snprintf(marker, sizeof marker, "--mproc-child=%d", segfd);
    char *argv[] = {"prog", marker, NULL};
    return mp__boot_child(2, argv, blob, len, hs, n);
}

static void test_child_boot(void)
{
    void *blob;
    size_t len, n;
    mp_os_handle *hs;
    char *plain[] = {"prog", "--other", NULL};
    CU_ASSERT_EQUAL(mp__boot_child(1, plain, &blob, &len, &hs, &n), 0);
    CU_ASSERT_EQUAL(mp__boot_child(2, plain, &blob, &len, &hs, &n), 0);
    char *bad[][3] = {{"prog", "--mproc-child=", NULL},
                      {"prog", "--mproc-child=12x", NULL},
                      {"prog", "--mproc-child=-1", NULL},
                      {"prog", "--mproc-child=99999999999", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        MPT_EQ(mp__boot_child(2, bad[i], &blob, &len, &hs, &n), MP_EPROTO);

    /* A good segment: the blob and the handle come out, the handle is
     * close-on-exec again, the segment's fd is closed. */
    int fd = dup(1);
    CU_ASSERT_FATAL(fd >= 0);
    mp_os_shm seg;
    int segfd = make_boot(&seg, 0x3153504du, 1, fd, 5, "hello");
    CU_ASSERT_FATAL(segfd >= 0);
    CU_ASSERT_EQUAL(boot(segfd, &blob, &len, &hs, &n), 1);
    CU_ASSERT(is_closed(segfd));
    seg.handle = MP_OS_NO_HANDLE;
    mp_os_shm_close(&seg);
    CU_ASSERT_EQUAL_FATAL(len, 5);
    CU_ASSERT(memcmp(blob, "hello", 5) == 0);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(hs[0], fd);
    CU_ASSERT(not_inherited(fd));
    free(blob);
    free(hs);

    /* Corrupt segments: refused, never read past the end. */
    struct {
        uint32_t magic, n;
        uint64_t bloblen;
        int32_t fd;
    } corrupt[] = {{0x12345678u, 1, 5, fd},
                   {0x3153504du, 1000, 5, fd},
                   {0x3153504du, 1, 6, fd},
                   {0x3153504du, 1, UINT64_MAX, fd},
                   {0x3153504du, 1, 5, 9999}};
    for (size_t i = 0; i < sizeof corrupt / sizeof corrupt[0]; i++) {
        segfd = make_boot(&seg, corrupt[i].magic, 1, corrupt[i].fd, corrupt[i].bloblen,
                          "hello");
        CU_ASSERT_FATAL(segfd >= 0);
        if (corrupt[i].n != 1) memcpy((char *)seg.base + 4, &corrupt[i].n, 4);
        MPT_EQ(boot(segfd, &blob, &len, &hs, &n), MP_EPROTO);
        CU_ASSERT(is_closed(segfd));
        seg.handle = MP_OS_NO_HANDLE;
        mp_os_shm_close(&seg);
    }
    close(fd);
}

#endif /* the fork-based process tests */

/* ---- pipes ---------------------------------------------------------------- */

typedef struct {
    mp_os_handle h;
    const unsigned char *buf;
    size_t n;
    int rc;
} writer_arg;

static void writer(void *arg)
{
    writer_arg *a = arg;
    a->rc = mp_os_write_all(a->h, a->buf, a->n);
}

/* Sends n bytes through (w -> r) from a thread, so more than a pipe
 * buffer can go through, and checks they arrive whole and in order. */
static void roundtrip(mp_os_handle w, mp_os_handle r, size_t n)
{
    unsigned char *src = malloc(n), *dst = malloc(n);
    CU_ASSERT_FATAL(src && dst);
    for (size_t i = 0; i < n; i++)
        src[i] = (unsigned char)(i * 7 + (i >> 12));
    writer_arg a = {w, src, n, -99};
    mp_os_thread *t;
    MPT_OK(mp_os_thread_start(&t, writer, &a));
    size_t have = 0;
    while (have < n) {
        size_t got = 0;
        MPT_OK(mp_os_read(r, dst + have, n - have, &got));
        CU_ASSERT_FATAL(got > 0);
        have += got;
    }
    MPT_OK(mp_os_thread_join(t));
    MPT_OK(a.rc);
    CU_ASSERT(memcmp(src, dst, n) == 0);
    free(src);
    free(dst);
}

static void test_pipe_roundtrip(void)
{
    mp_os_handle h[2];
    MPT_OK(mp_os_pipe(0, h));
    roundtrip(h[1], h[0], 5);
    roundtrip(h[1], h[0], 3u << 20);
    mp_os_close(h[0]);
    mp_os_close(h[1]);
    MPT_OK(mp_os_pipe(1, h));
    roundtrip(h[0], h[1], 3u << 20);
    roundtrip(h[1], h[0], 3u << 20);
    mp_os_close(h[0]);
    mp_os_close(h[1]);
}

#ifdef _WIN32
/* Arguments: ppid, the parent's handle value of the child's end. */
static int t_ping(const mp_args *args)
{
    mp_os_handle h = steal_arg(args, 1);
    char buf[16];
    size_t got = 0;
    MPT_CHILD_CHECK(h != MP_OS_NO_HANDLE);
    MPT_CHILD_CHECK(mp_os_write_all(h, "ping", 4) == 0);
    MPT_CHILD_CHECK(mp_os_read(h, buf, sizeof buf, &got) == 0 && got == 4);
    MPT_CHILD_CHECK(memcmp(buf, "pong", 4) == 0);
    mp_os_close(h);
    return 0;
}

/* The Windows form of pipe_across_fork: the spawned child takes its own
 * copy of one end; the parent closes its copy once the child is started. */
static void test_pipe_across_spawn(void)
{
    mp_os_handle h[2];
    MPT_OK(mp_os_pipe(1, h));
    mp_process *p = mpt_start(t_ping, mp_args_of(me(), (int64_t)h[1]), MP_START_SPAWN);
    char buf[4];
    size_t have = 0, got = 0;
    while (have < 4) {
        MPT_OK(mp_os_read(h[0], buf + have, 4 - have, &got));
        CU_ASSERT_FATAL(got > 0);
        have += got;
    }
    /* The child has its copy (it wrote): the parent's may go. */
    mp_os_close(h[1]);
    CU_ASSERT(memcmp(buf, "ping", 4) == 0);
    MPT_OK(mp_os_write_all(h[0], "pong", 4));
    CU_ASSERT_EQUAL(mpt_join(p), 0);
    /* The child's end is gone now: end of file. */
    MPT_OK(mp_os_read(h[0], buf, sizeof buf, &got));
    CU_ASSERT_EQUAL(got, 0);
    mp_os_close(h[0]);
}
#else
/* A pipe between processes: the child writes, the parent reads. */
static void test_pipe_across_fork(void)
{
    mp_os_handle h[2];
    MPT_OK(mp_os_pipe(1, h));
    mp_os_proc p;
    if (fork_child(&p)) {
        mp_os_close(h[0]);
        char buf[16];
        size_t got = 0;
        if (mp_os_write_all(h[1], "ping", 4) != 0) child_exit(1);
        if (mp_os_read(h[1], buf, sizeof buf, &got) != 0 || got != 4) child_exit(2);
        child_exit(memcmp(buf, "pong", 4) == 0 ? 0 : 3);
    }
    mp_os_close(h[1]);
    char buf[4];
    size_t have = 0, got = 0;
    while (have < 4) {
        MPT_OK(mp_os_read(h[0], buf + have, 4 - have, &got));
        CU_ASSERT_FATAL(got > 0);
        have += got;
    }
    CU_ASSERT(memcmp(buf, "ping", 4) == 0);
    MPT_OK(mp_os_write_all(h[0], "pong", 4));
    CU_ASSERT_EQUAL(join_child(&p), 0);
    /* The child's end is gone now: end of file. */
    MPT_OK(mp_os_read(h[0], buf, sizeof buf, &got));
    CU_ASSERT_EQUAL(got, 0);
    mp_os_close(h[0]);
}

static int sigpipe_pending(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigpending(&s);
    return sigismember(&s, SIGPIPE) == 1;
}

static int sigpipe_blocked(void)
{
    sigset_t s;
    sigemptyset(&s);
    pthread_sigmask(SIG_BLOCK, NULL, &s);
    return sigismember(&s, SIGPIPE) == 1;
}

#endif

/* SIGPIPE has its default action here: if it were raised and delivered,
 * the test binary would die. Windows has no SIGPIPE: there a write whose
 * reader has gone fails (ERROR_NO_DATA, ERROR_BROKEN_PIPE), and only the
 * MP_ECLOSED part applies. */
static void closed_reader(int duplex)
{
    mp_os_handle h[2];
    static unsigned char big[256 * 1024];
    MPT_OK(mp_os_pipe(duplex, h));
    mp_os_close(h[0]);
#ifdef _WIN32
    MPT_EQ(mp_os_write_all(h[1], "x", 1), MP_ECLOSED);
    MPT_EQ(mp_os_write_all(h[1], big, sizeof big), MP_ECLOSED);
#else
    CU_ASSERT(!sigpipe_blocked());
    MPT_EQ(mp_os_write_all(h[1], "x", 1), MP_ECLOSED);
    MPT_EQ(mp_os_write_all(h[1], big, sizeof big), MP_ECLOSED);
    CU_ASSERT(!sigpipe_pending());
    CU_ASSERT(!sigpipe_blocked());

    /* A SIGPIPE that was pending before belongs to the caller: kept. */
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    pthread_kill(pthread_self(), SIGPIPE);
    CU_ASSERT(sigpipe_pending());
    MPT_EQ(mp_os_write_all(h[1], "x", 1), MP_ECLOSED);
    CU_ASSERT(sigpipe_pending());
    CU_ASSERT(sigpipe_blocked());
#ifdef __APPLE__
    int sig = 0; /* no sigtimedwait there; the signal is pending */
    CU_ASSERT_EQUAL(sigwait(&pipe_set, &sig), 0);
    CU_ASSERT_EQUAL(sig, SIGPIPE);
#else
    struct timespec zero = {0, 0};
    CU_ASSERT_EQUAL(sigtimedwait(&pipe_set, NULL, &zero), SIGPIPE);
#endif
    CU_ASSERT(!sigpipe_pending());
    pthread_sigmask(SIG_SETMASK, &old, NULL);
#endif
    mp_os_close(h[1]);
}

static void test_write_closed_pipe(void)
{
    closed_reader(0);
}

static void test_write_closed_socket(void)
{
    closed_reader(1);
}

static void test_read_eof(void)
{
    for (int duplex = 0; duplex <= 1; duplex++) {
        mp_os_handle h[2];
        char buf[8];
        size_t got = 99;
        MPT_OK(mp_os_pipe(duplex, h));
        MPT_OK(mp_os_write_all(h[1], "ab", 2));
        mp_os_close(h[1]);
        MPT_OK(mp_os_read(h[0], buf, sizeof buf, &got));
        CU_ASSERT_EQUAL(got, 2);
        MPT_OK(mp_os_read(h[0], buf, sizeof buf, &got));
        CU_ASSERT_EQUAL(got, 0);
        mp_os_close(h[0]);
    }
    /* A socket peer that closed with our data unread: ECONNRESET, read as
     * end of file. */
    mp_os_handle h[2];
    char buf[8];
    size_t got = 99;
    MPT_OK(mp_os_pipe(1, h));
    MPT_OK(mp_os_write_all(h[0], "unread", 6));
    mp_os_close(h[1]);
    MPT_OK(mp_os_read(h[0], buf, sizeof buf, &got));
    CU_ASSERT_EQUAL(got, 0);
    mp_os_close(h[0]);
    MPT_EQ(mp_os_read(MP_OS_NO_HANDLE, buf, sizeof buf, &got), MP_EINVAL);
}

static void test_poll(void)
{
    mp_os_handle h[2];
    MPT_OK(mp_os_pipe(0, h));
    CU_ASSERT_EQUAL(mp_os_poll_readable(h[0], 0), 0);
    uint64_t t0 = mp_os_now_ns();
    CU_ASSERT_EQUAL(mp_os_poll_readable(h[0], t0 + 30 * MS), 0);
    CU_ASSERT(mp_os_now_ns() - t0 >= 30 * MS);
    MPT_OK(mp_os_write_all(h[1], "z", 1));
    CU_ASSERT_EQUAL(mp_os_poll_readable(h[0], 0), 1);
    CU_ASSERT_EQUAL(mp_os_poll_readable(h[0], MP_NO_DEADLINE), 1);
    char c;
    size_t got;
    MPT_OK(mp_os_read(h[0], &c, 1, &got));
    CU_ASSERT_EQUAL(mp_os_poll_readable(h[0], 0), 0);
    mp_os_close(h[1]);
    /* End of file counts as readable: a read will not block. */
    CU_ASSERT_EQUAL(mp_os_poll_readable(h[0], MP_NO_DEADLINE), 1);
    mp_os_handle closed = h[0];
    mp_os_close(h[0]);
    CU_ASSERT(mp_os_poll_readable(closed, 0) < 0);
}

static void test_cloexec(void)
{
    mp_os_handle h[2], s[2];
    MPT_OK(mp_os_pipe(0, h));
    MPT_OK(mp_os_pipe(1, s));
    CU_ASSERT(not_inherited(h[0]) && not_inherited(h[1]));
    CU_ASSERT(not_inherited(s[0]) && not_inherited(s[1]));
    mp_os_shm shm;
    MPT_OK(mp_os_shm_create(&shm, 100));
    CU_ASSERT(not_inherited(shm.handle));
    mp_os_wq wq;
    MPT_OK(mp_os_wq_create(&wq));
    mp_os_handle wh[MP_OS_WQ_MAX_HANDLES];
    int n = mp_os_wq_handles(&wq, wh);
    for (int i = 0; i < n; i++)
        CU_ASSERT(not_inherited(wh[i]));
    mp_os_wq_close(&wq);
    mp_os_shm_close(&shm);
    mp_os_close(h[0]);
    mp_os_close(h[1]);
    mp_os_close(s[0]);
    mp_os_close(s[1]);
    mp_os_close(MP_OS_NO_HANDLE); /* ignored */
}

/* ---- locating functions --------------------------------------------------- */

static int forty_two(void)
{
    return 42;
}

static int data_object = 1;

#ifdef _WIN32
/* Resolves offset 0 of the arguments in the exe and calls it. */
static int t_fnloc(const mp_args *args)
{
    mp_os_fnloc loc;
    memset(&loc, 0, sizeof loc);
    loc.offset = (uint64_t)int_arg(args, 0);
    void (*g)(void) = NULL;
    MPT_CHILD_CHECK(mp_os_fn_resolve(&loc, &g) == 0);
    MPT_CHILD_CHECK(((int (*)(void))g)() == 42);
    return 0;
}
#endif

static void test_fnloc_static(void)
{
    mp_os_fnloc loc;
    MPT_OK(mp_os_fn_locate((void (*)(void))forty_two, &loc));
    CU_ASSERT_STRING_EQUAL(loc.module, "");
    void (*fn)(void) = NULL;
    MPT_OK(mp_os_fn_resolve(&loc, &fn));
    CU_ASSERT(fn == (void (*)(void))forty_two);
    CU_ASSERT_EQUAL(((int (*)(void))fn)(), 42);
#ifdef _WIN32
    /* The same location found in a spawned child (a new process: on
     * Windows the exe may load elsewhere, though Wine never moves it). */
    CU_ASSERT_EQUAL(spawn_run(t_fnloc, mp_args_of((int64_t)loc.offset)), 0);
#else
    /* The same location found in a forked child. */
    mp_os_proc p;
    if (fork_child(&p)) {
        void (*g)(void) = NULL;
        if (mp_os_fn_resolve(&loc, &g) != 0) child_exit(1);
        child_exit(((int (*)(void))g)() == 42 ? 0 : 2);
    }
    CU_ASSERT_EQUAL(join_child(&p), 0);
#endif
}

static void test_fnloc_shared_library(void)
{
    mp_os_fnloc loc;
#ifdef _WIN32
    /* kernel32's GetTickCount: a DLL every process has loaded. */
    void (*want)(void) =
        (void (*)(void))GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "GetTickCount");
    CU_ASSERT_PTR_NOT_NULL_FATAL(want);
    MPT_OK(mp_os_fn_locate(want, &loc));
    CU_ASSERT(loc.module[0] != '\0');
#else
    /* getppid: in libc, and not one that sanitizer runtimes intercept. */
    void (*want)(void) = (void (*)(void))getppid;
    MPT_OK(mp_os_fn_locate(want, &loc));
#endif
#ifdef __PIE__
    /* (A non-PIE program may own a libc function's canonical address, its PLT slot.) */
    CU_ASSERT(loc.module[0] != '\0');
#endif
    void (*fn)(void) = NULL;
    MPT_OK(mp_os_fn_resolve(&loc, &fn));
    CU_ASSERT(fn == want);
}

static void test_fnloc_errors(void)
{
    mp_os_fnloc loc, bad;
    void (*fn)(void) = (void (*)(void))1;
    MPT_OK(mp_os_fn_locate((void (*)(void))forty_two, &loc));
    bad = loc;
    snprintf(bad.module, sizeof bad.module, "/no/such/libmproc-test.so");
    MPT_EQ(mp_os_fn_resolve(&bad, &fn), MP_EPROTO);
    CU_ASSERT_PTR_NULL(fn);
    bad = loc;
    bad.offset = UINT64_MAX / 2;
    MPT_EQ(mp_os_fn_resolve(&bad, &fn), MP_EPROTO);
    /* Inside the module but in data, not code. */
    bad = loc;
    uintptr_t base = (uintptr_t)forty_two - (uintptr_t)loc.offset;
    bad.offset = (uint64_t)((uintptr_t)&data_object - base);
    MPT_EQ(mp_os_fn_resolve(&bad, &fn), MP_EPROTO);
    bad = loc;
    memset(bad.module, 'x', sizeof bad.module); /* not terminated */
    CU_ASSERT(mp_os_fn_resolve(&bad, &fn) < 0);
    /* Not a function of any module. */
    CU_ASSERT(mp_os_fn_locate((void (*)(void))(uintptr_t)16, &bad) < 0);
}

/* Why a POSIX test of this file has no Windows form. */
#define NOT_WIN_FORK                                                                     \
    "it drives mp_os_fork and the fork child's sentinel pipe directly; Windows has no "  \
    "fork, and its spawn path is covered by exit_codes, pid_alive_child and the "        \
    "process suite"
#define NOT_WIN_SENTINEL                                                                 \
    "Windows waits on the process handle, which no grandchild can hold open: there is "  \
    "no sentinel pipe to outlive the child"
/* A forked child's test whose spawned form runs on Windows instead. */
#define NOT_WIN_FORM(spawned) "it forks; " spawned " is its Windows form"
#define NOT_WIN_BOOT                                                                     \
    "it hands mp__boot_child POSIX fds and checks them with fcntl; child_boot_win32 "    \
    "feeds the same segment layout with Windows handles"

void mpt_suite_platform(void)
{
    mpt_add("platform", "clock_and_sleep", test_clock_and_sleep);
    mpt_add("platform", "random", test_random);
#ifdef _WIN32
    mpt_add("platform", "shm_spawn_write", test_shm_spawn_write);
    mpt_not_here("platform", "shm_fork_write", NOT_WIN_FORM("shm_spawn_write"));
#else
    mpt_add("platform", "shm_fork_write", test_shm_fork_write);
#endif
    mpt_add("platform", "shm_attach_other_address", test_shm_attach_other_address);
    mpt_add("platform", "shm_errors", test_shm_errors);
    mpt_add("platform", "wq_word_differs", test_wq_word_differs);
    mpt_add("platform", "wq_past_deadline", test_wq_past_deadline);
    mpt_add("platform", "wq_timeout_lower_bound", test_wq_timeout_lower_bound);
#ifdef _WIN32
    mpt_add("platform", "wq_wake_spawned_child", test_wq_wake_spawned_child);
    mpt_not_here("platform", "wq_wake_forked_child",
                 NOT_WIN_FORM("wq_wake_spawned_child"));
#else
    mpt_add("platform", "wq_wake_forked_child", test_wq_wake_forked_child);
#endif
    mpt_add("platform", "wq_adopt", test_wq_adopt);
    mpt_add("platform", "wq_wake_many_threads", test_wq_wake_many_threads);
    mpt_add("platform", "threads_mutex_cond", test_threads_mutex_cond);
#ifdef _WIN32
    mpt_add("platform", "pid_alive_child", test_pid_alive_child);
    mpt_not_here("platform", "pid_alive_self_and_reaped",
                 NOT_WIN_FORM("pid_alive_child"));
    mpt_not_here("platform", "pid_alive_zombie",
                 "Windows has no zombies: pid_alive_child checks its analogue, an exited "
                 "child whose handle the parent still holds");
#else
    mpt_add("platform", "pid_alive_self_and_reaped", test_pid_alive_self_and_reaped);
    mpt_add("platform", "pid_alive_zombie", test_pid_alive_zombie);
#endif
    MPT_POSIX_ONLY("platform", "proc_wait_deadline", test_proc_wait_deadline,
                   NOT_WIN_FORK);
    MPT_POSIX_ONLY("platform", "exit_code", test_exit_code, NOT_WIN_FORK);
    MPT_POSIX_ONLY("platform", "kill_and_terminate", test_kill_and_terminate,
                   NOT_WIN_FORK);
    MPT_POSIX_ONLY("platform", "wait_with_grandchild", test_wait_with_grandchild,
                   NOT_WIN_SENTINEL);
    MPT_POSIX_ONLY("platform", "child_boot", test_child_boot, NOT_WIN_BOOT);
    mpt_add("platform", "pipe_roundtrip", test_pipe_roundtrip);
#ifdef _WIN32
    mpt_add("platform", "pipe_across_spawn", test_pipe_across_spawn);
    mpt_not_here("platform", "pipe_across_fork", NOT_WIN_FORM("pipe_across_spawn"));
#else
    mpt_add("platform", "pipe_across_fork", test_pipe_across_fork);
#endif
    mpt_add("platform", "write_closed_pipe", test_write_closed_pipe);
    mpt_add("platform", "write_closed_socket", test_write_closed_socket);
    mpt_add("platform", "read_eof", test_read_eof);
    mpt_add("platform", "poll", test_poll);
    mpt_add("platform", "cloexec", test_cloexec);
    mpt_add("platform", "fnloc_static", test_fnloc_static);
    mpt_add("platform", "fnloc_shared_library", test_fnloc_shared_library);
    mpt_add("platform", "fnloc_errors", test_fnloc_errors);
#ifdef _WIN32
    mpt_platform_win32_tests();
#endif
}
