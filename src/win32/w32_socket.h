/* w32_socket.h - how the Win32 layer tells a socket from a pipe handle.
 *
 * mp_os_read / mp_os_write_all / mp_os_poll_readable / mp_os_close get
 * only an mp_os_handle, and on Windows a SOCKET needs recv/send/select/
 * closesocket while a pipe needs overlapped ReadFile/WriteFile (Winsock
 * does not promise that ReadFile works on every socket: a layered
 * provider's socket is not a file handle at all). Asking the system each
 * time is not reliable (GetFileType says FILE_TYPE_PIPE for both) or is a
 * system call per message (getsockopt(SO_TYPE) failing on every pipe).
 *
 * So the layer marks its sockets in the value itself: a socket made by
 * socket.c travels as (SOCKET | 1). Kernel handles, SOCKETs included, are
 * multiples of 4 (the low two bits are the "tag bits" that ntdef.h names
 * OBJ_HANDLE_TAGBITS and the kernel ignores), so no pipe, file or process
 * handle ever has bit 0 set; Windows 7's console pseudo-handles end in 3,
 * not 1, and never reach these functions. socket.c refuses a SOCKET whose
 * low bits are not zero (a non-IFS layered provider's), so the mark cannot
 * be ambiguous. The mark is stripped before every Winsock call. */
#ifndef MP_W32_SOCKET_H
#define MP_W32_SOCKET_H

#include "win32_util.h"

#define MP_W32_SOCK_TAG ((mp_os_handle)1)

static inline int mp_w32_is_sock(mp_os_handle h)
{
    return h != MP_OS_NO_HANDLE && (h & 3) == MP_W32_SOCK_TAG;
}

/* socket.c: I/O on a marked socket handle, with the contracts of the
 * mp_os_* functions of the same names. */
int mp_w32_sock_write_all(mp_os_handle h, const void *buf, size_t n);
int mp_w32_sock_read(mp_os_handle h, void *buf, size_t n, size_t *got);
int mp_w32_sock_poll(mp_os_handle h, uint64_t deadline_ns);
void mp_w32_sock_close(mp_os_handle h);

#endif
