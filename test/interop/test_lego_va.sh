#!/bin/bash
# Interop: lego (Debian) obtains certificates from cairn ($CAIRN_BIN; ACME_SERVER=pebble runs
# it against Debian's pebble) with the other validation methods, all real:
#   dns-01 through lego's exec provider (EXEC_PATH: a script adding the TXT record to the mock
#   DNS through challtestsrv's /set-txt), for one name and for a wildcard with its base name;
#   tls-alpn-01 through lego's own TLS server.  Until the daemon implements tls-alpn-01 (its
#   challenge error then says "not implemented yet") that run prints SKIP instead of failing.
# lego 4.9.1 (Debian 12) sends an IP address as a "dns" identifier, so the IP identifier run
# is uacme's (test_uacme_va.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v lego >/dev/null || die "lego is not installed"

# run_lego TAG CHALLENGE_ARGS -- NAME...: one `lego run` and its certificate verified; returns
# 1 when lego fails (its log is $TMP/lego-TAG.log).  lego names a wildcard's files "_.base".
run_lego() {
    local tag=$1
    shift
    local cargs=() args=() n
    while [ "$#" -gt 0 ] && [ "$1" != -- ]; do cargs+=("$1"); shift; done
    shift
    for n in "$@"; do args+=(--domains "$n"); done
    say "lego run ${cargs[*]} ($tag) for $*"
    LEGO_CA_CERTIFICATES="$TRUST" EXEC_PATH="$TMP/lego-exec" EXEC_PROPAGATION_TIMEOUT=10 \
        EXEC_POLLING_INTERVAL=1 EXEC_SEQUENCE_INTERVAL=1 timeout 120 lego --server "$DIR_URL" \
        --accept-tos --email "admin@example.com" --path "$TMP/lego-$tag" "${cargs[@]}" \
        "${args[@]}" run >"$TMP/lego-$tag.log" 2>&1 || return 1
    verify_chain "$TMP/lego-$tag/certificates/${1/\*/_}.crt" "$@"
}

lego_failed() {  # lego_failed TAG
    tail -n 40 "$TMP/lego-$1.log"
    die "lego ($1) failed"
}

start_dns
write_txt_tool
# lego's exec provider runs EXEC_PATH present|cleanup FQDN VALUE (FQDN with a trailing dot).
cat >"$TMP/lego-exec" <<HOOK
#!/bin/bash
set -eu
case "\$1" in
    present) "$TXT_TOOL" set "\$2" "\$3" ;;
    cleanup) "$TXT_TOOL" clear "\$2" ;;
    *) exit 0 ;;
esac
HOOK
chmod +x "$TMP/lego-exec"

pick_ports
start_daemon
# dns-01: lego's own propagation check is pointed at the mock DNS and then disabled, so lego
# never asks a real resolver; the daemon's VA does the real check.
DNSARGS=(--dns exec --dns.resolvers "127.0.0.1:$DNS_PORT" --dns.disable-cp)
run_lego dns01 "${DNSARGS[@]}" -- dnslego.example.com || lego_failed dns01
run_lego wild "${DNSARGS[@]}" -- '*.lwild.example.com' lwild.example.com || lego_failed wild
[ "$(grep -c "set _acme-challenge.lwild.example.com." "$TMP/txt-tool.log")" -eq 2 ] ||
    die "expected two TXT records (wildcard and base name) at _acme-challenge.lwild.example.com"

# tls-alpn-01 (RFC 8737) on the VA's tlsPort.
if run_lego tlsalpn --tls --tls.port "127.0.0.1:$TLS_PORT" -- alpn.example.com; then
    :
elif skip_if_not_implemented "$TMP/lego-tlsalpn.log" "lego tls-alpn-01"; then
    :
else
    lego_failed tlsalpn
fi
stop_daemon
say "lego dns-01, wildcard and tls-alpn-01 interop: OK"
