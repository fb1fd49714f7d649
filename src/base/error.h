/* error.h - recording error detail for mp_last_error().
 *
 * Room base/: what core and both OS layers use - errors and the
 * last-error message (here and error.c), byte buffers and readers
 * (buf.h), atomics (atomics.h), deadlines (deadline.h), compiler macros
 * (compat.h) and the test-hook macro (testhook.h). Nothing here calls
 * into core or an OS layer but through platform.h's clock (deadline.h). */
#ifndef MP_BASE_ERROR_H
#define MP_BASE_ERROR_H

#include <stddef.h>
#include <stdint.h>

#include "base/compat.h"
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
MP_API int mp_set_error(int code, const char *fmt, ...) MP_PRINTF(2, 3);

/* Whether the calling thread's detail message belongs to its latest call
 * (mp_set_error sets it, mp_clear_error clears it). */
extern MP_THREAD_LOCAL_FAST unsigned char mp__error_fresh;

/* Forgets the calling thread's detail message. Every public call that
 * returns an error code does this first, so mp_last_error() never reports
 * what an earlier call left (docs/design.md, "Errors"); it is one store,
 * cheap enough for the queue's inline put and get. */
static inline void mp_clear_error(void)
{
    mp__error_fresh = 0;
}

/* mp_clear_error for a library built apart (mproc::mpi), which cannot
 * reach the thread-local flag. */
MP_API void mp__clear_error(void);

/* 1 if n cannot be the size of (or an offset into) a real object: nothing
 * in C is larger than PTRDIFF_MAX bytes, so such a size is a negative
 * number converted to size_t ((size_t)-1, len - 1 with len 0). The public
 * calls refuse it with MP_EINVAL before touching any memory. */
static inline int mp_size_bad(size_t n)
{
    return n > (size_t)PTRDIFF_MAX;
}

#endif
