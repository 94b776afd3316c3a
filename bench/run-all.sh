#!/usr/bin/env bash
# Builds what the benchmarks need and runs every benchmark: husk-runtime as the project
# builds it (build/, static-pie by default) and, for the comparison, dynamically linked
# (build-dynamic/, -DHUSK_STATIC_RUNTIME=OFF). Arguments go to each benchmark (e.g. -n 20).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh bench
cmake -S . -B build -G Ninja >/dev/null
cmake --build build -j2 --target husk-runtime
cmake -S . -B build-dynamic -G Ninja -DHUSK_STATIC_RUNTIME=OFF -DHUSK_TESTS=OFF >/dev/null
cmake --build build-dynamic -j2 --target husk-runtime
bash bench/startup/run.sh "$@"
