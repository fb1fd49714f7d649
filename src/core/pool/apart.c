/* apart.c - what a backend built apart (mproc::mpi) may use of the
 * platform: it cannot reach src/platform.h's calls, which the shared
 * library does not export. */
#include "core/pool/pool.h"

int mp__pool_pid_alive(int64_t pid)
{
    return pid > 0 && pid <= UINT32_MAX && mp_os_pid_alive((uint32_t)pid) == 1;
}

void mp__pool_sleep_ns(uint64_t ns)
{
    mp_os_sleep_ns(ns);
}

int mp__pool_thread_start(mp_os_thread **t, void (*fn)(void *), void *arg)
{
    return mp_os_thread_start(t, fn, arg);
}

int mp__pool_thread_join(mp_os_thread *t)
{
    return mp_os_thread_join(t);
}

int mp__pool_mutex_new(mp_os_mutex **m)
{
    return mp_os_mutex_new(m);
}

void mp__pool_mutex_free(mp_os_mutex *m)
{
    mp_os_mutex_free(m);
}

void mp__pool_mutex_lock(mp_os_mutex *m)
{
    mp_os_mutex_lock(m);
}

void mp__pool_mutex_unlock(mp_os_mutex *m)
{
    mp_os_mutex_unlock(m);
}
