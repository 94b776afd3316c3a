#!/usr/bin/env bash
# Builds what the benchmarks need and runs every benchmark under bench/: husk-runtime as the project
# builds it (build/) and with the other linkage (build-static/ with -DHUSK_STATIC_RUNTIME=ON,
# or build-dynamic/ with OFF, whichever build/ is not). Arguments go to each benchmark.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh bench
cmake -S . -B build -G Ninja >/dev/null
cmake --build build -j2 --target husk-runtime
if readelf -l build/bin/husk-runtime | grep -q 'program interpreter'; then
  other=(build-static ON)
else
  other=(build-dynamic OFF)
fi
cmake -S . -B "${other[0]}" -G Ninja -DHUSK_STATIC_RUNTIME="${other[1]}" -DHUSK_TESTS=OFF >/dev/null
cmake --build "${other[0]}" -j2 --target husk-runtime
bash bench/startup/run.sh "$@"
bash bench/engines/run.sh
# The engine-level benchmarks need the whole build (husk, husk-init, husk-monitor).
cmake --build build -j2
bash bench/pull/run.sh
bash bench/run/run.sh
bash bench/run/detached.sh
bash bench/sbom/run.sh
bash bench/build/run.sh
bash bench/proc/run.sh
bash bench/network/run.sh
bash bench/rootless/run.sh
