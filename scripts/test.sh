#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (root), builds husk, and runs every test:
# clang-format and clang-tidy (scripts/lint.sh), unit, integration and e2e tests
# through ctest, then the unit tests again under ASan+UBSan. Prints one closing line "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# Where the time goes, in the log: seconds since the start at the end of each phase.
phase() { echo "test.sh: +${SECONDS}s $*"; }

bash scripts/deps.sh
phase "dependencies installed"

jobs=$(nproc)
# -g1: line tables (what a backtrace or a sanitizer report needs) at a fifth less compile
# time than full debug info. A unity build of src/ (16 files a unit, as the sanitizer build
# below): the json, fmt and library templates are compiled once per unit instead of once
# per file, 370 s of CPU for src/ instead of 1154 s here; the build is the one phase nothing
# runs beside. clang-tidy needs each file's own command: the linter (below, beside the
# tests) configures and reads a never built build-lint instead.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO='-O2 -g1 -DNDEBUG' -DCMAKE_C_FLAGS_RELWITHDEBINFO='-O2 -g1 -DNDEBUG' \
    -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 >/dev/null
cmake --build build -j "$jobs"
phase "main build done"

# PID 1 on these machines does not reap orphans: the test runner is a subreaper.
subreap=(python3 "$root/scripts/subreaper.py")

run_ctest() {  # name build-dir ctest-args...   (appends "name total failed skipped rc" to $results_file)
    local name=$1 dir=$2
    shift 2
    local log
    log=$(mktemp)
    set +e
    "${subreap[@]}" ctest --test-dir "$dir" --output-on-failure --timeout 300 "$@" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    set -e
    local total failed skipped
    total=$(sed -nE 's/.*tests failed out of ([0-9]+).*/\1/p' "$log" | tail -1)
    failed=$(sed -nE 's/.* ([0-9]+) tests failed out of.*/\1/p' "$log" | tail -1)
    skipped=$(grep -cE '\(Skipped\)$' "$log" || true)
    rm -f "$log"
    echo "$name ${total:-0} ${failed:-0} ${skipped:-0} $rc" >>"$results_file"
}
results_file=$(mktemp)

# clang-format and clang-tidy (the repo's .clang-format and .clang-tidy), two checks, run
# beside the main ctest run and the sanitizer build: the first runs its tests one at a time
# and mostly waits on containers, so the linter (niced: tests come first) takes the idle CPU
# instead of adding its ~12 minutes of CPU to the run.
lint_log=$(mktemp)
(
    rc=0
    LINT_JOBS=$jobs nice -n 10 bash "$root/scripts/lint.sh" || rc=$?
    phase "lint finished"
    exit $rc
) >"$lint_log" 2>&1 &
lint_pid=$!

# The unit test binary run once, as one process (ctest starts one per test, and a sanitized
# start costs most of a second: 452 of them were 4 minutes of CPU). gtest's summary lines give
# the counts.
run_gtest() {  # name binary   (appends "name total failed skipped rc" to $results_file)
    local name=$1 bin=$2 log
    log=$(mktemp)
    set +e
    "${subreap[@]}" "$bin" --gtest_brief=1 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    set -e
    local total failed skipped
    total=$(sed -nE 's/^\[==========\] ([0-9]+) tests? from .* ran\..*/\1/p' "$log" | tail -1)
    failed=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) tests?, listed below.*/\1/p' "$log" | tail -1)
    skipped=$(sed -nE 's/^\[  SKIPPED \] ([0-9]+) tests?, listed below.*/\1/p' "$log" | tail -1)
    rm -f "$log"
    # a crash before the summary counts as one failure
    [ "$rc" != 0 ] && [ "${failed:-0}" = 0 ] && failed=1 && total=${total:-1}
    echo "$name ${total:-0} ${failed:-0} ${skipped:-0} $rc" >>"$results_file"
}

# The sanitizer build: unit tests only (the integration tests run the real binaries in the
# main run). Built and run beside the main run too (niced), for the same reason as the linter;
# its output is printed after the main run's. A unity build of src/ (16 files a unit): the
# json, fmt and library templates each file instantiates are compiled, sanitized, once per
# unit instead of once per file, which halves the build's CPU time; names in a target's
# anonymous namespaces must therefore be unique within it (tests/ are not unity-built).
asan_log=$(mktemp)
(
    if nice -n 10 cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
        -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1 -DHUSK_SANITIZE=ON \
        -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 >/dev/null &&
        nice -n 10 cmake --build build-asan -j "$jobs" --target husk_unit_tests; then
        phase "sanitizer build done"
        run_gtest asan build-asan/tests/unit/husk_unit_tests
    else
        echo "asan 1 1 0 1" >>"$results_file"
    fi
) >"$asan_log" 2>&1 &
asan_pid=$!

run_ctest main build -j 1
phase "main tests done"

set +e
wait "$asan_pid"
set -e
cat "$asan_log"
rm -f "$asan_log"

set +e
wait "$lint_pid"
lint_rc=$?
set -e
cat "$lint_log"
lint_failed=$(grep -cE '^lint: clang-(format|tidy): .*(differ|findings|missing)' "$lint_log" || true)
rm -f "$lint_log"
echo "lint 2 $lint_failed 0 $lint_rc" >>"$results_file"

passed=0 failed=0 skipped=0 status=0
while read -r r; do
    read -r name total f s rc <<<"$r"
    echo "$name: $total tests, $f failed, $s skipped (exit $rc)"
    passed=$((passed + total - f - s))
    failed=$((failed + f))
    skipped=$((skipped + s))
    [ "$rc" = 0 ] || status=1
done <"$results_file"
rm -f "$results_file"
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
