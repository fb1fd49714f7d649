/* mp_bench.h - helpers of the mproc benchmark programs: error checks and a
 * start barrier built from mproc's own objects.
 *
 * The barrier is a locked Array of int64 ("ctl") that the parent hands to
 * every child: a child counts itself in, then waits for the go flag; the
 * parent waits for all children to be in, takes the start time and raises
 * the flag. Spawning a child takes milliseconds, so without this the
 * measurement would include process start-up. Children that must report
 * when they finished write a monotonic stamp into their slot; the parent
 * subtracts its start time (the monotonic clock is machine-wide).
 *
 * The waits poll with short sleeps: they happen once per run, before and
 * after the timed part, and a polled locked Array needs nothing beyond the
 * API under test. */
#ifndef MPROC_BENCH_MP_BENCH_H
#define MPROC_BENCH_MP_BENCH_H

#include <mproc.h>

#include "bench_util.h"

#define BENCH_CHECK(call) bench_check_rc((call), #call, __FILE__, __LINE__)

static inline void bench_check_rc(int rc, const char *what, const char *file, int line)
{
    if (rc < 0)
        bench_die("%s:%d: %s: %s (%s)", file, line, what, mp_strerror(rc),
                  mp_last_error());
}

enum { CTL_READY = 0, CTL_GO = 1, CTL_STAMPS = 2 };

/* A barrier for children that can also hold nstamps end times. */
static inline mp_array *ctl_new(size_t nstamps)
{
    mp_array *ctl = NULL;
    BENCH_CHECK(mp_array_new(&ctl, 'q', CTL_STAMPS + nstamps));
    return ctl;
}

static inline int64_t ctl_get(mp_array *ctl, size_t i)
{
    int64_t v = 0;
    BENCH_CHECK(mp_array_get_int(ctl, i, &v));
    return v;
}

/* In a child: counts itself in, then waits for the start. */
static inline void ctl_arrive(mp_array *ctl)
{
    void *data;
    BENCH_CHECK(mp_array_lock(ctl, &data));
    BENCH_CHECK(mp_array_set_int(ctl, CTL_READY, ctl_get(ctl, CTL_READY) + 1));
    BENCH_CHECK(mp_array_unlock(ctl));
    while (ctl_get(ctl, CTL_GO) == 0)
        bench_sleep_us(20);
}

/* In the parent: waits for nchildren to arrive, then starts them and
 * returns the start time. */
static inline uint64_t ctl_start(mp_array *ctl, int64_t nchildren)
{
    while (ctl_get(ctl, CTL_READY) < nchildren)
        bench_sleep_us(20);
    uint64_t t0 = bench_now_ns();
    BENCH_CHECK(mp_array_set_int(ctl, CTL_GO, 1));
    return t0;
}

static inline void ctl_stamp(mp_array *ctl, size_t slot, uint64_t t)
{
    BENCH_CHECK(mp_array_set_int(ctl, CTL_STAMPS + slot, (int64_t)t));
}

static inline uint64_t ctl_stamp_of(mp_array *ctl, size_t slot)
{
    return (uint64_t)ctl_get(ctl, CTL_STAMPS + slot);
}

/* Starts target(args) in a new process with the given start method. */
static inline mp_process *bench_start(mp_target target, mp_arglist args,
                                      mp_start_method method)
{
    mp_process *p = NULL;
    BENCH_CHECK(mp_process_new(&p, target, args));
    BENCH_CHECK(mp_process_set_start_method(p, method));
    BENCH_CHECK(mp_process_start(p));
    return p;
}

/* Joins and releases p; a child that failed fails the benchmark, so a
 * broken run never reports a number. */
static inline void bench_join(mp_process *p)
{
    int code = -1;
    BENCH_CHECK(mp_process_join(p, MP_FOREVER));
    BENCH_CHECK(mp_process_exitcode(p, &code));
    if (code != 0) bench_die("a child process failed (exit code %d)", code);
    BENCH_CHECK(mp_process_free(p));
}

#endif
