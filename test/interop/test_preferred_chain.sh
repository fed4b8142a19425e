#!/bin/bash
# Interop: with PEBBLE_ALTERNATE_ROOTS=2, lego's --preferred-chain picks the chain to an
# alternate root (offered with Link rel="alternate"); without it lego keeps the default chain.
# Runs against cairn only (Debian's pebble does the same, but its roots change every start).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v lego >/dev/null || die "lego is not installed"

start_dns
pick_ports
start_daemon PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_ALTERNATE_ROOTS=2
for n in 1 2; do
    curl -fsS --cacert "$TRUST" -o "$TMP/root-$n.pem" "https://127.0.0.1:$MGMT_PORT/roots/$n" ||
        die "cannot fetch /roots/$n"
done
ALT_CN=$(openssl x509 -in "$TMP/root-2.pem" -noout -subject -nameopt multiline |
    sed -n 's/^ *commonName *= *//p')
[ -n "$ALT_CN" ] || die "no CN in /roots/2"

run_lego() {  # run_lego TAG NAME [lego options...]
    local tag=$1 name=$2
    shift 2
    say "lego run ($tag) for $name $*"
    LEGO_CA_CERTIFICATES="$TRUST" timeout 180 lego --server "$DIR_URL" --accept-tos \
        --email "admin@$name" --path "$TMP/lego-$tag" --http \
        --http.port "127.0.0.1:$(free_port)" --domains "$name" run "$@" \
        >"$TMP/lego-$tag.log" 2>&1 || {
        tail -n 60 "$TMP/lego-$tag.log"
        die "lego ($tag) failed"
    }
    CHAIN="$TMP/lego-$tag/certificates/$name.crt"
    [ -s "$CHAIN" ] || die "no chain from lego ($tag)"
}

verifies_against() {  # verifies_against ROOT CHAIN
    openssl verify -CAfile "$1" -untrusted "$2" "$2" >/dev/null 2>&1
}

run_lego preferred alt.example.com --preferred-chain "$ALT_CN"
verifies_against "$TMP/root-2.pem" "$CHAIN" || die "preferred chain does not lead to /roots/2"
verifies_against "$TMP/root.pem" "$CHAIN" && die "preferred chain still leads to /roots/0"
verifies_against "$TMP/root-1.pem" "$CHAIN" && die "preferred chain leads to /roots/1"
say "preferred chain ($ALT_CN) verifies against /roots/2 only"

run_lego default default.example.com
verifies_against "$TMP/root.pem" "$CHAIN" || die "default chain does not lead to /roots/0"
verifies_against "$TMP/root-2.pem" "$CHAIN" && die "default chain leads to /roots/2"
stop_daemon
say "preferred-chain interop: OK"
