#!/bin/sh
# check-no-test-hooks.sh <install-prefix> [build-dir] - the libraries that
# `cmake --install` put under the prefix define no test hook, test view or
# test-only counter (src/base/testhook.h: they exist only in the
# instrumented mproc_testlib that the tests link). With a build dir, the
# same names must be found in its libmproc_testlib.a, so that a renamed
# hook cannot make this check pass by matching nothing.
set -eu
prefix=$1
build=${2:-}
hooks='mp__[a-z_]*_hook$|mp__lock_slices_out$|mp__lock_first_slice_ns$|mp__w32_start_faults$'
hooks="$hooks|mp__queue_(ring_used|capacity|cons_left|prod_[a-z]+|lag_[a-z]+)$"

defined() { # defined <library>: the external symbols it defines
    nm -g --defined-only "$1" 2>/dev/null | awk 'NF >= 3 { print $3 }'
}

libs=$(find "$prefix" \( -name 'libmproc.a' -o -name 'libmproc.so*' \) -type f)
[ -n "$libs" ] || { echo "no installed libmproc under $prefix" >&2; exit 1; }
bad=0
for lib in $libs; do
    found=$(defined "$lib" | grep -E "$hooks" || true)
    if [ -n "$found" ]; then
        echo "$lib defines test hooks:" $found >&2
        bad=1
    else
        echo "no test hook in $lib"
    fi
done
if [ -n "$build" ]; then
    testlib=$(find "$build" -name 'libmproc_testlib.a' | head -n 1)
    if [ -n "$testlib" ]; then
        n=$(defined "$testlib" | grep -cE "$hooks" || true)
        [ "$n" -ge 12 ] || { echo "$testlib: only $n test hooks found" >&2; bad=1; }
        echo "$n test hooks in $testlib"
    fi
fi
exit $bad
