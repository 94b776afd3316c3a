#!/usr/bin/env bash
# husk build next to podman build (buildah, overlay storage), interleaved in one run:
# a 5-step Dockerfile on the busybox image, built cold (--no-cache), fully cached, and
# with one context file changed. Prints the median wall time of each, husk/podman ratios
# and peak RSS (max over the runs, /usr/bin/time). Writes results.md next to itself
# (--no-write keeps it).
#
# usage: bash bench/build/run.sh [-n ROUNDS] [--husk PATH] [--no-write]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
. "$HERE/../lib.sh"
N=5
HUSK=$SRC/build/src/cli/husk/husk
WRITE=1
while [ $# -gt 0 ]; do
    case $1 in
        -n) N=$2; shift 2 ;;
        --husk) HUSK=$2; shift 2 ;;
        --no-write) WRITE=0; shift ;;
        *) echo "usage: $0 [-n ROUNDS] [--husk PATH] [--no-write]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "needs root (builds run containers)"; exit 1; }
# the build's containers are reaped here (PID 1 on these machines does not reap orphans)
[ -n "${BENCH_BUILD_REAPED:-}" ] ||
    BENCH_BUILD_REAPED=1 exec python3 "$SRC/scripts/subreaper.py" bash "$0" -n "$N" --husk "$HUSK" \
        $([ "$WRITE" = 1 ] || echo --no-write)
command -v podman >/dev/null || { echo "podman is not installed"; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is not installed"; exit 1; }

T=$(mktemp -d /tmp/bench-build-XXXXXX)
pm() {
    podman --root "$T/podman/root" --runroot "$T/podman/run" --tmpdir "$T/podman/tmp" \
        --cgroup-manager cgroupfs --events-backend file --runtime runc "$@"
}
cleanup() {
    pm rmi -af >/dev/null 2>&1 || true
    umount_under "$T"
    rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/podman/tmp" "$T/ctx/src"
busybox_for_both "$T" "$HUSK" pm
for i in $(seq 1 50); do head -c 4096 /dev/urandom | base64 >"$T/ctx/src/f$i"; done
echo v0 >"$T/ctx/version"
cat >"$T/ctx/Dockerfile" <<'DF'
FROM husk/busybox
ENV APP=/app
COPY src $APP/src
RUN cat $APP/src/* | wc -c > /size
COPY version $APP/version
DF

hb() { "$HUSK" --root "$T/husk" build --network none -q "$@" "$T/ctx"; }
pb() { pm build --network none -q "$@" "$T/ctx"; }
export -f hb pb pm
export HUSK T

# measure NAME CMD...: wall ms and peak RSS KiB appended to $T/NAME
measure() {
    local name=$1
    shift
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$T/rss" bash -c '"$@"' _ "$@" >/dev/null 2>"$T/err" || { cat "$T/err"; exit 1; }
    t1=$(date +%s%N)
    echo "$(((t1 - t0) / 1000000)) $(cat "$T/rss")" >>"$T/$name"
}

hb >/dev/null; pb >/dev/null   # warm: base images unpacked, caches filled
for r in $(seq 1 "$N"); do
    measure husk-cold hb --no-cache
    measure podman-cold pb --no-cache
    measure husk-cached hb
    measure podman-cached pb
    echo "v$r" >"$T/ctx/version"
    measure husk-change hb
    measure podman-change pb
done

median() { cut -d' ' -f1 "$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
maxrss() { cut -d' ' -f2 "$1" | sort -n | tail -1; }
{
    echo "# bench/build: husk build vs podman build ($(podman --version | cut -d' ' -f3), runc)"
    echo
    echo "$(date -u +%F), $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $N interleaved rounds"
    echo
    echo "| build | husk ms | podman ms | husk/podman | podman/husk | husk peak RSS KiB | podman peak RSS KiB |"
    echo "|---|---|---|---|---|---|---|"
    for k in cold cached change; do
        h=$(median "$T/husk-$k")
        p=$(median "$T/podman-$k")
        echo "| $k | $h | $p | $(awk "BEGIN {printf \"%.2f\", $h/$p}") | $(awk "BEGIN {printf \"%.2f\", $p/$h}") | $(maxrss "$T/husk-$k") | $(maxrss "$T/podman-$k") |"
    done
} | tee "$T/results.md"
[ "$WRITE" = 1 ] && cp "$T/results.md" "$HERE/results.md"
exit 0
