#!/bin/bash
# Interop: certbot (Debian) obtains certificates from cairn ($CAIRN_BIN; ACME_SERVER=pebble
# runs it against Debian's pebble), first with real http-01 validation through certbot's
# standalone server, then with PEBBLE_VA_ALWAYS_VALID=1 and nothing listening on the VA port.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v certbot >/dev/null || die "certbot is not installed"

run_certbot() {  # run_certbot NAME HTTP01_PORT NAME...
    local tag=$1 port=$2
    shift 2
    local args=() n
    for n in "$@"; do args+=(-d "$n"); done
    say "certbot certonly --standalone ($tag) for $* (http-01 port $port)"
    REQUESTS_CA_BUNDLE="$TRUST" timeout 180 certbot certonly --standalone \
        --http-01-address 127.0.0.1 --http-01-port "$port" \
        --server "$DIR_URL" --config-dir "$TMP/certbot-$tag/config" \
        --work-dir "$TMP/certbot-$tag/work" --logs-dir "$TMP/certbot-$tag/logs" \
        --register-unsafely-without-email --agree-tos -n --no-random-sleep-on-renew \
        "${args[@]}" >"$TMP/certbot-$tag.log" 2>&1 || {
        cat "$TMP/certbot-$tag.log" "$TMP/certbot-$tag/logs/letsencrypt.log" 2>/dev/null | tail -n 60
        die "certbot ($tag) failed"
    }
    verify_chain "$TMP/certbot-$tag/config/live/$1/fullchain.pem" "$@"
}

two_runs run_certbot
say "certbot interop: OK"
