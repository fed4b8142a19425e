"""`cmake --install`: binary, man page, example config and systemd unit (issue 7)."""
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import unittest

import cairnlib as L


@unittest.skipIf(L.PEBBLE, "cairn installation")
class TestInstall(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reason = L.needs_cairn_bin()
        if reason:
            raise unittest.SkipTest(reason)
        if shutil.which("cmake") is None:
            raise unittest.SkipTest("cmake not installed")
        cls.prefix = tempfile.mkdtemp(prefix="cairn-install-")
        build = os.path.dirname(os.path.abspath(os.environ["CAIRN_BIN"]))
        res = subprocess.run(["cmake", "--install", build, "--prefix", cls.prefix],
                             capture_output=True, timeout=120)
        if res.returncode != 0:
            shutil.rmtree(cls.prefix, ignore_errors=True)
            raise AssertionError("cmake --install failed: %s" % res.stderr.decode())
        cls.unit = os.path.join(cls.prefix, "lib/systemd/system/cairn.service")
        cls.man = os.path.join(cls.prefix, "share/man/man8/cairn.8")
        cls.example = os.path.join(cls.prefix, "share/doc/cairn/cairn.example.json")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.prefix, ignore_errors=True)

    def test_files_in_place(self):
        self.assertTrue(os.access(os.path.join(self.prefix, "bin/cairn"), os.X_OK))
        for path in (self.unit, self.man, self.example):
            self.assertTrue(os.path.isfile(path), path)

    def test_man_page_renders(self):
        if shutil.which("man") is None:
            self.skipTest("man-db not installed")
        res = subprocess.run(["man", "--warnings", "-l", self.man], capture_output=True,
                             timeout=60, env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="",
                                                  PAGER="cat"))
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stderr.decode().strip(), "", "groff warnings")
        text = res.stdout.decode()
        for section in ("NAME", "SYNOPSIS", "SIGNALS", "ADMIN COMMANDS", "MANAGEMENT API"):
            self.assertIn(section, text)
        self.assertNotIn("@PROJECT_VERSION@", text)

    def unit_for_verify(self, workdir):
        """The installed unit pointing at the installed binary (the configured prefix may not
        be the one installed to here)."""
        with open(self.unit) as f:
            lines = f.read().splitlines()
        out = []
        for line in lines:
            if line.startswith("ExecStart="):
                line = "ExecStart=%s %s" % (os.path.join(self.prefix, "bin/cairn"),
                                            line.split(" ", 1)[1])
            out.append(line)
        path = os.path.join(workdir, "cairn.service")
        with open(path, "w") as f:
            f.write("\n".join(out) + "\n")
        return path

    def test_unit_is_hardened_and_verifies(self):
        with open(self.unit) as f:
            text = f.read()
        for directive in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "DynamicUser=yes",
                          "StateDirectory=cairn", "ProtectSystem=strict", "NoNewPrivileges=yes",
                          "PrivateTmp=yes"):
            self.assertIn(directive + "\n", text)
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd not installed")
        work = tempfile.mkdtemp(prefix="cairn-unit-")
        try:
            env = dict(os.environ, MANPATH=os.path.join(self.prefix, "share/man"))
            # the tool must work here at all: a unit with a typo is reported
            bad = os.path.join(work, "typo.service")
            with open(bad, "w") as f:
                f.write("[Service]\nExecStart=/bin/true\nProtectSystm=strict\n")
            probe = subprocess.run(["systemd-analyze", "verify", bad], capture_output=True,
                                   timeout=60, env=env)
            if b"ProtectSystm" not in probe.stderr:
                self.skipTest("systemd-analyze cannot verify here: %s" % probe.stderr[:200])
            res = subprocess.run(["systemd-analyze", "verify", self.unit_for_verify(work)],
                                 capture_output=True, timeout=60, env=env)
            self.assertEqual(res.returncode, 0, res.stderr.decode())
            self.assertEqual(res.stderr.decode().strip(), "")
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def test_example_config_starts_in_ca_mode(self):
        state = tempfile.mkdtemp(prefix="cairn-example-")
        port, mport = L.free_port(), L.free_port()
        env = dict(os.environ, CAIRN_STATE_DIR=state,
                   CAIRN_LISTEN_ADDRESS="127.0.0.1:%d" % port,
                   CAIRN_MANAGEMENT_LISTEN_ADDRESS="127.0.0.1:%d" % mport)
        proc = subprocess.Popen([os.environ["CAIRN_BIN"], "-config", self.example],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + L.START_TIMEOUT
            resp = ctx = None
            while time.monotonic() < deadline and resp is None:
                try:
                    ctx = ctx or ssl.create_default_context(
                        cafile=os.path.join(state, "trust.pem"))
                    resp = L.http_request("https://127.0.0.1:%d/metrics" % mport, ctx=ctx)
                except (OSError, ssl.SSLError):
                    time.sleep(0.1)
            self.assertIsNotNone(resp, "the example config did not start")
            self.assertEqual(resp.status, 200)
            # test controls stay off in CA mode without allowTestControls
            faults = L.http_request("https://127.0.0.1:%d/cairn/faults" % mport, "POST",
                                    json.dumps({"endpoint": "*", "status": 500}).encode(),
                                    {"Content-Type": "application/json"}, ctx=ctx)
            self.assertEqual(faults.status, 403)
        finally:
            code = L.stop_pid(proc)
            out = proc.stdout.read().decode(errors="replace")
            proc.stdout.close()
            shutil.rmtree(state, ignore_errors=True)
        self.assertIn("started in CA mode", out)
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    unittest.main()
