#!/bin/sh
# setup-deps.sh [bench|clang|fuzz|mpi] — installs the Debian 12 packages that building
# and testing ncf need, when they are missing (apt-get; sudo when not root).
# Idempotent and quiet when everything is present. The library needs only
# gcc and make; the tool's `serve` needs libmicrohttpd and jansson; the
# tests need cmocka and curl, and the Python binding's tests (python/,
# tests/python) Debian's python3 with pytest, NumPy and matplotlib (the
# plots; python3-setuptools, -pip and -venv for `pip install ./python`);
# `bench` adds wrk (the HTTP load generator) and time (GNU time: peak memory
# of a command, scripts/bench-load.sh); `clang` adds clang 14 and its
# OpenMP runtime (`make clang`); `fuzz` adds clang 14 and libFuzzer
# (`make fuzz`, `make fuzz-replay`, `make tsan`); `mpi` adds Open MPI
# (mpicc, mpirun: `make MPI=1`, docs/distributed.md).
set -e
PKGS="libcmocka-dev libmicrohttpd-dev libjansson-dev curl python3 python3-pytest python3-numpy python3-matplotlib python3-setuptools python3-pip python3-venv"
[ "${1:-}" = bench ] && PKGS="$PKGS wrk time"
[ "${1:-}" = clang ] && PKGS="$PKGS clang-14 libomp-14-dev"
[ "${1:-}" = fuzz ] && PKGS="$PKGS clang-14 libfuzzer-14-dev"
[ "${1:-}" = mpi ] && PKGS="$PKGS libopenmpi-dev openmpi-bin"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: need root or sudo to install:$missing" >&2; exit 1; }
    SUDO=sudo
fi
echo "setup: installing$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
