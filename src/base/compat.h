/* compat.h - the few compiler differences core code must bridge. */
#ifndef MP_CORE_COMPAT_H
#define MP_CORE_COMPAT_H

#if defined(_MSC_VER)
#define MP_THREAD_LOCAL __declspec(thread)
#else
#define MP_THREAD_LOCAL _Thread_local
#endif

#endif
