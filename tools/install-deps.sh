#!/bin/sh
# install-deps.sh [package...] - installs what mproc's build needs and is
# missing, on Debian/Ubuntu (apt-get): a C compiler and make, CMake, CUnit,
# pkg-config, python3, and any extra Debian packages named as arguments.
# Installs nothing (and needs no root) when everything is already there;
# otherwise it needs root: run it as root (su -c tools/install-deps.sh) or
# with sudo available. Then checks that CMake is at least 3.20.
set -eu

cmake_min_major=3
cmake_min_minor=20

missing=""
need() { # need <package> [command]: package missing unless installed or command found
    if [ -n "${2:-}" ] && command -v "$2" >/dev/null 2>&1; then return 0; fi
    if command -v dpkg-query >/dev/null 2>&1 &&
        dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; then
        return 0
    fi
    missing="$missing $1"
}

# Older CMake stops at cmake_minimum_required with a message that does not
# say where to get a newer one (Ubuntu 20.04 ships 3.16).
check_cmake() {
    version=$(cmake --version 2>/dev/null | sed -n '1s/[^0-9]*\([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p')
    major=${version%%.*}
    minor=${version#*.}
    if [ -z "$version" ] || [ "$major" -lt "$cmake_min_major" ] ||
        { [ "$major" -eq "$cmake_min_major" ] && [ "$minor" -lt "$cmake_min_minor" ]; }; then
        cat >&2 <<EOF
install-deps: mproc needs CMake >= $cmake_min_major.$cmake_min_minor; this machine has ${version:-none}.
  Install a newer one, then run this again: your distribution's backports,
  Kitware's APT repository, or 'python3 -m pip install --user cmake'
  (puts cmake in ~/.local/bin; add that to PATH).
EOF
        exit 1
    fi
}

if ! command -v cc >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
    need build-essential
fi
need cmake cmake
need pkg-config pkg-config
need python3 python3
if [ ! -f /usr/include/CUnit/CUnit.h ]; then need libcunit1-dev; fi
for pkg in "$@"; do need "$pkg"; done

if [ -z "$missing" ]; then
    check_cmake
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: mproc needs these packages (no apt-get here; install them yourself):$missing" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
    how="as root"
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
    how="with sudo (it may ask for your password)"
else
    cat >&2 <<EOF
install-deps: mproc needs these Debian packages, and installing them takes root:
 $missing
  Run this script as root:  su -c '$0${*:+ $*}'
  or install them yourself: su -c 'apt-get update && apt-get install -y$missing'
  then run the command you ran again.
EOF
    exit 1
fi
echo "install-deps: installing$missing $how"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
check_cmake
