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
ctest --test-dir "$build" --output-on-failure -j "$jobs"
tries=0
while left=$(new_names) && [ -n "$left" ] && [ "$tries" -lt 100 ]; do
    tries=$((tries + 1))
    sleep 0.1
done
if [ -n "$left" ]; then
    echo "run-tests: SharedMemory names left in /dev/shm:" $left >&2
    exit 1
fi
