#!/usr/bin/env bash
# User-defined networks side by side in one run, husk and podman (netavark + aardvark-dns,
# on its own temporary storage):
#   name:   time from `run -d` of a server on a network to the moment a client container
#           already on that network reaches it by name (the client polls every 2 ms and
#           touches a file in a bind-mounted directory, which this script watches)
#   cycle:  `network create N` + `network rm N`
# Median of the rounds for each, and podman/husk ratios.
#
# usage: bench/network/run.sh [-n ROUNDS] [--husk PATH] [--no-write]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
src=$PWD

rounds=10
husk=$src/build/src/cli/husk/husk
write=1
while [ $# -gt 0 ]; do
    case "$1" in
        -n) rounds=$2; shift 2 ;;
        --husk) husk=$2; shift 2 ;;
        --no-write) write=0; shift ;;
        *) echo "usage: $0 [-n ROUNDS] [--husk PATH] [--no-write]" >&2; exit 2 ;;
    esac
done
[ -x "$husk" ] || { echo "$0: build husk first ($husk)" >&2; exit 1; }
[ -x /usr/lib/podman/aardvark-dns ] ||
    { echo "$0: podman's peer needs netavark and aardvark-dns (scripts/deps.sh bench)" >&2; exit 1; }

work=$(mktemp -d /tmp/network-bench-XXXXXX)
chmod 755 "$work"
sfx=$(basename "$work" | tr -cd 'a-zA-Z0-9' | tail -c 6)
net=bench-$sfx
pod=(podman --root "$work/podman" --runroot "$work/podman-run" --storage-driver overlay
    --network-backend netavark --runtime runc --cgroup-manager cgroupfs --events-backend none)
h=("$husk" --root "$work/husk")
cleanup() {
    "${h[@]}" rm -f $("${h[@]}" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
    "${h[@]}" network prune -f >/dev/null 2>&1 || true
    "${pod[@]}" rm -af -t 0 >/dev/null 2>&1 || true
    "${pod[@]}" network prune -f >/dev/null 2>&1 || true
    umount_under "$work"
    rm -rf "$work"
}
trap cleanup EXIT

busybox_for_both "$work" "$husk" "${pod[@]}"

now_ns() { date +%s%N; }
# Waits for FILE to appear (1 ms polls); prints the time it did, in ns.
wait_file() { python3 -c '
import os, sys, time
while not os.path.exists(sys.argv[1]): time.sleep(0.001)
print(time.time_ns())' "$1"; }
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# runc refuses podman's default rlimits on this host (bench/run/detached.sh)
pod_run() { "${pod[@]}" run --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$@"; }
h_run() { "${h[@]}" run "$@"; }

# ENGINE IMAGE: one client polling for "srv" on the network, then ROUNDS servers.
name_rounds() {
    local -n eng=$1
    local image=$2 out=$work/out-$1
    mkdir -p "$out"
    "${eng[@]}" network create "$net" >/dev/null
    "$1_run" -d --name "cli-$sfx" --network "$net" -v "$out:/out" "$image" sh -c \
        "while true; do if nc -w 1 srv-$sfx 8080 </dev/null 2>/dev/null | grep -q hi; then touch /out/ok; fi; usleep 2000; done" >/dev/null
    for _ in $(seq 1 "$rounds"); do
        rm -f "$out/ok"
        local t0 t1
        t0=$(now_ns)
        "$1_run" -d --name "srv-$sfx" --network "$net" "$image" nc -ll -p 8080 -e echo hi >/dev/null
        t1=$(wait_file "$out/ok")
        echo $(((t1 - t0) / 1000000))
        "${eng[@]}" rm -f "srv-$sfx" >/dev/null 2>&1
        rm -f "$out/ok"
        sleep 0.2  # the client's last success before the rm is not the next round's
        rm -f "$out/ok"
    done
    "${eng[@]}" rm -f "cli-$sfx" >/dev/null 2>&1
    "${eng[@]}" network rm "$net" >/dev/null
}

cycle_rounds() {
    local -n eng=$1
    for _ in $(seq 1 "$rounds"); do
        local t0 t1
        t0=$(now_ns)
        "${eng[@]}" network create "cyc-$sfx" >/dev/null
        "${eng[@]}" network rm "cyc-$sfx" >/dev/null
        t1=$(now_ns)
        echo $(((t1 - t0) / 1000000))
    done
}

# warm both (page cache, first-run setup)
"${h[@]}" run --rm --network none husk/busybox true
pod_run --rm --network none localhost/husk/busybox true

h_name=$(name_rounds h husk/busybox | median)
p_name=$(name_rounds pod localhost/husk/busybox | median)
h_cycle=$(cycle_rounds h | median)
p_cycle=$(cycle_rounds pod | median)

report=$(
    echo "# bench/network — $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "husk $("$husk" --version 2>/dev/null | head -1); $(podman --version) ($(/usr/lib/podman/netavark --version 2>/dev/null || echo netavark ?))"
    echo
    echo "median of $rounds rounds, ms | husk | podman | podman/husk"
    echo "---|---|---|---"
    python3 -c "import sys
h1, p1, h2, p2 = map(float, sys.argv[1:])
print(f'run -d to reachable by name | {h1:.0f} | {p1:.0f} | {p1 / max(h1, 1):.2f}x')
print(f'network create + rm | {h2:.0f} | {p2:.0f} | {p2 / max(h2, 1):.2f}x')" "$h_name" "$p_name" "$h_cycle" "$p_cycle"
)
echo "$report"
[ "$write" = 1 ] && echo "$report" >bench/network/results.md
exit 0
