#!/usr/bin/env bash
# Pull + unpack from a local registry, side by side in one run, interleaved
# (husk, then each peer, round after round, each into a fresh directory):
#   husk pull            (into a fresh --root each time)
#   naive                `curl | gzip -dc | tar -x` of each layer in turn: one stream,
#                        the single-stream floor
#   skopeo copy + umoci unpack
#   podman pull          (with --podman; a fresh --root each time; overlay storage)
# for the busybox, multi-layer and big fixtures and, unless --no-debian, a
# debootstrap-built Debian minbase image (cached in $HUSK_BENCH_CACHE).
# Prints per image and peer `husk X, PEER Y, ratio Z` (medians in seconds, ratio =
# husk / peer: below 1 husk is faster), the load average over the image's runs, and
# husk's peak RSS, and below it the CPU each used (user + system, median: under load,
# what decides the wall ratio). To weigh a change: --vs PATH measures another husk binary as a peer,
# --vs-env VAR=VALUE the same husk with VAR set (HUSK_UNPACK_WRITERS=0: no writer threads).
#
# usage: bench/pull/run.sh [-n RUNS] [--no-debian] [--podman] [--only IMAGE] [--husk PATH]
#                          [--vs PATH] [--vs-env VAR=VALUE]
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."
src=$PWD

runs=5
debian=1
podman=0
only=
vs=
vs_env=
husk=$src/build/src/cli/husk/husk
while [ $# -gt 0 ]; do
    case "$1" in
        -n) runs=$2; shift 2 ;;
        --no-debian) debian=0; shift ;;
        --podman) podman=1; shift ;;
        --only) only=$2; shift 2 ;;
        --vs) vs=$2; shift 2 ;;
        --vs-env) vs_env=$2; shift 2 ;;
        --husk) husk=$2; shift 2 ;;
        *) echo "usage: $0 [-n RUNS] [--no-debian] [--podman] [--only IMAGE] [--husk PATH] [--vs PATH] [--vs-env VAR=VALUE]" >&2; exit 2 ;;
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
[ -n "$only" ] && [ "$only" != debian ] && images=("$only")
[ "$only" = debian ] && images=()
for f in "${images[@]}"; do
    python3 scripts/fixtures/mkimage.py "$f" "$work/layout" --tag "$f" >/dev/null
done
if [ "$debian" = 1 ] && { [ -z "$only" ] || [ "$only" = debian ]; }; then
    debian_tar=$(bash scripts/fixtures/debian-minbase.sh "$cache")
    python3 scripts/fixtures/mkimage.py fromtar "$work/layout" --tag debian --from-tar "$debian_tar" >/dev/null
    images+=(debian)
fi
for f in "${images[@]}"; do
    skopeo copy -q --dest-tls-verify=false "oci:$work/layout:$f" "docker://$reg/bench/$f:latest"
done

# measure NAME CMD...: appends "seconds maxrss_kb cpu_seconds" (user + system, of the
# command and its children) to $work/NAME.times and the 1-minute load average to
# $work/NAME.load; clears caches of none
measure() {
    local name=$1
    shift
    cut -d' ' -f1 /proc/loadavg >>"$work/$name.load"
    /usr/bin/time -f '%e %M %U %S' -o "$work/t" "$@" >/dev/null 2>"$work/err" || {
        echo "$name failed:" >&2
        cat "$work/err" >&2
        return 1
    }
    awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' "$work/t" >>"$work/$name.times"
}

# The layers' blob URLs of an image, in order (what the naive pipeline fetches).
layer_urls() {
    curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "http://$reg/v2/bench/$1/manifests/latest" |
        python3 -c 'import json,sys; [print(l["digest"]) for l in json.load(sys.stdin)["layers"]]' |
        while read -r d; do echo "http://$reg/v2/bench/$1/blobs/$d"; done
}

run_husk() { measure "$1-husk" "$husk" --root "$work/husk" pull -q --tls-verify=false "$reg/bench/$1:latest"; }
run_vs() {
    measure "$1-husk-vs" env ${vs_env:+"$vs_env"} "${vs:-$husk}" --root "$work/husk" pull -q --tls-verify=false \
        "$reg/bench/$1:latest"
}
run_naive() {
    local urls
    mapfile -t urls < <(layer_urls "$1")
    mkdir -p "$work/naive"
    # shellcheck disable=SC2016
    measure "$1-naive" sh -c 'd=$1; shift; for u; do curl -sf "$u" | gzip -dc | tar -x -C "$d" || exit 1; done' \
        _ "$work/naive" "${urls[@]}"
}
run_skopeo_umoci() {
    # skopeo and umoci are two processes: time them as one shell
    measure "$1-skopeo+umoci" sh -c "skopeo copy -q --src-tls-verify=false docker://$reg/bench/$1:latest oci:$work/oci:$1 && umoci unpack --image $work/oci:$1 $work/bundle"
}
run_podman() {
    measure "$1-podman" podman --root "$work/podman" --runroot "$work/podman-run" --storage-driver overlay \
        pull -q --tls-verify=false "$reg/bench/$1:latest"
}
# Each run writes into fresh directories; the last run's are moved aside, not removed,
# until the end: ext4 skips the inodes it freed in the last seconds when it allocates
# new ones, so removing thousands of files just before a run makes that run's file
# creation slower by a varying amount (in the kernel's recently_deleted()).
reset() {
    umount_under "$work"
    mkdir -p "$work/old"
    for d in husk naive oci bundle podman podman-run; do
        [ -e "$work/$d" ] && mv "$work/$d" "$(mktemp -u "$work/old/$d-XXXXXX")"
    done
    sync
}

peers=(naive skopeo+umoci)
[ -n "$vs$vs_env" ] && peers=(husk-vs "${peers[@]}")
if [ "$podman" = 1 ]; then
    command -v podman >/dev/null || { echo "$0: --podman: podman is not installed" >&2; exit 1; }
    peers+=(podman)
fi
for img in "${images[@]}"; do
    for i in $(seq "$runs"); do
        reset; run_husk "$img"
        if [ -n "$vs$vs_env" ]; then reset; run_vs "$img"; fi
        reset; run_naive "$img"
        reset; run_skopeo_umoci "$img"
        if [ "$podman" = 1 ]; then reset; run_podman "$img"; fi
    done
done
reset

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
for img in "${images[@]}"; do
    h=$(cut -d' ' -f1 "$work/$img-husk.times" | median)
    rss=$(cut -d' ' -f2 "$work/$img-husk.times" | sort -n | tail -1)
    hc=$(cut -d' ' -f3 "$work/$img-husk.times" | median)
    for tool in "${peers[@]}"; do
        p=$(cut -d' ' -f1 "$work/$img-$tool.times" | median)
        pc=$(cut -d' ' -f3 "$work/$img-$tool.times" | median)
        load=$(cat "$work/$img-husk.load" "$work/$img-$tool.load" | sort -n |
            awk '{a[NR]=$1} END {printf "%s-%s", a[1], a[NR]}')
        awk -v i="$img" -v t="$tool" -v h="$h" -v p="$p" -v l="$load" -v r="$rss" \
            'BEGIN { printf "%-10s husk %.3f, %s %.3f, ratio %.2f   (load %s, husk peak RSS %.1f MiB)\n", i, h, t, p, (p > 0 ? h / p : 0), l, r / 1024 }'
        awk -v t="$tool" -v h="$hc" -v p="$pc" \
            'BEGIN { printf "%-10s   CPU (user+sys): husk %.2f, %s %.2f, ratio %.2f\n", "", h, t, p, (p > 0 ? h / p : 0) }'
    done
done
[ -n "$vs$vs_env" ] && echo "(husk-vs: ${vs_env:+$vs_env }${vs:-$husk})"
echo "($runs interleaved runs each, $(nproc) CPUs; medians in seconds; ratio = husk / peer)"
