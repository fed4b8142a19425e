"""dns-01 through the daemon (RFC 8555 §8.4): issuance for a name and for a wildcard with its
base name, TXT records published through pebble-challtestsrv's management API; and every
failure with its problem type: no TXT and a wrong TXT -> unauthorized, NXDOMAIN and SERVFAIL
-> dns (test/tools/mockdns.py gives fixed answers).  http-01 failures that need no responder
(refused connection) live here too, since the mock-DNS class has none."""

import unittest

import cairnlib as L
import valib as V
from cryptography import x509


def assert_detail(testcase, err, text):
    """cairn's details name what was seen (PROTOCOL.md §3); Pebble's are vaguer."""
    if not L.PEBBLE:
        testcase.assertIn(text, err["detail"])


def san_names(chain_pem):
    cert = x509.load_pem_x509_certificate(L.split_pem_chain(chain_pem)[0].encode())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return sorted(san.get_values_for_type(x509.DNSName))


class TestDns01(V.VaTestCase):
    """Real dns-01 against pebble-challtestsrv, whose TXT records the test sets."""

    DNS = "challtestsrv"
    CAIRN_CONFIG = {"vaTimeoutMs": V.VA_TIMEOUT_MS}

    def test_dns01_one_name_issues(self):
        c = self.client()
        order, pem = V.issue_with(self, c, ["dns01.example.com"],
                                  lambda o: V.solve_dns01(self, c, o, self.dns))
        self.assertEqual(san_names(pem), ["dns01.example.com"])
        ok, out = L.openssl_verify(self.daemon.root_pem(), pem, self.workdir)
        self.assertTrue(ok, out)

    def test_dns01_wildcard_and_base_name_issue(self):
        c = self.client()
        names = ["*.wild.example.com", "wild.example.com"]
        order_url, order = c.order(names)
        azs = [c.post_as_get(u).json() for u in order["authorizations"]]
        # Both authzs name the base domain; only the wildcard's says so, and offers dns-01 only.
        self.assertEqual([a["identifier"]["value"] for a in azs], ["wild.example.com"] * 2)
        wild = [a for a in azs if a.get("wildcard")]
        self.assertEqual(len(wild), 1, azs)
        self.assertEqual([ch["type"] for ch in wild[0]["challenges"]], ["dns-01"])
        # Two TXT records at the same name, one per authz: the VA must accept either.
        V.solve_dns01(self, c, order, self.dns)
        order = c.poll(order_url, ("ready", "invalid")).json()
        self.assertEqual(order["status"], "ready", order)
        csr, _key = L.make_csr(names)
        resp = c.finalize(order, csr)
        self.assertEqual(resp.status, 200, resp)
        order = c.poll(order_url).json()
        pem = c.post_as_get(order["certificate"]).body.decode()
        self.assertEqual(san_names(pem), sorted(names))
        self.dns.clear_txt("_acme-challenge.wild.example.com")

    def test_dns01_no_txt_is_unauthorized(self):
        c = self.client()
        ch = V.attempt(self, c, ["notxt.example.com"], "dns-01")
        self.assertEqual(ch["status"], "invalid")
        self.assertEqual(ch["error"]["type"], L.ERR + "unauthorized", ch)
        assert_detail(self, ch["error"], "_acme-challenge.notxt.example.com")

    def test_dns01_wrong_txt_is_unauthorized(self):
        c = self.client()
        other = L.Key("ES256")

        def publish_wrong(ident, token, _key_authz):
            # The right token, another account's key: a plausible but wrong digest.
            self.dns.set_txt("_acme-challenge." + ident,
                             V.dns01_digest(token + "." + other.thumbprint()))

        ch = V.attempt(self, c, ["wrongtxt.example.com"], "dns-01", publish_wrong)
        self.dns.clear_txt("_acme-challenge.wrongtxt.example.com")
        self.assertEqual(ch["status"], "invalid")
        self.assertEqual(ch["error"]["type"], L.ERR + "unauthorized", ch)
        assert_detail(self, ch["error"], "Incorrect TXT record")

    def test_dns01_right_record_among_others_is_valid(self):
        c = self.client()

        def publish_two(ident, _token, key_authz):
            self.dns.set_txt("_acme-challenge." + ident, "unrelated-record")
            self.dns.set_txt("_acme-challenge." + ident, V.dns01_digest(key_authz))

        ch = V.attempt(self, c, ["tworecords.example.com"], "dns-01", publish_two)
        self.dns.clear_txt("_acme-challenge.tworecords.example.com")
        self.assertEqual(ch["status"], "valid", ch)


class TestDns01Failures(V.VaTestCase):
    """Fixed DNS answers from test/tools/mockdns.py; no http-01 responder at all."""

    DNS = ["--nxdomain", "nx.example.com", "--servfail", "sf.example.com",
           "--txt", "_acme-challenge.static.example.com=not-the-digest"]
    CAIRN_CONFIG = {"vaTimeoutMs": V.VA_TIMEOUT_MS}

    def _invalid(self, name, chall_type):
        ch = V.attempt(self, self.client(), [name], chall_type)
        self.assertEqual(ch["status"], "invalid", ch)
        return ch["error"]

    def test_dns01_nxdomain_is_dns(self):
        err = self._invalid("nx.example.com", "dns-01")
        self.assertEqual(err["type"], L.ERR + L.differs("dns", "unauthorized"), err)
        assert_detail(self, err, "NXDOMAIN")

    def test_dns01_servfail_is_dns(self):
        err = self._invalid("sf.example.com", "dns-01")
        self.assertEqual(err["type"], L.ERR + L.differs("dns", "unauthorized"), err)
        assert_detail(self, err, "SERVFAIL")

    def test_dns01_static_wrong_txt_is_unauthorized(self):
        err = self._invalid("static.example.com", "dns-01")
        self.assertEqual(err["type"], L.ERR + "unauthorized", err)
        assert_detail(self, err, "not-the-digest")

    def test_http01_nxdomain_is_dns(self):
        err = self._invalid("nx.example.com", "http-01")
        self.assertEqual(err["type"], L.ERR + L.differs("dns", "connection"), err)

    def test_http01_refused_connection_is_connection(self):
        # mockdns answers 127.0.0.1 and nothing listens on the daemon's httpPort.
        err = self._invalid("refused.example.com", "http-01")
        self.assertEqual(err["type"], L.ERR + "connection", err)
        assert_detail(self, err, "127.0.0.1:%d" % self.daemon.http_port)


if __name__ == "__main__":
    unittest.main()
