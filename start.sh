#!/usr/bin/env bash
# Installs what is missing, builds cairn if needed, and runs a test-mode CA on
# https://127.0.0.1:14000/dir (management API on 15000) with its state in ./state
# (CAIRN_STATE_DIR overrides; delete the directory to start over). Extra
# arguments and the environment go to the daemon, e.g.
#   PEBBLE_VA_ALWAYS_VALID=1 ./start.sh
#   ./start.sh -dnsserver 127.0.0.1:8053
set -euo pipefail
cd "$(dirname "$0")"

scripts/deps.sh build

build_dir=${CAIRN_BUILD_DIR:-build}
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    echo "cairn: configuring $build_dir"
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAIRN_TESTS=OFF
fi
echo "cairn: building"
cmake --build "$build_dir" --target cairn -j"$(nproc)"

state=${CAIRN_STATE_DIR:-./state}
mkdir -p "$state"
if [ ! -d "$state/ca" ]; then
    echo "cairn: first run: creating a new CA in $state/ca"
else
    echo "cairn: reusing the CA and data in $state"
fi
echo "cairn: clients must trust $state/trust.pem (written at start-up); Ctrl-C stops"
exec "./$build_dir/cairn" -config config/cairn.test.json --state-dir "$state" "$@"
