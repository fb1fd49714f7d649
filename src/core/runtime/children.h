/* children.h - the processes this process started and has not closed:
 * what mp_active_children lists and what the end of a program (or of a
 * child) terminates or waits for, as Python's _children set. Only
 * pointers: process.c owns the objects and their states. */
#ifndef MP_CORE_RUNTIME_CHILDREN_H
#define MP_CORE_RUNTIME_CHILDREN_H

#include <stddef.h>

struct mp_process;

/* Adds p (started now). MP_ENOMEM if the list cannot grow. */
int mp__children_add(struct mp_process *p);

/* Removes p (being closed); nothing if it is not there. */
void mp__children_remove(struct mp_process *p);

/* Forgets every entry without touching them: in a forked child, whose
 * copy of the list names its parent's children. */
void mp__children_forget(void);

/* A copy of the list, in start order, into *out for the caller to free()
 * (NULL when empty); *n gets its length. 0 or MP_ENOMEM. */
int mp__children_copy(struct mp_process ***out, size_t *n);

#endif
