/* misuse.h - the tables of misuse cases (tests/<room>/misuse*.c).
 *
 * One row is one public function given one bad input: the function's
 * name, what is wrong, an adapter that makes the call, and the result its
 * header documents. A group is the rows of one kind of object with the
 * fixture they run against. Each room's misuse suite registers its groups
 * with mpt_misuse_add, one test per group; support/misuse.c runs every row against a
 * fresh fixture, compares the result, checks that the fixture's objects still work
 * (unless the row is documented to spoil them) and, after every row, that the sentinels
 * made before the group's first row still work.
 *
 * Adapters return an int the row compares: 0 or an MP_E* code, 1 where a
 * function answers "yes", or one of the MPT_R_* results below for calls
 * that return a pointer or a plain value. */
#ifndef MPT_MISUSE_H
#define MPT_MISUSE_H

#include <stddef.h>
#include <stdint.h>

#include "test.h"

/* The call returned NULL (how pointer-returning functions fail). */
#define MPT_R_NULL 1001
/* The call returned something its header does not allow (the adapter
 * printed what). */
#define MPT_R_WRONG 1002

/* Which object an adapter passes (fields of mpt_fx are picked by it). */
enum {
    MPT_LIVE = 0, /* the fixture's ordinary object */
    MPT_NULL,     /* NULL instead of the object */
    MPT_NULL_OUT, /* the object, but NULL for an output or buffer pointer */
    MPT_OTHER     /* a second object of another kind (raw, read-only...) */
};

/* Row flags. */
enum {
    MPT_SPOILS = 1,  /* the documented result leaves the object unusable */
    MPT_POSIX = 2,   /* only on POSIX */
    MPT_WINDOWS = 4, /* only on Windows */
};

/* The objects a group's rows use; each group's setup fills what it needs
 * and its teardown releases it. */
typedef struct mpt_fx {
    mp_value *v, *vd, *vraw;         /* 'i' with a lock, 'd' with a lock, raw 'i' */
    mp_array *a, *araw;              /* 'i' x 4 with a lock, raw 'd' x 4 */
    mp_queue *q, *qclosed;           /* maxsize 2; one after mp_queue_close */
    mp_conn *d0, *d1, *rd, *wr;      /* a duplex pair; a one-way pair */
    mp_process *p;                   /* not started, or running (process_running) */
    mp_conn *hold;                   /* keeps a running child waiting */
    mp_listener *l;                  /* TCP on 127.0.0.1, any port, no key */
    mp_obj *list, *dict, *num, *str; /* [1, 'a'], {'k': 1}, 5, 'x' */
} mpt_fx;

typedef struct mpt_row mpt_row;

struct mpt_row {
    const char *fn;  /* the function */
    const char *bad; /* what is wrong with the input */
    int (*call)(mpt_fx *fx, const mpt_row *r);
    int expect; /* the documented result */
    /* Inputs the adapter reads. */
    int h;       /* MPT_LIVE, MPT_NULL, MPT_NULL_OUT, MPT_OTHER */
    size_t n, i; /* sizes, counts, indexes, offsets */
    double t;    /* a timeout */
    int64_t x;   /* a value, a port, a method... */
    char tc;     /* a typecode */
    unsigned flags;
    /* Non-NULL: a known failure, reported as such (and not failing the
     * suite) with this reason and who fixes it. */
    const char *known;
};

typedef struct mpt_group {
    const char *name;
    void (*setup)(mpt_fx *fx);
    void (*teardown)(mpt_fx *fx);
    /* NULL if the fixture's objects still work, else what does not. */
    const char *(*check)(mpt_fx *fx);
    const mpt_row *rows;
    size_t n;
} mpt_group;

#define MPT_GROUP(name, setup, teardown, check, rows)                                    \
    {                                                                                    \
        name, setup, teardown, check, rows, sizeof rows / sizeof rows[0]                 \
    }

extern const mpt_group mpt_misuse_value, mpt_misuse_array, mpt_misuse_queue,
    mpt_misuse_queue_closed, mpt_misuse_conn, mpt_misuse_process,
    mpt_misuse_process_running, mpt_misuse_obj, mpt_misuse_listener, mpt_misuse_misc;

/* Registers group g as the test g->name of suite (or, when none of its
 * rows is for this OS, records it as not here). */
void mpt_misuse_add(const char *suite, const mpt_group *g);

/* Registers the rows run in a child as the test in_child of suite. */
void mpt_misuse_add_in_child(const char *suite);

/* The rows run in a child (runtime/misuse_child.c): the child's view of its
 * arguments and a connection argument used after mp_conn_close(). Adds
 * the cases tried and failed to *tried and *failed. */
void mpt_misuse_in_child(int *tried, int *failed);

/* Helpers for adapters and checks. */

/* 0 if v reads back what is set, else 1. */
int mpt_value_works(mp_value *v);

/* 0 if a message from a arrives whole at b, else 1. */
int mpt_pipe_works(mp_conn *a, mp_conn *b);

/* A list nested depth + 1 deep ([[[...]]]: depth 0 is []), or NULL. */
mp_obj *mpt_nested(int depth);

#endif
