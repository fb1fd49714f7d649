/* child_exit.h - the exit work a child's target registers
 * (mp_child_atexit, mproc/process.h), run by process.c's run_child. */
#ifndef MP_CORE_RUNTIME_CHILD_EXIT_H
#define MP_CORE_RUNTIME_CHILD_EXIT_H

/* This process is now a child about to run its target: registering is
 * allowed, and what a parent process registered is forgotten (a forked
 * child starts with its parent's memory). */
void mp__child_exit_begin(void);

/* Runs what the target registered, latest first, once. */
void mp__child_exit_run(void);

#endif
