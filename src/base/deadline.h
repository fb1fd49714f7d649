/* deadline.h - Python-style timeouts (double seconds) to absolute deadlines. */
#ifndef MP_BASE_DEADLINE_H
#define MP_BASE_DEADLINE_H

#include "platform.h"
#include "base/error.h"

/* MP_EINVAL for a NaN timeout, 0 for any other. NaN is neither "now" nor
 * "forever"; treating it as either would hide the bug that computed it.
 * Every public call that takes a timeout checks it first. */
static inline int mp_timeout_check(double timeout)
{
    if (timeout != timeout) return mp_set_error(MP_EINVAL, "timeout is NaN");
    return 0;
}

/* timeout < 0: forever (MP_NO_DEADLINE); 0 or NaN: now; else now + timeout,
 * saturating. */
static inline uint64_t mp_deadline(double timeout)
{
    if (timeout < 0) return MP_NO_DEADLINE;
    uint64_t now = mp_os_now_ns();
    if (!(timeout > 0)) return now;
    if (timeout > 1e9) return MP_NO_DEADLINE; /* ~31 years: no limit */
    return now + (uint64_t)(timeout * 1e9);
}

/* 1 once the deadline has passed. */
static inline int mp_deadline_passed(uint64_t deadline)
{
    return deadline != MP_NO_DEADLINE && mp_os_now_ns() >= deadline;
}

#endif
