"""CA features (issue 5, CA half): chain length, alternate roots and chains, issuer keys in
Pebble's formats, leaf CRL/AIA URLs, the CRL after a revocation, `cairn ca import` of an
openssl-made root or intermediate (surviving a restart), and the x-ca layout with DES3 keys."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID, AuthorityInformationAccessOID

import cairnlib as L

ALWAYS = {"PEBBLE_VA_ALWAYS_VALID": "1"}


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, **kw)


def openssl(*args, cwd=None):
    res = run(["openssl"] + list(args), cwd=cwd)
    if res.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args), res.stderr))
    return res


CA_EXT = ("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
          "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")


def make_root(d, name, cn, newkey="rsa:2048"):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    openssl("req", "-x509", "-newkey", newkey, "-nodes", "-keyout", key, "-out", crt,
            "-subj", "/CN=" + cn, "-days", "3650")
    return crt, key


def make_sub(d, name, cn, ca_crt, ca_key, key_out=None, crt_out=None):
    key = key_out or os.path.join(d, name + ".key")
    crt = crt_out or os.path.join(d, name + ".crt")
    csr = os.path.join(d, name + ".csr")
    ext = os.path.join(d, "ca-ext.cnf")
    with open(ext, "w") as f:
        f.write(CA_EXT)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
            "-subj", "/CN=" + cn)
    openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
            "-out", crt, "-days", "365", "-extfile", ext)
    return crt, key


def cairn_cli(*args, env=None):
    full = dict(os.environ)
    full.update(env or {})
    return run([os.environ["CAIRN_BIN"]] + list(args), env=full)


class CairnDaemon(L.Daemon):
    """A Daemon whose config file also has a "cairn" section."""

    def __init__(self, *a, cairn=None, **kw):
        super().__init__(*a, **kw)
        self.cairn = dict(cairn or {})

    def _config(self):
        path = super()._config()
        with open(path) as f:
            conf = json.load(f)
        if self.cairn:
            conf["cairn"] = self.cairn
        with open(path, "w") as f:
            json.dump(conf, f)
        return path


def cert_of(pem):
    return x509.load_pem_x509_certificate(L.split_pem_chain(pem)[0].encode())


@unittest.skipIf(L.PEBBLE, "cairn CA features")
class TestChainsAndKeys(L.DaemonTestCase):
    DAEMON_ENV = dict(ALWAYS, PEBBLE_CHAIN_LENGTH="3", PEBBLE_ALTERNATE_ROOTS="2")

    def test_chain_length_three(self):
        got = self.client().issue(["chain.example"])
        blocks = L.split_pem_chain(got["pem"])
        self.assertEqual(len(blocks), 4)  # leaf + 3 intermediates, no root
        ok, out = L.openssl_verify(self.daemon.root_pem(0), got["pem"], self.workdir)
        self.assertTrue(ok, out)
        roots = [x509.load_pem_x509_certificate(b.encode()) for b in blocks]
        self.assertNotIn(True, [c.subject == c.issuer for c in roots])

    def test_alternate_chains(self):
        c = self.client()
        got = c.issue(["alt.example"])
        alts = got["cert_resp"].links("alternate")
        self.assertEqual(sorted(alts), [got["cert_url"] + "/1", got["cert_url"] + "/2"])
        for n in (1, 2):
            resp = c.post_as_get(got["cert_url"] + "/%d" % n)
            self.assertEqual(resp.status, 200)
            pem = resp.body.decode()
            self.assertEqual(L.split_pem_chain(pem)[0], L.split_pem_chain(got["pem"])[0])
            self.assertEqual(len(L.split_pem_chain(pem)), 2)
            ok, out = L.openssl_verify(self.daemon.root_pem(n), pem, self.workdir)
            self.assertTrue(ok, out)
            ok, _ = L.openssl_verify(self.daemon.root_pem(0), pem, self.workdir)
            self.assertFalse(ok, "alternate chain %d must not verify against root 0" % n)
            others = sorted(resp.links("alternate"))
            self.assertEqual(others, sorted(got["cert_url"] + "/%d" % i
                                            for i in (0, 1, 2) if i != n))
        self.assertEqual(c.post_as_get(got["cert_url"] + "/3").status, 404)
        self.assertEqual(c.post_as_get(got["cert_url"] + "/x").status, 404)

    def test_management_roots_and_intermediates(self):
        r0 = self.daemon.mgmt_get("/roots/0")
        self.assertEqual(len(r0.links("alternate")), 2)
        self.assertTrue(r0.links("alternate")[0].endswith("/roots/1"))
        i0 = cert_of(self.daemon.mgmt_get("/intermediates/0").body.decode())
        i2 = cert_of(self.daemon.mgmt_get("/intermediates/2").body.decode())
        self.assertEqual(i0.subject, i2.subject)
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        self.assertEqual(i0.public_key().public_bytes(serialization.Encoding.DER, spki),
                         i2.public_key().public_bytes(serialization.Encoding.DER, spki))
        self.assertNotEqual(i0.issuer, i2.issuer)
        self.assertEqual(self.daemon.mgmt_get("/roots/3").status, 404)
        self.assertEqual(self.daemon.mgmt_get("/intermediates/3").status, 404)

    def test_ec_keys_in_pebble_format(self):
        for path, cert_path in (("/root-keys/0", "/roots/0"), ("/root-keys/2", "/roots/2"),
                                ("/intermediate-keys/0", "/intermediates/0")):
            resp = self.daemon.mgmt_get(path)
            self.assertEqual(resp.status, 200, path)
            self.assertEqual(resp.header("Content-Type"), "application/x-pem-file; charset=utf-8")
            self.assertTrue(resp.body.startswith(b"-----BEGIN EC PRIVATE KEY-----"), path)
            key = serialization.load_pem_private_key(resp.body, None)
            cert = cert_of(self.daemon.mgmt_get(cert_path).body.decode())
            self.assertEqual(key.public_key().public_numbers(),
                             cert.public_key().public_numbers(), path)
        self.assertEqual(self.daemon.mgmt_get("/root-keys/3").status, 404)

    def test_leaf_urls_and_crl_after_revocation(self):
        c = self.client()
        got = c.issue(["crl.example"])
        keep = c.issue(["kept.example"])
        leaf = cert_of(got["pem"])
        cdp = leaf.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS)
        crl_url = cdp.value[0].full_name[0].value
        self.assertEqual(crl_url, self.daemon.base + "/crl/0")
        aia = leaf.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
        issuers = [a.access_location.value for a in aia.value
                   if a.access_method == AuthorityInformationAccessOID.CA_ISSUERS]
        self.assertEqual(issuers, [self.daemon.base + "/issuer/0"])
        issuer = L.http_request(issuers[0], ctx=self.daemon.ssl_context())
        self.assertEqual(issuer.content_type, "application/pkix-cert")
        self.assertEqual(x509.load_der_x509_certificate(issuer.body).subject, leaf.issuer)

        before = L.http_request(crl_url, ctx=self.daemon.ssl_context())
        self.assertEqual(before.status, 200)
        self.assertEqual(before.content_type, "application/pkix-crl")
        crl0 = x509.load_der_x509_crl(before.body)
        self.assertIsNone(crl0.get_revoked_certificate_by_serial_number(leaf.serial_number))

        self.assertEqual(c.revoke(got["pem"], reason=4).status, 200)
        after = L.http_request(crl_url, ctx=self.daemon.ssl_context())
        mgmt = self.daemon.mgmt_get("/crl/0")
        self.assertEqual(mgmt.content_type, "application/pkix-crl")
        crl = x509.load_der_x509_crl(after.body)
        entry = crl.get_revoked_certificate_by_serial_number(leaf.serial_number)
        self.assertIsNotNone(entry)
        self.assertEqual(entry.extensions.get_extension_for_class(x509.CRLReason).value.reason,
                         x509.ReasonFlags.superseded)
        num = lambda l: l.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        self.assertGreater(num(crl), num(crl0))

        d = tempfile.mkdtemp(dir=self.workdir)
        crl_der = os.path.join(d, "crl.der")
        with open(crl_der, "wb") as f:
            f.write(after.body)
        text = openssl("crl", "-inform", "DER", "-in", crl_der, "-noout", "-text").stdout
        self.assertIn("%X" % leaf.serial_number, text.replace(":", "").upper().replace(" ", ""))
        crl_pem = os.path.join(d, "crl.pem")
        openssl("crl", "-inform", "DER", "-in", crl_der, "-out", crl_pem)
        chain_pem = self.daemon.root_pem(0)
        for name, pem, want_ok in (("revoked", got["pem"], False), ("kept", keep["pem"], True)):
            blocks = L.split_pem_chain(pem)
            paths = {}
            for part, text_ in (("leaf", blocks[0]), ("untrusted", "\n".join(blocks[1:])),
                                ("root", chain_pem)):
                paths[part] = os.path.join(d, "%s-%s.pem" % (name, part))
                with open(paths[part], "w") as f:
                    f.write(text_ + "\n")
            res = run(["openssl", "verify", "-crl_check", "-CRLfile", crl_pem, "-CAfile",
                       paths["root"], "-untrusted", paths["untrusted"], paths["leaf"]])
            self.assertEqual(res.returncode == 0, want_ok, name + res.stdout + res.stderr)
            if not want_ok:
                self.assertIn("revoked", res.stdout + res.stderr)


@unittest.skipIf(L.PEBBLE, "cairn CA features")
class TestRsaKeysAndCrlListener(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cairn-caf-")
        self.dns = L.MockDNS(self.dir).start()
        self.crl_port = L.free_port()
        self.daemon = CairnDaemon(self.dns.port, ALWAYS, workdir=os.path.join(self.dir, "d"),
                                  config_extra={"keyAlgorithm": "rsa"},
                                  cairn={"crlListenAddress": "127.0.0.1:%d" % self.crl_port})

    def tearDown(self):
        try:
            self.daemon.cleanup()
        finally:
            self.dns.stop()
            shutil.rmtree(self.dir, ignore_errors=True)

    def test_rsa_keys_and_plain_http_crl(self):
        self.daemon.start()
        for path in ("/root-keys/0", "/intermediate-keys/0"):
            resp = self.daemon.mgmt_get(path)
            self.assertTrue(resp.body.startswith(b"-----BEGIN RSA PRIVATE KEY-----"), path)
        got = L.AcmeClient(self.daemon)
        got.register()
        issued = got.issue(["rsa.example"])
        leaf = cert_of(issued["pem"])
        cdp = leaf.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS)
        url = cdp.value[0].full_name[0].value
        self.assertEqual(url, "http://127.0.0.1:%d/crl/0" % self.crl_port)
        self.assertEqual(got.revoke(issued["pem"]).status, 200)
        with urllib.request.urlopen(url, timeout=10) as r:
            self.assertEqual(r.headers["Content-Type"], "application/pkix-crl")
            crl = x509.load_der_x509_crl(r.read())
        self.assertIsNotNone(crl.get_revoked_certificate_by_serial_number(leaf.serial_number))
        self.assertTrue(crl.is_signature_valid(
            x509.load_der_x509_certificate(urllib.request.urlopen(
                "http://127.0.0.1:%d/issuer/0" % self.crl_port, timeout=10).read()).public_key()))


@unittest.skipIf(L.PEBBLE, "cairn CA features")
class TestCaModeKeys(unittest.TestCase):
    def test_issuer_keys_not_served_in_ca_mode(self):
        d = tempfile.mkdtemp(prefix="cairn-camode-")
        dns = L.MockDNS(d).start()
        # free (non-standard) validation ports: CA mode needs allowInsecureValidationPorts
        daemon = CairnDaemon(dns.port, workdir=os.path.join(d, "d"),
                             cairn={"mode": "ca", "allowInsecureValidationPorts": True})
        try:
            daemon.start()
            self.assertEqual(daemon.mgmt_get("/roots/0").status, 200)
            for path in ("/root-keys/0", "/intermediate-keys/0"):
                self.assertEqual(daemon.mgmt_get(path).status, 404, path)
            self.assertEqual(daemon.mgmt_get("/crl/0").status, 200)
        finally:
            try:
                daemon.cleanup()
            finally:
                dns.stop()
                shutil.rmtree(d, ignore_errors=True)


@unittest.skipIf(L.PEBBLE, "cairn CA features")
class TestImportAndXca(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cairn-imp-")
        self.dns = L.MockDNS(self.dir).start()
        self.daemon = None

    def tearDown(self):
        try:
            if self.daemon:
                self.daemon.cleanup()
        finally:
            self.dns.stop()
            shutil.rmtree(self.dir, ignore_errors=True)

    def issue_and_verify(self, root_pem):
        c = L.AcmeClient(self.daemon)
        c.register()
        got = c.issue(["imported.example"])
        ok, out = L.openssl_verify(root_pem, got["pem"], self.dir)
        self.assertTrue(ok, out)
        return got

    def test_import_root_then_restart(self):
        crt, key = make_root(self.dir, "lab", "Lab Root CA")
        self.daemon = CairnDaemon(self.dns.port, ALWAYS, workdir=os.path.join(self.dir, "d"),
                                  cairn={"caName": "labca"})
        res = cairn_cli("ca", "import", "--cert", crt, "--key", key, "-config",
                        self.daemon._config(), "--state-dir", self.daemon.state_dir)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("labca intermediate CA", res.stdout)
        again = cairn_cli("ca", "import", "--cert", crt, "--key", key, "--state-dir",
                          self.daemon.state_dir)
        self.assertEqual(again.returncode, 3, again.stderr)
        self.assertIn("--force", again.stderr)
        with open(crt) as f:
            root_pem = f.read()
        self.daemon.start()
        self.assertEqual(cert_of(self.daemon.root_pem(0)), cert_of(root_pem))
        self.issue_and_verify(root_pem)
        self.daemon.restart()
        self.issue_and_verify(root_pem)
        shown = cairn_cli("ca", "show", "--json", "--state-dir", self.daemon.state_dir)
        self.assertEqual(shown.returncode, 0, shown.stderr)
        certs = json.loads(shown.stdout)
        self.assertEqual(certs[0]["subject"], "/CN=Lab Root CA")
        self.assertEqual(certs[0]["keyType"], "RSA 2048")
        self.assertTrue(certs[1]["subject"].startswith("/CN=labca intermediate CA "))

    def test_import_intermediate_with_chain(self):
        rcrt, rkey = make_root(self.dir, "root", "Lab Root")
        icrt, ikey = make_sub(self.dir, "int", "Lab Issuing CA", rcrt, rkey)
        self.daemon = L.Daemon(self.dns.port, ALWAYS, workdir=os.path.join(self.dir, "d"))
        bad = cairn_cli("ca", "import", "--cert", icrt, "--key", rkey, "--chain", rcrt,
                        "--state-dir", self.daemon.state_dir)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("does not match", bad.stderr)
        nochain = cairn_cli("ca", "import", "--cert", icrt, "--key", ikey, "--state-dir",
                            self.daemon.state_dir)
        self.assertIn("--chain", nochain.stderr)
        res = cairn_cli("ca", "import", "--cert", icrt, "--key", ikey, "--chain", rcrt,
                        "--state-dir", self.daemon.state_dir)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.daemon.start()
        with open(rcrt) as f:
            root_pem = f.read()
        got = self.issue_and_verify(root_pem)
        self.assertEqual(cert_of(got["pem"]).issuer.rfc4514_string(), "CN=Lab Issuing CA")
        self.assertEqual(self.daemon.mgmt_get("/root-keys/0").status, 404)  # not held

    def make_xca(self, des3):
        base = os.path.join(self.dir, "x-ca")
        for sub in ("ca/root-ca/private", "ca/tls-ca/private"):
            os.makedirs(os.path.join(base, sub), exist_ok=True)
        rkey = os.path.join(base, "ca/root-ca/private/root-ca.key")
        rcrt = os.path.join(base, "ca/root-ca.crt")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", rkey, "-out", rcrt,
                "-subj", "/CN=x-ca root", "-days", "3650")
        tkey = os.path.join(base, "ca/tls-ca/private/tls-ca.key")
        make_sub(self.dir, "tls", "x-ca tls", rcrt, rkey, key_out=tkey,
                 crt_out=os.path.join(base, "ca/tls-ca.crt"))
        if des3:
            openssl("rsa", "-in", rkey, "-des3", "-traditional", "-passout", "pass:root-secret",
                    "-out", os.path.join(base, "ca/root-ca/private/root-ca-des3.key"))
            openssl("rsa", "-in", tkey, "-des3", "-traditional", "-passout", "pass:tls-secret",
                    "-out", os.path.join(base, "ca/tls-ca/private/tls-ca-des3.key"))
            os.unlink(rkey)
            os.unlink(tkey)
        with open(rcrt) as f:
            return base, f.read()

    def test_xca_des3_start(self):
        base, root_pem = self.make_xca(des3=True)
        env = dict(ALWAYS, USE_X_CA="1", PATH_X_CA=base, IS_DES3_KEY="1",
                   X_CA_ROOT_CA_PASSWORD="root-secret", X_CA_TLS_CA_PASSWORD="wrong")
        self.daemon = L.Daemon(self.dns.port, env, workdir=os.path.join(self.dir, "d"))
        with self.assertRaises(RuntimeError):
            self.daemon.start()
        log = "\n".join(self.daemon.output)
        self.assertIn("tls-ca/private/tls-ca-des3.key", log)
        self.assertNotIn("root-secret", log)
        self.daemon.env["X_CA_TLS_CA_PASSWORD"] = "tls-secret"
        self.daemon.start()
        self.assertEqual(cert_of(self.daemon.root_pem(0)), cert_of(root_pem))
        self.issue_and_verify(root_pem)
        self.assertFalse(os.path.exists(os.path.join(self.daemon.state_dir, "ca")))

    def test_xca_plain_and_missing(self):
        base, root_pem = self.make_xca(des3=False)
        env = dict(ALWAYS, USE_X_CA="1", PATH_X_CA=base)
        self.daemon = L.Daemon(self.dns.port, env, workdir=os.path.join(self.dir, "d"))
        self.daemon.start()
        self.issue_and_verify(root_pem)
        self.daemon.stop()
        os.unlink(os.path.join(base, "ca/tls-ca/private/tls-ca.key"))
        with self.assertRaises(RuntimeError):
            self.daemon.start()
        self.assertIn("ca/tls-ca/private/tls-ca.key is missing", "\n".join(self.daemon.output))
        self.daemon.exit_code = 0  # the refused start is what this test wants


if __name__ == "__main__":
    unittest.main()
