/* thread.c - threads, and a process-local mutex and condition variable.
 *
 * Threads start with _beginthreadex rather than CreateThread so that the
 * C runtime sets up its per-thread state (errno, strtok, stdio locks) for
 * them. The mutex and condition variable are an SRWLOCK in exclusive mode
 * and a CONDITION_VARIABLE (Vista+): no kernel object, nothing to free,
 * never failing once initialised. They live in heap structs so that
 * platform.h names no system type. */
#include <process.h>
#include <stdlib.h>

#include "win32_util.h"

struct mp_os_thread {
    HANDLE h;
    void (*fn)(void *);
    void *arg;
};

struct mp_os_mutex {
    SRWLOCK l;
};

struct mp_os_cond {
    CONDITION_VARIABLE c;
};

static unsigned __stdcall trampoline(void *p)
{
    mp_os_thread *t = p;
    t->fn(t->arg);
    return 0;
}

int mp_os_thread_start(mp_os_thread **out, void (*fn)(void *), void *arg)
{
    *out = NULL;
    mp_os_thread *t = malloc(sizeof *t);
    if (!t) return mp_set_error(MP_ENOMEM, "thread: out of memory");
    t->fn = fn;
    t->arg = arg;
    uintptr_t h = _beginthreadex(NULL, 0, trampoline, t, 0, NULL);
    if (h == 0) {
        DWORD e = GetLastError();
        free(t);
        return mp_w32_fail("_beginthreadex", e);
    }
    t->h = (HANDLE)h;
    *out = t;
    return 0;
}

int mp_os_thread_join(mp_os_thread *t)
{
    if (!t) return mp_set_error(MP_EINVAL, "thread_join: NULL thread");
    if (WaitForSingleObject(t->h, INFINITE) != WAIT_OBJECT_0)
        return mp_w32_fail("WaitForSingleObject(thread)", GetLastError());
    CloseHandle(t->h);
    free(t);
    return 0;
}

int mp_os_mutex_new(mp_os_mutex **out)
{
    *out = NULL;
    mp_os_mutex *m = malloc(sizeof *m);
    if (!m) return mp_set_error(MP_ENOMEM, "mutex: out of memory");
    InitializeSRWLock(&m->l);
    *out = m;
    return 0;
}

void mp_os_mutex_free(mp_os_mutex *m)
{
    free(m);
}

void mp_os_mutex_lock(mp_os_mutex *m)
{
    AcquireSRWLockExclusive(&m->l);
}

void mp_os_mutex_unlock(mp_os_mutex *m)
{
    ReleaseSRWLockExclusive(&m->l);
}

int mp_os_cond_new(mp_os_cond **out)
{
    *out = NULL;
    mp_os_cond *c = malloc(sizeof *c);
    if (!c) return mp_set_error(MP_ENOMEM, "condition variable: out of memory");
    InitializeConditionVariable(&c->c);
    *out = c;
    return 0;
}

void mp_os_cond_free(mp_os_cond *c)
{
    free(c);
}

void mp_os_cond_wait(mp_os_cond *c, mp_os_mutex *m)
{
    /* With INFINITE it returns only when woken (or spuriously, which the
     * callers' loops allow). */
    SleepConditionVariableSRW(&c->c, &m->l, INFINITE, 0);
}

void mp_os_cond_wait_until(mp_os_cond *c, mp_os_mutex *m, uint64_t deadline_ns)
{
    DWORD ms = INFINITE;
    if (deadline_ns != MP_NO_DEADLINE) {
        uint64_t now = mp_os_now_ns();
        if (now >= deadline_ns) return;
        uint64_t left = (deadline_ns - now + 999999u) / 1000000u;
        ms = left > 1000u ? 1000u : (DWORD)left;
    }
    SleepConditionVariableSRW(&c->c, &m->l, ms, 0);
}

void mp_os_cond_broadcast(mp_os_cond *c)
{
    WakeAllConditionVariable(&c->c);
}
