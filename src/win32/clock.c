/* clock.c - time, process identity, randomness.
 *
 * Deadlines are QueryPerformanceCounter nanoseconds: monotonic, not moved
 * by clock changes, and since Vista independent of the CPU it is read on.
 * The conversion splits the count into whole seconds and a remainder so
 * that count * 1e9 never overflows 64 bits, whatever the frequency.
 *
 * pid_alive is what lets the core's lock detect a dead holder. A process
 * id names a process object for as long as anyone holds a handle to it,
 * even after it exited (the parent keeps one until it joins), so opening
 * it is not enough: a handle that is already signalled means the process
 * ended. OpenProcess answers ERROR_INVALID_PARAMETER for an id that names
 * no process at all; any other failure (ERROR_ACCESS_DENIED: a protected
 * or other user's process) means someone is there. Windows reuses ids
 * quickly (multiples of 4), so the core's known limit about reused ids
 * applies more here than on POSIX.
 *
 * Random bytes come from BCryptGenRandom with the system-preferred RNG
 * (no algorithm handle to open or leak); link bcrypt. */
#include <limits.h>

#include "win32_util.h"

#include <bcrypt.h>

static LARGE_INTEGER qpc_freq;
static INIT_ONCE qpc_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK init_freq(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    /* Never fails on XP and later. */
    QueryPerformanceFrequency(&qpc_freq);
    if (qpc_freq.QuadPart <= 0) qpc_freq.QuadPart = 1;
    return TRUE;
}

uint64_t mp_os_now_ns(void)
{
    InitOnceExecuteOnce(&qpc_once, init_freq, NULL, NULL);
    LARGE_INTEGER c;
    QueryPerformanceCounter(&c);
    uint64_t f = (uint64_t)qpc_freq.QuadPart;
    uint64_t v = (uint64_t)c.QuadPart;
    return v / f * 1000000000u + v % f * 1000000000u / f;
}

DWORD mp_w32_timeout_ms(uint64_t deadline_ns)
{
    if (deadline_ns == MP_NO_DEADLINE) return INFINITE;
    uint64_t now = mp_os_now_ns();
    if (now >= deadline_ns) return 0;
    uint64_t ms = (deadline_ns - now + 999999u) / 1000000u;
    /* INFINITE is 0xFFFFFFFF: stay below it and let the caller loop. */
    return ms >= (uint64_t)INFINITE ? INFINITE - 1 : (DWORD)ms;
}

/* Windows has no fork, so the cache never goes stale. */
mp_atomic_u32 mp__os_pid; /* platform.h */

uint32_t mp_os_getpid(void)
{
    uint32_t pid = (uint32_t)GetCurrentProcessId();
    mp_store32(&mp__os_pid, pid, MP_RELAXED);
    return pid;
}

int mp_os_pid_alive(uint32_t pid)
{
    if (pid == 0) return 0; /* the idle process; 0 is "free" to the lock */
    HANDLE h = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (!h) return GetLastError() == ERROR_INVALID_PARAMETER ? 0 : 1;
    DWORD w = WaitForSingleObject(h, 0);
    CloseHandle(h);
    return w == WAIT_OBJECT_0 ? 0 : 1;
}

int mp_os_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ULONG chunk = n > (size_t)ULONG_MAX ? ULONG_MAX : (ULONG)n;
        NTSTATUS st = BCryptGenRandom(NULL, p, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG);
        if (st < 0)
            return mp_set_error(MP_ESYS, "BCryptGenRandom: status 0x%08lx",
                                (unsigned long)st);
        p += chunk;
        n -= chunk;
    }
    return 0;
}

void mp_os_sleep_ns(uint64_t ns)
{
    uint64_t ms = (ns + 999999u) / 1000000u;
    while (ms > 0) {
        DWORD k = ms >= (uint64_t)INFINITE ? INFINITE - 1 : (DWORD)ms;
        Sleep(k);
        ms -= k;
    }
}

void mp_os_yield(void)
{
    SwitchToThread();
}
