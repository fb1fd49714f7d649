/* utf8.c - text at the layer's edge: UTF-8 outside, UTF-16 inside.
 *
 * mproc's interface is UTF-8 (module paths in a function location, error
 * messages); Windows' wide (W) API is UTF-16. Only the W functions are
 * called, never the ANSI ones, whose code page depends on the machine.
 * UTF-8 coming in is checked strictly (MB_ERR_INVALID_CHARS): a bad byte
 * is the caller's error, not something to guess at. UTF-16 coming out of
 * Windows may hold unpaired surrogates (NTFS names are any 16-bit
 * sequence), which become U+FFFD rather than a failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win32_util.h"

int mp_w32_to_wide(const char *s, wchar_t **out)
{
    *out = NULL;
    if (!s) return mp_set_error(MP_EINVAL, "NULL string");
    size_t len = strlen(s);
    if (len >= (size_t)INT_MAX) return mp_set_error(MP_EINVAL, "string too long");
    int n = 0;
    if (len > 0) {
        n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, (int)len, NULL, 0);
        if (n <= 0) return mp_set_error(MP_EINVAL, "string is not valid UTF-8");
    }
    wchar_t *w = malloc(((size_t)n + 1) * sizeof *w);
    if (!w) return mp_set_error(MP_ENOMEM, "out of memory");
    if (n > 0 &&
        MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, (int)len, w, n) != n) {
        free(w);
        return mp_set_error(MP_EINVAL, "string is not valid UTF-8");
    }
    w[n] = L'\0';
    *out = w;
    return 0;
}

int mp_w32_to_utf8(const wchar_t *w, char **out)
{
    *out = NULL;
    if (!w) return mp_set_error(MP_EINVAL, "NULL string");
    size_t len = wcslen(w);
    if (len >= (size_t)INT_MAX / 3) return mp_set_error(MP_EINVAL, "string too long");
    int n = 0;
    if (len > 0) {
        /* Flags 0: unpaired surrogates are replaced, not refused. */
        n = WideCharToMultiByte(CP_UTF8, 0, w, (int)len, NULL, 0, NULL, NULL);
        if (n <= 0) return mp_w32_fail("WideCharToMultiByte", GetLastError());
    }
    char *s = malloc((size_t)n + 1);
    if (!s) return mp_set_error(MP_ENOMEM, "out of memory");
    if (n > 0 && WideCharToMultiByte(CP_UTF8, 0, w, (int)len, s, n, NULL, NULL) != n) {
        DWORD e = GetLastError();
        free(s);
        return mp_w32_fail("WideCharToMultiByte", e);
    }
    s[n] = '\0';
    *out = s;
    return 0;
}

int mp_w32_fail_code(int code, const char *what, DWORD err)
{
    wchar_t *msg = NULL;
    char text[200] = "";
    DWORD n = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                                 FORMAT_MESSAGE_IGNORE_INSERTS,
                             NULL, err, 0, (LPWSTR)(void *)&msg, 0, NULL);
    if (n > 0 && msg) {
        while (n > 0 && (msg[n - 1] == L'\r' || msg[n - 1] == L'\n' ||
                         msg[n - 1] == L' ' || msg[n - 1] == L'.'))
            msg[--n] = L'\0';
        int k =
            WideCharToMultiByte(CP_UTF8, 0, msg, -1, text, (int)sizeof text, NULL, NULL);
        if (k <= 0) text[0] = '\0';
    }
    if (msg) LocalFree(msg);
    if (text[0])
        return mp_set_error(code, "%s: %s (error %lu)", what, text, (unsigned long)err);
    return mp_set_error(code, "%s: error %lu", what, (unsigned long)err);
}
