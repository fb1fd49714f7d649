/* boost_mq.cpp - the Boost.Interprocess peer: message_queue in the shapes
 * of queue_stream, queue_mpmc and queue_pingpong.
 *
 *     boost_mq stream SIZE COUNT [CAPACITY]    ->  "<msgs/s> msgs/s" or "<GiB/s> GiB/s"
 *     boost_mq mpmc SIZE COUNT [CAPACITY]      ->  "<msgs/s> msgs/s"
 *     boost_mq pingpong SIZE COUNT [CAPACITY]  ->  "<us per round trip> us"
 *
 * Workers are forked and open the queue by name, as Boost's examples do;
 * the clock, the barrier, the message contents and the end markers of
 * mpmc are the same as in the mproc programs (see queue_stream.c and
 * queue_mpmc.c), so the numbers compare directly. CAPACITY (messages)
 * defaults to what fills the 8 MiB that mproc's default ring has, between
 * 8 and 131072 messages: a message_queue must be given a maximum message
 * size and count up front, where mproc's ring takes messages of any size.
 *
 * message_queue copies every message in and out while holding its one
 * mutex, and wakes through a process-shared condition variable. The
 * queue's name (in /dev/shm) starts with "mpbench-" and is removed on
 * every exit of the parent, also a failing one. */
#include <boost/interprocess/ipc/message_queue.hpp>

#include <string>
#include <vector>

#include "raw_shm.h"

namespace bip = boost::interprocess;

static std::vector<std::string> g_names;

static void remove_queues()
{
    for (const std::string &n : g_names)
        bip::message_queue::remove(n.c_str());
}

static std::string queue_name(const char *tag)
{
    std::string n = "mpbench-boost-" + std::to_string(getpid()) + "-" + tag;
    bip::message_queue::remove(n.c_str());
    if (g_names.empty()) atexit(remove_queues);
    g_names.push_back(n);
    return n;
}

struct job {
    std::string q1, q2;
    shm_ctl *ctl;
    size_t size;
    uint64_t count;
    int id;
};

static void receive(bip::message_queue &mq, unsigned char *buf, size_t cap, size_t *len)
{
    bip::message_queue::size_type got = 0;
    unsigned int prio = 0;
    mq.receive(buf, cap, got, prio);
    *len = got;
}

/* ---- stream: queue_small / queue_bulk -------------------------------------- */

static int stream_producer(void *arg)
{
    job *j = static_cast<job *>(arg);
    bip::message_queue mq(bip::open_only, j->q1.c_str());
    std::vector<unsigned char> msg(j->size, 0x5a);
    shm_ctl_arrive(j->ctl);
    for (uint64_t i = 0; i < j->count; i++) {
        bench_stamp_msg(msg.data(), j->size, i);
        mq.send(msg.data(), j->size, 0);
    }
    return 0;
}

static void stream(job *j, uint64_t capacity)
{
    j->q1 = queue_name("stream");
    bip::message_queue mq(bip::create_only, j->q1.c_str(), capacity, j->size);
    std::vector<unsigned char> buf(j->size);
    pid_t pid = fork_worker(stream_producer, j);
    uint64_t t0 = shm_ctl_start(j->ctl, 1);
    for (uint64_t i = 0; i < j->count; i++) {
        size_t len = 0;
        receive(mq, buf.data(), j->size, &len);
        if (len != j->size || (j->size >= 8 && bench_msg_seq(buf.data(), len) != i))
            bench_die("boost_mq: message %llu arrived wrong", (unsigned long long)i);
    }
    uint64_t ns = bench_now_ns() - t0;
    wait_worker(pid);
    if (j->size <= 4096)
        bench_report(bench_per_s(j->count, ns), "msgs/s");
    else
        bench_report(bench_gib_per_s(j->size * j->count, ns), "GiB/s");
}

/* ---- mpmc: 2 -> 2 -------------------------------------------------------------- */

enum { NPROD = 2, NCONS = 2 };

static int mpmc_producer(void *arg)
{
    job *j = static_cast<job *>(arg);
    bip::message_queue mq(bip::open_only, j->q1.c_str());
    std::vector<unsigned char> msg(j->size, 0x5a);
    shm_ctl_arrive(j->ctl);
    for (uint64_t i = 0; i < j->count; i++) {
        bench_stamp_msg(msg.data(), j->size, i);
        mq.send(msg.data(), j->size, 0);
    }
    unsigned char marker = (unsigned char)j->id;
    for (int c = 0; c < NCONS; c++)
        mq.send(&marker, 1, 0);
    return 0;
}

static int mpmc_consumer(void *arg)
{
    job *j = static_cast<job *>(arg);
    bip::message_queue mq(bip::open_only, j->q1.c_str());
    std::vector<unsigned char> buf(j->size);
    int seen[NPROD] = {0}, nseen = 0;
    uint64_t got = 0;
    shm_ctl_arrive(j->ctl);
    while (nseen < NPROD) {
        size_t len = 0;
        receive(mq, buf.data(), j->size, &len);
        if (len == j->size) {
            got++;
        } else if (len == 1 && buf[0] < NPROD) {
            if (!seen[buf[0]]) {
                seen[buf[0]] = 1;
                nseen++;
            } else {
                mq.send(buf.data(), 1, 0); /* the other consumer's marker */
            }
        } else {
            bench_die("boost_mq: unexpected message of %zu bytes", len);
        }
    }
    shm_ctl_stamp(j->ctl, j->id, bench_now_ns());
    shm_ctl_stamp(j->ctl, NCONS + j->id, got);
    return 0;
}

static void mpmc(job *j, uint64_t capacity)
{
    if (j->size < 2) bench_die("boost_mq: mpmc needs SIZE >= 2");
    j->q1 = queue_name("mpmc");
    bip::message_queue mq(bip::create_only, j->q1.c_str(), capacity, j->size);
    std::vector<job> jobs(NPROD + NCONS, *j);
    std::vector<pid_t> pids;
    for (int c = 0; c < NCONS; c++) {
        jobs[c].id = c;
        pids.push_back(fork_worker(mpmc_consumer, &jobs[c]));
    }
    for (int p = 0; p < NPROD; p++) {
        job &pj = jobs[NCONS + p];
        pj.id = p;
        pj.count = j->count / NPROD + (p == 0 ? j->count % NPROD : 0);
        pids.push_back(fork_worker(mpmc_producer, &pj));
    }
    uint64_t t0 = shm_ctl_start(j->ctl, NPROD + NCONS);
    for (pid_t pid : pids)
        wait_worker(pid);
    uint64_t t_end = 0, got = 0;
    for (int c = 0; c < NCONS; c++) {
        uint64_t t = shm_ctl_stamp_of(j->ctl, c);
        if (t > t_end) t_end = t;
        got += shm_ctl_stamp_of(j->ctl, NCONS + c);
    }
    if (got != j->count)
        bench_die("boost_mq: %llu messages arrived", (unsigned long long)got);
    bench_report(bench_per_s(j->count, t_end - t0), "msgs/s");
}

/* ---- pingpong: one message each way through two queues ----------------------- */

static int echo(void *arg)
{
    job *j = static_cast<job *>(arg);
    bip::message_queue ping(bip::open_only, j->q1.c_str());
    bip::message_queue pong(bip::open_only, j->q2.c_str());
    std::vector<unsigned char> buf(j->size);
    for (uint64_t i = 0; i < j->count; i++) {
        size_t len = 0;
        receive(ping, buf.data(), j->size, &len);
        pong.send(buf.data(), len, 0);
    }
    return 0;
}

static void pingpong(job *j, uint64_t capacity)
{
    uint64_t warm = j->count / 10 < 200 ? j->count / 10 : 200, timed = j->count;
    j->q1 = queue_name("ping");
    j->q2 = queue_name("pong");
    bip::message_queue ping(bip::create_only, j->q1.c_str(), capacity, j->size);
    bip::message_queue pong(bip::create_only, j->q2.c_str(), capacity, j->size);
    j->count = warm + timed;
    std::vector<unsigned char> buf(j->size, 0x5a);
    pid_t pid = fork_worker(echo, j);
    uint64_t t0 = 0;
    for (uint64_t i = 0; i < warm + timed; i++) {
        if (i == warm) t0 = bench_now_ns();
        size_t len = 0;
        bench_stamp_msg(buf.data(), j->size, i);
        ping.send(buf.data(), j->size, 0);
        receive(pong, buf.data(), j->size, &len);
        if (len != j->size || bench_msg_seq(buf.data(), len) != (j->size >= 8 ? i : 0))
            bench_die("boost_mq: wrong echo");
    }
    uint64_t ns = bench_now_ns() - t0;
    wait_worker(pid);
    bench_report((double)ns / 1e3 / (double)timed, "us");
}

int main(int argc, char **argv)
{
    std::string mode = bench_arg_str(argc, argv, 1, "stream|mpmc|pingpong");
    job j;
    j.size = (size_t)bench_arg_u64(argc, argv, 2, "SIZE");
    j.count = bench_arg_u64(argc, argv, 3, "COUNT");
    j.ctl = shm_ctl_new();
    j.id = 0;
    uint64_t capacity = (8 * BENCH_MIB) / j.size;
    if (capacity < 8) capacity = 8;
    if (capacity > 131072) capacity = 131072;
    if (argc > 4) capacity = bench_arg_u64(argc, argv, 4, "CAPACITY");
    try {
        if (mode == "stream")
            stream(&j, capacity);
        else if (mode == "mpmc")
            mpmc(&j, capacity);
        else if (mode == "pingpong")
            pingpong(&j, capacity);
        else
            bench_die("boost_mq: mode is stream, mpmc or pingpong, not '%s'",
                      mode.c_str());
    } catch (const bip::interprocess_exception &e) {
        bench_die("boost_mq: %s", e.what());
    }
    return 0;
}
