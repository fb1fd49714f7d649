#!/bin/sh
# run-tests.sh [cmake args...] - installs what is missing, builds mproc with
# its tests and runs them all with CTest.
#   BUILD_DIR   build directory (default: build, relative to the repository)
#   BUILD_TYPE  CMAKE_BUILD_TYPE (default: RelWithDebInfo)
#   JOBS        parallel build and test jobs (default: 2)
#   MPROC_SKIP_DEPS=1  do not run tools/install-deps.sh
#   CTEST_LABEL  run only the tests of this CTest label (e.g. mpi)
# e.g. BUILD_DIR=build-asan tools/run-tests.sh -DMPROC_SANITIZE=address,undefined
# -DMPROC_WITH_MPI=ON adds mproc::mpi and its tests, and Open MPI to install.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
extra=""
for arg in "$@"; do
    case "$arg" in -DMPROC_WITH_MPI=ON) extra="libopenmpi-dev openmpi-bin" ;; esac
done
# shellcheck disable=SC2086 # the package names are words
[ "${MPROC_SKIP_DEPS:-0}" = 1 ] || tools/install-deps.sh $extra
build=${BUILD_DIR:-build}
jobs=${JOBS:-2}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
    -DMPROC_BUILD_TESTS=ON "$@"
cmake --build "$build" -j "$jobs"
# Named SharedMemory blocks the tests make (psm_*, and mpt<pid>_* by name)
# must all be gone afterwards, those of killed creators included: tracked
# ones are unlinked by their tracker a moment after its program ends.
shm_names() { ls /dev/shm 2>/dev/null | grep -E '^(psm_|mpt[0-9]+_)' || true; }
new_names() {
    shm_names | while read -r n; do
        case " $before " in *" $n "*) ;; *) echo "$n" ;; esac
    done
}
before=$(shm_names | tr '\n' ' ')
ctest --test-dir "$build" --output-on-failure -j "$jobs" ${CTEST_LABEL:+-L "$CTEST_LABEL"}
tries=0
while left=$(new_names) && [ -n "$left" ] && [ "$tries" -lt 100 ]; do
    tries=$((tries + 1))
    sleep 0.1
done
if [ -n "$left" ]; then
    echo "run-tests: SharedMemory names left in /dev/shm:" $left >&2
    exit 1
fi
