#!/usr/bin/python3
"""Writes the seed corpora (test/fuzz/corpus/<target>/) and fuzz_acct.h for the libFuzzer
targets: small, real examples (signed JWS bodies, CSRs, identifiers, configs). Run once by a
developer; the output is committed so CI and scripts/fuzz.sh need no Python.

    /usr/bin/python3 test/fuzz/make_corpus.py
"""

import hashlib
import hmac
import json
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from cairnlib import AcmeClient, Key, b64u, canon_json, make_csr  # noqa: E402

BASE = "https://127.0.0.1:14000"
ACCT = BASE + "/acme/acct/AAAAAAAAAAAAAAAAAAAAAA"
NOW = 1700000000
NONCE_KEY = bytes(32)


def nonce(counter, issued=NOW):
    body = struct.pack(">BQQ", 1, issued, counter)
    return b64u(body + hmac.new(NONCE_KEY, body, hashlib.sha256).digest()[:16])


class Signer(AcmeClient):
    """AcmeClient's JWS builder without a daemon."""

    def __init__(self, key, kid=None):  # noqa: D401 (no super(): no daemon)
        self.key = key
        self.kid = kid
        self.nonces = []


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def jws_seeds(acct_key):
    n = 100
    for alg in ("ES256", "ES384", "ES512", "RS256", "EdDSA"):
        s = Signer(Key(alg))
        body = s.jws(BASE + "/acme/new-account", {"termsOfServiceAgreed": True}, nonce=nonce(n))
        write("jws", "new-account-" + alg, json.dumps(body))
        n += 1
    s = Signer(acct_key, ACCT)
    write("jws", "kid-new-order", json.dumps(s.jws(BASE + "/acme/new-order", {
        "identifiers": [{"type": "dns", "value": "example.com"}]}, nonce=nonce(n))))
    write("jws", "post-as-get", json.dumps(s.jws(BASE + "/acme/order/x", None, nonce=nonce(n))))
    inner = Signer(Key("ES256")).jws(BASE + "/acme/key-change",
                                     {"account": ACCT, "oldKey": acct_key.jwk()},
                                     use_jwk=True, nonce=False)
    write("jws", "key-change-inner", json.dumps(inner))
    bad = dict(inner, header={"kid": "x"})
    write("jws", "unprotected-header", json.dumps(bad))
    write("jws", "compact", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln")


def json_seeds():
    docs = {
        "new-account": {"termsOfServiceAgreed": True, "contact": ["mailto:a@example.com"]},
        "new-order": {"identifiers": [{"type": "dns", "value": "example.com"},
                                      {"type": "ip", "value": "192.0.2.1"}],
                      "notBefore": "2026-01-01T00:00:00Z", "profile": "default"},
        "revoke": {"certificate": "MIIB", "reason": 4},
        "numbers": {"a": 9223372036854775807, "b": -9223372036854775808, "c": 1.5e300,
                    "d": [0, -0, 1e-5]},
        "unicode": {"s": "caf\u00e9 \ud83d\ude00 \\u0000"},
    }
    for name, doc in docs.items():
        write("json", name, json.dumps(doc))
    write("json", "deep", '{"a":' * 30 + "1" + "}" * 30)
    write("json", "dup", '{"a":1,"a":2}')
    write("json", "escapes", '{"k\\u00e9y":"\\ud83d\\ude00\\n\\t\\"\\/"}')


def b64url_seeds():
    for i, raw in enumerate([b"", b"f", b"fo", b"foo", bytes(range(64)), b"\xff\xfe\xfd"]):
        write("b64url", "s%d" % i, b64u(raw))
    write("b64url", "padded", "Zm8=")
    write("b64url", "std", "a+b/")


def csr_seeds():
    write("csr", "ec-p256", make_csr(["example.com"])[0])
    write("csr", "ec-p384-wild", make_csr(["example.com", "*.example.net"], Key("ES384"),
                                          cn="example.com")[0])
    write("csr", "rsa-ip", make_csr(["example.com", "*.example.net"], Key("RS256"),
                                    ips=["192.0.2.7"])[0])
    write("csr", "ed25519", make_csr(["example.com"], Key("EdDSA"))[0])
    write("csr", "p521-extra", make_csr(["example.com", "other.example"], Key("ES512"))[0])


def ident_seeds():
    write("ident", "simple", "\x00dns example.com\ndns www.Example.COM\nip 192.0.2.1\n")
    write("ident", "wild", "\x01dns *.example.com\ndns a.example.com\nip 2001:db8::1\n")
    write("ident", "idn", "\x00dns xn--bcher-kva.example\ndns ab--cd.example\n")
    write("ident", "bad", "\x01dns -a.example\ndns a..b\ndns 1.2.3.4\nip 01.2.3.4\n"
                          "ip ::ffff:1.2.3.4\nemail x@y\nDNS x.y\n")
    write("ident", "long", "\x00dns " + ".".join(["a" * 63] * 3) + ".com\n")


def config_seeds():
    for name in ("pebble-config.json", "cairn.test.json"):
        path = os.path.join(HERE, "..", "..", "config", name)
        if os.path.exists(path):
            with open(path) as f:
                write("config", name, f.read())
    write("config", "ca", json.dumps({"cairn": {
        "mode": "ca", "stateDir": "/var/lib/cairn", "externalURL": "https://ca.lab",
        "chainLength": 2, "keyAlgorithm": "rsa", "vaWorkers": 4, "vaTimeoutMs": 5000,
        "httpThreads": 2, "limits": {"maxBody": 65536, "connections": 1024, "perIPConnections": 64,
                                     "idleTimeout": 30, "bodyTimeout": 30}}}))
    write("config", "pebble-all", json.dumps({"pebble": {
        "listenAddress": "0.0.0.0:14000", "managementListenAddress": "0.0.0.0:15000",
        "certificate": "c.pem", "privateKey": "k.pem", "httpPort": 5002, "tlsPort": 5001,
        "ocspResponderURL": "", "externalAccountBindingRequired": False,
        "retryAfter": {"authz": 3, "order": 5}, "certificateValidityPeriod": 3600,
        "keyAlgorithm": "ecdsa"}}))


def router_seeds(acct_key):
    s = Signer(acct_key, ACCT)
    n = 1
    cases = [
        ("/acme/new-order", {"identifiers": [{"type": "dns", "value": "example.com"}]}),
        ("/acme/order/AAAAAAAAAAAAAAAAAAAAAB", None),
        ("/acme/order/AAAAAAAAAAAAAAAAAAAAAB/finalize", {"csr": "MIIB"}),
        ("/acme/authz/AAAAAAAAAAAAAAAAAAAAAC", {"status": "deactivated"}),
        ("/acme/chall/AAAAAAAAAAAAAAAAAAAAAD", {}),
        ("/acme/acct/AAAAAAAAAAAAAAAAAAAAAA", {"contact": ["mailto:a@example.com"]}),
        ("/acme/acct/AAAAAAAAAAAAAAAAAAAAAA/orders", None),
        ("/acme/revoke-cert", {"certificate": "MIIB", "reason": 1}),
        ("/acme/key-change", {"x": 1}),
        ("/directory", None),
        ("/acme/new-nonce", None),
    ]
    for path, payload in cases:
        body = s.jws(BASE + path, payload, nonce=nonce(n))
        write("router", "kid" + path.replace("/", "_"),
              "%s\napplication/jose+json\n%s" % (path, json.dumps(body)))
        n += 1
    new = Signer(Key("ES256"))
    body = new.jws(BASE + "/acme/new-account", {"termsOfServiceAgreed": True}, nonce=nonce(n))
    write("router", "jwk_new-account",
          "/acme/new-account\napplication/jose+json; charset=utf-8\n" + json.dumps(body))
    write("router", "no-ctype", "/acme/new-order\n\n{}")
    write("router", "path-only", "/acme/cert/0123abcd")


def nonce_seeds():
    write("nonce", "valid", b"\x00" + nonce(1).encode())
    write("nonce", "issue-then-junk", b"\x1e" + b"AAAA")
    write("nonce", "sealed", b"\x03" + struct.pack(">BQQ", 1, NOW - 10, 3))
    write("nonce", "sealed-old", b"\x01" + struct.pack(">BQQ", 1, NOW - 400, 2))


def time_seeds():
    for i, t in enumerate(["2026-11-23T19:19:56Z", "2026-11-23T19:19:56.123456789+05:30",
                           "1999-12-31t23:59:60z", "0001-01-01T00:00:00-23:59",
                           "9999-12-31T23:59:59+00:00"]):
        write("time", "t%d" % i, t)


def acct_header(acct_key):
    jwk = canon_json(acct_key.jwk())
    text = ("/* fuzz_acct.h - generated by make_corpus.py: the fuzz account's public key. */\n"
            "#define FUZZ_ACCT_JWK %s\n#define FUZZ_ACCT_THUMBPRINT \"%s\"\n"
            % (json.dumps(jwk), acct_key.thumbprint()))
    with open(os.path.join(HERE, "fuzz_acct.h"), "w") as f:
        f.write(text)


def main():
    shutil.rmtree(os.path.join(HERE, "corpus"), ignore_errors=True)
    acct_key = Key("ES256", private=ec.derive_private_key(0x1234567890ABCDEF, ec.SECP256R1()))
    jws_seeds(acct_key)
    json_seeds()
    b64url_seeds()
    csr_seeds()
    ident_seeds()
    config_seeds()
    router_seeds(acct_key)
    nonce_seeds()
    time_seeds()
    acct_header(acct_key)


if __name__ == "__main__":
    main()
