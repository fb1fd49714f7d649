/* compat.h - the few compiler differences core code must bridge. */
#ifndef MP_BASE_COMPAT_H
#define MP_BASE_COMPAT_H

#if defined(_MSC_VER)
#define MP_THREAD_LOCAL __declspec(thread)
#else
#define MP_THREAD_LOCAL _Thread_local
#endif

/* A thread-local that the hot paths touch: on ELF, the initial-exec model
 * reaches it with one instruction off the thread pointer instead of a call
 * to __tls_get_addr (what a shared library otherwise needs). It is a few
 * bytes, well within the static TLS that glibc keeps for libraries loaded
 * by dlopen. */
#if defined(__ELF__) && (defined(__GNUC__) || defined(__clang__))
#define MP_THREAD_LOCAL_FAST MP_THREAD_LOCAL __attribute__((tls_model("initial-exec")))
#else
#define MP_THREAD_LOCAL_FAST MP_THREAD_LOCAL
#endif

/* Keeps a function's body out of its callers: the slow part beside a
 * fast path, so that the fast path needs no stack frame. */
#if defined(_MSC_VER)
#define MP_NOINLINE __declspec(noinline)
#else
#define MP_NOINLINE __attribute__((noinline))
#endif

#endif
