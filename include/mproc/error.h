/* mproc/error.h - error codes.
 *
 * Every fallible mproc function returns int: 0 on success, or one of the
 * negative MP_E* codes below. There is no global error state; for more
 * detail than the code carries, mp_last_error() gives a message about the
 * calling thread's most recent failure. */
#ifndef MPROC_ERROR_H
#define MPROC_ERROR_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    MP_OK = 0,
    MP_EINVAL = -1,        /* bad argument: NULL, wrong typecode, NaN timeout, a
                              size or offset above PTRDIFF_MAX (a negative
                              number converted to size_t)... */
    MP_ENOMEM = -2,        /* out of memory */
    MP_ESYS = -3,          /* an OS call failed; mp_last_error() names it */
    MP_ETIMEDOUT = -4,     /* the deadline passed */
    MP_EEMPTY = -5,        /* queue empty (Python's queue.Empty) */
    MP_EFULL = -6,         /* queue full (Python's queue.Full) */
    MP_ECLOSED = -7,       /* end of file: the other end is closed */
    MP_ETOOBIG = -8,       /* message longer than the limit given */
    MP_ETOOSHORT = -9,     /* buffer too short; the message is kept (BufferTooShort) */
    MP_EOWNERDEAD = -10,   /* a process died holding a lock; see the object's docs */
    MP_EPROTO = -11,       /* corrupt or truncated data from the peer */
    MP_ESTATE = -12,       /* not valid in the object's state (closed, not started...) */
    MP_EUNSUPPORTED = -13, /* not supported here (platform or start method) */
    MP_ERANGE = -14,       /* index or value out of range; nothing was written */
    MP_EAUTH = -15,        /* authkey challenge failed (AuthenticationError) */
    MP_EBROKEN = -16,      /* the Barrier is broken (BrokenBarrierError) */
    MP_EEXIST = -17,       /* the name is taken (FileExistsError) */
    MP_ENOTFOUND = -18,    /* nothing has that name (FileNotFoundError), or a
                              value is not in a list (ValueError) */
    MP_ETASK = -19,        /* a pool task returned an error (mproc/pool.h) */
    MP_EWORKERDIED = -20   /* the pool worker running the task died */
};

/* A short static description of an error code ("queue empty"); never NULL. */
MP_API const char *mp_strerror(int code);

/* The symbolic name of an error code ("MP_EEMPTY"); never NULL. */
MP_API const char *mp_error_name(int code);

/* Detail about the calling thread's latest mproc call that returns an
 * error code, e.g. "shm_open: Permission denied": every such call forgets
 * the previous message first, so after a success or a plain outcome
 * (MP_EEMPTY, MP_ETIMEDOUT) it is empty or says that outcome, never what
 * an earlier call failed with. Calls that return no code (getters such as
 * mp_array_len, the mp_obj constructors) leave it as it was. Valid until
 * the thread's next such call. Never NULL. */
MP_API const char *mp_last_error(void);

/* Frees memory that mproc allocated and handed to the caller (received
 * messages, repr strings). NULL is ignored. */
MP_API void mp_free(void *p);

/* Timeouts are seconds as double: negative (MP_FOREVER, -inf) waits with
 * no limit, 0 does not block, positive is measured on a monotonic clock
 * (+inf, or anything over 1e9 s, is no limit either), NaN is MP_EINVAL.
 * Python spells "no limit" None, which C lacks, so a negative timeout takes
 * its place; docs/security.md compares each call with Python's. */
#define MP_FOREVER (-1.0)

#ifdef __cplusplus
}
#endif
#endif
