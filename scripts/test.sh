#!/usr/bin/env bash
# The one test command (README, CI): installs test dependencies, builds with
# -Werror, runs the unit tests under ASan+UBSan, then the whole suite (unit,
# integration against the real daemon, interop with certbot, lego and uacme)
# in a normal build. Ends with ctest's summary line.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh test

jobs=$(nproc)

echo "== ASan+UBSan build: unit tests, and the integration suite against an ASan daemon"
cmake -S . -B build-asan -DCAIRN_WERROR=ON -DCAIRN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan -L 'unit|integration' --output-on-failure

echo "== Release build: unit, integration and interop tests"
cmake -S . -B build-test -DCAIRN_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-test -j"$jobs"
echo "== VA benchmark smoke run (figures only; fails only if a validation fails)"
build-test/cairn-va-bench -n 2000 -c 64
echo "== Benchmark smoke run (about 5 s; checks that it works, no timing assertions)"
scripts/bench-smoke.sh build-test
ctest --test-dir build-test --output-on-failure
