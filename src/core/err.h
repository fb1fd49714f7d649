/* err.h - recording error detail for mp_last_error(). */
#ifndef MP_CORE_ERR_H
#define MP_CORE_ERR_H

#include "mproc/error.h"

#if defined(__MINGW32__)
/* MinGW's plain printf format is msvcrt's dialect, which lacks %zu; the
 * library builds with __USE_MINGW_ANSI_STDIO, the GNU dialect. */
#define MP_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#elif defined(__GNUC__) || defined(__clang__)
#define MP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MP_PRINTF(f, a)
#endif

/* Records a detail message for the calling thread and returns code, so a
 * failure path reads: return mp_set_error(MP_EINVAL, "bad typecode '%c'", tc); */
int mp_set_error(int code, const char *fmt, ...) MP_PRINTF(2, 3);

/* Clears the calling thread's detail message. */
void mp_clear_error(void);

#endif
