# shellcheck shell=bash
# Shared helpers for the interop scripts: sourced, not run.  They start a mock DNS
# (pebble-challtestsrv, DNS only, everything -> 127.0.0.1) and the daemon under test (cairn from
# $CAIRN_BIN, or Debian's pebble with ACME_SERVER=pebble) on free loopback ports in a temp dir,
# and stop exactly the PIDs they started when the script exits.

set -euo pipefail

ACME_SERVER=${ACME_SERVER:-cairn}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIBDIR=$(cd "$HERE/../integration" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cairn-interop.XXXXXX")
PIDS=()
DAEMON_PID=
START_TIMEOUT=20

say() { printf '==> %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

stop_pid() {
    local pid=$1 _
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? pid
    set +e
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
        stop_pid "$pid"
    done
    if [ "$rc" -ne 0 ]; then
        for f in "$TMP"/*.log; do
            [ -f "$f" ] || continue
            echo "--- tail of $f"
            tail -n 30 "$f"
        done
    fi
    if [ -n "${CAIRN_KEEP_TMP:-}" ]; then
        echo "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$ACME_SERVER" != pebble ]; then
    [ -n "${CAIRN_BIN:-}" ] && [ -x "$CAIRN_BIN" ] ||
        die "CAIRN_BIN must name the cairn executable (or set ACME_SERVER=pebble)"
fi

free_port() {
    "$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import cairnlib; print(cairnlib.free_port())' "$LIBDIR"
}

free_tcp_udp_port() {
    "$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import cairnlib; print(cairnlib.free_tcp_udp_port())' "$LIBDIR"
}

# start_dns: sets DNS_PORT and DNS_MGMT_PORT (challtestsrv's management API, for TXT records)
start_dns() {
    DNS_PORT=$(free_tcp_udp_port)
    DNS_MGMT_PORT=$(free_port)
    local mgmt=$DNS_MGMT_PORT
    say "mock DNS (pebble-challtestsrv) on 127.0.0.1:$DNS_PORT"
    pebble-challtestsrv -dns01 "127.0.0.1:$DNS_PORT" -http01 "" -https01 "" -tlsalpn01 "" \
        -management "127.0.0.1:$mgmt" -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
        >"$TMP/mockdns.log" 2>&1 </dev/null &
    PIDS+=($!)
    "$PY" - "$LIBDIR" "$DNS_PORT" "$START_TIMEOUT" <<'EOF' || die "mock DNS did not answer"
import sys, time
sys.path.insert(0, sys.argv[1])
import cairnlib
port, deadline = int(sys.argv[2]), time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    try:
        if cairnlib.dns_resolve_a(port, "probe.example.com", 0.3) == ["127.0.0.1"]:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
EOF
}

# pick_ports: ACME_PORT MGMT_PORT HTTP_PORT TLS_PORT, and the state dir
pick_ports() {
    ACME_PORT=$(free_port)
    MGMT_PORT=$(free_port)
    HTTP_PORT=$(free_port)
    TLS_PORT=$(free_port)
    STATE="$TMP/state"
    mkdir -p "$STATE"
    DIR_URL="https://127.0.0.1:$ACME_PORT/dir"
}

# start_daemon [VAR=value ...]: starts the daemon with those extra environment variables.
# Sets DAEMON_PID and TRUST (the PEM to trust for the ACME/management listeners).
start_daemon() {
    local conf="$TMP/config.json" log="$TMP/daemon.log" extra=""
    if [ "$ACME_SERVER" = pebble ]; then
        TRUST="$TMP/listener-cert.pem"
        if [ ! -f "$TRUST" ]; then
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
                -keyout "$TMP/listener-key.pem" -out "$TRUST" -subj "/CN=cairn interop listener" \
                -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null
        fi
        extra=",\"certificate\":\"$TRUST\",\"privateKey\":\"$TMP/listener-key.pem\",\"ocspResponderURL\":\"\",\"externalAccountBindingRequired\":false"
    else
        TRUST="$STATE/trust.pem"
    fi
    # Retry-After 1 s: clients that honour it (lego) poll sooner than the default 3 s / 5 s.
    cat >"$conf" <<EOF
{"pebble":{"listenAddress":"127.0.0.1:$ACME_PORT","managementListenAddress":"127.0.0.1:$MGMT_PORT",
"httpPort":$HTTP_PORT,"tlsPort":$TLS_PORT,"retryAfter":{"authz":1,"order":1}$extra}}
EOF
    echo "=== start $* ($(date +%T))" >>"$log"
    say "starting $ACME_SERVER on 127.0.0.1:$ACME_PORT (VA http-01 port $HTTP_PORT) $*"
    if [ "$ACME_SERVER" = pebble ]; then
        env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 "$@" \
            pebble -config "$conf" -dnsserver "127.0.0.1:$DNS_PORT" >>"$log" 2>&1 </dev/null &
    else
        env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 "$@" \
            "$CAIRN_BIN" -config "$conf" -dnsserver "127.0.0.1:$DNS_PORT" --state-dir "$STATE" \
            >>"$log" 2>&1 </dev/null &
    fi
    DAEMON_PID=$!
    PIDS+=("$DAEMON_PID")
    local _ lines
    lines=$(grep -c "Listening on:" "$log" || true)
    for _ in $(seq 1 $((START_TIMEOUT * 10))); do
        kill -0 "$DAEMON_PID" 2>/dev/null || die "daemon exited during start"
        [ "$(grep -c "Listening on:" "$log" || true)" -gt "$lines" ] && break
        sleep 0.1
    done
    [ "$(grep -c "Listening on:" "$log" || true)" -gt "$lines" ] ||
        die "no 'Listening on:' within ${START_TIMEOUT}s"
    for _ in $(seq 1 50); do
        curl -fsS --cacert "$TRUST" -o /dev/null "$DIR_URL" 2>/dev/null && break
        sleep 0.1
    done
    curl -fsS --cacert "$TRUST" -o /dev/null "$DIR_URL" || die "directory not reachable"
    curl -fsS --cacert "$TRUST" -o "$TMP/root.pem" "https://127.0.0.1:$MGMT_PORT/roots/0" ||
        die "cannot fetch /roots/0"
}

# stop_started PID: stop one process this script started and forget it, so the exit trap
# never signals a PID that may since have been reused.
stop_started() {
    local keep=() pid
    stop_pid "$1"
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
        [ "$pid" = "$1" ] || keep+=("$pid")
    done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

stop_daemon() {
    [ -n "$DAEMON_PID" ] || return 0
    say "stopping daemon (pid $DAEMON_PID)"
    stop_started "$DAEMON_PID"
    DAEMON_PID=
}

# verify_chain CHAIN NAME...: leaf first, chains to /roots/0, names in the SAN.
verify_chain() {
    local chain=$1 name
    shift
    [ -s "$chain" ] || die "no certificate chain at $chain"
    say "verifying $chain against /roots/0"
    openssl verify -CAfile "$TMP/root.pem" -untrusted "$chain" "$chain" ||
        die "chain does not verify"
    local san want
    san=$(openssl x509 -in "$chain" -noout -ext subjectAltName | tail -n +2 | tr -d ' ' |
        tr ',' '\n')
    for name in "$@"; do
        # IP identifiers print as "IP Address:..." (spaces are stripped above); compare whole
        # entries as fixed strings so "*.wild.example.com" is not a pattern.
        if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then
            want="IPAddress:$name"
        else
            want="DNS:$name"
        fi
        grep -qxF "$want" <<<"$san" || die "leaf lacks $want ($san)"
    done
    openssl x509 -in "$chain" -noout -ext basicConstraints | grep -q "CA:FALSE" ||
        die "leaf is not CA:FALSE"
}

# serve_dir DIR PORT: a python http.server on 127.0.0.1:PORT serving DIR; sets SERVE_PID
serve_dir() {
    "$PY" -m http.server --bind 127.0.0.1 --directory "$1" "$2" >>"$TMP/webserver.log" 2>&1 \
        </dev/null &
    SERVE_PID=$!
    PIDS+=("$SERVE_PID")
    local _
    for _ in $(seq 1 50); do
        curl -fsS -o /dev/null "http://127.0.0.1:$2/" 2>/dev/null && return 0
        sleep 0.1
    done
    die "web server on $2 did not start"
}

# two_runs CLIENT_FN: CLIENT_FN TAG PORT NAME... obtains and verifies one certificate with its
# own http-01 server on PORT.  Run 1: real validation, PORT is the VA's httpPort.  Run 2:
# PEBBLE_VA_ALWAYS_VALID=1 and PORT is one nobody validates against, which proves the setting.
two_runs() {
    local fn=$1
    start_dns
    pick_ports
    start_daemon
    "$fn" http01 "$HTTP_PORT" test1.example.com test2.example.com
    stop_daemon
    start_daemon PEBBLE_VA_ALWAYS_VALID=1
    "$fn" always "$(free_port)" test3.example.com
    stop_daemon
}

# write_txt_tool: writes $TXT_TOOL ($TMP/txt-tool), a standalone script for the clients' hooks:
#   txt-tool set NAME VALUE   adds a TXT record at NAME (trailing dot optional)
#   txt-tool clear NAME       removes every TXT record at NAME
# It talks to challtestsrv's management API (POST /set-txt {"host","value"}, POST /clear-txt
# {"host"}) and logs each call to $TMP/txt-tool.log.  Needs start_dns first.
write_txt_tool() {
    TXT_TOOL="$TMP/txt-tool"
    cat >"$TXT_TOOL" <<TOOL
#!/bin/bash
set -eu
op=\$1 host=\${2%.}. value=\${3:-}
case "\$host\$value" in *[!A-Za-z0-9._-]*) echo "txt-tool: bad input" >&2; exit 2 ;; esac
case "\$op" in
    set) body=\$(printf '{"host":"%s","value":"%s"}' "\$host" "\$value") ;;
    clear) body=\$(printf '{"host":"%s"}' "\$host") ;;
    *) echo "txt-tool: unknown op \$op" >&2; exit 2 ;;
esac
echo "txt-tool: \$op \$host \$value" >>"$TMP/txt-tool.log"
curl -fsS -m 5 -X POST -d "\$body" "http://127.0.0.1:$DNS_MGMT_PORT/\$op-txt" >/dev/null
TOOL
    chmod +x "$TXT_TOOL"
}

# skip_if_not_implemented LOG WHAT: when LOG shows the daemon answering a challenge with
# "not implemented yet", print SKIP for WHAT and return 0; otherwise return 1.
skip_if_not_implemented() {
    if grep -q "not implemented yet" "$1"; then
        say "SKIP: $2 (the daemon says: $(grep -o '[^:]*not implemented yet' "$1" | head -n 1))"
        return 0
    fi
    return 1
}
