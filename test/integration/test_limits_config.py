"""The configurable input limits of PROTOCOL.md §6 (`"cairn": {"limits": {...}}`): a daemon
started with small values applies them, answering just as it does at the default bounds.

maxIdentifiersPerOrder, maxContacts, maxJsonDepth, maxJsonString, maxRequestTarget and
maxHeader* are each tried just inside (accepted) and just outside (refused) the configured
value. The defaults are covered by test_badinput.py (101 identifiers, 11 contacts, depth 33,
9 kB targets, 10 kB headers) against a daemon without a limits section.

Run: CAIRN_BIN=build/cairn /usr/bin/python3 test/integration/test_limits_config.py -v
"""
import os
import secrets
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cairnlib as L  # noqa: E402

LIMITS = {
    "maxIdentifiersPerOrder": 2,
    "maxContacts": 1,
    "maxJsonDepth": 4,
    "maxJsonString": 4096,
    "maxRequestTarget": 512,
    "maxHeaderField": 1024,
    "maxHeaderTotal": 4096,
    "maxHeaderFields": 20,
}


def name():
    return "lc-%s.example.com" % secrets.token_hex(4)


def nested(depth):
    """A JSON value that makes a payload object `depth` deep in total."""
    value = "x"
    for _ in range(depth - 1):
        value = [value]
    return value


class TestConfiguredLimits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reason = L.needs_cairn_bin()
        if reason or L.PEBBLE:
            raise unittest.SkipTest(reason or "cairn's limits section")
        cls.workdir = tempfile.mkdtemp(prefix="cairn-limitscfg-")
        cls.daemon = L.Daemon(L.free_port(), env={"PEBBLE_VA_ALWAYS_VALID": "1"},
                              workdir=cls.workdir, cairn_extra={"limits": LIMITS})
        try:
            cls.daemon.start()
        except Exception:
            shutil.rmtree(cls.workdir, ignore_errors=True)
            raise
        cls.a = L.AcmeClient(cls.daemon)
        cls.a.register()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.daemon.cleanup()
        finally:
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def check_problem(self, resp, status, ptype, detail=None):
        self.assertEqual(resp.status, status, resp)
        self.assertEqual(resp.content_type, L.PROBLEM, resp)
        self.assertEqual(resp.json().get("type"), L.ERR + ptype, resp)
        self.assertTrue(resp.nonce_fresh, resp)
        if detail is not None:
            self.assertIn(detail, resp.json().get("detail", ""), resp)

    def test_identifiers_per_order(self):
        """maxIdentifiersPerOrder 2: 3 identifiers get the 101-identifier answer, 2 work."""
        self.check_problem(self.a.new_order([name() for _ in range(3)]), 400, "malformed",
                           "1 to 2 entries")
        self.check_problem(self.a.new_order([name() for _ in range(101)]), 400, "malformed",
                           "1 to 2 entries")
        resp = self.a.new_order([name(), name()])
        self.assertEqual(resp.status, 201, resp)
        self.assertEqual(len(resp.json()["identifiers"]), 2)

    def test_contacts(self):
        """maxContacts 1: two contacts are refused on newAccount and on an account update."""
        c = L.AcmeClient(self.daemon)
        two = ["mailto:a@example.org", "mailto:b@example.org"]
        self.check_problem(c.new_account(contact=two), 400, "malformed", "at most 1 contacts")
        resp = c.new_account(contact=two[:1])
        self.assertEqual(resp.status, 201, resp)
        c.kid = resp.location
        self.check_problem(c.post(c.kid, {"contact": two}), 400, "malformed",
                           "at most 1 contacts")
        resp = c.post(c.kid, {"contact": two[1:]})
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["contact"], two[1:])

    def test_json_depth(self):
        """maxJsonDepth 4: a payload 5 deep is malformed; 4 deep passes the parser (the
        unknown member is then ignored)."""
        c = L.AcmeClient(self.daemon)
        resp = c.new_account(payload={"termsOfServiceAgreed": True, "x": nested(5)})
        self.check_problem(resp, 400, "malformed", "nested deeper than 4 levels")
        resp = c.new_account(payload={"termsOfServiceAgreed": True, "x": nested(4)})
        self.assertEqual(resp.status, 201, resp)

    def test_json_string(self):
        """maxJsonString 4096: a 4,097-character string in a payload is malformed, 4,096 is
        accepted; a member name counts too."""
        c = L.AcmeClient(self.daemon)
        resp = c.new_account(payload={"termsOfServiceAgreed": True, "x": "a" * 4097})
        self.check_problem(resp, 400, "malformed", "longer than 4096")
        resp = c.new_account(payload={"termsOfServiceAgreed": True, "b" * 4097: 1})
        self.check_problem(resp, 400, "malformed", "longer than 4096")
        resp = c.new_account(payload={"termsOfServiceAgreed": True, "x": "a" * 4096})
        self.assertEqual(resp.status, 201, resp)

    def _head(self, head, target="/dir"):
        req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: t\r\n%s\r\n"
               % (target, self.daemon.port, head)).encode()
        data, closed, second = L.raw_answer_then_close("127.0.0.1", self.daemon.port, req,
                                                        self.a.ctx, 3.0)
        return L.parse_raw_response(data), closed, second

    def test_request_target(self):
        """maxRequestTarget 512: a 600-byte target gets 414 and the connection is closed; a
        500-byte one reaches routing (404) on a connection kept open."""
        resp, closed, second = self._head("", "/" + "a" * 600)
        self.check_problem(resp, 414, "malformed", "over 512 bytes")
        self.assertTrue(closed, "414 closes the connection")
        self.assertEqual(second, b"", "no answer to a second request after 414")
        resp, closed, second = self._head("", "/" + "a" * 499)
        self.check_problem(resp, 404, "malformed")
        self.assertFalse(closed, "a 404 keeps the connection")
        self.assertEqual(L.raw_status(second), 200, second[:100])

    def test_header_limits(self):
        """maxHeaderField 1024, maxHeaderTotal 4096, maxHeaderFields 20: each exceeded gets
        431 and a close; headers within all three are served."""
        for head in ("X-A: %s\r\n" % ("a" * 1100),
                     "".join("X-%d: %s\r\n" % (i, "a" * 900) for i in range(5)),
                     "".join("X-%d: a\r\n" % i for i in range(25))):
            with self.subTest(head=head[:12], size=len(head)):
                resp, closed, second = self._head(head)
                self.check_problem(resp, 431, "malformed", "20 fields, 1024 bytes each, 4096")
                self.assertTrue(closed, "431 closes the connection")
                self.assertEqual(second, b"")
        head = "X-A: %s\r\n" % ("a" * 1000) + "".join("X-%d: a\r\n" % i for i in range(15))
        resp, closed, _ = self._head(head)
        self.assertEqual(resp.status, 200, resp)
        self.assertFalse(closed)


if __name__ == "__main__":
    unittest.main()
