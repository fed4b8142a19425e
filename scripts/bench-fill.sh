#!/usr/bin/env bash
# Store-scale fixture (docs/performance.md): a persistent cairn state with 1 M orders, each with
# its authorization and three challenges, and 1 M certificates filled via SQL, then startup
# time to "Listening on" after a clean shutdown, the full-issuance benchmark against it, cairn's
# RSS at steady state, and the start-up after a SIGKILL (integrity check).
#   BENCH_FILL_ROWS=1000000 BENCH_DURATION=10 scripts/bench-fill.sh
# Uses BENCH_BUILD_DIR (default build-bench, built by scripts/bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BENCH_BUILD_DIR:-$(pwd)/build-bench}
rows=${BENCH_FILL_ROWS:-1000000}
dur=${BENCH_DURATION:-10}
port=${BENCH_PORT_BASE:-24120}
if [ ! -x "$build/cairn" ] || [ ! -x "$build/bench/cairn-bench" ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCAIRN_TESTS=OFF >/dev/null
    cmake --build "$build" -j2 --target cairn cairn-bench >/dev/null
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-fill.XXXXXX")
pid=
stop() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        pid=
    fi
}
trap 'stop; rm -rf "$work"' EXIT
export PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_VA_NOSLEEP=1 PEBBLE_AUTHZREUSE=0

# start: runs cairn on the state directory (in this shell: $pid is ours to stop) and sets
# $ms to the milliseconds until it printed "Listening on".
start() {
    local t0 t1
    : >"$work/out"
    t0=$(date +%s%N)
    CAIRN_LISTEN_ADDRESS=127.0.0.1:$port CAIRN_MANAGEMENT_LISTEN_ADDRESS= \
        "$build/cairn" --state-dir "$work/state" >"$work/out" 2>>"$work/err" &
    pid=$!
    for _ in $(seq 60000); do
        grep -q "Listening on" "$work/out" && break
        kill -0 "$pid" 2>/dev/null || { cat "$work/err" >&2; return 1; }
        sleep 0.001
    done
    t1=$(date +%s%N)
    ms=$(((t1 - t0) / 1000000))
}

echo "== creating the state (CA, schema)"
start
stop
echo "== filling $rows orders (with authorizations and challenges) and certificates"
t0=$(date +%s)
sqlite3 "$work/state/cairn.db" <<EOF
PRAGMA journal_mode=WAL;
PRAGMA synchronous=OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO accounts (id, key_thumbprint, jwk, status, contact, tos_agreed, created_at, updated_at)
SELECT printf('fillacct%013d', i), printf('fillthumb%034d', i), '{}', 'valid', NULL, 1,
       strftime('%s','now'), strftime('%s','now') FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO orders (id, account_id, status, expires_at, profile, identifiers, created_at, seq)
SELECT printf('fillordr%014d', i), printf('fillacct%013d', i % 1000 + 1), 'valid',
       strftime('%s','now') + 86400, 'default',
       printf('[{"type":"dns","value":"h%d.fill.example"}]', i), strftime('%s','now'),
       -i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO authzs (id, account_id, ident_type, ident_value, status, expires_at,
                    validated_at, created_at)
SELECT printf('fillauthz%013d', i), printf('fillacct%013d', i % 1000 + 1), 'dns',
       printf('h%d.fill.example', i), 'valid', strftime('%s','now') + 86400,
       strftime('%s','now'), strftime('%s','now') FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO order_authzs (order_id, authz_id, pos)
SELECT printf('fillordr%014d', i), printf('fillauthz%013d', i), 0 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows),
     t(k, type, status) AS (VALUES (0, 'http-01', 'valid'), (1, 'dns-01', 'pending'),
                                   (2, 'tls-alpn-01', 'pending'))
INSERT INTO challenges (id, authz_id, type, token, status, validated_at, pos)
SELECT printf('fillch%d%015d', k, i), printf('fillauthz%013d', i), type,
       printf('filltoken%d%033d', k, i), status, 0, k FROM n, t;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO certs (serial, order_id, account_id, status, der, not_after, created_at)
SELECT printf('7f%030x', i), printf('fillordr%014d', i), printf('fillacct%013d', i % 1000 + 1),
       'good', randomblob(700), strftime('%s','now') + 7776000, strftime('%s','now') FROM n;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
EOF
echo "   filled in $(($(date +%s) - t0)) s; database $(du -m "$work/state/cairn.db" | cut -f1) MiB"

echo "== startup with $rows certificates"
start
first=$ms
stop
start
second=$ms
echo "STARTUP rows=$rows first_start_ms=$first clean_restart_ms=$second"
"$build/bench/cairn-bench" -m full -u "https://127.0.0.1:$port/dir" -t "$work/state/trust.pem" \
    -p "$pid" -c 4 -d "$dur" --label "filled-$rows" | tail -4
echo "FILL_RSS rows=$rows rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
stop
# an unclean end (SIGKILL) must bring the integrity check back
start
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
pid=
start
echo "STARTUP rows=$rows after_kill_ms=$ms"
stop
