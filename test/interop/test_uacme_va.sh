#!/bin/bash
# Interop: uacme (Debian) obtains certificates from cairn ($CAIRN_BIN; ACME_SERVER=pebble runs
# it against Debian's pebble) with real dns-01 and with an IP identifier:
#   dns-01 through uacme's hook (uacme hands it the TXT value ready-made), which adds the record
#   to the mock DNS with challtestsrv's /set-txt: one name, then a wildcard with its base name;
#   an IP identifier (RFC 8738, 127.0.0.1) by http-01: the hook writes the key authorization
#   into a directory a python http.server serves on the VA's httpPort.
# As in test_uacme.sh, uacme runs in a private mount namespace (`unshare -m`) with the daemon's
# trust PEM bind-mounted over the system bundle there; the real trust store is never touched.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v uacme >/dev/null || die "uacme is not installed"
command -v unshare >/dev/null || die "unshare is not installed"
[ -f /etc/ssl/certs/ca-certificates.crt ] || die "no /etc/ssl/certs/ca-certificates.crt to cover"
unshare -m true 2>/dev/null || die "unshare -m is not permitted here (needs root or user namespaces)"

STORE_SUM=$(sha256sum </etc/ssl/certs/ca-certificates.crt)
HOOK="$TMP/hook.sh"
WEBROOT="$TMP/www"
mkdir -p "$WEBROOT/.well-known/acme-challenge"

start_dns
write_txt_tool
# uacme hook: METHOD TYPE IDENT TOKEN AUTH.  dns-01 for DNS names, http-01 for IP addresses
# (the daemon offers no dns-01 for those); refusing a type makes uacme try the next one.
cat >"$HOOK" <<HOOK
#!/bin/bash
set -eu
method=\$1 type=\$2 ident=\$3 token=\$4 auth=\$5
case "\$type:\$ident" in
    dns-01:*[!0-9.]*)
        case "\$method" in
            begin) "$TXT_TOOL" set "_acme-challenge.\$ident" "\$auth" ;;
            done|failed) "$TXT_TOOL" clear "_acme-challenge.\$ident" ;;
        esac ;;
    http-01:*[!0-9.]*) exit 1 ;;
    http-01:*)
        case "\$token" in *[!A-Za-z0-9_-]*|"") exit 1 ;; esac
        file="$WEBROOT/.well-known/acme-challenge/\$token"
        case "\$method" in
            begin) printf '%s' "\$auth" >"\$file" ;;
            done|failed) rm -f "\$file" ;;
        esac ;;
    *) exit 1 ;;
esac
echo "hook: \$method \$type \$ident" >>"$TMP/hook.log"
HOOK
chmod +x "$HOOK"

# run_uacme TAG NAME...: uacme makes the key and CSR; the certificate lands in CONF/NAME/.
# run_uacme TAG CSRFILE: uacme sends that CSR; the certificate lands next to it (-cert.pem).
run_uacme() {
    local tag=$1
    shift
    local conf="$TMP/uacme-$tag"
    mkdir -p "$conf"
    say "uacme new + issue ($tag) for $* in unshare -m with the trust PEM bind-mounted"
    timeout 120 unshare -m /bin/bash -euc '
        mount --bind "$1" /etc/ssl/certs/ca-certificates.crt
        shift
        conf=$1 dir=$2 hook=$3
        shift 3
        uacme -v -y -o -c "$conf" -a "$dir" new
        uacme -v -y -o -c "$conf" -a "$dir" -h "$hook" -t EC issue "$@"
    ' uacme-ns "$TRUST" "$conf" "$DIR_URL" "$HOOK" "$@" >"$TMP/uacme-$tag.log" 2>&1 || {
        tail -n 60 "$TMP/uacme-$tag.log"
        die "uacme ($tag) failed"
    }
    case "$1" in
        *.csr) ;;
        *) verify_chain "$conf/${1#\*.}/cert.pem" "$@" ;;
    esac
}

pick_ports
start_daemon
run_uacme dns01 udns.example.com
grep -q "hook: begin dns-01 udns.example.com" "$TMP/hook.log" || die "dns-01 was not used"
run_uacme wild '*.uwild.example.com' uwild.example.com
[ "$(grep -c "set _acme-challenge.uwild.example.com." "$TMP/txt-tool.log")" -eq 2 ] ||
    die "expected two TXT records (wildcard and base name) at _acme-challenge.uwild.example.com"
# uacme's own CSR for an IP address puts the address in the subject CN, which cairn refuses
# (PROTOCOL.md §5: a CN must be one of the order's DNS names), so uacme gets a CSR with the
# iPAddress SAN only and no subject; uacme then orders the identifiers found in it.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/ip.key" \
    -subj / -addext "subjectAltName=IP:127.0.0.1" -out "$TMP/ip.csr" 2>/dev/null
serve_dir "$WEBROOT" "$HTTP_PORT"
run_uacme ip "$TMP/ip.csr"
verify_chain "$TMP/ip-cert.pem" 127.0.0.1
grep -q "hook: begin http-01 127.0.0.1" "$TMP/hook.log" || die "http-01 was not used for the IP"
stop_started "$SERVE_PID"
stop_daemon

[ "$(sha256sum </etc/ssl/certs/ca-certificates.crt)" = "$STORE_SUM" ] ||
    die "the system trust store changed"
say "uacme dns-01, wildcard and IP identifier interop: OK"
