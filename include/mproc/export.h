/* mproc/export.h - symbol export macro for the public API.
 *
 * MP_API marks every public function. The shared library is built with
 * hidden visibility, so only MP_API symbols are exported. On Windows a
 * program that links the static library must define MPROC_STATIC (the
 * mproc::mproc_static CMake target and mproc.pc's static flags do it). */
#ifndef MPROC_EXPORT_H
#define MPROC_EXPORT_H

#if defined(_WIN32) || defined(__CYGWIN__)
#if defined(MPROC_STATIC)
#define MP_API
#elif defined(MPROC_BUILDING)
#define MP_API __declspec(dllexport)
#else
#define MP_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define MP_API __attribute__((visibility("default")))
#else
#define MP_API
#endif

#endif
