#!/bin/bash
# Interop: certbot (Debian) obtains certificates from cairn ($CAIRN_BIN; ACME_SERVER=pebble runs
# it against Debian's pebble) with real dns-01 validation: certbot --manual with auth/cleanup
# hooks that add and remove the TXT record in the mock DNS (challtestsrv's /set-txt and
# /clear-txt), which the daemon queries through -dnsserver.  Two runs: one name, then a
# wildcard (*.wild.example.com) together with its base name, both validated by dns-01 at the
# same _acme-challenge name.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v certbot >/dev/null || die "certbot is not installed"

run_certbot_dns() {  # run_certbot_dns TAG NAME...
    local tag=$1
    shift
    local args=() n
    for n in "$@"; do args+=(-d "$n"); done
    say "certbot certonly --manual --preferred-challenges dns ($tag) for $*"
    REQUESTS_CA_BUNDLE="$TRUST" timeout 120 certbot certonly --manual \
        --preferred-challenges dns --manual-auth-hook "$TMP/auth-hook" \
        --manual-cleanup-hook "$TMP/cleanup-hook" --cert-name "$tag" \
        --server "$DIR_URL" --config-dir "$TMP/certbot-$tag/config" \
        --work-dir "$TMP/certbot-$tag/work" --logs-dir "$TMP/certbot-$tag/logs" \
        --register-unsafely-without-email --agree-tos -n --no-random-sleep-on-renew \
        "${args[@]}" >"$TMP/certbot-$tag.log" 2>&1 || {
        cat "$TMP/certbot-$tag.log" "$TMP/certbot-$tag/logs/letsencrypt.log" 2>/dev/null | tail -n 60
        die "certbot ($tag) failed"
    }
    verify_chain "$TMP/certbot-$tag/config/live/$tag/fullchain.pem" "$@"
}

start_dns
write_txt_tool
# certbot passes CERTBOT_DOMAIN (the base name for a wildcard) and CERTBOT_VALIDATION (the
# TXT value) to its hooks.
cat >"$TMP/auth-hook" <<HOOK
#!/bin/bash
set -eu
"$TXT_TOOL" set "_acme-challenge.\$CERTBOT_DOMAIN" "\$CERTBOT_VALIDATION"
HOOK
cat >"$TMP/cleanup-hook" <<HOOK
#!/bin/bash
set -eu
"$TXT_TOOL" clear "_acme-challenge.\$CERTBOT_DOMAIN"
HOOK
chmod +x "$TMP/auth-hook" "$TMP/cleanup-hook"

pick_ports
start_daemon
run_certbot_dns dns01 dns1.example.com
run_certbot_dns wild '*.wild.example.com' wild.example.com
stop_daemon

grep -q "set _acme-challenge.wild.example.com." "$TMP/txt-tool.log" ||
    die "the auth hook did not publish the wildcard's TXT record"
[ "$(grep -c "set _acme-challenge.wild.example.com." "$TMP/txt-tool.log")" -eq 2 ] ||
    die "expected two TXT records (wildcard and base name) at _acme-challenge.wild.example.com"
say "certbot dns-01 interop: OK"
