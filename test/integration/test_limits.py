"""Abusive clients against the front-end limits (PROTOCOL.md §6, §9.6): slowloris, slow POST
bodies, idle connections and a newNonce flood. Everything is bounded and on loopback; the
attackers use other 127.x source addresses than the legitimate client (the per-IP cap applies
per source address). Durations are measured and printed, never asserted; what is asserted is
the behaviour: a legitimate client still issues, caps hold, a slow body gets 408 and a close.
"""
import json
import os
import shutil
import socket
import ssl
import tempfile
import threading
import time
import unittest

import cairnlib as L

ATTACKERS = ["127.0.0.%d" % n for n in range(2, 10)]


class LimitsDaemon(L.Daemon):
    """A daemon whose config also has a "cairn" section (limits)."""

    def __init__(self, limits, **kw):
        super().__init__(L.free_port(), **kw)
        self.limits = limits

    def _config(self):
        path = super()._config()
        with open(path) as f:
            conf = json.load(f)
        conf["cairn"] = {"limits": self.limits}
        with open(path, "w") as f:
            json.dump(conf, f)
        return path


class LimitsTestCase(unittest.TestCase):
    LIMITS = {}

    @classmethod
    def setUpClass(cls):
        reason = L.needs_cairn_bin()
        if reason or L.PEBBLE:
            raise unittest.SkipTest(reason or "cairn's limits")
        cls.workdir = tempfile.mkdtemp(prefix="cairn-limits-")
        cls.daemon = LimitsDaemon(cls.LIMITS, env={"PEBBLE_VA_ALWAYS_VALID": "1"},
                                  workdir=cls.workdir)
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.daemon.cleanup()
        finally:
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def client(self):
        c = L.AcmeClient(self.daemon)
        c.register()
        return c

    def rss_kb(self):
        with open("/proc/%d/status" % self.daemon.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def connect_from(self, source, tls):
        """A socket from source to the ACME port; with tls, handshaken. None if refused."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(5)
        try:
            sock.bind((source, 0))
            sock.connect(("127.0.0.1", self.daemon.port))
            if tls:
                ctx = self.daemon.ssl_context()
                sock = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
            return sock
        except (OSError, ssl.SSLError):
            sock.close()
            return None


def still_open(sock):
    """True while the server has not closed sock (nothing readable, or data but no EOF)."""
    raw = sock
    try:
        raw.setblocking(False)
        data = raw.recv(1) if not isinstance(raw, ssl.SSLSocket) else raw.recv(1)
        return bool(data)
    except (BlockingIOError, ssl.SSLWantReadError):
        return True
    except (OSError, ssl.SSLError):
        return False


class TestSlowloris(LimitsTestCase):
    LIMITS = {"perIPConnections": 64, "connections": 1024, "idleTimeout": 30}

    def test_half_open_sockets_do_not_starve_a_legitimate_client(self):
        socks = []
        attempts = 0
        started = time.monotonic()
        try:
            # Per attacker address: 40 bare TCP sockets (TLS handshake never started) and 40
            # TLS connections with a request head that never ends: 80 > the per-IP cap of 64.
            for src in ATTACKERS:
                for i in range(80):
                    attempts += 1
                    s = self.connect_from(src, tls=i % 2 == 1)
                    if s is None:
                        continue
                    if isinstance(s, ssl.SSLSocket):
                        try:
                            s.sendall(b"GET /dir HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
                        except (OSError, ssl.SSLError):
                            s.close()
                            continue
                    socks.append((src, s))
            time.sleep(0.5)
            per_src = {}
            for src, s in socks:
                if still_open(s):
                    per_src[src] = per_src.get(src, 0) + 1
            held = sum(per_src.values())
            t0 = time.monotonic()
            c = self.client()
            issued = c.issue(["slowloris.example.com"])
            took = time.monotonic() - t0
            held_after = sum(1 for _, s in socks if still_open(s))
            print("\nslowloris: %d sockets tried from %d addresses, %d held open (max %d per "
                  "address); a client on 127.0.0.1 registered and issued in %.2f s; %d still "
                  "held afterwards; setup %.1f s" % (attempts, len(ATTACKERS), held,
                                                     max(per_src.values() or [0]), took,
                                                     held_after, t0 - started))
            self.assertTrue(issued["pem"].startswith("-----BEGIN CERTIFICATE-----"))
            for src, n in per_src.items():
                self.assertLessEqual(n, 64, "per-IP cap for %s" % src)
            self.assertGreater(held, 64, "the test should hold more than one address's cap")
        finally:
            for _, s in socks:
                s.close()


class TestDeadlines(LimitsTestCase):
    LIMITS = {"idleTimeout": 5, "bodyTimeout": 3, "maxBody": 4096}

    def slow_post(self, source, trickle):
        """POSTs a newOrder with the head at once and then the body either a byte every
        0.5 s (trickle) or whole after 4 s. Returns (bytes answered, body bytes sent, body
        length, seconds taken, whether the server closed)."""
        c = self.client()
        body = json.dumps(c.jws(c.url("newOrder"), {"identifiers": [
            {"type": "dns", "value": "slow-body.example.com"}]})).encode()
        s = self.connect_from(source, tls=True)
        self.assertIsNotNone(s)
        head = ("POST /acme/new-order HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: %s\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n"
                % (self.daemon.port, L.JOSE, len(body))).encode()
        t0 = time.monotonic()
        s.sendall(head)
        sent, data, closed = 0, b"", False
        s.settimeout(0.5)
        if not trickle:
            time.sleep(4)
            s.sendall(body)
            sent = len(body)
        # a byte every 0.5 s: never idle for the idle timeout, but far past the deadline
        while sent < len(body) and time.monotonic() - t0 < 60:
            try:
                s.sendall(body[sent:sent + 1])
                sent += 1
            except (OSError, ssl.SSLError):
                closed = True
                break
            try:
                chunk = s.recv(65536)
                if not chunk:
                    closed = True
                    break
                data += chunk
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            except (OSError, ssl.SSLError):
                closed = True
                break
        s.settimeout(10)
        try:
            while not closed:
                chunk = s.recv(65536)
                if not chunk:
                    closed = True
                data += chunk
        except socket.timeout:
            pass
        except (OSError, ssl.SSLError):
            closed = True
        took = time.monotonic() - t0
        s.close()
        return data, sent, len(body), took, closed

    def test_trickled_body_is_cut_off_at_the_deadline(self):
        data, sent, total, took, closed = self.slow_post("127.0.0.2", trickle=True)
        print("\nslow POST (a byte per 0.5 s): %d of %d body bytes taken, connection closed "
              "after %.1f s (bodyTimeout 3 s)" % (sent, total, took))
        self.assertTrue(closed, "the server closed the connection")
        self.assertLess(sent, total, "the body was cut off, not read to the end")
        self.assertEqual(data, b"", "closed without an answer (MHD cannot answer mid-body)")

    def test_body_completed_after_the_deadline_is_408(self):
        data, sent, total, took, closed = self.slow_post("127.0.0.4", trickle=False)
        print("\nlate POST body (complete after 4 s): answered and closed after %.1f s" % took)
        self.assertTrue(closed)
        resp = L.parse_raw_response(data)
        self.assertEqual(resp.status, 408)
        self.assertEqual(resp.content_type, L.PROBLEM)
        self.assertEqual(resp.problem_type, L.ERR + "malformed")
        self.assertTrue(resp.nonce)

    def test_idle_connection_is_closed(self):
        s = self.connect_from("127.0.0.3", tls=True)
        self.assertIsNotNone(s)
        t0 = time.monotonic()
        s.settimeout(60)
        try:
            data = s.recv(1)
        except (OSError, ssl.SSLError):
            data = b""
        took = time.monotonic() - t0
        s.close()
        print("\nidle connection closed by the server after %.1f s (idleTimeout 5 s)" % took)
        self.assertEqual(data, b"")

    def test_body_over_configured_cap_is_413(self):
        c = self.client()
        url = c.url("newOrder")
        resp = c.raw(url, b"x" * 5000)
        self.assertEqual(resp.status, 413)
        self.assertEqual(resp.problem_type, L.ERR + "malformed")
        self.assertTrue(resp.nonce)
        ok = c.new_order(["under-cap.example.com"])
        self.assertEqual(ok.status, 201)


class TestNonceFlood(LimitsTestCase):
    LIMITS = {}

    def test_new_nonce_flood_is_bounded(self):
        """20,000 newNonce answers (over keep-alive connections from 8 addresses): memory
        stays flat (nonces are stateless) and an early nonce still works afterwards."""
        c = self.client()
        early = c.fresh_nonce()
        rss0 = self.rss_kb()
        count = [0] * len(ATTACKERS)
        per = 2500

        def flood(i, src):
            import http.client
            conn = http.client.HTTPSConnection("127.0.0.1", self.daemon.port, timeout=30,
                                               context=self.daemon.ssl_context(),
                                               source_address=(src, 0))
            try:
                for _ in range(per):
                    conn.request("HEAD", "/acme/new-nonce")
                    r = conn.getresponse()
                    r.read()
                    if r.status == 200 and r.getheader("Replay-Nonce"):
                        count[i] += 1
            finally:
                conn.close()

        t0 = time.monotonic()
        threads = [threading.Thread(target=flood, args=(i, s)) for i, s in enumerate(ATTACKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        took = time.monotonic() - t0
        rss1 = self.rss_kb()
        total = sum(count)
        print("\nnewNonce flood: %d nonces in %.1f s (%.0f/s); daemon RSS %d -> %d KiB"
              % (total, took, total / took if took else 0, rss0, rss1))
        self.assertEqual(total, per * len(ATTACKERS))
        # stateless nonces: no per-nonce memory (the used set is a fixed 1 MiB bitmap). Under
        # ASan the allocator's quarantine (256 MiB) holds freed memory, so RSS says nothing.
        with open("/proc/%d/maps" % self.daemon.proc.pid) as f:
            asan = "libasan" in f.read()
        if not asan:
            self.assertLess(rss1 - rss0, 64 * 1024, "RSS grew by more than 64 MiB")
        resp = c.post(c.url("newOrder"), {"identifiers": [
            {"type": "dns", "value": "after-flood.example.com"}]}, nonce=early)
        self.assertEqual(resp.status, 201)


if __name__ == "__main__":
    unittest.main()
