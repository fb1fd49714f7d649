/* thread.c - threads, and a process-local mutex and condition variable.
 *
 * Plain pthreads behind heap-allocated opaque structs, so platform.h names
 * no system type. Threads that mproc starts (the queue's feeder) block
 * every signal they can: a program's signal handlers then run on its own
 * threads, as they would without mproc. */
#define _GNU_SOURCE
#include "mp_posix_config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "posix_util.h"

struct mp_os_thread {
    pthread_t tid;
    void (*fn)(void *);
    void *arg;
};

struct mp_os_mutex {
    pthread_mutex_t m;
};

struct mp_os_cond {
    pthread_cond_t c;
};

/* These calls fail only on misuse (a destroyed or foreign object); going
 * on would corrupt state silently, so say so and stop. */
static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "mproc: %s: %s\n", what, strerror(rc));
        abort();
    }
}

static void *trampoline(void *p)
{
    mp_os_thread *t = p;
    t->fn(t->arg);
    return NULL;
}

int mp_os_thread_start(mp_os_thread **out, void (*fn)(void *), void *arg)
{
    *out = NULL;
    mp_os_thread *t = malloc(sizeof *t);
    if (!t) return mp_set_error(MP_ENOMEM, "thread: out of memory");
    t->fn = fn;
    t->arg = arg;
    /* The new thread inherits the creator's mask; set it for the creation
     * only. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&t->tid, NULL, trampoline, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        free(t);
        return mp_px_fail("pthread_create", rc);
    }
    *out = t;
    return 0;
}

int mp_os_thread_join(mp_os_thread *t)
{
    if (!t) return mp_set_error(MP_EINVAL, "thread_join: NULL thread");
    int rc = pthread_join(t->tid, NULL);
    if (rc != 0) return mp_px_fail("pthread_join", rc);
    free(t);
    return 0;
}

int mp_os_mutex_new(mp_os_mutex **out)
{
    *out = NULL;
    mp_os_mutex *m = malloc(sizeof *m);
    if (!m) return mp_set_error(MP_ENOMEM, "mutex: out of memory");
    int rc = pthread_mutex_init(&m->m, NULL);
    if (rc != 0) {
        free(m);
        return mp_px_fail("pthread_mutex_init", rc);
    }
    *out = m;
    return 0;
}

void mp_os_mutex_free(mp_os_mutex *m)
{
    if (!m) return;
    pthread_mutex_destroy(&m->m);
    free(m);
}

void mp_os_mutex_lock(mp_os_mutex *m)
{
    check(pthread_mutex_lock(&m->m), "pthread_mutex_lock");
}

void mp_os_mutex_unlock(mp_os_mutex *m)
{
    check(pthread_mutex_unlock(&m->m), "pthread_mutex_unlock");
}

int mp_os_cond_new(mp_os_cond **out)
{
    *out = NULL;
    mp_os_cond *c = malloc(sizeof *c);
    if (!c) return mp_set_error(MP_ENOMEM, "condition variable: out of memory");
    int rc = pthread_cond_init(&c->c, NULL);
    if (rc != 0) {
        free(c);
        return mp_px_fail("pthread_cond_init", rc);
    }
    *out = c;
    return 0;
}

void mp_os_cond_free(mp_os_cond *c)
{
    if (!c) return;
    pthread_cond_destroy(&c->c);
    free(c);
}

void mp_os_cond_wait(mp_os_cond *c, mp_os_mutex *m)
{
    check(pthread_cond_wait(&c->c, &m->m), "pthread_cond_wait");
}

void mp_os_cond_wait_until(mp_os_cond *c, mp_os_mutex *m, uint64_t deadline_ns)
{
    if (deadline_ns == MP_NO_DEADLINE) {
        mp_os_cond_wait(c, m);
        return;
    }
    /* The condition keeps the wall clock (macOS can give it no other), so
     * the sleep is measured on the monotonic clock and laid onto the wall
     * clock now; sleeps are at most a second, so a clock step costs the
     * caller's loop at most one early or late wake-up. */
    uint64_t now = mp_os_now_ns();
    if (now >= deadline_ns) return;
    uint64_t ns = deadline_ns - now;
    if (ns > 1000000000u) ns = 1000000000u;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t total = (uint64_t)ts.tv_nsec + ns;
    ts.tv_sec += (time_t)(total / 1000000000u);
    ts.tv_nsec = (long)(total % 1000000000u);
    int rc = pthread_cond_timedwait(&c->c, &m->m, &ts);
    if (rc != ETIMEDOUT) check(rc, "pthread_cond_timedwait");
}

void mp_os_cond_broadcast(mp_os_cond *c)
{
    check(pthread_cond_broadcast(&c->c), "pthread_cond_broadcast");
}
