#!/usr/bin/env bash
# Builds what the benchmarks need (husk-runtime dynamic in build/, -static-pie in
# build-static/) and runs every benchmark. Arguments go to each benchmark (e.g. -n 20).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh
cmake -S . -B build -G Ninja >/dev/null
cmake --build build -j2 --target husk-runtime
cmake -S . -B build-static -G Ninja -DHUSK_STATIC_RUNTIME=ON -DHUSK_TESTS=OFF >/dev/null
cmake --build build-static -j2 --target husk-runtime
bash bench/startup/run.sh "$@"
