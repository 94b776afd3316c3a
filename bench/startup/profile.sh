#!/usr/bin/env bash
# bench/startup/profile.sh: where husk-runtime's start-up time goes, in numbers.
#
#   bench/startup/profile.sh [--husk PATH]... [-r RUNS]
#
# perf stat (task-clock = CPU time of the process and its children, page faults) over
# RUNS runs of: /bin/true (the cost of any exec here), `--version` (exec + dynamic loading
# + static initialisers + CLI11 set-up, no container), `run` of /bin/true in a busybox
# bundle, the same without a network namespace; and strace -c -f syscall counts of one
# `run`. Needs linux-perf and strace (`bash scripts/deps.sh bench`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
given=()
runs=50
while [ $# -gt 0 ]; do
  case $1 in
    --husk) given+=("$2"); shift 2 ;;
    -r) runs=$2; shift 2 ;;
    *) echo "usage: $0 [--husk PATH]... [-r RUNS]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "profile.sh: needs root" >&2; exit 1; }
for t in perf strace jq runc /bin/busybox; do
  command -v "$t" >/dev/null || { echo "profile.sh: $t missing (bash scripts/deps.sh bench)" >&2; exit 1; }
done

prefix=bench-prof-$$
work=$(mktemp -d "/tmp/$prefix.XXXX")
. "$here/husks.sh"
husks_found "$top" "${given[@]}"
bins=("${husks[@]}")
cleanup() {
  set +e
  for spec in "${bins[@]}"; do
    for id in $(ls "$work/root" 2>/dev/null); do "${spec#*=}" --root "$work/root" delete --force "$id" >/dev/null 2>&1; done
  done
  for d in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -depth -type d -name "$prefix-*" 2>/dev/null); do rmdir "$d"; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/b/rootfs"/{bin,proc,dev,sys,tmp,etc} "$work/nonet"
cp /bin/busybox "$work/b/rootfs/bin/busybox"
ln -s busybox "$work/b/rootfs/bin/true"
(cd "$work/b" && runc spec)
jq '.process.terminal = false | .process.args = ["/bin/true"] | del(.process.capabilities.ambient)' \
  "$work/b/config.json" >"$work/b/c" && mv "$work/b/c" "$work/b/config.json"
ln -s "$work/b/rootfs" "$work/nonet/rootfs"
jq '.linux.namespaces |= map(select(.type != "network"))' "$work/b/config.json" >"$work/nonet/config.json"

stat_line() { # label command...
  local label=$1
  shift
  perf stat -x, -e task-clock,page-faults -r "$runs" -- "$@" 2>"$work/perf.csv" >/dev/null
  awk -F, -v l="$label" '$3 == "task-clock" { cpu = $1 } $3 == "page-faults" { pf = $1 }
    END { printf "| %s | %.2f ms | %d |\n", l, cpu, pf }' "$work/perf.csv"
}

echo "load: $(cut -d' ' -f1-3 /proc/loadavg); $runs runs each"
echo
echo "| what | CPU (task-clock, mean) | page faults |"
echo "|---|---:|---:|"
stat_line "/bin/true" /bin/true
stat_line "crun --version" crun --version
for spec in "${bins[@]}"; do
  name=${spec%%=*} bin=${spec#*=}
  stat_line "$name --version" "$bin" --version
done
n=0
for spec in "${bins[@]}"; do
  name=${spec%%=*} bin=${spec#*=}
  n=$((n + 1))
  # Every run needs a fresh id: a tiny wrapper script would add a shell, so reuse one id
  # (run deletes the container at exit).
  stat_line "$name run" "$bin" --root "$work/root" run --bundle "$work/b" "$prefix-$n"
  stat_line "$name run, no network namespace" "$bin" --root "$work/root" run --bundle "$work/nonet" "$prefix-$n"
done
echo
for spec in "${bins[@]}"; do
  name=${spec%%=*} bin=${spec#*=}
  strace -f -c -o "$work/strace.txt" "$bin" --root "$work/root" run --bundle "$work/b" "$prefix-s" >/dev/null
  echo "$name run: $(tail -1 "$work/strace.txt" | awk '{print $4 " syscalls, " $5 " failed"}')" \
    "(top: $(sed -n '3,8p' "$work/strace.txt" | awk '{printf "%s %s, ", $NF, $4}'))"
done
strace -f -c -o "$work/strace.txt" crun --root "$work/root-crun" run --bundle "$work/b" "$prefix-c" >/dev/null 2>&1 &&
  echo "crun run: $(tail -1 "$work/strace.txt" | awk '{print $4 " syscalls"}')" ||
  echo "crun run: fails on this host as it is (see run.sh)"
