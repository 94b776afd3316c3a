#!/usr/bin/env bash
# podman --runtime RUNTIME run --rm IMAGE true, for husk-runtime, crun and runc, in one run:
# rounds interleaved (husk, crun, runc, husk, ...) so load changes hit all alike. podman
# runs on the same temporary storage and containers.conf as tests/e2e/engines/podman.sh
# (cgroupfs, its own default bridge network). A runtime that cannot run a container on
# this machine is reported with its error instead of a time (crun 1.8.1 refuses hybrid
# cgroup hosts). Prints the median wall time of each and the ratios to husk-runtime.
#
# Writes the figures to bench/engines/results.md too (not with --no-write).
#
# usage: bench/engines/run.sh [-n RUNS] [--husk PATH] [--no-write]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=20
write=1
husk=$PWD/build/bin/husk-runtime
while [ $# -gt 0 ]; do
    case "$1" in
        -n) runs=$2; shift 2 ;;
        --husk) husk=$(realpath "$2"); shift 2 ;;
        --no-write) write=0; shift ;;
        *) echo "usage: $0 [-n RUNS] [--husk PATH] [--no-write]" >&2; exit 2 ;;
    esac
done
[ -x "$husk" ] || { echo "$0: build husk-runtime first ($husk)" >&2; exit 1; }
. tests/e2e/engines/lib.bash

T=$(mktemp -d /tmp/engines-bench-XXXXXX)
bridge=hkb$$
cleanup() {
    podman_env_cleanup "$T" || true
    ip link del "$bridge" 2>/dev/null || true
}
trap cleanup EXIT
podman_env "$T" "$bridge" "10.231.$((RANDOM % 250)).0/24"
engines_make_images "$T"
podman load -q -i "$T/busybox.tar" >/dev/null
IMG=localhost/husk/busybox:latest

out=$T/results.txt
python3 - "$runs" "$IMG" "$husk" "$(command -v crun || echo crun)" "$(command -v runc || echo runc)" <<'PY' | tee "$out"
import statistics, subprocess, sys, time
runs, img, runtimes = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
names = ["husk-runtime", "crun", "runc"]
def once(rt):
    t = time.perf_counter()
    p = subprocess.run(["podman", "--runtime", rt, "run", "--rm", img, "true"],
                       capture_output=True, text=True)
    return (time.perf_counter() - t) * 1000, p
walls, broken = {n: [] for n in names}, {}
for n, rt in zip(names, runtimes):  # warm up; find the runtimes that cannot run here
    _, p = once(rt)
    if p.returncode != 0:
        broken[n] = (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]
for _ in range(runs):
    for n, rt in zip(names, runtimes):
        if n in broken: continue
        ms, p = once(rt)
        if p.returncode != 0:
            broken[n] = p.stderr.strip().splitlines()[-1]
            continue
        walls[n].append(ms)
print(f"podman run --rm {img} true, {runs} runs each, interleaved; median wall time")
h = statistics.median(walls["husk-runtime"]) if walls["husk-runtime"] else None
for n in names:
    if n in broken:
        print(f"  {n:13} cannot run here: {broken[n]}")
        continue
    m = statistics.median(walls[n])
    ratio = f"  ({m / h:.2f}x husk-runtime)" if h and n != "husk-runtime" else ""
    print(f"  {n:13} {m:7.1f} ms  (min {min(walls[n]):.1f}, max {max(walls[n]):.1f}){ratio}")
PY
[ $write = 1 ] || exit 0
{
    echo "# bench/engines results"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg);"
    echo "$(podman --version), conmon $(conmon --version | sed -n 's/conmon version //p'),"
    echo "crun $(crun --version | sed -n 's/crun version //p'), runc $(runc --version | sed -n 's/runc version //p'),"
    echo "husk $(git rev-parse --short HEAD) ($(readelf -l "$husk" | grep -q 'program interpreter' && echo dynamic || echo static-pie))."
    echo
    echo '```'
    cat "$out"
    echo '```'
} >bench/engines/results.md
