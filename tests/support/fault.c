/* fault.c - knobs, messages and shared counters of the fault and stress
 * suites (see fault.h). */
#ifndef _WIN32
#define _DEFAULT_SOURCE /* sigaction, alarm under -std=c11 */
#endif
#include "fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_MAGIC 0x4d54504du /* "MPTM" */

uint64_t mpt_env_u64(const char *name, uint64_t def)
{
    const char *s = getenv(name);
    if (!s || !*s) return def;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 0);
    if (!end || *end) {
        fprintf(stderr, "ignoring %s=%s: not a number\n", name, s);
        return def;
    }
    return (uint64_t)v;
}

int mpt_quick(void)
{
    const char *q = getenv("MPT_QUICK");
    return (q && *q && strcmp(q, "0") != 0) || mpt_under_valgrind();
}

int mpt_under_valgrind(void)
{
    /* Valgrind preloads its vgpreload_*.so into every program it runs
     * (children too, with --trace-children): there everything is 20 to
     * 50 times slower, so the suites cut themselves down rather than
     * make the valgrind step of CI last an hour. */
    const char *pre = getenv("LD_PRELOAD");
    return pre && strstr(pre, "vgpreload") != NULL;
}

uint64_t mpt_scaled(uint64_t n, uint64_t min)
{
    if (mpt_quick()) n /= 50;
    return n < min ? min : n;
}

uint64_t mpt_base_seed(void)
{
    return mpt_env_u64("MPT_SEED", 0x6d70726f63ull); /* "mproc" */
}

uint64_t mpt_test_seed(const char *name)
{
    uint64_t base = mpt_base_seed();
    /* FNV-1a of the name, so each test has its own schedule and rerunning
     * one test alone repeats it. */
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    mpt_rng r = {base ^ h};
    return mpt_next(&r);
}

uint64_t mpt_fault_kills(uint64_t def, uint64_t quick_min)
{
    uint64_t n = mpt_env_u64("MPT_FAULT_KILLS", 0);
    return n ? n : mpt_scaled(def, quick_min);
}

/* ---- rounds -------------------------------------------------------------------- */

void mpt_rounds_init(mpt_rounds *s, uint64_t seed, uint64_t total)
{
    memset(s, 0, sizeof *s);
    s->seed = seed;
    s->total = total;
    s->only = mpt_env_u64("MPT_FAULT_ROUND", UINT64_MAX);
}

int mpt_round_next(mpt_rounds *s, int lo, int span)
{
    while (s->done < s->total) {
        s->index = s->count++;
        s->rng.s = s->seed ^ ((uint64_t)s->index + 1) * 0x9e3779b97f4a7c15ull;
        int n = lo + (int)mpt_below(&s->rng, (uint64_t)span);
        if ((uint64_t)n > s->total - s->done) n = (int)(s->total - s->done);
        s->done += (uint64_t)n;
        s->kills = n;
        if (s->only == UINT64_MAX || s->only == (uint64_t)s->index) return 1;
    }
    return 0;
}

/* ---- messages ----------------------------------------------------------------- */

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* A 64-bit checksum over 8-byte words (and a tail): every bit of input
 * reaches every bit of the state, so any change of a message shows. */
static uint64_t mix(uint64_t h, uint64_t w)
{
    h ^= w * 0x87c37b91114253d5ull;
    return rotl(h, 31) * 0x4cf5ad432745937full + 0x52dce729u;
}

static uint64_t checksum(const unsigned char *buf, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
    h = mix(h, (uint64_t)buf[0] | (uint64_t)buf[1] << 8 | (uint64_t)buf[2] << 16 |
                   (uint64_t)buf[3] << 24); /* low half of the header: magic */
    uint64_t w;
    memcpy(&w, buf + 4, 8); /* id, seq */
    h = mix(h, w);
    memcpy(&w, buf + 12, 4);
    h = mix(h, w & 0xffffffffu); /* len */
    size_t i = MPT_MSG_HDR;
    for (; i + 8 <= len; i += 8) {
        memcpy(&w, buf + i, 8);
        h = mix(h, w);
    }
    w = 0;
    memcpy(&w, buf + i, len - i);
    h = mix(h, w);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

void mpt_msg_make(unsigned char *buf, size_t len, uint32_t id, uint32_t seq)
{
    uint32_t magic = MSG_MAGIC, len32 = (uint32_t)len;
    memcpy(buf, &magic, 4);
    memcpy(buf + 4, &id, 4);
    memcpy(buf + 8, &seq, 4);
    memcpy(buf + 12, &len32, 4);
    mpt_rng r = {(uint64_t)id << 32 | seq};
    size_t i = MPT_MSG_HDR;
    for (; i + 8 <= len; i += 8) {
        uint64_t w = mpt_next(&r);
        memcpy(buf + i, &w, 8);
    }
    uint64_t w = mpt_next(&r);
    memcpy(buf + i, &w, len - i);
    uint64_t sum = checksum(buf, len);
    memcpy(buf + 16, &sum, 8);
}

int mpt_msg_check(const unsigned char *buf, size_t len, uint32_t *id, uint32_t *seq)
{
    uint32_t magic, len32;
    uint64_t sum;
    if (len < MPT_MSG_HDR) return -1;
    memcpy(&magic, buf, 4);
    memcpy(id, buf + 4, 4);
    memcpy(seq, buf + 8, 4);
    memcpy(&len32, buf + 12, 4);
    memcpy(&sum, buf + 16, 8);
    if (magic != MSG_MAGIC) return -2;
    if (len32 != (uint32_t)len) return -3;
    if (sum != checksum(buf, len)) return -4;
    return 0;
}

const char *mpt_msg_problem(int code)
{
    switch (code) {
    case 0:
        return "intact";
    case -1:
        return "shorter than a header";
    case -2:
        return "bad magic";
    case -3:
        return "length differs from the header's";
    case -4:
        return "bad checksum";
    default:
        return "?";
    }
}

/* ---- shared words -------------------------------------------------------------- */

int mpt_words_new(mp_array **a, size_t n)
{
    return mp_array_new_raw(a, 'Q', n);
}

int mpt_wait_word(mp_array *a, size_t i, double timeout)
{
    uint64_t deadline = mp_os_now_ns() + (uint64_t)(timeout * 1e9);
    while (mpt_ld(a, i) == 0) {
        if (mp_os_now_ns() > deadline) return 0;
        mp_os_sleep_ns(50000);
    }
    return 1;
}

void mpt_sleep_us(uint64_t us)
{
    if (us) mp_os_sleep_ns(us * 1000);
}

/* ---- watchdog ------------------------------------------------------------------ */

static void (*dog_on_hang)(void *);
static void *dog_arg;
static const char *volatile dog_what = "";
static volatile double dog_seconds;

/* What the watchdog does when time is up, from wherever it runs. */
static void dog_bite(void)
{
    /* On POSIX this runs in a signal handler, where stdio is not safe in
     * general; here the process is about to end, and its main thread is
     * stuck inside mproc, not inside stdio. */
    fflush(stdout);
    fprintf(stderr,
            "\nHANG: %s took more than %.0f s; killing the children and "
            "giving up\n",
            dog_what, dog_seconds);
    fflush(stderr);
    if (dog_on_hang) dog_on_hang(dog_arg);
    /* Not exit(): the main thread is stuck somewhere inside mproc, and
     * atexit handlers or stdio locks could be what it is stuck on. */
    _Exit(3);
}

#ifdef _WIN32

/* Windows: a thread that looks every 100 ms (no fork there, so a thread in
 * the test process costs nothing). */
static mp_os_thread *dog_thread;
static mp_atomic_u64 dog_deadline; /* mp_os_now_ns() time; 0: disarmed */
static mp_atomic_u32 dog_stop;

static void watchdog_main(void *unused)
{
    (void)unused;
    while (!mp_load32(&dog_stop, MP_ACQUIRE)) {
        mp_os_sleep_ns(100000000);
        uint64_t d = mp_load64(&dog_deadline, MP_ACQUIRE);
        if (d != 0 && mp_os_now_ns() >= d) dog_bite();
    }
}

void mpt_watchdog_start(void (*on_hang)(void *), void *arg)
{
    dog_on_hang = on_hang;
    dog_arg = arg;
    mp_store64(&dog_deadline, 0, MP_RELEASE);
    mp_store32(&dog_stop, 0, MP_RELEASE);
    if (mp_os_thread_start(&dog_thread, watchdog_main, NULL) != 0) dog_thread = NULL;
}

void mpt_watchdog_arm(double seconds, const char *what)
{
    dog_what = what;
    dog_seconds = seconds;
    mp_store64(&dog_deadline,
               seconds > 0 ? mp_os_now_ns() + (uint64_t)(seconds * 1e9) : 0, MP_RELEASE);
}

void mpt_watchdog_stop(void)
{
    mp_store64(&dog_deadline, 0, MP_RELEASE);
    mp_store32(&dog_stop, 1, MP_RELEASE);
    if (dog_thread) mp_os_thread_join(dog_thread);
    dog_thread = NULL;
}

#else

/* POSIX: an alarm, not a thread. A test process with a second thread
 * would make every fork child "a child of a multi-threaded process",
 * which ThreadSanitizer refuses to let start threads of its own (the
 * queue's feeder); alarms, unlike threads, do not pass to fork or exec
 * children either. */
#include <signal.h>
#include <unistd.h>

static void on_alarm(int sig)
{
    (void)sig;
    dog_bite();
}

void mpt_watchdog_start(void (*on_hang)(void *), void *arg)
{
    dog_on_hang = on_hang;
    dog_arg = arg;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
}

void mpt_watchdog_arm(double seconds, const char *what)
{
    dog_what = what;
    dog_seconds = seconds;
    alarm(seconds > 0 ? (unsigned)seconds + 1 : 0);
}

void mpt_watchdog_stop(void)
{
    alarm(0);
    signal(SIGALRM, SIG_DFL);
}

#endif

int mpt_parent_alive(int64_t ppid)
{
    return ppid <= 0 || mp_os_pid_alive((uint32_t)ppid);
}
