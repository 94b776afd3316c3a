#!/usr/bin/env bash
# Pull + unpack from a local registry, side by side in one run:
#   husk pull            (into a fresh --root each time)
#   skopeo copy + umoci unpack
#   podman pull          (a fresh --root each time; overlay storage)
# for the busybox, multi-layer and big fixtures and, unless --no-debian, a
# debootstrap-built Debian minbase image (cached in $HUSK_BENCH_CACHE).
# Prints per tool the median wall time, the ratio to husk, and the peak RSS.
#
# usage: bench/pull/run.sh [-n RUNS] [--no-debian] [--husk PATH]
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."
src=$PWD

runs=5
debian=1
husk=$src/build/src/cli/husk/husk
while [ $# -gt 0 ]; do
    case "$1" in
        -n) runs=$2; shift 2 ;;
        --no-debian) debian=0; shift ;;
        --husk) husk=$2; shift 2 ;;
        *) echo "usage: $0 [-n RUNS] [--no-debian] [--husk PATH]" >&2; exit 2 ;;
    esac
done
[ -x "$husk" ] || { echo "$0: build husk first ($husk)" >&2; exit 1; }
bash scripts/deps.sh bench

cache=${HUSK_BENCH_CACHE:-/var/tmp/husk-bench-cache}
work=$(mktemp -d /tmp/images-bench-XXXXXX)
cleanup() {
    [ -f "$work/reg.pid" ] && kill "$(cat "$work/reg.pid")" 2>/dev/null || true
    umount_under "$work"
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
reg=127.0.0.1:$port
cat >"$work/reg.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/regdata}}
http: {addr: $reg}
YAML
setsid docker-registry serve "$work/reg.yml" >"$work/reg.log" 2>&1 &
echo $! >"$work/reg.pid"
for _ in $(seq 50); do curl -s -o /dev/null "http://$reg/v2/" && break; sleep 0.1; done

images=(busybox multilayer big)
for f in "${images[@]}"; do
    python3 scripts/fixtures/mkimage.py "$f" "$work/layout" --tag "$f" >/dev/null
done
if [ "$debian" = 1 ]; then
    debian_tar=$(bash scripts/fixtures/debian-minbase.sh "$cache")
    python3 scripts/fixtures/mkimage.py fromtar "$work/layout" --tag debian --from-tar "$debian_tar" >/dev/null
    images+=(debian)
fi
for f in "${images[@]}"; do
    skopeo copy -q --dest-tls-verify=false "oci:$work/layout:$f" "docker://$reg/bench/$f:latest"
done

# measure NAME CMD...: appends "seconds maxrss_kb" to $work/NAME.times; clears caches of none
measure() {
    local name=$1
    shift
    /usr/bin/time -f '%e %M' -o "$work/t" "$@" >/dev/null 2>"$work/err" || {
        echo "$name failed:" >&2
        cat "$work/err" >&2
        return 1
    }
    cat "$work/t" >>"$work/$name.times"
}

run_husk() { measure "$1-husk" "$husk" --root "$work/husk" pull -q --tls-verify=false "$reg/bench/$1:latest"; }
run_skopeo_umoci() {
    # skopeo and umoci are two processes: time them as one shell
    measure "$1-skopeo+umoci" sh -c "skopeo copy -q --src-tls-verify=false docker://$reg/bench/$1:latest oci:$work/oci:$1 && umoci unpack --image $work/oci:$1 $work/bundle"
}
run_podman() {
    measure "$1-podman" podman --root "$work/podman" --runroot "$work/podman-run" --storage-driver overlay \
        pull -q --tls-verify=false "$reg/bench/$1:latest"
}
reset() {
    umount_under "$work"
    rm -rf "$work/husk" "$work/oci" "$work/bundle" "$work/podman" "$work/podman-run"
    sync
}

have_podman=0
command -v podman >/dev/null && have_podman=1
for img in "${images[@]}"; do
    for i in $(seq "$runs"); do
        reset; run_husk "$img"
        reset; run_skopeo_umoci "$img"
        if [ "$have_podman" = 1 ]; then reset; run_podman "$img"; fi
    done
done
reset

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
printf '%-11s %-14s %10s %10s %12s\n' image tool "median s" "vs husk" "peak RSS MB"
for img in "${images[@]}"; do
    base=$(cut -d' ' -f1 "$work/$img-husk.times" | median)
    for tool in husk skopeo+umoci podman; do
        f="$work/$img-$tool.times"
        [ -f "$f" ] || continue
        med=$(cut -d' ' -f1 "$f" | median)
        rss=$(cut -d' ' -f2 "$f" | sort -n | tail -1)
        awk -v i="$img" -v t="$tool" -v m="$med" -v b="$base" -v r="$rss" \
            'BEGIN { printf "%-11s %-14s %10.3f %9.2fx %12.1f\n", i, t, m, m / b, r / 1024 }' 
    done
done
echo "($runs runs each, $(nproc) CPUs; ratio = tool median / husk median)"
