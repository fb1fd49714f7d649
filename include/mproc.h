/* mproc.h - Python's multiprocessing for C: processes that share Values and
 * Arrays, talk through Queues and Pipes, and synchronize with Locks,
 * Semaphores and Events, on POSIX and Windows.
 *
 * Start with mproc/process.h. Every function returns 0 or a negative
 * MP_E* code (mproc/error.h) unless its comment says otherwise. */
#ifndef MPROC_H
#define MPROC_H

#include "mproc/export.h"
#include "mproc/types.h"
#include "mproc/version.h"
#include "mproc/error.h"
#include "mproc/process.h"
#include "mproc/value.h"
#include "mproc/array.h"
#include "mproc/queue.h"
#include "mproc/conn.h"
#include "mproc/obj.h"
#include "mproc/listener.h"
#include "mproc/synchronize.h"
#include "mproc/wait.h"
#include "mproc/shared_memory.h"
#include "mproc/shareable_list.h"
#include "mproc/pool.h"

#endif
