/* args.h - a process's arguments from the parent's list to the child's
 * view, by the table of kinds (kind.h). */
#ifndef MP_CORE_RUNTIME_ARGS_H
#define MP_CORE_RUNTIME_ARGS_H

#include <stddef.h>

#include "core/runtime/export.h"
#include "mproc/process.h"

/* The child's view: the arguments with objects rebuilt in this process. */
struct mp_args {
    mp_arg *items;
    size_t count;
};

/* Parent: copies list (see mp_kind.copy) into *out, NULL for no arguments;
 * the caller frees it with mp__args_drop. MP_EINVAL for a bad list, type or
 * NULL, a kind's own code otherwise; nothing is left allocated then. */
int mp__args_copy(mp_arglist list, mp_arg **out);

/* Parent: frees a copy of n arguments made by mp__args_copy. */
void mp__args_drop(mp_arg *args, size_t n);

/* Parent: the count, then each argument's type and export. */
int mp__args_export(const mp_arg *args, size_t n, mp_export *ex);

/* Child: rebuilds what mp__args_export wrote. On failure the arguments
 * already rebuilt stay in *args for mp__args_release. */
int mp__args_import(mp_args *args, mp_import *im);

/* Child: releases every rebuilt argument, in order. */
void mp__args_release(mp_args *args);

/* Child: the shared object of argument i if it is of type t, else NULL
 * (also past the end and for NULL args). What each kind's public accessor
 * (mp_args_value, ...) returns. */
void *mp__args_object(const mp_args *args, size_t i, mp_arg_type t);

#endif
