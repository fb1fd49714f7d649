/* child.h - how the runner (main.c) starts one test in a process of its
 * own: this binary again, as `mproc_tests --here suite test`, with its
 * stdout and stderr in a file the runner reads back.
 *
 * An exec and not a bare fork, as libuv's runner does: valgrind
 * (--trace-children=yes --child-silent-after-fork=yes) only checks a
 * child that execs, and Windows has no fork. The test's child lives in a
 * process group of its own on POSIX, so that a timeout also kills the
 * processes the test started. */
#ifndef MPT_CHILD_H
#define MPT_CHILD_H

#include <stdio.h>

typedef struct mpt_child {
    FILE *out;     /* the child's stdout and stderr */
    long long pid; /* POSIX: its pid */
    void *handle;  /* Windows: its process handle */
} mpt_child;

/* Starts `self --here suite test`. 0, or -1 with a message printed. */
int mpt_child_start(mpt_child *c, const char *self, const char *suite, const char *test);

/* 1 and *status set if the child has ended (its exit code, or 128 plus
 * the signal that ended it on POSIX), 0 if it still runs, -1 on error. */
int mpt_child_poll(mpt_child *c, int *status);

/* Kills the child (and on POSIX its process group) and waits for it. */
void mpt_child_kill(mpt_child *c);

/* A line a test writes starting with this reaches the runner's output
 * even when the test passes (which Python versions a suite covered). */
#define MPT_NOTE "note: "

/* Copies what the child wrote to to, ending it with a newline; with to
 * NULL, copies only its MPT_NOTE lines, to stdout. Frees what start took. */
void mpt_child_release(mpt_child *c, FILE *to);

/* Kills every child still running; for a signal handler (POSIX). */
void mpt_child_kill_all(void);

/* Sleeps about ms milliseconds. */
void mpt_sleep_ms(int ms);

/* Seconds on a monotonic clock. */
double mpt_now(void);

#endif
