#!/usr/bin/env bash
# bench/startup: container start-up of husk-runtime side by side with crun and runc.
#
#   bench/startup/run.sh [-n N] [-p P] [--husk PATH]... [--before PATH] [--no-icount] [--no-write]
#
# Builds a busybox bundle (Debian's busybox-static) in a temp dir and runs, for every
# runtime in the same rounds, N sequential `run`s of /bin/true plus N create/start/delete
# cycles, in three configurations: the plain `runc spec` config ("base"), memory 64 MiB +
# pids 20 in linux.resources ("limits"), and data/seccomp-default.json in linux.seccomp
# ("seccomp"). The timing loop is bench/startup/driver.cpp (fork + execve + wait4, no
# shell), built here with g++. Then P rounds (default 20) of 10 `run`s of the base bundle
# started at once (the wall time of the batch), and the user instructions of one `run` of
# husk and crun counted by bench/startup/icount.c (ptrace single-steps: minutes under load;
# --no-icount skips it). Prints one `husk X, crun Y, ratio Z` line per goal of issue 22
# (CPU, instructions, peak RSS, 10 parallel runs) with the load average, markdown tables,
# and writes bench/startup/results.md. --before PATH adds an earlier build of husk-runtime
# (a copy of its binary) as "husk-before" to the same rounds: a change's effect as ratios of
# one run, where two runs at different times differ by the machine's load.
#
# crun 1.8.1 refuses hybrid cgroup hosts whose cgroup2 holds any controller. If that is
# why crun fails, this script unmounts cgroup2 (/sys/fs/cgroup/unified) in its own private
# mount namespace, says so, and runs every runtime there: they all see the v1 hierarchies
# only, and nothing changes for the host. (An earlier version mounted hugetlb as a v1
# hierarchy instead: that moves the controller host-wide while it is mounted, and engines
# run meanwhile by others left plain directories under /sys/fs/cgroup/hugetlb.) husk runs
# on the host as it is first (and again without cgroup2, in the same rounds as the peers).
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root" >&2; exit 1; }
# A private mount namespace: the cgroup2 unmount below is seen by nobody else.
if [ -z "${HUSK_BENCH_PRIVATE_NS:-}" ]; then
  export HUSK_BENCH_PRIVATE_NS=1
  exec unshare --mount --propagation private bash "$0" "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
n=100
prounds=20
icount=1
given=()
write=1
before=
while [ $# -gt 0 ]; do
  case $1 in
    -n) n=$2; shift 2 ;;
    -p) prounds=$2; shift 2 ;;
    --husk) given+=("$2"); shift 2 ;;
    --before) before=$2; shift 2 ;;
    --no-icount) icount=0; shift ;;
    --no-write) write=0; shift ;;
    *) echo "usage: $0 [-n N] [-p P] [--husk PATH]... [--before PATH] [--no-icount] [--no-write]" >&2; exit 2 ;;
  esac
done
. "$here/husks.sh"
husks_found "$top" "${given[@]}"
if [ -n "$before" ]; then
  [ -x "$before" ] || { echo "run.sh: --before $before: not an executable" >&2; exit 2; }
  husks+=("husk-before=$(cd "$(dirname "$before")" && pwd)/$(basename "$before")")
fi
for t in crun runc jq g++ /bin/busybox; do
  command -v "$t" >/dev/null || { echo "run.sh: $t missing (bash scripts/deps.sh)" >&2; exit 1; }
done

prefix=bench-$$
work=$(mktemp -d "/tmp/$prefix.XXXX")
unmounted_v2=0
runtimes=("${husks[@]}")

hugetlb_hierarchy() { awk '$1 == "hugetlb" { print $2 }' /proc/cgroups; }

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
  # crun makes its "cgroup2" directories in the tmpfs under the unmounted cgroup2 mount
  # point, files and all (hidden from the host by its cgroup2 mount, but there).
  if [ "$unmounted_v2" = 1 ] && [ "$(stat -f -c %T /sys/fs/cgroup/unified)" = tmpfs ]; then
    find /sys/fs/cgroup/unified -mindepth 1 -maxdepth 1 -name "$prefix-*" -exec rm -rf {} +
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# What an earlier run killed by SIGKILL (no trap runs then) left: its cgroups, and crun's
# directories in the tmpfs under the unmounted cgroup2 mount point, named bench-PID-* after
# a run whose PID is gone. `$1`: also look under /sys/fs/cgroup/unified (once unmounted).
sweep_dead_runs() {
  local d pid
  for d in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -depth -type d -name 'bench-[0-9]*-*' 2>/dev/null); do
    pid=${d##*/bench-}
    pid=${pid%%-*}
    { [ "$pid" = $$ ] || [ -d "/proc/$pid" ]; } && continue
    if [ "${1:-}" = tmpfs ] && [[ $d == /sys/fs/cgroup/unified/* ]]; then
      rm -rf "$d"
    else
      rmdir "$d" 2>/dev/null
    fi
  done
  return 0
}
sweep_dead_runs

# --- the driver and the bundles ---------------------------------------------------------
g++ -std=c++20 -O2 -Wall -Wextra -Werror -o "$work/driver" "$here/driver.cpp"
gcc -O2 -Wall -Wextra -Werror -o "$work/icount" "$here/icount.c"

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
  if [[ $err == *"hybrid mode not supported"* ]] && mountpoint -q /sys/fs/cgroup/unified; then
    umount /sys/fs/cgroup/unified
    unmounted_v2=1
    [ "$(stat -f -c %T /sys/fs/cgroup/unified)" = tmpfs ] && sweep_dead_runs tmpfs
    echo "run.sh: UNMOUNTED cgroup2 (/sys/fs/cgroup/unified) in this script's private mount"
    echo "run.sh: namespace so crun 1.8.1 runs; every runtime below sees the v1 hierarchies only"
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
# The base case again with another cpuset cgroup on the host. Making the host's only
# non-root cpuset cgroup flips the kernel's cpuset static key (a text poke synchronised
# across CPUs: half the wall time of a run on this VM, ~10% of its CPU), so every container
# above pays it, husk and crun alike; an engine's parent cgroup (podman's libpod_parent,
# docker's /docker, husk's /husk) keeps the key on. Removed at exit with the rest of $prefix-*.
cpuset_mnt=$(awk '$3 == "cgroup" && $4 ~ /(^|,)cpuset(,|$)/ { print $2; exit }' /proc/self/mounts)
if [ -n "$cpuset_mnt" ] && mkdir "$cpuset_mnt/$prefix-cpuset-kept" 2>/dev/null; then
  ln -s base "$work/cpuset-kept"
  echo "run.sh: case cpuset-kept (base, another cpuset cgroup present), $n rounds ..."
  drive cpuset-kept "$n" "$work/results.tsv" "${runtimes[@]}" "${peers[@]}"
  rmdir "$cpuset_mnt/$prefix-cpuset-kept"
fi
echo "run.sh: $prounds rounds of 10 parallel runs ..."
load_parallel=$(cut -d' ' -f1-3 /proc/loadavg)
"$work/driver" parallel --width 10 --n "$prounds" --bundle "$work/base" --root-base "$work/root" \
  --id-prefix "$prefix" --log-dir "$work/logs" --out "$work/results.tsv" "${runtimes[@]}" "${peers[@]}"
: >"$work/icount.tsv"
if [ "$icount" = 1 ]; then
  for spec in "${runtimes[@]}" "${peers[@]}"; do
    name=${spec%%=*} bin=${spec#*=}
    [ "$name" = runc ] && continue  # tens of millions of steps (Go): too slow to single-step
    echo "run.sh: counting the user instructions of one $name run (single steps: slow) ..."
    "$work/icount" -- "$bin" --root "$work/root/$name" run --bundle "$work/base" "$prefix-icount-$name" \
      >/dev/null 2>"$work/icount-$name.txt" || echo "run.sh: icount of $name failed" >&2
    awk -v n="$name" '/^instructions:/ { print n "\t" $2 }' "$work/icount-$name.txt" >>"$work/icount.tsv"
  done
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# The goals of issue 22, one line each: every husk* runtime against crun.
summary() {
  awk -F'\t' -v load="$load_before (parallel rounds: $load_parallel; after: $load_after)" '
    FILENAME ~ /icount/ { ins[$1] = $2; next }
    $1 == "base" && $3 == "run" { cpu[$2] = $8; rss[$2] = $10 }
    $1 == "parallel10" && $3 == "run" { par[$2] = $5 }
    $1 == "cpuset-kept" && $3 == "run" { kept[$2] = $8 }
    function line(what, unit, scale, fmt, v,   h) {
      for (h in v) if (h ~ /^husk/ && ("crun" in v) && v["crun"] > 0)
        printf "- %s: %s " fmt " %s, crun " fmt " %s, ratio %.2f\n", what, h, v[h] / scale, unit,
          v["crun"] / scale, unit, v[h] / v["crun"]
    }
    END {
      print "Goals of issue 22 (load average " load "):"
      print ""
      line("CPU of `run` (user+sys, median)", "ms", 1, "%.1f", cpu)
      line("user instructions of `run` (icount, one run)", "M", 1e6, "%.2f", ins)
      line("peak RSS of `run` (median)", "MiB", 1024, "%.2f", rss)
      line("10 parallel `run`s, wall time of the batch (median)", "ms", 1, "%.1f", par)
      line("CPU of `run` with another cpuset cgroup on the host (median)", "ms", 1, "%.1f", kept)
    }' "$work/icount.tsv" "$work/results.tsv"
}
summary
leftover=$(find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d -name "$prefix-*" | wc -l)
[ "$unmounted_v2" = 1 ] && leftover="$leftover (crun's directories in the tmpfs under the unmounted cgroup2 mount point count: crun 1.8.1 makes one per container there and never removes it)"

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
    "load average before: $load_before, after: $load_after" \
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
  if [ "$unmounted_v2" = 1 ]; then
    echo "- crun 1.8.1 refuses this hybrid host while cgroup2 holds a controller (hugetlb); for" \
      "these rounds cgroup2 was unmounted in the script's private mount namespace (all runtimes" \
      "ran there, on the v1 hierarchies; the host unchanged). husk on the host as it is:" \
      "$(awk -F'\t' '$3=="run"{printf "%s run median %.1f ms (n=%s); ", $2, $5, $4}' "$asis")"
  fi
  echo "- cgroups left behind by the runtimes after the rounds (removed by the script): $leftover"
  echo
  summary
  echo
  "$work/driver" report "$work/results.tsv"
} >"$work/results.md"
cat "$work/results.md"
if [ "$write" = 1 ]; then
  cp "$work/results.md" "$here/results.md"
  cp "$work/results.tsv" "$here/results.tsv"
  echo "run.sh: wrote $here/results.md"
fi
