#!/bin/sh
# install-deps.sh [package...] - installs what mproc's build needs and is
# missing, on Debian/Ubuntu (apt-get): a C compiler and make, CMake, CUnit,
# pkg-config, python3, and any extra Debian packages named as arguments.
# Installs nothing (and needs no root) when everything is already there.
set -eu

missing=""
need() { # need <package> [command]: package missing unless installed or command found
    if [ -n "${2:-}" ] && command -v "$2" >/dev/null 2>&1; then return 0; fi
    if command -v dpkg-query >/dev/null 2>&1 &&
        dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; then
        return 0
    fi
    missing="$missing $1"
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
    exit 0
fi
echo "install-deps: installing$missing"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: no apt-get here; install these yourself:$missing" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "install-deps: need root (or sudo) to install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
