/* leaks.c - runs after every test, in the test's own process, and checks
 * that it left nothing behind: no open descriptor (Windows: handle) that
 * was not open before the test, no shared-memory name in /dev/shm,
 * no child process (running or zombie). */
#include "leakcheck.h"
#include "test.h"

#ifdef _WIN32

/* Windows: the process's open handles against a baseline, and no child
 * process still running. Shared memory has no names there (unnamed
 * pagefile sections die with their last handle), so the handle check
 * covers it, and a process object held open (the analogue of a zombie)
 * is a handle too. */

/* Handles are found by value (leakcheck.c), because Wine's
 * GetProcessHandleCount always says 0. Where the count works (Windows),
 * it is compared too, which also sees a leak that reused the value of a
 * handle closed since the baseline. */
static mpt_leak_mark at_start;

/* Child target of the warm-up below. */
static int w_nothing(const mp_args *args)
{
    (void)args;
    return 0;
}

/* Some handles are opened once per process and kept on purpose: the
 * per-thread I/O event of the pipe layer (closed when the thread ends,
 * and the main thread never ends), what the C runtime, BCrypt and
 * kernel32 open lazily on first use (among them the directory of named
 * objects, after the first named one), and Winsock's own state after its
 * first socket. So the baseline is taken after one use of each part
 * (random bytes, a Value, a named SharedMemory, a Pipe and a TCP
 * connection with one message each way, a spawned child); only growth
 * after that is a leak. */
void mpt_leaks_baseline(void)
{
    unsigned char r[16];
    mp_os_random(r, sizeof r);
    mp_value *v = NULL;
    if (mp_value_new(&v, 'i') == 0) mp_value_free(v);
    mp_shared_memory *shm = NULL;
    if (mp_shared_memory_create(&shm, NULL, 1) == 0) {
        mp_shared_memory_unlink(shm);
        mp_shared_memory_free(shm);
    }
    mp_conn *a = NULL, *b = NULL;
    if (mp_pipe(&a, &b, 1) == 0) {
        char buf[4];
        size_t got = 0;
        mp_conn_send_bytes(a, "x", 0, 1);
        mp_conn_recv_bytes_into(b, buf, sizeof buf, 0, &got);
        mp_conn_send_bytes(b, "y", 0, 1);
        mp_conn_recv_bytes_into(a, buf, sizeof buf, 0, &got);
        mp_conn_close(a);
        mp_conn_close(b);
    }
    mp_listener *l = NULL;
    if (mp_listener_new_tcp(&l, "127.0.0.1", 0, 1, NULL, 0) == 0) {
        a = b = NULL;
        if (mp_client_tcp(&a, "127.0.0.1", mp_listener_port(l), NULL, 0) == 0 &&
            mp_listener_accept(l, &b) == 0) {
            char buf[4];
            size_t got = 0;
            mp_conn_send_bytes(a, "x", 0, 1);
            mp_conn_recv_bytes_into(b, buf, sizeof buf, 0, &got);
            mp_conn_send_bytes(b, "y", 0, 1);
            mp_conn_recv_bytes_into(a, buf, sizeof buf, 0, &got);
        }
        mp_conn_close(a);
        mp_conn_close(b);
        mp_listener_close(l);
    }
    mp_process *p = NULL;
    if (mp_process_new(&p, w_nothing, MP_NO_ARGS) == 0) {
        if (mp_process_start(p) == 0) mp_process_join(p, MPT_JOIN_TIMEOUT);
        mp_process_free(p);
    }
    mpt_leak_mark_now(&at_start);
}

static void no_leaked_handles(void)
{
    CU_ASSERT_EQUAL(mpt_leaked_handles(&at_start, "leaks", 1), 0);
}

static int open_handles(const mpt_leak_mark *m)
{
    int n = 0;
    for (int i = 0; i < MPT_LEAK_SLOTS; i++)
        n += m->open[i] != 0;
    return n;
}

/* The process's handle count is back where the warm-up left it. Counted
 * by the scan, because Wine 8's GetProcessHandleCount answers 0 whatever
 * is open (so under Wine the system's count compares 0 with 0); on
 * Windows the system's count is compared too. Printed either way, so a
 * run's log shows the numbers. */
static void handle_count_back(void)
{
    static mpt_leak_mark now; /* 8 KiB: not on a test's stack */
    CU_ASSERT_FATAL(mpt_leak_mark_now(&now));
    int start = open_handles(&at_start), end = open_handles(&now);
    fprintf(stderr,
            "leaks: %d handles open after the warm-up, %d now (GetProcessHandleCount: "
            "%lu, %lu)\n",
            start, end, at_start.count, now.count);
    CU_ASSERT(end <= start);
    CU_ASSERT(now.count <= at_start.count);
}

static void no_children(void)
{
    CU_ASSERT_EQUAL(mpt_leaked_children("leaks"), 0);
}

void mpt_suite_leaks(void)
{
    mpt_add("leaks", "no_leaked_handles", no_leaked_handles);
    mpt_add("leaks", "handle_count_back", handle_count_back);
    mpt_add("leaks", "no_children", no_children);
    mpt_not_here("leaks", "no_leaked_fds",
                 "Windows has handles, not fds: no_leaked_handles");
    mpt_not_here("leaks", "no_shm_names",
                 "Windows sections have no names to leave behind (unnamed, freed with "
                 "their last handle, which no_leaked_handles counts)");
}

#else

static mpt_leak_mark at_start;

void mpt_leaks_baseline(void)
{
    mpt_leak_mark_now(&at_start);
}

static void no_leaked_fds(void)
{
    CU_ASSERT_EQUAL(mpt_leaked_handles(&at_start, "leaks", 0), 0);
}

static void no_shm_names(void)
{
    CU_ASSERT_EQUAL(mpt_leaked_shm_names("leaks"), 0);
}

static void no_children(void)
{
    CU_ASSERT_EQUAL(mpt_leaked_children("leaks"), 0);
}

void mpt_suite_leaks(void)
{
    mpt_add("leaks", "no_leaked_fds", no_leaked_fds);
    mpt_add("leaks", "no_shm_names", no_shm_names);
    mpt_add("leaks", "no_children", no_children);
}

#endif
