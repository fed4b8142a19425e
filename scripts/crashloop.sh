#!/usr/bin/env bash
# Crash-safety loop: N cycles of kill -9 under issuance load, each followed by a restart,
# the stored-state invariants (sqlite3) and a client that must carry on.
#   scripts/crashloop.sh N [--clients C] [--seed S] [--max-delay SECONDS]
# Uses $CAIRN_BIN, else build/cairn. Prints the invariants, a line per cycle and a final
# "N passed, M failed" line (test/tools/crashloop.py does the work).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 1 ]; then
    echo "usage: scripts/crashloop.sh N [--clients C] [--seed S] [--max-delay SECONDS]" >&2
    exit 2
fi
# absolute: the daemon is started from its own work directory
CAIRN_BIN=$(realpath "${CAIRN_BIN:-$root/build/cairn}")
export CAIRN_BIN
exec /usr/bin/python3 "$root/test/tools/crashloop.py" "$@"
