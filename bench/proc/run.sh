#!/usr/bin/env bash
# /proc that tells a container its limits: husk --proc-virtualize side by side with lxcfs
# (Debian's lxcfs, its files bind-mounted into a husk container as its users do) and the
# host's own procfs, in one run:
#   1. read latency: median and mean of N open+read+close of each file (readloop.c, static, run
#      inside a busybox container with -m 256m --cpus 1);
#   2. idle cost: CPU of a container's server over 10 s with nobody reading;
#   3. CPU of the serving side while 1, 10 and 50 containers read all files in a loop
#      (husk: the sum over every container's server; lxcfs: its one daemon), with the
#      reads the containers got done (a closed loop: each side serves what it can), then
#      the same work for both (-k rounds of all files, -p ms apart: an agent's poll), the
#      serving CPU in total until the last container is done;
#   4. blast radius: the server killed, what a container's read of /proc/meminfo gets;
#   5. the syscalls the server answers (seccomp user notification): median and mean of N
#      sysinfo(2) and sched_getaffinity(2) calls in a container, husk vs the kernel's own
#      answer (the same container with --proc-virtualize=false).
#
# usage: bench/proc/run.sh [-n READS] [-c "1 10 50"] [-t SECONDS] [-k ROUNDS] [-p PAUSE_MS] [--husk PATH]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
src=$PWD

reads=10000
counts="1 10 50"
secs=5
rounds=50
pause=200
husk=$src/build/src/cli/husk/husk
while [ $# -gt 0 ]; do
    case "$1" in
        -n) reads=$2; shift 2 ;;
        -c) counts=$2; shift 2 ;;
        -t) secs=$2; shift 2 ;;
        -k) rounds=$2; shift 2 ;;
        -p) pause=$2; shift 2 ;;
        --husk) husk=$2; shift 2 ;;
        *) echo "usage: $0 [-n READS] [-c COUNTS] [-t SECONDS] [-k ROUNDS] [-p PAUSE_MS] [--husk PATH]" >&2; exit 2 ;;
    esac
done
[ -x "$husk" ] || { echo "$0: build husk first ($husk)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "$0: needs root" >&2; exit 1; }
bash scripts/deps.sh bench

work=$(mktemp -d /tmp/proc-bench-XXXXXX)
chmod 755 "$work"
root=$work/root
lxpid=
cleanup() {
    for id in $("$husk" --root "$root" ps -aq 2>/dev/null); do
        "$husk" --root "$root" rm -f "$id" >/dev/null 2>&1 || true
    done
    if [ -n "$lxpid" ]; then kill "$lxpid" 2>/dev/null && wait "$lxpid" 2>/dev/null || true; fi
    umount -l "$work/lxcfs" 2>/dev/null || true
    umount_under "$work"
    rm -rf "$work"
}
trap cleanup EXIT
H() { "$husk" --root "$root" "$@"; }

bash scripts/make-busybox-image.sh --root "$root" --husk "$husk" >/dev/null
gcc -static -O2 -o "$work/readloop" bench/proc/readloop.c

start_lxcfs() {
    mkdir -p "$work/lxcfs"
    lxcfs -f -l -p "$work/lxcfs.pid" "$work/lxcfs" >"$work/lxcfs.log" 2>&1 &
    lxpid=$!
    for _ in $(seq 100); do [ -s "$work/lxcfs/proc/meminfo" ] && return; sleep 0.1; done
    echo "$0: lxcfs did not come up: $(cat "$work/lxcfs.log")" >&2
    exit 1
}
start_lxcfs

files=(/proc/meminfo /proc/cpuinfo /proc/stat /proc/loadavg /proc/diskstats /proc/swaps
    /proc/uptime /sys/devices/system/cpu/online)
limits=(-m 256m --cpus 1 -v "$work/readloop:/readloop:ro")
lxcfs_mounts=(--proc-virtualize=false)
for f in "${files[@]}"; do lxcfs_mounts+=(-v "$work/lxcfs$f:$f:ro"); done

# CPU ticks (user + system) of the pids given.
ticks() {
    local t=0 p s
    for p in "$@"; do
        s=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
        t=$((t + ${s% *} + ${s#* }))
    done
    echo "$t"
}
hz=$(getconf CLK_TCK)
servers() {  # the procvirt servers of husk's containers (one pid a file, no newline)
    local f
    for f in "$root"/run/*/procvirt/server.pid; do [ -f "$f" ] && echo "$(cat "$f")"; done
    return 0
}

echo "== read latency: median (and mean) of $reads open+read+close, inside a container (-m 256m --cpus 1)"
H run --rm --proc-virtualize=false "${limits[@]}" husk/busybox /readloop "$reads" "${files[@]}" >"$work/host"
H run --rm "${limits[@]}" husk/busybox /readloop "$reads" "${files[@]}" >"$work/husk"
H run --rm "${limits[@]}" "${lxcfs_mounts[@]}" husk/busybox /readloop "$reads" "${files[@]}" >"$work/lxcfs.lat"
printf '%-31s %8s %8s %8s %9s %9s %8s %8s %8s %9s\n' file host_ns husk_ns lxcfs_ns husk/host \
    lxcfs/host host_mean husk_mean lxcfs_mean husk/host
paste "$work/host" "$work/husk" "$work/lxcfs.lat" | while read -r f h hm _ _ k km kf _ l lm lf; do
    note=
    [ "$kf" != 0 ] && note+=" (husk: $kf failed)"
    [ "$lf" != 0 ] && note+=" (lxcfs: $lf failed)"
    awk -v f="$f" -v h="$h" -v k="$k" -v l="$l" -v hm="$hm" -v km="$km" -v lm="$lm" -v n="$note" \
        'BEGIN { printf "%-31s %8d %8d %8d %9.2f %9.2f %8d %8d %8d %9.2f%s\n", f, h, k, l, k / h, l / h, hm, km, lm, km / hm, n }'
done
echo "(a file husk rendered is read as it is for 5 ms: the median open does not wait for the"
echo " server, the mean carries the opens that did)"
echo "(/proc/uptime: husk serves nothing, a time namespace offset; lxcfs serves it)"

echo
echo "== syscalls: $reads calls each inside a container (-m 256m --cpus 1), median and mean ns"
H run --rm --proc-virtualize=false "${limits[@]}" husk/busybox /readloop -s "$reads" >"$work/host.sys"
H run --rm "${limits[@]}" husk/busybox /readloop -s "$reads" >"$work/husk.sys"
printf '%-20s %10s %10s %10s %10s %9s\n' call host_med husk_med host_mean husk_mean husk/host
paste "$work/host.sys" "$work/husk.sys" | while read -r c hm ha hf _ km ka kf; do
    note=
    [ "$hf" != 0 ] && note+=" (host: $hf failed)"
    [ "$kf" != 0 ] && note+=" (husk: $kf failed)"
    awk -v c="$c" -v hm="$hm" -v km="$km" -v ha="$ha" -v ka="$ka" -v n="$note" \
        'BEGIN { printf "%-20s %10d %10d %10d %10d %9.1f%s\n", c, hm, km, ha, ka, km / hm, n }'
done

echo
echo "== idle: CPU of one container's server over 10 s with nobody reading"
id=$(H run -d "${limits[@]}" husk/busybox sleep 600)
sleep 1
srv=$(cat "$root/run/$id/procvirt/server.pid")
t0=$(ticks "$srv")
sleep 10
echo "husk server: $(( $(ticks "$srv") - t0 )) ticks of CPU in 10 s (1 tick = $((1000 / hz)) ms)"
H rm -f "$id" >/dev/null

# N containers running the reader at once ($3...: its mode, e.g. "-t 5" or "-k 50 200");
# prints the serving side's CPU from the go to the last container's end, and the reads done.
load_run() {
    local kind=$1 n=$2 mode go=$work/go-$1-$2-$RANDOM ids=() i t0 t1 w0 w1 total=0 fails=0 r f
    shift 2
    mode="$*"
    mkdir -p "$go"
    local extra=()
    [ "$kind" = lxcfs ] && extra=("${lxcfs_mounts[@]}")
    for i in $(seq "$n"); do
        ids+=("$(H run -d "${limits[@]}" "${extra[@]}" -v "$go:/go" husk/busybox sh -c \
            "while [ ! -e /go/go ]; do sleep 0.1; done; /readloop $mode ${files[*]} >/go/tmp.$i; mv /go/tmp.$i /go/out.$i; sleep 600")")
    done
    # the containers stay up after their reads: the servers are measured alive
    local pids
    if [ "$kind" = lxcfs ]; then pids=$lxpid; else pids=$(servers); fi
    # shellcheck disable=SC2086
    t0=$(ticks $pids)
    w0=$(date +%s%N)
    touch "$go/go"
    for i in $(seq "$n"); do
        while [ ! -s "$go/out.$i" ]; do sleep 0.2; done
    done
    w1=$(date +%s%N)
    # shellcheck disable=SC2086
    t1=$(ticks $pids)
    for i in $(seq "$n"); do
        read -r r f <"$go/out.$i"
        total=$((total + r))
        fails=$((fails + f))
    done
    for i in "${ids[@]}"; do H rm -f "$i" >/dev/null; done
    awk -v k="$kind" -v n="$n" -v t=$((t1 - t0)) -v hz="$hz" -v w=$(((w1 - w0) / 1000000)) -v r="$total" -v f="$fails" \
        'BEGIN { printf "%-6s %3d containers: serving CPU %7.2f s (%6.1f%% of %5.1f s), %9d reads (%d failed), %6.1f us CPU per read\n",
                 k, n, t / hz, 100 * t / hz / (w / 1000), w / 1000, r, f, r ? 1e6 * t / hz / r : 0 }'
}

echo
echo "== CPU of the serving side, containers reading all files in a loop for $secs s"
echo "   (a closed loop: each side serves as many reads as it can)"
for n in $counts; do
    load_run husk "$n" -t "$secs"
    load_run lxcfs "$n" -t "$secs"
done

echo
echo "== the same work for both: each container reads all files $rounds times, $pause ms apart"
echo "   (a monitoring agent's poll), serving CPU in total until the last container is done"
for n in $counts; do
    load_run husk "$n" -k "$rounds" "$pause"
    load_run lxcfs "$n" -k "$rounds" "$pause"
done

echo
echo "== blast radius: the server killed, then a read of /proc/meminfo in the container"
a=$(H run -d "${limits[@]}" husk/busybox sleep 600)
b=$(H run -d "${limits[@]}" "${lxcfs_mounts[@]}" husk/busybox sleep 600)
kill -9 "$(cat "$root/run/$a/procvirt/server.pid")"
sleep 0.5
kill -9 "$(cat "$root/run/$a/procvirt/server.pid")"  # the standby that took over
kill -9 "$lxpid"
wait "$lxpid" 2>/dev/null || true
lxpid=
sleep 0.5
echo "husk  (server and standby killed): $(H exec "$a" sh -c 'grep ^MemTotal: /proc/meminfo 2>&1; echo exit $?' | tr '\n' ' ')"
echo "lxcfs (daemon killed):             $(H exec "$b" sh -c 'grep ^MemTotal: /proc/meminfo 2>&1; echo exit $?' | tr '\n' ' ')"
