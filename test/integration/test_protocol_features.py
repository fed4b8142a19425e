"""Protocol features of issue 5 against a real daemon: profiles, revocation by authorization
holders, ARI (renewalInfo, replaces, set-renewal-info), external account binding, newAuthz
pre-authorization and the /cairn/ management controls (PROTOCOL.md §1, §7; API.md).

Run: CAIRN_BIN=build/cairn /usr/bin/python3 test/integration/test_protocol_features.py -v
"""

import datetime
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cairnlib as L  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

ALWAYS_VALID = {"PEBBLE_VA_ALWAYS_VALID": "1"}


def validity(leaf):
    """(notBefore, notAfter) as aware UTC datetimes (older python3-cryptography has only the
    naive accessors)."""
    utc = datetime.timezone.utc
    return (leaf.not_valid_before.replace(tzinfo=utc), leaf.not_valid_after.replace(tzinfo=utc))


def lifetime(leaf):
    nb, na = validity(leaf)
    return (na - nb).total_seconds()


class ProtoDaemon(L.Daemon):
    """A Daemon whose config file can also carry a "cairn" section."""

    def __init__(self, *args, cairn_extra=None, **kw):
        super().__init__(*args, **kw)
        self.cairn_extra = dict(cairn_extra or {})

    def _config(self):
        path = super()._config()
        if self.cairn_extra:
            with open(path) as f:
                conf = json.load(f)
            conf["cairn"] = self.cairn_extra
            if self.cairn_extra.get("mode") == "ca":
                # standard validation ports: CA mode may refuse test ports (nothing validates)
                conf["pebble"].pop("httpPort", None)
                conf["pebble"].pop("tlsPort", None)
            with open(path, "w") as f:
                json.dump(conf, f, indent=2)
        return path


class ProtoCase(L.DaemonTestCase):
    """One daemon per class with CONFIG (pebble section) and CAIRN (cairn section)."""

    DAEMON_ENV = ALWAYS_VALID
    CONFIG = {}
    CAIRN = {}

    @classmethod
    def setUpClass(cls):
        reason = L.needs_cairn_bin()
        if reason or L.PEBBLE:
            raise unittest.SkipTest(reason or "cairn features")
        cls.workdir = L.tempfile.mkdtemp(prefix="cairn-proto-")
        cls.dns = cls.daemon = cls.responder = None
        try:
            cls.dns = L.MockDNS(cls.workdir).start()
            cls.daemon = ProtoDaemon(cls.dns.port, cls.DAEMON_ENV,
                                     workdir=os.path.join(cls.workdir, "d"),
                                     config_extra=cls.CONFIG, cairn_extra=cls.CAIRN)
            os.makedirs(cls.daemon.workdir, exist_ok=True)
            cls.daemon.start()
        except Exception:
            cls.tearDownClass()
            raise

    # -- helpers
    def mgmt(self, path, body=None, method=None, raw=None):
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        method = method or ("GET" if data is None else "POST")
        return L.http_request(self.daemon.mgmt_base + path, method, data,
                              {"Content-Type": "application/json"} if data else None,
                              ctx=self.daemon.ssl_context())

    def issue(self, client, names, **order_extra):
        """Issue with optional newOrder members; returns (result dict, leaf x509)."""
        if order_extra:
            resp = client.new_order(names, **order_extra)
            self.assertEqual(resp.status, 201, resp)
            order_url, order = resp.location, resp.json()
            client.authorize(order)
            order = client.poll(order_url, ("ready", "invalid")).json()
            csr, key = L.make_csr(names)
            self.assertEqual(client.finalize(order, csr).status, 200)
            order = client.poll(order_url).json()
            pem = client.post_as_get(order["certificate"]).body.decode()
            res = {"order_url": order_url, "order": order, "pem": pem}
        else:
            res = client.issue(names)
        leaf = x509.load_pem_x509_certificate(L.split_pem_chain(res["pem"])[0].encode())
        return res, leaf

    @staticmethod
    def cert_id(leaf):
        aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        n = leaf.serial_number
        serial = n.to_bytes(n.bit_length() // 8 + 1, "big")
        return L.b64u(aki.key_identifier) + "." + L.b64u(serial)

    def assert_problem(self, resp, status, ptype):
        self.assertEqual(resp.status, status, resp)
        self.assertEqual(resp.content_type, L.PROBLEM, resp)
        self.assertEqual(resp.problem_type, L.ERR + ptype, resp)


# ---------------------------------------------------------------------------------------------


class TestProfiles(ProtoCase):
    CONFIG = {"profiles": {
        "default": {"description": "Ninety days", "validityPeriod": 7776000},
        "short": {"description": "One day", "validityPeriod": 86400},
        "cn": {"description": "Promotes the CN", "validityPeriod": 3600,
               "promoteCommonName": True},
    }}

    def test_directory_lists_profiles(self):
        meta = self.client(register=False).directory["meta"]
        self.assertEqual(meta["profiles"], {"default": "Ninety days", "short": "One day",
                                            "cn": "Promotes the CN"})

    def test_unknown_profile_is_invalid_profile(self):
        c = self.client()
        self.assert_problem(c.new_order(["p1.example.com"], profile="nope"), 400,
                            "invalidProfile")
        self.assert_problem(c.new_order(["p1.example.com"], profile=7), 400, "malformed")

    def test_no_profile_means_default(self):
        c = self.client()
        for _ in range(3):  # never random
            resp = c.new_order(["p2.example.com"])
            self.assertEqual(resp.status, 201, resp)
            self.assertEqual(resp.json()["profile"], "default")

    def test_validity_follows_profile(self):
        c = self.client()
        _, leaf = self.issue(c, ["short.example.com"], profile="short")
        self.assertEqual(lifetime(leaf), 86400 - 1)
        self.assertEqual(leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME), [])
        _, leaf = self.issue(c, ["long.example.com"])
        self.assertEqual(lifetime(leaf), 7776000 - 1)

    def test_promote_common_name(self):
        c = self.client()
        res, leaf = self.issue(c, ["cn.example.com"], profile="cn")
        self.assertEqual(res["order"]["profile"], "cn")
        cn = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        self.assertEqual([a.value for a in cn], ["cn.example.com"])

    def test_not_after_limited_by_profile(self):
        c = self.client()
        now = L.utcnow()
        two_days = L.rfc3339(now + datetime.timedelta(days=2))
        self.assert_problem(c.new_order(["na.example.com"], profile="short", notAfter=two_days),
                            400, "malformed")
        resp = c.new_order(["na.example.com"], notAfter=two_days)
        self.assertEqual(resp.status, 201, resp)
        self.assertEqual(resp.json()["notAfter"], two_days)

    def test_default_profile_override(self):
        c = self.client()
        try:
            resp = self.mgmt("/cairn/default-profile", {"profile": "short"})
            self.assertEqual(resp.status, 200, resp)
            self.assertEqual(c.new_order(["dp.example.com"]).json()["profile"], "short")
            bad = self.mgmt("/cairn/default-profile", {"profile": "nope"})
            self.assert_problem(bad, 400, "malformed")
            self.assertEqual(c.new_order(["dp.example.com"]).json()["profile"], "short")
        finally:
            self.assertEqual(self.mgmt("/cairn/default-profile", {"profile": "default"}).status,
                             200)
        self.assertEqual(c.new_order(["dp.example.com"]).json()["profile"], "default")


class TestDefaultProfileOnly(ProtoCase):
    CONFIG = {"certificateValidityPeriod": 3600}

    def test_certificate_validity_period_sets_default(self):
        c = self.client()
        meta = c.directory["meta"]
        self.assertEqual(list(meta["profiles"]), ["default"])
        _, leaf = self.issue(c, ["cvp.example.com"])
        self.assertEqual(lifetime(leaf), 3600 - 1)


# ---------------------------------------------------------------------------------------------


class TestRevocationByAuthz(ProtoCase):
    def test_other_account_with_authz_revokes_reason_5(self):
        owner, other = self.client(), self.client()
        res, leaf = self.issue(owner, ["rv1.example.com", "rv2.example.com"])
        # without authorizations: refused, the certificate stays good
        self.assert_problem(other.revoke(res["pem"]), 403, "unauthorized")
        status = self.daemon.mgmt_get("/cert-status-by-serial/%x" % leaf.serial_number).json()
        self.assertEqual(status["Status"], "Valid")
        # authorized for one name only: still refused
        resp = other.post(other.url("newAuthz"),
                          {"identifier": {"type": "dns", "value": "rv1.example.com"}})
        self.assertEqual(resp.status, 201, resp)
        chall = resp.json()["challenges"][0]
        other.post(chall["url"], {})
        self.assertEqual(other.poll(resp.location).json()["status"], "valid")
        self.assert_problem(other.revoke(res["pem"]), 403, "unauthorized")
        # authorized for every name: revoked, reason recorded 5 whatever was asked
        other.authorize(other.order(["rv1.example.com", "rv2.example.com"])[1])
        resp = other.revoke(res["pem"], reason=4)
        self.assertEqual(resp.status, 200, resp)
        status = self.daemon.mgmt_get("/cert-status-by-serial/%x" % leaf.serial_number).json()
        self.assertEqual(status["Status"], "Revoked")
        self.assertEqual(status["Reason"], 5)
        self.assert_problem(other.revoke(res["pem"]), 400, "alreadyRevoked")


# ---------------------------------------------------------------------------------------------


class TestAri(ProtoCase):
    def ari(self, certid, method="GET"):
        c = self.client(register=False)
        return c.request(c.url("renewalInfo") + "/" + certid, method)

    def test_window_headers_and_head(self):
        c = self.client()
        self.assertTrue(c.directory["renewalInfo"].endswith("/acme/renewal-info"))
        _, leaf = self.issue(c, ["ari1.example.com"])
        resp = self.ari(self.cert_id(leaf))
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("Retry-After"), "21600")
        self.assertEqual(resp.header("Cache-Control"), "public, max-age=21600")
        nb, na = (int(t.timestamp()) for t in validity(leaf))
        life = na - nb
        want = {"start": L.rfc3339(datetime.datetime.fromtimestamp(
                    na - life // 3, datetime.timezone.utc)),
                "end": L.rfc3339(datetime.datetime.fromtimestamp(
                    na - life // 6, datetime.timezone.utc))}
        self.assertEqual(resp.json()["suggestedWindow"], want)
        head = self.ari(self.cert_id(leaf), "HEAD")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.header("Retry-After"), "21600")
        # ordinary ACME answers keep no-store
        self.assertEqual(c.request(c.url("newNonce"), "HEAD").header("Cache-Control"),
                         "no-store")

    def test_bad_and_unknown_cert_ids(self):
        c = self.client()
        _, leaf = self.issue(c, ["ari2.example.com"])
        aki, serial = self.cert_id(leaf).split(".")
        for bad in ("abc", "a.b.c", aki + ".", "." + serial, aki + "=." + serial,
                    aki + ".!!", aki + "." + L.b64u(b"\x00\x01")):
            self.assert_problem(self.ari(bad), 400, "malformed")
        self.assert_problem(self.ari(aki + "." + L.b64u(b"\x01\x02\x03")), 404, "malformed")
        self.assert_problem(self.ari(L.b64u(b"not-our-key-id") + "." + serial), 404,
                            "malformed")
        self.assertEqual(self.ari(aki + "." + serial).status, 200)

    def test_revoked_means_renew_now(self):
        c = self.client()
        res, leaf = self.issue(c, ["ari3.example.com"])
        self.assertEqual(c.revoke(res["pem"]).status, 200)
        status = self.daemon.mgmt_get("/cert-status-by-serial/%x" % leaf.serial_number).json()
        revoked = datetime.datetime.strptime(status["RevokedAt"][:19], "%Y-%m-%d %H:%M:%S")
        revoked = revoked.replace(tzinfo=datetime.timezone.utc)
        window = self.ari(self.cert_id(leaf)).json()["suggestedWindow"]
        self.assertEqual(window["end"], L.rfc3339(revoked))
        self.assertEqual(window["start"], L.rfc3339(revoked - datetime.timedelta(hours=1)))

    def test_replaces(self):
        c, stranger = self.client(), self.client()
        _, leaf = self.issue(c, ["rep1.example.com", "rep2.example.com"])
        certid = self.cert_id(leaf)
        self.assert_problem(c.new_order(["other.example.com"], replaces=certid), 400,
                            "malformed")
        self.assert_problem(stranger.new_order(["rep1.example.com"], replaces=certid), 403,
                            "unauthorized")
        self.assert_problem(c.new_order(["rep1.example.com"], replaces="garbage"), 400,
                            "malformed")
        aki = certid.split(".")[0]
        self.assert_problem(c.new_order(["rep1.example.com"],
                                        replaces=aki + "." + L.b64u(b"\x01\x02")), 400,
                            "malformed")
        resp = c.new_order(["rep1.example.com"], replaces=certid)
        self.assertEqual(resp.status, 201, resp)
        self.assertEqual(resp.json()["replaces"], certid)
        first = resp.json()
        self.assert_problem(c.new_order(["rep2.example.com"], replaces=certid), 409,
                            "alreadyReplaced")
        # once the replacing order is invalid the certificate can be replaced again
        az = first["authorizations"][0]
        self.assertEqual(c.post(az, {"status": "deactivated"}).status, 200)
        resp = c.new_order(["rep2.example.com"], replaces=certid)
        self.assertEqual(resp.status, 201, resp)
        self.assertEqual(self.mgmt("/cairn/orders/" + resp.location.rsplit("/", 1)[1])
                         .json()["replaces"], certid)

    def test_set_renewal_info(self):
        c = self.client()
        res, leaf = self.issue(c, ["ari4.example.com"])
        text = '{"suggestedWindow": {"start": "2001-01-01T00:00:00Z", ' \
               '"end": "2001-01-02T00:00:00Z"}, "explanationURL": "https://x.test/"}'
        leaf_pem = L.split_pem_chain(res["pem"])[0]
        resp = self.mgmt("/set-renewal-info/", {"Certificate": leaf_pem, "ARIResponse": text})
        self.assertEqual(resp.status, 200, resp)
        ari = self.ari(self.cert_id(leaf))
        self.assertEqual(ari.status, 200)
        self.assertEqual(ari.body.decode(), text)
        self.assertEqual(ari.header("Retry-After"), "21600")
        self.assert_problem(self.mgmt("/set-renewal-info/", {"Certificate": "junk",
                                                             "ARIResponse": "x"}),
                            400, "malformed")
        self.assert_problem(self.mgmt("/set-renewal-info/", raw=b"{not json"), 400, "malformed")
        foreign = L.split_pem_chain(self.daemon.root_pem())[0]
        self.assert_problem(self.mgmt("/set-renewal-info/", {"Certificate": foreign,
                                                             "ARIResponse": "x"}),
                            404, "malformed")


# ---------------------------------------------------------------------------------------------

MAC_KEY = b"0123456789abcdef0123456789abcdef"
DB_KEY = b"a-key-that-lives-in-the-database"


def eab_binding(kid, key, jwk, url, alg="HS256", extra=None, drop=(), payload=None):
    prot = {"alg": alg, "kid": kid, "url": url}
    prot.update(extra or {})
    for name in drop:
        prot.pop(name, None)
    p64 = L.b64u(json.dumps(prot))
    pl64 = L.b64u(json.dumps(payload if payload is not None else jwk))
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
              "HS512": hashlib.sha512}.get(alg, hashlib.sha256)
    mac = hmac.new(key, (p64 + "." + pl64).encode(), digest).digest()
    return {"protected": p64, "payload": pl64, "signature": L.b64u(mac)}


class EabCase(ProtoCase):
    def new_account_eab(self, kid="kid-1", key=MAC_KEY, client=None, **kw):
        c = client or self.client(register=False)
        url = c.url("newAccount")
        binding = eab_binding(kid, key, c.key.jwk(), kw.pop("url", url), **kw)
        return c, c.new_account(payload={"termsOfServiceAgreed": True,
                                         "externalAccountBinding": binding})


class TestEab(EabCase):
    CONFIG = {"externalAccountBindingRequired": True,
              "externalAccountMACKeys": {"kid-1": L.b64u(MAC_KEY)}}

    def test_required_and_absent(self):
        c = self.client(register=False)
        self.assertTrue(c.directory["meta"]["externalAccountRequired"])
        self.assert_problem(c.new_account(), 403, "externalAccountRequired")

    def test_valid_binding_creates_bound_account(self):
        c, resp = self.new_account_eab()
        self.assertEqual(resp.status, 201, resp)
        acct_id = resp.location.rsplit("/", 1)[1]
        info = self.mgmt("/cairn/accounts/" + acct_id).json()
        self.assertEqual(info["externalAccountBinding"], "kid-1")
        # test mode: a key id may bind several accounts (as Pebble)
        _, resp = self.new_account_eab()
        self.assertEqual(resp.status, 201, resp)
        for alg in ("HS384", "HS512"):
            _, resp = self.new_account_eab(alg=alg)
            self.assertEqual(resp.status, 201, (alg, resp))

    def test_refusals(self):
        self.assert_problem(self.new_account_eab(key=b"wrong key")[1], 403, "unauthorized")
        self.assert_problem(self.new_account_eab(key=MAC_KEY[:-1])[1], 403, "unauthorized")
        self.assert_problem(self.new_account_eab(kid="kid-unknown")[1], 403, "unauthorized")
        self.assert_problem(self.new_account_eab(payload=L.Key().jwk())[1], 403, "unauthorized")
        self.assert_problem(self.new_account_eab(extra={"nonce": "AAAA"})[1], 400, "malformed")
        self.assert_problem(self.new_account_eab(alg="RS256")[1], 400, "malformed")
        self.assert_problem(self.new_account_eab(url="https://elsewhere.test/x")[1], 400,
                            "malformed")
        self.assert_problem(self.new_account_eab(drop=("url",))[1], 400, "malformed")
        self.assert_problem(self.new_account_eab(drop=("kid",))[1], 400, "malformed")
        c = self.client(register=False)
        resp = c.new_account(payload={"termsOfServiceAgreed": True,
                                      "externalAccountBinding": "x.y.z"})
        self.assert_problem(resp, 400, "malformed")
        # nothing was created by the refused requests
        resp = c.new_account(payload={"onlyReturnExisting": True})
        self.assert_problem(resp, 400, "accountDoesNotExist")

    def test_database_keys_from_cli(self):
        cairn = os.environ["CAIRN_BIN"]
        state = ["-config", os.path.join(self.daemon.workdir, "config.json"), "--state-dir",
                 self.daemon.state_dir]

        def run(*args):
            return subprocess.run([cairn, "eab", *args, *state], capture_output=True,
                                  timeout=30, stdin=subprocess.DEVNULL)

        add = run("add", "kid-db", "--key", L.b64u(DB_KEY))
        self.assertEqual(add.returncode, 0, add.stderr)
        self.assertNotIn(L.b64u(DB_KEY).encode(), add.stdout, "a given key is not echoed")
        self.assertEqual(run("add", "kid-db", "--key", L.b64u(DB_KEY)).returncode, 1)
        gen = run("add", "kid-gen", "--json")
        self.assertEqual(gen.returncode, 0, gen.stderr)
        gen_key = L.b64u_decode(json.loads(gen.stdout)["key"])
        self.assertEqual(len(gen_key), 32)
        shadow = run("add", "kid-1", "--key", L.b64u(b"shadowed"))
        self.assertEqual(shadow.returncode, 0)
        self.assertIn(b"config's key wins", shadow.stderr)
        listed = [(e["kid"], e["source"]) for e in json.loads(run("list", "--json").stdout)]
        self.assertIn(("kid-db", "db"), listed)
        self.assertIn(("kid-1", "config"), listed)
        self.assertIn(("kid-1", "shadowed"), listed)
        self.assertNotIn(L.b64u(DB_KEY).encode(), run("list", "--json").stdout)
        self.assertEqual(self.new_account_eab(kid="kid-db", key=DB_KEY)[1].status, 201)
        self.assertEqual(self.new_account_eab(kid="kid-gen", key=gen_key)[1].status, 201)
        # the config key wins over the database one of the same id
        self.assert_problem(self.new_account_eab(kid="kid-1", key=b"shadowed")[1], 403,
                            "unauthorized")
        self.assertEqual(self.new_account_eab(kid="kid-1")[1].status, 201)
        self.assertEqual(run("remove", "kid-db").returncode, 0)
        self.assertEqual(run("remove", "kid-db").returncode, 1)
        self.assert_problem(self.new_account_eab(kid="kid-db", key=DB_KEY)[1], 403,
                            "unauthorized")


class TestEabSingleUse(EabCase):
    CONFIG = {"externalAccountMACKeys": {"kid-1": L.b64u(MAC_KEY)}}
    CAIRN = {"eabSingleUse": True}

    def test_key_id_binds_one_account(self):
        c = self.client(register=False)
        self.assertFalse(c.directory["meta"]["externalAccountRequired"])
        self.assertEqual(self.new_account_eab()[1].status, 201)
        self.assert_problem(self.new_account_eab()[1], 403, "unauthorized")
        # not required: an account without a binding is still fine
        self.assertEqual(c.new_account().status, 201)


# ---------------------------------------------------------------------------------------------


class TestNewAuthz(ProtoCase):
    # valid authorizations from orders are never reused; pre-authorizations always are
    DAEMON_ENV = dict(ALWAYS_VALID, PEBBLE_AUTHZREUSE="0")

    def new_authz(self, c, value, type_="dns"):
        return c.post(c.url("newAuthz"), {"identifier": {"type": type_, "value": value}})

    def test_created_then_existing(self):
        c = self.client()
        self.assertTrue(c.directory["newAuthz"].endswith("/acme/new-authz"))
        first = self.new_authz(c, "pre1.example.com")
        self.assertEqual(first.status, 201, first)
        self.assertTrue(first.location)
        self.assertEqual(first.json()["status"], "pending")
        self.assertEqual(first.json()["identifier"],
                         {"type": "dns", "value": "pre1.example.com"})
        again = self.new_authz(c, "PRE1.example.com")
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.location, first.location)
        other = self.client()
        self.assertEqual(self.new_authz(other, "pre1.example.com").status, 201)
        self.assertEqual(self.new_authz(c, "192.0.2.7", "ip").status, 201)

    def test_refusals(self):
        c = self.client()
        self.assert_problem(self.new_authz(c, "*.pre2.example.com"), 400, "malformed")
        self.assert_problem(self.new_authz(c, "bad..example.com"), 400, "rejectedIdentifier")
        self.assert_problem(self.new_authz(c, "a@b", "email"), 400, "unsupportedIdentifier")
        self.assert_problem(c.post(c.url("newAuthz"), {"identifier": "x"}), 400, "malformed")
        self.assert_problem(c.post(c.url("newAuthz"), {}), 400, "malformed")

    def test_preauthorized_name_makes_order_ready(self):
        c = self.client()
        pre = self.new_authz(c, "pre3.example.com")
        chall = pre.json()["challenges"][0]
        c.post(chall["url"], {})
        self.assertEqual(c.poll(pre.location).json()["status"], "valid")
        self.assertEqual(self.new_authz(c, "pre3.example.com").status, 200)
        for _ in range(3):
            resp = c.new_order(["pre3.example.com"])
            self.assertEqual(resp.status, 201, resp)
            self.assertEqual(resp.json()["status"], "ready")
            self.assertEqual(resp.json()["authorizations"], [pre.location])
        # a valid authorization from an order is not reused (PEBBLE_AUTHZREUSE=0)
        _, order = c.order(["plain.example.com"])
        c.authorize(order)
        resp = c.new_order(["plain.example.com"])
        self.assertEqual(resp.json()["status"], "pending")
        self.assertNotEqual(resp.json()["authorizations"], order["authorizations"])


# ---------------------------------------------------------------------------------------------


class TestManagement(ProtoCase):
    DAEMON_ENV = {}

    def test_listings_and_reset(self):
        c = self.client()
        acct_id = c.kid.rsplit("/", 1)[1]
        self.assertEqual(self.mgmt("/cairn/va-always-valid", {"enabled": True}).status, 200)
        try:
            res, leaf = self.issue(c, ["mgmt.example.com"])
        finally:
            self.mgmt("/cairn/va-always-valid", {"enabled": False})
        accounts = self.mgmt("/cairn/accounts").json()["accounts"]
        self.assertIn(acct_id, [a["id"] for a in accounts])
        info = self.mgmt("/cairn/accounts/" + acct_id).json()
        self.assertEqual(info["status"], "valid")
        self.assertEqual(info["keyThumbprint"], c.key.thumbprint())
        order_id = res["order_url"].rsplit("/", 1)[1]
        self.assertIn(order_id, info["orders"])
        order = self.mgmt("/cairn/orders/" + order_id).json()
        self.assertEqual(order["status"], "valid")
        self.assertEqual(order["account"], acct_id)
        self.assertEqual(order["certificateSerial"], "%x" % leaf.serial_number)
        self.assertEqual(order["authorizationObjects"][0]["status"], "valid")
        certs = self.mgmt("/cairn/certs").json()["certificates"]
        self.assertIn("%x" % leaf.serial_number, [x["serial"] for x in certs])
        self.assertEqual(self.mgmt("/cairn/accounts/nope").status, 404)
        self.assertEqual(self.mgmt("/cairn/orders/nope").status, 404)
        self.assertEqual(self.mgmt("/cairn/reset", method="GET").status, 405)
        root = self.daemon.root_pem()
        resp = self.mgmt("/cairn/reset", {})
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.mgmt("/cairn/accounts").json()["accounts"], [])
        self.assertEqual(self.mgmt("/cairn/certs").json()["certificates"], [])
        self.assertEqual(self.daemon.mgmt_get("/cert-status-by-serial/%x"
                                              % leaf.serial_number).status, 404)
        self.assert_problem(c.new_order(["mgmt.example.com"]), 400, "accountDoesNotExist")
        self.assertEqual(self.daemon.root_pem(), root, "the CA survives a reset")
        c2 = self.client()
        self.assertEqual(c2.new_order(["mgmt.example.com"]).status, 201)

    def test_nonce_reject(self):
        c = self.client()
        try:
            self.assertEqual(self.mgmt("/cairn/nonce-reject", {"percent": 100}).status, 200)
            self.assert_problem(c.new_order(["nr.example.com"]), 400, "badNonce")
            self.assert_problem(c.new_order(["nr.example.com"]), 400, "badNonce")
        finally:
            self.assertEqual(self.mgmt("/cairn/nonce-reject", {"percent": 0}).status, 200)
        self.assertEqual(c.new_order(["nr.example.com"]).status, 201)
        for bad in ({"percent": 101}, {"percent": -1}, {"percent": "5"}, {}):
            self.assert_problem(self.mgmt("/cairn/nonce-reject", bad), 400, "malformed")
        self.assert_problem(self.mgmt("/cairn/nonce-reject", raw=b""), 400, "malformed")

    def test_va_always_valid_switch(self):
        c = self.client()
        # off (the default here): nothing answers http-01, so validation fails
        _, order = c.order(["vaoff.example.com"])
        az = c.post_as_get(order["authorizations"][0]).json()
        chall = next(ch for ch in az["challenges"] if ch["type"] == "http-01")
        c.post(chall["url"], {})
        self.assertEqual(c.poll(order["authorizations"][0]).json()["status"], "invalid")
        try:
            self.assertEqual(self.mgmt("/cairn/va-always-valid", {"enabled": True}).status, 200)
            _, order = c.order(["vaon.example.com"])
            c.authorize(order)
            self.assertEqual(c.post_as_get(order["authorizations"][0]).json()["status"],
                             "valid")
        finally:
            self.mgmt("/cairn/va-always-valid", {"enabled": False})
        self.assert_problem(self.mgmt("/cairn/va-always-valid", {"enabled": 1}), 400,
                            "malformed")

    def test_body_limit(self):
        resp = self.mgmt("/cairn/nonce-reject", raw=b"x" * (65 * 1024))
        self.assertEqual(resp.status, 413)


class TestCaModeGating(ProtoCase):
    """CA mode: the test controls are 404 unless allowTestControls, and the weakening ones
    (nonce rejection, always-valid, ARI override, default profile) stay 404 even then."""

    DAEMON_ENV = {}
    CAIRN = {"mode": "ca", "allowTestControls": True}

    def test_gating(self):
        self.assertEqual(self.mgmt("/cairn/accounts").status, 200)
        self.assertEqual(self.mgmt("/cairn/certs").status, 200)
        for path, body in (("/cairn/nonce-reject", {"percent": 100}),
                           ("/cairn/va-always-valid", {"enabled": True}),
                           ("/cairn/default-profile", {"profile": "default"}),
                           ("/set-renewal-info/", {"Certificate": "x", "ARIResponse": "y"})):
            self.assertEqual(self.mgmt(path, body).status, 404, path)


class TestCaModeNoControls(ProtoCase):
    DAEMON_ENV = {}
    CAIRN = {"mode": "ca"}

    def test_no_controls(self):
        self.assertEqual(self.mgmt("/cairn/accounts").status, 404)
        self.assertEqual(self.mgmt("/cairn/reset", {}).status, 404)
        self.assertEqual(self.mgmt("/health").status, 200)


if __name__ == "__main__":
    unittest.main()
