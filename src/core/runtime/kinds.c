/* kinds.c - the table of argument kinds (see kind.h): one line per kind.
 *
 * Each kind's mp_kind lives in the file of its subject; this table is the
 * only place that names them all. */
#include <stddef.h>

#include "core/runtime/kind.h"

extern const mp_kind mp__kind_int, mp__kind_double, mp__kind_str, mp__kind_bytes;
extern const mp_kind mp__kind_obj;
extern const mp_kind mp__kind_value, mp__kind_array, mp__kind_queue, mp__kind_conn;
extern const mp_kind mp__kind_lock, mp__kind_rlock, mp__kind_semaphore, mp__kind_event;
extern const mp_kind mp__kind_condition, mp__kind_barrier, mp__kind_shared_memory;

static const mp_kind *const kinds[] = {
    [MP_ARG_INT] = &mp__kind_int,
    [MP_ARG_DOUBLE] = &mp__kind_double,
    [MP_ARG_STR] = &mp__kind_str,
    [MP_ARG_BYTES] = &mp__kind_bytes,
    [MP_ARG_OBJ] = &mp__kind_obj,
    [MP_ARG_VALUE] = &mp__kind_value,
    [MP_ARG_ARRAY] = &mp__kind_array,
    [MP_ARG_QUEUE] = &mp__kind_queue,
    [MP_ARG_CONN] = &mp__kind_conn,
    [MP_ARG_LOCK] = &mp__kind_lock,
    [MP_ARG_RLOCK] = &mp__kind_rlock,
    [MP_ARG_SEMAPHORE] = &mp__kind_semaphore,
    [MP_ARG_EVENT] = &mp__kind_event,
    [MP_ARG_CONDITION] = &mp__kind_condition,
    [MP_ARG_BARRIER] = &mp__kind_barrier,
    [MP_ARG_SHARED_MEMORY] = &mp__kind_shared_memory,
};

const mp_kind *mp__kind(mp_arg_type type)
{
    size_t i = (size_t)type;
    return i < sizeof kinds / sizeof kinds[0] ? kinds[i] : NULL;
}
