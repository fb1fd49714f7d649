/* atomics.h - the one place mproc touches atomic operations.
 *
 * Shared-memory words are accessed only through these wrappers, so that
 * each compiler gets one implementation of one small API:
 *
 * - C11 <stdatomic.h> (GCC, Clang, clang-cl, MinGW): the default.
 * - MSVC (cl.exe): Interlocked intrinsics. MSVC has <stdatomic.h> only
 *   from VS 2022 17.5 and only with /experimental:c11atomics, and it
 *   defines __STDC_NO_ATOMICS__ even then, so the test is _MSC_VER (and
 *   not clang-cl, which has C11 atomics); this path needs no flag.
 *
 * Only always-lock-free atomics may live in shared memory: a lock-based
 * atomic would take a lock that exists once per process, not once per
 * segment. Both paths keep the plain 4- and 8-byte layout, so a segment
 * means the same to processes built either way. */
#ifndef MP_BASE_ATOMICS_H
#define MP_BASE_ATOMICS_H

#include <stdint.h>

/* MP_ATOMICS_FORCE_MSVC: only to syntax-check the MSVC path with clang
 * (--target=*-windows-msvc -fms-extensions), where MSVC is not at hand. */
#if (defined(_MSC_VER) && !defined(__clang__)) || defined(MP_ATOMICS_FORCE_MSVC)
#define MP_ATOMICS_MSVC 1
#endif

#ifndef MP_ATOMICS_MSVC

/* ---- C11 ------------------------------------------------------------------- */

#include <stdatomic.h>

#if ATOMIC_INT_LOCK_FREE != 2 || ATOMIC_LLONG_LOCK_FREE != 2
#error "mproc needs always-lock-free 32- and 64-bit atomics for shared memory"
#endif

typedef _Atomic uint32_t mp_atomic_u32;
typedef _Atomic uint64_t mp_atomic_u64;
typedef memory_order mp_memory_order;

_Static_assert(sizeof(mp_atomic_u32) == 4, "shared layout");
_Static_assert(sizeof(mp_atomic_u64) == 8, "shared layout");

#define MP_RELAXED memory_order_relaxed
#define MP_ACQUIRE memory_order_acquire
#define MP_RELEASE memory_order_release
#define MP_SEQ_CST memory_order_seq_cst

static inline uint32_t mp_load32(mp_atomic_u32 *p, mp_memory_order mo)
{
    return atomic_load_explicit(p, mo);
}
static inline uint64_t mp_load64(mp_atomic_u64 *p, mp_memory_order mo)
{
    return atomic_load_explicit(p, mo);
}
static inline void mp_store32(mp_atomic_u32 *p, uint32_t v, mp_memory_order mo)
{
    atomic_store_explicit(p, v, mo);
}
static inline void mp_store64(mp_atomic_u64 *p, uint64_t v, mp_memory_order mo)
{
    atomic_store_explicit(p, v, mo);
}
static inline uint32_t mp_xchg32(mp_atomic_u32 *p, uint32_t v, mp_memory_order mo)
{
    return atomic_exchange_explicit(p, v, mo);
}
static inline uint64_t mp_xchg64(mp_atomic_u64 *p, uint64_t v, mp_memory_order mo)
{
    return atomic_exchange_explicit(p, v, mo);
}
static inline uint32_t mp_add32(mp_atomic_u32 *p, uint32_t v, mp_memory_order mo)
{
    return atomic_fetch_add_explicit(p, v, mo);
}
static inline uint32_t mp_sub32(mp_atomic_u32 *p, uint32_t v, mp_memory_order mo)
{
    return atomic_fetch_sub_explicit(p, v, mo);
}
static inline uint64_t mp_add64(mp_atomic_u64 *p, uint64_t v, mp_memory_order mo)
{
    return atomic_fetch_add_explicit(p, v, mo);
}
/* Strong compare-and-swap; on failure *expected receives the current value. */
static inline int mp_cas32(mp_atomic_u32 *p, uint32_t *expected, uint32_t desired,
                           mp_memory_order mo)
{
    return atomic_compare_exchange_strong_explicit(p, expected, desired, mo,
                                                   memory_order_relaxed);
}
static inline int mp_cas64(mp_atomic_u64 *p, uint64_t *expected, uint64_t desired,
                           mp_memory_order mo)
{
    return atomic_compare_exchange_strong_explicit(p, expected, desired, mo,
                                                   memory_order_relaxed);
}
static inline void mp_fence(void)
{
    atomic_thread_fence(memory_order_seq_cst);
}

#else

/* ---- MSVC: Interlocked intrinsics -------------------------------------------- *
 *
 * The words are plain volatile integers (same size and alignment as the
 * C11 types). Every read-modify-write is an _Interlocked* intrinsic, which
 * is a full barrier on x86, x64 and ARM64, so it satisfies any order.
 * Plain loads and stores get the order asked for:
 *
 *              x86 / x64 (TSO)                  ARM / ARM64
 * relaxed      volatile access                  volatile access
 * acquire load load, then compiler barrier      load, then dmb ish
 * release st.  compiler barrier, then store     dmb ish, then store
 * seq_cst load load, then compiler barrier      dmb ish, load, dmb ish
 * seq_cst st.  _InterlockedExchange (xchg)      _InterlockedExchange
 *
 * which is the standard C11-to-hardware mapping (seq_cst stores pay the
 * locked instruction, seq_cst loads stay plain on TSO). The barriers are
 * written out rather than left to /volatile:ms, because ARM64 compiles
 * with /volatile:iso by default, where volatile orders nothing. 32-bit
 * x86 has no atomic plain 64-bit load or store in general-purpose
 * registers, so there 64-bit loads and stores go through
 * _InterlockedCompareExchange64 (cmpxchg8b) as well.
 *
 * Win32's Interlocked* take LONG (32-bit on Windows) and LONG64: the
 * casts below only reinterpret the sign; MSVC does no type-based alias
 * analysis, so the pointer casts are safe there. */

#include <intrin.h>

typedef volatile uint32_t mp_atomic_u32;
typedef volatile uint64_t mp_atomic_u64;
typedef enum {
    mp_mo_relaxed,
    mp_mo_acquire,
    mp_mo_release,
    mp_mo_seq_cst
} mp_memory_order;

_Static_assert(sizeof(mp_atomic_u32) == 4, "shared layout");
_Static_assert(sizeof(mp_atomic_u64) == 8, "shared layout");
_Static_assert(sizeof(long) == 4, "Interlocked LONG is 32-bit on Windows");

#define MP_RELAXED mp_mo_relaxed
#define MP_ACQUIRE mp_mo_acquire
#define MP_RELEASE mp_mo_release
#define MP_SEQ_CST mp_mo_seq_cst

#if defined(_M_IX86) || defined(_M_X64)
#define MP_MSVC_TSO            1
/* The store-load fence x86 needs for seq_cst; every lock-prefixed
 * instruction is one, and this one touches only the stack. */
static __forceinline void mp__msvc_full_fence(void)
{
    volatile long x = 0;
    _InterlockedOr(&x, 0);
}
#define MP__ACQ_AFTER_LOAD()   _ReadWriteBarrier()
#define MP__REL_BEFORE_STORE() _ReadWriteBarrier()
#elif defined(_M_ARM64) || defined(_M_ARM64EC)
static __forceinline void mp__msvc_full_fence(void)
{
    __dmb(_ARM64_BARRIER_ISH);
}
#define MP__ACQ_AFTER_LOAD()   mp__msvc_full_fence()
#define MP__REL_BEFORE_STORE() mp__msvc_full_fence()
#elif defined(_M_ARM)
static __forceinline void mp__msvc_full_fence(void)
{
    __dmb(_ARM_BARRIER_ISH);
}
#define MP__ACQ_AFTER_LOAD()   mp__msvc_full_fence()
#define MP__REL_BEFORE_STORE() mp__msvc_full_fence()
#else
#error "mproc's MSVC atomics know x86, x64, ARM and ARM64 only"
#endif

static __forceinline uint32_t mp_load32(mp_atomic_u32 *p, mp_memory_order mo)
{
#ifndef MP_MSVC_TSO
    if (mo == mp_mo_seq_cst) mp__msvc_full_fence();
#endif
    uint32_t v = *p; /* aligned 32-bit loads are atomic everywhere */
    if (mo != mp_mo_relaxed) MP__ACQ_AFTER_LOAD();
    return v;
}

static __forceinline uint64_t mp_load64(mp_atomic_u64 *p, mp_memory_order mo)
{
#if defined(_M_IX86)
    (void)mo; /* a locked instruction: a full barrier */
    return (uint64_t)_InterlockedCompareExchange64((volatile __int64 *)p, 0, 0);
#else
#ifndef MP_MSVC_TSO
    if (mo == mp_mo_seq_cst) mp__msvc_full_fence();
#endif
    uint64_t v = *p;
    if (mo != mp_mo_relaxed) MP__ACQ_AFTER_LOAD();
    return v;
#endif
}

static __forceinline void mp_store32(mp_atomic_u32 *p, uint32_t v, mp_memory_order mo)
{
    if (mo == mp_mo_seq_cst) {
        _InterlockedExchange((volatile long *)p, (long)v);
        return;
    }
    if (mo != mp_mo_relaxed) MP__REL_BEFORE_STORE();
    *p = v;
}

static __forceinline void mp_store64(mp_atomic_u64 *p, uint64_t v, mp_memory_order mo)
{
#if defined(_M_IX86)
    (void)mo;
    __int64 old = *(volatile __int64 *)p;
    for (;;) {
        __int64 seen =
            _InterlockedCompareExchange64((volatile __int64 *)p, (__int64)v, old);
        if (seen == old) return;
        old = seen;
    }
#else
    if (mo == mp_mo_seq_cst) {
        _InterlockedExchange64((volatile __int64 *)p, (__int64)v);
        return;
    }
    if (mo != mp_mo_relaxed) MP__REL_BEFORE_STORE();
    *p = v;
#endif
}

static __forceinline uint32_t mp_xchg32(mp_atomic_u32 *p, uint32_t v, mp_memory_order mo)
{
    (void)mo;
    return (uint32_t)_InterlockedExchange((volatile long *)p, (long)v);
}

static __forceinline uint64_t mp_xchg64(mp_atomic_u64 *p, uint64_t v, mp_memory_order mo)
{
    (void)mo;
#if defined(_M_IX86)
    __int64 old = *(volatile __int64 *)p;
    for (;;) {
        __int64 seen =
            _InterlockedCompareExchange64((volatile __int64 *)p, (__int64)v, old);
        if (seen == old) return (uint64_t)old;
        old = seen;
    }
#else
    return (uint64_t)_InterlockedExchange64((volatile __int64 *)p, (__int64)v);
#endif
}

static __forceinline uint32_t mp_add32(mp_atomic_u32 *p, uint32_t v, mp_memory_order mo)
{
    (void)mo;
    return (uint32_t)_InterlockedExchangeAdd((volatile long *)p, (long)v);
}

static __forceinline uint32_t mp_sub32(mp_atomic_u32 *p, uint32_t v, mp_memory_order mo)
{
    (void)mo;
    /* Two's complement: adding 0 - v subtracts v modulo 2^32, as C11's
     * fetch_sub on an unsigned type does. */
    return (uint32_t)_InterlockedExchangeAdd((volatile long *)p, (long)(0u - v));
}

static __forceinline uint64_t mp_add64(mp_atomic_u64 *p, uint64_t v, mp_memory_order mo)
{
    (void)mo;
#if defined(_M_IX86)
    /* No 64-bit xadd on 32-bit x86: a compare-and-swap loop. */
    __int64 old = *(volatile __int64 *)p;
    for (;;) {
        __int64 seen = _InterlockedCompareExchange64((volatile __int64 *)p,
                                                     (__int64)((uint64_t)old + v), old);
        if (seen == old) return (uint64_t)old;
        old = seen;
    }
#else
    return (uint64_t)_InterlockedExchangeAdd64((volatile __int64 *)p, (__int64)v);
#endif
}

/* Strong compare-and-swap; on failure *expected receives the current value. */
static __forceinline int mp_cas32(mp_atomic_u32 *p, uint32_t *expected, uint32_t desired,
                                  mp_memory_order mo)
{
    (void)mo;
    long want = (long)*expected;
    long seen = _InterlockedCompareExchange((volatile long *)p, (long)desired, want);
    if (seen == want) return 1;
    *expected = (uint32_t)seen;
    return 0;
}

static __forceinline int mp_cas64(mp_atomic_u64 *p, uint64_t *expected, uint64_t desired,
                                  mp_memory_order mo)
{
    (void)mo;
    __int64 want = (__int64)*expected;
    __int64 seen =
        _InterlockedCompareExchange64((volatile __int64 *)p, (__int64)desired, want);
    if (seen == want) return 1;
    *expected = (uint64_t)seen;
    return 0;
}

static __forceinline void mp_fence(void)
{
    mp__msvc_full_fence();
}

#endif

/* A hint to the CPU inside a spin loop (lets the other hyperthread run). */
#if defined(MP_ATOMICS_MSVC) && (defined(_M_IX86) || defined(_M_X64))
#define mp_cpu_relax() _mm_pause()
#elif defined(MP_ATOMICS_MSVC)
#define mp_cpu_relax() __yield()
#elif defined(__x86_64__) || defined(__i386__)
#define mp_cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__) || defined(__arm__)
#define mp_cpu_relax() __asm__ __volatile__("yield")
#else
#define mp_cpu_relax() ((void)0)
#endif

#endif
