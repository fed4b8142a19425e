#!/bin/bash
# Interop: lego (Debian) obtains certificates from cairn ($CAIRN_BIN; ACME_SERVER=pebble runs
# it against Debian's pebble), first with real http-01 validation through lego's own server,
# then with PEBBLE_VA_ALWAYS_VALID=1 and nothing listening on the VA port.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v lego >/dev/null || die "lego is not installed"

run_lego() {  # run_lego TAG HTTP01_PORT NAME...
    local tag=$1 port=$2
    shift 2
    local args=() n
    for n in "$@"; do args+=(--domains "$n"); done
    say "lego run --http ($tag) for $* (http-01 port $port)"
    LEGO_CA_CERTIFICATES="$TRUST" timeout 180 lego --server "$DIR_URL" --accept-tos \
        --email "admin@$1" --path "$TMP/lego-$tag" --http --http.port "127.0.0.1:$port" \
        "${args[@]}" run >"$TMP/lego-$tag.log" 2>&1 || {
        tail -n 60 "$TMP/lego-$tag.log"
        die "lego ($tag) failed"
    }
    verify_chain "$TMP/lego-$tag/certificates/$1.crt" "$@"
}

two_runs run_lego
say "lego interop: OK"
