/* bench_util.h - what every benchmark program shares: a clock, argument
 * parsing, a polite way to wait, and the one line of output.
 *
 * Each program prints exactly one line on stdout, "<value> <unit>", and
 * nothing else: bench/run.py collects that line and nothing more, so
 * diagnostics go to stderr. Times come from the monotonic clock, which on
 * Linux is one clock for the whole machine: a stamp taken in one process
 * can be subtracted from a stamp taken in another (the multi-process
 * workloads rely on that).
 *
 * Plain C, usable from C++ (bench/boost_mq.cpp) and on Windows (the mproc
 * programs are meant to build there too). */
#ifndef MPROC_BENCH_UTIL_H
#define MPROC_BENCH_UTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <sched.h>
#include <time.h>
#endif

#define BENCH_KIB ((uint64_t)1 << 10)
#define BENCH_MIB ((uint64_t)1 << 20)
#define BENCH_GIB ((uint64_t)1 << 30)

static inline uint64_t bench_now_ns(void)
{
#ifdef _WIN32
    static LARGE_INTEGER freq;
    LARGE_INTEGER now;
    if (freq.QuadPart == 0) QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    return (uint64_t)((double)now.QuadPart * 1e9 / (double)freq.QuadPart);
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

/* Gives the CPU away: on two cores a busy-polling side would otherwise
 * steal the time its peer needs to make progress. */
static inline void bench_yield(void)
{
#ifdef _WIN32
    SwitchToThread();
#else
    sched_yield();
#endif
}

static inline void bench_sleep_us(unsigned us)
{
#ifdef _WIN32
    Sleep(us < 1000 ? 1 : us / 1000);
#else
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    nanosleep(&ts, NULL);
#endif
}

#if defined(__GNUC__) || defined(__clang__)
#define BENCH_DIES_PRINTF __attribute__((noreturn, format(printf, 1, 2)))
#else
#define BENCH_DIES_PRINTF
#endif

/* Prints why on stderr and fails the program: a benchmark that went wrong
 * must never print a number. */
BENCH_DIES_PRINTF static inline void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* argv[i] as a positive count; a count of zero is always a mistake here. */
static inline uint64_t bench_arg_u64(int argc, char **argv, int i, const char *name)
{
    if (i >= argc) bench_die("%s: missing argument <%s>", argv[0], name);
    char *end = NULL;
    unsigned long long v = strtoull(argv[i], &end, 10);
    if (end == argv[i] || *end != '\0' || v == 0)
        bench_die("%s: <%s> must be a positive integer, not '%s'", argv[0], name,
                  argv[i]);
    return (uint64_t)v;
}

static inline const char *bench_arg_str(int argc, char **argv, int i, const char *name)
{
    if (i >= argc) bench_die("%s: missing argument <%s>", argv[0], name);
    return argv[i];
}

static inline void *bench_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) bench_die("out of memory (%zu bytes)", n);
    return p;
}

/* A sender's message buffer of n bytes, filled with the pattern every
 * implementation sends (so no one gets a cheaper page of zeros). */
static inline unsigned char *bench_payload(size_t n)
{
    unsigned char *p = (unsigned char *)bench_xmalloc(n);
    memset(p, 0x5a, n);
    return p;
}

/* Message i of a stream: its sequence number in the first 8 bytes (when
 * the message has room) so the receiver can check order and count, the
 * rest a fixed pattern. */
static inline void bench_stamp_msg(unsigned char *msg, size_t size, uint64_t seq)
{
    if (size >= sizeof seq) memcpy(msg, &seq, sizeof seq);
}

static inline uint64_t bench_msg_seq(const unsigned char *msg, size_t size)
{
    uint64_t seq = 0;
    if (size >= sizeof seq) memcpy(&seq, msg, sizeof seq);
    return seq;
}

/* The measurement: one line, "<value> <unit>". */
static inline void bench_report(double value, const char *unit)
{
    printf("%.6g %s\n", value, unit);
    fflush(stdout);
}

static inline double bench_gib_per_s(uint64_t bytes, uint64_t ns)
{
    return ns ? ((double)bytes / (double)BENCH_GIB) / ((double)ns / 1e9) : 0.0;
}

static inline double bench_per_s(uint64_t n, uint64_t ns)
{
    return ns ? (double)n / ((double)ns / 1e9) : 0.0;
}

/* Where the ballast escapes to: without it the compiler may see that the
 * memory is never read and drop the malloc, the memset and the free
 * altogether (GCC did, for spawn_join.c), and the "1 GiB parent" would
 * be a small one. */
static void *volatile bench_ballast_sink;

/* Touches size bytes so they are really resident: a fork must then copy
 * the page tables of all of it, which is what spawn_join_*_1g measures.
 * Released with free(). */
static inline void *bench_ballast(uint64_t size)
{
    if (size == 0) return NULL;
    unsigned char *p = (unsigned char *)bench_xmalloc((size_t)size);
    bench_ballast_sink = p;
    memset(p, 1, (size_t)size);
    return p;
}

#endif
