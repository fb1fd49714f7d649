/* serve.c - a worker rank: it runs the initializer of each pool it is
 * started for, then the chunks of that pool's task messages, in order,
 * and answers each with its result message. A task that finds a stop
 * waiting behind it is dropped, not run (terminate), so that the next
 * pool starts clean. A thread of its own beats while it serves a pool,
 * so that the pool can tell a silent worker from a busy one. */
#include <stdlib.h>
#include <string.h>

#include "core/pool/mpi/mpi_pool.h"

#define EX_SOFTWARE 70 /* the leader and this worker disagree */

typedef struct server {
    MPI_Comm comm;
    int lead;
    /* under mpi__lock: the heartbeat thread beats while serving */
    int serving;
    int ending;
    pool_runner run;
    unsigned char *buf;
    size_t cap;
    uint64_t gen;   /* the pool served now */
    uint64_t taken; /* its task messages taken */
    int failed;     /* its initializer failed: run none of its tasks */
} server;

/* A stop already waits: the task in hand is dropped, not run. */
static int stop_waits(server *s)
{
    int flag = 0;
    mpi_lock();
    MPI_Iprobe(s->lead, TAG_STOP, s->comm, &flag, MPI_STATUS_IGNORE);
    mpi_unlock();
    return flag;
}

static void send_locked(server *s, const void *p, size_t n, int tag)
{
    mpi_lock();
    MPI_Send(p, (int)n, MPI_BYTE, s->lead, tag, s->comm);
    mpi_unlock();
}

/* The heartbeat thread: a beat every BEAT_NS while a pool is served. */
static void beat_main(void *arg)
{
    server *s = arg;
    const uint64_t slice = BEAT_NS / 20;
    for (uint64_t slept = 0;; slept += slice) {
        mp__pool_sleep_ns(slice);
        mpi_lock();
        int ending = s->ending, beat = s->serving && slept >= BEAT_NS;
        if (beat) {
            unsigned char g[8];
            mpi_put64(g, s->gen);
            MPI_Send(g, 8, MPI_BYTE, s->lead, TAG_BEAT, s->comm);
            slept = 0;
        }
        mpi_unlock();
        if (ending) return;
    }
}

static int start(server *s, size_t len)
{
    const unsigned char *p = s->buf;
    if (len < 16) return EX_SOFTWARE;
    mpi_lock();
    s->gen = mpi_get64(p);
    s->serving = 1; /* the initializer may take long too */
    mpi_unlock();
    s->taken = 0;
    s->run.index = (uint32_t)mpi_get64(p + 8) & 0xffffffffu;
    size_t plen = (size_t)(mpi_get64(p + 8) >> 32);
    if (plen > len - 16) return EX_SOFTWARE;
    mp_obj *initargs = NULL;
    int status = 0;
    if (mp_obj_loads(p + 16 + plen, len - 16 - plen, &initargs) < 0)
        status = 1;
    else
        status = mp__pool_run_initializer(&s->run, plen ? p + 16 : NULL, plen, initargs);
    mp_obj_free(initargs);
    s->failed = status != 0;
    unsigned char hello[24 + MPI_MAX_PROCESSOR_NAME];
    size_t hlen = strlen(mpi__state.host);
    mpi_put64(hello, s->gen);
    mpi_put64(hello + 8, (uint64_t)(int64_t)status);
    mpi_put64(hello + 16, (uint64_t)mp_current_process().pid);
    memcpy(hello + 24, mpi__state.host, hlen);
    send_locked(s, hello, 24 + hlen, TAG_HELLO);
    return 0;
}

static int task(server *s, size_t len)
{
    s->taken++;
    if (s->failed || stop_waits(s)) return 0;
    pool_task_view v;
    if (mp__pool_parse_task(s->buf, len, &v) < 0 || v.kind != POOL_MSG_TASK)
        return EX_SOFTWARE;
    int rc = mp__pool_run_chunk(&s->run, &v);
    if (rc == 0)
        rc = mpi_send_result(s->comm, s->lead, s->run.out.bytes, s->run.out.used);
    mp__pool_runner_sent(&s->run);
    return rc < 0 ? EX_SOFTWARE : 0;
}

/* The end of a pool. Every task message it sent came before the stop
 * (MPI keeps one sender's messages in order), so the count only checks. */
static int stop(server *s, size_t len)
{
    if (len < 16 || mpi_get64(s->buf) != s->gen || mpi_get64(s->buf + 8) != s->taken)
        return EX_SOFTWARE;
    unsigned char bye[8];
    mpi_put64(bye, s->gen);
    mpi_lock();
    s->serving = 0;
    MPI_Send(bye, 8, MPI_BYTE, s->lead, TAG_BYE, s->comm);
    mpi_unlock();
    return 0;
}

int mpi_serve(MPI_Comm comm, int lead, int *abandon)
{
    server s;
    memset(&s, 0, sizeof s);
    s.comm = comm;
    s.lead = lead;
    int code = 0;
    mp_os_thread *beat = NULL;
    if (mp__pool_mutex_new(&mpi__lock) < 0 ||
        mp__pool_thread_start(&beat, beat_main, &s) < 0)
        return EX_SOFTWARE;
    while (code == 0) {
        MPI_Message m;
        MPI_Status st;
        size_t len = 0;
        mpi_probe_wait(comm, lead, &m, &st);
        if (mpi_take(&m, &st, &s.buf, &s.cap, &len) < 0) {
            code = EX_SOFTWARE;
            break;
        }
        switch (st.MPI_TAG) {
        case TAG_START:
            code = start(&s, len);
            break;
        case TAG_TASK:
            code = task(&s, len);
            break;
        case TAG_STOP:
            code = stop(&s, len);
            break;
        case TAG_EXIT:
            *abandon = len >= 1 && s.buf[0] != 0;
            goto out;
        default:
            code = EX_SOFTWARE;
        }
    }
out:
    mpi_lock();
    s.ending = 1;
    mpi_unlock();
    mp__pool_thread_join(beat);
    mp__pool_mutex_free(mpi__lock);
    mpi__lock = NULL;
    free(s.buf);
    mp__pool_runner_free(&s.run);
    return code;
}
