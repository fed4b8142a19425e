"""VA features through the real daemon: tls-alpn-01, CAA (turned on in test mode by config),
caaIdentities in the directory, and a challenge that survives a SIGKILL while processing.

The mock DNS is test/tools/mockdns.py (it serves CAA records); every name has A 127.0.0.1.
The tls-alpn-01 responder is Python's ssl module with a certificate built by
python3-cryptography: self-signed, one SAN, the critical id-pe-acmeIdentifier extension.
"""

import datetime
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cairnlib import (AcmeClient, Daemon, ERR, Http01Responder, free_tcp_udp_port,  # noqa: E402
                      key_authorization, make_csr, needs_cairn_bin, stop_pid)
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

ACME_IDENTIFIER = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.31")
CA_ID = "cairn.test"
SOURCE_DIR = os.environ.get("CAIRN_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(
                                os.path.abspath(__file__)))))


class MockDNSPy:
    """test/tools/mockdns.py as a child process, stopped by its PID."""

    def __init__(self, args):
        self.args = list(args)
        self.proc = None
        self.port = None

    def start(self):
        script = os.path.join(SOURCE_DIR, "test", "tools", "mockdns.py")
        self.port = free_tcp_udp_port()
        self.proc = subprocess.Popen(["/usr/bin/python3", script, "--port", str(self.port)]
                                     + self.args, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        if "listening" not in line:
            self.stop()
            raise RuntimeError("mockdns did not start: %r" % line)
        return self

    def stop(self):
        stop_pid(self.proc)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None


class CairnDaemon(Daemon):
    """The harness daemon plus a "cairn" config section (cairn's own keys)."""

    def __init__(self, dns_port, cairn_conf, **kw):
        super().__init__(dns_port, **kw)
        self.cairn_conf = dict(cairn_conf)

    def _config(self):
        path = super()._config()
        with open(path) as f:
            conf = json.load(f)
        conf["cairn"] = self.cairn_conf
        with open(path, "w") as f:
            json.dump(conf, f, indent=2)
        return path


def tls_alpn_cert(workdir, name, key_authz, with_ext=True):
    """Writes a self-signed tls-alpn-01 certificate and key; returns their paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acme")])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(hours=1))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False))
    if with_ext:
        digest = hashlib.sha256(key_authz.encode()).digest()
        der = b"\x04\x20" + digest  # DER OCTET STRING of the 32-byte digest
        builder = builder.add_extension(x509.UnrecognizedExtension(ACME_IDENTIFIER, der),
                                        critical=True)
    cert = builder.sign(key, hashes.SHA256())
    base = os.path.join(workdir, "alpn-%s-%d" % (name, int(with_ext)))
    with open(base + ".crt", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(base + ".key", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return base + ".crt", base + ".key"


class TlsAlpnResponder:
    """TLS on 127.0.0.1:port offering acme-tls/1; the certificate is chosen by SNI from
    self.certs (name -> (cert path, key path))."""

    def __init__(self, port):
        self.port = port
        self.certs = {}
        self.sock = None
        self.thread = None
        self.seen_sni = []

    def _ctx(self, name):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.set_alpn_protocols(["acme-tls/1"])
        if name in self.certs:
            ctx.load_cert_chain(*self.certs[name])
        return ctx

    def _sni(self, sslobj, name, _ctx):
        self.seen_sni.append(name)
        if name not in self.certs:
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        sslobj.context = self._ctx(name)
        return None

    def _serve(self, conn):
        base = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        base.set_alpn_protocols(["acme-tls/1"])
        base.sni_callback = self._sni
        conn.settimeout(5)
        try:
            with base.wrap_socket(conn, server_side=True) as tls:
                while tls.recv(256):
                    pass
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.sock:
            self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
            self.sock = None
        if self.thread:
            self.thread.join(5)


class VaMoreTest(unittest.TestCase):
    """One daemon (test mode, CAA on by config) for tls-alpn-01 and CAA cases."""

    @classmethod
    def setUpClass(cls):
        reason = needs_cairn_bin()
        if reason:
            raise unittest.SkipTest(reason)
        cls.workdir = tempfile.mkdtemp(prefix="cairn-va-")
        cls.dns = cls.daemon = cls.http = cls.tls = None
        try:
            cls.dns = MockDNSPy([
                "--caa", "forbidden.test=0,issue,otherca.test",
                "--caa", "allowed.test=0,issue,%s" % CA_ID,
                "--caa", "bound.test=0,issue,%s; accounturi=https://elsewhere/acme/acct/x"
                % CA_ID,
                "--caa-servfail", "sf.caa.test",
            ]).start()
            cls.daemon = CairnDaemon(cls.dns.port, {"vaCAA": True, "caaIdentities": [CA_ID]},
                                     workdir=os.path.join(cls.workdir, "d"))
            os.makedirs(cls.daemon.workdir, exist_ok=True)
            cls.http = Http01Responder(cls.daemon.http_port).start()
            cls.tls = TlsAlpnResponder(cls.daemon.tls_port).start()
            cls.daemon.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.http:
                cls.http.stop()
            if cls.tls:
                cls.tls.stop()
            if cls.daemon:
                cls.daemon.cleanup()
        finally:
            if cls.dns:
                cls.dns.stop()
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def client(self):
        c = AcmeClient(self.daemon)
        c.register()
        return c

    def attempt(self, c, name, chall_type, prepare):
        """Starts chall_type for name after prepare(chall, key_authz); returns the final authz
        and the challenge object."""
        _, order = c.order([name])
        az_url = order["authorizations"][0]
        az = c.post_as_get(az_url).json()
        chall = next(ch for ch in az["challenges"] if ch["type"] == chall_type)
        prepare(chall, key_authorization(chall["token"], c.key))
        resp = c.post(chall["url"], {})
        self.assertEqual(resp.status, 200, resp)
        final = c.poll(az_url).json()
        done = next(ch for ch in final["challenges"] if ch["type"] == chall_type)
        return final, done

    def http01(self, c, name):
        def prepare(chall, ka):
            self.http.tokens[chall["token"]] = ka
        return self.attempt(c, name, "http-01", prepare)

    def test_directory_caa_identities(self):
        d = self.client().directory
        self.assertEqual(d["meta"]["caaIdentities"], [CA_ID])

    def test_tls_alpn_01_valid(self):
        c = self.client()

        def prepare(chall, ka):
            self.tls.certs["alpn-ok.test"] = tls_alpn_cert(self.workdir, "alpn-ok.test", ka)
        final, chall = self.attempt(c, "alpn-ok.test", "tls-alpn-01", prepare)
        self.assertEqual(final["status"], "valid", final)
        self.assertEqual(chall["status"], "valid")
        self.assertIn("alpn-ok.test", self.tls.seen_sni)

    def test_tls_alpn_01_without_extension(self):
        c = self.client()

        def prepare(chall, ka):
            self.tls.certs["alpn-noext.test"] = tls_alpn_cert(self.workdir, "alpn-noext.test",
                                                              ka, with_ext=False)
        final, chall = self.attempt(c, "alpn-noext.test", "tls-alpn-01", prepare)
        self.assertEqual(final["status"], "invalid", final)
        self.assertEqual(chall["error"]["type"], ERR + "unauthorized", chall)
        self.assertIn("acmeIdentifier", chall["error"]["detail"])

    def test_caa_allows(self):
        final, _ = self.http01(self.client(), "www.allowed.test")
        self.assertEqual(final["status"], "valid", final)

    def test_caa_forbids_other_ca(self):
        final, chall = self.http01(self.client(), "forbidden.test")
        self.assertEqual(final["status"], "invalid", final)
        self.assertEqual(chall["error"]["type"], ERR + "caa", chall)
        self.assertEqual(chall["error"]["status"], 403)

    def test_caa_accounturi_mismatch(self):
        final, chall = self.http01(self.client(), "bound.test")
        self.assertEqual(final["status"], "invalid", final)
        self.assertEqual(chall["error"]["type"], ERR + "caa", chall)
        self.assertIn("accounturi", chall["error"]["detail"])

    def test_caa_servfail_fails_closed(self):
        final, chall = self.http01(self.client(), "sf.caa.test")
        self.assertEqual(final["status"], "invalid", final)
        self.assertEqual(chall["error"]["type"], ERR + "dns", chall)


class FinalizeRecheckTest(unittest.TestCase):
    """Finalize rechecks CAA when the authorization is older than caaRecheckAge (0 here, so
    always). PEBBLE_VA_ALWAYS_VALID skips the validation-time check, so the recheck is the
    one that refuses."""

    @classmethod
    def setUpClass(cls):
        reason = needs_cairn_bin()
        if reason:
            raise unittest.SkipTest(reason)
        cls.workdir = tempfile.mkdtemp(prefix="cairn-va-")
        cls.dns = cls.daemon = None
        try:
            cls.dns = MockDNSPy(["--caa", "forbidden.test=0,issue,otherca.test"]).start()
            cls.daemon = CairnDaemon(cls.dns.port, {"vaCAA": True, "caaIdentities": [CA_ID],
                                                    "caaRecheckAge": 0},
                                     env={"PEBBLE_VA_ALWAYS_VALID": "1"},
                                     workdir=os.path.join(cls.workdir, "d"))
            os.makedirs(cls.daemon.workdir, exist_ok=True)
            cls.daemon.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.daemon:
                cls.daemon.cleanup()
        finally:
            if cls.dns:
                cls.dns.stop()
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def ready_order(self, names):
        c = AcmeClient(self.daemon)
        c.register()
        order_url, order = c.order(names)
        c.authorize(order)
        order = c.poll(order_url, ("ready", "invalid")).json()
        self.assertEqual(order["status"], "ready", order)
        return c, order_url, order

    def test_recheck_refuses(self):
        c, order_url, order = self.ready_order(["ok.test", "forbidden.test"])
        csr, _ = make_csr(["ok.test", "forbidden.test"])
        resp = c.finalize(order, csr)
        self.assertEqual(resp.status, 403, resp)
        self.assertEqual(resp.problem_type, ERR + "caa")
        subs = resp.json()["subproblems"]
        self.assertEqual([s["identifier"]["value"] for s in subs], ["forbidden.test"])
        self.assertEqual(subs[0]["type"], ERR + "caa")
        self.assertEqual(c.post_as_get(order_url).json()["status"], "invalid")

    def test_recheck_allows(self):
        c, order_url, order = self.ready_order(["fine.test"])
        csr, _ = make_csr(["fine.test"])
        self.assertEqual(c.finalize(order, csr).status, 200)
        self.assertEqual(c.poll(order_url).json()["status"], "valid")


class SlowResponder(Http01Responder):
    """An http-01 responder whose first answer waits until released, so the test can kill the
    daemon while the VA is waiting (the challenge is then processing)."""

    def __init__(self, port):
        super().__init__(port)
        self.first_request = threading.Event()
        self.release = threading.Event()

    def start(self):
        super().start()
        handler = self.server.RequestHandlerClass
        inner = handler.do_GET
        owner = self

        def do_get(h):
            if not owner.first_request.is_set():
                owner.first_request.set()
                owner.release.wait(10)
                return  # no answer: the daemon is gone by now
            inner(h)
        handler.do_GET = do_get
        return self


class CrashRecoveryTest(unittest.TestCase):
    """ISSUE 4 item 4: SIGKILL with a challenge processing; the restart completes it."""

    def setUp(self):
        reason = needs_cairn_bin()
        if reason:
            raise unittest.SkipTest(reason)
        self.workdir = tempfile.mkdtemp(prefix="cairn-va-")
        self.dns = MockDNSPy([]).start()
        self.daemon = CairnDaemon(self.dns.port, {}, workdir=os.path.join(self.workdir, "d"))
        os.makedirs(self.daemon.workdir, exist_ok=True)
        self.http = SlowResponder(self.daemon.http_port).start()
        self.daemon.start()

    def tearDown(self):
        try:
            self.http.release.set()
            self.http.stop()
            self.daemon.cleanup()
        finally:
            self.dns.stop()
            shutil.rmtree(self.workdir, ignore_errors=True)

    def test_processing_challenge_survives_sigkill(self):
        c = AcmeClient(self.daemon)
        c.register()
        _, order = c.order(["crash.test"])
        az_url = order["authorizations"][0]
        az = c.post_as_get(az_url).json()
        chall = next(ch for ch in az["challenges"] if ch["type"] == "http-01")
        self.http.tokens[chall["token"]] = key_authorization(chall["token"], c.key)
        self.assertEqual(c.post(chall["url"], {}).status, 200)
        self.assertTrue(self.http.first_request.wait(15), "the VA never asked")
        self.assertEqual(c.post_as_get(chall["url"]).json()["status"], "processing")
        os.kill(self.daemon.proc.pid, signal.SIGKILL)
        self.daemon.proc.wait(10)
        self.daemon.proc = None
        self.http.release.set()
        self.daemon.start()  # same ports and state dir
        c2 = AcmeClient(self.daemon, key=c.key)
        c2.register()  # the same key finds the same account
        final = c2.poll(az_url).json()
        self.assertEqual(final["status"], "valid", final)
        self.assertEqual(len(self.http.requests), 1)  # the answered second request


if __name__ == "__main__":
    unittest.main()
