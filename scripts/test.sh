#!/usr/bin/env bash
# The one test command (README, CI): installs test dependencies, builds with
# -Werror, runs the unit tests under ASan+UBSan, then the whole suite (unit,
# integration against the real daemon, interop with certbot, lego and uacme)
# in a normal build, a short kill -9 crash loop and a fuzz smoke run of every
# libFuzzer target. Ends with ctest's summary line.
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

echo "== Crash safety: kill -9 under load, restart, check the stored state (scripts/crashloop.sh)"
CAIRN_BIN=build-test/cairn scripts/crashloop.sh "${CAIRN_CRASHLOOP_CYCLES:-5}"

echo "== Fuzz smoke: every libFuzzer target (clang, ASan+UBSan) for a few seconds"
CC=$(command -v clang-14 || command -v clang) \
    cmake -S . -B build-fuzz -DCAIRN_FUZZ=ON -DCAIRN_TESTS=OFF -DCAIRN_WERROR=ON \
    -DCAIRN_FUZZ_SECONDS="${CAIRN_FUZZ_SECONDS:-10}" >/dev/null
cmake --build build-fuzz -j"$jobs"
ctest --test-dir build-fuzz -L fuzz-smoke --output-on-failure
