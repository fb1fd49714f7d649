/* leakcheck.h - what a test process holds that it could leak: descriptors
 * (Windows: handles), mproc's names in /dev/shm, and children.
 *
 * The leak suite (leaks.c) compares the end of each test with its start;
 * the fault suites compare the end of every kill round with its start, so
 * a round that leaves something behind is named. */
#ifndef MPT_LEAKCHECK_H
#define MPT_LEAKCHECK_H

#include <stddef.h>

/* POSIX: fds below this are watched. Windows: handle values below 4 times
 * this (handles are multiples of 4, lowest free first, so a leak takes a
 * low value). */
enum { MPT_LEAK_SLOTS = 8192 };

/* What was open at one moment. */
typedef struct mpt_leak_mark {
    unsigned char open[MPT_LEAK_SLOTS];
    unsigned long count; /* Windows: GetProcessHandleCount (0 under Wine) */
} mpt_leak_mark;

/* Records what is open now. 0 if that cannot be known (no /proc). */
int mpt_leak_mark_now(mpt_leak_mark *m);

/* Prints (prefixed by when) and counts the descriptors / handles open now
 * that were not open at m. With compare_count, Windows also counts a
 * process handle count above m's as one leak (it sees a leak that reused
 * the value of a handle closed since). -1 if it cannot be known. */
int mpt_leaked_handles(const mpt_leak_mark *m, const char *when, int compare_count);

/* The mproc names ("mp-...") in /dev/shm, after waiting up to 2 s for
 * names that other test processes hold for an instant; the first is
 * printed, prefixed by when, and all are removed, so that one leak fails
 * one check rather than every later one on the machine. Always 0 on
 * Windows, whose sections have no names. */
int mpt_leaked_shm_names(const char *when);

/* Children of this process still running, or exited and never waited
 * for, printed with when. POSIX reaps a zombie it finds. */
int mpt_leaked_children(const char *when);

/* All three (handles without the count): the number of problems. */
int mpt_leaks_since(const mpt_leak_mark *m, const char *when);

#endif
