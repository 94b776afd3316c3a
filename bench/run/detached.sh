#!/usr/bin/env bash
# 50 detached `sleep` containers at once, side by side in one run:
#   husk run -d husk/busybox sleep 600      (one husk-monitor per container)
#   podman run -d ... sleep 600             (one conmon per container; podman drives runc,
#                                            see run.sh for why not crun on this host)
# Prints the total time to start them all (one after the other, as a script would),
# and the memory each container's monitor costs at rest: the PSS of husk-monitor and of
# conmon, from /proc/PID/smaps_rollup, mean over the 50 (target: <= 1 MiB).
#
# usage: bench/run/detached.sh [-n CONTAINERS] [--husk PATH]
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."
src=$PWD

count=50
husk=$src/build/src/cli/husk/husk
while [ $# -gt 0 ]; do
    case "$1" in
        -n) count=$2; shift 2 ;;
        --husk) husk=$2; shift 2 ;;
        *) echo "usage: $0 [-n CONTAINERS] [--husk PATH]" >&2; exit 2 ;;
    esac
done
[ -x "$husk" ] || { echo "$0: build husk first ($husk)" >&2; exit 1; }
bash scripts/deps.sh bench

work=$(mktemp -d /tmp/detached-bench-XXXXXX)
chmod 755 "$work"
pod=(podman --root "$work/podman" --runroot "$work/podman-run" --storage-driver overlay
    --runtime runc --cgroup-manager cgroupfs --events-backend none)
cleanup() {
    "$husk" --root "$work/husk" rm -f $("$husk" --root "$work/husk" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
    "${pod[@]}" rm -af -t 0 >/dev/null 2>&1 || true
    umount_under "$work"
    rm -rf "$work"
}
trap cleanup EXIT

busybox_for_both "$work" "$husk" "${pod[@]}"
podman_run=("${pod[@]}" run -d --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
    localhost/husk/busybox sleep 600)
husk_run=("$husk" --root "$work/husk" run -d --network none husk/busybox sleep 600)
# warm both (page cache, seccomp cache, podman's first-run setup)
"$husk" --root "$work/husk" rm -f "$("${husk_run[@]}")" >/dev/null
"${pod[@]}" rm -f -t 0 "$("${podman_run[@]}")" >/dev/null

ms() { date +%s%N; }
t0=$(ms)
for _ in $(seq 1 "$count"); do "${husk_run[@]}" >/dev/null; done
t1=$(ms)
for _ in $(seq 1 "$count"); do "${podman_run[@]}" >/dev/null; done
t2=$(ms)

pss_kib() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }
rss_kib() { awk '/^Rss:/ {print $2}' "/proc/$1/smaps_rollup"; }
mean() { awk '{s += $1; n++} END {printf "%.0f", n ? s / n : 0}'; }
husk_mons=()
for id in $("$husk" --root "$work/husk" ps -q --no-trunc); do
    pid=$("$husk" --root "$work/husk" inspect -f '{{.State.Pid}}' "$id")
    husk_mons+=("$(awk '{print $4}' "/proc/$pid/stat")")
done
conmons=()
for id in $("${pod[@]}" ps -q --no-trunc); do
    conmons+=("$("${pod[@]}" inspect -f '{{.State.ConmonPid}}' "$id")")
done
[ "${#husk_mons[@]}" -eq "$count" ] || { echo "only ${#husk_mons[@]} husk containers run" >&2; exit 1; }
[ "${#conmons[@]}" -eq "$count" ] || { echo "only ${#conmons[@]} podman containers run" >&2; exit 1; }
h_pss=$(for p in "${husk_mons[@]}"; do pss_kib "$p"; done | mean)
h_rss=$(for p in "${husk_mons[@]}"; do rss_kib "$p"; done | mean)
c_pss=$(for p in "${conmons[@]}"; do pss_kib "$p"; done | mean)
c_rss=$(for p in "${conmons[@]}"; do rss_kib "$p"; done | mean)
h_ms=$(((t1 - t0) / 1000000))
p_ms=$(((t2 - t1) / 1000000))

printf '%-34s %14s %12s %16s %16s\n' "$count detached sleep containers" "total start ms" "ms/container" "monitor PSS KiB" "monitor RSS KiB"
printf '%-34s %14s %12s %16s %16s\n' "husk run -d (husk-monitor)" "$h_ms" "$((h_ms / count))" "$h_pss" "$h_rss"
printf '%-34s %14s %12s %16s %16s\n' "podman run -d (conmon, runc)" "$p_ms" "$((p_ms / count))" "$c_pss" "$c_rss"
python3 -c "import sys; print(f'podman/husk: {int(sys.argv[1])/max(int(sys.argv[2]),1):.1f}x start time, {int(sys.argv[3])/max(int(sys.argv[4]),1):.1f}x monitor PSS')" \
    "$p_ms" "$h_ms" "$c_pss" "$h_pss"
