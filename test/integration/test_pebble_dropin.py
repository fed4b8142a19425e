"""cairn started exactly as a Pebble user starts pebble (issue 5, "What it must show" 1-3).

Each daemon runs in a working directory holding Debian's sample config copied byte for byte
from /usr/share/doc/pebble/examples/ and the listener certificate it names
(test/certs/localhost/cert.pem and key.pem, which Debian does not ship: made here with the
openssl CLI, as a Pebble user must), started with `-config FILE -dnsserver ADDR` from that
directory and no --state-dir. The client trusts that certificate for HTTPS and takes the CA
from /roots/0 on the management port. The sample config fixes the ports (ACME 14000,
management 15000, http-01 5002), so the daemons here run one at a time.

Covered: the start-up lines, /dir, issuance, the management endpoints' formats, every
PEBBLE_* variable's effect, the EAB sample config, keyChange then the old key refused, a
restart with --state-dir keeping everything (EAB keys from `cairn eab add` included), and
the command-line surface of PROTOCOL.md §7 (one or two dashes, -strict, -version, config keys
in any case, the management listener disabled).

Run: CAIRN_BIN=build/cairn /usr/bin/python3 test/integration/test_pebble_dropin.py -v
"""

import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cairnlib as L  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

SAMPLES = "/usr/share/doc/pebble/examples"
SAMPLE = "pebble-config.json"
SAMPLE_EAB = "pebble-config-external-account-bindings.json"
CERT = os.path.join("test", "certs", "localhost", "cert.pem")
KEY = os.path.join("test", "certs", "localhost", "key.pem")
ACME_PORT, MGMT_PORT, HTTP01_PORT = 14000, 15000, 5002
ALWAYS = {"PEBBLE_VA_ALWAYS_VALID": "1"}
PEM_CHAIN = "application/pem-certificate-chain; charset=utf-8"
PEM_KEY = "application/x-pem-file; charset=utf-8"


def port_busy(port):
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return True
    return False


def skip_reason():
    if L.PEBBLE:
        return "cairn as a Pebble drop-in (ACME_SERVER=pebble runs the reference itself)"
    reason = L.needs_cairn_bin()
    if reason:
        return reason
    if not os.path.exists(os.path.join(SAMPLES, SAMPLE)):
        return "Debian's pebble package (sample configs) is not installed"
    busy = [p for p in (ACME_PORT, MGMT_PORT, HTTP01_PORT) if port_busy(p)]
    if busy:
        return "the sample config's ports %s are in use by another process" % busy
    return None


def pebble_workdir(parent, sample):
    """A Pebble user's working directory: the sample config as-is and its listener cert."""
    wd = tempfile.mkdtemp(prefix="pebble-user-", dir=parent)
    shutil.copyfile(os.path.join(SAMPLES, sample), os.path.join(wd, sample))
    os.makedirs(os.path.dirname(os.path.join(wd, CERT)))
    res = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:P-256", "-nodes", "-days", "7",
                          "-subj", "/CN=localhost",
                          "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                          "-keyout", KEY, "-out", CERT],
                         cwd=wd, capture_output=True, text=True, timeout=30)
    if res.returncode != 0:
        raise RuntimeError("openssl req: " + res.stderr)
    return wd


class PebbleUser(L.Daemon):
    """cairn run as `pebble -config SAMPLE -dnsserver ADDR` from a Pebble user's directory.

    config: the file name inside workdir (relative, as typed by the user); dash: "-" or "--"
    for -config/-dnsserver; args: more flags (e.g. ["--state-dir", "state"]). The
    environment is the test's own minus every PEBBLE_* variable, plus env."""

    def __init__(self, dns_port, workdir, config=SAMPLE, env=None, args=(), dash="-"):
        super().__init__(dns_port, env, workdir=workdir, args=args)
        os.rmdir(self.state_dir)  # made by Daemon; a Pebble user has none
        self.config_name = config
        self.dash = dash
        self.port, self.mgmt_port, self.http_port = ACME_PORT, MGMT_PORT, HTTP01_PORT

    @property
    def trust_pem(self):
        return os.path.join(self.workdir, CERT)

    def command(self):
        return [os.environ["CAIRN_BIN"], self.dash + "config", self.config_name,
                self.dash + "dnsserver", "127.0.0.1:%d" % self.dns_port] + self.args

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PEBBLE_")}
        env.update(self.env)
        self.listening.clear()
        self.output.append("=== start %d: %s" % (self.starts, " ".join(self.command())))
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, cwd=self.workdir)
        self.reader = L.threading.Thread(target=self._read, args=(self.proc.stdout,),
                                         daemon=True)
        self.reader.start()
        self.starts += 1
        deadline = time.monotonic() + L.START_TIMEOUT
        while not self.listening.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("no 'Listening on:' within %ds:\n%s"
                                   % (L.START_TIMEOUT, self.log_tail()))
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("ACME port not answering:\n" + self.log_tail())

    def line(self, prefix):
        """The first output line starting with prefix, or None."""
        return next((l for l in self.output if l.startswith(prefix)), None)


def cert_of(pem):
    return x509.load_pem_x509_certificate(L.split_pem_chain(pem)[0].encode())


def spki(cert_or_key):
    pub = cert_or_key.public_key()
    return pub.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def ari_cert_id(leaf):
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    n = leaf.serial_number
    return L.b64u(aki.key_identifier) + "." + L.b64u(n.to_bytes(n.bit_length() // 8 + 1, "big"))


REVOKED_AT = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(\.\d{1,9})? \+0000 UTC$")


class PebbleUserCase(unittest.TestCase):
    """A mock DNS per class; daemons started per class (CLASS_ENV not None) or per test."""

    SAMPLE = SAMPLE
    CLASS_ENV = None
    CLASS_ARGS = ()
    RESPONDER = False

    @classmethod
    def setUpClass(cls):
        reason = skip_reason()
        if reason:
            raise unittest.SkipTest(reason)
        cls.tmp = tempfile.mkdtemp(prefix="cairn-dropin-")
        cls.dns = cls.daemon = cls.responder = None
        try:
            cls.dns = L.MockDNS(cls.tmp).start()
            if cls.RESPONDER:
                cls.responder = L.Http01Responder(HTTP01_PORT).start()
            if cls.CLASS_ENV is not None:
                cls.daemon = cls.new_daemon(cls.CLASS_ENV, args=cls.CLASS_ARGS).start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if getattr(cls, "daemon", None):
                cls.daemon.cleanup()
        finally:
            if getattr(cls, "responder", None):
                cls.responder.stop()
            if getattr(cls, "dns", None):
                cls.dns.stop()
            if os.environ.get("CAIRN_KEEP_TMP"):
                print("kept", cls.tmp)
            else:
                shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def new_daemon(cls, env=None, sample=None, args=(), dash="-", workdir=None):
        sample = sample or cls.SAMPLE
        wd = workdir or pebble_workdir(cls.tmp, sample)
        return PebbleUser(cls.dns.port, wd, sample, env, args, dash)

    def daemon_with(self, env=None, **kw):
        """A daemon for this test only, stopped (and checked for a clean exit) afterwards."""
        d = self.new_daemon(env, **kw)
        self.addCleanup(d.cleanup)
        d.start()
        return d

    def client(self, daemon=None, register=True):
        c = L.AcmeClient(daemon or self.daemon)
        if register:
            c.register()
        return c

    def mgmt(self, daemon, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        return L.http_request(daemon.mgmt_base + path, "POST" if data else "GET", data,
                              {"Content-Type": "application/json"} if data else None,
                              ctx=daemon.ssl_context())

    def assert_problem(self, resp, status, ptype):
        self.assertEqual(resp.status, status, resp)
        self.assertEqual(resp.content_type, L.PROBLEM, resp)
        self.assertEqual(resp.problem_type, L.ERR + ptype, resp)

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        d = getattr(self, "daemon", None)
        if result and len(result.failures) + len(result.errors) > before and d:
            print("\n--- daemon log tail (%s) ---\n%s" % (self.id(), d.log_tail(20)))
        return out


# ---------------------------------------------------------------------------------------------
# the sample config as-is, real http-01 validation on port 5002


class TestSampleConfig(PebbleUserCase):
    CLASS_ENV = {}
    RESPONDER = True

    def test_startup_lines_and_wildcard_listen_address(self):
        d = self.daemon
        self.assertIsNotNone(d.line("Listening on: 0.0.0.0:14000"), d.log_tail())
        root_line = d.line("Root CA certificate available at: ")
        self.assertIsNotNone(root_line, d.log_tail())
        url = root_line.split(": ", 1)[1].strip()
        self.assertRegex(url, r"^https://[^/]+:15000/roots/0$")
        self.assertNotIn("0.0.0.0", url, "a wildcard address is replaced by a usable host")
        got = L.http_request(url, ctx=d.ssl_context())
        self.assertEqual(got.status, 200)
        self.assertEqual(got.body.decode(), d.root_pem(0))
        trust = d.line("Trust this PEM for issued certificates (HTTPS uses %s): " % CERT)
        self.assertIsNotNone(trust, "the configured certificate serves HTTPS: " + d.log_tail())
        dir_line = d.line("ACME directory available at: ")
        self.assertRegex(dir_line or "", r"https://[^/]+:14000/dir$")
        # 0.0.0.0 is honoured: another loopback address reaches both listeners
        for port in (ACME_PORT, MGMT_PORT):
            with socket.create_connection(("127.0.0.2", port), 5):
                pass

    def test_directory_at_dir(self):
        c = self.client(register=False)
        resp = c.request(self.daemon.base + "/dir")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.content_type, "application/json")
        directory = resp.json()
        for name in ("newNonce", "newAccount", "newOrder", "revokeCert", "keyChange",
                     "renewalInfo"):
            self.assertTrue(directory[name].startswith("https://127.0.0.1:14000/"), name)
        self.assertFalse(directory["meta"]["externalAccountRequired"])
        self.assertEqual(c.request(self.daemon.base + "/directory").json(), directory)

    def test_issuance_with_real_http01(self):
        c = self.client()
        seen = len(self.responder.requests)
        got = c.issue(["dropin.example.com", "www.dropin.example.com"], self.responder)
        self.assertGreater(len(self.responder.requests), seen, "the VA fetched the tokens")
        ok, out = L.openssl_verify(self.daemon.root_pem(0), got["pem"], self.tmp)
        self.assertTrue(ok, out)
        leaf = cert_of(got["pem"])
        sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        self.assertEqual(sorted(sans.get_values_for_type(x509.DNSName)),
                         ["dropin.example.com", "www.dropin.example.com"])

    def test_management_certificates_and_keys(self):
        d = self.daemon
        got = self.client().issue(["mgmt.example.com"], self.responder)
        leaf = cert_of(got["pem"])
        certs = {}
        for path in ("/roots/0", "/intermediates/0"):
            resp = d.mgmt_get(path)
            self.assertEqual(resp.status, 200, path)
            self.assertEqual(resp.header("Content-Type"), PEM_CHAIN, path)
            self.assertEqual(len(L.split_pem_chain(resp.body)), 1, path)
            self.assertEqual(resp.links("alternate"), [], "no alternate roots configured")
            certs[path] = cert_of(resp.body.decode())
        root, inter = certs["/roots/0"], certs["/intermediates/0"]
        self.assertEqual(root.subject, root.issuer)
        self.assertEqual(inter.issuer, root.subject)
        self.assertEqual(leaf.issuer, inter.subject)
        self.assertEqual(L.split_pem_chain(got["pem"])[1],
                         L.split_pem_chain(d.mgmt_get("/intermediates/0").body)[0])
        for path, cert in (("/root-keys/0", root), ("/intermediate-keys/0", inter)):
            resp = d.mgmt_get(path)
            self.assertEqual(resp.status, 200, path)
            self.assertEqual(resp.header("Content-Type"), PEM_KEY, path)
            self.assertTrue(resp.body.startswith(b"-----BEGIN EC PRIVATE KEY-----\n"), path)
            key = serialization.load_pem_private_key(resp.body, None)
            self.assertEqual(spki(key), spki(cert), path)
        for path in ("/roots/1", "/intermediates/1", "/root-keys/1", "/intermediate-keys/1",
                     "/roots/x", "/roots/-1"):
            resp = d.mgmt_get(path)
            self.assertEqual((resp.status, resp.body), (404, b""), path)

    def test_cert_status_by_serial(self):
        d = self.daemon
        c = self.client()
        got = c.issue(["status.example.com"], self.responder)
        leaf = cert_of(got["pem"])
        hexserial = "%x" % leaf.serial_number
        resp = d.mgmt_get("/cert-status-by-serial/" + hexserial)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("Content-Type"), "application/json; charset=utf-8")
        doc = resp.json()
        self.assertEqual(doc["Status"], "Valid")
        self.assertEqual(doc["Serial"], hexserial)
        self.assertEqual(doc["Certificate"], L.split_pem_chain(got["pem"])[0] + "\n")
        self.assertNotIn("Reason", doc)
        self.assertNotIn("RevokedAt", doc)
        for alias in (hexserial.upper(), "00" + hexserial):
            self.assertEqual(d.mgmt_get("/cert-status-by-serial/" + alias).json(), doc, alias)

        before = L.utcnow()
        self.assertEqual(c.revoke(got["pem"], reason=4).status, 200)
        doc = d.mgmt_get("/cert-status-by-serial/" + hexserial).json()
        self.assertEqual(doc["Status"], "Revoked")
        self.assertEqual(doc["Reason"], 4)
        m = REVOKED_AT.match(doc["RevokedAt"])
        self.assertIsNotNone(m, doc["RevokedAt"])
        if m.group(2):
            self.assertFalse(m.group(2).endswith("0"), "trailing zeros dropped")
        when = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(
            tzinfo=datetime.timezone.utc)
        self.assertLess(abs((when - before).total_seconds()), 300, doc["RevokedAt"])

        # revoked without a reason: Reason omitted
        other = c.issue(["status2.example.com"], self.responder)
        self.assertEqual(c.revoke(other["pem"]).status, 200)
        doc2 = d.mgmt_get("/cert-status-by-serial/%x" % cert_of(other["pem"]).serial_number)
        self.assertEqual(doc2.json()["Status"], "Revoked")
        self.assertNotIn("Reason", doc2.json())

        for bad, status in (("zz", 400), ("0x" + hexserial, 400), ("abcdef0123", 404)):
            resp = d.mgmt_get("/cert-status-by-serial/" + bad)
            self.assertEqual((resp.status, resp.body), (status, b""), bad)

    def test_set_renewal_info(self):
        d = self.daemon
        c = self.client()
        got = c.issue(["ari.example.com"], self.responder)
        leaf_pem = L.split_pem_chain(got["pem"])[0]
        text = '{"suggestedWindow": {"start": "2030-01-01T00:00:00Z", ' \
               '"end": "2030-01-02T00:00:00Z"}}'
        resp = self.mgmt(d, "/set-renewal-info/", {"Certificate": leaf_pem, "ARIResponse": text})
        self.assertEqual((resp.status, resp.body), (200, b""), resp)
        ari = c.request(c.url("renewalInfo") + "/" + ari_cert_id(cert_of(got["pem"])))
        self.assertEqual(ari.status, 200)
        self.assertEqual(ari.body.decode(), text)
        self.assertEqual(ari.header("Retry-After"), "21600")
        resp = self.mgmt(d, "/set-renewal-info/", {"Certificate": "nope", "ARIResponse": "x"})
        self.assert_problem(resp, 400, "malformed")

    def test_nonce_reject_unset_means_none(self):
        c = self.client()
        for i in range(50):
            resp = c.post_as_get(c.kid)
            self.assertEqual(resp.status, 200, (i, resp))


# ---------------------------------------------------------------------------------------------
# the EAB sample config as-is


class TestEabSampleConfig(PebbleUserCase):
    SAMPLE = SAMPLE_EAB
    CLASS_ENV = ALWAYS

    @classmethod
    def mac_keys(cls):
        with open(os.path.join(cls.daemon.workdir, SAMPLE_EAB)) as f:
            keys = json.load(f)["pebble"]["externalAccountMACKeys"]
        return {kid: L.b64u_decode(k) for kid, k in keys.items()}

    def test_binding_required_and_checked(self):
        from test_protocol_features import eab_binding
        c = self.client(register=False)
        self.assertTrue(c.directory["meta"]["externalAccountRequired"])
        self.assert_problem(c.new_account(), 403, "externalAccountRequired")
        keys = self.mac_keys()
        self.assertEqual(sorted(keys), ["kid-1", "kid-2"])
        url = c.url("newAccount")
        bad = eab_binding("kid-1", keys["kid-2"], c.key.jwk(), url)
        self.assert_problem(c.new_account(payload={"termsOfServiceAgreed": True,
                                                   "externalAccountBinding": bad}),
                            403, "unauthorized")
        for kid in ("kid-1", "kid-2"):
            c = self.client(register=False)
            binding = eab_binding(kid, keys[kid], c.key.jwk(), c.url("newAccount"))
            resp = c.new_account(payload={"termsOfServiceAgreed": True,
                                          "externalAccountBinding": binding})
            self.assertEqual(resp.status, 201, (kid, resp))
            c.kid = resp.location
            got = c.issue(["eab-%s.example.com" % kid])
            ok, out = L.openssl_verify(self.daemon.root_pem(0), got["pem"], self.tmp)
            self.assertTrue(ok, out)


# ---------------------------------------------------------------------------------------------
# each PEBBLE_* variable's effect, each with the sample config as-is


class TestPebbleEnvironment(PebbleUserCase):

    def start_challenge(self, d, name):
        c = self.client(d)
        _, order = c.order([name])
        az_url = order["authorizations"][0]
        chall = next(x for x in c.post_as_get(az_url).json()["challenges"]
                     if x["type"] == "http-01")
        return c, az_url, chall["url"], c.post(chall["url"], {})

    def test_va_always_valid(self):
        d = self.daemon_with(dict(ALWAYS))
        self.assertFalse(port_busy(HTTP01_PORT), "nothing serves http-01 on 5002")
        got = self.client(d).issue(["always.example.com"])
        ok, out = L.openssl_verify(d.root_pem(0), got["pem"], self.tmp)
        self.assertTrue(ok, out)

    def test_without_always_valid_validation_is_real(self):
        d = self.daemon_with({})
        c, az_url, _, resp = self.start_challenge(d, "real.example.com")
        self.assertEqual(resp.status, 200, resp)
        az = c.poll(az_url, timeout=20).json()
        self.assertEqual(az["status"], "invalid", "nothing serves 5002: " + json.dumps(az))
        chall = next(x for x in az["challenges"] if x["type"] == "http-01")
        self.assertEqual(chall["error"]["type"], L.ERR + "connection", chall)

    def test_va_sleeptime_keeps_challenge_processing(self):
        d = self.daemon_with(dict(ALWAYS, PEBBLE_VA_SLEEPTIME="3"))
        c, az_url, ch_url, resp = self.start_challenge(d, "sleepy.example.com")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["status"], "processing")
        self.assertTrue(resp.header("Retry-After"), resp)
        # right after the POST the wait (at least a second) has not passed
        chall = c.post_as_get(ch_url)
        self.assertEqual(chall.json()["status"], "processing", chall)
        az = c.post_as_get(az_url)
        self.assertEqual(az.json()["status"], "pending", az)
        self.assertTrue(az.header("Retry-After"), "authz with a processing challenge: %r" % az)
        started = time.monotonic()
        final = c.poll(az_url, timeout=20).json()
        self.assertEqual(final["status"], "valid", final)
        print("\nPEBBLE_VA_SLEEPTIME=3: valid %.1f s after the first read"
              % (time.monotonic() - started))

    def test_va_nosleep_beats_sleeptime(self):
        d = self.daemon_with(dict(ALWAYS, PEBBLE_VA_SLEEPTIME="3", PEBBLE_VA_NOSLEEP="1"))
        started = time.monotonic()
        c, az_url, _, resp = self.start_challenge(d, "awake.example.com")
        self.assertEqual(resp.status, 200, resp)
        final = c.poll(az_url, timeout=20).json()
        self.assertEqual(final["status"], "valid", final)
        print("\nPEBBLE_VA_NOSLEEP=1: valid %.2f s after the POST" % (time.monotonic() - started))

    def test_nonce_reject_100_refuses_every_post(self):
        d = self.daemon_with({"PEBBLE_WFE_NONCEREJECT": "100"})
        c = self.client(d, register=False)
        for i in range(100):
            if i % 2:
                resp = c.new_account()
            else:
                resp = c.post(c.url("revokeCert"), {"certificate": "AAAA"}, use_jwk=True)
            self.assert_problem(resp, 400, "badNonce")
            self.assertTrue(resp.nonce_fresh, "every badNonce carries a fresh nonce")

    def test_nonce_reject_0_refuses_none(self):
        d = self.daemon_with({"PEBBLE_WFE_NONCEREJECT": "0"})
        c = self.client(d, register=False)
        for i in range(100):
            resp = c.new_account()
            self.assertIn(resp.status, (200, 201), (i, resp))

    def orders_after_valid_authz(self, reuse):
        """Three times: an order for the same name once the previous authz is valid."""
        d = self.daemon_with(dict(ALWAYS, PEBBLE_AUTHZREUSE=reuse))
        c = self.client(d)
        _, first = c.order(["reuse.example.com"])
        c.authorize(first)
        out = []
        for _ in range(3):
            _, again = c.order(["reuse.example.com"])
            out.append(again)
            c.authorize(again)  # a no-op when the authz is the valid one
        return c, first, out

    def test_authz_reuse_100_reuses_valid_authz(self):
        c, first, later = self.orders_after_valid_authz("100")
        for order in later:
            self.assertEqual(order["authorizations"], first["authorizations"])
            self.assertEqual(order["status"], "ready")
        az = c.post_as_get(first["authorizations"][0]).json()
        self.assertEqual(az["status"], "valid")

    def test_authz_reuse_0_makes_fresh_authz(self):
        _, first, later = self.orders_after_valid_authz("0")
        seen = set(first["authorizations"])
        for order in later:
            self.assertEqual(order["status"], "pending")
            (az_url,) = order["authorizations"]
            self.assertNotIn(az_url, seen, "a valid authz is never reused at 0 %")
            seen.add(az_url)

    def test_orders_per_page_1(self):
        d = self.daemon_with(dict(ALWAYS, PEBBLE_WFE_ORDERS_PER_PAGE="1"))
        c = self.client(d)
        made = [c.order(["page%d.example.com" % i])[0] for i in range(3)]
        url = c.post_as_get(c.kid).json()["orders"]
        listed = []
        for _ in range(10):
            page = c.post_as_get(url)
            self.assertEqual(page.status, 200, page)
            self.assertEqual(len(page.json()["orders"]), 1, page)
            listed += page.json()["orders"]
            nxt = page.links("next")
            if not nxt:
                break
            url = nxt[0]
        self.assertEqual(listed, made)

    def test_chain_length_2(self):
        d = self.daemon_with(dict(ALWAYS, PEBBLE_CHAIN_LENGTH="2"))
        got = self.client(d).issue(["chain2.example.com"])
        blocks = [x509.load_pem_x509_certificate(b.encode())
                  for b in L.split_pem_chain(got["pem"])]
        self.assertEqual(len(blocks), 3, "leaf + 2 intermediates, no root")
        root = cert_of(d.root_pem(0))
        self.assertEqual(blocks[0].issuer, blocks[1].subject)
        self.assertEqual(blocks[1].issuer, blocks[2].subject)
        self.assertEqual(blocks[2].issuer, root.subject)
        self.assertNotEqual(blocks[1].subject, blocks[2].subject)
        ok, out = L.openssl_verify(d.root_pem(0), got["pem"], self.tmp)
        self.assertTrue(ok, out)
        self.assertEqual(cert_of(d.mgmt_get("/intermediates/0").body.decode()), blocks[1])

    def test_chain_length_0_is_a_clear_startup_error(self):
        wd = pebble_workdir(self.tmp, SAMPLE)
        d = PebbleUser(self.dns.port, wd)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PEBBLE_")}
        env["PEBBLE_CHAIN_LENGTH"] = "0"
        res = subprocess.run(d.command(), cwd=wd, env=env, capture_output=True, text=True,
                             timeout=30, stdin=subprocess.DEVNULL)
        out = res.stdout + res.stderr
        self.assertGreater(res.returncode, 0, "an error exit, not a signal: %r" % out)
        self.assertIn("PEBBLE_CHAIN_LENGTH", res.stderr)
        self.assertNotIn("Listening on:", out)
        for crash in ("Sanitizer", "runtime error", "panic", "Segmentation", "Aborted"):
            self.assertNotIn(crash, out)

    def test_alternate_roots_2(self):
        d = self.daemon_with(dict(ALWAYS, PEBBLE_ALTERNATE_ROOTS="2"))
        c = self.client(d)
        got = c.issue(["alt.example.com"])
        self.assertEqual(sorted(got["cert_resp"].links("alternate")),
                         [got["cert_url"] + "/1", got["cert_url"] + "/2"])
        roots = [d.root_pem(n) for n in (0, 1, 2)]
        self.assertEqual(len(set(roots)), 3, "/roots/0, /roots/1 and /roots/2 differ")
        self.assertEqual(sorted(u.rsplit("/", 2)[-2:][1] for u in
                                d.mgmt_get("/roots/0").links("alternate")), ["1", "2"])
        for n in (1, 2):
            alt = c.post_as_get(got["cert_url"] + "/%d" % n)
            self.assertEqual(alt.status, 200, alt)
            ok, out = L.openssl_verify(roots[n], alt.body.decode(), self.tmp)
            self.assertTrue(ok, out)
            ok, _ = L.openssl_verify(roots[0], alt.body.decode(), self.tmp)
            self.assertFalse(ok, "chain %d belongs to root %d only" % (n, n))
        self.assertEqual(d.mgmt_get("/roots/3").status, 404)


# ---------------------------------------------------------------------------------------------
# keyChange, then the old key is refused (PROTOCOL.md §1 keyChange)


class TestKeyChange(PebbleUserCase):
    CLASS_ENV = ALWAYS

    def test_old_key_refused_new_key_works(self):
        c = self.client()
        old_key, kid = c.key, c.kid
        order_url, order = c.order(["rollover.example.com"])
        new_key = L.Key("ES256")  # same type: the old key's signature is what fails
        url, inner = c.key_change_body(new_key)
        resp = c.post(url, inner)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["status"], "valid")

        # the old key finds nothing: by jwk accountDoesNotExist, by kid malformed
        probe = L.AcmeClient(self.daemon, key=old_key)
        self.assert_problem(probe.new_account(only_existing=True), 400, "accountDoesNotExist")
        self.assert_problem(c.post_as_get(kid, key=old_key), 400, "malformed")
        self.assert_problem(c.post(c.url("newOrder"), {"identifiers": c.idents(["o.example"])},
                                   key=old_key), 400, "malformed")

        # the new key is the account's: lookup, kid requests, and the pending order
        c.key = new_key
        again = L.AcmeClient(self.daemon, key=new_key).new_account(only_existing=True)
        self.assertEqual((again.status, again.location), (200, kid), again)
        self.assertEqual(c.post_as_get(kid).status, 200)
        c.authorize(order)  # key authorizations now use the new key's thumbprint
        order = c.poll(order_url, ("ready", "invalid")).json()
        self.assertEqual(order["status"], "ready", order)
        csr, _ = L.make_csr(["rollover.example.com"])
        self.assertEqual(c.finalize(order, csr).status, 200)
        self.assertEqual(c.poll(order_url).json()["status"], "valid")


# ---------------------------------------------------------------------------------------------
# a restart with --state-dir keeps everything


class TestRestartWithStateDir(PebbleUserCase):
    SAMPLE = SAMPLE_EAB
    CLASS_ENV = ALWAYS
    CLASS_ARGS = ("--state-dir", "state")
    DB_KEY = b"lab-key-kept-in-the-state-dir-db"

    def eab_cli(self, *args):
        d = self.daemon
        return subprocess.run([os.environ["CAIRN_BIN"], "eab"] + list(args) +
                              ["-config", SAMPLE_EAB, "--state-dir", "state"], cwd=d.workdir,
                              capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)

    def bound_client(self, kid, key):
        from test_protocol_features import eab_binding
        c = self.client(register=False)
        binding = eab_binding(kid, key, c.key.jwk(), c.url("newAccount"))
        resp = c.new_account(payload={"termsOfServiceAgreed": True,
                                      "externalAccountBinding": binding})
        self.assertEqual(resp.status, 201, resp)
        c.kid = resp.location
        return c

    def crl_serials(self):
        resp = L.http_request(self.daemon.base + "/crl/0", ctx=self.daemon.ssl_context())
        self.assertEqual(resp.status, 200)
        return {r.serial_number for r in x509.load_der_x509_crl(resp.body)}

    def test_everything_survives_a_restart(self):
        d = self.daemon
        add = self.eab_cli("add", "kid-lab", "--key", L.b64u(self.DB_KEY))
        self.assertEqual(add.returncode, 0, add.stderr)
        c = self.bound_client("kid-lab", self.DB_KEY)
        kept = c.issue(["kept.example.com"])
        gone = c.issue(["gone.example.com"])
        self.assertEqual(c.revoke(gone["pem"], reason=4).status, 200)
        gone_serial = "%x" % cert_of(gone["pem"]).serial_number
        before = {
            "root": d.root_pem(0),
            "inter": d.mgmt_get("/intermediates/0").body,
            "status": d.mgmt_get("/cert-status-by-serial/" + gone_serial).json(),
            "account": c.post_as_get(c.kid).json(),
            "order": c.post_as_get(kept["order_url"]).json(),
        }
        self.assertIn(int(gone_serial, 16), self.crl_serials())

        d.restart()
        c.nonces.clear()  # nonces die with the process

        self.assertEqual(d.root_pem(0), before["root"], "same CA")
        self.assertEqual(d.mgmt_get("/intermediates/0").body, before["inter"])
        self.assertEqual(c.post_as_get(c.kid).json(), before["account"])
        probe = L.AcmeClient(d, key=c.key).new_account(only_existing=True)
        self.assertEqual((probe.status, probe.location), (200, c.kid))
        self.assertEqual(c.post_as_get(kept["order_url"]).json(), before["order"])
        self.assertEqual(c.post_as_get(kept["cert_url"]).body.decode(), kept["pem"])
        self.assertEqual(d.mgmt_get("/cert-status-by-serial/" + gone_serial).json(),
                         before["status"])
        self.assertEqual(before["status"]["Status"], "Revoked")
        self.assertIn(int(gone_serial, 16), self.crl_serials(), "the CRL still lists it")
        self.assert_problem(c.revoke(gone["pem"]), 400, "alreadyRevoked")
        # the account bound before the restart still issues, under the same root
        again = c.issue(["after.example.com"])
        ok, out = L.openssl_verify(before["root"], again["pem"], self.tmp)
        self.assertTrue(ok, out)
        # the EAB key from `cairn eab add` survived: it binds a new account
        self.bound_client("kid-lab", self.DB_KEY)
        listed = json.loads(self.eab_cli("list", "--json").stdout)
        self.assertIn(("kid-lab", "db"), [(e["kid"], e["source"]) for e in listed])
        self.assertTrue(os.path.exists(os.path.join(d.workdir, "state", "cairn.db")))


# ---------------------------------------------------------------------------------------------
# PROTOCOL.md §7 command line and config surface


class TestPebbleCommandLine(PebbleUserCase):
    RESPONDER = True

    def no_user_agent_get(self, d, path):
        import http.client
        conn = http.client.HTTPSConnection("127.0.0.1", d.port, context=d.ssl_context(),
                                           timeout=L.HTTP_TIMEOUT)
        try:
            conn.putrequest("GET", path, skip_accept_encoding=True)
            conn.endheaders()
            resp = conn.getresponse()
            return L.Response(resp.status, resp.headers, resp.read())
        finally:
            conn.close()

    def test_flags_with_one_or_two_dashes_and_strict(self):
        for dash in ("-", "--"):
            with self.subTest(dash=dash):
                d = self.daemon_with({}, args=[dash + "strict"], dash=dash)
                # -dnsserver: the name resolves through the mock DNS only
                c = self.client(d)
                got = c.issue(["flags%d.example.com" % len(dash)], self.responder)
                self.assertTrue(got["pem"])
                # -strict: a User-Agent is required, a challenge payload is exactly {}
                self.assert_problem(self.no_user_agent_get(d, "/dir"), 400, "malformed")
                _, order = c.order(["strict%d.example.com" % len(dash)])
                chall = c.post_as_get(order["authorizations"][0]).json()["challenges"][0]
                resp = c.post(chall["url"], {"keyAuthorization": "ignored"})
                self.assert_problem(resp, 400, "malformed")
                self.assertEqual(c.post(chall["url"], {}).status, 200)
                d.cleanup()
        d = self.daemon_with({})
        self.assertEqual(self.no_user_agent_get(d, "/dir").status, 200, "no -strict")
        c = self.client(d)
        _, order = c.order(["lenient.example.com"])
        chall = c.post_as_get(order["authorizations"][0]).json()["challenges"][0]
        self.assertEqual(c.post(chall["url"], {"keyAuthorization": "ignored"}).status, 200)

    def test_version_with_one_or_two_dashes(self):
        for flag in ("-version", "--version"):
            res = subprocess.run([os.environ["CAIRN_BIN"], flag], capture_output=True,
                                 text=True, timeout=30, stdin=subprocess.DEVNULL)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertRegex(res.stdout, r"^cairn \d+\.\d+")
            self.assertNotIn("Listening on:", res.stdout)

    def recased_config(self, mgmt_value=None, **overrides):
        """The sample config with every key in another case, written beside it."""
        wd = pebble_workdir(self.tmp, SAMPLE)
        with open(os.path.join(wd, SAMPLE)) as f:
            conf = json.load(f)["pebble"]
        conf.update(overrides)
        recased = {}
        for i, (k, v) in enumerate(conf.items()):
            recased[k.upper() if i % 2 else k.lower()] = v
        with open(os.path.join(wd, "recased.json"), "w") as f:
            json.dump({"Pebble": recased}, f)
        return wd

    def test_config_keys_in_any_case(self):
        acme, mgmt, http01 = L.free_port(), L.free_port(), L.free_port()
        wd = self.recased_config(listenAddress="127.0.0.1:%d" % acme,
                                 managementListenAddress="127.0.0.1:%d" % mgmt,
                                 httpPort=http01)
        d = PebbleUser(self.dns.port, wd, "recased.json")
        d.port, d.mgmt_port, d.http_port = acme, mgmt, http01
        self.addCleanup(d.cleanup)
        d.start()
        self.assertIsNotNone(d.line("Listening on: 127.0.0.1:%d" % acme), d.log_tail())
        self.assertEqual(d.mgmt_get("/roots/0").status, 200)
        responder = L.Http01Responder(http01).start()
        self.addCleanup(responder.stop)
        got = self.client(d).issue(["recased.example.com"], responder)
        self.assertTrue(responder.requests, "httpPort read from HTTPPORT/httpport")
        self.assertTrue(got["pem"])

    def test_management_listener_disabled(self):
        for value in ("", None):
            with self.subTest(value=value):
                wd = pebble_workdir(self.tmp, SAMPLE)
                with open(os.path.join(wd, SAMPLE)) as f:
                    conf = json.load(f)
                conf["pebble"]["managementListenAddress"] = value
                with open(os.path.join(wd, "nomgmt.json"), "w") as f:
                    json.dump(conf, f)
                d = PebbleUser(self.dns.port, wd, "nomgmt.json")
                d.start()
                try:
                    self.assertIsNone(d.line("Root CA certificate available at:"))
                    self.assertEqual(L.AcmeClient(d).directory["meta"]
                                     ["externalAccountRequired"], False)
                    with self.assertRaises(OSError):
                        socket.create_connection(("127.0.0.1", MGMT_PORT), 2).close()
                finally:
                    d.cleanup()


if __name__ == "__main__":
    unittest.main()
