"""Operations (issue 7): metrics, access logs, drain on SIGTERM, reload on SIGHUP, readiness
notifications, runtime fault injection and rate limits, against the real daemon."""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import tempfile
import threading
import time
import unittest

import cairnlib as L

ALWAYS_VALID = {"PEBBLE_VA_ALWAYS_VALID": "1"}


def metrics(daemon):
    """{ 'name{labels}': value } from GET /metrics, checking every line's syntax."""
    resp = daemon.mgmt_get("/metrics")
    if resp.status != 200:
        raise AssertionError("GET /metrics: %r" % resp)
    out = {}
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (-?[0-9.e+]+|\+Inf)$')
    for line in resp.body.decode().splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        m = sample.match(line)
        if not m:
            raise AssertionError("bad exposition line %r" % line)
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def mgmt(daemon, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json"} if data is not None else {}
    return L.http_request(daemon.mgmt_base + path, method, data, hdrs, ctx=daemon.ssl_context())


def wait_for(pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


class OpsCase(unittest.TestCase):
    """A fresh daemon per test (faults, limits and signals change its state)."""

    ENV = ALWAYS_VALID
    CAIRN = {}
    ARGS = ()

    def setUp(self):
        reason = L.needs_cairn_bin()
        if reason or L.PEBBLE:
            self.skipTest(reason or "cairn operations")
        self.workdir = tempfile.mkdtemp(prefix="cairn-ops-")
        self.dns = L.MockDNS(self.workdir).start()
        self.daemon = self.make_daemon()
        self.daemon.start()

    def make_daemon(self, **kw):
        return L.Daemon(self.dns.port, dict(self.ENV), workdir=os.path.join(self.workdir, "d"),
                        cairn_extra=self.CAIRN, args=self.ARGS, **kw)

    def tearDown(self):
        try:
            self.daemon.cleanup()
        finally:
            self.dns.stop()
            shutil.rmtree(self.workdir, ignore_errors=True)

    def client(self):
        c = L.AcmeClient(self.daemon)
        c.register()
        return c

    def ready_order(self, c, names):
        url, order = c.order(names)
        c.authorize(order)
        order = c.poll(url, ("ready", "invalid")).json()
        self.assertEqual(order["status"], "ready")
        return url, order


class TestMetricsAndLogs(OpsCase):
    def test_metrics_follow_requests(self):
        key = 'cairn_http_requests_total{route="/dir",method="GET",code="200"}'
        before = metrics(self.daemon)
        c = L.AcmeClient(self.daemon)
        for _ in range(3):
            self.assertEqual(c.request(self.daemon.directory_url).status, 200)
        # a request is counted when MHD reports it complete, which may trail the answer the
        # client already read: poll (bounded) instead of reading once
        for _ in range(50):
            after = metrics(self.daemon)
            if after.get(key, 0) - before.get(key, 0) >= 3:
                break
            time.sleep(0.05)
        self.assertEqual(after.get(key, 0) - before.get(key, 0), 3)
        self.assertGreaterEqual(after["cairn_nonces_issued_total"]
                                - before["cairn_nonces_issued_total"], 3)
        self.assertGreaterEqual(after["cairn_http_request_duration_seconds_count"]
                                - before["cairn_http_request_duration_seconds_count"], 3)
        # a stale nonce: badNonce is counted twice (problem type and the nonce counter)
        c.register()
        resp = c.post(
            c.url("newOrder"), {"identifiers": [{"type": "dns", "value": "m.example.com"}]},
            nonce="AAAAAAAAAAAAAAAAAAAAAA")
        self.assertEqual(resp.problem_type, L.ERR + "badNonce")
        bad = metrics(self.daemon)
        self.assertEqual(bad['cairn_problems_total{type="badNonce"}']
                         - after.get('cairn_problems_total{type="badNonce"}', 0), 1)
        self.assertEqual(bad["cairn_bad_nonces_total"] - after["cairn_bad_nonces_total"], 1)

    def test_issuance_counts(self):
        before = metrics(self.daemon)
        c = self.client()
        c.issue(["metrics.example.com"])
        after = metrics(self.daemon)
        self.assertEqual(after["cairn_certificates_issued_total"]
                         - before["cairn_certificates_issued_total"], 1)
        key = 'cairn_validations_total{type="http-01",result="valid"}'
        self.assertEqual(after.get(key, 0) - before.get(key, 0), 1)
        self.assertGreater(after['cairn_store_transaction_seconds_count{kind="write"}'],
                           before['cairn_store_transaction_seconds_count{kind="write"}'])
        self.assertIn("cairn_va_queue_depth", after)
        self.assertGreaterEqual(after["cairn_connections_open"], 0)

    def test_access_line_per_request(self):
        c = self.client()
        url, _ = c.order(["log.example.com"])
        order_id = url.rsplit("/", 1)[1]
        acct_id = c.kid.rsplit("/", 1)[1]

        def line_for(path):
            return [l for l in self.daemon.output
                    if "msg=\"request\"" in l and ("path=" + path) in l]
        self.assertTrue(wait_for(lambda: line_for("/acme/new-order")))
        line = line_for("/acme/new-order")[-1]
        for field in ("status=201", "acct=" + acct_id, "order=" + order_id, "method=POST",
                      "req=", "dur_ms="):
            self.assertIn(field, line)
        # a problem answer names its type
        L.http_request(self.daemon.base + "/nope", ctx=self.daemon.ssl_context())
        self.assertTrue(wait_for(lambda: line_for("/nope")))
        self.assertIn("status=404 problem=malformed", line_for("/nope")[-1])


class TestJsonLogs(OpsCase):
    ARGS = ("--log-format", "json")

    def test_json_lines(self):
        c = self.client()
        c.order(["json.example.com"])
        self.assertTrue(wait_for(lambda: any('"path":"/acme/new-order"' in l
                                             for l in self.daemon.output)))
        records = [json.loads(l) for l in self.daemon.output if l.startswith("{")]
        self.assertGreater(len(records), 3)
        access = [r for r in records if r.get("path") == "/acme/new-order"][-1]
        self.assertEqual(access["status"], 201)
        self.assertEqual(access["msg"], "request")
        for k in ("ts", "lvl", "mod", "req", "acct", "order", "dur_ms"):
            self.assertIn(k, access)
        # the text lines Pebble tools wait for are still printed
        self.assertTrue(any(l.startswith("Listening on: ") for l in self.daemon.output))


class TestDrain(OpsCase):
    def test_sigterm_finishes_inflight_finalize(self):
        c = self.client()
        url, order = self.ready_order(c, ["drain.example.com"])
        resp = mgmt(self.daemon, "POST", "/cairn/faults",
                    {"endpoint": "finalize", "delayMs": 2500})
        self.assertEqual(resp.status, 201, resp)
        csr, _ = L.make_csr(["drain.example.com"])
        result = {}
        t = threading.Thread(target=lambda: result.update(r=c.finalize(order, csr)))
        t.start()
        # the finalize is in flight (held by the delay) when the signal arrives
        self.assertTrue(wait_for(lambda: any("fault 1 fired on finalize" in l
                                             for l in self.daemon.output)))
        os.kill(self.daemon.proc.pid, signal.SIGTERM)
        self.assertTrue(wait_for(lambda: any("draining" in l for l in self.daemon.output)))
        late = L.http_request(self.daemon.directory_url, ctx=self.daemon.ssl_context())
        self.assertEqual(late.status, 503)
        self.assertEqual(late.problem_type, L.ERR + "serverInternal")
        self.assertTrue(late.header("Retry-After"))
        t.join(20)
        self.assertEqual(result["r"].status, 200, result.get("r"))
        self.assertEqual(result["r"].json()["status"], "valid")
        self.assertEqual(self.daemon.proc.wait(20), 0)
        self.daemon.stop()
        # the certificate is really stored: a restart on the same state serves it
        self.daemon.start()
        c2 = L.AcmeClient(self.daemon, key=c.key)
        c2.kid = c.kid
        final = c2.post_as_get(url).json()
        self.assertEqual(final["status"], "valid")
        self.assertEqual(c2.post_as_get(final["certificate"]).status, 200)


class TestNotify(OpsCase):
    def setUp(self):
        self.sockdir = tempfile.mkdtemp(prefix="cairn-notify-")
        self.sock_path = os.path.join(self.sockdir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        self.sock.settimeout(20)
        self.ENV = dict(ALWAYS_VALID, NOTIFY_SOCKET=self.sock_path)
        super().setUp()

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            self.sock.close()
            shutil.rmtree(self.sockdir, ignore_errors=True)

    def recv(self):
        return self.sock.recv(4096).decode()

    def test_ready_reloading_stopping(self):
        self.assertEqual(self.recv(), "READY=1")
        os.kill(self.daemon.proc.pid, signal.SIGHUP)
        self.assertEqual(self.recv(), "RELOADING=1")
        self.assertEqual(self.recv(), "READY=1")
        # an invalid file: the old configuration stays and the daemon keeps serving
        with open(os.path.join(self.daemon.workdir, "config.json"), "w") as f:
            f.write('{"cairn": {"logFormat": "yaml"}}')
        os.kill(self.daemon.proc.pid, signal.SIGHUP)
        self.assertEqual(self.recv(), "RELOADING=1")
        self.assertEqual(self.recv(), "READY=1")
        self.assertTrue(wait_for(lambda: any("keeping the old one" in l
                                             for l in self.daemon.output)))
        self.assertEqual(L.http_request(self.daemon.directory_url,
                                        ctx=self.daemon.ssl_context()).status, 200)
        self.daemon.stop()
        self.assertEqual(self.daemon.exit_code, 0)
        self.assertEqual(self.recv(), "STOPPING=1")

    def test_reload_names_limits_it_cannot_apply(self):
        self.assertEqual(self.recv(), "READY=1")
        path = os.path.join(self.daemon.workdir, "config.json")
        with open(path) as f:
            conf = json.load(f)
        conf.setdefault("cairn", {}).setdefault("limits", {})["maxBody"] = 4096
        with open(path, "w") as f:
            json.dump(conf, f)
        os.kill(self.daemon.proc.pid, signal.SIGHUP)
        self.assertEqual(self.recv(), "RELOADING=1")
        self.assertEqual(self.recv(), "READY=1")
        self.assertTrue(wait_for(lambda: any(
            "limits.maxBody changed; it takes effect at the next restart" in l
            for l in self.daemon.output)), "no restart notice for limits.maxBody")
        # nothing else differs, so nothing else is named
        self.assertFalse(any("maxJsonDepth changed" in l for l in self.daemon.output))


class TestReloadCertificate(OpsCase):
    def setUp(self):
        self.tls = tempfile.mkdtemp(prefix="cairn-tls-")
        self.pairs = []
        for n in ("a", "b"):
            d = os.path.join(self.tls, n)
            os.makedirs(d)
            self.pairs.append(L.self_signed_tls(d))
        self.live = os.path.join(self.tls, "live")
        os.makedirs(self.live)
        self.install(0)
        self.CAIRN = {}
        super().setUp()

    def make_daemon(self, **kw):
        return super().make_daemon(config_extra={
            "certificate": os.path.join(self.live, "cert.pem"),
            "privateKey": os.path.join(self.live, "key.pem")})

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            shutil.rmtree(self.tls, ignore_errors=True)

    def install(self, i):
        shutil.copy(self.pairs[i][0], os.path.join(self.live, "cert.pem"))
        shutil.copy(self.pairs[i][1], os.path.join(self.live, "key.pem"))

    def der(self, i):
        with open(self.pairs[i][0]) as f:
            return ssl.PEM_cert_to_DER_cert(f.read())

    @staticmethod
    def any_cert_ctx():
        # both test pairs share a subject name, so trust is checked by identity (DER) instead
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def served_cert(self):
        ctx = self.any_cert_ctx()
        with socket.create_connection(("127.0.0.1", self.daemon.port), 5) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                return t.getpeercert(binary_form=True)

    def test_sighup_swaps_certificate_without_failures(self):
        self.assertEqual(self.served_cert(), self.der(0))
        ctx = self.any_cert_ctx()
        stop = threading.Event()
        stats = {"ok": 0, "failed": []}

        def loop():
            while not stop.is_set():
                try:
                    r = L.http_request(self.daemon.directory_url, ctx=ctx, timeout=10)
                    if r.status == 200:
                        stats["ok"] += 1
                    else:
                        stats["failed"].append(r.status)
                except Exception as e:  # noqa: BLE001 - any failure counts
                    stats["failed"].append(repr(e))
        t = threading.Thread(target=loop)
        t.start()
        try:
            self.assertTrue(wait_for(lambda: stats["ok"] >= 5))
            # a broken key first: the old pair stays in service
            with open(os.path.join(self.live, "key.pem"), "w") as f:
                f.write("not a key\n")
            os.kill(self.daemon.proc.pid, signal.SIGHUP)
            self.assertTrue(wait_for(lambda: any("keeping the old pair" in l
                                                 for l in self.daemon.output)))
            self.assertEqual(self.served_cert(), self.der(0))
            self.install(1)
            os.kill(self.daemon.proc.pid, signal.SIGHUP)
            self.assertTrue(wait_for(lambda: self.served_cert() == self.der(1)))
            seen = stats["ok"]
            self.assertTrue(wait_for(lambda: stats["ok"] >= seen + 5))
        finally:
            stop.set()
            t.join(15)
        self.assertEqual(stats["failed"], [])
        print("\nreload: %d requests during the test, none failed" % stats["ok"])


class TestFaults(OpsCase):
    def add(self, spec, status=201):
        resp = mgmt(self.daemon, "POST", "/cairn/faults", spec)
        self.assertEqual(resp.status, status, resp)
        return resp.json()

    def clear(self):
        self.assertEqual(mgmt(self.daemon, "DELETE", "/cairn/faults").status, 200)
        self.assertEqual(mgmt(self.daemon, "GET", "/cairn/faults").json(), {"faults": []})

    def test_rate_limited_with_retry_after_then_cleared(self):
        c = self.client()
        fid = self.add({"endpoint": "newOrder", "status": 429, "problem": "rateLimited",
                        "retryAfter": 7})["id"]
        resp = c.new_order(["f.example.com"])
        self.assertEqual(resp.status, 429)
        self.assertEqual(resp.problem_type, L.ERR + "rateLimited")
        self.assertEqual(resp.header("Retry-After"), "7")
        # other endpoints are untouched
        self.assertEqual(c.request(self.daemon.directory_url).status, 200)
        listed = mgmt(self.daemon, "GET", "/cairn/faults").json()["faults"]
        self.assertEqual([(f["id"], f["endpoint"], f["fired"]) for f in listed],
                         [(fid, "newOrder", 1)])
        m = metrics(self.daemon)
        self.assertEqual(m['cairn_faults_injected_total{endpoint="newOrder",kind="error"}'], 1)
        self.assertTrue(any("fault=%d" % fid in l and "status=429" in l
                            for l in self.daemon.output))
        self.clear()
        self.assertEqual(c.new_order(["f.example.com"]).status, 201)

    def test_every_nth_503_on_all_endpoints(self):
        self.add({"endpoint": "*", "every": 2, "status": 503})
        got = [L.http_request(self.daemon.directory_url, ctx=self.daemon.ssl_context())
               for _ in range(4)]
        self.assertEqual([r.status for r in got], [200, 503, 200, 503])
        self.assertEqual(got[1].problem_type, L.ERR + "serverInternal")
        self.assertEqual(got[1].header("Retry-After"), "5")
        self.assertEqual(mgmt(self.daemon, "POST", "/cairn/faults/clear").status, 200)
        self.assertEqual([L.http_request(self.daemon.directory_url,
                                         ctx=self.daemon.ssl_context()).status
                          for _ in range(2)], [200, 200])

    def test_bad_nonce_and_500_percent_and_times(self):
        c = self.client()
        self.add({"endpoint": "newOrder", "percent": 100, "problem": "badNonce", "times": 1})
        r1 = c.new_order(["n.example.com"])
        self.assertEqual((r1.status, r1.problem_type), (400, L.ERR + "badNonce"))
        self.assertEqual(c.new_order(["n.example.com"]).status, 201, "times: 1 fired once")
        self.clear()
        self.add({"endpoint": "order", "status": 500})
        url, _ = c.order(["o.example.com"])
        r = c.post_as_get(url)
        self.assertEqual((r.status, r.problem_type), (500, L.ERR + "serverInternal"))
        self.clear()
        self.assertEqual(c.post_as_get(url).status, 200)

    def test_delay_and_slow_validation(self):
        self.add({"endpoint": "directory", "delayMs": 600, "times": 1})
        t0 = time.monotonic()
        self.assertEqual(L.http_request(self.daemon.directory_url,
                                        ctx=self.daemon.ssl_context()).status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.6)  # a sleep never ends early
        self.assertEqual(metrics(self.daemon)[
            'cairn_faults_injected_total{endpoint="directory",kind="delay"}'], 1)
        # a validation fault makes the check fail although the VA would pass it
        self.add({"endpoint": "validation", "problem": "connection", "delayMs": 100})
        c = self.client()
        url, order = c.order(["v.example.com"])
        with self.assertRaises(L.AcmeError):
            c.authorize(order)
        self.assertEqual(c.post_as_get(url).json()["status"], "invalid")
        self.clear()
        self.ready_order(c, ["v2.example.com"])

    def test_bad_specs_refused(self):
        for spec in ({"endpoint": "newOrder"}, {"endpoint": "x", "status": 200},
                     {"endpoint": "x", "every": 2, "percent": 5, "status": 500},
                     {"endpoint": "x", "problem": "nope"}, {"endpoint": "x", "bogus": 1},
                     ["not", "an", "object"]):
            self.assertIn("error", self.add(spec, status=400))
        self.assertEqual(mgmt(self.daemon, "GET", "/cairn/faults").json(), {"faults": []})


class TestRateLimits(OpsCase):
    CAIRN = {"rateLimits": {"newOrdersPerAccount": {"count": 2, "window": 3600},
                            "certificatesPerName": {"count": 1, "window": 600},
                            "failedValidationsPerAccountName": {"count": 1, "window": 300}}}

    def assert_limited(self, resp, limit, max_wait):
        self.assertEqual(resp.status, 429, resp)
        self.assertEqual(resp.problem_type, L.ERR + "rateLimited")
        self.assertIn(limit, resp.json()["detail"])
        wait = int(resp.header("Retry-After"))
        self.assertTrue(0 < wait <= max_wait, wait)

    def test_new_orders_per_account(self):
        c = self.client()
        self.assertEqual(c.new_order(["r1.example.com"]).status, 201)
        self.assertEqual(c.new_order(["r2.example.com"]).status, 201)
        self.assert_limited(c.new_order(["r3.example.com"]), "newOrdersPerAccount", 3600)
        # another account has its own budget
        self.assertEqual(self.client().new_order(["r3.example.com"]).status, 201)
        m = metrics(self.daemon)
        self.assertEqual(m['cairn_rate_limited_total{limit="newOrdersPerAccount"}'], 1)

    def test_certificates_per_name(self):
        self.client().issue(["once.example.com"])
        c = self.client()
        self.assert_limited(c.new_order(["once.example.com"]), "certificatesPerName", 600)
        self.assertEqual(c.new_order(["other.example.com"]).status, 201)

    def test_failed_validations_per_account_and_name(self):
        c = self.client()
        self.assertEqual(mgmt(self.daemon, "POST", "/cairn/faults",
                              {"endpoint": "validation", "problem": "dns",
                               "times": 1}).status, 201)
        _, order = c.order(["fail.example.com"])
        with self.assertRaises(L.AcmeError):
            c.authorize(order)
        self.assert_limited(c.new_order(["fail.example.com"]),
                            "failedValidationsPerAccountName", 300)
        self.assertEqual(self.client().new_order(["fail.example.com"]).status, 201)


class TestAdminCli(OpsCase):
    def cli(self, *args, state=None, check=True):
        import subprocess
        res = subprocess.run([os.environ["CAIRN_BIN"], *args, "--state-dir",
                              state or self.daemon.state_dir], capture_output=True, timeout=60,
                             stdin=subprocess.DEVNULL)
        if check and res.returncode != 0:
            raise AssertionError("cairn %s: %d %s" % (" ".join(args), res.returncode,
                                                        res.stderr.decode()))
        return res

    def cli_json(self, *args, **kw):
        return json.loads(self.cli(*args, "--json", **kw).stdout)

    def test_accounts_and_certs(self):
        c = L.AcmeClient(self.daemon)
        c.register(contact=["mailto:ops@example.com"])
        acct = c.kid.rsplit("/", 1)[1]
        result = c.issue(["cli.example.com"])
        accounts = self.cli_json("accounts", "list")["accounts"]
        self.assertEqual([(a["id"], a["orders"], a["certificates"]) for a in accounts],
                         [(acct, 1, 1)])
        self.assertIn("ops@example.com", self.cli("accounts", "show", acct).stdout.decode())
        certs = self.cli_json("certs", "list", "--account", acct)["certificates"]
        self.assertEqual(len(certs), 1)
        serial = certs[0]["serial"]
        shown = self.cli_json("certs", "show", serial.upper())
        self.assertEqual(shown["names"], ["cli.example.com"])
        self.assertEqual(L.split_pem_chain(shown["pem"])[0],
                         L.split_pem_chain(result["pem"])[0])
        self.assertEqual(self.cli("certs", "show", "ab12", check=False).returncode, 1)
        # revoke by serial: the running daemon sees it
        self.assertEqual(self.cli("certs", "revoke", serial, "--reason", "7",
                                  check=False).returncode, 2)
        self.cli("certs", "revoke", serial, "--reason", "4")
        status = self.daemon.mgmt_get("/cert-status-by-serial/" + serial).json()
        self.assertEqual((status["Status"], status["Reason"]), ("Revoked", 4))
        self.assertEqual(self.cli("certs", "revoke", serial, check=False).returncode, 1)
        # deactivate: the account can no longer order
        self.cli("accounts", "deactivate", acct)
        self.assertEqual(c.new_order(["after.example.com"]).status, 401)
        self.assertTrue(self.cli_json("db", "check")["ok"])

    def test_backup_while_serving_restores(self):
        clients = [self.client() for _ in range(3)]
        stop = threading.Event()
        errors = []
        done = []

        def writer():  # keeps the database busy while the backup runs
            w = self.client()
            while not stop.is_set():
                r = w.new_order(["busy%d.example.com" % len(done)])
                done.append(r.status)
                if r.status != 201:
                    errors.append(r)
        t = threading.Thread(target=writer)
        t.start()
        backup = os.path.join(self.workdir, "backup.db")
        try:
            self.assertTrue(wait_for(lambda: len(done) >= 3))
            self.assertIn("backed up", self.cli("db", "backup", backup).stdout.decode())
        finally:
            stop.set()
            t.join(20)
        self.assertEqual(errors, [])
        self.assertEqual(self.cli("db", "backup", backup, check=False).returncode, 1,
                         "an existing file is never overwritten")
        # restore: the CA keys (unchanged since init) and the database into a new state dir
        restored = L.Daemon(self.dns.port, dict(self.ENV),
                            workdir=os.path.join(self.workdir, "restored"))
        shutil.copytree(os.path.join(self.daemon.state_dir, "ca"),
                        os.path.join(restored.state_dir, "ca"))
        shutil.copy(backup, os.path.join(restored.state_dir, "cairn.db"))
        self.assertTrue(self.cli_json("db", "check", state=restored.state_dir)["ok"])
        restored.start()
        try:
            for c in clients:
                again = L.AcmeClient(restored, key=c.key)
                resp = again.new_account(only_existing=True)
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.location.rsplit("/", 1)[1], c.kid.rsplit("/", 1)[1])
        finally:
            restored.cleanup()


class TestRateLimitsOffInTestMode(OpsCase):
    def test_no_default_limits(self):
        c = self.client()
        for i in range(12):
            self.assertEqual(c.new_order(["many%d.example.com" % i]).status, 201)


if __name__ == "__main__":
    unittest.main()
