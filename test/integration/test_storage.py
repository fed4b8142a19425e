"""Storage faults (PROTOCOL.md §9.5): a database locked by another writer gives 503 with
Retry-After and no 2xx for an uncommitted write, then service resumes; a full disk gives 500
without corrupting the database, and service resumes without a restart once space returns.

The full disk is real: the daemon runs in a private mount namespace (unshare -m) whose state
directory is a 6 MiB tmpfs, filled from outside through /proc/<pid>/root. Where mount
namespaces are not permitted the disk-full case is skipped with that reason.
"""
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

import cairnlib as L


def problem_ok(test, resp, status, ptype):
    test.assertEqual(resp.status, status, resp)
    test.assertEqual(resp.content_type, L.PROBLEM)
    test.assertEqual(resp.problem_type, L.ERR + ptype)
    test.assertTrue(resp.nonce, "fresh Replay-Nonce")
    detail = resp.json().get("detail", "")
    for leak in ("SQL", "sqlite", "database or disk", "/tmp", ".db"):
        test.assertNotIn(leak, detail, "5xx details never expose internals")


@L.cairn_only("cairn's state database")
class TestDatabaseBusy(L.DaemonTestCase):
    DAEMON_ENV = {"PEBBLE_VA_ALWAYS_VALID": "1"}

    def test_locked_database_gives_503_then_recovers(self):
        c = self.client()
        db = os.path.join(self.daemon.state_dir, "cairn.db")
        con = sqlite3.connect(db, timeout=1, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")  # hold the write lock past the 5 s busy timeout
            before = con.execute("SELECT count(*) FROM orders").fetchone()[0]
            t0 = time.monotonic()
            resp = c.new_order(["busy.example.com"])
            took = time.monotonic() - t0
            problem_ok(self, resp, 503, "serverInternal")
            self.assertTrue(resp.header("Retry-After"), "503 carries Retry-After")
            # reads still work under WAL while a writer holds the lock
            self.assertEqual(c.post_as_get(c.kid).status, 200)
            other = L.AcmeClient(self.daemon)
            problem_ok(self, other.new_account(), 503, "serverInternal")
            print("\nlocked database: 503 after %.1f s (busy timeout 5 s)" % took)
        finally:
            con.execute("ROLLBACK")
            con.close()
        self.assertEqual(db_count(db, "orders"), before, "no uncommitted write was answered")
        self.assertEqual(c.new_order(["busy.example.com"]).status, 201)


def db_count(db, table):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return con.execute("SELECT count(*) FROM %s" % table).fetchone()[0]
    finally:
        con.close()


def can_mount_tmpfs():
    d = tempfile.mkdtemp(prefix="cairn-ns-")
    try:
        res = subprocess.run(["unshare", "-m", "sh", "-c", 'mount -t tmpfs -o size=1m tmpfs "$0"',
                              d], capture_output=True, timeout=20)
        return res.returncode == 0, res.stderr.decode(errors="replace").strip()
    except (OSError, subprocess.SubprocessError) as e:
        return False, str(e)
    finally:
        os.rmdir(d)


class TmpfsDaemon(L.Daemon):
    """cairn in its own mount namespace with the state directory on a small tmpfs."""

    SIZE = "6m"

    def _command(self, config):
        inner = super()._command(config)
        return ["unshare", "-m", "sh", "-c",
                'mount -t tmpfs -o size=%s,mode=0700 tmpfs "$0" && exec "$@"' % self.SIZE,
                self.state_dir] + inner

    def ns_path(self, name):
        """A state file as the daemon sees it (inside its namespace)."""
        return "/proc/%d/root%s/%s" % (self.proc.pid, self.state_dir, name)

    @property
    def trust_pem(self):
        if self.proc is None:
            return os.path.join(self.state_dir, "trust.pem")
        return self.ns_path("trust.pem")

    def ssl_context(self):
        # the trust file is only reachable while the daemon lives: load it now
        import ssl
        with open(self.trust_pem) as f:
            return ssl.create_default_context(cadata=f.read())


@L.cairn_only("cairn's state database")
class TestDiskFull(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reason = L.needs_cairn_bin()
        if reason:
            raise unittest.SkipTest(reason)
        ok, why = can_mount_tmpfs()
        if not ok:
            raise unittest.SkipTest("no private mount namespace with tmpfs here: " + why)
        cls.workdir = tempfile.mkdtemp(prefix="cairn-full-")
        cls.daemon = TmpfsDaemon(L.free_port(), {"PEBBLE_VA_ALWAYS_VALID": "1"},
                                 workdir=cls.workdir)
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.daemon.cleanup()
        finally:
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def fill(self):
        """Fills the tmpfs to the last block; returns the filler's path."""
        path = self.daemon.ns_path("filler")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for block in (65536, 512):
                try:
                    while True:
                        os.write(fd, b"\0" * block)
                except OSError:
                    pass
        finally:
            os.close(fd)
        return path

    def test_full_disk_gives_500_then_recovers(self):
        d = self.daemon
        c = L.AcmeClient(d)
        c.register()
        c.issue(["before-full.example.com"])
        filler = self.fill()
        statuses = []
        first_500 = None
        for i in range(200):  # the WAL may still have room for a few writes
            resp = c.new_order(["full-%d.example.com" % i])
            statuses.append(resp.status)
            if resp.status >= 500:
                first_500 = resp
                break
            self.assertEqual(resp.status, 201, resp)
        self.assertIsNotNone(first_500, "a write on a full disk must fail")
        problem_ok(self, first_500, 500, "serverInternal")
        self.assertTrue(first_500.header("Retry-After"))
        # reads keep working
        self.assertEqual(c.post_as_get(c.kid).status, 200)
        os.unlink(filler)
        # SQLite resolves the /proc/<pid>/root link itself: check from inside the namespace
        out = subprocess.run(["nsenter", "-t", str(d.proc.pid), "-m", "sqlite3", "-readonly",
                              os.path.join(d.state_dir, "cairn.db"), "PRAGMA integrity_check"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.stdout.strip(), "ok", out.stderr)
        # service resumes without a restart
        issued = c.issue(["after-full.example.com"])
        self.assertTrue(issued["pem"].startswith("-----BEGIN CERTIFICATE-----"))
        print("\ndisk full (6 MiB tmpfs): %d writes still fitted, then 500; after freeing "
              "space integrity_check ok and issuance resumed without a restart"
              % (len(statuses) - 1))


if __name__ == "__main__":
    unittest.main()
