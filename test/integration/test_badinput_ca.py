"""PROTOCOL.md §8's CA-mode validation cases (V01, V03, V05, V08, V12, V16) through the real
daemon in CA mode: CA-mode defaults plus allowInsecureValidationPorts (the harness' free test
ports), a domainAllowlist covering the test names, vaAllowedTargetRanges 127.0.0.0/8, and the VA
pointed at a mock DNS (test/tools/mockdns.py's zone, served in-process so TXT records can follow
the tokens) and mock targets on loopback. CAA is on (CA mode): names without CAA records are
allowed.

Each table row is one test; each sub-case of the row is a subTest. The sub-cases of a row run in
parallel (one account each) to keep the module short; vaTimeoutMs is small.

V03 "https with only TLS 1.0/1.1" runs against an https target on the http-01 port (the
responder speaks TLS when a connection opens with a handshake), restricted to TLS 1.0-1.1 at
OpenSSL security level 0, with a control restricted to TLS 1.2. It has its own daemon whose
OPENSSL_CONF allows TLS 1.0, so only the VA's own TLS 1.2 minimum refuses the target. The test
first proves such a handshake works on this machine and is skipped with the reason otherwise.

Left out: "CAA timeout" (a dropped CAA query only ends at the VA bound; SERVFAIL covers the
fail-closed rule).
"""

import argparse
import concurrent.futures
import datetime
import hashlib
import os
import select
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import unittest
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "test", "tools"))

import cairnlib as L  # noqa: E402
import mockdns  # noqa: E402
import valib as V  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
from test_va_more import TlsAlpnResponder  # noqa: E402

VA_TIMEOUT_MS = 2000
ACME_OID = "1.3.6.1.5.5.7.1.31"
LEGACY_OID = "1.3.6.1.5.5.7.1.30.1"
# same encoded length as ACME_OID (…1.31 vs …1.32), patched into it for "extension twice"
TWIN_OID = "1.3.6.1.5.5.7.1.32"
CHALL = "/.well-known/acme-challenge/"


# ---------------------------------------------------------------------------------------------
# DNS: mockdns.py's zone and answer(), served from a thread so records can change per test


class CaaNxZone(mockdns.Zone):
    """mockdns.Zone plus names whose CAA query alone answers NXDOMAIN."""

    def __init__(self, args, caa_nxdomain=()):
        super().__init__(args)
        self.caa_nx = set(caa_nxdomain)
        self.lock = threading.Lock()

    def lookup(self, name, qtype):
        if qtype == mockdns.QTYPE_CAA and name in self.caa_nx:
            return mockdns.RCODE_NXDOMAIN, []
        with self.lock:
            return super().lookup(name, qtype)

    def set_txt(self, name, records):
        """records: a list of TXT records, each a list of strings."""
        with self.lock:
            self.txt[mockdns.norm(name)] = [[s.encode() for s in r] for r in records]


class InProcDNS:
    def __init__(self, zone):
        self.zone = zone
        self.stopping = threading.Event()
        self.udp, self.tcp, self.port = mockdns.bind_pair(0)
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _loop(self):
        while not self.stopping.is_set():
            ready, _, _ = select.select([self.udp, self.tcp], [], [], 0.2)
            for s in ready:
                try:
                    if s is self.udp:
                        msg, peer = self.udp.recvfrom(65535)
                        out = mockdns.answer(self.zone, msg, udp=True)
                        if out is not None:
                            self.udp.sendto(out, peer)
                    else:
                        conn, _ = self.tcp.accept()
                        mockdns.serve_tcp(self.zone, conn)
                except OSError:
                    continue

    def stop(self):
        self.stopping.set()
        self.thread.join(5)
        self.udp.close()
        self.tcp.close()


def zone_args(**kw):
    ns = argparse.Namespace(a=[], txt=[], txtparts=[], nxdomain=[], servfail=[], caa=[],
                            caa_servfail=[])
    for k, v in kw.items():
        setattr(ns, k, v)
    return ns


# ---------------------------------------------------------------------------------------------
# http-01 targets


class CaseResponder(V.HostileResponder):
    """HostileResponder plus the §8 behaviours, chosen by the Host's first label:

      err500     HTTP 500
      toNNNN     302 to the same name on port NNNN
      ftp, file, gopher   302 to that scheme
      sNNN       status NNN with a Location to the right answer (following it would pass)
      longpath   302 to a path longer than 2,000 bytes on the same target
      ipA-B-C-D  302 to http://A.B.C.D:port/<same path>
      privname   302 to privname-target.cairn-lab.org (resolving to 10.0.0.1)
      wk         302 to NAME.well-known (the missing-slash host; serves the right answer)
      wkmid      302 to well-known.NAME (".well-known" not at the end; the right answer)
      hopsN      N distinct redirects, then the right answer
      https...   302 to https://NAME:<this port>/ok/TOKEN (see tls_ctx)
    Everything else goes to HostileResponder (tokens, loop, chain...).

    tls_ctx: when set, a connection that opens with a TLS handshake is served over TLS with
    that server context (the https redirect targets of V03)."""

    tls_ctx = None

    def _serve(self, rfile, sock):
        ctx = self.tls_ctx
        if ctx is not None and sock.recv(1, socket.MSG_PEEK) == b"\x16":
            tls = ctx.wrap_socket(sock, server_side=True)  # SSLError (an OSError) if refused
            try:
                with tls.makefile("rb") as trf:
                    self._serve_http(trf, tls)
            finally:
                tls.close()
            return
        self._serve_http(rfile, sock)

    def _serve_http(self, rfile, sock):
        head = self._read_head(rfile)
        if not head:
            return
        parts = head[0].split(" ")
        path = parts[1] if len(parts) > 1 else "/"
        host = ""
        for h in head[1:]:
            if h.lower().startswith("host:"):
                host = h[5:].strip()
        with self.lock:
            self.requests.append((host, path))
        name = host.rsplit(":", 1)[0]
        kind = name.split(".", 1)[0]
        token = path.rsplit("/", 1)[-1]
        here = "http://%s:%d" % (name, self.port)
        if path.startswith("/ok/"):  # where the redirects below lead: the right answer
            self._token(sock, CHALL + token)
        elif kind == "err500":
            self._send(sock, "500 Internal Server Error",
                       [("Content-Length", "0"), ("Connection", "close")])
        elif kind.startswith("to") and kind[2:].isdigit():
            self._redirect(sock, "http://%s:%s/ok/%s" % (name, kind[2:], token))
        elif kind in ("ftp", "file", "gopher"):
            target = {"ftp": "ftp://%s%s" % (name, path), "file": "file:///etc/passwd",
                      "gopher": "gopher://%s:70/1" % name}[kind]
            self._redirect(sock, target)
        elif kind[0] == "s" and kind[1:].isdigit():
            self._send(sock, "%s Redirect" % kind[1:],
                       [("Location", "%s/ok/%s" % (here, token)), ("Content-Length", "0"),
                        ("Connection", "close")])
        elif kind == "longpath" and path.startswith(CHALL):
            self._redirect(sock, "%s/%s/%s" % (here, "x" * 2100, token))
        elif kind.startswith("ip") and path.startswith(CHALL):
            self._redirect(sock, "http://%s:%d/ok/%s" % (kind[2:].replace("-", "."), self.port,
                                                        token))
        elif kind.startswith("https") and path.startswith(CHALL):
            self._redirect(sock, "https://%s:%d/ok/%s" % (name, self.port, token))
        elif kind == "wk" and path.startswith(CHALL):
            self._redirect(sock, "http://%s.well-known:%d/ok/%s" % (name, self.port, token))
        elif kind == "wkmid" and path.startswith(CHALL):
            self._redirect(sock, "http://well-known.%s:%d/ok/%s" % (name, self.port, token))
        elif kind == "privname":
            self._redirect(sock, "http://privname-target.cairn-lab.org:%d%s" % (self.port, path))
        elif kind.startswith("hops"):
            self._hops(sock, int(kind[4:]), path, here, token)
        else:
            self._fallback(sock, name, path)

    def _hops(self, sock, n, path, here, token):
        done = 0 if path.startswith(CHALL) else int(path.split("/")[2])
        if done >= n:
            self._token(sock, CHALL + token)
        else:
            self._redirect(sock, "%s/hop/%d/%s" % (here, done + 1, token))

    def _fallback(self, sock, name, path):
        kind = name.split(".", 1)[0]
        if kind == "loop":
            nxt = "/b" if path.endswith("/a") else "/a"
            self._redirect(sock, "http://%s:%d/loop%s" % (name, self.port, nxt))
        elif kind == "chain":
            n = int(path.rsplit("/", 1)[-1]) + 1 if path.startswith("/chain/") else 1
            self._redirect(sock, "http://%s:%d/chain/%d" % (name, self.port, n))
        else:
            self._token(sock, path)


# ---------------------------------------------------------------------------------------------
# tls-alpn-01 certificates


def _der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _der(tag, body):
    return bytes([tag]) + _der_len(len(body)) + body


def _encode_oid(dotted):
    arcs = [int(a) for a in dotted.split(".")]
    out = bytes([40 * arcs[0] + arcs[1]])
    for a in arcs[2:]:
        chunk = [a & 0x7F]
        a >>= 7
        while a:
            chunk.insert(0, 0x80 | (a & 0x7F))
            a >>= 7
        out += bytes(chunk)
    return _der(0x06, out)


def alpn_cert(workdir, name, key_authz, variant):
    """A tls-alpn-01 certificate for name; variant picks the defect ("good" has none)."""
    key = ec.generate_private_key(ec.SECP256R1())
    signer = ec.generate_private_key(ec.SECP256R1()) if variant == "notselfsigned" else key
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acme")])
    issuer = (x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "other issuer")])
              if variant == "notselfsigned" else subject)
    now = datetime.datetime.now(datetime.timezone.utc)
    digest = hashlib.sha256(key_authz.encode()).digest()
    value = b"\x04\x20" + digest
    oid, critical = ACME_OID, True
    if variant == "noncritical":
        critical = False
    elif variant == "wrongdigest":
        value = b"\x04\x20" + hashlib.sha256(b"not the key authorization").digest()
    elif variant == "short":
        value = b"\x04\x1f" + digest[:31]
    elif variant == "bare":
        value = digest  # the 32 bytes without their OCTET STRING
    elif variant == "utf8":
        value = b"\x0c\x20" + L.b64u(digest)[:32].encode()
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(minutes=5))
         .not_valid_after(now + datetime.timedelta(hours=1))
         .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False))
    if variant in ("legacy", "legacy+good"):
        b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(LEGACY_OID), value),
                            critical=True)
    if variant != "legacy":
        b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value),
                            critical=critical)
    if variant == "twice":
        b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(TWIN_OID), value),
                            critical=True)
    cert = b.sign(signer, hashes.SHA256())
    der = cert.public_bytes(serialization.Encoding.DER)
    if variant == "twice":
        # cryptography refuses duplicate extensions: rename the twin in the TBS, re-sign
        tbs = cert.tbs_certificate_bytes
        twin, acme = _encode_oid(TWIN_OID), _encode_oid(ACME_OID)
        assert tbs.count(twin) == 1 and len(twin) == len(acme)
        tbs = tbs.replace(twin, acme)
        sig = signer.sign(tbs, ec.ECDSA(hashes.SHA256()))
        alg = _der(0x30, _encode_oid("1.2.840.10045.4.3.2"))
        der = _der(0x30, tbs + alg + _der(0x03, b"\x00" + sig))
    base = os.path.join(workdir, "alpn-%s" % name)
    with open(base + ".crt", "wb") as f:
        f.write(ssl.DER_cert_to_PEM_cert(der).encode())
    with open(base + ".key", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return base + ".crt", base + ".key"


# ---------------------------------------------------------------------------------------------


@unittest.skipIf(L.PEBBLE, "cairn CA mode")
class CaModeBase(unittest.TestCase):
    """The CA-mode daemon with its mock DNS and targets, and the helpers that drive cases."""

    @classmethod
    def daemon_env(cls):
        """Extra environment for the daemon (cls.workdir exists)."""
        return {}

    @classmethod
    def setUpClass(cls):
        reason = L.needs_cairn_bin()
        if reason:
            raise unittest.SkipTest(reason)
        cls.workdir = tempfile.mkdtemp(prefix="cairn-vcases-")
        cls.dns = cls.daemon = cls.http = cls.tls = None
        try:
            zone = CaaNxZone(zone_args(
                a=["privname-target.cairn-lab.org=10.0.0.1"],
                nxdomain=["_acme-challenge.nx.v08.cairn-lab.org"],
                caa_servfail=["sf.v16.cairn-lab.net", "psf.v16.cairn-lab.net"]),
                caa_nxdomain=["gone.v16.cairn-lab.net"])
            cls.zone = zone
            cls.dns = InProcDNS(zone).start()
            cls.daemon = L.Daemon(cls.dns.port, cls.daemon_env(),
                                  workdir=os.path.join(cls.workdir, "d"),
                                  cairn_extra={
                                      "mode": "ca", "allowInsecureValidationPorts": True,
                                      "domainAllowlist": ["cairn-lab.org", "cairn-lab.net"],
                                      "vaAllowedTargetRanges": ["127.0.0.0/8"],
                                      # private lab ranges are allowed unless denied
                                      "vaDeniedTargetRanges": ["10.0.0.0/8"],
                                      "vaTimeoutMs": VA_TIMEOUT_MS})
            cls.http = CaseResponder(cls.daemon.http_port).start()
            cls.tls = TlsAlpnResponder(cls.daemon.tls_port).start()
            cls.daemon.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            for part in (cls.http, cls.tls):
                if part:
                    part.stop()
            if cls.daemon:
                cls.daemon.cleanup()
        finally:
            if cls.dns:
                cls.dns.stop()
            shutil.rmtree(cls.workdir, ignore_errors=True)

    # -- driving

    def _one(self, name, chall_type, publish):
        c = L.AcmeClient(self.daemon)
        c.register()
        _, order = c.order([name])
        az_url = order["authorizations"][0]
        az = c.post_as_get(az_url).json()
        ch = next(x for x in az["challenges"] if x["type"] == chall_type)
        publish(ch["token"], L.key_authorization(ch["token"], c.key), c)
        resp = c.post(ch["url"], {})
        if resp.status != 200:
            raise L.AcmeError("challenge", resp)
        final = c.poll(az_url, timeout=V.END_WAIT).json()
        return final, c.post_as_get(ch["url"]).json()

    def run_cases(self, cases):
        """cases: [(label, name, chall_type, publish, expected)] with expected "valid" or a
        problem type; all run at once, then each is checked in its own subTest."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(cases)) as pool:
            futs = [pool.submit(self._one, name, ct, pub) for _, name, ct, pub, _ in cases]
            results = [f.exception() or f.result() for f in futs]
        for (label, name, _ct, _pub, expected), res in zip(cases, results):
            with self.subTest(label, name=name):
                if isinstance(res, BaseException):
                    raise res
                az, ch = res
                if expected == "valid":
                    self.assertEqual(az["status"], "valid", ch)
                    self.assertEqual(ch["status"], "valid", ch)
                    continue
                self.assertEqual(az["status"], "invalid", ch)
                self.assertEqual(ch["status"], "invalid", ch)
                self.assertEqual(ch["error"]["type"], L.ERR + expected, ch["error"])
        return results

    def serve(self, body_of):
        """A publish() serving body_of(key_authz, client) for the token."""
        def publish(token, ka, c):
            self.http.tokens[token] = body_of(ka, c)
        return publish



class TestCaModeValidationCases(CaModeBase):
    """The rows of §8 whose targets need nothing of the daemon's environment."""


    def test_v01_http01_responses(self):
        right = self.serve(lambda ka, c: ka)
        other = L.Key()

        def other_account(token, _ka, _c):
            self.http.tokens[token] = L.key_authorization(token, other)
        self.run_cases([
            ("404", "notfound.v01.cairn-lab.org", "http-01", lambda *a: None, "unauthorized"),
            ("500", "err500.v01.cairn-lab.org", "http-01", right, "unauthorized"),
            ("another account", "other.v01.cairn-lab.org", "http-01", other_account,
             "unauthorized"),
            ("leading spaces", "lead.v01.cairn-lab.org", "http-01",
             self.serve(lambda ka, c: "  " + ka), "unauthorized"),
            ("trailing CR LF SP TAB", "trail.v01.cairn-lab.org", "http-01",
             self.serve(lambda ka, c: ka + "\r\n \t"), "valid"),
            ("control: right answer", "plain.v01.cairn-lab.org", "http-01", right, "valid"),
        ])

    def test_v03_bad_redirects(self):
        right = self.serve(lambda ka, c: ka)
        cases = [("port %s" % p, "to%s.v03.cairn-lab.org" % p, "http-01", right, "connection")
                 for p in ("8080", "22", "25")]
        cases += [("scheme %s" % s, "%s.v03.cairn-lab.org" % s, "http-01", right, "connection")
                  for s in ("ftp", "file", "gopher")]
        cases += [("status %s" % s, "s%s.v03.cairn-lab.org" % s, "http-01", right, "connection")
                  for s in ("300", "303", "304", "305")]
        cases += [
            ("path > 2000 bytes", "longpath.v03.cairn-lab.org", "http-01", right, "connection"),
            ("policy: 10.0.0.1 (denied range)", "ip10-0-0-1.v03.cairn-lab.org", "http-01", right, "connection"),
            ("policy: 169.254.1.1", "ip169-254-1-1.v03.cairn-lab.org", "http-01", right,
             "connection"),
            ("policy: 192.0.2.1 (special)", "ip192-0-2-1.v03.cairn-lab.org", "http-01", right,
             "connection"),
            ("policy: name -> 10.0.0.1", "privname.v03.cairn-lab.org", "http-01", right,
             "connection"),
            # NAME.well-known resolves (the mock DNS answers 127.0.0.1) and serves the right
            # answer: only the host check makes it fail
            ("host ending .well-known", "wk.v03.cairn-lab.org", "http-01", right, "connection"),
            ("control: .well-known not at the end", "wkmid.v03.cairn-lab.org", "http-01", right,
             "valid"),
            # the passing twins: an allowed status, port and address are followed
            ("control: 302 to 127.0.0.1", "ip127-0-0-1.v03.cairn-lab.org", "http-01", right,
             "valid"),
            ("control: 302 to own port", "to%d.v03.cairn-lab.org" % self.daemon.http_port,
             "http-01", right, "valid"),
        ]
        results = self.run_cases(cases)
        for (label, _n, _c, _p, _e), res in zip(cases, results):
            if label.startswith("policy") and not isinstance(res, BaseException):
                with self.subTest(label + ": refused before dialling"):
                    # refused by the address policy, not by a failed connection attempt
                    self.assertIn("refusing to connect", res[1]["error"]["detail"])

    def test_v05_redirect_loops(self):
        right = self.serve(lambda ka, c: ka)
        self.run_cases([
            ("loop A->B->A", "loop.v05.cairn-lab.org", "http-01", right, "connection"),
            ("endless chain", "chain.v05.cairn-lab.org", "http-01", right, "connection"),
            ("11 distinct redirects", "hops11.v05.cairn-lab.org", "http-01", right, "connection"),
            ("control: 10 redirects", "hops10.v05.cairn-lab.org", "http-01", right, "valid"),
        ])

    def test_v08_dns01_records(self):
        def records(*make):
            """A publish() setting _acme-challenge.<name>'s TXT records from make(digest)."""
            def factory(name):
                def publish(_token, ka, _c):
                    d = V.dns01_digest(ka)
                    self.zone.set_txt("_acme-challenge." + name, [m(d) for m in make])
                return publish
            return factory

        wrong = V.dns01_digest("wrong")
        cases = {
            "no TXT": (records(), "unauthorized"),
            "NXDOMAIN": (None, "dns"),
            "wrong value": (records(lambda d: [wrong]), "unauthorized"),
            "several none right": (records(lambda d: [wrong], lambda d: [d[:-1] + ("B" if d[-1] == "A" else "A")],
                                           lambda d: [d + " "]), "unauthorized"),
            "several one right": (records(lambda d: [wrong], lambda d: [d]), "valid"),
            "split over strings": (records(lambda d: [d[:20], d[20:]]), "valid"),
        }
        names = {"no TXT": "none", "NXDOMAIN": "nx", "wrong value": "wrong",
                 "several none right": "several", "several one right": "onegood",
                 "split over strings": "split"}
        run = []
        for label, (factory, expected) in cases.items():
            name = names[label] + ".v08.cairn-lab.org"
            pub = factory(name) if factory else (lambda *a: None)
            run.append((label, name, "dns-01", pub, expected))
        self.run_cases(run)

    def test_v12_tls_alpn01_certificates(self):
        def cert(variant):
            def publish(_token, ka, _c):
                name = "%s.v12.cairn-lab.org" % variant.replace("+", "-")
                self.tls.certs[name] = alpn_cert(self.workdir, name, ka, variant)
            return publish
        labels = [("acmeIdentifier not critical", "noncritical"),
                  ("legacy OID only", "legacy"), ("legacy OID and the right one", "legacy+good"),
                  ("31-byte OCTET STRING", "short"), ("bare 32 bytes", "bare"),
                  ("UTF8String", "utf8"), ("wrong digest", "wrongdigest"),
                  ("extension twice", "twice"), ("not self-signed", "notselfsigned")]
        cases = [(label, "%s.v12.cairn-lab.org" % v.replace("+", "-"), "tls-alpn-01", cert(v),
                  "unauthorized") for label, v in labels]
        cases.append(("control: good", "good.v12.cairn-lab.org", "tls-alpn-01", cert("good"),
                      "valid"))
        self.run_cases(cases)

    def test_v16_caa_lookup_failures(self):
        right = self.serve(lambda ka, c: ka)
        self.run_cases([
            ("SERVFAIL for the name", "sf.v16.cairn-lab.net", "http-01", right, "dns"),
            ("SERVFAIL for a parent", "www.psf.v16.cairn-lab.net", "http-01", right, "dns"),
            ("NXDOMAIN below the TLD", "gone.v16.cairn-lab.net", "http-01", right, "valid"),
            ("control: no CAA", "plain.v16.cairn-lab.net", "http-01", right, "valid"),
        ])


# Debian's OpenSSL refuses TLS 1.0/1.1 by its system policy (MinProtocol TLSv1.2, security level
# 2), which would refuse an old-TLS target whatever cairn asks of libcurl. This daemon runs with
# a permissive OPENSSL_CONF, so only the VA's own TLS 1.2 minimum stands in the way.
PERMISSIVE_OPENSSL_CONF = """openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
MinProtocol = TLSv1
CipherString = DEFAULT@SECLEVEL=0
"""


class TestOldTlsTarget(CaModeBase):
    """V03 "https with only TLS 1.0/1.1", against a daemon whose OpenSSL would allow it."""

    @classmethod
    def daemon_env(cls):
        path = os.path.join(cls.workdir, "openssl-permissive.cnf")
        with open(path, "w") as f:
            f.write(PERMISSIVE_OPENSSL_CONF)
        return {"OPENSSL_CONF": path}

    def _tls_context(self, server, versions):
        """An SSL context for exactly the given TLS versions at security level 0 (TLS 1.0 and
        1.1 need SHA-1 signatures)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
        if not server:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLSVersion.TLSv1 and 1_1
            ctx.minimum_version, ctx.maximum_version = versions[0], versions[-1]
        ctx.set_ciphers("ALL:@SECLEVEL=0")
        if server:
            ctx.load_cert_chain(*L.self_signed_tls(self.workdir))
        return ctx

    def _old_tls_works(self, server_ctx):
        """None when a Python client restricted to TLS 1.0 completes a handshake with
        server_ctx, else the reason it cannot (then no old-TLS target can be built here)."""
        client_ctx = self._tls_context(False, [ssl.TLSVersion.TLSv1])
        lsock = socket.create_server(("127.0.0.1", 0))
        result = {}

        def accept():
            try:
                conn, _ = lsock.accept()
                conn.settimeout(5)
                with server_ctx.wrap_socket(conn, server_side=True) as t:
                    result["server"] = t.version()
            except OSError as e:
                result["server_error"] = str(e)
        th = threading.Thread(target=accept, daemon=True)
        th.start()
        try:
            with socket.create_connection(lsock.getsockname(), 5) as raw, \
                    client_ctx.wrap_socket(raw) as t:
                version = t.version()
        except OSError as e:
            return "a TLS 1.0 handshake on loopback fails here: %s" % e
        finally:
            th.join(5)
            lsock.close()
        if version != "TLSv1" or result.get("server") != "TLSv1":
            return "the TLS 1.0 handshake negotiated %s / %r" % (version, result)
        return None

    def test_v03_https_old_tls(self):
        """V03: a redirect to an https target speaking only TLS 1.0/1.1 ends invalid
        `connection` (the VA requires TLS 1.2); the same target restricted to TLS 1.2 is
        followed and validates."""
        old = self._tls_context(True, [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
        reason = self._old_tls_works(old)
        if reason:
            self.skipTest(reason)
        right = self.serve(lambda ka, c: ka)
        try:
            self.http.tls_ctx = old
            self.run_cases([("https, TLS 1.0-1.1 only", "https-tls10.v03.cairn-lab.org",
                             "http-01", right, "connection")])
            self.http.tls_ctx = self._tls_context(True, [ssl.TLSVersion.TLSv1_2])
            self.run_cases([("control: https, TLS 1.2", "https-tls12.v03.cairn-lab.org",
                             "http-01", right, "valid")])
        finally:
            self.http.tls_ctx = None
        hosts = [h for h, p in self.http.requests if p.startswith("/ok/")]
        self.assertTrue(any(h.startswith("https-tls12.") for h in hosts), hosts)
        self.assertFalse(any(h.startswith("https-tls10.") for h in hosts), hosts)


if __name__ == "__main__":
    unittest.main()
