"""Exactly once under concurrency (PROTOCOL.md §9.1): many simultaneous requests racing for one
state change; exactly one wins, the others get the documented problem, and the store holds
one result.

Requests are prepared first (each with its own nonce unless the test is about one nonce),
then released together from a barrier, each on its own TLS connection. Source addresses are
spread over 127.0.0.10-13 so the 64-per-IP connection cap is not what is being tested.
"""
import http.client
import os
import sqlite3
import threading
import unittest

import cairnlib as L

SOURCES = ["127.0.0.%d" % n for n in range(10, 14)]


def race(daemon, url, bodies):
    """POSTs every body at once; returns the Responses (an exception object for a failure)."""
    barrier = threading.Barrier(len(bodies))
    out = [None] * len(bodies)
    host, port = "127.0.0.1", daemon.port

    def one(i, body):
        conn = http.client.HTTPSConnection(host, port, context=daemon.ssl_context(),
                                           timeout=60, source_address=(SOURCES[i % 4], 0))
        try:
            conn.connect()
            barrier.wait(30)
            conn.request("POST", url[len(daemon.base):], body=body,
                         headers={"Content-Type": L.JOSE})
            resp = conn.getresponse()
            out[i] = L.Response(resp.status, resp.headers, resp.read())
        except Exception as e:  # noqa: BLE001 - reported by the caller
            out[i] = e
        finally:
            conn.close()

    threads = [threading.Thread(target=one, args=(i, b)) for i, b in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def db_value(daemon, query, *args):
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(daemon.state_dir, "cairn.db"),
                          uri=True, timeout=10)
    try:
        return con.execute(query, args).fetchone()[0]
    finally:
        con.close()


@L.cairn_only("reads cairn's state database")
class TestExactlyOnce(L.DaemonTestCase):
    DAEMON_ENV = {"PEBBLE_VA_ALWAYS_VALID": "1"}

    def body(self, client, url, payload, **kw):
        return L.json.dumps(client.jws(url, payload, **kw)).encode()

    def split(self, responses):
        errors = [r for r in responses if isinstance(r, Exception)]
        self.assertEqual(errors, [], "transport failures")
        for r in responses:
            self.assertTrue(r.nonce, "every answer carries a fresh Replay-Nonce")
        return responses

    def ready_order(self, client, names):
        url, order = client.order(names)
        client.authorize(order)
        order = client.poll(url, ("ready", "invalid")).json()
        self.assertEqual(order["status"], "ready")
        return url, order

    def test_64_finalizes_issue_one_certificate(self):
        c = self.client()
        url, order = self.ready_order(c, ["race-finalize.example.com"])
        csr, _ = L.make_csr(["race-finalize.example.com"])
        payload = {"csr": L.b64u(csr)}
        bodies = [self.body(c, order["finalize"], payload) for _ in range(64)]
        res = self.split(race(self.daemon, order["finalize"], bodies))
        ok = [r for r in res if r.status == 200]
        others = [r for r in res if r.status != 200]
        self.assertEqual(len(ok), 1, [(r.status, r.problem_type) for r in res])
        for r in others:
            self.assertEqual((r.status, r.problem_type), (403, L.ERR + "orderNotReady"))
            self.assertEqual(r.content_type, L.PROBLEM)
        order = c.poll(url).json()
        self.assertEqual(order["status"], "valid")
        oid = url.rsplit("/", 1)[1]
        self.assertEqual(db_value(self.daemon, "SELECT count(*) FROM certs WHERE order_id = ?",
                                  oid), 1)
        self.assertEqual(c.post_as_get(order["certificate"]).status, 200)

    def test_concurrent_revocations_revoke_once(self):
        c = self.client()
        issued = c.issue(["race-revoke.example.com"])
        payload = {"certificate": L.b64u(L.leaf_der(issued["pem"])), "reason": 4}
        url = c.url("revokeCert")
        bodies = [self.body(c, url, payload) for _ in range(16)]
        res = self.split(race(self.daemon, url, bodies))
        ok = [r for r in res if r.status == 200]
        self.assertEqual(len(ok), 1, [(r.status, r.problem_type) for r in res])
        for r in res:
            if r.status != 200:
                self.assertEqual((r.status, r.problem_type), (400, L.ERR + "alreadyRevoked"))
        self.assertEqual(db_value(self.daemon, "SELECT status FROM certs WHERE order_id = ?",
                                  issued["order_url"].rsplit("/", 1)[1]), "revoked")

    def test_one_nonce_succeeds_once(self):
        c = self.client()
        nonce = c.fresh_nonce()
        url = c.url("newOrder")
        before = db_value(self.daemon, "SELECT count(*) FROM orders")
        payload = {"identifiers": [{"type": "dns", "value": "race-nonce.example.com"}]}
        body = self.body(c, url, payload, nonce=nonce)
        res = self.split(race(self.daemon, url, [body] * 16))
        ok = [r for r in res if r.status == 201]
        self.assertEqual(len(ok), 1, [(r.status, r.problem_type) for r in res])
        for r in res:
            if r.status != 201:
                self.assertEqual((r.status, r.problem_type), (400, L.ERR + "badNonce"))
        self.assertEqual(db_value(self.daemon, "SELECT count(*) FROM orders"), before + 1)

    def test_concurrent_new_account_one_key_creates_one(self):
        c = self.client(register=False)
        url = c.url("newAccount")
        bodies = [self.body(c, url, {"termsOfServiceAgreed": True}, use_jwk=True)
                  for _ in range(16)]
        res = self.split(race(self.daemon, url, bodies))
        created = [r for r in res if r.status == 201]
        self.assertEqual(len(created), 1, [(r.status, r.problem_type) for r in res])
        locations = {r.location for r in res}
        for r in res:
            self.assertIn(r.status, (200, 201), r)
        self.assertEqual(len(locations), 1, locations)
        self.assertEqual(db_value(self.daemon, "SELECT count(*) FROM accounts WHERE "
                                  "key_thumbprint = ?", c.key.thumbprint()), 1)


if __name__ == "__main__":
    unittest.main()
