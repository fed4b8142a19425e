#!/usr/bin/python3
"""Crash-safety loop (PROTOCOL.md §9.3): kill -9 cairn at random points under issuance load,
restart it, and check the stored state after every restart.

    CAIRN_BIN=build/cairn /usr/bin/python3 test/tools/crashloop.py N [--clients C] [--seed S]

cairn runs in test mode with a persistent state directory and PEBBLE_VA_ALWAYS_VALID=1, so
every order reaches finalize quickly and kills land in all phases: account creation, order
creation, challenge, finalize (serial reserved, signing, certificate stored), revocation, and
one cycle in ten also kills a second time during the restart itself (recovery). After each
restart the invariants below are checked with the sqlite3 command-line shell on the state
database, and a client registered before the first kill must still obtain a certificate.
Prints one line per cycle and ends with "N passed, M failed"; exit status 1 if any failed.
"""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from cairnlib import AcmeClient, Daemon, free_port  # noqa: E402

# (name, SQL returning one value, expected value as text)
INVARIANTS = [
    ("integrity_check is ok", "PRAGMA integrity_check", "ok"),
    ("foreign keys hold", "SELECT count(*) FROM pragma_foreign_key_check", "0"),
    ("every valid order has exactly one good/revoked certificate",
     "SELECT count(*) FROM orders o WHERE o.status = 'valid' AND (SELECT count(*) FROM certs c "
     "WHERE c.order_id = o.id AND c.status IN ('good','revoked')) != 1", "0"),
    ("no certificate lacks its order",
     "SELECT count(*) FROM certs c LEFT JOIN orders o ON o.id = c.order_id WHERE o.id IS NULL",
     "0"),
    ("every issued certificate has DER and a valid order",
     "SELECT count(*) FROM certs c JOIN orders o ON o.id = c.order_id WHERE "
     "c.status IN ('good','revoked') AND (c.der IS NULL OR o.status != 'valid')", "0"),
    ("serials are unique", "SELECT count(*) - count(DISTINCT serial) FROM certs", "0"),
    ("one certificate row per order",
     "SELECT count(*) - count(DISTINCT order_id) FROM certs", "0"),
    ("no order stuck processing after recovery",
     "SELECT count(*) FROM orders WHERE status = 'processing'", "0"),
    ("revoked certificates carry a revocation time",
     "SELECT count(*) FROM certs WHERE status = 'revoked' AND revoked_at = 0", "0"),
]


def sql(db, query):
    out = subprocess.run(["sqlite3", "-batch", "-readonly", db, query], capture_output=True,
                         text=True, timeout=60)
    if out.returncode != 0:
        return "error: " + out.stderr.strip()
    return out.stdout.strip()


def check_invariants(db):
    return [(name, got, want) for name, query, want in INVARIANTS
            if (got := sql(db, query)) != want]


def load_client(daemon, stop, stats, rnd_seed):
    """Issues (and sometimes revokes) until stopped or the daemon dies under it."""
    rnd = random.Random(rnd_seed)
    try:
        c = AcmeClient(daemon)
        c.register()
        while not stop.is_set():
            names = ["c%d.crash.example" % rnd.randrange(10 ** 6)]
            if rnd.random() < 0.3:
                names.append("w%d.crash.example" % rnd.randrange(10 ** 6))
            res = c.issue(names)
            stats["issued"] += 1
            if rnd.random() < 0.25:
                if c.revoke(res["pem"], reason=rnd.choice([None, 0, 1, 4])).status == 200:
                    stats["revoked"] += 1
    except Exception:  # noqa: BLE001 - the daemon was killed under it: expected
        pass


def kill9(daemon):
    proc = daemon.proc
    if proc is not None and proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    if daemon.reader:
        daemon.reader.join(5)
    daemon.proc = None


def kill_during_start(daemon, rnd):
    """Starts cairn and kills it within 300 ms: often during recovery, before listening."""
    env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0")
    env.update(daemon.env)
    proc = subprocess.Popen(daemon._command(daemon._config()), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env,
                            cwd=daemon.workdir)
    time.sleep(rnd.uniform(0.0, 0.3))
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)


def carry_on(daemon, client):
    """The pre-crash account issues again: clients can carry on after a restart."""
    client.nonces = []
    client.ctx = daemon.ssl_context()
    client.issue(["carry-%d.crash.example" % random.randrange(10 ** 6)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cycles", type=int)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--max-delay", type=float, default=1.5,
                    help="longest load time before the kill, seconds")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2 ** 32)
    rnd = random.Random(seed)
    # absolute: the daemon is started from its own work directory
    os.environ["CAIRN_BIN"] = os.path.abspath(os.environ.get("CAIRN_BIN", ""))
    if not os.access(os.environ["CAIRN_BIN"], os.X_OK):
        sys.exit("crashloop: set CAIRN_BIN to the cairn binary")
    if shutil.which("sqlite3") is None:
        sys.exit("crashloop: the sqlite3 shell is missing (scripts/deps.sh test)")

    print("crashloop: %d cycles, %d load clients, seed %d" % (args.cycles, args.clients, seed))
    print("invariants checked after every restart:")
    for name, _, _ in INVARIANTS:
        print("  - " + name)
    print("  - a client registered before the first kill still obtains a certificate")

    workdir = tempfile.mkdtemp(prefix="cairn-crashloop-")
    # ALWAYS_VALID: no validation traffic, so no DNS is needed; the port is just unused.
    daemon = Daemon(free_port(), {"PEBBLE_VA_ALWAYS_VALID": "1"}, workdir=workdir)
    db = os.path.join(daemon.state_dir, "cairn.db")
    passed = failed = 0
    totals = {"issued": 0, "revoked": 0, "recovered": 0}
    started = time.monotonic()
    interrupted = False

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        daemon.start()
        carry = AcmeClient(daemon)
        carry.register()
        carry_on(daemon, carry)
        for cycle in range(1, args.cycles + 1):
            stop = threading.Event()
            stats = {"issued": 0, "revoked": 0}
            threads = [threading.Thread(target=load_client,
                                        args=(daemon, stop, stats, rnd.random()), daemon=True)
                       for _ in range(args.clients)]
            for t in threads:
                t.start()
            delay = rnd.uniform(0.02, args.max_delay)
            time.sleep(delay)
            kill9(daemon)
            stop.set()
            for t in threads:
                t.join(30)
            twice = rnd.random() < 0.1
            if twice:
                kill_during_start(daemon, rnd)
            out_before = len(daemon.output)
            problems = []
            try:
                daemon.start()
            except RuntimeError as e:
                problems.append(("restart", str(e).splitlines()[0], "listening"))
            recovered = 0
            for line in daemon.output[out_before:]:
                if "recovery:" in line and "orders left processing" in line:
                    recovered += int(line.split("recovery:")[1].split()[0])
            if not problems:
                problems += check_invariants(db)
                try:
                    carry_on(daemon, carry)
                except Exception as e:  # noqa: BLE001
                    problems.append(("carry on", str(e)[:200], "issued"))
            for k in ("issued", "revoked"):
                totals[k] += stats[k]
            totals["recovered"] += recovered
            verdict = "ok" if not problems else "FAILED"
            print("cycle %d: kill -9 after %d ms%s; %d issued, %d revoked, %d recovered: %s"
                  % (cycle, delay * 1000, " (and again during restart)" if twice else "",
                     stats["issued"], stats["revoked"], recovered, verdict), flush=True)
            for name, got, want in problems:
                print("    violated: %s: got %r, want %r" % (name, got, want))
            if problems:
                failed += 1
                if daemon.proc is None:
                    break
            else:
                passed += 1
    except KeyboardInterrupt:
        interrupted = True  # stopped early: still print what was checked
    finally:
        if daemon.proc is not None:
            daemon.stop()
        orders = sql(db, "SELECT count(*) FROM orders") if os.path.exists(db) else "?"
        certs = sql(db, "SELECT count(*) FROM certs WHERE status != 'pending'") \
            if os.path.exists(db) else "?"
        if args.keep:
            print("kept", workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("totals: %d issued and %d revoked by load clients before kills, %s orders, %s "
          "certificates stored, %d orders recovered to invalid, %.0f s"
          % (totals["issued"], totals["revoked"], orders, certs, totals["recovered"],
             time.monotonic() - started))
    skipped = args.cycles - passed - failed
    print("%d passed, %d failed%s" % (passed, failed, ", %d not run%s" % (
        skipped, " (interrupted)" if interrupted else "") if skipped else ""))
    return 1 if failed or skipped else 0


if __name__ == "__main__":
    sys.exit(main())
