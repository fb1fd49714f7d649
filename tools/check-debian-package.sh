#!/bin/sh
# check-debian-package.sh - builds the Debian packages libmproc0 and
# libmproc-dev from debian/ (dpkg-buildpackage -us -uc -b, in a copy of the
# sources so that nothing lands beside the repository), checks them with
# lintian (errors fail), installs them, builds and runs tests/consumer
# against them with CMake and pkg-config (tools/check-consumer.sh --system),
# and removes them again, also when a step fails. Needs root (it installs
# the build tools and the packages); CI runs it.
#   KEEP_DEBS=DIR  copy the built .deb files into DIR
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ "$(id -u)" -ne 0 ]; then
    echo "check-debian-package: installs packages, so run it as root" >&2
    exit 1
fi
tools/install-deps.sh dpkg-dev debhelper lintian fakeroot

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mproc-deb.XXXXXX")
installed=0
cleanup() {
    if [ "$installed" = 1 ]; then
        env DEBIAN_FRONTEND=noninteractive apt-get remove --purge -y -q \
            libmproc-dev libmproc0 >/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# The sources as git has them (no build folders), or the tree without them.
src="$tmp/mproc"
mkdir -p "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z | xargs -0 tar cf - | tar xf - -C "$src"
else
    tar cf - --exclude='./build*' . | tar xf - -C "$src"
fi

echo "---- dpkg-buildpackage"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 ||
    { tail -n 60 "$tmp/build.log"; exit 1; }
debs=$(find "$tmp" -maxdepth 1 -name 'libmproc*.deb' | sort)
[ -n "$debs" ] || { echo "check-debian-package: no .deb built" >&2; exit 1; }
for deb in $debs; do
    echo "$(basename "$deb"):"
    dpkg-deb --contents "$deb" | awk '{ print "  " $NF }'
done
if [ -n "${KEEP_DEBS:-}" ]; then
    mkdir -p "$KEEP_DEBS"
    # shellcheck disable=SC2086
    cp $debs "$KEEP_DEBS"/
fi

echo "---- lintian"
changes=$(find "$tmp" -maxdepth 1 -name 'mproc_*.changes' | head -n 1)
# Errors fail the check; warnings and notes are shown.
lintian --fail-on error --tag-display-limit 0 --display-info "$changes"

echo "---- install"
installed=1
# shellcheck disable=SC2086
env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $debs >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; exit 1; }
dpkg -L libmproc0 libmproc-dev | grep -E 'libmproc|mproc\.h|mproc\.pc|mprocConfig' | sed 's/^/  /'

echo "---- tests/consumer against the packages"
tools/check-consumer.sh --system

echo "---- remove"
env DEBIAN_FRONTEND=noninteractive apt-get remove --purge -y -q libmproc-dev libmproc0 \
    >/dev/null
installed=0
if [ -e /usr/include/mproc.h ]; then
    echo "check-debian-package: /usr/include/mproc.h left after removal" >&2
    exit 1
fi
echo "debian packages: built, lintian clean of errors, installed, used, removed"
