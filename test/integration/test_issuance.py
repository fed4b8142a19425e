"""End-to-end issuance, revocation, account life cycle and persistence against a real daemon.

Run: CAIRN_BIN=build/cairn /usr/bin/python3 test/integration/test_issuance.py -v
(ACME_SERVER=pebble runs the same flows against Debian's pebble; cairn-only cases skip.)
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cairnlib as L  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.x509.oid import ExtensionOID  # noqa: E402


class ChainChecks:
    """Assertions shared by every issuance test (C02)."""

    def check_chain(self, result, names):
        resp = result["cert_resp"]
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.content_type, "application/pem-certificate-chain")
        text = result["pem"]
        blocks = L.split_pem_chain(text)
        self.assertGreaterEqual(len(blocks), 2, "leaf and at least one intermediate")
        # CERTIFICATE blocks only: nothing but whitespace outside them.
        rest = text
        for b in blocks:
            rest = rest.replace(b, "")
        self.assertEqual(rest.strip(), "", "only CERTIFICATE blocks in the chain")
        leaf = x509.load_pem_x509_certificate(blocks[0].encode())
        san = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        self.assertEqual(sorted(san.value.get_values_for_type(x509.DNSName)), sorted(names))
        bc = leaf.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
        self.assertFalse(bc.ca, "leaf first, and it is not a CA")
        for b in blocks[1:]:
            inter = x509.load_pem_x509_certificate(b.encode())
            self.assertTrue(inter.extensions.get_extension_for_oid(
                ExtensionOID.BASIC_CONSTRAINTS).value.ca)
        # The leaf key is the CSR key.
        self.assertEqual(L.Key(private=result["cert_key"].private).spki_der(),
                         leaf.public_key().public_bytes(
                             L.serialization.Encoding.DER,
                             L.serialization.PublicFormat.SubjectPublicKeyInfo))
        root = self.daemon.root_pem()
        self.assertNotIn(L.split_pem_chain(root)[0], blocks, "no root in the chain")
        ok, out = L.openssl_verify(root, text, self.workdir)
        self.assertTrue(ok, out)
        return leaf


class TestHttp01Issuance(ChainChecks, L.DaemonTestCase):
    """Real http-01: the VA resolves through the mock DNS and fetches from our responder."""

    RESPONDER = True

    def test_issue_two_names_http01(self):
        c = self.client()
        names = ["test1.example.com", "test2.example.com"]
        self.responder.requests.clear()
        result = c.issue(names, self.responder)
        self.check_chain(result, names)
        fetched = {p.rsplit("/", 1)[-1] for p, _h in self.responder.requests}
        self.assertTrue(set(self.responder.tokens) & fetched, "the VA fetched our tokens")
        hosts = {h.split(":")[0] for _p, h in self.responder.requests}
        self.assertTrue(hosts <= set(names) | {"ready.example.com"}, hosts)
        order = c.post_as_get(result["order_url"]).json()
        self.assertEqual(order["status"], "valid")
        self.assertEqual(sorted(i["value"] for i in order["identifiers"]), names)

    def _failing_challenge(self, serve):
        c = self.client()
        order_url, order = c.order(["bad-http01-%d.example.com" % (serve is None)])
        az_url = order["authorizations"][0]
        az = c.post_as_get(az_url).json()
        chall = next(ch for ch in az["challenges"] if ch["type"] == "http-01")
        if serve is not None:
            self.responder.tokens[chall["token"]] = serve
        resp = c.post(chall["url"], {})
        self.assertEqual(resp.status, 200, resp)
        az = c.poll(az_url).json()
        self.assertEqual(az["status"], "invalid")
        ch = c.post_as_get(chall["url"]).json()
        self.assertEqual(ch["status"], "invalid")
        self.assertTrue(ch["error"]["type"].startswith(L.ERR), ch)
        order = c.post_as_get(order_url).json()
        self.assertEqual(order["status"], "invalid")
        return ch["error"]

    def test_http01_wrong_key_authorization_is_invalid(self):
        other = L.Key("ES256")
        err = self._failing_challenge("token." + other.thumbprint())
        self.assertEqual(err["type"], L.ERR + "unauthorized")

    def test_http01_missing_token_is_invalid(self):
        err = self._failing_challenge(None)
        self.assertIn(err["type"], (L.ERR + "unauthorized", L.ERR + "connection"))


class TestAlwaysValid(ChainChecks, L.DaemonTestCase):
    """PEBBLE_VA_ALWAYS_VALID=1: no responder, every challenge passes."""

    DAEMON_ENV = {"PEBBLE_VA_ALWAYS_VALID": "1"}

    def test_issue_always_valid_each_account_alg(self):
        for alg in ("ES256", "ES384", "RS256"):
            with self.subTest(alg=alg):
                c = self.client(alg)
                names = ["av-%s.example.com" % alg.lower(), "www.av-%s.example.com" % alg.lower()]
                self.check_chain(c.issue(names), names)

    @L.cairn_only("Pebble 2.4 has no ES512 account keys")
    def test_issue_es512_account(self):
        c = self.client("ES512")
        self.check_chain(c.issue(["es512.example.com"]), ["es512.example.com"])

    @L.cairn_only("Pebble 2.4 refuses Ed25519 account keys")
    def test_issue_eddsa_account(self):
        c = self.client("EdDSA")
        self.check_chain(c.issue(["eddsa.example.com"]), ["eddsa.example.com"])

    def _status(self, pem):
        serial = x509.load_pem_x509_certificate(L.split_pem_chain(pem)[0].encode()).serial_number
        resp = self.daemon.mgmt_get("/cert-status-by-serial/%x" % serial)
        self.assertEqual(resp.status, 200, resp)
        return resp.json()

    def test_revoke_by_account_then_already_revoked(self):
        c = self.client()
        res = c.issue(["revoke-acct.example.com"])
        self.assertEqual(self._status(res["pem"])["Status"], "Valid")
        resp = c.revoke(res["pem"], reason=4)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.body, b"")
        status = self._status(res["pem"])
        self.assertEqual(status["Status"], "Revoked")
        self.assertEqual(status.get("Reason"), 4)
        again = c.revoke(res["pem"])
        self.assertEqual(again.status, 400, again)
        self.assertEqual(again.problem_type, L.ERR + "alreadyRevoked")
        # Revoked certificates stay downloadable (Pebble 2.4 answers 404).
        self.assertEqual(c.post_as_get(res["cert_url"]).status, L.differs(200, 404))

    def test_revoke_by_certificate_key(self):
        c = self.client()
        res = c.issue(["revoke-jwk.example.com"])
        cert_key = L.Key(private=res["cert_key"].private)
        stranger = L.AcmeClient(self.daemon)
        resp = stranger.revoke(res["pem"], key=cert_key, use_jwk=True)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self._status(res["pem"])["Status"], "Revoked")
        again = c.revoke(res["pem"])
        self.assertEqual(again.problem_type, L.ERR + "alreadyRevoked", again)

    @L.cairn_only("Pebble neither records reason 1 for jwk revocation nor blocks the key")
    def test_revoke_by_certificate_key_blocks_key(self):
        c = self.client()
        res = c.issue(["revoke-block.example.com"])
        cert_key = L.Key(private=res["cert_key"].private)
        resp = L.AcmeClient(self.daemon).revoke(res["pem"], key=cert_key, use_jwk=True)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self._status(res["pem"]).get("Reason"), 1)
        # Blocked: a later CSR with that key is badCSR, a later account badPublicKey.
        order_url, order = c.order(["revoke-block.example.com"])
        c.authorize(order)
        order = c.poll(order_url, ("ready", "invalid")).json()
        csr, _ = L.make_csr(["revoke-block.example.com"], cert_key)
        bad = c.finalize(order, csr)
        self.assertEqual((bad.status, bad.problem_type), (400, L.ERR + "badCSR"), bad)
        acct = L.AcmeClient(self.daemon, key=cert_key).new_account()
        self.assertEqual((acct.status, acct.problem_type), (400, L.ERR + "badPublicKey"), acct)

    def test_revoke_by_other_account_is_unauthorized(self):
        c = self.client()
        res = c.issue(["revoke-other.example.com"])
        other = self.client()
        resp = other.revoke(res["pem"])
        self.assertEqual(resp.status, 403, resp)
        self.assertEqual(resp.problem_type, L.ERR + "unauthorized")
        self.assertEqual(self._status(res["pem"])["Status"], "Valid")

    def test_existing_account_lookup(self):
        c = self.client()
        again = c.new_account(only_existing=True)
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.location, c.kid)
        dup = c.new_account()
        self.assertEqual(dup.status, 200, dup)
        self.assertEqual(dup.location, c.kid)
        stranger = L.AcmeClient(self.daemon).new_account(only_existing=True)
        self.assertEqual((stranger.status, stranger.problem_type),
                         (400, L.ERR + "accountDoesNotExist"), stranger)

    def test_account_update_contact(self):
        c = self.client(contact=["mailto:first@test1.example.com"])
        acct = c.post_as_get(c.kid)
        self.assertEqual(acct.status, 200, acct)
        self.assertEqual(acct.json()["status"], "valid")
        self.assertEqual(acct.json()["contact"], ["mailto:first@test1.example.com"])
        resp = c.post(c.kid, {"contact": ["mailto:second@test1.example.com"]})
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["contact"], ["mailto:second@test1.example.com"])
        self.assertEqual(c.post_as_get(c.kid).json()["contact"],
                         ["mailto:second@test1.example.com"])

    def test_account_deactivate_then_unauthorized(self):
        c = self.client()
        order_url, _order = c.order(["deact.example.com"])
        resp = c.post(c.kid, {"status": "deactivated"})
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.json()["status"], "deactivated")
        for what, r in (("account", c.post_as_get(c.kid)),
                        ("newOrder", c.new_order(["deact2.example.com"]))):
            with self.subTest(what=what):
                self.assertEqual(r.status, L.differs(401, 403), r)  # D4
                self.assertEqual(r.problem_type, L.ERR + "unauthorized")

    @L.cairn_only("Pebble answers newAccount of a deactivated key differently")
    def test_account_deactivate_key_refused_and_order_invalid(self):
        c = self.client()
        order_url, _order = c.order(["deact3.example.com"])
        self.assertEqual(c.post(c.kid, {"status": "deactivated"}).status, 200)
        r = c.new_account()
        self.assertEqual((r.status, r.problem_type), (401, L.ERR + "unauthorized"), r)
        r = c.post_as_get(order_url)
        self.assertEqual(r.status, 401, r)

    def test_orders_list(self):
        c = self.client()
        urls = [c.order(["list%d.example.com" % i])[0] for i in range(4)]
        acct = c.post_as_get(c.kid).json()
        page_url, seen, pages = acct["orders"], [], 0
        while page_url and pages < 10:
            resp = c.post_as_get(page_url)
            self.assertEqual(resp.status, 200, resp)
            seen += resp.json()["orders"]
            nxt = resp.links("next")
            page_url = nxt[0] if nxt else None
            pages += 1
        self.assertEqual(sorted(seen), sorted(urls))
        self.assertGreaterEqual(pages, 2, "3 orders per page by default: 4 orders, 2 pages")

    @L.cairn_only("cairn lists oldest first (Pebble's order is unspecified)")
    def test_orders_list_oldest_first(self):
        c = self.client()
        urls = [c.order(["old%d.example.com" % i])[0] for i in range(2)]
        resp = c.post_as_get(c.post_as_get(c.kid).json()["orders"])
        self.assertEqual(resp.json()["orders"], urls)


@L.cairn_only("Pebble keeps no state across restarts")
class TestRestartPersistence(ChainChecks, L.DaemonTestCase):
    """Stop the daemon, start it again on the same state dir: everything is still there."""

    DAEMON_ENV = {"PEBBLE_VA_ALWAYS_VALID": "1"}

    def test_restart_keeps_ca_accounts_orders_certificates(self):
        c = self.client()
        names = ["persist.example.com"]
        res = c.issue(names)
        pending_url, _ = c.order(["persist-pending.example.com"])
        root_before = self.daemon.root_pem()
        inter_before = self.daemon.mgmt_get("/intermediates/0").body

        self.assertEqual(self.daemon.stop(), 0, "SIGTERM stops cairn with exit 0")
        self.daemon.start()

        self.assertEqual(self.daemon.root_pem(), root_before)
        self.assertEqual(self.daemon.mgmt_get("/intermediates/0").body, inter_before)
        c2 = L.AcmeClient(self.daemon, key=c.key)
        found = c2.new_account(only_existing=True)
        self.assertEqual(found.status, 200, found)
        self.assertEqual(found.location, c.kid)
        c2.kid = found.location
        order = c2.post_as_get(res["order_url"])
        self.assertEqual(order.status, 200, order)
        self.assertEqual(order.json()["status"], "valid")
        self.assertEqual(order.json()["certificate"], res["cert_url"])
        cert = c2.post_as_get(res["cert_url"])
        self.assertEqual(cert.status, 200, cert)
        self.assertEqual(cert.body.decode(), res["pem"])
        self.assertEqual(c2.post_as_get(pending_url).json()["status"], "pending")
        ok, out = L.openssl_verify(self.daemon.root_pem(), cert.body, self.workdir)
        self.assertTrue(ok, out)
        # And the restarted daemon still issues under the same root.
        res2 = c2.issue(["persist2.example.com"])
        self.check_chain(res2, ["persist2.example.com"])

    def test_sigint_stops_with_exit_0(self):
        self.daemon.proc.send_signal(L.signal.SIGINT)
        self.assertEqual(self.daemon.proc.wait(L.STOP_TIMEOUT), 0)
        self.daemon.start()
        self.assertEqual(L.AcmeClient(self.daemon).request(self.daemon.directory_url).status, 200)


if __name__ == "__main__":
    unittest.main()
