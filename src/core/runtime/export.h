/* export.h - how shared objects travel to a child process.
 *
 * mp_process_start() serialises every shared-object argument into the
 * bootstrap blob: its parameters into a byte buffer, and its OS handles into
 * a list that the platform layer hands to the child (by inheritance, never
 * by name). In the child, import rebuilds a new handle object from the same
 * bytes and handles. Each import takes ownership of exactly the handles its
 * export listed; the bootstrap closes any left over. */
#ifndef MP_CORE_OBJECTS_H
#define MP_CORE_OBJECTS_H

#include "platform.h"
#include "base/buf.h"
#include "mproc/process.h"

typedef struct mp_export {
    mp_buf *buf;
    mp_os_handle *handles;
    size_t n, cap;
    int failed;
} mp_export;

typedef struct mp_import {
    mp_rd *rd;
    mp_os_handle *handles; /* slots set to MP_OS_NO_HANDLE once taken */
    size_t n;
} mp_import;

/* Appends h to the handle list and writes its index to the buffer. The
 * handle stays owned by the exporting object. */
void mp_export_handle(mp_export *ex, mp_os_handle h);

/* Reads an index and takes that handle out of the list: the caller owns it.
 * MP_EPROTO for a bad or already taken index. */
int mp_import_handle(mp_import *im, mp_os_handle *h);

/* Per type: export this handle's state for a child; build one from it. */
int mp__value_export(mp_value *v, mp_export *ex);
int mp__value_import(mp_value **v, mp_import *im);
int mp__array_export(mp_array *a, mp_export *ex);
int mp__array_import(mp_array **a, mp_import *im);
int mp__queue_export(mp_queue *q, mp_export *ex);
int mp__queue_import(mp_queue **q, mp_import *im);
int mp__conn_export(mp_conn *c, mp_export *ex);
int mp__conn_import(mp_conn **c, mp_import *im);

/* A child's argument conn: mp_conn_close() by the target then only closes
 * the handle, and mp__conn_release() frees it after the target returns. */
void mp__conn_hold(mp_conn *c);
void mp__conn_release(mp_conn *c);

#endif
