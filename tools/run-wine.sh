#!/usr/bin/env bash
# run-wine.sh - runs a Windows program under Wine, for tests and examples.
#
#   tools/run-wine.sh <prog.exe> [args...]
#
# The toolchain file (cmake/toolchain-mingw-w64.cmake) makes this CMake's
# CMAKE_CROSSCOMPILING_EMULATOR, so CTest runs the Windows test binary
# through it. It sets WINEDEBUG=-all (Wine's fixme chatter would mix with
# the program's stderr) and uses a WINEPREFIX of its own under the build
# folder, created on first use (~7 s), so no run depends on or touches
# ~/.wine. The build folder is MPROC_WINE_BUILD if set, else the first
# folder at or above the program's that holds a CMakeCache.txt, else the
# program's folder. It goes on WINEPATH too, because libmproc.dll lives
# there and Windows finds DLLs on PATH. The exit status is the program's.
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 <prog.exe> [args...]" >&2
    exit 2
fi
prog=$1
shift
[ -f "$prog" ] || { echo "run-wine.sh: no such program: $prog" >&2; exit 2; }

# wine64 runs 64-bit programs directly; Debian's "wine" wrapper warns on
# every run when the 32-bit half is missing.
wine=""
for cand in wine64 /usr/lib/wine/wine64 wine; do
    if command -v "$cand" >/dev/null 2>&1; then
        wine=$(command -v "$cand")
        break
    fi
done
[ -n "$wine" ] || { echo "run-wine.sh: wine is not installed (apt-get install wine64)" >&2; exit 2; }

prog_dir=$(cd "$(dirname "$prog")" && pwd)
build=${MPROC_WINE_BUILD:-}
if [ -z "$build" ]; then
    d=$prog_dir
    while [ "$d" != "/" ]; do
        if [ -f "$d/CMakeCache.txt" ]; then
            build=$d
            break
        fi
        d=$(dirname "$d")
    done
    build=${build:-$prog_dir}
fi
build=$(cd "$build" && pwd)

export WINEDEBUG=-all
export WINEPREFIX="$build/wine-prefix"
export WINEARCH=win64
# Z: is Wine's drive for the Unix root.
winpath() { printf 'Z:%s' "${1//\//\\}"; }
export WINEPATH="$(winpath "$build");$(winpath "$prog_dir")${WINEPATH:+;$WINEPATH}"

if [ ! -f "$WINEPREFIX/system.reg" ]; then
    mkdir -p "$WINEPREFIX"
    # One prefix creation at a time (CTest may start several tests).
    (
        flock 9
        if [ ! -f "$WINEPREFIX/system.reg" ]; then
            "$wine" wineboot --init >/dev/null 2>&1 || true
            wineserver -w 2>/dev/null || true
        fi
    ) 9>"$build/.wine-prefix.lock"
fi

exec "$wine" "$prog" "$@"
