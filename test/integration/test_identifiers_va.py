"""IP identifiers (RFC 8738) validated for real: http-01 to the address itself on the
daemon's httpPort with the IP literal as Host, a certificate with an iPAddress SAN, no dns-01
offered for an address, and a wrong key authorization at an address -> unauthorized."""

import ipaddress
import socket
import unittest

import cairnlib as L
import valib as V
from cryptography import x509


def ipv6_loopback_usable():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def san_of(chain_pem):
    cert = x509.load_pem_x509_certificate(L.split_pem_chain(chain_pem)[0].encode())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return (sorted(san.get_values_for_type(x509.DNSName)),
            sorted(str(a) for a in san.get_values_for_type(x509.IPAddress)))


class TestIpIdentifierHttp01(V.VaTestCase):
    DNS = "challtestsrv"
    CAIRN_CONFIG = {"vaTimeoutMs": V.VA_TIMEOUT_MS}
    RESPONDER = V.HostileResponder  # serves tokens for any other Host

    def _publish(self, _ident, token, key_authz):
        self.responder.tokens[token] = key_authz

    def _solve_http01(self, client, order):
        for az_url in order["authorizations"]:
            az, ch = V.challenge_of(client, az_url, "http-01")
            self._publish(None, ch["token"], L.key_authorization(ch["token"], client.key))
            self.assertEqual(client.post(ch["url"], {}).status, 200)
            self.assertEqual(client.poll(az_url).json()["status"], "valid")

    def test_ip_identifier_issues_with_ip_san(self):
        c = self.client()
        del self.responder.requests[:]
        order, pem = V.issue_with(self, c, ["127.0.0.1"],
                                  lambda o: self._solve_http01(c, o), ips=["127.0.0.1"])
        self.assertEqual(order["identifiers"], [{"type": "ip", "value": "127.0.0.1"}])
        self.assertEqual(san_of(pem), ([], ["127.0.0.1"]))
        ok, out = L.openssl_verify(self.daemon.root_pem(), pem, self.workdir)
        self.assertTrue(ok, out)
        # The VA dialled the address itself and sent it as Host (RFC 8738 §3, RFC 8555 §8.3).
        hosts = {h for h, p in self.responder.requests if "/acme-challenge/" in p}
        if not L.PEBBLE:
            self.assertEqual(hosts, {"127.0.0.1"})
        else:
            self.assertEqual({h.split(":")[0] for h in hosts}, {"127.0.0.1"})

    def test_ip_and_dns_name_in_one_order(self):
        c = self.client()
        order, pem = V.issue_with(self, c, ["127.0.0.1", "mixed.example.com"],
                                  lambda o: self._solve_http01(c, o), ips=["127.0.0.1"])
        self.assertEqual(san_of(pem), (["mixed.example.com"], ["127.0.0.1"]))

    def test_ip_identifier_offers_no_dns01(self):
        c = self.client()
        _url, order = c.order(["127.0.0.1"])
        az = c.post_as_get(order["authorizations"][0]).json()
        types = sorted(ch["type"] for ch in az["challenges"])
        self.assertIn("http-01", types)
        self.assertNotIn("dns-01", types)

    def test_ip_wrong_key_authorization_is_unauthorized(self):
        c = self.client()
        other = L.Key("ES256")

        def publish_wrong(_ident, token, _key_authz):
            self.responder.tokens[token] = token + "." + other.thumbprint()

        ch = V.attempt(self, c, ["127.0.0.1"], "http-01", publish_wrong)
        self.assertEqual(ch["status"], "invalid")
        self.assertEqual(ch["error"]["type"], L.ERR + "unauthorized", ch)
        if not L.PEBBLE:
            self.assertIn("127.0.0.1:%d" % self.daemon.http_port, ch["error"]["detail"])

    @unittest.skipUnless(ipv6_loopback_usable(), "no IPv6 loopback here")
    def test_ipv6_identifier_issues(self):
        v6 = V.HostileResponder(self.daemon.http_port, host="::1").start()
        try:
            c = self.client()

            def solve(order):
                for az_url in order["authorizations"]:
                    _az, ch = V.challenge_of(c, az_url, "http-01")
                    v6.tokens[ch["token"]] = L.key_authorization(ch["token"], c.key)
                    self.assertEqual(c.post(ch["url"], {}).status, 200)
                    self.assertEqual(c.poll(az_url).json()["status"], "valid")

            _order, pem = V.issue_with(self, c, ["::1"], solve, ips=["::1"])
        finally:
            v6.stop()
        self.assertEqual(san_of(pem), ([], [str(ipaddress.ip_address("::1"))]))
        hosts = {h for h, p in v6.requests if "/acme-challenge/" in p}
        if not L.PEBBLE:
            self.assertEqual(hosts, {"[::1]"})


if __name__ == "__main__":
    unittest.main()
