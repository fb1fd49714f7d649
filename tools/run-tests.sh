#!/bin/sh
# run-tests.sh [cmake args...] - installs what is missing, builds mproc with
# its tests and runs them all with CTest.
#   BUILD_DIR   build directory (default: build, relative to the repository)
#   BUILD_TYPE  CMAKE_BUILD_TYPE (default: RelWithDebInfo)
#   JOBS        parallel build and test jobs (default: 2)
#   MPROC_SKIP_DEPS=1  do not run tools/install-deps.sh
# e.g. BUILD_DIR=build-asan tools/run-tests.sh -DMPROC_SANITIZE=address,undefined
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ "${MPROC_SKIP_DEPS:-0}" = 1 ] || tools/install-deps.sh
build=${BUILD_DIR:-build}
jobs=${JOBS:-2}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
    -DMPROC_BUILD_TESTS=ON "$@"
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" --output-on-failure -j "$jobs"
