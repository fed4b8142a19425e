#!/usr/bin/env bash
# Installs the Debian 12 packages cairn needs, only those missing.
#   scripts/deps.sh build   - compiler, CMake and the libraries
#   scripts/deps.sh test    - build + cmocka, clients and tools used by the test suites
#   scripts/deps.sh bench   - build + Pebble and perf for scripts/bench.sh
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libssl-dev libjansson-dev
            libsqlite3-dev libc-ares-dev libcurl4-openssl-dev openssl ca-certificates
            libpsl-dev)
test_pkgs=(libcmocka-dev python3 python3-cryptography certbot lego uacme pebble
           util-linux clang libclang-rt-14-dev sqlite3 curl man-db groff-base systemd)
bench_pkgs=(pebble linux-perf sqlite3 openssl coreutils)

want=("${build_pkgs[@]}")
if [ "${1:-build}" = test ]; then
    want+=("${test_pkgs[@]}")
fi
if [ "${1:-build}" = bench ]; then
    want+=("${bench_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

echo "cairn: installing missing packages: ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
