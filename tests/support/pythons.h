/* pythons.h - finding the Pythons on this machine and running programs
 * with one inherited descriptor, for the suites that talk to Python. */
#ifndef MPT_PYTHONS_H
#define MPT_PYTHONS_H

#include <stddef.h>

#define MPT_MAX_PYTHONS 16

typedef struct mpt_python {
    char path[512];
    char version[32]; /* "3.11.7" */
    int major, minor;
} mpt_python;

/* Every distinct CPython 3.8+ found: $MPT_PYTHON, python3 in each PATH
 * directory, python3.N in PATH, /usr/bin/python3, /usr/local/bin/python3,
 * and every $PYENV_ROOT/versions/NAME and ~/.pyenv/versions/NAME. Returns
 * how many (at most max), sorted by version, one per version. The suites
 * that talk to Python all use this one list. */
int mpt_find_pythons(mpt_python *out, int max);

/* Prints to stderr which Python versions the suite `who` covered, and,
 * when fewer than every minor version from 3.8 on, where it looks for
 * more, so a run on a machine with one python3 says so. */
void mpt_python_report(const char *who, const mpt_python *py, int n);

/* mpt_find_pythons once per process, and mpt_python_report for who: the
 * list (*n entries) for a suite's tests to loop over. */
const mpt_python *mpt_pythons(const char *who, int *n);

/* Starts argv[0] (searched in PATH) with argv, giving it the descriptor fd
 * under the number child_fd (fd -1: none). Returns its pid, or -1. */
long mpt_spawn_program(const char *const *argv, int fd, int child_fd);

/* Waits for a program mpt_spawn_program started and returns its exit status
 * (negative: minus the signal that killed it; -1000: could not wait). */
int mpt_wait_program(long pid);

/* mpt_spawn_program + mpt_wait_program. -1000 if it could not start. */
int mpt_run_program(const char *const *argv, int fd, int child_fd);

/* The directory of the test sources (tests/), for scripts kept there. */
const char *mpt_source_dir(void);

#endif
