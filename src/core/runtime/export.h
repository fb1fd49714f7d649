/* export.h - how shared objects travel to a child process.
 *
 * mp_process_start() serialises every shared-object argument into the
 * bootstrap blob: its parameters into a byte buffer, and its OS handles into
 * a list that the platform layer hands to the child (by inheritance, never
 * by name). In the child, import rebuilds a new handle object from the same
 * bytes and handles. Each import takes ownership of exactly the handles its
 * export listed; the bootstrap closes any left over. */
#ifndef MP_CORE_RUNTIME_EXPORT_H
#define MP_CORE_RUNTIME_EXPORT_H

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

#endif
