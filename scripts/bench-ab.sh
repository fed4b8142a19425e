#!/usr/bin/env bash
# A/B comparison of two cairn binaries with cairn-bench (docs/performance.md, "Round 2").
#
#   scripts/bench-ab.sh OLD_CAIRN NEW_CAIRN [CONCURRENCY] [RUNS] [SECONDS]
#
# Alternates full-issuance runs (ES256, always-valid, test mode, throw-away state) between the
# two binaries, RUNS times each, so that a machine shared with other jobs disturbs both alike,
# and prints every run's RESULT fields plus the mean server CPU per certificate of each. The
# load generator is build-bench/bench/cairn-bench unless BENCH= names another. Every process
# it starts is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

old=${1:?usage: bench-ab.sh OLD_CAIRN NEW_CAIRN [C] [RUNS] [SECONDS]}
new=${2:?usage: bench-ab.sh OLD_CAIRN NEW_CAIRN [C] [RUNS] [SECONDS]}
c=${3:-4}
runs=${4:-4}
secs=${5:-8}
bench=${BENCH:-build-bench/bench/cairn-bench}
port=${BENCH_PORT_BASE:-24300}

export PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-ab.XXXXXX")
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# one BINARY LABEL: one bounded run; appends "LABEL RESULT..." to $work/results.
one() {
    local bin=$1 label=$2 out=$work/out
    rm -f "$out" "$work/trust.pem"
    CAIRN_LISTEN_ADDRESS=127.0.0.1:$port CAIRN_MANAGEMENT_LISTEN_ADDRESS= \
        "$bin" --root-out "$work/trust.pem" >"$out" 2>"$work/err" &
    pid=$!
    for _ in $(seq 1000); do
        grep -q "Listening on" "$out" 2>/dev/null && break
        sleep 0.01
    done
    timeout --signal=KILL $((secs + 60)) "$bench" -m full -u "https://127.0.0.1:$port/dir" \
        -t "$work/trust.pem" -p "$pid" -c "$c" -d "$secs" --timeout 5 --label "$label" |
        grep '^RESULT' | tee -a "$work/results" || true
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
}

: >"$work/results"
for _ in $(seq "$runs"); do
    one "$old" old
    one "$new" new
done
awk '{ for (i = 1; i <= NF; i++) { split($i, a, "=");
           if (a[1] == "label") l = a[2];
           if (a[1] == "srv_cpu_ms_op") { s[l] += a[2]; n[l]++ }
           if (a[1] == "ops_s") o[l] += a[2]
           if (a[1] == "req_p99_ms") p[l] += a[2] } }
     END { for (l in s) printf "MEAN label=%s c='"$c"' runs=%d srv_cpu_ms_op=%.3f ops_s=%.1f req_p99_ms=%.2f\n",
                                l, n[l], s[l] / n[l], o[l] / n[l], p[l] / n[l] }' "$work/results"
