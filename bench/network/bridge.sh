#!/usr/bin/env bash
# What the default bridge network adds to `run --rm IMAGE true`, husk and podman side by
# side, interleaved round by round (so load swings hit every case alike):
#   husk run --rm --network none | default bridge | bridge + one -p
#   podman run --rm --network none | default (netavark bridge)
# Prints the median wall time of each case, what the bridge adds over --network none, the
# CPU per run, the podman/husk ratio on the default network, and the load average.
# `--husk PATH` measures another build; `--before PATH` adds the husk cases of another
# build (e.g. main's) to the same interleaved rounds, on a data root of its own, for a
# before/after under one load.
#
# usage: bench/network/bridge.sh [-n ROUNDS] [--husk PATH] [--before PATH]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
src=$PWD

rounds=20
husk=$src/build/src/cli/husk/husk
before=
while [ $# -gt 0 ]; do
    case "$1" in
        -n) rounds=$2; shift 2 ;;
        --husk) husk=$2; shift 2 ;;
        --before) before=$2; shift 2 ;;
        *) echo "usage: $0 [-n ROUNDS] [--husk PATH] [--before PATH]" >&2; exit 2 ;;
    esac
done
[ -x "$husk" ] || { echo "$0: build husk first ($husk)" >&2; exit 1; }
[ -z "$before" ] || [ -x "$before" ] || { echo "$0: no husk at $before" >&2; exit 1; }
bash scripts/deps.sh bench

work=$(mktemp -d /tmp/bridge-bench-XXXXXX)
chmod 755 "$work"
pod=(podman --root "$work/podman" --runroot "$work/podman-run" --storage-driver overlay
    --network-backend netavark --runtime runc --cgroup-manager cgroupfs --events-backend none)
cleanup() {
    "${pod[@]}" rm -af -t 0 >/dev/null 2>&1 || true
    umount_under "$work"
    rm -rf "$work"
}
trap cleanup EXIT
busybox_for_both "$work" "$husk" "${pod[@]}"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
h="$husk --root $work/husk run --rm"
cases=()
if [ -n "$before" ]; then
    bash scripts/make-busybox-image.sh --root "$work/husk-before" --husk "$before" \
        -o "$work/busybox-before.tar" >/dev/null
    b="$before --root $work/husk-before run --rm"
    cases=("husk before --network none" "$b --network none husk/busybox true"
        "husk before bridge" "$b husk/busybox true"
        "husk before bridge -p" "$b -p 127.0.0.1:$port:80 husk/busybox true")
fi
# runc refuses podman's default rlimits on this host (bench/run/detached.sh)
p="${pod[*]} run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
python3 - "$rounds" \
    "husk --network none" "$h --network none husk/busybox true" \
    "husk bridge" "$h husk/busybox true" \
    "husk bridge -p" "$h -p 127.0.0.1:$port:80 husk/busybox true" \
    "podman --network none" "$p --network none localhost/husk/busybox true" \
    "podman bridge" "$p localhost/husk/busybox true" "${cases[@]}" <<'PY'
import os, resource, statistics, subprocess, sys, time
n = int(sys.argv[1])
cases = [(sys.argv[i], sys.argv[i + 1].split()) for i in range(2, len(sys.argv), 2)]
walls = {name: [] for name, _ in cases}
cpu = {name: 0.0 for name, _ in cases}
for name, cmd in cases:  # warm: page cache, seccomp cache, bridges, podman's first run
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
for _ in range(n):
    for name, cmd in cases:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        walls[name].append((time.perf_counter() - t) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu[name] += (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
med = {name: statistics.median(w) for name, w in walls.items()}
print(f"run --rm true, {n} interleaved rounds, load {os.getloadavg()[0]:.2f}")
print(f"{'case':24} {'median ms':>10} {'cpu ms/run':>11} {'added by the network':>21}")
for name, _ in cases:
    base = (med["husk before --network none"] if name.startswith("husk before")
            else med["husk --network none"] if name.startswith("husk")
            else med["podman --network none"])
    added = "" if "none" in name else f"{med[name] - base:+.1f} ms"
    print(f"{name:24} {med[name]:10.1f} {cpu[name] / n:11.1f} {added:>21}")
print(f"podman/husk on the default network: {med['podman bridge'] / med['husk bridge']:.1f}x wall")
PY
