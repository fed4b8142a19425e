#!/bin/bash
# Interop: uacme (Debian) obtains certificates from cairn ($CAIRN_BIN; ACME_SERVER=pebble runs
# it against Debian's pebble).  uacme's libcurl trusts only the system bundle, so uacme runs in
# a private mount namespace (`unshare -m`) with the daemon's trust PEM bind-mounted over
# /etc/ssl/certs/ca-certificates.crt there; the real trust store is never touched.
# Run 1: real http-01, the hook writes the key authorization into a directory served by a
# python http.server on the VA port.  Run 2: PEBBLE_VA_ALWAYS_VALID=1, nothing is served.
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
cat >"$HOOK" <<HOOK
#!/bin/bash
# uacme hook: METHOD TYPE IDENT TOKEN AUTH; accept only http-01.
set -eu
method=\$1 type=\$2 ident=\$3 token=\$4 auth=\$5
[ "\$type" = http-01 ] || exit 1
case "\$token" in *[!A-Za-z0-9_-]*|"") exit 1 ;; esac
file="$WEBROOT/.well-known/acme-challenge/\$token"
case "\$method" in
    begin) printf '%s' "\$auth" >"\$file" ;;
    done|failed) rm -f "\$file" ;;
esac
echo "hook: \$method \$type \$ident" >>"$TMP/hook.log"
HOOK
chmod +x "$HOOK"

run_uacme() {  # run_uacme TAG NAME...
    local tag=$1
    shift
    local conf="$TMP/uacme-$tag"
    mkdir -p "$conf"
    say "uacme new + issue ($tag) for $* in unshare -m with the trust PEM bind-mounted"
    timeout 180 unshare -m /bin/bash -euc '
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
    verify_chain "$conf/$1/cert.pem" "$@"
}

start_dns
pick_ports

start_daemon
serve_dir "$WEBROOT" "$HTTP_PORT"
run_uacme http01 test1.example.com test2.example.com
grep -q "hook: begin http-01 test1.example.com" "$TMP/hook.log" || die "the hook was not used"
stop_started "$SERVE_PID"
stop_daemon

start_daemon PEBBLE_VA_ALWAYS_VALID=1
run_uacme always test3.example.com
stop_daemon

[ "$(sha256sum </etc/ssl/certs/ca-certificates.crt)" = "$STORE_SUM" ] ||
    die "the system trust store changed"
say "uacme interop: OK"
