"""Helpers for the validation-authority suites (test_dns01.py, test_identifiers_va.py,
test_va_hostile.py), kept apart from cairnlib.py so those suites add to the harness without
changing it.

- VaDaemon: a Daemon whose config file also carries a "cairn" section (e.g. vaTimeoutMs).
- ChallTestSrv: the harness' pebble-challtestsrv with its management API kept, to add and
  remove TXT records (/set-txt, /clear-txt) and answer SERVFAIL (/set-servfail).
- ToolDNS: test/tools/mockdns.py with fixed answers (--nxdomain, --servfail, --txt).
- HostileResponder: an http-01 responder that also misbehaves, chosen by the Host header.
- VaTestCase: one DNS + one VaDaemon (+ optional responder) per class, like DaemonTestCase.
- solve_dns01(), attempt(): drive a challenge to its end and return what the daemon said.
"""

import hashlib
import http.client
import json
import os
import re
import select
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import unittest

import cairnlib as L

SOURCE_DIR = os.environ.get("CAIRN_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))

# The VA bound the hostile suites configure, and how long a test waits for a challenge to end:
# generous (room for the VA's own retries), yet far below what a target that is never cut off
# would take (the drip server below keeps going for ten minutes).
VA_TIMEOUT_MS = 3000
END_WAIT = 90.0


def dns01_digest(key_authz):
    return L.b64u(hashlib.sha256(key_authz.encode()).digest())


def vm_rss_kb(pid):
    """The resident set size of a process in kB (/proc/PID/status VmRSS)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %d" % pid)


def has_asan(pid):
    """True when the process runs with AddressSanitizer's runtime mapped. Its quarantine keeps
    freed memory resident (up to 256 MiB by default), so VmRSS growth says nothing there."""
    with open("/proc/%d/maps" % pid) as f:
        return any("libasan" in line for line in f)


def _http_post_json(port, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError("challtestsrv %s: HTTP %d" % (path, resp.status))
    finally:
        conn.close()


class VaDaemon(L.Daemon):
    """A Daemon with a "cairn" config section (ignored under ACME_SERVER=pebble)."""

    def __init__(self, dns_port, env=None, workdir=None, config_extra=None, cairn=None):
        super().__init__(dns_port, env, workdir, config_extra)
        self.cairn = dict(cairn or {})

    def _config(self):
        path = super()._config()
        if self.cairn and not L.PEBBLE:
            with open(path) as f:
                conf = json.load(f)
            conf["cairn"] = self.cairn
            with open(path, "w") as f:
                json.dump(conf, f, indent=2)
        return path

    def rss_kb(self):
        return vm_rss_kb(self.proc.pid)

    def has_asan(self):
        return has_asan(self.proc.pid)


class ChallTestSrv(L.MockDNS):
    """pebble-challtestsrv (DNS only, every A -> 127.0.0.1) with its management port kept."""

    def start(self):
        self.port = L.free_tcp_udp_port()
        self.mgmt_port = L.free_port()
        cmd = ["pebble-challtestsrv", "-dns01", "127.0.0.1:%d" % self.port, "-http01", "",
               "-https01", "", "-tlsalpn01", "", "-management", "127.0.0.1:%d" % self.mgmt_port,
               "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""]
        self.log = open(os.path.join(self.workdir, "challtestsrv.log"), "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + L.START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("pebble-challtestsrv exited early: see " + self.log.name)
            try:
                if L.dns_resolve_a(self.port, "ready.example.com", 0.3) == ["127.0.0.1"]:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("challtestsrv did not answer within %ds" % L.START_TIMEOUT)

    @staticmethod
    def fqdn(name):
        return name.rstrip(".") + "."

    def set_txt(self, name, value):
        _http_post_json(self.mgmt_port, "/set-txt", {"host": self.fqdn(name), "value": value})

    def clear_txt(self, name):
        _http_post_json(self.mgmt_port, "/clear-txt", {"host": self.fqdn(name)})

    def set_servfail(self, name):
        _http_post_json(self.mgmt_port, "/set-servfail", {"host": self.fqdn(name)})


class ToolDNS:
    """test/tools/mockdns.py with fixed answers, e.g. ToolDNS(wd, ["--nxdomain", "nx.test"])."""

    def __init__(self, workdir, args=()):
        self.workdir = workdir
        self.args = list(args)
        self.port = None
        self.proc = None

    def start(self):
        script = os.path.join(SOURCE_DIR, "test", "tools", "mockdns.py")
        self.proc = subprocess.Popen(["/usr/bin/python3", script, "--port", "0"] + self.args,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        ready, _, _ = select.select([self.proc.stdout], [], [], L.START_TIMEOUT)
        line = self.proc.stdout.readline().decode() if ready else ""
        m = re.match(r"mockdns listening on (\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError("mockdns.py did not start: %r" % line)
        self.port = int(m.group(1))
        return self

    def stop(self):
        if self.proc is not None:
            L.stop_pid(self.proc)
            self.proc.stdout.close()
            self.proc = None


# ---------------------------------------------------------------------------------------------
# a responder that serves tokens and misbehaves on purpose


BIG_BODY = 1 << 30       # what the "big" target announces and would send: 1 GiB
DRIP_MAX_BYTES = 600     # one byte a second: ten minutes, far beyond any VA bound


class HostileResponder:
    """http-01 on host:port (127.0.0.1 or ::1). The Host header's first label picks what it does:

      loop.*    302 between /a and /b for ever (a redirect loop)
      chain.*   302 to /<n+1> for ever (an endless chain of new URLs)
      port22.*  302 to the same name on port 22
      big.*     200 announcing and streaming 1 GiB, generated lazily in 64 KiB pieces
      drip.*    the response (status line first) one byte a second
      anything else: the token from self.tokens, or 404

    Each connection is handled in its own thread; a sender stops when the peer closes, so
    nothing outlives the VA's attempt by more than one write (the drip by one second)."""

    CHUNK = b"\0" * 65536

    def __init__(self, port, host="127.0.0.1"):
        self.port = port
        self.host = host
        self.tokens = {}
        self.requests = []  # (host, path)
        self.sent = {}      # behaviour -> bytes sent, summed over connections
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.server = None
        self.thread = None

    def _count(self, kind, n):
        with self.lock:
            self.sent[kind] = self.sent.get(kind, 0) + n

    def start(self):
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.connection.settimeout(10)
                try:
                    owner._serve(self.rfile, self.connection)
                except OSError:
                    pass  # the VA hung up: exactly what it should do with hostile targets

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True
            address_family = socket.AF_INET6 if ":" in self.host else socket.AF_INET

        self.server = Server((self.host, self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @staticmethod
    def _read_head(rfile):
        lines = []
        for _ in range(100):
            line = rfile.readline(8192)
            if not line or line in (b"\r\n", b"\n"):
                break
            lines.append(line.decode("latin-1").rstrip("\r\n"))
        return lines

    def _serve(self, rfile, sock):
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
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        kind = name.split(".", 1)[0]
        if kind == "loop":
            nxt = "/b" if path.endswith("/a") else "/a"
            self._redirect(sock, "http://%s:%d/loop%s" % (name, self.port, nxt))
        elif kind == "chain":
            m = re.search(r"/(\d+)$", path)
            n = int(m.group(1)) + 1 if m else 1
            self._redirect(sock, "http://%s:%d/chain/%d" % (name, self.port, n))
        elif kind == "port22":
            self._redirect(sock, "http://%s:22%s" % (name, path))
        elif kind == "big":
            self._big(sock)
        elif kind == "drip":
            self._drip(sock)
        else:
            self._token(sock, path)

    @staticmethod
    def _send(sock, status, headers, body=b""):
        out = ["HTTP/1.1 %s" % status] + ["%s: %s" % kv for kv in headers]
        sock.sendall(("\r\n".join(out) + "\r\n\r\n").encode() + body)

    def _redirect(self, sock, location):
        self._send(sock, "302 Found", [("Location", location), ("Content-Length", "0"),
                                       ("Connection", "close")])

    def _token(self, sock, path):
        prefix = "/.well-known/acme-challenge/"
        body = self.tokens.get(path[len(prefix):]) if path.startswith(prefix) else None
        if body is None:
            self._send(sock, "404 Not Found", [("Content-Length", "0"), ("Connection", "close")])
            return
        data = body.encode()
        self._send(sock, "200 OK", [("Content-Type", "text/plain"),
                                    ("Content-Length", str(len(data))),
                                    ("Connection", "close")], data)

    def _big(self, sock):
        self._send(sock, "200 OK", [("Content-Type", "application/octet-stream"),
                                    ("Content-Length", str(BIG_BODY)), ("Connection", "close")])
        sent = 0
        try:
            while sent < BIG_BODY and not self.stopping.is_set():
                sock.sendall(self.CHUNK)
                sent += len(self.CHUNK)
        finally:
            self._count("big", sent)

    def _drip(self, sock):
        text = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 500\r\n\r\n"
        text += b"x" * (DRIP_MAX_BYTES - len(text))
        sent = 0
        try:
            for i in range(DRIP_MAX_BYTES):
                if self.stopping.wait(1.0 if i else 0):
                    break
                sock.sendall(text[i:i + 1])
                sent += 1
        finally:
            self._count("drip", sent)


class StallServer:
    """Accepts TCP connections on 127.0.0.1:port and never answers (a TLS server that never
    finishes the handshake). Counts connections; each is dropped when the peer closes it, at
    stop(), or after ten minutes."""

    def __init__(self, port):
        self.port = port
        self.accepted = 0
        self.stopping = threading.Event()
        self.server = None
        self.thread = None

    def start(self):
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                owner.accepted += 1
                self.request.settimeout(1.0)
                for _ in range(600):
                    if owner.stopping.is_set():
                        return
                    try:
                        if not self.request.recv(4096):
                            return  # the peer gave up
                    except socket.timeout:
                        continue
                    except OSError:
                        return

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


# ---------------------------------------------------------------------------------------------
# test case base and challenge drivers


class VaTestCase(L.DaemonTestCase):
    """One DNS + one VaDaemon (+ responder) per class.

    DNS: "challtestsrv" (ChallTestSrv) or a list of mockdns.py arguments (ToolDNS).
    CAIRN_CONFIG: the "cairn" config section.  RESPONDER: None, or a responder class taking
    the daemon's httpPort (Http01Responder, HostileResponder)."""

    DNS = "challtestsrv"
    CAIRN_CONFIG = {}
    RESPONDER = None

    @classmethod
    def setUpClass(cls):
        reason = L.needs_cairn_bin()
        if reason:
            raise unittest.SkipTest(reason)
        cls.workdir = tempfile.mkdtemp(prefix="cairn-va-")
        cls.dns = None
        cls.daemon = None
        cls.responder = None
        try:
            if cls.DNS == "challtestsrv":
                cls.dns = ChallTestSrv(cls.workdir).start()
            else:
                cls.dns = ToolDNS(cls.workdir, cls.DNS).start()
            cls.daemon = VaDaemon(cls.dns.port, cls.DAEMON_ENV,
                                  workdir=os.path.join(cls.workdir, "d"), cairn=cls.CAIRN_CONFIG)
            os.makedirs(cls.daemon.workdir, exist_ok=True)
            if cls.RESPONDER is not None:
                cls.responder = cls.RESPONDER(cls.daemon.http_port).start()
            cls.daemon.start()
        except Exception:
            cls.tearDownClass()
            raise


def challenge_of(client, az_url, chall_type):
    az = client.post_as_get(az_url).json()
    for ch in az["challenges"]:
        if ch["type"] == chall_type:
            return az, ch
    raise AssertionError("no %s challenge in %s" % (chall_type, json.dumps(az)))


def start_challenge(testcase, client, names, chall_type, publish=None):
    """New order for names; for its first authz, publish(ident, token, key_authz) and POST the
    challenge. Returns (order_url, order, az_url, chall)."""
    order_url, order = client.order(names)
    az_url = order["authorizations"][0]
    az, chall = challenge_of(client, az_url, chall_type)
    if publish is not None:
        publish(az["identifier"]["value"], chall["token"],
                L.key_authorization(chall["token"], client.key))
    resp = client.post(chall["url"], {})
    testcase.assertEqual(resp.status, 200, resp)
    return order_url, order, az_url, chall


def finish_challenge(testcase, client, order_url, az_url, chall):
    """Waits (END_WAIT at most) for the challenge's end; returns the final challenge object,
    after checking that an invalid challenge made its authz and order invalid too."""
    az = client.poll(az_url, timeout=END_WAIT).json()
    testcase.assertIn(az["status"], ("valid", "invalid"),
                      "authz still %s after %.0fs" % (az["status"], END_WAIT))
    ch = client.post_as_get(chall["url"]).json()
    testcase.assertEqual(ch["status"], az["status"], ch)
    if ch["status"] == "invalid":
        testcase.assertEqual(client.post_as_get(order_url).json()["status"], "invalid")
        testcase.assertEqual(ch["error"]["status"],
                             403 if ch["error"]["type"] == L.ERR + "unauthorized" else 400,
                             ch["error"])
    return ch


def attempt(testcase, client, names, chall_type, publish=None):
    """start_challenge + finish_challenge: the final challenge object."""
    order_url, _order, az_url, chall = start_challenge(testcase, client, names, chall_type,
                                                       publish)
    return finish_challenge(testcase, client, order_url, az_url, chall)


def solve_dns01(testcase, client, order, dns):
    """Answers every pending authz of order with dns-01 through dns (a ChallTestSrv)."""
    for az_url in order["authorizations"]:
        az, ch = challenge_of(client, az_url, "dns-01")
        if az["status"] == "valid":
            continue
        name = "_acme-challenge." + az["identifier"]["value"]
        dns.set_txt(name, dns01_digest(L.key_authorization(ch["token"], client.key)))
        resp = client.post(ch["url"], {})
        testcase.assertEqual(resp.status, 200, resp)
        final = client.poll(az_url, timeout=END_WAIT).json()
        testcase.assertEqual(final["status"], "valid", json.dumps(final))


def issue_with(testcase, client, names, solve, ips=()):
    """Order names, solve(order), finalize with a CSR for the order's identifiers; returns
    (order, chain PEM)."""
    order_url, order = client.order(names)
    solve(order)
    order = client.poll(order_url, ("ready", "invalid")).json()
    testcase.assertEqual(order["status"], "ready", order)
    dns_names = [i["value"] for i in order["identifiers"] if i["type"] == "dns"]
    csr, _key = L.make_csr(dns_names, ips=ips)
    resp = client.finalize(order, csr)
    testcase.assertEqual(resp.status, 200, resp)
    order = client.poll(order_url).json()
    testcase.assertEqual(order["status"], "valid", order)
    cert = client.post_as_get(order["certificate"])
    testcase.assertEqual(cert.status, 200, cert)
    return order, cert.body.decode()
