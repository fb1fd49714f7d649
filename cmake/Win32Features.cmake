# Win32Features.cmake - build settings for src/win32.
#
# Included by the top-level CMakeLists.txt in its WIN32 branch. Sets
# MPROC_POSIX_LIBS (the name is historical: it is "what the OS layer links")
# to the system libraries the Win32 layer uses, which also end up in
# mproc.pc's Libs.private and the static package's link interface:
#   bcrypt   BCryptGenRandom (clock.c), the HMAC provider (hmac.c)
#   ws2_32   Winsock: Listener/Client sockets (socket.c)
# and, for MinGW, makes printf-family calls C99-conforming: MinGW's default
# msvcrt printf knows neither %zu nor %lld reliably and prints exponents
# with three digits (1e+010), so mp_set_error's messages and the examples'
# numbers would differ from Linux. __USE_MINGW_ANSI_STDIO=1 selects
# MinGW's own implementation (and GCC checks formats as gnu_printf).
# -static-libgcc: otherwise libmproc.dll and every program need
# libgcc_s_seh-1.dll (for _Thread_local's emutls and the atomics helpers),
# which is not on a Windows machine, nor on Wine's path.
set(MPROC_POSIX_LIBS bcrypt ws2_32)

if(MINGW)
    add_compile_definitions(__USE_MINGW_ANSI_STDIO=1)
    add_link_options(-static-libgcc)
endif()

# MSVC (never built here; .github/workflows/ci.yml builds it):
# - /Zc:preprocessor: mp_args_of() in include/mproc/process.h counts its
#   arguments through __VA_ARGS__, which MSVC's traditional preprocessor
#   passes on as one argument; the conforming one (VS 2019 16.6+) does not.
#   A program that uses mp_args_of needs the flag too.
# - _CRT_SECURE_NO_WARNINGS / _CRT_NONSTDC_NO_DEPRECATE: the C library's
#   strcpy, getenv, fopen, sscanf... are standard C and used as such; C4996
#   would otherwise fail a /W4 /WX build.
# - /utf-8: sources and string literals are UTF-8.
# Atomics need no flag: src/base/atomics.h uses Interlocked intrinsics there.
if(MSVC)
    add_compile_options(/Zc:preprocessor /utf-8)
    add_compile_definitions(_CRT_SECURE_NO_WARNINGS _CRT_NONSTDC_NO_DEPRECATE)
endif()

message(STATUS "mproc Win32 layer: libs=${MPROC_POSIX_LIBS}")
