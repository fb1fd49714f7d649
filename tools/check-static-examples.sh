#!/bin/sh
# check-static-examples.sh [build-dir] - links each example that has an
# expected output (examples/expected/<name>.txt) statically (-static)
# against the build's libmproc.a, checks that the program needs no shared
# library (no program interpreter, no NEEDED entry), and runs it where
# nothing else is: as root, in an empty folder made its root (chroot: no
# libc, no mproc, no /proc, no /dev but an empty /dev/shm, where Linux
# keeps named shared memory: what a SharedMemory by name needs of the
# system); otherwise directly. Its output must match the expected one.
# What the README's "one file to ship" promises.
#   CC  the compiler that built the library (default: musl-gcc, whose
#       static libc is the one meant for this; glibc's warns about
#       functions it cannot link statically)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build-musl}
cc=${CC:-musl-gcc}
lib="$build/libmproc.a"
[ -f "$lib" ] || { echo "check-static-examples: no $lib (build $build first)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mproc-static.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

use_chroot=0
if [ "$(id -u)" -eq 0 ] && command -v chroot >/dev/null 2>&1; then use_chroot=1; fi
n=0
for expected in examples/expected/*.txt; do
    name=$(basename "$expected" .txt)
    src="examples/$name.c"
    [ -f "examples/$name.py" ] && continue # a pipe's far end: needs its Python driver
    [ "$name" = pool_mpi ] && continue      # needs MPI and mpirun (mproc::mpi)
    [ -f "$src" ] || continue
    exe="$tmp/$name"
    "$cc" -static -std=c11 -O2 -Iinclude -I"$build/generated/include" "$src" "$lib" \
        -lpthread -o "$exe"
    if readelf -l "$exe" | grep -q 'INTERP' || readelf -d "$exe" | grep -q 'NEEDED'; then
        echo "check-static-examples: $name is not static:" >&2
        readelf -d "$exe" | grep NEEDED >&2 || true
        exit 1
    fi
    if [ "$use_chroot" = 1 ]; then
        jail="$tmp/jail-$name"
        mkdir -p "$jail/dev/shm"
        chmod 1777 "$jail/dev/shm"
        cp "$exe" "$jail/$name"
        chroot "$jail" "/$name" >"$tmp/$name.out"
        where="alone in an empty chroot"
    else
        "$exe" >"$tmp/$name.out"
        where="directly (not root: no chroot)"
    fi
    if ! cmp -s "$tmp/$name.out" "$expected"; then
        echo "check-static-examples: $name printed something else:" >&2
        diff "$expected" "$tmp/$name.out" >&2 || true
        exit 1
    fi
    echo "$name: static, $(wc -c <"$exe") bytes, ran $where, output as expected"
    n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "check-static-examples: no example checked" >&2; exit 1; }
echo "static examples: $n checked"
