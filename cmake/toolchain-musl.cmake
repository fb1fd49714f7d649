# toolchain-musl.cmake - build with musl instead of glibc, on Linux.
#
#   cmake -S . -B build-musl -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-musl.cmake
#
# Uses Debian's musl-tools (musl-gcc: gcc with musl's headers, start files
# and libc). The programs run on this machine as they are, so this is not
# a cross build: the tests and examples run directly.
#
# musl-gcc searches only musl's headers, and musl ships no Linux kernel
# headers; the futex probe (cmake/PosixFeatures.cmake) needs
# <linux/futex.h>. The kernel's own headers (linux-libc-dev) belong to no
# C library, so a folder of links to them is put on the include path
# (<build>/musl-kernel-headers): what a musl distribution (Alpine's
# linux-headers) installs beside musl. glibc's headers stay out of reach.
#
# Libraries are searched only in musl's tree and in <build>/cunit-musl
# (tools/build-cunit.sh musl <build>): a glibc library (libcrypto, CUnit)
# must never be linked into a musl program.
set(CMAKE_C_COMPILER musl-gcc)

execute_process(COMMAND gcc -print-multiarch OUTPUT_VARIABLE _mproc_multiarch
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT _mproc_multiarch)
    set(_mproc_multiarch x86_64-linux-gnu)
endif()
set(_mproc_kernel_headers "${CMAKE_BINARY_DIR}/musl-kernel-headers")
file(MAKE_DIRECTORY "${_mproc_kernel_headers}")
foreach(_d linux asm-generic)
    if(EXISTS "/usr/include/${_d}" AND NOT EXISTS "${_mproc_kernel_headers}/${_d}")
        file(CREATE_LINK "/usr/include/${_d}" "${_mproc_kernel_headers}/${_d}" SYMBOLIC)
    endif()
endforeach()
if(EXISTS "/usr/include/${_mproc_multiarch}/asm" AND NOT EXISTS "${_mproc_kernel_headers}/asm")
    file(CREATE_LINK "/usr/include/${_mproc_multiarch}/asm" "${_mproc_kernel_headers}/asm"
         SYMBOLIC)
endif()
set(CMAKE_C_FLAGS_INIT "-isystem ${_mproc_kernel_headers}")

# Debian puts musl under /usr/lib/musl and /usr/lib/<multiarch-musl>.
set(CMAKE_FIND_ROOT_PATH /usr/lib/musl "${CMAKE_BINARY_DIR}/cunit-musl")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
