#!/bin/sh
# run-examples.sh [cmake args...] - installs what is missing, builds mproc and
# its examples, and runs each example, printing its output (and whether it
# matches examples/expected/<name>.txt).
#   BUILD_DIR (default: build), BUILD_TYPE (default: RelWithDebInfo), JOBS (2)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ "${MPROC_SKIP_DEPS:-0}" = 1 ] || tools/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
    -DMPROC_BUILD_EXAMPLES=ON "$@"
cmake --build "$build" -j "${JOBS:-2}" --target run-examples
