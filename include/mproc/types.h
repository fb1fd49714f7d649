/* mproc/types.h - every handle type of the public API, in one place.
 *
 * Each is opaque: created by its constructor, released by its one
 * destructor, and known to the program only by pointer. Named after the
 * Python class it mirrors. */
#ifndef MPROC_TYPES_H
#define MPROC_TYPES_H

typedef struct mp_process mp_process;     /* Process (mproc/process.h) */
typedef struct mp_args mp_args;           /* a child's view of its args */
typedef struct mp_value mp_value;         /* Value, RawValue (mproc/value.h) */
typedef struct mp_array mp_array;         /* Array, RawArray (mproc/array.h) */
typedef struct mp_queue mp_queue;         /* Queue (mproc/queue.h) */
typedef struct mp_conn mp_conn;           /* one end of a Pipe (mproc/conn.h) */
typedef struct mp_listener mp_listener;   /* Listener (mproc/listener.h) */
typedef struct mp_lock mp_lock;           /* Lock (mproc/synchronize.h) */
typedef struct mp_rlock mp_rlock;         /* RLock */
typedef struct mp_semaphore mp_semaphore; /* Semaphore, BoundedSemaphore */
typedef struct mp_event mp_event;         /* Event */
typedef struct mp_condition mp_condition; /* Condition */
typedef struct mp_barrier mp_barrier;     /* Barrier */
typedef struct mp_obj mp_obj;             /* a Python-like value (mproc/obj.h) */
/* SharedMemory (mproc/shared_memory.h), ShareableList (shareable_list.h) */
typedef struct mp_shared_memory mp_shared_memory;
typedef struct mp_shareable_list mp_shareable_list;

#endif
