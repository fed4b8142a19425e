#!/usr/bin/env bash
# The VA benchmark (not a test): builds cairn-va-bench in Release (build-bench/) and runs
# http-01 validations at 64 concurrent through va_validate() against an in-process responder
# on loopback, first for the IP identifier 127.0.0.1 (no DNS), then for a DNS name resolved for
# every validation through test/tools/mockdns.py. Prints validations/s and latency p50/p90/p99.
#   scripts/va-bench.sh [N]        N validations per run (default 20000)
# Results are written down in docs/va-benchmark.md.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-20000}
mkdir -p build-bench
if ! { cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DCAIRN_TESTS=OFF &&
       cmake --build build-bench -j"$(nproc)" --target cairn-va-bench; } >build-bench/build.log 2>&1
then
    tail -n 40 build-bench/build.log
    exit 1
fi
bench=build-bench/cairn-va-bench

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "== machine: $(nproc) cores, $cpu"
echo "== $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"

echo "== $bench -n $n -c 64"
"$bench" -n "$n" -c 64

tmp=$(mktemp -d)
dns_pid=
cleanup() {
    if [ -n "$dns_pid" ]; then
        kill -TERM "$dns_pid" 2>/dev/null || true
        wait "$dns_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
/usr/bin/python3 test/tools/mockdns.py --port 0 >"$tmp/dns.out" 2>&1 &
dns_pid=$!
port=
for _ in $(seq 1 100); do
    port=$(sed -n 's/^mockdns listening on //p' "$tmp/dns.out")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "mockdns.py did not start" >&2; exit 1; }
echo "== $bench -n $n -c 64 -d 127.0.0.1:$port   (mockdns.py, A and AAAA per validation)"
"$bench" -n "$n" -c 64 -d "127.0.0.1:$port"
