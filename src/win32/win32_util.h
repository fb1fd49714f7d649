/* win32_util.h - helpers shared by the files of src/win32.
 *
 * Every file of the layer includes this first: it fixes the Windows API
 * level (Windows 7: SRW locks, condition variables,
 * PROC_THREAD_ATTRIBUTE_HANDLE_LIST) before <windows.h> and declares the
 * UTF-8 <-> UTF-16 conversions of utf8.c and the command-line quoting of
 * proc.c, which the Windows-only checks call directly.
 *
 * mp_os_handle holds a HANDLE as an integer. INVALID_HANDLE_VALUE is -1,
 * which is MP_OS_NO_HANDLE too, so a failed Create* call and "no handle"
 * are the same value; NULL (0) is also never a valid handle here. */
#ifndef MP_WIN32_UTIL_H
#define MP_WIN32_UTIL_H

#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0601
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#include "base/error.h"
#include "platform.h"

/* Records "what: <system message> (error N)" and returns MP_ESYS (or
 * code, for mp_w32_fail_code). err is passed in because formatting may
 * change GetLastError(). */
int mp_w32_fail_code(int code, const char *what, DWORD err);
static inline int mp_w32_fail(const char *what, DWORD err)
{
    return mp_w32_fail_code(MP_ESYS, what, err);
}

static inline HANDLE mp_w32_h(mp_os_handle h)
{
    return (HANDLE)h;
}

static inline mp_os_handle mp_w32_os(HANDLE h)
{
    return h == NULL ? MP_OS_NO_HANDLE : (mp_os_handle)h;
}

static inline int mp_w32_valid(mp_os_handle h)
{
    return h != MP_OS_NO_HANDLE && h != 0;
}

/* A wait in milliseconds for the deadline: INFINITE for none, else
 * rounded up, so a wait never ends before the deadline and a caller that
 * loops until the deadline does not spin through a last 0 ms wait. Long
 * deadlines are capped below INFINITE: the caller loops. */
DWORD mp_w32_timeout_ms(uint64_t deadline_ns);

/* ---- utf8.c ---------------------------------------------------------------- */

/* UTF-8 -> UTF-16 in a new buffer (free()); MP_EINVAL for invalid UTF-8. */
int mp_w32_to_wide(const char *s, wchar_t **out);

/* UTF-16 -> UTF-8 in a new buffer (free()); unpaired surrogates become
 * U+FFFD (file names may hold them; the caller gets a usable string). */
int mp_w32_to_utf8(const wchar_t *w, char **out);

/* ---- proc.c ---------------------------------------------------------------- */

/* Appends arg to the command line cmd (capacity cap wide chars, *len used),
 * quoted so that CommandLineToArgvW gives it back exactly; preceded by a
 * space unless *len == 0. A NULL cmd only counts: *len grows by what would
 * be written. Returns 0, or MP_ETOOBIG when it does not fit. */
int mp_w32_quote_arg(wchar_t *cmd, size_t cap, size_t *len, const wchar_t *arg);

/* A fresh inheritable duplicate of h in this process (for one spawn). */
int mp_w32_dup_inheritable(HANDLE h, HANDLE *out);

/* Test hook (base/testhook.h): the next this many process starts fail as
 * Wine fails a start whose child died while loading (ERROR_INTERNAL_ERROR),
 * without calling CreateProcessW; a spawn retries those. */
#ifdef MPROC_TEST_HOOKS
extern int mp__w32_start_faults;
#endif

/* ---- pipe.c ---------------------------------------------------------------- */

/* One attempt at a connected pair under name: 0, 1 if the name is taken
 * (try another), or an error code. */
int mp_w32_pipe_pair(int duplex, const wchar_t *name, HANDLE h[2]);

/* Tests only: when set, mp_os_pipe tries this name first (to squat it). */
extern const wchar_t *mp_w32_pipe_first_name;

/* A zero-byte overlapped read on the pipe h completed without error (for
 * wait.c, which starts such reads itself): 2 if h is a message pipe and
 * the read took the empty message it met, else 1. */
int mp_w32_zero_read_result(HANDLE h);

#endif
