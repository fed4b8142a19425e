"""Test harness for cairn's integration suites.

Starts a real daemon (cairn from $CAIRN_BIN, or Debian's pebble with ACME_SERVER=pebble so the
harness itself can be checked against a reference server), a mock DNS (pebble-challtestsrv with
only its DNS server), an http-01 responder, and drives them with a small ACME client that signs
flattened JWS with ES256/ES384/ES512/RS256/EdDSA keys.  The client has a raw escape hatch so
bad-input tests can send exactly the bytes they mean.

Only the standard library and Debian's python3-cryptography are used; run with /usr/bin/python3.
Everything listens on 127.0.0.1 on free ports and every process is stopped by its own PID.
"""

import base64
import datetime
import hashlib
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

SERVER = os.environ.get("ACME_SERVER", "cairn").strip().lower() or "cairn"
PEBBLE = SERVER == "pebble"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
HTTP_TIMEOUT = 15.0

JOSE = "application/jose+json"
PROBLEM = "application/problem+json"
ERR = "urn:ietf:params:acme:error:"


def cairn_only(reason="cairn deliberately differs from Pebble here"):
    """Decorator: the test asserts cairn behaviour Pebble does not share; skip it on pebble."""
    return unittest.skipIf(PEBBLE, "ACME_SERVER=pebble: " + reason)


def differs(cairn_value, pebble_value):
    """A value where cairn deliberately differs from Pebble (PROTOCOL.md §4): cairn's by
    default, Pebble's known answer with ACME_SERVER=pebble so the harness stays checked."""
    return pebble_value if PEBBLE else cairn_value


def needs_cairn_bin():
    """Skip a whole suite with a clear message when there is nothing to test."""
    if PEBBLE:
        return None
    binary = os.environ.get("CAIRN_BIN", "")
    if not binary or not os.access(binary, os.X_OK):
        return "CAIRN_BIN is not set to an executable cairn (or set ACME_SERVER=pebble)"
    return None


# ---------------------------------------------------------------------------------------------
# small helpers


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text):
    if isinstance(text, bytes):
        text = text.decode()
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canon_json(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def free_port(kind=socket.SOCK_STREAM):
    """A loopback port that was free a moment ago (bind port 0, read it, release it)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_tcp_udp_port():
    """A port free for both TCP and UDP (the mock DNS binds both)."""
    for _ in range(50):
        port = free_port(socket.SOCK_DGRAM)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free TCP+UDP port")


def stop_pid(proc, timeout=STOP_TIMEOUT):
    """SIGTERM one process we started, SIGKILL it if it lingers; return its exit code."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)
    return proc.returncode


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def rfc3339(when):
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------
# keys and JWS


class Key:
    """An account or certificate key with its JWK and JWS signing for one algorithm."""

    ALGS = {"ES256": (ec.SECP256R1, hashes.SHA256, 32), "ES384": (ec.SECP384R1, hashes.SHA384, 48),
            "ES512": (ec.SECP521R1, hashes.SHA512, 66)}

    def __init__(self, alg="ES256", private=None, bits=2048):
        self.alg = alg
        if private is not None:
            self.private = private
        elif alg in self.ALGS:
            self.private = ec.generate_private_key(self.ALGS[alg][0]())
        elif alg == "RS256":
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        elif alg == "EdDSA":
            self.private = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError("unknown alg " + alg)
        self.public = self.private.public_key()

    def jwk(self):
        pub = self.public
        if isinstance(pub, ec.EllipticCurvePublicKey):
            size = (pub.curve.key_size + 7) // 8
            nums = pub.public_numbers()
            crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[pub.curve.name]
            return {"kty": "EC", "crv": crv, "x": b64u(nums.x.to_bytes(size, "big")),
                    "y": b64u(nums.y.to_bytes(size, "big"))}
        if isinstance(pub, rsa.RSAPublicKey):
            nums = pub.public_numbers()
            return {"kty": "RSA", "e": b64u(nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big")),
                    "n": b64u(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big"))}
        if isinstance(pub, ed25519.Ed25519PublicKey):
            raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}
        raise ValueError("unsupported key")

    def thumbprint(self):
        return b64u(hashlib.sha256(canon_json(self.jwk()).encode()).digest())

    def sign(self, data, alg=None):
        """Raw JWS signature of data; alg may differ from the key's own (for mismatch tests)."""
        alg = alg or self.alg
        priv = self.private
        if isinstance(priv, ec.EllipticCurvePrivateKey):
            hash_cls = {"ES256": hashes.SHA256, "ES384": hashes.SHA384,
                        "ES512": hashes.SHA512}.get(alg, hashes.SHA256)
            der = priv.sign(data, ec.ECDSA(hash_cls()))
            r, s = decode_dss_signature(der)
            size = (priv.curve.key_size + 7) // 8
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        if isinstance(priv, rsa.RSAPrivateKey):
            return priv.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return priv.sign(data)

    def pem(self):
        return self.private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())

    def spki_der(self):
        return self.public.public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)


def key_authorization(token, key):
    return token + "." + key.thumbprint()


def make_csr(names, key=None, cn=None, ips=()):
    """DER CSR for DNS names (and IP addresses), signed by key (a new P-256 key if None)."""
    import ipaddress
    key = key or Key("ES256")
    sans = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else [])
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    algo = None if isinstance(key.private, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    csr = builder.sign(key.private, algo)
    return csr.public_bytes(serialization.Encoding.DER), key


def split_pem_chain(pem):
    if isinstance(pem, bytes):
        pem = pem.decode()
    return re.findall(r"-----BEGIN CERTIFICATE-----\r?\n.*?-----END CERTIFICATE-----", pem, re.S)


def leaf_der(chain_pem):
    """DER of the first certificate of a PEM chain."""
    cert = x509.load_pem_x509_certificate(split_pem_chain(chain_pem)[0].encode())
    return cert.public_bytes(serialization.Encoding.DER)


def openssl_verify(root_pem, chain_pem, workdir):
    """`openssl verify` the leaf of chain_pem against root_pem; returns (ok, output)."""
    blocks = split_pem_chain(chain_pem)
    if not blocks:
        return False, "no CERTIFICATE block"
    root = os.path.join(workdir, "verify-root.pem")
    leaf = os.path.join(workdir, "verify-leaf.pem")
    inter = os.path.join(workdir, "verify-inter.pem")
    with open(root, "w") as f:
        f.write(root_pem if isinstance(root_pem, str) else root_pem.decode())
    with open(leaf, "w") as f:
        f.write(blocks[0] + "\n")
    cmd = ["openssl", "verify", "-CAfile", root]
    if len(blocks) > 1:
        with open(inter, "w") as f:
            f.write("\n".join(blocks[1:]) + "\n")
        cmd += ["-untrusted", inter]
    out = subprocess.run(cmd + [leaf], capture_output=True, text=True, timeout=30)
    return out.returncode == 0, out.stdout + out.stderr


def self_signed_tls(workdir, names=("localhost",), ips=("127.0.0.1",)):
    """A self-signed P-256 certificate + key (for Pebble's listener); returns (cert, key) paths."""
    import ipaddress
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cairn test listener")])
    now = utcnow()
    sans = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path = os.path.join(workdir, "listener-cert.pem")
    key_path = os.path.join(workdir, "listener-key.pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()))
    return cert_path, key_path


# ---------------------------------------------------------------------------------------------
# mock DNS: pebble-challtestsrv with only its DNS server


def dns_query_packet(name, qtype=1, qid=0x1234):
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"
    return header + qname + struct.pack("!HH", qtype, 1)


def dns_resolve_a(port, name, timeout=1.0):
    """Ask the mock DNS for an A record; returns the list of IPv4 strings (for readiness)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(dns_query_packet(name), ("127.0.0.1", port))
        data, _ = sock.recvfrom(4096)
    qid, _flags, qd, an, _ns, _ar = struct.unpack("!HHHHHH", data[:12])
    pos = 12
    for _ in range(qd):
        while data[pos] != 0:
            pos += data[pos] + 1
        pos += 5
    out = []
    for _ in range(an):
        if data[pos] & 0xC0 == 0xC0:
            pos += 2
        else:
            while data[pos] != 0:
                pos += data[pos] + 1
            pos += 1
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", data[pos:pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            out.append(socket.inet_ntoa(data[pos:pos + 4]))
        pos += rdlen
    return out


class MockDNS:
    """pebble-challtestsrv answering every A query with 127.0.0.1 and no AAAA."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.port = None
        self.proc = None
        self.log = None

    def start(self):
        self.port = free_tcp_udp_port()
        mgmt = free_port()
        cmd = ["pebble-challtestsrv", "-dns01", "127.0.0.1:%d" % self.port, "-http01", "",
               "-https01", "", "-tlsalpn01", "", "-management", "127.0.0.1:%d" % mgmt,
               "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""]
        self.log = open(os.path.join(self.workdir, "mockdns.log"), "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("pebble-challtestsrv exited early: see " + self.log.name)
            try:
                if dns_resolve_a(self.port, "ready.example.com", 0.3) == ["127.0.0.1"]:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("mock DNS did not answer within %ds" % START_TIMEOUT)

    def stop(self):
        stop_pid(self.proc)
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None


# ---------------------------------------------------------------------------------------------
# http-01 responder


class Http01Responder:
    """Serves /.well-known/acme-challenge/TOKEN on 127.0.0.1:port from a dict."""

    def __init__(self, port):
        self.port = port
        self.tokens = {}
        self.requests = []
        self.server = None
        self.thread = None

    def start(self):
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                owner.requests.append((self.path, self.headers.get("Host")))
                prefix = "/.well-known/acme-challenge/"
                token = self.path[len(prefix):] if self.path.startswith(prefix) else None
                body = owner.tokens.get(token)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


# ---------------------------------------------------------------------------------------------
# the daemon under test


class Daemon:
    """cairn ($CAIRN_BIN) or Debian pebble on free loopback ports with a private state dir.

    env: extra environment (e.g. {"PEBBLE_VA_ALWAYS_VALID": "1"}).  dns_port: the mock DNS.
    The same object can be stopped and started again: ports and state dir are kept, so a
    restart exercises persistence (cairn only; pebble keeps nothing).
    """

    def __init__(self, dns_port, env=None, workdir=None, config_extra=None, cairn_extra=None,
                 args=()):
        self.dns_port = dns_port
        self.env = dict(env or {})
        self.own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="cairn-it-")
        self.state_dir = os.path.join(self.workdir, "state")
        os.makedirs(self.state_dir, exist_ok=True)
        self.config_extra = dict(config_extra or {})
        self.cairn_extra = dict(cairn_extra or {})  # the config's "cairn" section (cairn only)
        self.args = list(args)  # extra daemon flags (cairn only)
        self.port = free_port()
        self.mgmt_port = free_port()
        self.http_port = free_port()
        self.tls_port = free_port()
        self.proc = None
        self.listening = threading.Event()
        self.output = []
        self.reader = None
        self.exit_code = None
        self.starts = 0

    @property
    def base(self):
        return "https://127.0.0.1:%d" % self.port

    @property
    def directory_url(self):
        return self.base + "/dir"

    @property
    def mgmt_base(self):
        return "https://127.0.0.1:%d" % self.mgmt_port

    @property
    def trust_pem(self):
        if PEBBLE:
            return os.path.join(self.workdir, "listener-cert.pem")
        return os.path.join(self.state_dir, "trust.pem")

    def _config(self):
        conf = {"listenAddress": "127.0.0.1:%d" % self.port,
                "managementListenAddress": "127.0.0.1:%d" % self.mgmt_port,
                "httpPort": self.http_port, "tlsPort": self.tls_port}
        if PEBBLE:
            cert, key = os.path.join(self.workdir, "listener-cert.pem"), \
                os.path.join(self.workdir, "listener-key.pem")
            if not os.path.exists(cert):
                cert, key = self_signed_tls(self.workdir)
            conf.update({"certificate": cert, "privateKey": key, "ocspResponderURL": "",
                         "externalAccountBindingRequired": False})
        conf.update(self.config_extra)
        path = os.path.join(self.workdir, "config.json")
        doc = {"pebble": conf}
        if self.cairn_extra and not PEBBLE:
            doc["cairn"] = self.cairn_extra
        with open(path, "w") as f:
            json.dump(doc, f, indent=2)
        return path

    def _command(self, config):
        if PEBBLE:
            return ["pebble", "-config", config, "-dnsserver", "127.0.0.1:%d" % self.dns_port]
        return [os.environ["CAIRN_BIN"], "-config", config, "-dnsserver",
                "127.0.0.1:%d" % self.dns_port, "--state-dir", self.state_dir] + self.args

    def _read(self, stream):
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip("\n")
            self.output.append(line)
            if "Listening on:" in line:
                self.listening.set()
        stream.close()

    def start(self):
        env = dict(os.environ)
        env.setdefault("PEBBLE_VA_NOSLEEP", "1")
        env["PEBBLE_WFE_NONCEREJECT"] = "0"
        env.update(self.env)
        config = self._config()
        self.listening.clear()
        self.output.append("=== start %d: %s" % (self.starts, " ".join(self._command(config))))
        self.proc = subprocess.Popen(self._command(config), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, cwd=self.workdir)
        self.reader = threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True)
        self.reader.start()
        self.starts += 1
        deadline = time.monotonic() + START_TIMEOUT
        while not self.listening.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("daemon did not print 'Listening on:' within %ds:\n%s"
                                   % (START_TIMEOUT, self.log_tail()))
        # Pebble logs before its socket is open, and cairn must answer too: wait for TLS.
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5):
                    break
            except OSError:
                time.sleep(0.05)
        if not PEBBLE and "certificate" in self.config_extra:
            return self  # a configured listener certificate: the test brings its own trust
        if not os.path.exists(self.trust_pem):
            self.stop()
            raise RuntimeError("no trust PEM at %s after start" % self.trust_pem)
        return self

    def stop(self):
        self.exit_code = stop_pid(self.proc)
        if self.reader:
            self.reader.join(5)
        self.proc = None
        return self.exit_code

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        """Stops the daemon and fails when it did not exit cleanly: a crash, a sanitizer
        report (ASan, UBSan, LeakSanitizer at exit) or a non-zero exit code is a defect."""
        was_running = self.proc is not None
        code = self.stop() if was_running else self.exit_code
        if self.own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        reports = [l for l in self.output if "Sanitizer" in l or "runtime error:" in l]
        if not PEBBLE and (reports or (was_running and code != 0)):
            raise AssertionError("daemon exit code %r, sanitizer reports %d:\n%s"
                                 % (code, len(reports), self.log_tail(80)))

    def log_tail(self, lines=40):
        return "\n".join(self.output[-lines:])

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.trust_pem)
        return ctx

    def mgmt_get(self, path):
        """GET on the management listener; returns a Response."""
        return http_request(self.mgmt_base + path, "GET", ctx=self.ssl_context())

    def root_pem(self, n=0):
        resp = self.mgmt_get("/roots/%d" % n)
        if resp.status != 200:
            raise RuntimeError("GET /roots/%d: %d" % (n, resp.status))
        return resp.body.decode()


# ---------------------------------------------------------------------------------------------
# HTTP


ALL_NONCES = set()


class Response:
    def __init__(self, status, headers, body):
        nonce = headers.get("Replay-Nonce")
        # "fresh": never handed out before in this test process (checked for every answer).
        self.nonce_fresh = bool(nonce) and nonce not in ALL_NONCES
        if nonce:
            ALL_NONCES.add(nonce)
        self.status = status
        self.headers = headers
        self.body = body
        self._json = None

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def header_all(self, name):
        return self.headers.get_all(name) or []

    @property
    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    @property
    def location(self):
        return self.headers.get("Location")

    @property
    def nonce(self):
        return self.headers.get("Replay-Nonce")

    def json(self):
        if self._json is None:
            self._json = json.loads(self.body.decode())
        return self._json

    def links(self, rel=None):
        """[(url, rel)] from every Link header; only those with rel if given."""
        out = []
        for value in self.header_all("Link"):
            for m in re.finditer(r'<([^>]*)>\s*;\s*rel="?([^";,]+)"?', value):
                out.append((m.group(1), m.group(2)))
        return [u for u, r in out if r == rel] if rel else out

    @property
    def problem_type(self):
        try:
            return self.json().get("type")
        except (ValueError, AttributeError):
            return None

    def __repr__(self):
        body = self.body[:600].decode(errors="replace")
        return "<Response %d %s %s>" % (self.status, self.headers.get("Content-Type"), body)


def http_request(url, method="GET", body=None, headers=None, ctx=None, timeout=HTTP_TIMEOUT,
                 skip_accept_encoding=True):
    """One request on a fresh connection; body bytes are sent verbatim with the given headers.

    Content-Type is only sent if headers name it (http.client adds none by itself)."""
    parts = urllib.parse.urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=ctx,
                                           timeout=timeout)
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_accept_encoding=skip_accept_encoding)
        hdrs = dict(headers or {})
        if body is not None and not any(k.lower() == "content-length" for k in hdrs):
            hdrs["Content-Length"] = str(len(body))
        hdrs.setdefault("User-Agent", "cairn-integration-tests")
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.headers, data)
    finally:
        conn.close()


def raw_exchange(host, port, request_bytes, ctx=None, timeout=10.0):
    """Send raw bytes over TLS (ctx given) or TCP and return everything read until close/timeout.

    For HTTP framing tests (H03) that http.client refuses to produce."""
    sock = socket.create_connection((host, port), timeout)
    if ctx is not None:
        sock = ctx.wrap_socket(sock, server_hostname=host)
    chunks = []
    try:
        try:
            sock.sendall(request_bytes)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the server may answer and close before taking everything (413)
        while True:
            try:
                data = sock.recv(65536)
            except (socket.timeout, ssl.SSLError, ConnectionResetError):
                break
            if not data:
                break
            chunks.append(data)
            if b"\r\n\r\n" in b"".join(chunks) and len(b"".join(chunks)) > 0:
                # Enough to see the status line; keep reading briefly for the body.
                sock.settimeout(1.0)
    finally:
        sock.close()
    return b"".join(chunks)


def raw_answer_then_close(host, port, request_bytes, ctx=None, timeout=5.0):
    """Send one request on a fresh (TLS if ctx) connection without `Connection: close`, read
    its answer (head + Content-Length body), then watch the connection.

    Returns (answer bytes, closed, second) where closed is True when the server closed the
    connection after the answer (EOF or reset within timeout; a timeout means it was kept
    open) and second is whatever a second request on the same socket got back (b"" = none).
    For PROTOCOL.md §6 H01: 414 and 431 close the connection."""
    sock = socket.create_connection((host, port), timeout)
    if ctx is not None:
        sock = ctx.wrap_socket(sock, server_hostname=host)
    data, closed, second = b"", False, b""
    try:
        try:
            sock.sendall(request_bytes)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the server may answer and close before taking everything
        while True:
            head, sep, body = data.partition(b"\r\n\r\n")
            m = re.search(rb"(?im)^content-length:\s*(\d+)", head) if sep else None
            if sep and len(body) >= (int(m.group(1)) if m else 0):
                break
            try:
                chunk = sock.recv(65536)
            except (socket.timeout, ssl.SSLError, ConnectionResetError):
                chunk = b""
            if not chunk:
                return data, True, b""  # closed (or stuck) before a whole answer
            data += chunk
        try:
            extra = sock.recv(65536)
            closed = extra == b""
        except socket.timeout:
            closed = False
        except (ssl.SSLError, ConnectionResetError, OSError):
            closed = True
        try:
            sock.sendall(b"GET /dir HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host.encode(), port))
            second = sock.recv(65536)
        except (socket.timeout, ssl.SSLError, OSError):
            second = b""
    finally:
        sock.close()
    return data, closed, second


def parse_raw_response(data):
    """A Response from raw HTTP/1.1 bytes (status line, headers, body up to Content-Length)."""
    import email.parser
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = raw_status(lines[0]) if lines else None
    if status is None:
        raise ValueError("no HTTP status line in %r" % data[:200])
    headers = email.parser.BytesParser(_class=http.client.HTTPMessage).parsebytes(
        b"\r\n".join(lines[1:]) + b"\r\n\r\n")
    length = headers.get("Content-Length")
    if length is not None and length.isdigit():
        body = body[:int(length)]
    return Response(status, headers, body)


def raw_status(data):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------------------------------------
# ACME client


class AcmeError(Exception):
    def __init__(self, what, resp):
        super().__init__("%s: %r" % (what, resp))
        self.resp = resp


class AcmeClient:
    """A deliberately transparent ACME client: every helper returns the Response."""

    def __init__(self, daemon, key=None, alg="ES256"):
        self.daemon = daemon
        self.key = key or Key(alg)
        self.kid = None
        self.nonces = []
        self.seen_nonces = set()
        self._dir = None
        self.ctx = daemon.ssl_context()

    # -- transport
    def request(self, url, method="GET", body=None, headers=None):
        resp = http_request(url, method, body, headers, ctx=self.ctx)
        nonce = resp.nonce
        if nonce:
            self.nonces.append(nonce)
        return resp

    def raw(self, url, body, content_type=JOSE, headers=None, method="POST"):
        """Send exactly body (bytes/str/dict) with the given Content-Type (None: none)."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        hdrs = dict(headers or {})
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        return self.request(url, method, body, hdrs)

    @property
    def directory(self):
        if self._dir is None:
            resp = self.request(self.daemon.directory_url)
            if resp.status != 200:
                raise AcmeError("directory", resp)
            self._dir = resp.json()
        return self._dir

    def url(self, name):
        return self.directory[name]

    def fresh_nonce(self):
        resp = self.request(self.url("newNonce"), "HEAD")
        if not resp.nonce:
            raise AcmeError("newNonce without Replay-Nonce", resp)
        self.nonces.remove(resp.nonce)
        return resp.nonce

    def nonce(self):
        return self.nonces.pop() if self.nonces else self.fresh_nonce()

    # -- JWS
    def jws(self, url, payload, key=None, kid=None, use_jwk=None, nonce=None, alg=None,
            protected_extra=None, drop=(), sign=True, protected_raw=None):
        """A flattened JWS dict.

        payload: None/"" for POST-as-GET, a dict for JSON, or bytes/str sent verbatim.
        key: signing key (default: the client key).  kid/use_jwk choose the key reference
        (default: kid if the client has an account, else jwk).  nonce: False omits it.
        protected_extra: members added or overriding; drop: member names removed.
        protected_raw: exact protected-header text (overrides everything else)."""
        key = key or self.key
        if use_jwk is None:
            use_jwk = kid is None and self.kid is None
        prot = {"alg": alg or key.alg, "url": url}
        if nonce is not False:
            prot["nonce"] = nonce if nonce is not None else self.nonce()
        if use_jwk:
            prot["jwk"] = key.jwk()
        else:
            prot["kid"] = kid or self.kid
        prot.update(protected_extra or {})
        for name in drop:
            prot.pop(name, None)
        if payload is None:
            payload_b = b""
        elif isinstance(payload, (dict, list)):
            payload_b = json.dumps(payload).encode()
        elif isinstance(payload, str):
            payload_b = payload.encode()
        else:
            payload_b = payload
        prot_text = protected_raw if protected_raw is not None else json.dumps(prot)
        prot_b64 = b64u(prot_text)
        pay_b64 = b64u(payload_b) if payload_b else ""
        signature = key.sign((prot_b64 + "." + pay_b64).encode(), alg) if sign else b""
        return {"protected": prot_b64, "payload": pay_b64, "signature": b64u(signature)}

    def post(self, url, payload=None, **kw):
        headers = kw.pop("headers", None)
        content_type = kw.pop("content_type", JOSE)
        body = self.jws(url, payload, **kw)
        return self.raw(url, json.dumps(body), content_type, headers)

    def post_as_get(self, url, **kw):
        return self.post(url, None, **kw)

    # -- account
    def new_account(self, tos=True, contact=None, only_existing=False, payload=None, **kw):
        if payload is None:
            payload = {}
            if tos is not None:
                payload["termsOfServiceAgreed"] = tos
            if contact is not None:
                payload["contact"] = contact
            if only_existing:
                payload["onlyReturnExisting"] = True
        kw.setdefault("use_jwk", True)
        return self.post(self.url("newAccount"), payload, **kw)

    def register(self, **kw):
        resp = self.new_account(**kw)
        if resp.status not in (200, 201) or not resp.location:
            raise AcmeError("newAccount", resp)
        self.kid = resp.location
        return resp

    # -- orders
    @staticmethod
    def idents(names):
        out = []
        for n in names:
            if isinstance(n, dict):
                out.append(n)
            elif re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*", n):
                out.append({"type": "ip", "value": n})
            else:
                out.append({"type": "dns", "value": n})
        return out

    def new_order(self, names, **extra):
        payload = {"identifiers": self.idents(names)}
        payload.update(extra)
        return self.post(self.url("newOrder"), payload)

    def order(self, names):
        resp = self.new_order(names)
        if resp.status != 201:
            raise AcmeError("newOrder", resp)
        return resp.location, resp.json()

    def poll(self, url, done=("valid", "invalid"), timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            resp = self.post_as_get(url)
            if resp.status != 200:
                raise AcmeError("poll " + url, resp)
            if resp.json().get("status") in done or time.monotonic() > deadline:
                return resp
            time.sleep(0.2)

    def authorize(self, order, responder=None, chall_type="http-01"):
        """Answer every pending authz of order; with a responder, publish the key authz."""
        for az_url in order["authorizations"]:
            az = self.post_as_get(az_url).json()
            if az["status"] == "valid":
                continue
            chall = next(c for c in az["challenges"] if c["type"] == chall_type)
            if responder is not None:
                responder.tokens[chall["token"]] = key_authorization(chall["token"], self.key)
            resp = self.post(chall["url"], {})
            if resp.status != 200:
                raise AcmeError("challenge", resp)
            final = self.poll(az_url).json()
            if final["status"] != "valid":
                raise AcmeError("authz " + az_url + " " + json.dumps(final), resp)

    def finalize(self, order, csr_der):
        return self.post(order["finalize"], {"csr": b64u(csr_der)})

    def issue(self, names, responder=None, cert_key=None):
        """Full flow; returns dict(order_url, order, pem, cert_key, cert_url)."""
        order_url, order = self.order(names)
        self.authorize(order, responder)
        order = self.poll(order_url, ("ready", "invalid")).json()
        if order["status"] != "ready":
            raise AcmeError("order not ready: " + json.dumps(order), None)
        dns_names = [i["value"] for i in order["identifiers"] if i["type"] == "dns"]
        ips = [i["value"] for i in order["identifiers"] if i["type"] == "ip"]
        csr, cert_key = make_csr(dns_names, cert_key, ips=ips)
        resp = self.finalize(order, csr)
        if resp.status != 200:
            raise AcmeError("finalize", resp)
        order = self.poll(order_url).json()
        if order["status"] != "valid":
            raise AcmeError("order after finalize: " + json.dumps(order), resp)
        cert = self.post_as_get(order["certificate"])
        if cert.status != 200:
            raise AcmeError("certificate", cert)
        return {"order_url": order_url, "order": order, "pem": cert.body.decode(),
                "cert_key": cert_key, "cert_url": order["certificate"], "cert_resp": cert}

    def revoke(self, cert_pem, reason=None, key=None, use_jwk=False):
        payload = {"certificate": b64u(leaf_der(cert_pem))}
        if reason is not None:
            payload["reason"] = reason
        return self.post(self.url("revokeCert"), payload, key=key, use_jwk=use_jwk)

    def key_change_body(self, new_key, inner_extra=None, inner_drop=(), old_jwk=None,
                        account=None):
        url = self.url("keyChange")
        inner_payload = {"account": account or self.kid, "oldKey": old_jwk or self.key.jwk()}
        inner = AcmeClient.jws(self, url, inner_payload, key=new_key, use_jwk=True, nonce=False,
                               protected_extra=inner_extra, drop=inner_drop)
        return url, inner


class DaemonTestCase(unittest.TestCase):
    """One mock DNS + one daemon per test class; subclasses set DAEMON_ENV."""

    DAEMON_ENV = {}
    DAEMON_CONFIG = {}  # extra members of the config file's "pebble" section
    RESPONDER = False

    @classmethod
    def setUpClass(cls):
        reason = needs_cairn_bin()
        if reason:
            raise unittest.SkipTest(reason)
        cls.workdir = tempfile.mkdtemp(prefix="cairn-it-")
        cls.dns = None
        cls.daemon = None
        cls.responder = None
        try:
            cls.dns = MockDNS(cls.workdir).start()
            cls.daemon = Daemon(cls.dns.port, cls.DAEMON_ENV,
                                workdir=os.path.join(cls.workdir, "d"),
                                config_extra=cls.DAEMON_CONFIG)
            os.makedirs(cls.daemon.workdir, exist_ok=True)
            if cls.RESPONDER:
                cls.responder = Http01Responder(cls.daemon.http_port).start()
            cls.daemon.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if getattr(cls, "responder", None):
                cls.responder.stop()
            if getattr(cls, "daemon", None):
                cls.daemon.cleanup()  # raises when the daemon did not exit cleanly
        finally:
            if getattr(cls, "dns", None):
                cls.dns.stop()
            if os.environ.get("CAIRN_KEEP_TMP"):
                print("kept", cls.workdir)
            else:
                shutil.rmtree(cls.workdir, ignore_errors=True)

    def client(self, alg="ES256", register=True, **kw):
        c = AcmeClient(self.daemon, alg=alg)
        if register:
            c.register(**kw)
        return c

    def run(self, result=None):
        # On failure, show the daemon's last log lines: the daemon is the thing under test.
        before = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > before and self.daemon:
            print("\n--- daemon log tail (%s) ---\n%s" % (self.id(), self.daemon.log_tail(20)))
        return out
