"""Identifier policy and CA-mode start checks (PROTOCOL.md §0, §5): domainBlocklist through
newOrder, the public-suffix rule and domainAllowlist in CA mode, and non-standard validation
ports refused at start without allowInsecureValidationPorts."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import cairnlib as L


def rejected(test, resp, names):
    """400 rejectedIdentifier with one subproblem per refused name, in order."""
    test.assertEqual(resp.status, 400, resp.body)
    doc = resp.json()
    test.assertEqual(doc["type"], "urn:ietf:params:acme:error:rejectedIdentifier")
    subs = doc.get("subproblems", [])
    test.assertEqual([s["identifier"]["value"] for s in subs], names)
    for s in subs:
        test.assertEqual(s["type"], "urn:ietf:params:acme:error:rejectedIdentifier")


class PolicyCase(L.DaemonTestCase):
    CONFIG = {}
    CAIRN = {}

    @classmethod
    def setUpClass(cls):
        reason = L.needs_cairn_bin()
        if reason:
            raise unittest.SkipTest(reason)
        if L.PEBBLE:
            raise unittest.SkipTest("cairn policy keys and subproblems")
        cls.workdir = tempfile.mkdtemp(prefix="cairn-policy-")
        cls.responder = None
        cls.daemon = None
        cls.dns = L.MockDNS(cls.workdir).start()
        try:
            cls.daemon = L.Daemon(cls.dns.port, {}, workdir=os.path.join(cls.workdir, "d"),
                                  config_extra=cls.CONFIG, cairn_extra=cls.CAIRN)
            cls.daemon.start()
        except Exception:
            cls.tearDownClass()
            raise


class TestBlocklistTestMode(PolicyCase):
    CONFIG = {"domainBlocklist": ["Blocked.Example.", "bad.lab.test"]}

    def test_blocked_names_refused(self):
        c = self.client()
        resp = c.new_order(["ok.example.org", "www.blocked.example", "*.lab.test"])
        rejected(self, resp, ["www.blocked.example", "*.lab.test"])
        rejected(self, c.new_order(["blocked.example"]), ["blocked.example"])
        resp = c.post(c.url("newAuthz"),
                      {"identifier": {"type": "dns", "value": "x.bad.lab.test"}})
        rejected(self, resp, ["x.bad.lab.test"])

    def test_other_names_accepted(self):
        c = self.client()
        self.assertEqual(c.new_order(["notblocked.example", "good.lab.test"]).status, 201)
        # test mode: no public-suffix rule for plain names
        self.assertEqual(c.new_order(["co.uk"]).status, 201)
        rejected(self, c.new_order(["*.co.uk"]), ["*.co.uk"])


class TestCaModePolicy(PolicyCase):
    # the harness's free validation ports are non-standard: CA mode needs the flag
    CAIRN = {"mode": "ca", "allowInsecureValidationPorts": True,
             "domainBlocklist": ["blocked.cairn-lab.org"]}

    def test_public_suffix_rule(self):
        c = self.client()
        rejected(self, c.new_order(["co.uk"]), ["co.uk"])
        rejected(self, c.new_order(["host.lan"]), ["host.lan"])
        rejected(self, c.new_order(["a.blocked.cairn-lab.org"]), ["a.blocked.cairn-lab.org"])
        self.assertEqual(c.new_order(["www.cairn-lab.org"]).status, 201)


class TestCaModeAllowlist(PolicyCase):
    CAIRN = {"mode": "ca", "allowInsecureValidationPorts": True,
             "domainAllowlist": ["lab.internal"]}

    def test_allowlist(self):
        c = self.client()
        self.assertEqual(c.new_order(["host.lab.internal"]).status, 201)
        rejected(self, c.new_order(["www.cairn-lab.org"]), ["www.cairn-lab.org"])


@unittest.skipIf(L.PEBBLE, "cairn CA mode")
class TestCaModePorts(unittest.TestCase):
    def setUp(self):
        reason = L.needs_cairn_bin()
        if reason:
            self.skipTest(reason)
        self.work = tempfile.mkdtemp(prefix="cairn-ports-")

    def tearDown(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def run_cairn(self, pebble, cairn):
        path = os.path.join(self.work, "config.json")
        with open(path, "w") as f:
            json.dump({"pebble": pebble, "cairn": cairn}, f)
        # a config error exits before anything listens; a timeout here is a failure
        return subprocess.run([os.environ["CAIRN_BIN"], "-config", path, "--state-dir",
                               os.path.join(self.work, "state")], capture_output=True,
                              timeout=30, stdin=subprocess.DEVNULL)

    def test_non_standard_ports_refused(self):
        base = {"listenAddress": "127.0.0.1:%d" % L.free_port(),
                "managementListenAddress": "127.0.0.1:%d" % L.free_port()}
        res = self.run_cairn(dict(base, httpPort=5002), {"mode": "ca"})
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn(b"httpPort", res.stderr)
        self.assertIn(b"allowInsecureValidationPorts", res.stderr)
        res = self.run_cairn(dict(base, tlsPort=5001), {"mode": "ca"})
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn(b"tlsPort", res.stderr)

    def test_flag_allows_them(self):
        dns = L.MockDNS(self.work).start()
        daemon = L.Daemon(dns.port, {}, workdir=os.path.join(self.work, "d"),
                          cairn_extra={"mode": "ca", "allowInsecureValidationPorts": True})
        try:
            daemon.start()
            self.assertNotEqual(daemon.http_port, 80)
            self.assertEqual(daemon.mgmt_get("/health").status, 200)
        finally:
            try:
                daemon.cleanup()
            finally:
                dns.stop()


if __name__ == "__main__":
    unittest.main()
