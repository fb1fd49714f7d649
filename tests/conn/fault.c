/* conn/fault.c - a Pipe whose peer is killed in the middle of a
 * message: the other end gets MP_ECLOSED or a framing error (MP_EPROTO),
 * never a hang, a torn message handed out as whole, or SIGPIPE.
 *
 * writer_killed: a child sends checksummed messages of up to 300 KB (far
 * more than a pipe or socket buffer holds, so the child is mostly inside
 * a write) and is killed after a random number of them; the parent reads
 * on: whole, intact messages in order, then MP_ECLOSED (the kill fell
 * between two messages) or MP_EPROTO (inside one), and after that only
 * MP_ECLOSED / MP_ESTATE. Every read is preceded by a poll with a 30 s
 * limit, so a reader that would hang fails instead.
 *
 * reader_killed: the parent sends messages of up to 1 MiB to a child that
 * reads them, and a thread of the parent kills the child at a random
 * moment; each send returns 0 or, once the reader is gone, MP_ECLOSED.
 *
 * Both for one-way pipes (pipe(), on Windows a message-mode pipe) and
 * duplex ones (socketpair), alternately. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "leakcheck.h"
#include "test.h"

enum { W_READY, W_PPID, W_GOT, W_COUNT };
enum { BIG_WRITE = 300000, BIG_READ = 1 << 20 };

/* args: write end, words, seed */
static int t_pipe_writer(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    mp_array *w = mp_args_array(args, 1);
    int64_t seed;
    MPT_CHILD_CHECK(c && w && mp_args_get_int(args, 2, &seed) == 0);
    unsigned char *buf = malloc(BIG_WRITE);
    MPT_CHILD_CHECK(buf != NULL);
    mpt_rng r = {(uint64_t)seed};
    mpt_st(w, W_READY, 1);
    for (uint32_t seq = 0; mpt_parent_alive((int64_t)mpt_ld(w, W_PPID)); seq++) {
        size_t len = MPT_MSG_HDR + mpt_below(&r, BIG_WRITE - MPT_MSG_HDR + 1);
        mpt_msg_make(buf, len, 7, seq);
        if (mp_conn_send_bytes(c, buf, 0, len) != 0) break;
    }
    free(buf);
    return 0;
}

/* args: read end, words */
static int t_pipe_reader(const mp_args *args)
{
    mp_conn *c = mp_args_conn(args, 0);
    mp_array *w = mp_args_array(args, 1);
    MPT_CHILD_CHECK(c && w);
    mpt_st(w, W_READY, 1);
    for (;;) {
        unsigned char *d = NULL;
        size_t n = 0;
        uint32_t id, seq;
        int rc = mp_conn_recv_bytes(c, (void **)&d, &n, 0);
        if (rc == MP_ECLOSED) return 0;
        MPT_CHILD_CHECK(rc == 0);
        int ok = mpt_msg_check(d, n, &id, &seq) == 0;
        mp_free(d);
        MPT_CHILD_CHECK(ok);
        mpt_inc(w, W_GOT);
    }
}

/* The two ends: *rd reads, *wr writes (a duplex pair's two ends). */
static void make_pipe(int duplex, mp_conn **rd, mp_conn **wr)
{
    MPT_OK(mp_pipe(rd, wr, duplex));
}

static void writer_killed(mp_start_method m)
{
    const char *label = m == MP_START_FORK ? "fault_pipe/writer_killed_fork"
                                           : "fault_pipe/writer_killed_spawn";
    uint64_t seed = mpt_test_seed(label), rounds = mpt_fault_kills(40, 4);
    mpt_rng rng = {seed};
    uint64_t msgs = 0, eof_between = 0, eof_inside = 0, t0 = mp_os_now_ns();
    int failed = 0;
    static mpt_leak_mark mark;
    for (uint64_t round = 0; round < rounds && !failed; round++) {
        mpt_leak_mark_now(&mark);
        int duplex = (int)(round & 1);
        mp_conn *rd, *wr;
        mp_array *w;
        make_pipe(duplex, &rd, &wr);
        MPT_OK(mpt_words_new(&w, W_COUNT));
        mpt_st(w, W_PPID, mp_os_getpid());
        mp_process *p =
            mpt_start(t_pipe_writer, mp_args_of(wr, w, (int64_t)mpt_next(&rng)), m);
        /* As in Python: the parent closes its copy of the end it gave
         * away, or it would never see end of file. */
        mp_conn_close(wr);
        uint32_t kill_after = (uint32_t)mpt_below(&rng, 12), next = 0;
        int killed = 0, end = 0;
        if (kill_after == 0) {
            mpt_sleep_us(mpt_below(&rng, 2001));
            MPT_OK(mp_process_kill(p));
            killed = 1;
        }
        while (!end) {
            int ready = mp_conn_poll(rd, 30.0);
            if (ready != 1) {
                fprintf(stderr, "%s: nothing to read for 30 s (%s killed): a hang\n",
                        label, killed ? "writer" : "writer not yet");
                failed = 1;
                break;
            }
            unsigned char *d = NULL;
            size_t n = 0;
            uint32_t id = 0, seq = 0;
            int rc = mp_conn_recv_bytes(rd, (void **)&d, &n, 0);
            if (rc == 0) {
                int bad = mpt_msg_check(d, n, &id, &seq);
                if (bad || id != 7 || seq != next) {
                    fprintf(stderr,
                            "%s: message %u: %s (id %u, seq %u, %zu bytes) - a torn "
                            "message handed out whole?\n",
                            label, next, mpt_msg_problem(bad), id, seq, n);
                    failed = 1;
                    end = 1;
                }
                next++;
                msgs++;
                if (!killed && next == kill_after) {
                    /* Most likely inside its next write. */
                    mpt_sleep_us(mpt_below(&rng, 2001));
                    MPT_OK(mp_process_kill(p));
                    killed = 1;
                }
            } else if (rc == MP_ECLOSED || rc == MP_EPROTO) {
                if (!killed) {
                    fprintf(stderr, "%s: %s before the writer was killed\n", label,
                            mp_error_name(rc));
                    failed = 1;
                }
                eof_between += rc == MP_ECLOSED;
                eof_inside += rc == MP_EPROTO;
                /* And so it stays. */
                int again = mp_conn_recv_bytes(rd, (void **)&d, &n, 0);
                if (again != MP_ECLOSED && again != MP_ESTATE) {
                    fprintf(stderr, "%s: after %s, a read gave %s\n", label,
                            mp_error_name(rc), mp_error_name(again));
                    failed = 1;
                }
                end = 1;
            } else {
                fprintf(stderr, "%s: recv gave %s (%s)\n", label, mp_error_name(rc),
                        mp_last_error());
                failed = 1;
                end = 1;
            }
            mp_free(d);
        }
        if (!killed) mp_process_kill(p);
        int code = mpt_join(p);
        if (code != -9) {
            fprintf(stderr, "%s: the killed writer ended with %d\n", label, code);
            failed = 1;
        }
        mp_conn_close(rd);
        mp_array_free(w);
        if (mpt_leaks_since(&mark, label)) failed = 1;
    }
    printf("\n%s: seed %#llx: %llu writers killed (one-way and duplex pipes), %.1f s: "
           "%llu whole messages read first, then end of file %llu times between messages "
           "(MP_ECLOSED) and %llu times inside one (MP_EPROTO)\n",
           label, (unsigned long long)seed, (unsigned long long)rounds,
           (double)(mp_os_now_ns() - t0) / 1e9, (unsigned long long)msgs,
           (unsigned long long)eof_between, (unsigned long long)eof_inside);
    fflush(stdout);
    CU_ASSERT_EQUAL(failed, 0);
}
MPT_DEFINE_BOTH(writer_killed)

struct killer {
    mp_process *p;
    mp_array *w;
    uint64_t delay_us;
    int rc;
};

/* Kills the reader at a random moment while the main thread sends. */
static void killer_main(void *arg)
{
    struct killer *k = arg;
    mpt_wait_word(k->w, W_READY, MPT_JOIN_TIMEOUT);
    mpt_sleep_us(k->delay_us);
    k->rc = mp_process_kill(k->p);
}

static void reader_killed(mp_start_method m)
{
    const char *label = m == MP_START_FORK ? "fault_pipe/reader_killed_fork"
                                           : "fault_pipe/reader_killed_spawn";
    uint64_t seed = mpt_test_seed(label), rounds = mpt_fault_kills(40, 4);
    mpt_rng rng = {seed};
    uint64_t sent = 0, t0 = mp_os_now_ns();
    int failed = 0;
    unsigned char *buf = malloc(BIG_READ);
    CU_ASSERT_FATAL(buf != NULL);
    static mpt_leak_mark mark;
    mpt_watchdog_start(NULL, NULL);
    for (uint64_t round = 0; round < rounds && !failed; round++) {
        mpt_leak_mark_now(&mark);
        int duplex = (int)(round & 1);
        mp_conn *rd, *wr;
        mp_array *w;
        make_pipe(duplex, &rd, &wr);
        MPT_OK(mpt_words_new(&w, W_COUNT));
        mpt_st(w, W_PPID, mp_os_getpid());
        mp_process *p = mpt_start(t_pipe_reader, mp_args_of(rd, w), m);
        mp_conn_close(rd);
        struct killer k = {p, w, mpt_below(&rng, 20000), 0};
        mp_os_thread *th;
        MPT_OK(mp_os_thread_start(&th, killer_main, &k));
        /* A send that never returns once the reader is gone is the hang
         * this test is for; the watchdog turns it into a failure. */
        mpt_watchdog_arm(120, "fault_pipe: a send to a killed reader");
        int rc;
        for (uint32_t seq = 0;; seq++) {
            size_t len = MPT_MSG_HDR + mpt_below(&rng, BIG_READ - MPT_MSG_HDR + 1);
            mpt_msg_make(buf, len, 8, seq);
            rc = mp_conn_send_bytes(wr, buf, 0, len);
            if (rc != 0) break;
            sent++;
        }
        mpt_watchdog_arm(0, "");
        if (rc != MP_ECLOSED) {
            fprintf(stderr, "%s: send gave %s (%s), wanted MP_ECLOSED\n", label,
                    mp_error_name(rc), mp_last_error());
            failed = 1;
        }
        rc = mp_conn_send_bytes(wr, buf, 0, 100);
        if (rc != MP_ECLOSED) {
            fprintf(stderr, "%s: a second send gave %s\n", label, mp_error_name(rc));
            failed = 1;
        }
        MPT_OK(mp_os_thread_join(th));
        MPT_OK(k.rc);
        int code = mpt_join(p);
        if (code != -9) {
            fprintf(stderr, "%s: the killed reader ended with %d\n", label, code);
            failed = 1;
        }
        mp_conn_close(wr);
        mp_array_free(w);
        if (mpt_leaks_since(&mark, label)) failed = 1;
    }
    mpt_watchdog_stop();
    free(buf);
    printf("\n%s: seed %#llx: %llu readers killed (one-way and duplex pipes), %.1f s: "
           "%llu messages sent before, then MP_ECLOSED each time\n",
           label, (unsigned long long)seed, (unsigned long long)rounds,
           (double)(mp_os_now_ns() - t0) / 1e9, (unsigned long long)sent);
    fflush(stdout);
    CU_ASSERT_EQUAL(failed, 0);
}
MPT_DEFINE_BOTH(reader_killed)

void mpt_suite_conn_fault(void)
{
    MPT_BOTH("conn/fault", writer_killed);
    MPT_BOTH("conn/fault", reader_killed);
}
