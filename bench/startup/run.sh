#!/usr/bin/env bash
# bench/startup: container start-up of husk-runtime side by side with crun and runc.
#
#   bench/startup/run.sh [-n N] [--husk PATH]... [--no-write]
#
# Builds a busybox bundle (Debian's busybox-static) in a temp dir and runs, for every
# runtime in the same rounds, N sequential `run`s of /bin/true plus N create/start/delete
# cycles, in three configurations: the plain `runc spec` config ("base"), memory 64 MiB +
# pids 20 in linux.resources ("limits"), and data/seccomp-default.json in linux.seccomp
# ("seccomp"). The timing loop is bench/startup/driver.cpp (fork + execve + wait4, no
# shell), built here with g++. Prints markdown tables and writes bench/startup/results.md.
#
# crun 1.8.1 refuses hybrid cgroup hosts whose cgroup2 holds any controller. If that is
# why crun fails, and hugetlb (the one controller such hosts put in cgroup2) is not enabled
# in any cgroup2 subtree, this script mounts hugetlb as a v1 hierarchy at
# /sys/fs/cgroup/hugetlb for the duration of the crun rounds, says so, and undoes it on exit.
# husk runs on the host as it is first (and again with the change, in the same rounds as
# the peers). The script runs in a private mount namespace, so the mount is not seen
# elsewhere (the controller itself moves host-wide while it is mounted).
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root" >&2; exit 1; }
# A private mount namespace: the hugetlb mount below is seen by nobody else.
if [ -z "${HUSK_BENCH_PRIVATE_NS:-}" ]; then
  export HUSK_BENCH_PRIVATE_NS=1
  exec unshare --mount --propagation private bash "$0" "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
n=100
given=()
write=1
while [ $# -gt 0 ]; do
  case $1 in
    -n) n=$2; shift 2 ;;
    --husk) given+=("$2"); shift 2 ;;
    --no-write) write=0; shift ;;
    *) echo "usage: $0 [-n N] [--husk PATH]... [--no-write]" >&2; exit 2 ;;
  esac
done
. "$here/husks.sh"
husks_found "$top" "${given[@]}"
for t in crun runc jq g++ /bin/busybox; do
  command -v "$t" >/dev/null || { echo "run.sh: $t missing (bash scripts/deps.sh)" >&2; exit 1; }
done

prefix=bench-$$
work=$(mktemp -d "/tmp/$prefix.XXXX")
mounted_hugetlb=0
runtimes=("${husks[@]}")

hugetlb_hierarchy() { awk '$1 == "hugetlb" { print $2 }' /proc/cgroups; }

# Gives hugetlb back to cgroup2. A v1 hierarchy dies at umount only if it has no child
# cgroups then, and cgroups just removed may still be dying: the empty hierarchy then
# lingers, unmounted, holding hugetlb. Mounting and unmounting it again once its children
# are gone kills it.
restore_hugetlb() {
  find /sys/fs/cgroup/hugetlb -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
  umount /sys/fs/cgroup/hugetlb && rmdir /sys/fs/cgroup/hugetlb
  local i tmp
  for i in $(seq 100); do
    [ "$(hugetlb_hierarchy)" = 0 ] && break
    sleep 0.1
    tmp=$(mktemp -d "/tmp/$prefix-hugetlb.XXXX")
    mount -t cgroup -o hugetlb hugetlb "$tmp" && umount "$tmp"
    rmdir "$tmp"
  done
  # the kernel releases an unmounted hierarchy asynchronously: give it a few seconds
  for _ in $(seq 50); do [ "$(hugetlb_hierarchy)" = 0 ] && break; sleep 0.1; done
  if [ "$(hugetlb_hierarchy)" = 0 ]; then
    echo "run.sh: unmounted the v1 hugetlb hierarchy; hugetlb is back in cgroup2"
  else
    echo "run.sh: ERROR: hugetlb is still bound to a v1 hierarchy (/proc/cgroups)" >&2
  fi
}

cleanup() {
  set +e
  trap - EXIT INT TERM
  # Containers first (anything a failure or Ctrl-C left), then their cgroups.
  for spec in "${runtimes[@]}" crun=/usr/bin/crun runc=/usr/sbin/runc; do
    name=${spec%%=*} bin=${spec#*=}
    root=$work/root/$name
    [ -d "$root" ] || continue
    for id in $(ls "$root" 2>/dev/null); do
      [[ $id == "$prefix"-* ]] && "$bin" --root "$root" delete --force "$id" >/dev/null 2>&1
    done
  done
  for d in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -depth -type d -name "$prefix-*" 2>/dev/null); do
    rmdir "$d" 2>/dev/null
  done
  [ "$mounted_hugetlb" = 1 ] && restore_hugetlb
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the driver and the bundles ---------------------------------------------------------
g++ -std=c++20 -O2 -Wall -Wextra -Werror -o "$work/driver" "$here/driver.cpp"

make_bundle() { # dir jq-filter
  local b=$1
  mkdir -p "$b/rootfs"/{bin,proc,dev,sys,tmp,etc}
  cp /bin/busybox "$b/rootfs/bin/busybox"
  ln -s busybox "$b/rootfs/bin/true"
  ln -s busybox "$b/rootfs/bin/sh"
  (cd "$b" && runc spec)
  # runc's default config, not a terminal, /bin/true; no ambient capabilities (runc 1.1's
  # spec lists some that are not inheritable, which makes husk print a warning each run).
  jq ".process.terminal = false | .process.args = [\"/bin/true\"]
      | del(.process.capabilities.ambient) | $2" "$b/config.json" >"$b/config.tmp"
  mv "$b/config.tmp" "$b/config.json"
}
make_bundle "$work/base" '.'
make_bundle "$work/limits" '.linux.resources.memory = {"limit": 67108864}
  | .linux.resources.pids = {"limit": 20}'
make_bundle "$work/seccomp" .
jq --slurpfile p "$top/data/seccomp-default.json" '.linux.seccomp = $p[0]' \
  "$work/seccomp/config.json" >"$work/seccomp/config.tmp"
mv "$work/seccomp/config.tmp" "$work/seccomp/config.json"
mkdir -p "$work/root" "$work/logs"

drive() { # case n out runtimes...
  local kase=$1 count=$2 out=$3
  shift 3
  "$work/driver" measure --case "$kase" --n "$count" --bundle "$work/$kase" \
    --root-base "$work/root" --id-prefix "$prefix" --log-dir "$work/logs" --out "$out" "$@"
}

# --- the host as it is ------------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
hugetlb_before=$(hugetlb_hierarchy)
echo "run.sh: $(nproc) cpus, load: $load_before; hugetlb hierarchy: $hugetlb_before (0 = cgroup2)"
"$work/driver" overhead --n 200 --out "$work/results.tsv"
asis=$work/asis.tsv
drive base 20 "$asis" "${runtimes[@]}"
if ! crun --root "$work/root/crun-probe" run --bundle "$work/base" "$prefix-probe" \
  >/dev/null 2>"$work/crun-probe.err"; then
  err=$(cat "$work/crun-probe.err")
  echo "run.sh: crun fails on this host as it is: $err"
  crun --root "$work/root/crun-probe" delete --force "$prefix-probe" >/dev/null 2>&1 || true
  ctl=/sys/fs/cgroup/unified/cgroup.controllers
  if [[ $err == *"hybrid mode not supported"* ]] && [ -f $ctl ] &&
    [ "$(cat $ctl)" = hugetlb ] && ! mountpoint -q /sys/fs/cgroup/hugetlb; then
    if grep -qw hugetlb $(find /sys/fs/cgroup/unified -name cgroup.subtree_control); then
      echo "run.sh: hugetlb is enabled in a cgroup2 subtree; not moving it; crun is left out" >&2
    else
      mkdir -p /sys/fs/cgroup/hugetlb
      mount -t cgroup -o hugetlb hugetlb /sys/fs/cgroup/hugetlb
      mounted_hugetlb=1
      echo "run.sh: MOUNTED hugetlb as a v1 hierarchy at /sys/fs/cgroup/hugetlb so crun 1.8.1 runs"
      echo "run.sh: (cgroup2 now holds no controller); it is unmounted again when this script ends"
    fi
  fi
fi
peers=(runc=/usr/sbin/runc)
if crun --root "$work/root/crun-probe" run --bundle "$work/base" "$prefix-probe2" >/dev/null 2>&1; then
  peers=(crun=/usr/bin/crun "${peers[@]}")
else
  echo "run.sh: crun still fails; it is left out" >&2
fi

# --- all runtimes, same rounds ----------------------------------------------------------
echo "run.sh: husk on the host as it was: $(awk -F'\t' '$3=="run"{printf "%s %.1f ms  ", $2, $5}' "$asis")"
for kase in base limits seccomp; do
  echo "run.sh: case $kase, $n rounds of run + create/start/delete ..."
  drive "$kase" "$n" "$work/results.tsv" "${runtimes[@]}" "${peers[@]}"
done
leftover=$(find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d -name "$prefix-*" | wc -l)

# --- report -----------------------------------------------------------------------------
kv() { "$1" --version 2>/dev/null | head -1; }
hsize() { stat -c %s "$1"; }
ssize() { strip -o "$work/stripped" "$1" && stat -c %s "$work/stripped"; }
{
  echo "# bench/startup results"
  echo
  echo "Produced by \`bench/startup/run.sh -n $n\` on $(date -u '+%Y-%m-%d %H:%M UTC')," \
    "husk at commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)."
  echo
  echo "- machine: $(nproc) cpus, $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME");" \
    "load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)" \
    "(the machine is shared with other builds and tests)"
  echo "- cgroups: hybrid host (v1 controllers, cgroup2 at /sys/fs/cgroup/unified);" \
    "hugetlb at the start: $([ "$hugetlb_before" = 0 ] && echo "in cgroup2" ||
      echo "already on a v1 hierarchy (crun runs without a change)")"
  for spec in "${husks[@]}"; do
    bin=${spec#*=}
    echo "- ${spec%%=*}: $bin, version $(kv "$bin" | sed 's/husk-runtime version //')," \
      "$(ldd "$bin" 2>/dev/null | grep -c '=>\|ld-linux') shared objects," \
      "$(($(hsize "$bin") / 1024)) KiB ($(($(ssize "$bin") / 1024)) KiB stripped)"
  done
  echo "- $(kv crun), $(($(hsize /usr/bin/crun) / 1024)) KiB + $(ldd /usr/bin/crun | wc -l) shared objects;" \
    "$(kv runc), $(($(hsize /usr/sbin/runc) / 1024)) KiB"
  echo "- bundle: busybox-static rootfs, \`runc spec\` config (no terminal, no ambient caps)," \
    "args [/bin/true]; limits: memory.limit 64 MiB + pids.limit 20; seccomp: data/seccomp-default.json"
  if [ "$mounted_hugetlb" = 1 ]; then
    echo "- crun 1.8.1 refuses this hybrid host while cgroup2 holds hugetlb; for these rounds hugetlb" \
      "was mounted as a v1 hierarchy (all runtimes ran on that host). husk on the host as it is:" \
      "$(awk -F'\t' '$3=="run"{printf "%s run median %.1f ms (n=%s); ", $2, $5, $4}' "$asis")"
  fi
  echo "- cgroups left behind by the runtimes after the rounds (removed by the script): $leftover"
  echo
  "$work/driver" report "$work/results.tsv"
} >"$work/results.md"
cat "$work/results.md"
if [ "$write" = 1 ]; then
  cp "$work/results.md" "$here/results.md"
  cp "$work/results.tsv" "$here/results.tsv"
  echo "run.sh: wrote $here/results.md"
fi
