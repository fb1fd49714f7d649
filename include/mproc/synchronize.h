/* mproc/synchronize.h - synchronization between processes (Python's
 * multiprocessing.synchronize): Lock, RLock, Semaphore, BoundedSemaphore,
 * Event, Condition and Barrier.
 *
 * Each object lives in shared memory and reaches a child as a process
 * argument (mp_args_of(lock), then mp_args_lock(args, i) in the child),
 * under spawn and fork alike. Every object is safe to use from many
 * threads of many processes at once.
 *
 * Timeouts are seconds, as everywhere in mproc (mproc/error.h): 0 only
 * tries (Python's block=False), negative waits with no limit (Python's
 * None), NaN is MP_EINVAL. A wait that runs out returns MP_ETIMEDOUT,
 * which is Python's False.
 *
 * Unlike Python's, a lock whose holder died is never held forever: the
 * next acquire takes it over and returns MP_EOWNERDEAD, with the lock
 * held by the caller (the state it guards may be half-updated). The
 * holder is known by process id; a holder's pid reused by a new process
 * before anyone looked makes the lock look held until that process exits.
 *
 * Every call that returns an error code gives MP_EINVAL for a NULL object
 * or output pointer, and then nothing happens. Each constructor's object
 * is owned by the caller and released by its _free; the shared state
 * lives on while any process (a child) still holds a handle. */
#ifndef MPROC_SYNCHRONIZE_H
#define MPROC_SYNCHRONIZE_H

#include <stdint.h>

#include "export.h"
#include "types.h"
#include "process.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest value of a Semaphore (Python's SEM_VALUE_MAX on Linux). */
#define MP_SEMAPHORE_MAX 2147483647

/* ---- Lock --------------------------------------------------------------- */

/* Creates an unlocked Lock. MP_ENOMEM / MP_ESYS if the shared memory or
 * wait queue cannot be had. */
MP_API int mp_lock_new(mp_lock **lock);

/* Releases this process's handle; a lock it holds stays held (and is
 * taken over with MP_EOWNERDEAD once this process has exited). NULL is
 * ignored. */
MP_API void mp_lock_free(mp_lock *lock);

/* Takes the lock, waiting up to timeout seconds: 0, MP_ETIMEDOUT, or
 * MP_EOWNERDEAD (taken: its holder died holding it). Not recursive: a
 * second acquire by the same thread waits for a release by someone else,
 * as Python's does. */
MP_API int mp_lock_acquire(mp_lock *lock, double timeout);

/* Releases the lock; any thread of any process may, as in Python.
 * MP_ESTATE if it is not held ("released too many times"). */
MP_API int mp_lock_release(mp_lock *lock);

/* 1 if the lock is held, 0 if not, MP_EINVAL for NULL (a snapshot). */
MP_API int mp_lock_locked(mp_lock *lock);

/* ---- RLock -------------------------------------------------------------- */

/* Creates an unlocked recursive lock: its owner is one thread of one
 * process, which may acquire it again and must release it as many times.
 * MP_ENOMEM / MP_ESYS as mp_lock_new. */
MP_API int mp_rlock_new(mp_rlock **lock);

/* As mp_lock_free. */
MP_API void mp_rlock_free(mp_rlock *lock);

/* Takes the lock or, for its owner, one level more: 0, MP_ETIMEDOUT, or
 * MP_EOWNERDEAD (taken at depth 1: the owner died holding it). MP_ERANGE
 * if the owner already holds it 2^32-1 times. */
MP_API int mp_rlock_acquire(mp_rlock *lock, double timeout);

/* Releases one level; the last frees the lock. MP_ESTATE when the calling
 * thread does not own it ("cannot release un-acquired lock"). */
MP_API int mp_rlock_release(mp_rlock *lock);

/* How many times the calling thread holds the lock (0 if it does not);
 * MP_EINVAL for NULL. */
MP_API int64_t mp_rlock_count(mp_rlock *lock);

/* ---- Semaphore and BoundedSemaphore --------------------------------------- */

/* Creates a semaphore of the given value, 0..MP_SEMAPHORE_MAX (else
 * MP_ERANGE). A bounded one refuses a release above its initial value. */
MP_API int mp_semaphore_new(mp_semaphore **sem, int64_t value);
MP_API int mp_bounded_semaphore_new(mp_semaphore **sem, int64_t value);

/* As mp_lock_free. */
MP_API void mp_semaphore_free(mp_semaphore *sem);

/* Takes one unit, waiting up to timeout seconds for one: 0 or
 * MP_ETIMEDOUT. A semaphore has no owner: a unit taken by a process that
 * dies is not given back (POSIX and Windows semaphores behave the same);
 * a waiter then sees MP_ETIMEDOUT at its deadline, never MP_EOWNERDEAD.
 * Guard with a Lock what must be recovered after a death. */
MP_API int mp_semaphore_acquire(mp_semaphore *sem, double timeout);

/* Gives one unit back and wakes one waiter. MP_ESTATE when a bounded
 * semaphore is at its initial value ("released too many times"),
 * MP_ERANGE when the value is at MP_SEMAPHORE_MAX; nothing changes then. */
MP_API int mp_semaphore_release(mp_semaphore *sem);

/* The value now, exact on every OS (Python's get_value, which macOS
 * lacks): 0..MP_SEMAPHORE_MAX, or MP_EINVAL for NULL. */
MP_API int64_t mp_semaphore_get_value(mp_semaphore *sem);

/* ---- Event -------------------------------------------------------------- */

/* Creates an Event, not set. MP_ENOMEM / MP_ESYS as mp_lock_new. */
MP_API int mp_event_new(mp_event **ev);

/* As mp_lock_free. */
MP_API void mp_event_free(mp_event *ev);

/* Sets the flag and wakes every waiter. */
MP_API int mp_event_set(mp_event *ev);

/* Clears the flag. */
MP_API int mp_event_clear(mp_event *ev);

/* 1 if set, 0 if not, MP_EINVAL for NULL. */
MP_API int mp_event_is_set(mp_event *ev);

/* Waits up to timeout seconds for the flag: 0 once it is set (at once if
 * it is), MP_ETIMEDOUT if it was not set in time (Python's False). */
MP_API int mp_event_wait(mp_event *ev, double timeout);

/* ---- Condition ------------------------------------------------------------ */

/* The most processes and threads that may wait on one Condition at once. */
#define MP_CONDITION_MAX_WAITERS 256

/* Creates a Condition over a new RLock of its own (Python's default), or
 * over the caller's Lock or RLock, which must outlive the condition (it
 * is not freed with it). MP_EINVAL for a NULL lock; else as mp_lock_new. */
MP_API int mp_condition_new(mp_condition **cond);
MP_API int mp_condition_new_lock(mp_condition **cond, mp_lock *lock);
MP_API int mp_condition_new_rlock(mp_condition **cond, mp_rlock *lock);

/* Releases this process's handle (and its own RLock's, if it made one). */
MP_API void mp_condition_free(mp_condition *cond);

/* The condition's lock: acquire and release it as mp_lock_* / mp_rlock_*
 * would. mp_condition_lock / _rlock give the lock itself (NULL when it is
 * of the other kind); it belongs to the condition. */
MP_API int mp_condition_acquire(mp_condition *cond, double timeout);
MP_API int mp_condition_release(mp_condition *cond);
MP_API mp_lock *mp_condition_lock(mp_condition *cond);
MP_API mp_rlock *mp_condition_rlock(mp_condition *cond);

/* Lets go of the lock (every level of an RLock), waits until notified or
 * timeout, and takes the lock back at the same depth before it returns,
 * whatever the outcome: 0 when notified, MP_ETIMEDOUT when not (Python's
 * False), MP_EOWNERDEAD when taking the lock back took it over from a
 * dead holder (the lock is held; check what it guards). MP_ESTATE if the
 * calling thread does not hold the lock; MP_ERANGE when
 * MP_CONDITION_MAX_WAITERS already wait. */
MP_API int mp_condition_wait(mp_condition *cond, double timeout);

/* Waits until predicate(arg) returns non-zero, or timeout: returns the
 * predicate's last value (which must be 0 or positive), evaluated with the
 * lock held, as Python's wait_for. The errors of mp_condition_wait other
 * than MP_ETIMEDOUT; MP_EINVAL for a NULL predicate. */
MP_API int mp_condition_wait_for(mp_condition *cond, int (*predicate)(void *arg),
                                 void *arg, double timeout);

/* Wakes up to n of the waiters, oldest first, or all of them; the caller
 * must hold the lock (else MP_ESTATE). Never waits for the woken: a waiter
 * that was killed is skipped and not counted. MP_EINVAL for n < 0. */
MP_API int mp_condition_notify(mp_condition *cond, int64_t n);
MP_API int mp_condition_notify_all(mp_condition *cond);

/* ---- Barrier -------------------------------------------------------------- */

/* The most parties of one Barrier. */
#define MP_BARRIER_MAX_PARTIES 65536

/* Creates a Barrier for parties (1..MP_BARRIER_MAX_PARTIES, else
 * MP_EINVAL) processes or threads. action, if not NULL, runs in the last
 * party to arrive before any is let go (a target as a Process's, found
 * again in a child: it gets no arguments, and a return other than 0
 * breaks the barrier). timeout is the default of mp_barrier_wait
 * (negative: none). */
MP_API int mp_barrier_new(mp_barrier **barrier, int64_t parties, mp_target action,
                          double timeout);

/* As mp_lock_free. */
MP_API void mp_barrier_free(mp_barrier *barrier);

/* Waits until parties have called it: returns this caller's place in the
 * arrival, 0..parties-1. MP_EBROKEN (Python's BrokenBarrierError) when
 * the barrier is or becomes broken while waiting: by a timeout (which
 * breaks it for every waiter), an action that failed, mp_barrier_abort,
 * mp_barrier_reset while waiting, or a party that died while waiting (seen
 * within a bounded time). A negative timeout means the barrier's default. */
MP_API int mp_barrier_wait(mp_barrier *barrier, double timeout);

/* Back to the empty state; parties waiting get MP_EBROKEN. */
MP_API int mp_barrier_reset(mp_barrier *barrier);

/* Breaks the barrier: waiters and later calls get MP_EBROKEN until reset. */
MP_API int mp_barrier_abort(mp_barrier *barrier);

/* The number of parties; the parties waiting now (0 when broken); 1 if
 * broken, else 0. MP_EINVAL for NULL. */
MP_API int64_t mp_barrier_parties(mp_barrier *barrier);
MP_API int64_t mp_barrier_n_waiting(mp_barrier *barrier);
MP_API int mp_barrier_broken(mp_barrier *barrier);

#ifdef __cplusplus
}
#endif
#endif
