/* kind.h - the kinds of argument a child can receive, and what each does.
 *
 * Every argument of mp_process_new() has a kind (its mp_arg_type): a plain
 * value (int, double, str, bytes), an mp_obj, or a shared object (Value,
 * Array, Queue, Conn, ...). A kind is one mp_kind, defined in the file of
 * its subject, plus one line in the table of kinds.c; the runtime's
 * argument code (args.c) loops over arguments and asks the table, with no
 * code of its own per kind. docs/design.md shows what a new kind adds.
 *
 * The life of one argument, and the operation that serves each step:
 *   parent  mp_process_new    copy     a copy that outlives the caller's
 *                                      buffers (a shared object: the same
 *                                      reference, checked)
 *   parent  mp_process_start  export   bytes and handles into the
 *                                      bootstrap blob (export.h)
 *   parent  mp_process_free  drop     frees what copy made
 *   child   before the target import   the child's own value or object
 *   child   after the target  release  frees what import made */
#ifndef MP_CORE_RUNTIME_KIND_H
#define MP_CORE_RUNTIME_KIND_H

#include "core/runtime/export.h"
#include "mproc/process.h"

typedef struct mp_kind {
    const char *name; /* as Python names it, for messages: "Value", "str" */
    /* 0, or a negative code (the caller adds the argument's index and the
     * kind to the message). dst->type is set by the caller on success. */
    int (*copy)(mp_arg *dst, const mp_arg *src);
    void (*drop)(mp_arg *a); /* NULL: copy made nothing to free */
    int (*export_arg)(const mp_arg *a, mp_export *ex);
    int (*import_arg)(mp_arg *a, mp_import *im);
    void (*release)(mp_arg *a); /* NULL: import made nothing to free */
} mp_kind;

/* The kind of type, or NULL for a type no kind serves (MP_ARG_NONE, an
 * out-of-range number). */
const mp_kind *mp__kind(mp_arg_type type);

/* The copy of every shared object: the same reference; MP_EINVAL for NULL. */
int mp__kind_copy_ref(mp_arg *dst, const mp_arg *src);

/* For kinds whose copy is a byte string in u.bytes (bytes, a pickled
 * object): frees it, and writes it to the blob. */
void mp__kind_drop_blob(mp_arg *a);
int mp__kind_export_blob(const mp_arg *a, mp_export *ex);

#endif
