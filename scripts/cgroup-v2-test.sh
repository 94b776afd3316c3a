#!/usr/bin/env bash
# Runs the cgroup v2 tests for real on a hybrid host: moves one free v1 controller
# (pids, cpu or blkio: one without child cgroups) to the cgroup2 hierarchy, runs
# TEST_BINARY with HUSK_V2_CONTROLLER set, and restores the v1 mount exactly as it
# was (same mountpoint, same options) in an EXIT trap, whatever happens.
# Exits 77 (skip) with the reason when no controller can be freed.
# Usage: cgroup-v2-test.sh TEST_BINARY [gtest args...]
set -u
binary=$1
shift
uni=/sys/fs/cgroup/unified
skip() { echo "SKIP: $*"; exit 77; }

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  # Pure cgroup v2: every controller is there already.
  HUSK_V2_CONTROLLER=all exec "$binary" "$@"
fi
[ "$(id -u)" = 0 ] || skip "needs root"
[ -f "$uni/cgroup.controllers" ] || skip "no cgroup2 hierarchy at $uni"

# One mover at a time on this machine.
exec 9>/run/husk-cgroup-v2-test.lock
flock -w 300 9 || skip "could not get /run/husk-cgroup-v2-test.lock"

moved="" mnt="" opts=""
restore() {
  [ -n "$moved" ] || return 0
  local ok=0
  # Disable the controller in cgroup2, deepest cgroups first, until the root lets go.
  for _ in $(seq 1 300); do
    find "$uni" -mindepth 1 -depth -type d -name 'cgroup-v2test-*' -exec rmdir {} \; 2>/dev/null
    if grep -qw "$moved" "$uni/cgroup.subtree_control"; then
      find "$uni" -mindepth 1 -depth -type d -exec sh -c \
        'grep -qw "$0" "$1/cgroup.subtree_control" && echo "-$0" > "$1/cgroup.subtree_control"' \
        "$moved" {} \; 2>/dev/null
      echo "-$moved" > "$uni/cgroup.subtree_control" 2>/dev/null
    fi
    if ! grep -qw "$moved" "$uni/cgroup.subtree_control" &&
      mount -t cgroup -o "$opts" cgroup "$mnt" 2>/dev/null; then
      ok=1
      break
    fi
    sleep 0.1
  done
  local now
  now=$(awk -v m="$mnt" '$5 == m && $0 ~ / - cgroup / {print $6, $NF}' /proc/self/mountinfo)
  if [ $ok = 1 ] && [ "$now" = "$before" ]; then
    echo "restored $moved: cgroup on $mnt ($now)"
  else
    echo "ERROR: could not restore the v1 $moved hierarchy on $mnt (options $opts); now: '$now'" >&2
    exit 1
  fi
}
trap restore EXIT
trap 'exit 1' INT TERM HUP

reasons=()
for ctrl in pids cpu blkio; do
  line=$(awk -v c="$ctrl" '$0 ~ / - cgroup / { n = split($NF, o, ","); if (n == 2 && o[2] == c) print }' \
    /proc/self/mountinfo | head -1)
  if [ -z "$line" ]; then
    reasons+=("$ctrl: not a v1 hierarchy of its own")
    continue
  fi
  dir=$(echo "$line" | awk '{print $5}')
  # Empty leftovers of crashed runs (older than 2 minutes) go first; fresh ones belong to
  # someone working right now, and any child cgroup means the controller is in use.
  find "$dir" -mindepth 1 -depth -type d -mmin +2 -exec rmdir {} \; 2>/dev/null
  children=$(find "$dir" -mindepth 1 -maxdepth 1 -type d | wc -l)
  if [ "$children" != 0 ]; then
    reasons+=("$ctrl: $children child cgroup(s) in use")
    continue
  fi
  v2name=$ctrl
  [ "$ctrl" = blkio ] && v2name=io
  mnt=$dir
  before=$(echo "$line" | awk '{print $6, $NF}')
  # The mount's own flags plus the hierarchy's options ("rw,relatime" + "rw,pids").
  opts="$(echo "$line" | awk '{print $6}'),$(echo "$line" | awk '{print $NF}' | sed 's/^r[wo],//')"
  # A plain umount only: EBUSY means someone holds the hierarchy open (a process we
  # cannot see, another mount namespace); a lazy umount would not free the controller.
  if ! err=$(umount "$mnt" 2>&1); then
    reasons+=("$ctrl: $err")
    continue
  fi
  moved=$ctrl
  for _ in $(seq 1 100); do
    grep -qw "$v2name" "$uni/cgroup.controllers" && break
    sleep 0.1
  done
  if ! grep -qw "$v2name" "$uni/cgroup.controllers"; then
    reasons+=("$ctrl: not released to cgroup2 within 10 s of umount (something outside our view keeps the v1 hierarchy alive)")
    restore
    moved=""
    continue
  fi
  echo "moved $ctrl to cgroup2 ($v2name) for the test"
  HUSK_V2_CONTROLLER=$v2name "$binary" "$@"
  rc=$?
  exit $rc
done
IFS=';'
skip "no v1 controller could be moved to cgroup2: ${reasons[*]}"
