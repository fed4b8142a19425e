#!/usr/bin/env bash
# A 5-second smoke run of cairn-bench against a test-mode cairn (scripts/test.sh): checks only
# that the load generator and the full issuance flow work (exit status), never timings.
#   scripts/bench-smoke.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: bench-smoke.sh BUILD_DIR}
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-smoke.XXXXXX")
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# a free loopback port from the kernel
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0 \
    CAIRN_LISTEN_ADDRESS=127.0.0.1:$port CAIRN_MANAGEMENT_LISTEN_ADDRESS= \
    "$build/cairn" --root-out "$work/trust.pem" >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 500); do
    grep -q "Listening on" "$work/out" && break
    sleep 0.02
done
bench=$build/bench/cairn-bench
"$bench" -m floor -n 50 >/dev/null
"$bench" -m full -u "https://127.0.0.1:$port/dir" -t "$work/trust.pem" -p "$pid" -c 2 -d 4 \
    --label smoke | tail -1
"$bench" -m nonce -u "https://127.0.0.1:$port/dir" -t "$work/trust.pem" -c 1 -d 0.5 | tail -1
# errors are not allowed in the smoke run: a problem document means a broken flow
"$bench" -m full -u "https://127.0.0.1:$port/dir" -t "$work/trust.pem" -c 1 -n 5 -d 10 |
    tee "$work/last" | tail -1
grep -q ' errors=0 ' "$work/last"
echo "bench smoke: ok"
