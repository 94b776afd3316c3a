#!/usr/bin/env bash
# `husk run --rm IMAGE true` with the image present, side by side in one run with
#   podman run --rm IMAGE true   (its own --root in a temp dir)
# podman drives runc: crun 1.8.1 refuses this hybrid host ("cgroups in hybrid mode not
# supported, drop all controllers from cgroupv2": cgroup2 holds hugetlb here).
# both with --network none (husk's default is now a bridge, as docker's: measured apart).
# The same busybox image (an OCI archive from scripts/make-busybox-image.sh) is loaded
# into both stores first.
# Prints the median wall time of each, the ratio, and the CPU time per run.
#
# usage: bench/run/run.sh [-n RUNS] [--husk PATH]
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."
src=$PWD

runs=20
husk=$src/build/src/cli/husk/husk
while [ $# -gt 0 ]; do
    case "$1" in
        -n) runs=$2; shift 2 ;;
        --husk) husk=$2; shift 2 ;;
        *) echo "usage: $0 [-n RUNS] [--husk PATH]" >&2; exit 2 ;;
    esac
done
[ -x "$husk" ] || { echo "$0: build husk first ($husk)" >&2; exit 1; }
bash scripts/deps.sh bench

work=$(mktemp -d /tmp/run-bench-XXXXXX)
cleanup() {
    podman --root "$work/podman" --runroot "$work/podman-run" --storage-driver overlay \
        rm -af >/dev/null 2>&1 || true
    umount_under "$work"
    rm -rf "$work"
}
trap cleanup EXIT

pod=(podman --root "$work/podman" --runroot "$work/podman-run" --storage-driver overlay
    --runtime runc --cgroup-manager cgroupfs --events-backend none)
busybox_for_both "$work" "$husk" "${pod[@]}"

husk_cmd="$husk --root $work/husk run --rm --network none husk/busybox true"
# podman raises RLIMIT_NOFILE and RLIMIT_NPROC by default, above this host's hard limits
# (root here has no CAP_SYS_RESOURCE): ask for limits within them.
podman_cmd="${pod[*]} run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/husk/busybox true"
# warm both (page cache, seccomp cache, podman's first-run setup)
$husk_cmd && $podman_cmd

# median wall time (ms) and mean CPU time (user+sys, ms) of N runs
measure() {
    python3 - "$runs" "$@" <<'PY'
import os, resource, statistics, subprocess, sys, time
n = int(sys.argv[1]); cmd = sys.argv[2:]
walls = []
before = resource.getrusage(resource.RUSAGE_CHILDREN)
for _ in range(n):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    walls.append((time.perf_counter() - t) * 1000)
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000 / n
print(f"{statistics.median(walls):.1f} {cpu:.1f}")
PY
}
read -r h_wall h_cpu < <(measure $husk_cmd)
read -r p_wall p_cpu < <(measure $podman_cmd)
printf '%-28s %10s %12s\n' "run --rm true ($runs runs)" "median ms" "cpu ms/run"
printf '%-28s %10s %12s\n' "husk" "$h_wall" "$h_cpu"
printf '%-28s %10s %12s\n' "podman (runc)" "$p_wall" "$p_cpu"
# podman's CPU time leaves out conmon, which detaches from it
python3 -c "import sys; print(f'podman/husk: {float(sys.argv[1])/float(sys.argv[2]):.1f}x wall, {float(sys.argv[3])/float(sys.argv[4]):.1f}x cpu')" \
    "$p_wall" "$h_wall" "$p_cpu" "$h_cpu"
