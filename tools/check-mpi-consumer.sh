#!/bin/sh
# check-mpi-consumer.sh [build-dir] - installs an mproc built with
# MPROC_WITH_MPI (default: build-mpi) into a temporary prefix, builds
# tests/consumer_mpi (examples/pool_mpi.c through
# find_package(mproc COMPONENTS mpi) and mproc::mpi) against it, and runs
# it under mpirun with 3 ranks and alone (spawning): each must print
# [1, 4, 9]. The environment lets Open MPI run as root on few cores.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build-mpi}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mproc-mpi-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" ||
    { cat "$tmp/install.log"; exit 1; }
[ -f "$tmp/prefix/include/mproc/mpi.h" ] || { echo "no mproc/mpi.h installed" >&2; exit 1; }
cmake -S tests/consumer_mpi -B "$tmp/b" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
    -DCMAKE_BUILD_TYPE=Release >"$tmp/cfg.log" || { cat "$tmp/cfg.log"; exit 1; }
cmake --build "$tmp/b" >"$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }

OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM \
    OMPI_MCA_rmaps_base_oversubscribe OMPI_MCA_btl_vader_single_copy_mechanism
expect='[1, 4, 9]'
for how in "mpiexec -n 3" ""; do
    # shellcheck disable=SC2086 # the launcher is words
    out=$(timeout 120 $how "$tmp/b/pool_mpi")
    if [ "$out" != "$expect" ]; then
        echo "check-mpi-consumer: ${how:-alone}: printed '$out', not '$expect'" >&2
        exit 1
    fi
    echo "installed mproc::mpi, ${how:-alone (spawning)}: $out"
done
