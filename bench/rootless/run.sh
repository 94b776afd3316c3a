#!/usr/bin/env bash
# Rootless: `husk run --rm husk/busybox true` against `podman run --rm` (runc: crun refuses
# rootless on a hybrid cgroup host), both as the same unprivileged user with a /etc/subuid
# range, the same busybox image; --network none, slirp4netns for both, and husk's pasta
# (podman 4.3.1 has none: against its default, slirp4netns); interleaved rounds, medians
# and the ratios. `--before PATH` adds another husk build (the same user, store and image)
# to the same interleaved rounds: a before/after under one load.
# Makes a user of its own (useradd) and removes it with its files at the end. Needs root.
# Writes bench/rootless/results.md.
# usage: bench/rootless/run.sh [-n ROUNDS] [--husk PATH] [--before PATH]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
src=$PWD
rounds=20
husk=$src/build/src/cli/husk/husk
before=
while [ $# -gt 0 ]; do
    case $1 in
        -n) rounds=$2; shift 2 ;;
        --husk) husk=$(realpath "$2"); shift 2 ;;
        --before) before=$(realpath "$2"); shift 2 ;;
        *) echo "usage: $0 [-n ROUNDS] [--husk PATH] [--before PATH]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "$0: run as root (it makes a user of its own)" >&2; exit 1; }
[ -x "$husk" ] || { echo "$0: build husk first ($husk)" >&2; exit 1; }
[ -z "$before" ] || [ -x "$before" ] || { echo "$0: no husk at $before" >&2; exit 1; }
for t in useradd newuidmap podman runc; do
    command -v "$t" >/dev/null || { echo "$0: $t is missing (scripts/deps.sh)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/rootless-bench-XXXXXX)
chmod 755 "$work"
user=hbench$$
as() {
    (cd "$work" && runuser -u "$user" -- env -i PATH=/usr/bin:/bin HOME="$work/home" \
        XDG_RUNTIME_DIR="$work/xdg" "$@")
}
pod=(podman --root "$work/home/podman" --runroot "$work/xdg/podman" --runtime runc
    --cgroup-manager cgroupfs --events-backend none)
cleanup() {
    as "$husk" rm -f $(as "$husk" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
    as "${pod[@]}" rm -af >/dev/null 2>&1 || true
    # podman's files of other owners go inside its user namespace; then the user's processes
    # (podman's pause process among them), so that userdel can remove the user
    as "${pod[@]}" unshare rm -rf "$work/home/podman" >/dev/null 2>&1 || true
    ps -o pid= -u "$user" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    for _ in $(seq 50); do pgrep -u "$user" >/dev/null || break; sleep 0.1; done
    userdel "$user" 2>/dev/null || echo "$0: userdel $user failed" >&2
    sed -i "/^$user:/d" /etc/subuid /etc/subgid
    umount_under "$work"
    rm -rf "$work"
}
trap cleanup EXIT

useradd -M -d "$work/home" -s /bin/sh "$user"
mkdir -p "$work/home" "$work/xdg"
chown "$user:" "$work/home" "$work/xdg"
chmod 700 "$work/home" "$work/xdg"
touch /etc/subuid /etc/subgid
if ! grep -q "^$user:" /etc/subuid || ! grep -q "^$user:" /etc/subgid; then
    sub=$((1000000 + ($(id -u "$user") % 30000) * 65536))
    sed -i "/^$user:/d" /etc/subuid /etc/subgid
    echo "$user:$sub:65536" >>/etc/subuid
    echo "$user:$sub:65536" >>/etc/subgid
fi

bash scripts/make-busybox-image.sh --root "$work/build-root" --husk "$husk" -o "$work/bb.tar" >/dev/null
chmod 644 "$work/bb.tar"
as "$husk" load -q -i "$work/bb.tar" >/dev/null
as "${pod[@]}" load -q -i "$work/bb.tar" >/dev/null
as "${pod[@]}" tag "$(as "${pod[@]}" images -q | head -1)" localhost/husk/busybox:latest

# Three columns, like with like: --network none; slirp4netns for both (podman 4.3's rootless
# default; Debian 12's podman 4.3.1 has no pasta, which came in 4.4); pasta, husk's rootless
# default (a user's bridge is pasta's), against podman's default (slirp4netns), said so in
# the row's name.
for t in slirp4netns pasta; do
    command -v "$t" >/dev/null || { echo "$0: $t is missing (scripts/deps.sh)" >&2; exit 1; }
done
img=husk/busybox
pimg=localhost/husk/busybox
cases=(
    "none|$husk run --rm --network none $img true|${pod[*]} run --rm --network none $pimg true"
    "slirp4netns|$husk run --rm --network slirp4netns $img true|${pod[*]} run --rm --network slirp4netns $pimg true"
    "pasta (podman: slirp4netns)|$husk run --rm --network bridge $img true|${pod[*]} run --rm $pimg true"
)
if [ -n "$before" ]; then   # the same husk commands, run by the other build
    for i in "${!cases[@]}"; do
        IFS='|' read -r _ h _ <<<"${cases[$i]}"
        cases[$i]+="|$before ${h#"$husk "}"
    done
fi
for c in "${cases[@]}"; do   # warm every command once
    IFS='|' read -ra f <<<"$c"
    for cmd in "${f[@]:1}"; do
        read -ra cc <<<"$cmd"
        as "${cc[@]}"
    done
done

# interleaved: per round each case's husk then podman; median wall ms of each
out=$(as python3 - "$rounds" "${cases[@]}" <<'PY'
import statistics, subprocess, sys, time
rounds, cases = int(sys.argv[1]), [c.split("|") for c in sys.argv[2:]]
engines = ("husk", "podman", "before")[: len(cases[0]) - 1]
walls = {(c[0], eng): [] for c in cases for eng in engines}
for _ in range(rounds):
    for name, *cmds in cases:
        for eng, cmd in zip(engines, cmds):
            t = time.perf_counter()
            subprocess.run(cmd.split(), check=True, stdout=subprocess.DEVNULL)
            walls[(name, eng)].append((time.perf_counter() - t) * 1000)
print(f"rootless run --rm true, medians of {rounds} interleaved rounds (wall ms)")
extra = f" {'husk before':>12}  podman/before" if "before" in engines else ""
print(f"{'network':<28} {'husk':>8} {'podman':>8}  podman/husk{extra}")
for name, *_ in cases:
    h = statistics.median(walls[(name, "husk")])
    p = statistics.median(walls[(name, "podman")])
    line = f"{name:<28} {h:8.1f} {p:8.1f}  {p / h:10.2f}x"
    if "before" in engines:
        b = statistics.median(walls[(name, "before")])
        line += f" {b:12.1f}  {p / b:12.2f}x"
    print(line)
PY
)
echo "$out"
{
    echo "# bench/rootless — $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "$("$husk" --version 2>/dev/null | head -1), $(podman --version), $(runc --version | head -1)"
    [ -z "$before" ] || echo "husk before: $before"
    echo
    echo '```'
    echo "$out"
    echo '```'
} >"$src/bench/rootless/results.md"
