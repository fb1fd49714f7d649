#!/bin/sh
# check-consumer.sh [build-dir] - installs an already built mproc (default:
# build) into a temporary prefix and builds and runs tests/consumer against
# it four ways: find_package(mproc CONFIG) and pkg-config, each with the
# shared and with the static library.
# check-consumer.sh --system - the same four against the mproc installed
# in the system's own places (the Debian packages, tools/check-debian-package.sh).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cc=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mproc-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ "${1:-}" = --system ]; then
    prefix=""
    pc_dir=""
else
    build=${1:-build}
    prefix="$tmp/prefix"
    cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" ||
        { cat "$tmp/install.log"; exit 1; }
    echo "installed into $prefix:"
    (cd "$prefix" && find . -type f -o -type l | sort | sed 's/^/  /')
    tools/check-no-test-hooks.sh "$prefix" "$build"
    pc_dir=$(dirname "$(find "$prefix" -name mproc.pc | head -n 1)")
fi

run() { # run <label> <program>: the program must succeed
    echo "---- $1"
    "$2"
}
no_libmproc_so() { # the program must not need libmproc.so
    if readelf -d "$1" | grep -q 'NEEDED.*libmproc'; then
        echo "$1 links libmproc dynamically" >&2
        exit 1
    fi
}
needs_libmproc_so() {
    readelf -d "$1" | grep -q 'NEEDED.*libmproc' ||
        { echo "$1 does not link libmproc.so" >&2; exit 1; }
}

for kind in shared static; do
    if [ $kind = static ]; then use_static=ON; else use_static=OFF; fi
    b="$tmp/cmake-$kind"
    cmake -S tests/consumer -B "$b" ${prefix:+"-DCMAKE_PREFIX_PATH=$prefix"} \
        -DMPROC_USE_STATIC_LIBS=$use_static -DCMAKE_BUILD_TYPE=Release >"$tmp/cfg.log" ||
        { cat "$tmp/cfg.log"; exit 1; }
    cmake --build "$b" >"$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
    if [ $kind = static ]; then no_libmproc_so "$b/consumer"; else needs_libmproc_so "$b/consumer"; fi
    run "find_package, $kind" "$b/consumer"
done

if [ -n "$pc_dir" ]; then
    PKG_CONFIG_PATH=$pc_dir
    export PKG_CONFIG_PATH
fi
pkg-config --exists --print-errors 'mproc >= 0.1'
echo "pkg-config: $(pkg-config --cflags --libs mproc)"
echo "pkg-config --static: $(pkg-config --static --cflags --libs mproc)"
# shellcheck disable=SC2046
$cc -std=c11 -o "$tmp/pc-shared" tests/consumer/consumer.c \
    $(pkg-config --cflags --libs mproc) -Wl,-rpath,"$(pkg-config --variable=libdir mproc)"
needs_libmproc_so "$tmp/pc-shared"
run "pkg-config, shared" "$tmp/pc-shared"
# -l:libmproc.a picks the archive although libmproc.so sits beside it.
# shellcheck disable=SC2046
$cc -std=c11 -o "$tmp/pc-static" tests/consumer/consumer.c \
    $(pkg-config --static --cflags mproc) \
    $(pkg-config --static --libs mproc | sed 's/-lmproc\b/-l:libmproc.a/')
no_libmproc_so "$tmp/pc-static"
run "pkg-config, static" "$tmp/pc-static"
echo "consumer: all four builds ran"
