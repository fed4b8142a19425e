#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each over its seed corpus.
#   scripts/fuzz.sh [SECONDS] [TARGET...]   build in build-fuzz, run each target SECONDS
#                                           (default 60), print executions per target
#   scripts/fuzz.sh --run-one BIN TARGET SECONDS
#                                           run one built target (what ctest's fuzz-smoke
#                                           tests call)
# Seeds stay untouched in test/fuzz/corpus/<target>; new inputs go to
# build-fuzz/corpus/<target>, crashes to build-fuzz/artifacts/<target>/ (the run fails).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

run_one() {
    local bin=$1 target=$2 secs=$3
    local build work arts dict log execs rc=0
    build=$(dirname "$bin")
    work=$build/corpus/$target
    arts=$build/artifacts/$target
    log=$build/fuzz-$target.log
    mkdir -p "$work" "$arts"
    dict=()
    if [ -f "$root/test/fuzz/dict/$target.dict" ]; then
        dict=(-dict="$root/test/fuzz/dict/$target.dict")
    fi
    # detect_leaks: a leak is a finding like a crash. The RSS limit keeps a runaway input
    # from taking the machine; -timeout flags any input slower than 25 s.
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$bin" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$arts/" "${dict[@]}" "$work" "$root/test/fuzz/corpus/$target" \
        >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ "$rc" -ne 0 ]; then
        tail -60 "$log"
        echo "fuzz $target: FAILED (exit $rc) after ${execs:-?} executions; see $log and $arts"
        return 1
    fi
    echo "fuzz $target: ${execs:-0} executions in ${secs} s, corpus $(ls "$work" | wc -l) inputs"
}

if [ "${1:-}" = --run-one ]; then
    run_one "$2" "$3" "$4"
    exit
fi

secs=${1:-60}
shift || true
cc=$(command -v clang-14 || command -v clang || true)
if [ -z "$cc" ]; then
    echo "fuzz.sh: clang not found (scripts/deps.sh test installs it)" >&2
    exit 1
fi
CC=$cc cmake -S "$root" -B "$root/build-fuzz" -DCAIRN_FUZZ=ON -DCAIRN_TESTS=OFF \
    -DCAIRN_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build-fuzz" -j2 >/dev/null

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    for f in "$root"/test/fuzz/fuzz_*.c; do
        t=$(basename "$f" .c)
        [ "$t" = fuzz_util ] || targets+=("${t#fuzz_}")
    done
fi
failed=0
for t in "${targets[@]}"; do
    run_one "$root/build-fuzz/fuzz_$t" "$t" "$secs" || failed=$((failed + 1))
done
echo "fuzz: ${#targets[@]} targets, $failed failed"
[ "$failed" -eq 0 ]
