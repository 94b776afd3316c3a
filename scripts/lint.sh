#!/usr/bin/env bash
# clang-format and clang-tidy over the tracked sources, with the repo's .clang-format and
# .clang-tidy. Usage: [LINT_JOBS=N] scripts/lint.sh [BUILD_DIR]
# BUILD_DIR holds compile_commands.json (default build-lint, configured here on every run, so
# that files added since are in it: a build directory that is never built, whose commands are each file's own - a unity build's
# name its unity files instead); LINT_JOBS clang-tidy processes run at
# once (default nproc). Prints each finding and one closing line per tool; exits non-zero on any.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-lint}
status=0

mapfile -t sources < <(git ls-files '*.c' '*.cpp' '*.h')
if ! clang-format --dry-run --Werror "${sources[@]}"; then
    echo "lint: clang-format: the files above differ from .clang-format (clang-format -i FILE)"
    status=1
else
    echo "lint: clang-format: ${#sources[@]} files clean"
fi

# The child side (between clone and execve) neither allocates nor throws: in the sections
# marked "// --- child side: ... ---" ... "// --- end child side ---" of src/, after comments
# and string literals are dropped, none of these may appear.
child_forbidden='std::string\b|std::vector\b|std::map\b|std::to_string|std::make_(unique|shared)|fmt::|\bthrow\b|\bthrow_sys\b|with_context|\bnew\b|\bdelete\b|push_back|emplace_back|\bmalloc\b|\bcalloc\b|\bstrdup\b|log::'
mapfile -t marked < <(git grep -l -e '// --- child side' -- 'src/*.cpp' 'src/*.h')
child_findings=$(for f in "${marked[@]}"; do
    awk -v file="$f" '
        /\/\/ --- end child side ---/ { inside = 0; next }
        /\/\/ --- child side/ { inside = 1; next }
        inside {
            code = $0
            gsub(/"([^"\\]|\\.)*"/, "\"\"", code)
            sub(/\/\/.*/, "", code)
            printf "%s:%d: %s\n", file, FNR, code
        }
        END { if (inside) printf "%s:%d: a child side section is not closed: end child side\n", file, FNR }' "$f"
done | grep -E ":[0-9]+: .*(${child_forbidden}|end child side)")
if [ -n "$child_findings" ]; then
    echo "$child_findings"
    echo "lint: child side: allocation or throw between clone and execve (sections above)"
    status=1
else
    echo "lint: child side: ${#marked[@]} files clean"
fi

# clang-tidy on every translation unit of src/ (headers through HeaderFilterRegex).
if [ "$build" = build-lint ]; then
    cmake -S . -B build-lint -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_UNITY_BUILD=OFF >/dev/null
fi
if [ ! -f "$build/compile_commands.json" ]; then
    echo "lint: clang-tidy: $build/compile_commands.json is missing (configure with cmake first)"
    exit 1
fi
mapfile -t units < <(git ls-files 'src/*.cpp')
log=$(mktemp)
# -quiet: no per-file banner; findings (warnings or errors) are what count.
printf '%s\n' "${units[@]}" |
    xargs -P "${LINT_JOBS:-$(nproc)}" -n 4 clang-tidy -p "$build" --quiet --warnings-as-errors='*' >"$log" 2>&1
tidy_rc=$?
if [ $tidy_rc -ne 0 ] || grep -qE ': (warning|error):' "$log"; then
    grep -E -A3 ': (warning|error):' "$log" | head -200
    echo "lint: clang-tidy: findings above (.clang-tidy)"
    status=1
else
    echo "lint: clang-tidy: ${#units[@]} files clean"
fi
rm -f "$log"
exit $status
