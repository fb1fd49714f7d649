/* fault.h - what the fault-injection and stress suites share: the seed
 * and scale knobs, a small random generator, self-checking messages, and
 * counters in shared memory.
 *
 * Knobs (environment, read by the parent and passed on to children as
 * arguments):
 *   MPT_SEED=n              the base seed (decimal or 0x hex); each test
 *                           derives its own from it and its name, and
 *                           prints it, so a failing schedule can be rerun
 *   MPT_FAULT_KILLS=n       kills per fault test (fault_queue: per start
 *                           method)
 *   MPT_STRESS_MESSAGES=n   messages per producer in the stress suite
 *   MPT_QUICK=1             everything about 50 times smaller (valgrind);
 *                           also on when running under valgrind */
#ifndef MPT_FAULT_H
#define MPT_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include "mproc.h"
#include "platform.h"

/* ---- knobs --------------------------------------------------------------- */

/* An unsigned integer from the environment (decimal or 0x hex), or def. */
uint64_t mpt_env_u64(const char *name, uint64_t def);

/* 1 with MPT_QUICK set (not "0"), or under valgrind. */
int mpt_quick(void);

/* 1 in a program valgrind runs (it preloads vgpreload_*.so). */
int mpt_under_valgrind(void);

/* n, or n / 50 (at least min) in quick mode. */
uint64_t mpt_scaled(uint64_t n, uint64_t min);

/* MPT_SEED, or the fixed default. */
uint64_t mpt_base_seed(void);

/* The seed of one test: MPT_SEED (or the default) mixed with name. */
uint64_t mpt_test_seed(const char *name);

/* Kills per fault test: MPT_FAULT_KILLS, else def (in quick mode def / 50,
 * but at least quick_min). */
uint64_t mpt_fault_kills(uint64_t def, uint64_t quick_min);

/* ---- random numbers (splitmix64: tiny, and good enough for schedules) ---- */

typedef struct mpt_rng {
    uint64_t s;
} mpt_rng;

static inline uint64_t mpt_next(mpt_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n); 0 when n is 0. */
static inline uint64_t mpt_below(mpt_rng *r, uint64_t n)
{
    return n ? mpt_next(r) % n : 0;
}

/* ---- the rounds of a kill driver ------------------------------------------- */

/* total kills spread over rounds of lo to lo + span - 1 kills (the last
 * round fewer). Round i draws from a generator of its own, seeded from the
 * test's seed, so MPT_FAULT_ROUND=i runs round i alone with the schedule it
 * has in a full run. */
typedef struct mpt_rounds {
    uint64_t seed, total, done, only;
    int count;   /* rounds scheduled so far, run or skipped */
    int index;   /* the round mpt_round_next gave last ... */
    int kills;   /* ... its kills ... */
    mpt_rng rng; /* ... and its generator */
} mpt_rounds;

void mpt_rounds_init(mpt_rounds *s, uint64_t seed, uint64_t total);

/* The next round to run; 0 once every kill is scheduled. */
int mpt_round_next(mpt_rounds *s, int lo, int span);

/* ---- self-checking messages ------------------------------------------------ */

/* A message is a 24-byte header (magic, producer id, sequence number,
 * length, checksum) and a payload of pseudo-random bytes derived from id
 * and seq. The checksum covers the header fields and the payload, so a
 * torn, shifted, truncated or mixed-up message is caught, whoever made
 * it. */
#define MPT_MSG_HDR 24

/* Writes the message (id, seq) of len bytes (at least MPT_MSG_HDR) to buf. */
void mpt_msg_make(unsigned char *buf, size_t len, uint32_t id, uint32_t seq);

/* 0 if buf (len bytes) is a whole, intact message, setting *id and *seq;
 * otherwise what is wrong (a negative code for mpt_msg_problem). */
int mpt_msg_check(const unsigned char *buf, size_t len, uint32_t *id, uint32_t *seq);

/* "bad checksum" and the like. */
const char *mpt_msg_problem(int code);

/* ---- counters in shared memory ------------------------------------------------ */

/* A raw 'Q' array used as 64-bit words that several processes (and
 * threads) read and write: atomics, so a reader never sees half a store.
 * Elements of a raw array are 8-byte aligned in a segment of their own,
 * and mproc's atomics are plain lock-free words, the same in every
 * process. */
int mpt_words_new(mp_array **a, size_t n);

static inline mp_atomic_u64 *mpt_word(mp_array *a, size_t i)
{
    return (mp_atomic_u64 *)mp_array_data(a) + i;
}
static inline uint64_t mpt_ld(mp_array *a, size_t i)
{
    return mp_load64(mpt_word(a, i), MP_SEQ_CST);
}
static inline void mpt_st(mp_array *a, size_t i, uint64_t v)
{
    mp_store64(mpt_word(a, i), v, MP_SEQ_CST);
}
static inline void mpt_inc(mp_array *a, size_t i)
{
    mp_add64(mpt_word(a, i), 1, MP_SEQ_CST);
}

/* Waits until word i of a is nonzero, up to timeout seconds: 1 if it is. */
int mpt_wait_word(mp_array *a, size_t i, double timeout);

/* Sleeps us microseconds (0: returns at once). */
void mpt_sleep_us(uint64_t us);

/* ---- hangs ---------------------------------------------------------------------- */

/* A watchdog for tests whose failure may be a hang: once armed, unless it
 * is re-armed or disarmed within the time given, it prints what was going
 * on, calls on_hang (which kills the test's children, so none is left
 * behind) and ends the process with status 3. A hang then fails with a
 * message saying where, instead of at ctest's timeout with children
 * still running. One test at a time. */
void mpt_watchdog_start(void (*on_hang)(void *), void *arg);
void mpt_watchdog_arm(double seconds, const char *what); /* what: a literal; 0 s: off */
void mpt_watchdog_stop(void);

/* For children: 1 while the parent (its pid given as an argument) lives,
 * so that a child whose test process died does not run on forever. */
int mpt_parent_alive(int64_t ppid);

#endif
