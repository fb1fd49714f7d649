# toolchain-mingw-w64.cmake - cross-build for 64-bit Windows with MinGW-w64.
#
#   cmake -S . -B build-win -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw-w64.cmake
#
# Uses Debian's gcc-mingw-w64-x86-64 (x86_64-w64-mingw32-gcc). Programs
# built this way run under Wine: CMAKE_CROSSCOMPILING_EMULATOR is
# tools/run-wine.sh, which gives each build folder its own WINEPREFIX and
# puts the build folder (where libmproc.dll is) on Wine's DLL path.
# MPROC_MINGW_PREFIX selects another triplet (e.g. i686-w64-mingw32).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

if(NOT MPROC_MINGW_PREFIX)
    set(MPROC_MINGW_PREFIX x86_64-w64-mingw32)
endif()

set(CMAKE_C_COMPILER ${MPROC_MINGW_PREFIX}-gcc)
set(CMAKE_CXX_COMPILER ${MPROC_MINGW_PREFIX}-g++)
set(CMAKE_RC_COMPILER ${MPROC_MINGW_PREFIX}-windres)

# Headers and libraries from the MinGW sysroot only; programs from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${MPROC_MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/../tools/run-wine.sh")

# CUnit built by tools/build-cunit.sh mingw <build-dir> lands in
# <build-dir>/cunit-mingw; FindCUnit looks there like in a sysroot.
list(APPEND CMAKE_FIND_ROOT_PATH "${CMAKE_BINARY_DIR}/cunit-mingw")
