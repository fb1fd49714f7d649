/* xfer.c - moving bytes over MPI: results of any size (Open MPI counts
 * are int, so a larger one goes in pieces), and waiting for a message
 * without spinning a core, as MPI's blocking calls do. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/pool/mpi/mpi_pool.h"

#define PIECE_MAX   ((size_t)1 << 30) /* docs/distributed.md */
#define SPINS       64                /* looks before the first sleep */
#define BACKOFF_MIN 1000u             /* nanoseconds */
#define BACKOFF_MAX 1000000u

mp_os_mutex *mpi__lock;

void mpi_lock(void)
{
    if (mpi__lock) mp__pool_mutex_lock(mpi__lock);
}

void mpi_unlock(void)
{
    if (mpi__lock) mp__pool_mutex_unlock(mpi__lock);
}

void mpi_put64(unsigned char *w, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned char)(v >> (8 * i));
}

uint64_t mpi_get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

size_t mpi_piece_size(void)
{
    static size_t piece;
    if (!piece) {
        const char *e = getenv("MPROC_MPI_PIECE");
        long long v = e ? atoll(e) : 0;
        piece = v > 0 && (size_t)v < PIECE_MAX ? (size_t)v : PIECE_MAX;
    }
    return piece;
}

int mpi_send_result(MPI_Comm comm, int dest, const void *msg, size_t len)
{
    size_t piece = mpi_piece_size();
    int rc;
    if (len <= piece) {
        mpi_lock();
        rc = MPI_Send(msg, (int)len, MPI_BYTE, dest, TAG_RESULT, comm);
        mpi_unlock();
        return rc == MPI_SUCCESS ? 0 : MP_ESYS;
    }
    unsigned char head[8];
    mpi_put64(head, len);
    mpi_lock();
    rc = MPI_Send(head, 8, MPI_BYTE, dest, TAG_BIG, comm);
    mpi_unlock();
    /* The lock is let go between pieces, so that heartbeats pass. */
    for (size_t at = 0; rc == MPI_SUCCESS && at < len; at += piece) {
        size_t n = len - at < piece ? len - at : piece;
        mpi_lock();
        rc = MPI_Send((const unsigned char *)msg + at, (int)n, MPI_BYTE, dest, TAG_PIECE,
                      comm);
        mpi_unlock();
    }
    return rc == MPI_SUCCESS ? 0 : MP_ESYS;
}

uint64_t mpi_backoff_next(uint64_t *backoff_ns)
{
    uint64_t now = *backoff_ns < BACKOFF_MIN ? BACKOFF_MIN : *backoff_ns;
    *backoff_ns = now * 2 > BACKOFF_MAX ? BACKOFF_MAX : now * 2;
    return now;
}

void mpi_backoff(uint64_t *backoff_ns)
{
    mp__pool_sleep_ns(mpi_backoff_next(backoff_ns));
}

void mpi_probe_wait(MPI_Comm comm, int src, MPI_Message *m, MPI_Status *st)
{
    uint64_t backoff = 0;
    for (int looks = 0;; looks++) {
        int flag = 0;
        mpi_lock();
        MPI_Improbe(src, MPI_ANY_TAG, comm, &flag, m, st);
        mpi_unlock();
        if (flag) return;
        if (looks >= SPINS) mpi_backoff(&backoff);
    }
}

int mpi_take(MPI_Message *m, const MPI_Status *st, unsigned char **buf, size_t *cap,
             size_t *len)
{
    int count = 0;
    MPI_Get_count(st, MPI_BYTE, &count);
    size_t n = count > 0 ? (size_t)count : 0;
    if (n > *cap || !*buf) {
        unsigned char *bigger = realloc(*buf, n ? n : 1);
        if (!bigger) {
            /* Taken all the same, into nothing: a message left unreceived
             * would block every later one of its sender. */
            unsigned char none;
            mpi_lock();
            MPI_Mrecv(&none, 0, MPI_BYTE, m, MPI_STATUS_IGNORE);
            mpi_unlock();
            return mp_set_error(MP_ENOMEM, "mpi pool: out of memory");
        }
        *buf = bigger;
        *cap = n ? n : 1;
    }
    mpi_lock();
    int rc = MPI_Mrecv(*buf, count, MPI_BYTE, m, MPI_STATUS_IGNORE);
    mpi_unlock();
    if (rc != MPI_SUCCESS) return mp_set_error(MP_ESYS, "mpi pool: MPI_Mrecv failed");
    *len = n;
    return 0;
}
