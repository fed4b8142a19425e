"""Table-driven bad-input cases from PROTOCOL.md §8 and §2 against a real daemon.

Each case builds one (or a few) bad requests and names the answer: HTTP status and problem
type.  Every rejection is also checked for §0: Content-Type application/problem+json, a
`status` member equal to the HTTP status, a fresh Replay-Nonce and Link rel="index".

`pebble` in a case: None (Pebble answers the same), a (status, type) tuple (Pebble's known
different answer, asserted under ACME_SERVER=pebble so the harness stays honest), or a string
(the reason the case is cairn-only and skipped under ACME_SERVER=pebble).

Run: CAIRN_BIN=build/cairn /usr/bin/python3 test/integration/test_badinput.py -v
"""

import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cairnlib as L  # noqa: E402

CASES = []
_COUNTER = [0]


def case(cid, status, ptype, pebble=None, index=True, daemon=None):
    """Register fn(self) -> Response or [Response] as bad-input case cid. daemon "eab": the
    case runs against the daemon that requires external account binding (TestBadInputEab)."""
    def deco(fn):
        CASES.append({"id": cid, "name": fn.__name__, "status": status, "type": ptype,
                      "pebble": pebble, "index": index, "fn": fn, "daemon": daemon})
        return fn
    return deco


def uniq(prefix="bi"):
    _COUNTER[0] += 1
    return "%s%d-%s.example.com" % (prefix, _COUNTER[0], secrets.token_hex(3))


class BadInputBase(L.DaemonTestCase):
    DAEMON_ENV = {"PEBBLE_VA_ALWAYS_VALID": "1"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = L.AcmeClient(cls.daemon)
        cls.a.register(**cls.register_kw(cls.a))
        cls.b = L.AcmeClient(cls.daemon)
        cls.b.register(**cls.register_kw(cls.b))

    @classmethod
    def register_kw(cls, client):
        """Extra new_account() arguments for the fixture accounts."""
        return {}

    # -- fixtures ---------------------------------------------------------------------------
    def fresh(self, alg="ES256"):
        c = L.AcmeClient(self.daemon, alg=alg)
        c.register()
        return c

    def pending_order(self, c=None, names=None):
        c = c or self.a
        return c.order(names or [uniq()])

    def ready_order(self, c=None, names=None):
        c = c or self.a
        url, order = c.order(names or [uniq()])
        c.authorize(order)
        order = c.poll(url, ("ready", "invalid")).json()
        self.assertEqual(order["status"], "ready", order)
        return url, order

    def issued(self, c=None, names=None):
        c = c or self.a
        return c.issue(names or [uniq()])

    def deactivated(self):
        c = self.fresh()
        resp = c.post(c.kid, {"status": "deactivated"})
        self.assertEqual(resp.status, 200, resp)
        return c

    def absent_kid(self, c=None):
        kid = (c or self.a).kid
        return kid.rsplit("/", 1)[0] + "/" + L.b64u(secrets.token_bytes(16))

    def send(self, c, url, jws_obj, **kw):
        return c.raw(url, json.dumps(jws_obj), **kw)

    # -- the §0 checks -----------------------------------------------------------------------
    def check_problem(self, resp, status, ptype, index=True):
        self.assertEqual(resp.status, status, resp)
        self.assertEqual(resp.content_type, L.PROBLEM, resp)
        body = resp.json()
        self.assertEqual(body.get("type"), L.ERR + ptype, resp)
        self.assertEqual(body.get("status"), status, resp)
        self.assertIsInstance(body.get("detail"), str, resp)
        self.assertTrue(resp.nonce, "Replay-Nonce on every error: %r" % resp)
        self.assertTrue(resp.nonce_fresh, "a fresh Replay-Nonce: %r" % resp)
        if index:
            links = resp.links("index")
            self.assertEqual(len(links), 1, "one Link rel=index: %r" % resp.header_all("Link"))
            self.assertIn(links[0], (self.daemon.base + "/dir", self.daemon.base + "/directory"))


def make_test(spec):
    def test(self):
        pebble = spec["pebble"]
        status, ptype = spec["status"], spec["type"]
        if L.PEBBLE and isinstance(pebble, str):
            self.skipTest("cairn-only: " + pebble)
        if L.PEBBLE and isinstance(pebble, tuple):
            status, ptype = pebble
        result = spec["fn"](self)
        for i, resp in enumerate(result if isinstance(result, list) else [result]):
            with self.subTest(request=i):
                # Pebble omits Link rel=index on some errors: a cairn-only check there.
                self.check_problem(resp, status, ptype, spec["index"] and not L.PEBBLE)
    test.__doc__ = "%s: %s -> %d %s" % (spec["id"], spec["name"], spec["status"], spec["type"])
    return test


# =============================================================================================
# §2 JWS framing: J01 J03 J05 J09 J12


@case("J01", 415, "malformed")
def content_type_wrong(self):
    a = self.a
    out = []
    for ctype in (None, "application/json", "text/plain", "application/jose"):
        out.append(self.send(a, a.url("newOrder"),
                             a.jws(a.url("newOrder"), {"identifiers": a.idents([uniq()])}),
                             content_type=ctype))
    fresh = L.AcmeClient(self.daemon)
    out.append(self.send(fresh, fresh.url("newAccount"),
                         fresh.jws(fresh.url("newAccount"), {"termsOfServiceAgreed": True}),
                         content_type="application/json"))
    return out


@case("J01b", 415, "malformed")
def content_type_wrong_revoke(self):
    a = self.a
    return self.send(a, a.url("revokeCert"), a.jws(a.url("revokeCert"), {"certificate": "AA"}),
                     content_type="text/plain")


@case("J03", 400, "malformed")
def body_not_flattened_jws(self):
    a = self.a
    good = a.jws(a.url("newOrder"), {"identifiers": a.idents([uniq()])})
    compact = "%s.%s.%s" % (good["protected"], good["payload"], good["signature"])
    return [a.raw(a.url("newOrder"), body) for body in (b"", b"hi", compact.encode(), b"[]",
                                                        b"{}", b"null")]


@case("J03b", 400, "malformed", pebble="Pebble accepts a JWS with a `signatures` array")
def body_general_serialization(self):
    a = self.a
    good = a.jws(a.url("newOrder"), {"identifiers": a.idents([uniq()])})
    general = {"payload": good["payload"],
               "signatures": [{"protected": good["protected"], "signature": good["signature"]}]}
    return a.raw(a.url("newOrder"), general)


@case("J04", 400, "malformed", pebble="Pebble's base64url decoding is lenient")
def base64_padding(self):
    a = self.a
    good = a.jws(a.url("newOrder"), {"identifiers": a.idents([uniq()])})
    out = []
    for member in ("protected", "payload", "signature"):
        bad = dict(good)
        bad[member] = bad[member] + "=" * (-len(bad[member]) % 4 or 4)
        out.append(a.raw(a.url("newOrder"), bad))
    return out


@case("J05", 400, "malformed", pebble="Pebble ignores unprotected headers")
def unprotected_header(self):
    a = self.a
    out = []
    for header in ({}, {"kid": a.kid}, {"nonce": a.nonce()}, {"alg": "ES256"}):
        body = a.jws(a.url("newOrder"), {"identifiers": a.idents([uniq()])})
        body["header"] = header
        out.append(a.raw(a.url("newOrder"), body))
    # jwk only in the unprotected header of a newAccount: its content must not be used.
    fresh = L.AcmeClient(self.daemon)
    body = fresh.jws(fresh.url("newAccount"), {"termsOfServiceAgreed": True}, drop=("jwk",))
    body["header"] = {"jwk": fresh.key.jwk()}
    out.append(fresh.raw(fresh.url("newAccount"), body))
    return out


@case("J09", 400, "badSignatureAlgorithm", pebble=(400, "malformed"))
def alg_none_and_hs256(self):
    a = self.a
    out = []
    body = a.jws(a.url("newOrder"), {"identifiers": a.idents([uniq()])}, alg="none")
    out.append(a.raw(a.url("newOrder"), body))
    # HS256 keyed with the account's public key bytes (the classic key-confusion attack).
    fresh = L.AcmeClient(self.daemon)
    prot = L.b64u(json.dumps({"alg": "HS256", "jwk": fresh.key.jwk(), "nonce": fresh.nonce(),
                              "url": fresh.url("newAccount")}))
    pay = L.b64u(json.dumps({"termsOfServiceAgreed": True}))
    mac = hmac.new(fresh.key.spki_der(), (prot + "." + pay).encode(), hashlib.sha256).digest()
    out.append(fresh.raw(fresh.url("newAccount"),
                         {"protected": prot, "payload": pay, "signature": L.b64u(mac)}))
    if not L.PEBBLE:
        for resp in out:
            algs = resp.json().get("algorithms")
            self.assertIsInstance(algs, list, resp)
            self.assertTrue({"ES256", "RS256"} <= set(algs), resp)
            self.assertNotIn("none", algs)
    return out


@case("J09b", 400, "badSignatureAlgorithm", pebble="Pebble treats alg case loosely")
def alg_wrong_case(self):
    a = self.a
    return a.raw(a.url("newOrder"), a.jws(a.url("newOrder"), {"identifiers": a.idents([uniq()])},
                                          alg="es256"))


def _raw_protected(c, url, text, payload):
    prot = L.b64u(text)
    pay = L.b64u(json.dumps(payload)) if payload is not None else ""
    sig = c.key.sign((prot + "." + pay).encode())
    return c.raw(url, {"protected": prot, "payload": pay, "signature": L.b64u(sig)})


@case("J12", 400, "malformed", pebble="Pebble's JSON decoding accepts duplicates and case variants")
def duplicate_and_case_variant_members(self):
    a = self.a
    url = a.url("newOrder")
    payload = {"identifiers": a.idents([uniq()])}
    kid = json.dumps(a.kid)
    out = []
    for text in ('{"alg":"ES256","kid":%s,"nonce":"%s","url":"%s","url":"%s"}'
                 % (kid, a.nonce(), url, url),
                 '{"alg":"ES256","alg":"ES256","kid":%s,"nonce":"%s","url":"%s"}'
                 % (kid, a.nonce(), url),
                 '{"alg":"ES256","kid":%s,"nonce":"%s","URL":"%s"}' % (kid, a.nonce(), url),
                 '{"alg":"ES256","Kid":%s,"nonce":"%s","url":"%s"}' % (kid, a.nonce(), url),
                 '{"alg":"ES256","kid":%s,"Nonce":"%s","url":"%s"}' % (kid, a.nonce(), url)):
        out.append(_raw_protected(a, url, text, payload))
    # Duplicate "identifiers" in the payload.
    ids = json.dumps(a.idents([uniq()]))
    body = a.jws(url, ('{"identifiers":%s,"identifiers":%s}' % (ids, ids)).encode())
    out.append(a.raw(url, body))
    return out


# =============================================================================================
# nonces: N01 N02 N03 N06 N07


@case("N01", 400, "badNonce")
def nonce_missing(self):
    a = self.a
    fresh = L.AcmeClient(self.daemon)
    return [a.post(a.url("newOrder"), {"identifiers": a.idents([uniq()])}, nonce=False),
            fresh.new_account(nonce=False)]


@case("N02", 400, "malformed", pebble=(400, "badNonce"))
def nonce_not_base64url(self):  # D3
    a = self.a
    return [a.post(a.url("newOrder"), {"identifiers": a.idents([uniq()])}, nonce=n)
            for n in ("not a nonce!", "a" * 129)]


@case("N03", 400, "badNonce")
def nonce_replayed(self):
    c = self.fresh()
    url = c.url("newOrder")
    body = json.dumps(c.jws(url, {"identifiers": c.idents([uniq()])}))
    first = c.raw(url, body)
    self.assertEqual(first.status, 201, first)
    second = c.raw(url, body)
    orders = c.post_as_get(c.post_as_get(c.kid).json()["orders"]).json()["orders"]
    self.assertEqual(orders, [first.location], "the action was done once")
    return second


@case("N06", 400, "malformed")
def nonce_with_broken_signature(self):
    c = self.fresh()
    url = c.url("newOrder")
    nonce = c.nonce()
    body = c.jws(url, {"identifiers": c.idents([uniq()])}, nonce=nonce)
    sig = bytearray(L.b64u_decode(body["signature"]))
    sig[5] ^= 0x55
    body["signature"] = L.b64u(bytes(sig))
    bad = c.raw(url, body)
    if not L.PEBBLE:  # 13 precedes 15: the forged request did not spend the nonce.
        good = c.post(url, {"identifiers": c.idents([uniq()])}, nonce=nonce)
        self.assertEqual(good.status, 201, good)
    return bad


@case("N07", 400, "badNonce")
def nonce_unknown(self):
    a = self.a
    return a.post(a.url("newOrder"), {"identifiers": a.idents([uniq()])},
                  nonce=L.b64u(secrets.token_bytes(16)))


# =============================================================================================
# url: U01 U02


@case("U01", 403, "unauthorized", pebble=(400, "malformed"))
def url_mismatch(self):  # D2
    a = self.a
    return a.raw(a.url("newOrder"), a.jws(a.url("newOrder") + "/x",
                                          {"identifiers": a.idents([uniq()])}))


@case("U02", 403, "unauthorized", pebble=(400, "malformed"))
def url_of_another_route(self):
    a = self.a
    url, order = self.ready_order()
    body = a.jws(a.url("newOrder"), {"csr": L.b64u(L.make_csr([order["identifiers"][0]["value"]])[0])})
    out = [a.raw(order["finalize"], body)]
    out.append(a.raw(a.url("keyChange"), a.jws(a.url("newOrder"), {"identifiers": a.idents([uniq()])})))
    self.assertEqual(a.post_as_get(url).json()["status"], "ready", "no change")
    return out


# =============================================================================================
# keys: K01 K04 K05 K08


@case("K01", 400, "malformed")
def jwk_and_kid(self):
    a = self.a
    url = a.url("newOrder")
    payload = {"identifiers": a.idents([uniq()])}
    return [a.post(url, payload, protected_extra={"jwk": a.key.jwk()}),      # both
            a.post(url, payload, drop=("kid",)),                              # neither
            a.post(url, payload, use_jwk=True)]                               # jwk, wants kid


@case("K01b", 400, "malformed")
def kid_on_new_account(self):
    fresh = L.AcmeClient(self.daemon)
    return fresh.new_account(use_jwk=False, kid=self.a.kid)


@case("K04", 400, "accountDoesNotExist")
def kid_of_absent_account(self):
    a = self.a
    return a.post(a.url("newOrder"), {"identifiers": a.idents([uniq()])}, kid=self.absent_kid())


@case("K05", 401, "unauthorized", pebble=(403, "unauthorized"))
def deactivated_kid(self):  # D4
    c = self.deactivated()
    cert = self.issued()
    new_key = L.Key()
    url, inner = c.key_change_body(new_key)
    return [c.new_order([uniq()]), c.revoke(cert["pem"]), c.post(url, inner),
            c.post_as_get(c.kid)]


@case("K08", 400, "badPublicKey", pebble="Pebble answers alg/key mismatches with malformed")
def alg_key_mismatch(self):  # D5
    out = []
    for key_alg, hdr_alg in (("ES384", "ES256"), ("RS256", "ES256"), ("ES256", "RS256"),
                             ("ES256", "ES384")):
        fresh = L.AcmeClient(self.daemon, alg=key_alg)
        out.append(fresh.new_account(alg=hdr_alg))
    # JWK "alg" member disagreeing with the header alg.
    fresh = L.AcmeClient(self.daemon)
    jwk = dict(fresh.key.jwk(), alg="ES384")
    out.append(fresh.new_account(protected_extra={"jwk": jwk}))
    return out


@case("K10", 400, "malformed", pebble="Pebble does not look for private JWK members")
def jwk_with_private_member(self):
    fresh = L.AcmeClient(self.daemon)
    d = fresh.key.private.private_numbers().private_value
    jwk = dict(fresh.key.jwk(), d=L.b64u(d.to_bytes(32, "big")))
    return fresh.new_account(protected_extra={"jwk": jwk})


@case("K11", 400, "badPublicKey", pebble="Pebble 2.4 accepts RSA-1024 account keys")
def weak_rsa_key(self):
    fresh = L.AcmeClient(self.daemon, key=L.Key("RS256", bits=1024))
    return fresh.new_account()


# =============================================================================================
# accounts: A01 A04 A06 A07 A12


@case("A01", 400, "accountDoesNotExist")
def only_return_existing_unknown(self):
    fresh = L.AcmeClient(self.daemon)
    first = fresh.new_account(only_existing=True)
    second = fresh.new_account(only_existing=True)  # still none: the first created nothing
    return [first, second]


@case("A04", 400, "malformed", pebble=(403, "agreementRequired"))  # D8
def terms_not_agreed(self):
    fresh = L.AcmeClient(self.daemon)
    out = [fresh.new_account(tos=None), fresh.new_account(tos=False)]
    check = fresh.new_account(only_existing=True)
    self.assertEqual(check.problem_type, L.ERR + "accountDoesNotExist", "no account made")
    return out


@case("A06", 400, "unsupportedContact", pebble="Pebble 2.4 answers some contacts with malformed")
def unsupported_contact(self):
    return [L.AcmeClient(self.daemon).new_account(contact=[c])
            for c in ("tel:+15551234", "https://example.com/me", " ")]


@case("A07", 400, "invalidContact", pebble="Pebble 2.4 does not parse mailto addresses")
def invalid_contact(self):
    return [L.AcmeClient(self.daemon).new_account(contact=[c])
            for c in ("", "mailto:", "mailto:a@b@c.example.com", "mailto:x@example.com?subject=1")]


@case("A08", 400, "malformed", pebble="Pebble has no contact count limit")
def too_many_contacts(self):
    contacts = ["mailto:c%d@test1.example.com" % i for i in range(11)]
    return L.AcmeClient(self.daemon).new_account(contact=contacts)


@case("A12", 401, "unauthorized", pebble=(403, "unauthorized"))
def after_deactivation(self):
    c = self.fresh()
    order_url, _ = c.order([uniq()])
    resp = c.post(c.kid, {"status": "deactivated"})
    self.assertEqual(resp.status, 200, resp)
    self.assertEqual(resp.json()["status"], "deactivated")
    url, inner = c.key_change_body(L.Key())
    return [c.new_order([uniq()]), c.post_as_get(order_url), c.post(url, inner),
            c.post(c.kid, {"status": "deactivated"})]


@case("A13", 400, "malformed", pebble="Pebble ignores other status values")
def account_bad_status(self):
    c = self.fresh()
    return [c.post(c.kid, {"status": s}) for s in ("revoked", "valid-ish", "")]


# =============================================================================================
# key change: R03 R05 R06


@case("R03", 400, "malformed", pebble="Pebble ignores a nonce in the inner JWS")
def key_change_inner_nonce(self):  # D13
    c = self.fresh()
    url, inner = c.key_change_body(L.Key(), inner_extra={"nonce": c.nonce()})
    return c.post(url, inner)


@case("R04", 400, "malformed")
def key_change_inner_wrong_url_or_account(self):
    c = self.fresh()
    url, inner1 = c.key_change_body(L.Key(), inner_extra={"url": c.url("newOrder")})
    _, inner2 = c.key_change_body(L.Key(), account=self.a.kid)
    return [c.post(url, inner1), c.post(url, inner2)]


@case("R05", 400, "malformed", pebble=(400, "malformed"))
def key_change_same_key(self):
    c = self.fresh()
    url, inner = c.key_change_body(c.key)
    return c.post(url, inner)


@case("R06", 409, "malformed", pebble="Pebble 2.4 answers 500 serverInternal")
def key_change_to_taken_key(self):
    c = self.fresh()
    other = self.fresh()
    url, inner = c.key_change_body(other.key)
    resp = c.post(url, inner)
    if not L.PEBBLE:  # Pebble 2.4 sends no Location with the 409
        self.assertEqual(resp.location, other.kid, "409 names the account holding the key")
    self.assertEqual(c.post_as_get(c.kid).status, 200, "old key unchanged")
    return resp


# =============================================================================================
# orders: O02 O06 O14 (O04 O10 O16 are positive cases below)


@case("O02", 400, "unsupportedIdentifier", pebble="Pebble answers some types with malformed")
def identifier_type(self):
    a = self.a
    return [a.new_order([{"type": t, "value": v}])
            for t, v in (("email", "a@example.com"), ("uri", "https://example.com/"),
                         ("DNS", "example.com"), ("foo", "example.com"))]


BAD_NAMES = ["a" * 64 + ".example.com",
             ".".join(["a" * 50] * 5) + ".example.com",  # 267 octets
             ".".join("abcdefghijk") + ".com",          # 12 labels
             "trailing.example.com.",
             "a..com",
             "-lead.example.com",
             "trail-.example.com",
             "under_score.example.com",
             "ab--cd.example.com"]                     # "--" at 3-4 without xn--


@case("O06", 400, "rejectedIdentifier", pebble="Pebble checks fewer DNS rules")
def identifier_rejected(self):
    return [self.a.new_order([n]) for n in BAD_NAMES]


@case("O14", 400, "rejectedIdentifier", pebble="Pebble sends no subproblems")
def identifiers_several_bad(self):
    bad = ["-one.example.com", "two..example.com", "x" * 64 + ".example.com"]
    resp = self.a.new_order(bad + [uniq()])
    subs = resp.json().get("subproblems", [])
    self.assertEqual(sorted(s["identifier"]["value"] for s in subs), sorted(bad), resp)
    for s in subs:
        self.assertEqual(s["type"], L.ERR + "rejectedIdentifier")
        self.assertEqual(s["identifier"]["type"], "dns")
    return resp


@case("O20", 400, "malformed")
def identifiers_empty(self):
    a = self.a
    return [a.post(a.url("newOrder"), {"identifiers": []}),
            a.post(a.url("newOrder"), {}),
            a.post(a.url("newOrder"), {"identifiers": "example.com"})]


@case("O21", 400, "malformed", pebble="Pebble 2.4 does not check order dates")
def order_bad_dates(self):
    now = L.utcnow()
    day = L.datetime.timedelta(days=1)
    return [self.a.new_order([uniq()], notBefore="yesterday"),
            self.a.new_order([uniq()], notBefore=L.rfc3339(now + day),
                             notAfter=L.rfc3339(now)),
            self.a.new_order([uniq()], notAfter=L.rfc3339(now - day)),
            self.a.new_order([uniq()], notAfter=L.rfc3339(now + 1000 * day))]


@case("O22", 400, "invalidProfile", pebble="Pebble 2.4 has no profiles")
def order_unknown_profile(self):
    return self.a.new_order([uniq()], profile="no-such-profile")


# =============================================================================================
# authz: Z01 Z03


@case("Z01", 404, "malformed", pebble=(403, "unauthorized"))  # D14
def foreign_authz(self):
    _url, order = self.pending_order(self.b)
    az_url = order["authorizations"][0]
    out = [self.a.post_as_get(az_url), self.a.post(az_url, {"status": "deactivated"})]
    self.assertEqual(self.b.post_as_get(az_url).json()["status"], "pending", "unchanged")
    return out


@case("Z03", 403, "orderNotReady")
def finalize_after_authz_deactivated(self):
    a = self.a
    url, order = self.ready_order()
    resp = a.post(order["authorizations"][0], {"status": "deactivated"})
    self.assertEqual(resp.status, 200, resp)
    self.assertEqual(resp.json()["status"], "deactivated")
    bad = a.finalize(order, L.make_csr([order["identifiers"][0]["value"]])[0])
    after = a.post_as_get(url).json()
    if not L.PEBBLE:  # Pebble 2.4 leaves the order's status alone
        self.assertEqual(after["status"], "invalid", after)
    self.assertNotIn("certificate", after)
    return bad


@case("Z04", 400, "malformed", pebble="Pebble 2.4 allows deactivating a deactivated authz")
def authz_deactivate_twice(self):
    a = self.a
    _url, order = self.pending_order()
    az = order["authorizations"][0]
    self.assertEqual(a.post(az, {"status": "deactivated"}).status, 200)
    return [a.post(az, {"status": "deactivated"}), a.post(az, {"status": "valid"})]


# =============================================================================================
# finalize: F01 F02 F06 F07


@case("F01", 403, "orderNotReady")
def finalize_not_ready(self):
    a = self.a
    _url, pending = self.pending_order()
    name = pending["identifiers"][0]["value"]
    out = [a.finalize(pending, L.make_csr([name])[0])]
    issued = self.issued()
    out.append(a.finalize(issued["order"], L.make_csr([issued["order"]["identifiers"][0]["value"]])[0]))
    return out


@case("F02", 400, "malformed", pebble="Pebble answers a missing CSR with badCSR")
def finalize_csr_not_base64url(self):
    a = self.a
    url, order = self.ready_order()
    der = L.make_csr([order["identifiers"][0]["value"]])[0]
    out = [a.post(order["finalize"], {}),
           a.post(order["finalize"], {"csr": L.b64u(der) + "="}),
           a.post(order["finalize"], {"csr": "+" + L.b64u(der)[1:]}),
           a.post(order["finalize"], {"csr": 42})]
    self.assertEqual(a.post_as_get(url).json()["status"], "ready")
    return out


@case("F06", 400, "badCSR", pebble="Pebble 2.4: 403 unauthorized for name mismatches, accepts a foreign CN")
def finalize_csr_names(self):
    a = self.a
    n1, n2 = uniq(), uniq()
    url, order = self.ready_order(names=[n1, n2])
    out = [a.finalize(order, L.make_csr([n1])[0]),                   # missing a name
           a.finalize(order, L.make_csr([n1, n2, uniq()])[0]),        # extra name
           a.finalize(order, L.make_csr([n1, n2], cn=uniq())[0])]     # CN outside the order
    self.assertEqual(a.post_as_get(url).json()["status"], "ready", "stays ready")
    # F12: the correct CSR after rejected ones still succeeds (case/duplicates accepted).
    good = a.finalize(order, L.make_csr([n1.upper(), n2, n2])[0])
    self.assertEqual(good.status, 200, good)
    self.assertIn(a.poll(url).json()["status"], ("valid",))
    return out


@case("F07", 400, "badCSR", pebble="Pebble 2.4 does not compare CSR keys with account keys")
def finalize_csr_account_key(self):
    a = self.a
    url, order = self.ready_order()
    name = order["identifiers"][0]["value"]
    out = [a.finalize(order, L.make_csr([name], a.key)[0]),
           a.finalize(order, L.make_csr([name], self.b.key)[0])]
    self.assertEqual(a.post_as_get(url).json()["status"], "ready")
    return out


@case("F08", 400, "badCSR", pebble="Pebble 2.4 does not verify CSR signatures")
def finalize_csr_bad_signature(self):
    a = self.a
    _url, order = self.ready_order()
    der = bytearray(L.make_csr([order["identifiers"][0]["value"]])[0])
    der[-3] ^= 0x01  # inside the signature BIT STRING
    return a.finalize(order, bytes(der))


# =============================================================================================
# revocation: X01 X07 X09


@case("X01", 403, "unauthorized")
def revoke_without_right(self):
    cert = self.issued()
    out = [self.b.revoke(cert["pem"])]
    # D15: authorization first, even for an already revoked certificate (Pebble: the reverse).
    if not L.PEBBLE:
        self.assertEqual(self.a.revoke(cert["pem"]).status, 200)
        out.append(self.b.revoke(cert["pem"]))
    return out


@case("X02", 404, "malformed", pebble="Pebble answers an unknown certificate differently")
def revoke_unknown_certificate(self):
    # Self-issued certificate that the CA never signed.
    key = L.Key()
    name = L.x509.Name([L.x509.NameAttribute(L.NameOID.COMMON_NAME, "stranger")])
    now = L.utcnow()
    cert = (L.x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public).serial_number(L.x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + L.datetime.timedelta(days=1))
            .sign(key.private, L.hashes.SHA256()))
    pem = cert.public_bytes(L.serialization.Encoding.PEM).decode()
    return self.a.revoke(pem)


@case("X07", 400, "alreadyRevoked")
def revoke_twice(self):
    cert = self.issued()
    self.assertEqual(self.a.revoke(cert["pem"]).status, 200)
    return self.a.revoke(cert["pem"], reason=4)


@case("X09", 400, "badRevocationReason", pebble="Pebble accepts reasons 0-10 except 7")
def revoke_bad_reason(self):
    cert = self.issued()
    out = [self.a.revoke(cert["pem"], reason=r) for r in (7, 2, 6, 8, 10, 100, -1)]
    return out


@case("X10", 400, "malformed", pebble="Pebble answers non-integer reasons differently")
def revoke_reason_not_int(self):
    cert = self.issued()
    der = L.b64u(L.leaf_der(cert["pem"]))
    return [self.a.revoke(cert["pem"], reason=r) for r in ("1", 1.5)] + \
        [self.a.post(self.a.url("revokeCert"), {"certificate": der, "reason": None})] + \
        [self.a.post(self.a.url("revokeCert"),
                     ('{"certificate":"%s","reason":9223372036854775808}'
                      % L.b64u(L.leaf_der(cert["pem"]))).encode())]


@case("X11", 400, "malformed", pebble="Pebble answers a bad certificate field differently")
def revoke_certificate_field(self):
    a = self.a
    cert = self.issued()
    der = L.leaf_der(cert["pem"])
    url = a.url("revokeCert")
    return [a.post(url, {}), a.post(url, {"certificate": L.b64u(der) + "="}),
            a.post(url, {"certificate": "/" + L.b64u(der)[1:]}),
            a.post(url, {"certificate": L.b64u(cert["pem"])}),
            a.post(url, {"certificate": "AAAA"})]


# =============================================================================================
# methods and ownership: P01 P05


@case("P01", 405, "malformed", pebble="Pebble allows GET of orders/authz/challenges/certs")
def plain_get(self):  # D9
    a = self.a
    issued = self.issued()
    order = issued["order"]
    az_url = order["authorizations"][0]
    chall = a.post_as_get(az_url).json()["challenges"][0]["url"]
    urls = [a.url("newAccount"), a.url("newOrder"), a.url("revokeCert"), a.url("keyChange"),
            order["finalize"], issued["order_url"], a.kid, az_url, chall, issued["cert_url"]]
    out = []
    for u in urls:
        resp = a.request(u, "GET")
        self.assertTrue(resp.header("Allow"), "405 names the allowed methods: %s" % u)
        self.assertIn("POST", resp.header("Allow"))
        out.append(resp)
    return out


@case("P02", 405, "malformed", pebble="Pebble answers other methods with its own status")
def other_methods(self):
    a = self.a
    out = [a.request(a.url("newOrder"), "PUT", b"{}", {"Content-Type": L.JOSE}),
           a.request(a.url("newAccount"), "DELETE")]
    for resp in out:
        self.assertTrue(resp.header("Allow"), resp)
    return out


def _foreign_and_absent(self, url_of):
    """B's object read by A, and an absent one of the same kind: both 404, same body."""
    foreign = url_of(self.b)
    absent = foreign.rsplit("/", 1)[0] + "/" + L.b64u(secrets.token_bytes(16))
    r1, r2 = self.a.post_as_get(foreign), self.a.post_as_get(absent)
    if not L.PEBBLE:
        self.assertEqual((r1.status, r1.problem_type), (r2.status, r2.problem_type),
                         "foreign and absent objects answer alike (D14): %r %r" % (r1, r2))
    return [r1, r2]


@case("P05", 404, "malformed", pebble="Pebble answers 403 for foreign, bodiless 404 for absent")
def foreign_objects(self):  # D14
    issued_b = self.issued(self.b)
    out = []
    out += _foreign_and_absent(self, lambda c: issued_b["order_url"])
    out += _foreign_and_absent(self, lambda c: issued_b["order"]["authorizations"][0])
    out += _foreign_and_absent(self, lambda c: issued_b["cert_url"])
    return out


@case("P05b", 404, "malformed", pebble="Pebble lets accounts read other accounts' objects")
def foreign_challenge_and_account(self):
    _u, order = self.pending_order(self.b)
    chall = self.b.post_as_get(order["authorizations"][0]).json()["challenges"][0]["url"]
    return [self.a.post_as_get(chall), self.a.post(chall, {}), self.a.post_as_get(self.b.kid)]


@case("P06", 404, "malformed", pebble="Pebble's unknown paths are plain 404s")
def unknown_path(self):
    a = self.a
    return [a.post(self.daemon.base + "/acme/nope", None),
            a.request(self.daemon.base + "/acme/%6eew-order", "GET"),
            a.post(a.url("newOrder") + "/../new-order", {"identifiers": a.idents([uniq()])})]


@case("Q01", 400, "malformed", pebble="Pebble accepts payloads with extra trailing data")
def payload_not_json_object(self):
    a = self.a
    url = a.url("newOrder")
    return [a.post(url, b"[]"), a.post(url, b"42"), a.post(url, b'{"identifiers":[]} x'),
            a.post(url, b"\xef\xbb\xbf{}"), a.post(url, None)]


@case("Q02", 400, "malformed", pebble="Pebble has no JSON depth limit")
def payload_too_deep(self):
    deep = "[" * 40 + "]" * 40
    return self.a.post(self.a.url("newOrder"), ('{"identifiers":%s}' % deep).encode())


# =============================================================================================
# Hardening cases (issue 6): more of every kind, beyond PROTOCOL.md §8's examples. IDs start
# with Y; the second letter names the group: F framing, B base64url, H JWS header, K
# algorithms and keys, N nonces, U URLs, A accounts, I identifiers, O orders, C challenges
# and authorizations, S CSRs, R revocation, Z sizes, P HTTP layer.


def _order_body(c, url=None):
    url = url or c.url("newOrder")
    return url, c.jws(url, {"identifiers": c.idents([uniq()])})


def _flip_b64(text):
    """The same base64url text with non-zero unused trailing bits (same bytes, new spelling)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    rem = len(text) % 4
    if rem == 0:
        return None
    last = alphabet.index(text[-1])
    return text[:-1] + alphabet[last | (1 if rem == 3 else 3)]


def _signed(c, url, prot_text, payload_bytes=b"", key=None):
    key = key or c.key
    prot = L.b64u(prot_text)
    pay = L.b64u(payload_bytes) if payload_bytes else ""
    return {"protected": prot, "payload": pay,
            "signature": L.b64u(key.sign((prot + "." + pay).encode()))}


@case("YF01", 400, "malformed", pebble="Pebble ignores unknown JWS members")
def jws_extra_member(self):
    url, body = _order_body(self.a)
    body["extra"] = 1
    return self.a.raw(url, body)


@case("YF02", 400, "malformed")
def jws_members_wrong_type(self):
    a = self.a
    out = []
    for member, value in (("protected", 42), ("protected", {}), ("payload", []),
                          ("signature", None), ("signature", 7)):
        url, body = _order_body(a)
        body[member] = value
        out.append(a.raw(url, body))
    return out


@case("YF03", 400, "malformed")
def jws_members_missing_or_empty(self):
    a = self.a
    out = []
    for member in ("protected", "payload", "signature"):
        url, body = _order_body(a)
        del body[member]
        out.append(a.raw(url, body))
    url, body = _order_body(a)
    body["signature"] = ""
    out.append(a.raw(url, body))
    return out


@case("YF04", 400, "malformed", pebble="Pebble's JSON decoder accepts trailing data")
def jws_body_trailing_data(self):
    url, body = _order_body(self.a)
    return [self.a.raw(url, json.dumps(body) + " x"), self.a.raw(url, json.dumps(body) + "{}")]


@case("YF05", 400, "malformed", pebble="Pebble's JSON decoder keeps the last duplicate")
def jws_body_duplicate_member(self):
    url, body = _order_body(self.a)
    text = json.dumps(body)
    return self.a.raw(url, text[:-1] + ', "protected": %s}' % json.dumps(body["protected"]))


@case("YF06", 400, "malformed")
def jws_body_scalars(self):
    url = self.a.url("newOrder")
    return [self.a.raw(url, b) for b in (b'"jws"', b"42", b"true", b"{", b"\x00")]


@case("YF07", 400, "malformed", pebble="Pebble accepts a BOM and invalid UTF-8 in the body")
def jws_body_bom_nul_utf8(self):
    url, body = _order_body(self.a)
    text = json.dumps(body).encode()
    return [self.a.raw(url, b"\xef\xbb\xbf" + text),
            self.a.raw(url, text[:-1] + b', "x": "\xff\xfe"}'),
            self.a.raw(url, text[:-1] + b', "x": "a\\u0000b"}')]


@case("YB01", 400, "malformed", pebble="Pebble's base64url decoding is lenient")
def b64_whitespace_and_std_alphabet(self):
    a = self.a
    out = []
    for member in ("protected", "payload", "signature"):
        url, body = _order_body(a)
        body[member] = body[member][:8] + "\n" + body[member][8:]
        out.append(a.raw(url, body))
    url, body = _order_body(a)
    body["signature"] = body["signature"].replace("-", "+").replace("_", "/")
    if body["signature"] == a.jws(url, None)["signature"]:
        body["signature"] = "+" + body["signature"][1:]
    body["signature"] = "+/" + body["signature"][2:]
    out.append(a.raw(url, body))
    return out


@case("YB02", 400, "malformed", pebble="Pebble's base64url decoding is lenient")
def b64_length_one_mod_four(self):
    a = self.a
    out = []
    for member in ("protected", "payload", "signature"):
        url, body = _order_body(a)
        v = body[member]
        body[member] = v + "A" if len(v) % 4 == 0 else v + "A" * ((1 - len(v)) % 4)
        out.append(a.raw(url, body))
    return out


@case("YB03", 400, "malformed", pebble="Pebble ignores non-zero unused bits")
def b64_unused_bits(self):
    a = self.a
    out = []
    for _ in range(12):
        url, body = _order_body(a)
        for member in ("protected", "payload"):
            flipped = _flip_b64(body[member])
            if flipped:
                bad = dict(body)
                bad[member] = flipped
                out.append(a.raw(url, bad))
        if len(out) >= 2:
            break
    self.assertTrue(out, "no member with unused bits in 12 tries")
    return out


@case("YB04", 400, "malformed")
def protected_not_a_json_object(self):
    a = self.a
    url = a.url("newOrder")
    payload = json.dumps({"identifiers": a.idents([uniq()])}).encode()
    return [a.raw(url, _signed(a, url, text, payload))
            for text in ('["ES256"]', '"ES256"', "\xff\xfe", '{"alg":"ES256"', "")]


@case("YB05", 400, "malformed", pebble="Pebble accepts invalid UTF-8 payloads")
def payload_not_utf8(self):
    a = self.a
    url = a.url("newOrder")
    return a.post(url, b'{"identifiers":[{"type":"dns","value":"\xff.example.com"}]}')


@case("YH01", 400, "malformed")
def header_alg_missing(self):
    a = self.a
    return a.post(a.url("newOrder"), {"identifiers": a.idents([uniq()])}, drop=("alg",))


@case("YH02", 400, "malformed", pebble="Pebble answers a non-string alg differently")
def header_alg_not_a_string(self):
    a = self.a
    out = []
    for alg in (256, None, ["ES256"]):
        url = a.url("newOrder")
        text = json.dumps({"alg": alg, "kid": a.kid, "nonce": a.nonce(), "url": url})
        out.append(a.raw(url, _signed(a, url, text,
                                      json.dumps({"identifiers": a.idents([uniq()])}).encode())))
    return out


@case("YH03", 400, "malformed")
def header_url_bad(self):
    a = self.a
    payload = {"identifiers": a.idents([uniq()])}
    return [a.post(a.url("newOrder"), payload, protected_extra={"url": v})
            for v in ("", 42, None)] + [a.post(a.url("newOrder"), payload, drop=("url",))]


@case("YH04", 400, "malformed", pebble="Pebble ignores crit and b64")
def header_crit_and_b64(self):
    a = self.a
    payload = {"identifiers": a.idents([uniq()])}
    return [a.post(a.url("newOrder"), payload, protected_extra={"crit": ["exp"], "exp": 1}),
            a.post(a.url("newOrder"), payload, protected_extra={"b64": False}),
            a.post(a.url("newOrder"), payload, protected_extra={"b64": True})]


@case("YH05", 400, "malformed")
def header_kid_and_jwk_wrong_types(self):
    a = self.a
    payload = {"identifiers": a.idents([uniq()])}
    fresh = L.AcmeClient(self.daemon)
    return [a.post(a.url("newOrder"), payload, protected_extra={"kid": 12}),
            a.post(a.url("newOrder"), payload, protected_extra={"kid": ""}),
            fresh.new_account(protected_extra={"jwk": "not-an-object"}),
            fresh.new_account(protected_extra={"jwk": [fresh.key.jwk()]})]


@case("YH06", 400, "malformed", pebble="Pebble checks nonce syntax differently")
def header_nonce_wrong_types(self):
    a = self.a
    payload = {"identifiers": a.idents([uniq()])}
    out = [a.post(a.url("newOrder"), payload, nonce=n) for n in ("", 12345, ["x"])]
    url = a.url("newOrder")
    text = json.dumps({"alg": "ES256", "kid": a.kid, "nonce": None, "url": url})
    out.append(a.raw(url, _signed(a, url, text, json.dumps(payload).encode())))
    return out


@case("YH07", 400, "malformed", pebble="Pebble's JSON decoding accepts case variants")
def header_case_variants(self):
    a = self.a
    url = a.url("newOrder")
    payload = json.dumps({"identifiers": a.idents([uniq()])}).encode()
    out = [a.raw(url, _signed(a, url, '{"Alg":"ES256","alg":"ES256","kid":%s,"nonce":"%s",'
                              '"url":"%s"}' % (json.dumps(a.kid), a.nonce(), url), payload))]
    fresh = L.AcmeClient(self.daemon)
    nurl = fresh.url("newAccount")
    out.append(fresh.raw(nurl, _signed(fresh, nurl, json.dumps(
        {"alg": "ES256", "JWK": fresh.key.jwk(), "jwk": fresh.key.jwk(), "nonce": fresh.nonce(),
         "url": nurl}), b'{"termsOfServiceAgreed":true}')))
    return out


@case("YH08", 400, "malformed", pebble="Pebble has no kid/url length limits")
def header_kid_url_too_long(self):
    a = self.a
    payload = {"identifiers": a.idents([uniq()])}
    return [a.post(a.url("newOrder"), payload, kid=a.kid + "x" * 2100),
            a.post(a.url("newOrder"), payload, protected_extra={"url": a.url("newOrder") +
                                                                "/" + "u" * 2100})]


@case("YH09", 400, "malformed", pebble="Pebble answers foreign kids with accountDoesNotExist")
def header_kid_foreign_prefix(self):
    a = self.a
    payload = {"identifiers": a.idents([uniq()])}
    acct_id = a.kid.rsplit("/", 1)[1]
    return [a.post(a.url("newOrder"), payload, kid=k)
            for k in ("https://evil.example/acme/acct/" + acct_id,
                      a.kid.replace("https://", "http://"), acct_id,
                      self.daemon.base + "/acme/order/" + acct_id)]


@case("YH10", 400, "accountDoesNotExist")
def header_kid_bad_id(self):
    a = self.a
    payload = {"identifiers": a.idents([uniq()])}
    prefix = a.kid.rsplit("/", 1)[0] + "/"
    return [a.post(a.url("newOrder"), payload, kid=prefix + i)
            for i in ("x", "A" * 23, "A" * 22, "%2e%2e")]


@case("YK01", 400, "badSignatureAlgorithm", pebble="Pebble answers unknown algs with malformed")
def alg_unsupported(self):
    a = self.a
    payload = {"identifiers": a.idents([uniq()])}
    return [a.post(a.url("newOrder"), payload, protected_extra={"alg": alg})
            for alg in ("RS384", "RS512", "PS256", "ES256K", "HS512", "Ed25519", "ES 256", "")]


@case("YK02", 400, "badPublicKey", pebble="Pebble checks fewer key properties")
def jwk_bad_ec_point(self):
    out = []
    for mutate in ("off_curve", "zero"):
        fresh = L.AcmeClient(self.daemon)
        jwk = fresh.key.jwk()
        if mutate == "off_curve":
            y = bytearray(L.b64u_decode(jwk["y"]))
            y[-1] ^= 1
            jwk["y"] = L.b64u(bytes(y))
        else:
            jwk["x"] = L.b64u(bytes(32))
            jwk["y"] = L.b64u(bytes(32))
        out.append(fresh.new_account(protected_extra={"jwk": jwk}))
    return out


@case("YK03", 400, "badPublicKey", pebble="Pebble accepts short EC coordinates")
def jwk_ec_coordinate_length(self):
    fresh = L.AcmeClient(self.daemon)
    jwk = fresh.key.jwk()
    x = L.b64u_decode(jwk["x"])
    bad = dict(jwk, x=L.b64u(b"\0" + x))  # 33 bytes for P-256
    return fresh.new_account(protected_extra={"jwk": bad})


@case("YK04", 400, "badPublicKey", pebble="Pebble 2.4 accepts any RSA exponent")
def jwk_rsa_bad_exponent_and_size(self):
    out = []
    fresh = L.AcmeClient(self.daemon, key=L.Key("RS256", private=L.rsa.generate_private_key(
        public_exponent=3, key_size=2048)))
    out.append(fresh.new_account())
    fresh = L.AcmeClient(self.daemon, key=L.Key("RS256", bits=2560))
    out.append(fresh.new_account())
    return out


@case("YK05", 400, "malformed", pebble="Pebble answers unknown key types differently")
def jwk_unknown_type_or_missing_member(self):
    out = []
    fresh = L.AcmeClient(self.daemon)
    for jwk in ({"kty": "oct", "k": "AAAA"}, {k: v for k, v in fresh.key.jwk().items() if k != "y"},
                dict(fresh.key.jwk(), x=12), {"kty": "RSA", "n": "AQAB"}, {}):
        out.append(fresh.new_account(protected_extra={"jwk": jwk}))
    return out


@case("YK09", 400, "badPublicKey", pebble="Pebble answers unsupported keys with malformed")
def jwk_unsupported_kind(self):
    fresh = L.AcmeClient(self.daemon)
    return [fresh.new_account(protected_extra={"jwk": jwk}) for jwk in (
        dict(fresh.key.jwk(), kty="ec"), dict(fresh.key.jwk(), crv="P-192"),
        {"kty": "OKP", "crv": "Ed448", "x": L.b64u(bytes(57))})]


@case("YK06", 400, "malformed")
def ecdsa_signature_encoding(self):
    a = self.a
    out = []
    url, body = _order_body(a)
    sig = L.b64u_decode(body["signature"])
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    body["signature"] = L.b64u(encode_dss_signature(r, s))  # DER instead of R||S
    out.append(a.raw(url, body))
    for cut in (sig[:63], sig + b"\0", sig[1:] + b"\0"):
        url, body = _order_body(a)
        body["signature"] = L.b64u(cut)
        out.append(a.raw(url, body))
    return out


@case("YK07", 400, "badPublicKey", pebble="Pebble answers alg/key mismatches with malformed")
def alg_key_mismatch_more(self):
    out = []
    for key_alg, hdr_alg in (("ES256", "EdDSA"), ("EdDSA", "ES256"), ("RS256", "EdDSA"),
                             ("ES512", "ES384")):
        fresh = L.AcmeClient(self.daemon, alg=key_alg)
        out.append(fresh.new_account(alg=hdr_alg))
    return out


@case("YK08", 400, "malformed", pebble="Pebble does not look for private JWK members")
def jwk_private_members(self):
    out = []
    for member in ("p", "q", "dp", "dq", "qi", "oth", "k"):
        fresh = L.AcmeClient(self.daemon, alg="RS256")
        jwk = dict(fresh.key.jwk())
        jwk[member] = "AQAB"
        out.append(fresh.new_account(protected_extra={"jwk": jwk}))
    return out


@case("YN01", 400, "badNonce")
def nonce_forged_right_length(self):
    a = self.a
    payload = {"identifiers": a.idents([uniq()])}
    real = a.fresh_nonce()
    return [a.post(a.url("newOrder"), payload, nonce=L.b64u(secrets.token_bytes(33))),
            a.post(a.url("newOrder"), payload, nonce=real[:-2] + ("AA" if real[-2:] != "AA"
                                                                  else "BA"))]


@case("YN02", 400, "malformed", pebble="Pebble ignores a Replay-Nonce request header")
def nonce_in_request_header(self):
    a = self.a
    return a.post(a.url("newOrder"), {"identifiers": a.idents([uniq()])},
                  headers={"Replay-Nonce": a.fresh_nonce()})


@case("YN03", 400, "badNonce")
def nonce_used_by_another_account(self):
    a, b = self.a, self.b
    nonce = a.fresh_nonce()
    first = a.post(a.url("newOrder"), {"identifiers": a.idents([uniq()])}, nonce=nonce)
    self.assertEqual(first.status, 201, first)
    return b.post(b.url("newOrder"), {"identifiers": b.idents([uniq()])}, nonce=nonce)


@case("YN04", 400, "badNonce", pebble="Pebble does not spend nonces of rejected payloads")
def nonce_spent_by_request_rejected_later(self):
    a = self.a
    nonce = a.fresh_nonce()
    first = a.post(a.url("newOrder"), {"identifiers": "not-a-list"}, nonce=nonce)
    self.assertEqual((first.status, first.problem_type), (400, L.ERR + "malformed"), first)
    return a.post(a.url("newOrder"), {"identifiers": a.idents([uniq()])}, nonce=nonce)


@case("YU01", 403, "unauthorized", pebble=(400, "malformed"))
def url_variants(self):
    a = self.a
    url = a.url("newOrder")
    out = []
    port = self.daemon.port
    for other in (url + "?x=1", url.replace("https://", "http://"),
                  url.replace("127.0.0.1", "localhost"), url + "/",
                  url.replace("new-order", "new%2Dorder"), url.replace(":%d" % port, ""),
                  url.upper().replace("HTTPS://", "https://")):
        out.append(a.raw(url, a.jws(other, {"identifiers": a.idents([uniq()])})))
    return out


@case("YA01", 400, "malformed", pebble="Pebble answers some contact types differently")
def account_contact_wrong_types(self):
    out = []
    for contact in ("mailto:a@example.com", [1], [None], {"mailto": "a@example.com"}):
        out.append(L.AcmeClient(self.daemon).new_account(contact=contact))
    return out


@case("YA02", 400, "malformed", pebble="Pebble ignores the types of these members")
def account_flags_wrong_types(self):
    out = [L.AcmeClient(self.daemon).new_account(tos="true"),
           L.AcmeClient(self.daemon).new_account(tos=1),
           L.AcmeClient(self.daemon).new_account(payload={"termsOfServiceAgreed": True,
                                                          "onlyReturnExisting": "yes"})]
    c = self.fresh()
    out += [c.post(c.kid, {"status": 1}), c.post(c.kid, {"contact": "mailto:a@example.com"})]
    return out


@case("YA03", 400, "invalidContact", pebble="Pebble 2.4 does not parse mailto addresses")
def account_contact_invalid_more(self):
    c = self.fresh()
    long_local = "mailto:" + "a" * 320 + "@example.com"
    return [L.AcmeClient(self.daemon).new_account(contact=[long_local]),
            c.post(c.kid, {"contact": ["mailto:no-at-sign.example.com"]}),
            c.post(c.kid, {"contact": ["mailto:a@exa mple.com"]}),
            c.post(c.kid, {"contact": ["mailto:a@example.com,b@example.com"]})]


@case("YA04", 400, "malformed", pebble="Pebble has no contact count limit")
def account_update_too_many_contacts(self):
    c = self.fresh()
    return c.post(c.kid, {"contact": ["mailto:u%d@example.com" % i for i in range(11)]})


@case("YA05", 404, "malformed", pebble="Pebble lets accounts read other accounts' objects")
def account_other_accounts_url(self):
    a, b = self.a, self.b
    return [a.post(b.kid, {"contact": []}), a.post(b.kid, {"status": "deactivated"}),
            a.post_as_get(b.kid + "/orders")]


@case("YI01", 400, "malformed")
def identifiers_wrong_shapes(self):
    a = self.a
    url = a.url("newOrder")
    return [a.post(url, {"identifiers": p}) for p in (
        {"type": "dns", "value": uniq()}, "example.com", [["dns", uniq()]],
        [{"type": "dns"}], [{"value": uniq()}], [{"type": "dns", "value": 42}],
        [{"type": 1, "value": uniq()}], None)] + [a.post(url, {})]


@case("YI02", 400, "rejectedIdentifier", pebble="Pebble 2.4 has no IP identifiers")
def identifiers_ip_noncanonical(self):
    a = self.a
    return [a.new_order([{"type": "ip", "value": v}]) for v in (
        "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "2001:DB8::1", "2001:db8:0:0:0:0:0:1",
        "fe80::1%eth0", "192.0.2.1/32", "::FFFF:192.0.2.1", " 192.0.2.1", "example.com", "")]


@case("YI03", 400, "rejectedIdentifier", pebble="Pebble checks fewer DNS rules")
def identifiers_dns_bad_more(self):
    a = self.a
    return [a.new_order([{"type": "dns", "value": v}]) for v in (
        "under_score.example.com", "sp ace.example.com", "b\u00fccher.example",
        "*.*.example.com", "a.*.example.com", "*example.com", "192.0.2.1", "xn--zz.example.com",
        "ab--cd.example.com", "com", "", "*.", "xn--a.example.com", "xn--abc-.example.com")]


@case("YI04", 400, "malformed", pebble="Pebble has no identifier count limit")
def identifiers_too_many(self):
    a = self.a
    base = uniq("many")
    return a.new_order(["n%d.%s" % (i, base) for i in range(101)])


@case("YI05", 400, "malformed", pebble="Pebble allows names covered by a wildcard")
def identifiers_covered_by_wildcard(self):
    a = self.a
    base = uniq("cover")
    return [a.new_order(["*." + base, "a." + base]), a.new_order(["a." + base, "*." + base])]


@case("YI06", 400, "unsupportedIdentifier", pebble="Pebble answers some types with malformed")
def identifiers_type_more(self):
    a = self.a
    return [a.new_order([{"type": t, "value": uniq()}]) for t in ("Dns", "IP", "dns ", "")]


@case("YO01", 400, "malformed", pebble="Pebble 2.4 does not check order dates")
def order_field_types(self):
    a = self.a
    url = a.url("newOrder")
    ids = a.idents([uniq()])
    return [a.post(url, {"identifiers": ids, "notBefore": 1700000000}),
            a.post(url, {"identifiers": ids, "notAfter": "tomorrow"}),
            a.post(url, {"identifiers": ids, "notBefore": "2026-13-01T00:00:00Z"}),
            a.post(url, {"identifiers": ids, "profile": 7})]


@case("YO02", 404, "malformed", pebble="Pebble's unknown objects are answered differently")
def order_absent_or_odd_ids(self):
    a = self.a
    base = self.daemon.base
    return [a.post_as_get(base + "/acme/order/" + "A" * 65),
            a.post_as_get(base + "/acme/order/x.y"),
            a.post(base + "/acme/order/" + "A" * 22 + "/finalize", {"csr": "AA"}),
            a.post_as_get(base + "/acme/chall/" + L.b64u(secrets.token_bytes(16))),
            a.post_as_get(base + "/acme/cert/zz")]


@case("YO03", 400, "malformed", pebble="Pebble answers a bad CSR field differently")
def finalize_csr_field_shapes(self):
    a = self.a
    url, order = self.ready_order()
    out = [a.post(order["finalize"], {"csr": ["AA"]}),
           a.post(order["finalize"], {"csr": None}), a.post(order["finalize"], None)]
    self.assertEqual(a.post_as_get(url).json()["status"], "ready")
    return out


@case("YO04", 404, "malformed", pebble="Pebble lets accounts finalize others' orders")
def finalize_foreign_order(self):
    url, order = self.ready_order(self.b)
    name = order["identifiers"][0]["value"]
    resp = self.a.finalize(order, L.make_csr([name])[0])
    self.assertEqual(self.b.post_as_get(url).json()["status"], "ready", "unchanged")
    return resp


@case("YC01", 400, "malformed", pebble="Pebble answers these authz updates differently")
def authz_bad_updates(self):
    a = self.a
    _url, order = self.pending_order()
    az = order["authorizations"][0]
    return [a.post(az, {"status": "valid"}), a.post(az, {"status": 5}),
            a.post(az, {"status": "DEACTIVATED"}), a.post(az, b"[]")]


@case("YC02", 400, "malformed", pebble="Pebble accepts any challenge payload")
def challenge_payload_not_object(self):
    a = self.a
    _url, order = self.pending_order()
    chall = a.post_as_get(order["authorizations"][0]).json()["challenges"][0]["url"]
    return [a.post(chall, b"[]"), a.post(chall, b"1"), a.post(chall, b"{} {}")]


@case("YS01", 400, "badCSR", pebble="Pebble 2.4 checks fewer CSR rules")
def csr_extra_san_kinds(self):
    import ipaddress
    a = self.a
    url, order = self.ready_order()
    name = order["identifiers"][0]["value"]
    key = L.Key()
    out = []
    for extra in ([L.x509.RFC822Name("a@example.com")],
                  [L.x509.UniformResourceIdentifier("https://example.com/")],
                  [L.x509.IPAddress(ipaddress.ip_address("192.0.2.9"))],
                  [L.x509.DNSName("*." + name)]):
        csr = (L.x509.CertificateSigningRequestBuilder().subject_name(L.x509.Name([]))
               .add_extension(L.x509.SubjectAlternativeName([L.x509.DNSName(name)] + extra),
                              critical=False).sign(key.private, L.hashes.SHA256()))
        out.append(a.finalize(order, csr.public_bytes(L.serialization.Encoding.DER)))
    self.assertEqual(a.post_as_get(url).json()["status"], "ready")
    return out


@case("YS02", 400, "badCSR", pebble="Pebble 2.4 checks fewer CSR rules")
def csr_weak_or_odd_keys(self):
    a = self.a
    _url, order = self.ready_order()
    name = order["identifiers"][0]["value"]
    return [a.finalize(order, L.make_csr([name], L.Key("RS256", bits=1024))[0]),
            a.finalize(order, L.make_csr([name], L.Key("RS256", private=L.rsa.generate_private_key(
                public_exponent=3, key_size=2048)))[0])]


@case("YS03", 400, "badCSR", pebble="Pebble 2.4 does not check CSR signature algorithms")
def csr_sha1_signature(self):
    a = self.a
    _url, order = self.ready_order()
    name = order["identifiers"][0]["value"]
    key = L.Key("RS256")
    try:
        csr = (L.x509.CertificateSigningRequestBuilder().subject_name(L.x509.Name([]))
               .add_extension(L.x509.SubjectAlternativeName([L.x509.DNSName(name)]),
                              critical=False).sign(key.private, L.hashes.SHA1()))
    except Exception as e:  # noqa: BLE001
        self.skipTest("this cryptography refuses SHA-1 signing: %s" % e)
    return a.finalize(order, csr.public_bytes(L.serialization.Encoding.DER))


@case("YS04", 400, "badCSR", pebble="Pebble 2.4 accepts trailing data and other DER")
def csr_not_a_csr(self):
    a = self.a
    url, order = self.ready_order()
    name = order["identifiers"][0]["value"]
    der = L.make_csr([name])[0]
    issued = self.issued()
    out = [a.finalize(order, der + b"\0"), a.finalize(order, der[:-10]),
           a.finalize(order, L.leaf_der(issued["pem"])), a.finalize(order, b"\x30\x00"),
           a.finalize(order, b"junk"), a.finalize(order, b"")]
    self.assertEqual(a.post_as_get(url).json()["status"], "ready")
    return out


@case("YS05", 400, "badCSR", pebble="Pebble 2.4 has no SAN count limit")
def csr_too_many_sans(self):
    a = self.a
    _url, order = self.ready_order()
    name = order["identifiers"][0]["value"]
    return a.finalize(order, L.make_csr([name] + ["s%d.%s" % (i, name) for i in range(101)])[0])


@case("YS06", 400, "badCSR", pebble="Pebble 2.4 accepts an IP in the CN")
def csr_cn_is_ip_or_wrong_case_wildcard(self):
    a = self.a
    _url, order = self.ready_order(names=[uniq(), "192.0.2.55"])
    dns = order["identifiers"][0]["value"] if order["identifiers"][0]["type"] == "dns" \
        else order["identifiers"][1]["value"]
    return a.finalize(order, L.make_csr([dns], cn="192.0.2.55", ips=["192.0.2.55"])[0])


@case("YR01", 400, "malformed", pebble="Pebble answers these revocation fields differently")
def revoke_field_types(self):
    a = self.a
    cert = self.issued()
    der = L.b64u(L.leaf_der(cert["pem"]))
    url = a.url("revokeCert")
    return [a.post(url, {"certificate": der, "reason": True}),
            a.post(url, {"certificate": der, "reason": [1]}),
            a.post(url, {"certificate": 42}), a.post(url, {"certificate": [der]}),
            a.post(url, None)]


@case("YR02", 403, "unauthorized")
def revoke_by_unrelated_key(self):
    cert = self.issued()
    stranger = L.AcmeClient(self.daemon)
    resp = stranger.revoke(cert["pem"], use_jwk=True)
    self.assertEqual(self.a.revoke(cert["pem"]).status, 200, "still good: a revokes it")
    return resp


@case("YR03", 400, "malformed", pebble="Pebble answers a CA certificate differently")
def revoke_not_a_leaf(self):
    a = self.a
    cert = self.issued()
    chain = L.split_pem_chain(cert["pem"])
    inter = L.x509.load_pem_x509_certificate(chain[1].encode()).public_bytes(
        L.serialization.Encoding.DER)
    url = a.url("revokeCert")
    return [a.post(url, {"certificate": L.b64u(L.leaf_der(cert["pem"]) + b"\0")}),
            a.post(url, {"certificate": L.b64u(b"\x30\x03\x02\x01\x01")})] + \
        ([] if not inter else [])


@case("YZ01", 400, "malformed", pebble="Pebble accepts integers beyond int64")
def payload_numbers_out_of_range(self):
    a = self.a
    url = a.url("newOrder")
    ids = json.dumps(a.idents([uniq()]))
    return [a.post(url, ('{"identifiers":%s,"x":99999999999999999999}' % ids).encode()),
            a.post(url, ('{"identifiers":%s,"x":-9223372036854775809}' % ids).encode())]


@case("YZ02", 400, "malformed", pebble="Pebble has no JSON depth limit")
def depth_limits(self):
    a = self.a
    url = a.url("newOrder")
    ids = json.dumps(a.idents([uniq()]))
    deep = '{"identifiers":%s,"x":%s}' % (ids, "[" * 33 + "]" * 33)
    out = [a.post(url, deep.encode())]
    text = json.dumps({"alg": "ES256", "kid": a.kid, "nonce": a.nonce(), "url": url})
    text = text[:-1] + ', "x": %s}' % ("[" * 40 + "]" * 40)
    out.append(a.raw(url, _signed(a, url, text, ('{"identifiers":%s}' % ids).encode())))
    return out


@case("YZ03", 400, "malformed", pebble="Pebble has no nonce length limit")
def nonce_too_long(self):
    a = self.a
    return a.post(a.url("newOrder"), {"identifiers": a.idents([uniq()])}, nonce="A" * 200)


@case("YZ04", 400, "invalidProfile", pebble="Pebble 2.4 has no profiles")
def profile_long_or_odd(self):
    a = self.a
    return [a.new_order([uniq()], profile="p" * 65), a.new_order([uniq()], profile="")]


@case("YP01", 415, "malformed")
def content_type_near_misses(self):
    a = self.a
    out = []
    for ctype in ("application/jose+json2", "application/jose+jsonx; charset=utf-8",
                  "application/jose", "multipart/form-data", "application/jose+json,text/html"):
        url, body = _order_body(a)
        out.append(self.send(a, url, body, content_type=ctype))
    return out


@case("YP02", 405, "malformed", pebble="Pebble answers other methods with its own status")
def other_methods_more(self):
    a = self.a
    out = [a.request(a.url("newOrder"), "PATCH", b"{}", {"Content-Type": L.JOSE}),
           a.request(a.kid, "PUT", b"{}", {"Content-Type": L.JOSE}),
           a.request(a.url("revokeCert"), "DELETE")]
    for resp in out:
        self.assertTrue(resp.header("Allow"), resp)
    return out


@case("YP03", 400, "malformed", pebble="Pebble does not check the Host header", index=False)
def host_header_bad(self):
    a = self.a
    out = []
    for host in ("evil.example/x", "a b", "h" * 300, "x@evil.example"):
        req = ("GET /acme/new-nonce HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
               % host).encode()
        out.append(L.parse_raw_response(L.raw_exchange("127.0.0.1", self.daemon.port, req,
                                                       a.ctx)))
    return out


@case("YP04", 404, "malformed", pebble="Pebble's unknown paths are plain 404s")
def paths_odd(self):
    a = self.a
    base = self.daemon.base
    return [a.request(base + "//acme/new-nonce", "GET"), a.request(base + "/acme/new-nonce/", "GET"),
            a.request(base + "/ACME/NEW-NONCE", "GET"), a.request(base + "/dir/", "GET"),
            a.post(base + "/acme/acct/", None), a.request(base + "/acme/new-nonce%00", "GET")]


# =============================================================================================
# HTTP framing: H03 (plain answers, exempt from the problem checks)


# =============================================================================================
# EAB: E01 E04, against a daemon that requires external account binding (TestBadInputEab)

EAB_KID = "bi-eab-kid"
EAB_KEY = bytes(range(32))


def eab_binding(c, kid=EAB_KID, key=EAB_KEY):
    """An HS256 externalAccountBinding of c's key for newAccount (RFC 8555 §7.3.4)."""
    prot = L.b64u(json.dumps({"alg": "HS256", "kid": kid, "url": c.url("newAccount")}))
    payload = L.b64u(json.dumps(c.key.jwk()))
    mac = hmac.new(key, (prot + "." + payload).encode(), hashlib.sha256).digest()
    return {"protected": prot, "payload": payload, "signature": L.b64u(mac)}


def eab_account(c, **kw):
    return c.new_account(payload={"termsOfServiceAgreed": True,
                                  "externalAccountBinding": eab_binding(c, **kw)})


@case("E01", 403, "externalAccountRequired", daemon="eab")
def eab_required_no_binding(self):
    c = L.AcmeClient(self.daemon)
    out = [c.new_account(),
           c.new_account(payload={"termsOfServiceAgreed": True,
                                  "contact": ["mailto:e01@example.org"]})]
    gone = c.new_account(only_existing=True)
    self.assertEqual(gone.status, 400, "no account was created: %r" % gone)
    return out


@case("E04", 403, "unauthorized", daemon="eab")
def eab_bad_binding(self):
    c = L.AcmeClient(self.daemon)
    out = [eab_account(c, kid="bi-eab-unknown"),                      # unknown kid
           eab_account(c, key=bytes(range(1, 33))),                   # wrong key
           eab_account(c, key=EAB_KEY[:-1])]                          # truncated key
    self.assertEqual(c.new_account(only_existing=True).status, 400, "no account created")
    self.assertEqual(eab_account(c).status, 201, "the right binding still works")
    return out


class TestBadInputEab(BadInputBase):
    """The cases marked daemon="eab": externalAccountBindingRequired with one MAC key."""

    DAEMON_CONFIG = {"externalAccountBindingRequired": True,
                     "externalAccountMACKeys": {EAB_KID: L.b64u(EAB_KEY)}}

    @classmethod
    def register_kw(cls, client):
        return {"payload": {"termsOfServiceAgreed": True,
                            "externalAccountBinding": eab_binding(client)}}


class TestFraming(BadInputBase):
    def _raw(self, head, body=b""):
        c = self.a
        path = L.urllib.parse.urlsplit(c.url("newAccount")).path
        req = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/jose+json\r\n"
               "%s\r\n" % (path, self.daemon.port, head)).encode() + body
        return L.raw_status(L.raw_exchange("127.0.0.1", self.daemon.port, req, c.ctx, 5.0))

    def test_H03_bad_content_length(self):
        """H03: -1, 1,1, abc, two differing lengths -> 400; no body read."""
        for head in ("Content-Length: -1\r\n", "Content-Length: 1,1\r\n",
                     "Content-Length: abc\r\n", "Content-Length: 2\r\nContent-Length: 3\r\n"):
            with self.subTest(head=head):
                self.assertEqual(self._raw(head, b"{}"), 400)

    @L.cairn_only("Go's net/http answers an oversize length with 400")
    def test_H03_oversize_content_length(self):
        """H03: 2^64 and an oversize declared length -> 413 before any body is read."""
        for head in ("Content-Length: 18446744073709551616\r\n",
                     "Content-Length: 70000\r\nExpect: 100-continue\r\n",
                     "Content-Length: 70000\r\n"):
            with self.subTest(head=head):
                self.assertEqual(self._raw(head), 413)

    @L.cairn_only("Go's net/http has other header limits")
    def test_H01_target_and_header_limits(self):
        """H01: 9 kB and 64 kB request targets -> 414; one 40 kB or 10 kB header, 20 headers of
        1 kB (16 KiB in all), 1,000 small headers -> 431; each answer closes the connection (a
        second request on it gets nothing). An 8 kB header still passes, on a connection that
        stays open."""
        def exchange(head, target="/dir"):
            req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n"
                   % (target, self.daemon.port, head)).encode()
            data, closed, second = L.raw_answer_then_close("127.0.0.1", self.daemon.port, req,
                                                            self.a.ctx, 5.0)
            return L.raw_status(data), closed, second
        for target in ("/" + "a" * 9000, "/" + "a" * 65536):
            with self.subTest(target=len(target)):
                self.assertEqual(exchange("", target), (414, True, b""))
        for head in ("X-A: %s\r\n" % ("a" * 40000), "X-A: %s\r\n" % ("a" * 10000),
                     "".join("X-%d: %s\r\n" % (i, "a" * 1000) for i in range(20)),
                     "".join("X-%d: a\r\n" % i for i in range(1000))):
            with self.subTest(head=head[:20]):
                self.assertEqual(exchange(head), (431, True, b""))
        status, closed, second = exchange("X-A: %s\r\n" % ("a" * 8000))
        self.assertEqual((status, closed), (200, False))
        self.assertEqual(L.raw_status(second), 200, second[:100])

    @L.cairn_only("Pebble has no body cap")
    def test_J02_body_over_cap(self):
        """J02: a 70 kB JWS body -> 413 malformed."""
        a = self.a
        url = a.url("newOrder")
        body = json.dumps(a.jws(url, {"identifiers": a.idents([uniq()]), "pad": "x" * 70000}))
        path = L.urllib.parse.urlsplit(url).path
        req = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: %s\r\n"
               "Content-Length: %d\r\nConnection: close\r\n\r\n"
               % (path, self.daemon.port, L.JOSE, len(body))).encode() + body.encode()
        resp = L.parse_raw_response(L.raw_exchange("127.0.0.1", self.daemon.port, req, a.ctx))
        self.check_problem(resp, 413, "malformed")


class TestPositive(BadInputBase):
    """The §8 cases whose answer is a success; asserted here beside the rejections."""

    def test_O04_case_folded_duplicates(self):
        resp = self.a.new_order(["Example-O04.COM", "example-o04.com"])
        if L.PEBBLE:
            self.skipTest("Pebble keeps the case and duplicates")
        self.assertEqual(resp.status, 201, resp)
        order = resp.json()
        self.assertEqual(order["identifiers"], [{"type": "dns", "value": "example-o04.com"}])
        self.assertEqual(len(order["authorizations"]), 1)

    def test_O10_wildcard(self):
        resp = self.a.new_order(["*.wild-o10.example.com"])
        self.assertEqual(resp.status, 201, resp)
        az = self.a.post_as_get(resp.json()["authorizations"][0]).json()
        self.assertEqual(az["identifier"], {"type": "dns", "value": "wild-o10.example.com"})
        self.assertIs(az.get("wildcard"), True)
        self.assertEqual([c["type"] for c in az["challenges"]], ["dns-01"])

    @L.cairn_only("Pebble 2.4 has no IP identifiers")
    def test_O16_ip_identifier(self):
        resp = self.a.new_order(["192.0.2.7"])
        self.assertEqual(resp.status, 201, resp)
        az = self.a.post_as_get(resp.json()["authorizations"][0]).json()
        self.assertEqual(az["identifier"], {"type": "ip", "value": "192.0.2.7"})
        self.assertEqual(sorted(c["type"] for c in az["challenges"]), ["http-01", "tls-alpn-01"])

    @L.cairn_only("D10: Pebble answers 400 to a challenge POST once the authz is valid")
    def test_Z06_challenge_post_after_valid(self):
        url, order = self.ready_order()
        az = self.a.post_as_get(order["authorizations"][0]).json()
        chall = next(c for c in az["challenges"] if c["status"] == "valid")
        resp = self.a.post(chall["url"], {})
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["status"], "valid")
        if not L.PEBBLE:
            self.assertIn(order["authorizations"][0], resp.links("up"))

    def test_C02_certificate_download(self):
        """C02: the owner's POST-as-GET of its certificate: 200 PEM chain, CERTIFICATE blocks
        only, leaf first, and the chain verifies to the root."""
        res = self.issued(names=[uniq("c02-")])
        resp = self.a.post_as_get(res["cert_url"])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.content_type, "application/pem-certificate-chain", resp)
        text = resp.body.decode()
        blocks = L.split_pem_chain(text)
        self.assertGreaterEqual(len(blocks), 2, text)
        self.assertEqual(len(re.findall(r"-----BEGIN [A-Z ]+-----", text)), len(blocks),
                         "CERTIFICATE blocks only")
        leaf = L.x509.load_pem_x509_certificate(blocks[0].encode())
        self.assertFalse(leaf.extensions.get_extension_for_class(
            L.x509.BasicConstraints).value.ca, "leaf first")
        ok, out = L.openssl_verify(self.daemon.root_pem(), text, self.workdir)
        self.assertTrue(ok, out)

    def test_X03_revoke_by_certificate_key(self):
        """X03: revokeCert signed (jwk) by the certificate's key: 200, reason 1 (cairn), and
        the key is blocked: a later CSR with it is badCSR, a later account badPublicKey."""
        name = uniq("x03-")
        res = self.issued(names=[name])
        cert_key = L.Key(private=res["cert_key"].private)
        resp = L.AcmeClient(self.daemon).revoke(res["pem"], key=cert_key, use_jwk=True)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.a.revoke(res["pem"]).problem_type, L.ERR + "alreadyRevoked")
        if L.PEBBLE:
            return  # Pebble neither records reason 1 for jwk revocation nor blocks the key
        serial = L.x509.load_pem_x509_certificate(
            L.split_pem_chain(res["pem"])[0].encode()).serial_number
        status = self.daemon.mgmt_get("/cert-status-by-serial/%x" % serial)
        self.assertEqual(status.json().get("Reason"), 1, status)
        _url, order = self.ready_order(names=[name])
        bad = self.a.finalize(order, L.make_csr([name], cert_key)[0])
        self.assertEqual((bad.status, bad.problem_type), (400, L.ERR + "badCSR"), bad)
        acct = L.AcmeClient(self.daemon, key=cert_key).new_account()
        self.assertEqual((acct.status, acct.problem_type), (400, L.ERR + "badPublicKey"), acct)

    def test_P03_directory_and_nonce(self):
        a = self.a
        d = a.request(self.daemon.directory_url)
        self.assertEqual(d.status, 200)
        self.assertEqual(d.content_type, "application/json")
        for key in ("newNonce", "newAccount", "newOrder", "revokeCert", "keyChange"):
            self.assertTrue(d.json()[key].startswith(self.daemon.base + "/"), key)
        if not L.PEBBLE:
            self.assertEqual(a.post_as_get(self.daemon.directory_url).status, 200)
            alias = a.request(self.daemon.base + "/directory")
            self.assertEqual(alias.status, 200, alias)
            self.assertEqual(alias.json(), d.json())
            self.assertIn("profiles", d.json()["meta"])
            self.assertIs(d.json()["meta"]["externalAccountRequired"], False)
        head = a.request(a.url("newNonce"), "HEAD")
        get = a.request(a.url("newNonce"), "GET")
        self.assertEqual((head.status, get.status), (200, 204))
        for resp in (head, get):
            self.assertTrue(resp.nonce_fresh)
            self.assertRegex(resp.nonce, r"^[A-Za-z0-9_-]+$")
            if not L.PEBBLE:  # Pebble: "public, max-age=0, no-cache"
                self.assertIn("no-store", resp.header("Cache-Control", ""))
            self.assertEqual(resp.body, b"")

    @L.cairn_only("Pebble does not answer OPTIONS")
    def test_cors_and_options(self):
        a = self.a
        resp = a.request(a.url("newOrder"), "OPTIONS")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, b"")
        self.assertEqual(resp.header("Access-Control-Allow-Origin"), "*")


# =============================================================================================
# Protocol features (PROTOCOL.md §1): newAuthz, profiles, renewalInfo, replaces


def cert_id(pem):
    leaf = L.x509.load_pem_x509_certificate(L.split_pem_chain(pem)[0].encode())
    aki = leaf.extensions.get_extension_for_class(L.x509.AuthorityKeyIdentifier).value
    n = leaf.serial_number
    return L.b64u(aki.key_identifier) + "." + L.b64u(n.to_bytes(n.bit_length() // 8 + 1, "big"))


@case("PA01", 400, "malformed", pebble="Pebble has no newAuthz")
def new_authz_wildcard(self):
    a = self.a
    return a.post(a.url("newAuthz"), {"identifier": {"type": "dns", "value": "*." + uniq()}})


@case("PA02", 400, "rejectedIdentifier", pebble="Pebble has no newAuthz")
def new_authz_bad_name(self):
    a = self.a
    return [a.post(a.url("newAuthz"), {"identifier": {"type": "dns", "value": v}})
            for v in ("-x.example.com", "a..example.com", "example.com.")]


@case("PR01", 400, "invalidProfile", pebble="cairn's profile names")
def order_unknown_profile(self):
    return self.a.new_order([uniq()], profile="no-such-profile")


@case("RI01", 400, "malformed", pebble="Pebble answers bad certIDs differently")
def renewal_info_unparsable(self):
    a = self.a
    base = a.url("renewalInfo") + "/"
    return [a.request(base + cid) for cid in ("x", "a.b.c", "AQ.AAE", "AQ.gA", "AQ=.AQ")]


@case("RI02", 404, "malformed", pebble="Pebble answers unknown certIDs differently")
def renewal_info_unknown(self):
    a = self.a
    cid = cert_id(self.issued()["pem"])
    return [a.request(a.url("renewalInfo") + "/" + cid.split(".")[0] + ".AQID"),
            a.request(a.url("renewalInfo") + "/" + L.b64u(b"other-issuer") + "."
                      + cid.split(".")[1])]


@case("RI03", 403, "unauthorized", pebble="cairn-only replaces checks")
def replaces_other_accounts_cert(self):
    cert = self.issued()
    name = cert["order"]["identifiers"][0]["value"]
    return self.b.new_order([name], replaces=cert_id(cert["pem"]))


@case("RI04", 400, "malformed", pebble="cairn-only replaces checks")
def replaces_bad(self):
    cert = self.issued()
    cid = cert_id(cert["pem"])
    return [self.a.new_order([uniq()], replaces=cid),           # no shared identifier
            self.a.new_order([uniq()], replaces="garbage"),
            self.a.new_order([uniq()], replaces=cid.split(".")[0] + ".AQID"),
            self.a.new_order([uniq()], replaces=5)]


@case("RI05", 409, "alreadyReplaced", pebble="cairn-only replaces checks")
def replaces_twice(self):
    cert = self.issued()
    name = cert["order"]["identifiers"][0]["value"]
    first = self.a.new_order([name], replaces=cert_id(cert["pem"]))
    self.assertEqual(first.status, 201, first)
    return self.a.new_order([name], replaces=cert_id(cert["pem"]))


class TestBadInput(BadInputBase):
    pass


for _spec in CASES:
    _slug = re.sub(r"\W", "_", _spec["id"])
    setattr(TestBadInputEab if _spec["daemon"] == "eab" else TestBadInput,
            "test_%s_%s" % (_slug, _spec["name"]), make_test(_spec))



# PROTOCOL.md §8's public case IDs, copied from its table (51). Every one must be findable in
# the hostile-input suites: an @case of that ID, a test method named test_<ID>_... in this
# module, or a test_<id>_... method in test_badinput_ca.py (the CA-mode V rows).
PUBLIC_CASES = """
J01 J03 J05 J09 J12 N01 N03 N06 U02 K01 K04 K05 K08 A01 A04 A06 A12 E01 E04 R03 R05 R06
O02 O04 O06 O10 O14 O16 Z01 Z03 Z06 V01 V03 V05 V08 V12 V16 F01 F06 F07 F12 C02 X01 X03
X07 X09 P01 P03 P05 H01 H03
""".split()
# Public cases asserted inside another case, with where.
COVERED_INSIDE = {"F12": "F06"}


class TestPublicCaseCoverage(unittest.TestCase):
    def test_every_public_case_is_in_a_suite(self):
        self.assertEqual(len(PUBLIC_CASES), 51)
        found = {spec["id"] for spec in CASES}
        for cls in (TestFraming, TestPositive):
            found |= {m.split("_")[1] for m in dir(cls) if re.match(r"test_[A-Z]\d\d_", m)}
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               "test_badinput_ca.py")) as f:
            found |= {m.upper() for m in re.findall(r"def test_([a-z]\d\d)_", f.read())}
        found |= {cid for cid, host in COVERED_INSIDE.items() if host in found}
        missing = [cid for cid in PUBLIC_CASES if cid not in found]
        self.assertEqual(missing, [], "PROTOCOL.md §8 cases without a test")


if __name__ == "__main__":
    unittest.main()
