/* atomics.h - the one place mproc touches atomic operations.
 *
 * Shared-memory words are accessed only through these wrappers so that a
 * compiler without C11 <stdatomic.h> (MSVC before 17.5) can be served by an
 * Interlocked* implementation of this file alone. Only always-lock-free
 * atomics may live in shared memory: a lock-based atomic would take a lock
 * that exists once per process, not once per segment. */
#ifndef MP_ATOMICS_H
#define MP_ATOMICS_H

#include <stdatomic.h>
#include <stdint.h>

#if ATOMIC_INT_LOCK_FREE != 2 || ATOMIC_LLONG_LOCK_FREE != 2
#error "mproc needs always-lock-free 32- and 64-bit atomics for shared memory"
#endif

typedef _Atomic uint32_t mp_atomic_u32;
typedef _Atomic uint64_t mp_atomic_u64;

_Static_assert(sizeof(mp_atomic_u32) == 4, "shared layout");
_Static_assert(sizeof(mp_atomic_u64) == 8, "shared layout");

#define MP_RELAXED memory_order_relaxed
#define MP_ACQUIRE memory_order_acquire
#define MP_RELEASE memory_order_release
#define MP_SEQ_CST memory_order_seq_cst

static inline uint32_t mp_load32(mp_atomic_u32 *p, memory_order mo)
{
    return atomic_load_explicit(p, mo);
}
static inline uint64_t mp_load64(mp_atomic_u64 *p, memory_order mo)
{
    return atomic_load_explicit(p, mo);
}
static inline void mp_store32(mp_atomic_u32 *p, uint32_t v, memory_order mo)
{
    atomic_store_explicit(p, v, mo);
}
static inline void mp_store64(mp_atomic_u64 *p, uint64_t v, memory_order mo)
{
    atomic_store_explicit(p, v, mo);
}
static inline uint32_t mp_xchg32(mp_atomic_u32 *p, uint32_t v, memory_order mo)
{
    return atomic_exchange_explicit(p, v, mo);
}
static inline uint32_t mp_add32(mp_atomic_u32 *p, uint32_t v, memory_order mo)
{
    return atomic_fetch_add_explicit(p, v, mo);
}
static inline uint32_t mp_sub32(mp_atomic_u32 *p, uint32_t v, memory_order mo)
{
    return atomic_fetch_sub_explicit(p, v, mo);
}
static inline uint64_t mp_add64(mp_atomic_u64 *p, uint64_t v, memory_order mo)
{
    return atomic_fetch_add_explicit(p, v, mo);
}
/* Strong compare-and-swap; on failure *expected receives the current value. */
static inline int mp_cas32(mp_atomic_u32 *p, uint32_t *expected, uint32_t desired,
                           memory_order mo)
{
    return atomic_compare_exchange_strong_explicit(p, expected, desired, mo,
                                                   memory_order_relaxed);
}
static inline int mp_cas64(mp_atomic_u64 *p, uint64_t *expected, uint64_t desired,
                           memory_order mo)
{
    return atomic_compare_exchange_strong_explicit(p, expected, desired, mo,
                                                   memory_order_relaxed);
}
static inline void mp_fence(void)
{
    atomic_thread_fence(memory_order_seq_cst);
}

#endif
