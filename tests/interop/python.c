/* interop/python.c - a C mp_conn and a CPython Connection on one socket pair.
 *
 * The test starts python3 itself (MPT_PYTHON, or python3 from PATH) with
 * the child end of a duplex mp_pipe as a plain descriptor, and runs an
 * inline script that wraps it in multiprocessing.connection.Connection.
 * Python checks what it receives and reports through its exit status.
 *
 * POSIX only (see MPT_NO_PYTHON): no Windows Python runs under Wine. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif

#include "test.h"

#ifdef _WIN32

void mpt_suite_interop_python(void)
{
    static const char *const names[] = {"echo_sizes", "python_first", "recv_into",
                                        "send_slices", "python_exits"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        mpt_not_here("interop/python", names[i], MPT_NO_PYTHON);
}

#else

#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/conn/conn_internal.h"

extern char **environ;

#define MIB   ((size_t)1 << 20)

/* The descriptor number python3 gets the connection as. */
#define PY_FD 100

static const char script[] =
    "import sys\n"
    "from multiprocessing.connection import Connection\n"
    "c = Connection(int(sys.argv[1]))\n"
    "mode = sys.argv[2]\n"
    "def expect(cond, code):\n"
    "    if not cond:\n"
    "        sys.stderr.write('python side: check %d failed\\n' % code)\n"
    "        sys.exit(code)\n"
    "if mode == 'echo':\n"
    "    while True:\n"
    "        try:\n"
    "            m = c.recv_bytes()\n"
    "        except EOFError:\n"
    "            break\n"
    "        c.send_bytes(m[::-1])\n"
    "        c.send_bytes(str(len(m)).encode())\n"
    "elif mode == 'first':\n"
    "    c.send_bytes(b'hello from python')\n"
    "    c.send_bytes(bytes(range(256)) * 400)\n"
    "    c.send_bytes(b'')\n"
    "    expect(c.recv_bytes() == b'thanks', 3)\n"
    "elif mode == 'into':\n"
    "    c.send_bytes(b'0123456789' * 3)\n"
    "    c.send_bytes(bytes(range(100)))\n"
    "    c.send_bytes(b'after')\n"
    "    expect(c.recv_bytes() == b'done', 3)\n"
    "elif mode == 'slice':\n"
    "    expect(c.recv_bytes() == b'3456', 3)\n"
    "    expect(c.recv_bytes() == bytes(i % 251 for i in range(1000, 21000)), 4)\n"
    "    expect(c.recv_bytes() == b'', 5)\n"
    "    buf = bytearray(10)\n"
    "    expect(c.recv_bytes_into(buf, 2) == 3 and buf[2:5] == b'xyz', 6)\n"
    "    c.send_bytes(b'ok')\n"
    "else:\n"
    "    sys.exit(9)\n"
    "expect(c.poll(60), 7)\n" /* the end: C closes, Python sees EOF */
    "try:\n"
    "    c.recv_bytes()\n"
    "    sys.exit(8)\n"
    "except EOFError:\n"
    "    pass\n";

typedef struct py_child {
    pid_t pid;
    mp_conn *conn; /* the C end */
} py_child;

static const char *python_path(void)
{
    const char *p = getenv("MPT_PYTHON");
    return p && *p ? p : "python3";
}

/* Starts the script in mode with the other end of a duplex pipe. */
static void py_start(py_child *py, const char *mode)
{
    mp_conn *theirs = NULL;
    py->pid = -1;
    py->conn = NULL;
    MPT_OK(mp_pipe(&py->conn, &theirs, 1));
    int fd = (int)mp__conn_handle(theirs);
    char fdarg[16];
    /* dup2 onto another number gives python3 a copy without close-on-exec;
     * every other mproc descriptor stays close-on-exec. */
    int target = fd == PY_FD ? PY_FD + 1 : PY_FD;
    snprintf(fdarg, sizeof fdarg, "%d", target);
    posix_spawn_file_actions_t fa;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&fa, fd, target);
    char *argv[] = {(char *)python_path(), "-c", (char *)script, fdarg,
                    (char *)mode,          NULL};
    pid_t pid = -1;
    if (rc == 0) rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    mp_conn_close(theirs);
    if (rc != 0) {
        fprintf(stderr,
                "python suite: cannot start %s: %s (install python3 or set "
                "MPT_PYTHON)\n",
                argv[0], strerror(rc));
        mp_conn_close(py->conn);
        py->conn = NULL;
        CU_FAIL_FATAL("python3 could not be started");
    }
    py->pid = pid;
}

/* Closes the C end (Python then sees EOF and exits) and reaps python3,
 * returning its exit status. */
static int py_finish(py_child *py)
{
    mp_conn_close(py->conn);
    py->conn = NULL;
    int st = 0;
    pid_t r;
    do
        r = waitpid(py->pid, &st, 0);
    while (r < 0 && errno == EINTR);
    CU_ASSERT_EQUAL_FATAL(r, py->pid);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
        fprintf(stderr,
                "python suite: %s not found (install python3 or set MPT_PYTHON)\n",
                python_path());
        return 127;
    }
    if (WIFSIGNALED(st)) return -WTERMSIG(st);
    return WEXITSTATUS(st);
}

/* Checks inside a conversation jump to the end, so that python3 is always
 * reaped, whatever failed. */
#define PY_CHECK(cond)                                                                   \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: %s failed (%s)\n", __FILE__, __LINE__, #cond,        \
                    mp_last_error());                                                    \
            ok = 0;                                                                      \
            goto done;                                                                   \
        }                                                                                \
    } while (0)

static int is_msg(const void *d, size_t n, const void *want, size_t wn)
{
    return n == wn && (n == 0 || memcmp(d, want, n) == 0);
}

/* C sends, Python answers with the message reversed and its length. */
static void test_echo_sizes(void)
{
    static const size_t sizes[] = {0, 1, 16384, 16385, MIB};
    py_child py;
    py_start(&py, "echo");
    int ok = 1;
    unsigned char *msg = malloc(MIB), *rev = malloc(MIB);
    void *d = NULL;
    PY_CHECK(msg && rev);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        for (size_t i = 0; i < n; i++)
            msg[i] = (unsigned char)(i * 7 + k);
        for (size_t i = 0; i < n; i++)
            rev[i] = msg[n - 1 - i];
        PY_CHECK(mp_conn_send_bytes(py.conn, msg, 0, n) == 0);
        size_t len = 0;
        PY_CHECK(mp_conn_recv_bytes(py.conn, &d, &len, 0) == 0);
        PY_CHECK(is_msg(d, len, rev, n));
        mp_free(d);
        d = NULL;
        char num[32];
        snprintf(num, sizeof num, "%zu", n);
        PY_CHECK(mp_conn_recv_bytes(py.conn, &d, &len, 0) == 0);
        PY_CHECK(is_msg(d, len, num, strlen(num)));
        mp_free(d);
        d = NULL;
    }
done:
    mp_free(d);
    free(msg);
    free(rev);
    CU_ASSERT_EQUAL(py_finish(&py), 0);
    CU_ASSERT(ok);
}

/* Python speaks first; C reads with recv_bytes. */
static void test_python_first(void)
{
    py_child py;
    py_start(&py, "first");
    int ok = 1;
    void *d = NULL;
    size_t len = 0;
    unsigned char *want = malloc(256 * 400);
    PY_CHECK(want != NULL);
    for (size_t i = 0; i < 256 * 400; i++)
        want[i] = (unsigned char)(i % 256);
    PY_CHECK(mp_conn_recv_bytes(py.conn, &d, &len, 0) == 0);
    PY_CHECK(is_msg(d, len, "hello from python", 17));
    mp_free(d);
    d = NULL;
    PY_CHECK(mp_conn_recv_bytes(py.conn, &d, &len, 0) == 0);
    PY_CHECK(is_msg(d, len, want, 256 * 400));
    mp_free(d);
    d = NULL;
    PY_CHECK(mp_conn_recv_bytes(py.conn, &d, &len, 1) == 0);
    PY_CHECK(len == 0);
    PY_CHECK(mp_conn_send_bytes(py.conn, "thanks", 0, 6) == 0);
done:
    mp_free(d);
    free(want);
    CU_ASSERT_EQUAL(py_finish(&py), 0);
    CU_ASSERT(ok);
}

/* recv_bytes_into of what Python sent, BufferTooShort included. */
static void test_recv_into(void)
{
    py_child py;
    py_start(&py, "into");
    int ok = 1;
    unsigned char buf[128], small[40];
    size_t got = 0;
    memset(small, '-', sizeof small);
    PY_CHECK(mp_conn_recv_bytes_into(py.conn, small, sizeof small, 5, &got) == 0);
    PY_CHECK(got == 30 && memcmp(small, "-----", 5) == 0);
    PY_CHECK(memcmp(small + 5, "012345678901234567890123456789", 30) == 0);
    PY_CHECK(mp_conn_recv_bytes_into(py.conn, small, sizeof small, 0, &got) ==
             MP_ETOOSHORT);
    PY_CHECK(got == 100);
    PY_CHECK(mp_conn_recv_bytes_into(py.conn, buf, sizeof buf, 0, &got) == 0);
    PY_CHECK(got == 100);
    for (size_t i = 0; i < 100; i++)
        PY_CHECK(buf[i] == i);
    PY_CHECK(mp_conn_recv_bytes_into(py.conn, buf, sizeof buf, 0, &got) == 0);
    PY_CHECK(got == 5 && memcmp(buf, "after", 5) == 0);
    PY_CHECK(mp_conn_send_bytes(py.conn, "done", 0, 4) == 0);
done:
    CU_ASSERT_EQUAL(py_finish(&py), 0);
    CU_ASSERT(ok);
}

/* Python reads slices that C sent with an offset and a size. */
static void test_send_slices(void)
{
    py_child py;
    py_start(&py, "slice");
    int ok = 1;
    void *d = NULL;
    size_t len = 0;
    unsigned char *big = malloc(40000);
    PY_CHECK(big != NULL);
    for (size_t i = 0; i < 40000; i++)
        big[i] = (unsigned char)(i % 251);
    PY_CHECK(mp_conn_send_bytes(py.conn, "0123456789", 3, 4) == 0);
    PY_CHECK(mp_conn_send_bytes(py.conn, big, 1000, 20000) == 0);
    PY_CHECK(mp_conn_send_bytes(py.conn, big, 40000, 0) == 0);
    PY_CHECK(mp_conn_send_bytes(py.conn, "..xyz..", 2, 3) == 0);
    PY_CHECK(mp_conn_recv_bytes(py.conn, &d, &len, 0) == 0);
    PY_CHECK(is_msg(d, len, "ok", 2));
done:
    mp_free(d);
    free(big);
    CU_ASSERT_EQUAL(py_finish(&py), 0);
    CU_ASSERT(ok);
}

/* Python exits: C sees end of file, not an error. */
static void test_python_exits(void)
{
    py_child py;
    py_start(&py, "bogus-mode"); /* exits 9 at once */
    int ok = 1;
    void *d = NULL;
    size_t len = 0;
    PY_CHECK(mp_conn_recv_bytes(py.conn, &d, &len, 0) == MP_ECLOSED);
done:
    CU_ASSERT_EQUAL(py_finish(&py), 9);
    CU_ASSERT(ok);
}

void mpt_suite_interop_python(void)
{
    mpt_add("interop/python", "echo_sizes", test_echo_sizes);
    mpt_add("interop/python", "python_first", test_python_first);
    mpt_add("interop/python", "recv_into", test_recv_into);
    mpt_add("interop/python", "send_slices", test_send_slices);
    mpt_add("interop/python", "python_exits", test_python_exits);
}

#endif
