#!/usr/bin/env bash
# cairn against Debian's Pebble, same workloads, same run, same machine (docs/performance.md).
#
#   scripts/bench.sh                      # full run (about 6 minutes)
#   BENCH_DURATION=5 BENCH_LONG=20 scripts/bench.sh    # shorter
#   BENCH_FILL=1 scripts/bench.sh         # also the 1 M certificate store (scripts/bench-fill.sh)
#
# Builds a Release cairn and cairn-bench, starts cairn (test mode) and Pebble on loopback with
# equivalent settings (always-valid, no sleep, no nonce rejects, no authz reuse), runs
# full issuance at c=1,2,4,16, newNonce and directory against both, c=64 and c=256 against
# cairn, prints a side-by-side table with ratios and stops what it started by PID. Every run
# is bounded in time (Pebble locks up at c>=16: its errors and timeouts are reported as such).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

dur=${BENCH_DURATION:-10}
long=${BENCH_LONG:-60}
port=${BENCH_PORT_BASE:-24100}
build=${BENCH_BUILD_DIR:-$src/build-bench}

scripts/deps.sh bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCAIRN_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target cairn cairn-bench >/dev/null
bench=$build/bench/cairn-bench
cairn=$build/cairn

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# wait_for FILE TEXT: up to 10 s for TEXT to appear in FILE.
wait_for() {
    for _ in $(seq 1000); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.01
    done
    echo "bench: timed out waiting for \"$2\" in $1" >&2
    cat "$1" >&2
    return 1
}

export PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0

cairn_port=$port
pebble_port=$((port + 10))
CAIRN_LISTEN_ADDRESS=127.0.0.1:$cairn_port CAIRN_MANAGEMENT_LISTEN_ADDRESS= \
    "$cairn" --root-out "$work/cairn-trust.pem" >"$work/cairn.out" 2>"$work/cairn.err" &
cairn_pid=$!
pids+=("$cairn_pid")

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$work/pebble-key.pem" -out "$work/pebble-cert.pem" 2>/dev/null
cat >"$work/pebble.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$pebble_port",
            "managementListenAddress": "127.0.0.1:$((pebble_port + 1))",
            "certificate": "$work/pebble-cert.pem", "privateKey": "$work/pebble-key.pem",
            "httpPort": 5002, "tlsPort": 5001, "ocspResponderURL": "",
            "externalAccountBindingRequired": false}}
EOF
pebble -config "$work/pebble.json" >"$work/pebble.out" 2>&1 &
pebble_pid=$!
pids+=("$pebble_pid")
wait_for "$work/cairn.out" "Listening on"
wait_for "$work/pebble.out" "Listening on"

# run SERVER MODE C DURATION: one bounded cairn-bench run; appends its RESULT line.
run() {
    local server=$1 mode=$2 c=$3 d=$4 url trust pid out
    if [ "$server" = cairn ]; then
        url=https://127.0.0.1:$cairn_port/dir trust=$work/cairn-trust.pem pid=$cairn_pid
    else
        url=https://127.0.0.1:$pebble_port/dir trust=$work/pebble-cert.pem pid=$pebble_pid
    fi
    out=$work/run-$server-$mode-$c.txt
    echo "== $server $mode c=$c ${d}s" >&2
    timeout --signal=KILL $((d + 60)) "$bench" -m "$mode" -u "$url" -t "$trust" -p "$pid" \
        -c "$c" -d "$d" --timeout 5 --label "$server" >"$out" 2>&1 || true
    if ! grep -q '^RESULT' "$out"; then
        echo "RESULT label=$server mode=$mode key=es256 c=$c secs=$d ops=0 ops_s=0 errors=stalled" \
             "srv_cpu_ms_op=-1 cli_cpu_ms_op=-1 req_p50_ms=-1 req_p90_ms=-1 req_p99_ms=-1" \
             "req_max_ms=-1 srv_rss_kib=-1" >>"$out"
    fi
    grep -v '^RESULT' "$out" | sed 's/^/   /' >&2
    grep '^RESULT' "$out" >>"$work/results"
}

: >"$work/results"
"$bench" -m floor -n 3000 | tee "$work/floor.txt" >&2
for c in 1 2 4 16; do
    run cairn full "$c" "$dur"
    run pebble full "$c" "$dur"
done
for m in nonce directory; do
    run cairn "$m" 4 "$dur"
    run pebble "$m" 4 "$dur"
done
run cairn full 64 "$dur"
run cairn full 256 "$long"

if [ "${BENCH_FILL:-0}" = 1 ]; then
    BENCH_BUILD_DIR=$build BENCH_DURATION=$dur BENCH_PORT_BASE=$((port + 20)) \
        scripts/bench-fill.sh >&2
fi

# The table: one row per workload, cairn beside Pebble.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
row() {
    local mode=$1 c=$2 a b
    a=$(grep "label=cairn mode=$mode .* c=$c " "$work/results" || true)
    b=$(grep "label=pebble mode=$mode .* c=$c " "$work/results" || true)
    awk -v m="$mode" -v c="$c" \
        -v ao="$(field "$a" ops_s)" -v bo="$(field "$b" ops_s)" \
        -v ac="$(field "$a" srv_cpu_ms_op)" -v bc="$(field "$b" srv_cpu_ms_op)" \
        -v ae="$(field "$a" errors)" -v be="$(field "$b" errors)" \
        -v ap="$(field "$a" req_p99_ms)" -v bp="$(field "$b" req_p99_ms)" \
        -v cc="$(field "$a" cli_cpu_ms_op)" -v rss="$(field "$a" srv_rss_kib)" '
    function num(x) { return x == "" ? "-" : x }
    function ratio(x, y) { return (x == "" || y == "" || y <= 0 || x < 0) ? "-" : sprintf("%.2f", x / y) }
    BEGIN {
        printf "| %-9s | %4s | %9s | %9s | %6s | %8s | %8s | %6s | %7s | %7s | %7s | %7s | %7s | %7s |\n",
            m, c, num(ao), num(bo), ratio(ao, bo), num(ac), num(bc), ratio(ac, bc),
            num(ae), num(be), num(ap), num(bp), num(cc), num(rss)
    }'
}
{
    echo
    echo "cairn $(git -C "$src" describe --always --dirty 2>/dev/null || echo '?') vs Pebble" \
         "$(dpkg-query -W -f='${Version}' pebble 2>/dev/null || echo '?'), ES256," \
         "${dur}s per run (c=256: ${long}s), $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    grep '^FLOOR' "$work/floor.txt" || true
    echo
    echo "| workload  |    c | cairn/s   | pebble/s  | ratio  | cairn ms | pebble ms| ratio  | c.err   | p.err   | c.p99   | p.p99   | cli ms  | c.RSS   |"
    echo "|-----------|------|-----------|-----------|--------|----------|----------|--------|---------|---------|---------|---------|---------|---------|"
    for c in 1 2 4 16; do row full "$c"; done
    row nonce 4
    row directory 4
    row full 64
    row full 256
    echo
    echo "ms = server CPU per operation (utime+stime from /proc/PID/stat); p99 = per-request"
    echo "latency in ms; cli ms = the load generator's own CPU per operation against cairn;"
    echo "c.RSS = cairn's resident set in KiB after the run; err = failed operations."
}
