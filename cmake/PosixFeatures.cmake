# PosixFeatures.cmake - feature checks for src/posix.
#
# Writes ${PROJECT_BINARY_DIR}/generated/mp_posix_config.h with one
# MP_HAVE_* macro (0/1) per optional facility and sets MPROC_POSIX_LIBS to
# what src/posix links against. With MPROC_POSIX_PORTABLE=ON the
# Linux-only facilities are reported absent, so the code takes the paths
# macOS and FreeBSD take (shm_open, pipe-based wait queues, FD_CLOEXEC
# after creation, SIGPIPE blocked around writes) and CI can test them here.

include(CheckCSourceCompiles)
include(CheckSymbolExists)
include(CMakePushCheckState)

option(MPROC_POSIX_PORTABLE "Use only the portable POSIX paths (what macOS/FreeBSD get)" OFF)
option(MPROC_USE_LIBCRYPTO
       "Compute the authkey handshake's HMACs with OpenSSL's libcrypto when found" ON)

find_package(Threads REQUIRED)

cmake_push_check_state(RESET)
set(CMAKE_REQUIRED_DEFINITIONS -D_GNU_SOURCE)
set(CMAKE_REQUIRED_QUIET ON)

# Results are cached under _MPROC_CHK_* so that the portable switch can be
# flipped in an existing build directory.
check_symbol_exists(memfd_create "sys/mman.h" _MPROC_CHK_MEMFD_CREATE)
check_c_source_compiles("
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void)
{
    return (int)syscall(SYS_futex, (void *)0, FUTEX_WAIT_BITSET, 0, (void *)0, (void *)0,
                        FUTEX_BITSET_MATCH_ANY);
}" _MPROC_CHK_FUTEX)
check_symbol_exists(pipe2 "unistd.h;fcntl.h" _MPROC_CHK_PIPE2)
# Constants are tested by use: on some systems they are enumerators, which
# check_symbol_exists cannot see.
check_c_source_compiles("
#include <sys/socket.h>
int main(void) { int t = SOCK_STREAM | SOCK_CLOEXEC; return t == 0; }" _MPROC_CHK_SOCK_CLOEXEC)
check_c_source_compiles("
#include <sys/socket.h>
int main(void) { int f = MSG_NOSIGNAL; return f == 0; }" _MPROC_CHK_MSG_NOSIGNAL)
check_c_source_compiles("
#include <sys/socket.h>
int main(void) { int o = SO_NOSIGPIPE; return o == 0; }" _MPROC_CHK_SO_NOSIGPIPE)
check_symbol_exists(posix_spawn_file_actions_addclosefrom_np "spawn.h"
                    _MPROC_CHK_ADDCLOSEFROM_NP)
# accept4(SOCK_CLOEXEC): Linux 2.6.28, FreeBSD 10; not macOS.
check_symbol_exists(accept4 "sys/socket.h" _MPROC_CHK_ACCEPT4)
check_symbol_exists(dl_iterate_phdr "link.h" _MPROC_CHK_DL_ITERATE_PHDR)
check_symbol_exists(getrandom "sys/random.h" _MPROC_CHK_GETRANDOM)
# The CPUs a process may use (mp_process_cpu_count): Linux and musl.
check_c_source_compiles("
#include <sched.h>
int main(void) { cpu_set_t s; CPU_ZERO(&s); return sched_getaffinity(0, sizeof s, &s) + CPU_COUNT(&s); }" _MPROC_CHK_SCHED_GETAFFINITY)
check_symbol_exists(arc4random_buf "stdlib.h" _MPROC_CHK_ARC4RANDOM_BUF)
# A descriptor on a process that polls readable when it ends (Linux 5.3):
# what makes the parent waitable in mp_wait without slices.
check_c_source_compiles("
#include <sys/syscall.h>
#include <unistd.h>
int main(void) { return (int)syscall(SYS_pidfd_open, getppid(), 0); }" _MPROC_CHK_PIDFD_OPEN)
# glibc's heap tuning (mallopt M_TRIM_THRESHOLD): what keeps a pool
# worker's heap from shrinking and growing again at every task.
check_c_source_compiles("
#include <malloc.h>
int main(void) { return mallopt(M_TRIM_THRESHOLD, 1 << 20); }" _MPROC_CHK_MALLOPT_TRIM)

# shm_open is in libc on current systems, in librt on older glibc.
check_symbol_exists(shm_open "sys/mman.h" _MPROC_CHK_SHM_OPEN_LIBC)
if(NOT _MPROC_CHK_SHM_OPEN_LIBC)
    set(CMAKE_REQUIRED_LIBRARIES rt)
    check_symbol_exists(shm_open "sys/mman.h" _MPROC_CHK_SHM_OPEN_RT)
    unset(CMAKE_REQUIRED_LIBRARIES)
endif()
cmake_pop_check_state()

set(_mproc_linux_only MEMFD_CREATE FUTEX PIPE2 SOCK_CLOEXEC MSG_NOSIGNAL ADDCLOSEFROM_NP
    GETRANDOM ACCEPT4 SCHED_GETAFFINITY PIDFD_OPEN MALLOPT_TRIM)
foreach(_f MEMFD_CREATE FUTEX PIPE2 SOCK_CLOEXEC MSG_NOSIGNAL SO_NOSIGPIPE ADDCLOSEFROM_NP
           DL_ITERATE_PHDR GETRANDOM ARC4RANDOM_BUF ACCEPT4 SCHED_GETAFFINITY PIDFD_OPEN
           MALLOPT_TRIM)
    if(_MPROC_CHK_${_f} AND NOT (MPROC_POSIX_PORTABLE AND _f IN_LIST _mproc_linux_only))
        set(MP_HAVE_${_f} 1)
    else()
        set(MP_HAVE_${_f} 0)
    endif()
endforeach()
if(MPROC_POSIX_PORTABLE)
    set(MP_POSIX_PORTABLE 1)
else()
    set(MP_POSIX_PORTABLE 0)
endif()

# The HMAC provider of the authkey handshake (src/posix/hmac.c). Without
# it the built-in MD5/SHA-256 of src/core/conn/digest.c do the work; the option
# forces that path so it can be tested on a machine that has libcrypto.
set(MP_HAVE_LIBCRYPTO 0)
if(MPROC_USE_LIBCRYPTO)
    find_package(OpenSSL COMPONENTS Crypto QUIET)
    if(OPENSSL_CRYPTO_LIBRARY AND TARGET OpenSSL::Crypto)
        set(MP_HAVE_LIBCRYPTO 1)
    endif()
endif()

configure_file(${CMAKE_CURRENT_LIST_DIR}/../src/posix/mp_posix_config.h.in
               ${PROJECT_BINARY_DIR}/generated/mp_posix_config.h @ONLY)

set(MPROC_POSIX_LIBS Threads::Threads ${CMAKE_DL_LIBS})
if(NOT _MPROC_CHK_SHM_OPEN_LIBC AND _MPROC_CHK_SHM_OPEN_RT)
    list(APPEND MPROC_POSIX_LIBS rt)
endif()
if(MP_HAVE_LIBCRYPTO)
    list(APPEND MPROC_POSIX_LIBS OpenSSL::Crypto)
endif()

message(STATUS "mproc POSIX layer: portable=${MP_POSIX_PORTABLE} memfd=${MP_HAVE_MEMFD_CREATE} "
               "futex=${MP_HAVE_FUTEX} pipe2=${MP_HAVE_PIPE2} "
               "addclosefrom_np=${MP_HAVE_ADDCLOSEFROM_NP} getrandom=${MP_HAVE_GETRANDOM} "
               "sched_getaffinity=${MP_HAVE_SCHED_GETAFFINITY} pidfd=${MP_HAVE_PIDFD_OPEN} "
               "libcrypto=${MP_HAVE_LIBCRYPTO}")
unset(_mproc_linux_only)
unset(_f)
