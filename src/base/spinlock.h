/* spinlock.h - a lock word for a process's own small tables that are
 * touched rarely and briefly (a child's exit handlers, its list of
 * children): no system call and no set-up, a zero word is unlocked, and a
 * forked child, which has only the forking thread, may reset it to zero
 * whatever another thread of its parent held. */
#ifndef MP_BASE_SPINLOCK_H
#define MP_BASE_SPINLOCK_H

#include "base/atomics.h"

static inline void mp_spin_lock(mp_atomic_u32 *word)
{
    uint32_t free_ = 0;
    while (!mp_cas32(word, &free_, 1, MP_ACQUIRE)) {
        free_ = 0;
        mp_cpu_relax();
    }
}

static inline void mp_spin_unlock(mp_atomic_u32 *word)
{
    mp_store32(word, 0, MP_RELEASE);
}

#endif
