"""Daemon lifecycle: start-up failures that must be clear, and what the state dir holds."""
import json
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import unittest

import cairnlib as L


@unittest.skipIf(L.PEBBLE, "cairn start-up behaviour")
class TestLifecycle(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cairn-life-")
        self.state = os.path.join(self.dir, "state")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_cairn(self, config, env=None, timeout=20):
        path = os.path.join(self.dir, "config.json")
        with open(path, "w") as f:
            json.dump(config, f)
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run([os.environ["CAIRN_BIN"], "-config", path, "--state-dir",
                               self.state], capture_output=True, timeout=timeout, env=full_env,
                              stdin=subprocess.DEVNULL)

    def test_busy_port_is_named_and_creates_nothing(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            res = self.run_cairn({"pebble": {"listenAddress": "127.0.0.1:%d" % port,
                                             "managementListenAddress": ""}})
        self.assertNotEqual(res.returncode, 0)
        self.assertIn(b"port %d" % port, res.stderr)
        self.assertIn(b"Address already in use", res.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.state, "ca")))

    def test_chain_length_zero_refused(self):
        res = self.run_cairn({"pebble": {"listenAddress": "127.0.0.1:%d" % L.free_port(),
                                         "managementListenAddress": ""}},
                             env={"PEBBLE_CHAIN_LENGTH": "0"})
        self.assertEqual(res.returncode, 2)
        self.assertIn(b"PEBBLE_CHAIN_LENGTH", res.stderr)

    def test_unknown_cairn_key_refused(self):
        res = self.run_cairn({"cairn": {"stateDirectory": "/tmp/x"}})
        self.assertEqual(res.returncode, 2)
        self.assertIn(b"cairn.stateDirectory", res.stderr)

    def test_state_files_modes(self):
        dns = L.MockDNS(self.dir).start()
        d = L.Daemon(dns.port, workdir=os.path.join(self.dir, "d"))
        try:
            d.start()
            ca_dir = os.path.join(d.state_dir, "ca")
            keys = [n for n in os.listdir(ca_dir) if n.endswith(".key.pem")]
            self.assertTrue(keys)
            for name in keys:
                mode = stat.S_IMODE(os.stat(os.path.join(ca_dir, name)).st_mode)
                self.assertEqual(mode, 0o600, name)
            db = stat.S_IMODE(os.stat(os.path.join(d.state_dir, "cairn.db")).st_mode)
            self.assertEqual(db, 0o600)
            trust = stat.S_IMODE(os.stat(d.trust_pem).st_mode)
            self.assertEqual(trust, 0o644)
            with open(d.trust_pem) as f:
                self.assertEqual(f.read(), d.root_pem())
        finally:
            d.cleanup()
            dns.stop()


if __name__ == "__main__":
    unittest.main()
