#!/usr/bin/env bash
# Pure cgroup v2 for real, every controller: boots Debian's kernel (linux-image-amd64)
# under qemu (software emulation: no KVM here; hard timeout) with a small initramfs
# holding busybox, the given test binaries and their libraries. Its init mounts only
# cgroup2 at /sys/fs/cgroup and runs each binary with HUSK_V2_CONTROLLER=all.
# With --runtime, husk-runtime also runs a busybox container there with
# --proc-virtualize's annotation, -m 256m and one CPU's quota: what it sees in /proc, /sys
# and sysinfo(2) is checked (the runtime and its /proc server on pure cgroup v2).
# With --husk as well, rootless: a user with a cgroup subtree delegated as systemd
# delegates user@.service runs husk-runtime and husk with limits, which its containers
# see and which land in (and leave) that subtree, --proc-virtualize shows them in free,
# nproc and /proc/meminfo (and uptime from the container's start); a user without one is
# refused the limits in one line and runs without them (rootless-check.sh below).
# Exits 77 (skip) when qemu, the kernel or busybox is missing.
# Usage: cgroup-v2-qemu.sh [--runtime HUSK_RUNTIME [--husk HUSK]] TEST_BINARY... (gtest binaries)
# (husk-monitor is taken from next to HUSK or HUSK_RUNTIME.)
set -euo pipefail
skip() { echo "SKIP: $*"; exit 77; }
runtime=
husk=
if [ "${1:-}" = --runtime ]; then
  runtime=$2
  shift 2
fi
if [ "${1:-}" = --husk ]; then
  husk=$2
  shift 2
  [ -n "$runtime" ] || { echo "--husk needs --runtime"; exit 2; }
fi

kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1 || true)
[ -n "$kernel" ] || skip "no kernel in /boot (apt-get install linux-image-amd64)"
[ -r "$kernel" ] || skip "cannot read $kernel"
command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64 (apt-get install qemu-system-x86)"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 || skip "no static busybox (busybox-static)"

work=$(mktemp -d /tmp/cgroup-qemu-XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,proc,sys,dev,tmp,run,etc}
cp "$busybox" "$root/bin/busybox"
# The rootless checks' programs: husk, its monitor, and the setuid id-map helpers
# (cp -p: in the initramfs they stay root's, with their set-uid bit).
extra=()
if [ -n "$husk" ]; then
  monitor=$(dirname "$husk")/husk-monitor
  [ -x "$monitor" ] || monitor=$(dirname "$runtime")/husk-monitor
  [ -x "$monitor" ] || { echo "no husk-monitor next to $husk or $runtime"; exit 2; }
  newuidmap=$(command -v newuidmap || true)
  newgidmap=$(command -v newgidmap || true)
  [ -n "$newuidmap" ] && [ -n "$newgidmap" ] || skip "no newuidmap/newgidmap (apt-get install uidmap)"
  extra=("$husk" "$monitor" "$newuidmap" "$newgidmap")
  mkdir -p "$root/usr/bin"
  cp -p "$newuidmap" "$newgidmap" "$root/usr/bin/"  # where husk looks for them
fi
for b in "$@" ${runtime:+"$runtime"} "${extra[@]}"; do
  cp -p "$b" "$root/bin/"
  # The binary's shared libraries at the same paths (and the dynamic loader).
  for lib in $(ldd "$b" | grep -o '/[^ ]*'); do
    cp --parents -L "$lib" "$root/"
  done
done
# A RAM block device for the io tests (brd is a module in Debian's kernel).
brd=/lib/modules/$(basename "$kernel" | sed 's/^vmlinuz-//')/kernel/drivers/block/brd.ko
[ -r "$brd" ] && cp "$brd" "$root/brd.ko"
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
# pivot_root cannot leave the initramfs (EINVAL), and husk's containers pivot: move to a
# tmpfs root first (switch_root frees the initramfs' copy).
if [ ! -e /.on-tmpfs ]; then
  /bin/busybox mkdir /newroot
  /bin/busybox mount -t tmpfs -o mode=755 root /newroot
  for f in /*; do [ "$f" = /newroot ] || /bin/busybox cp -a "$f" /newroot/; done
  /bin/busybox touch /newroot/.on-tmpfs
  exec /bin/busybox switch_root /newroot /init
fi
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
[ -f /brd.ko ] && insmod /brd.ko rd_nr=1 rd_size=4096
echo "cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
for b in /bin/husk_*; do
  HUSK_V2_CONTROLLER=all "$b" --gtest_brief=1
  echo "HUSK-QEMU-RC $(basename "$b") $?"
done
[ -x /runtime-check.sh ] && /runtime-check.sh
[ -x /rootless-check.sh ] && /rootless-check.sh
poweroff -f
INIT
chmod +x "$root/init"

expected=$#
if [ -n "$runtime" ]; then
  expected=$((expected + 1))
  # The container: the VM's busybox, what it sees printed as "PV name value" lines.
  bundle=$root/bundle
  mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs"/{proc,sys,dev,tmp}
  cp "$busybox" "$bundle/rootfs/bin/busybox"
  for app in sh free nproc cat grep awk head sleep; do ln -s busybox "$bundle/rootfs/bin/$app"; done
  (cd "$bundle" && "$runtime" spec)
  # shellcheck disable=SC2016
  script='echo PV free $(free -m | awk "/^Mem:/ { print \$2 }")
echo PV nproc $(nproc)
echo PV online $(cat /sys/devices/system/cpu/online)
echo PV processors $(grep -c ^processor /proc/cpuinfo)
echo PV memtotal $(awk "/^MemTotal:/ { print \$2 }" /proc/meminfo)
a=$(awk "/^MemAvailable:/ { print \$2 }" /proc/meminfo)
head -c 50m /dev/zero >/dev/shm/x
b=$(awk "/^MemAvailable:/ { print \$2 }" /proc/meminfo)
echo PV moved $(( (a - b) / 1024 ))'
  jq --arg s "$script" '.process.terminal = false | .process.args = ["sh", "-c", $s] |
      .annotations["run.oci.husk.proc-virtualize"] = "true" |
      .linux.resources.memory = {"limit": 268435456} |
      .linux.resources.cpu = {"quota": 100000, "period": 100000}' \
      "$bundle/config.json" >"$bundle/c" && mv "$bundle/c" "$bundle/config.json"
  cat >"$root/runtime-check.sh" <<'CHECK'
#!/bin/busybox sh
out=$(/bin/husk-runtime --root /run/husk-runtime run --bundle /bundle pv 2>&1)
rc=$?
echo "$out" | sed 's/^/  /'
ok=0
[ "$rc" = 0 ] || ok=1
check() { echo "$out" | grep -qx "PV $1 $2" || { echo "  expected 'PV $1 $2'"; ok=1; }; }
check free 256
check nproc 1
check online 0
check processors 1
check memtotal 262144
moved=$(echo "$out" | awk '$1 == "PV" && $2 == "moved" { print $3 }')
# 50 MiB of shared memory written (the spec's /dev/shm holds 64): MemAvailable falls by about that much
[ -n "$moved" ] && [ "$moved" -ge 40 ] && [ "$moved" -le 60 ] || { echo "  MemAvailable moved by '$moved' MiB, not ~50"; ok=1; }
echo "HUSK-QEMU-RC husk-runtime-proc-virtualize $ok"
CHECK
  chmod +x "$root/runtime-check.sh"
fi
if [ -n "$husk" ]; then
  expected=$((expected + 4))
  # A container root the users' containers share (root's files: read-only for them), and
  # husk-runtime's rootless bundle: runc's --rootless changes, mapped to alice (uid 1000),
  # with memory, pids and cpu limits. Its process prints what it sees as "PV" lines and
  # forks until the pids limit refuses (builtins only after that: nothing can fork).
  rootfs=$root/rootfs
  mkdir -p "$rootfs/bin" "$rootfs"/{proc,sys,dev,tmp,etc}
  cp "$busybox" "$rootfs/bin/busybox"
  for app in sh cat sleep free nproc awk head; do ln -s busybox "$rootfs/bin/$app"; done
  touch "$rootfs/etc"/{hosts,resolv.conf,hostname}
  rbundle=$root/rbundle
  mkdir -p "$rbundle"
  (cd "$rbundle" && "$runtime" spec --rootless)
  # shellcheck disable=SC2016
  script='echo PV memory $(cat /sys/fs/cgroup/memory.max)
echo PV pids $(cat /sys/fs/cgroup/pids.max)
echo PV cpu $(cat /sys/fs/cgroup/cpu.max)
(i=0; while [ $i -lt 40 ]; do sleep 600 & i=$((i+1)); echo $i >/dev/shm/n; done) 2>/dev/shm/err
read n </dev/shm/n
echo PV forks $n
while read -r l; do case "$l" in *fork*) echo PV fork refused;; esac; done </dev/shm/err'
  jq --arg s "$script" '.process.terminal = false | .process.args = ["sh", "-c", $s] |
      .root.path = "/rootfs" |
      .linux.uidMappings = [{"containerID": 0, "hostID": 1000, "size": 1}] |
      .linux.gidMappings = [{"containerID": 0, "hostID": 1000, "size": 1}] |
      .linux.resources = {"memory": {"limit": 268435456}, "pids": {"limit": 16},
                          "cpu": {"quota": 50000, "period": 100000}}' \
      "$rbundle/config.json" >"$rbundle/c" && mv "$rbundle/c" "$rbundle/config.json"
  chmod 644 "$rbundle/config.json"
  # the same container with a relative cgroups path, no limits
  mkdir -p "$root/relbundle"
  jq '.linux.cgroupsPath = "relc" | .process.args = ["sh", "-c", ":"] | del(.linux.resources)' \
      "$rbundle/config.json" >"$root/relbundle/config.json"
  chmod 644 "$root/relbundle/config.json"
  cat >"$root/rootless-check.sh" <<'CHECK'
#!/bin/busybox sh
# alice (1000) has a cgroup delegated as systemd delegates user@1000.service: hers with its
# cgroup.procs, cgroup.subtree_control and cgroup.threads, the controllers enabled down to
# it, and her shell in it (an inner cgroup with a process: husk moves it to a leaf before
# giving the cgroup's children controllers). bob (1001) sits in a cgroup of root's.
cg=/sys/fs/cgroup
deleg=$cg/user.slice/user-1000.slice/user@1000.service
mkdir -p "$deleg" "$cg/user.slice/user-1001.slice"
for d in "$cg" "$cg/user.slice" "$cg/user.slice/user-1000.slice"; do
  echo "+memory +pids +cpu" >"$d/cgroup.subtree_control"
done
chown 1000:1000 "$deleg" "$deleg/cgroup.procs" "$deleg/cgroup.subtree_control" "$deleg/cgroup.threads"
printf 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n' >/etc/passwd
printf 'root:x:0:\nalice:x:1000:\nbob:x:1001:\n' >/etc/group
printf 'alice:100000:65536\nbob:200000:65536\n' >/etc/subuid
cp /etc/subuid /etc/subgid
for u in alice:1000 bob:1001; do
  mkdir -p "/home/${u%:*}" "/run/user/${u#*:}"
  chown "${u#*:}:${u#*:}" "/home/${u%:*}" "/run/user/${u#*:}"
  chmod 700 "/run/user/${u#*:}"
done
# as USER CGROUP SCRIPT: USER's shell, put in CGROUP first (as pam_systemd places a login),
# runs SCRIPT with CGROUP as its argument.
as() {
  sh -c 'echo $$ >"$1/cgroup.procs" && exec su -s /bin/sh "$2" -c "timeout 300 sh $3 $1"' \
    - "$2" "$1" "$3"
}

# What each check script sources: its verdict, and the kill tests' timing.
cat >/tmp/common.sh <<'EOF'
ok=0
fail() { echo "  $*"; ok=1; }
# centiseconds since boot; a random sleep within 1.2 times a duration (centiseconds)
cs() { read -r u _ </proc/uptime; echo $((${u%.*} * 100 + 1${u#*.} - 100)); }
sleep_within() { usleep $(((RANDOM * 32768 + RANDOM) % ($1 * 12 + 1) * 1000)); }
EOF

cat >/tmp/alice-runtime.sh <<'EOF'
# husk-runtime rootless: the bundle's default cgroups path ("/rl") lands in the delegated
# subtree, the container sees its limits, and `delete` removes its cgroup.
export XDG_RUNTIME_DIR=/run/user/1000
deleg=$1
. /tmp/common.sh
cd /rbundle || fail "cd /rbundle"
t=$(cs)
husk-runtime create rl >/tmp/rl.out 2>&1 || fail "create failed: $(cat /tmp/rl.out)"
took=$(($(cs) - t))
for f in memory.max:268435456 pids.max:16 "cpu.max:50000 100000"; do
  v=$(cat "$deleg/rl/${f%%:*}" 2>&1)
  [ "$v" = "${f#*:}" ] || fail "$deleg/rl/${f%%:*}: '$v', not '${f#*:}'"
done
# the shell that was in the delegated cgroup now sits in its leaf
grep -qx "0::/user.slice/user-1000.slice/user@1000.service/leaf" /proc/$$/cgroup ||
  fail "the user's shell is in $(cat /proc/$$/cgroup), not user@1000.service/leaf"
husk-runtime start rl || fail "start failed"
i=0
until husk-runtime state rl 2>&1 | grep -q stopped; do
  i=$((i + 1))
  [ $i -lt 120 ] || { fail "rl did not stop"; break; }
  sleep 1
done
husk-runtime delete rl || fail "delete failed"
[ ! -e "$deleg/rl" ] || fail "$deleg/rl is left after delete"
sed 's/^/  /' /tmp/rl.out
for want in "memory 268435456" "pids 16" "cpu 50000 100000" "fork refused"; do
  grep -qx "PV $want" /tmp/rl.out || fail "the container did not print 'PV $want'"
done
n=$(awk '$1 == "PV" && $2 == "forks" { print $3 }' /tmp/rl.out)
[ -n "$n" ] && [ "$n" -lt 16 ] || fail "the container forked '$n' sleeps under pids.max 16"
# create killed at random moments (within 1.2 times what the first took: before, while or
# after it makes the cgroup): delete
# --force leaves no cgroup and no container behind
for k in 1 2 3 4; do
  husk-runtime create "kill$k" >/dev/null 2>&1 &
  sleep_within "$took"
  kill -9 $! 2>/dev/null
  wait $! 2>/dev/null
  husk-runtime delete --force "kill$k" >/dev/null 2>&1
  [ ! -e "$deleg/kill$k" ] || fail "$deleg/kill$k is left after a killed create and delete --force"
done
[ -z "$(husk-runtime list -q 2>&1)" ] || fail "containers left: $(husk-runtime list -q 2>&1)"
# a relative cgroups path is taken from the shell's cgroup as it was before husk moved the
# shell to `leaf`: beside rl's, not nested below the leaf
husk-runtime create --bundle /relbundle relc >/tmp/relc.out 2>&1 ||
  fail "create with a relative cgroups path failed: $(cat /tmp/relc.out)"
[ -d "$deleg/relc" ] || fail "no $deleg/relc: $(find "$deleg" -name relc)"
[ ! -e "$deleg/leaf/relc" ] || fail "the relative cgroups path went below $deleg/leaf"
husk-runtime delete --force relc || fail "delete relc failed"
[ ! -e "$deleg/relc" ] || fail "$deleg/relc is left after delete"
echo "HUSK-QEMU-RC rootless-runtime-delegated $ok"
EOF

cat >/tmp/alice-husk.sh <<'EOF'
# husk run with --memory, --pids-limit and --cpus: the engine's "/husk/<id>" lands in the
# delegated subtree, the container sees its limits, and `rm` removes its cgroup.
export XDG_RUNTIME_DIR=/run/user/1000
deleg=$1
. /tmp/common.sh
cd || fail "cd $HOME"
t=$(cs)
if id=$(husk run -d --name lim --network none --memory 64m --pids-limit 20 --cpus 0.5 \
  --rootfs /rootfs sh -c 'echo PV memory $(cat /sys/fs/cgroup/memory.max)
echo PV pids $(cat /sys/fs/cgroup/pids.max)
echo PV cpu $(cat /sys/fs/cgroup/cpu.max)
echo PV ready; exec sleep 600' 2>&1); then
  took=$(($(cs) - t))
  i=0
  until husk logs lim 2>&1 | grep -q "PV ready"; do
    i=$((i + 1))
    [ $i -lt 120 ] || { fail "lim did not get ready"; break; }
    sleep 1
  done
  husk logs lim 2>&1 | sed 's/^/  /'
  for want in "memory 67108864" "pids 20" "cpu 50000 100000"; do
    husk logs lim 2>&1 | grep -qx "PV $want" || fail "the container did not print 'PV $want'"
  done
  [ -d "$deleg/husk/$id" ] || fail "no cgroup $deleg/husk/$id: $(ls "$deleg" "$deleg/husk" 2>&1)"
  [ "$(cat "$deleg/husk/$id/memory.max" 2>&1)" = 67108864 ] ||
    fail "$deleg/husk/$id/memory.max: $(cat "$deleg/husk/$id/memory.max" 2>&1)"
  # the cgroup's other uses as a user: update, pause (cgroup.freeze), stats
  husk update --memory 128m --pids-limit 30 lim >/dev/null 2>&1 || fail "update failed"
  [ "$(cat "$deleg/husk/$id/memory.max" "$deleg/husk/$id/pids.max" 2>&1 | tr '\n' ' ')" = "134217728 30 " ] ||
    fail "after update: memory.max, pids.max $(cat "$deleg/husk/$id/memory.max" "$deleg/husk/$id/pids.max" 2>&1)"
  husk pause lim >/dev/null 2>&1 || fail "pause failed"
  grep -qx "frozen 1" "$deleg/husk/$id/cgroup.events" || fail "paused, but cgroup.events: $(cat "$deleg/husk/$id/cgroup.events")"
  husk unpause lim >/dev/null 2>&1 || fail "unpause failed"
  grep -qx "frozen 0" "$deleg/husk/$id/cgroup.events" || fail "unpaused, but cgroup.events: $(cat "$deleg/husk/$id/cgroup.events")"
  mem=$(husk stats --no-stream --format '{{.MemUsage}}' lim 2>&1)
  echo "$mem" | grep -q "/ 128MiB" || fail "stats: memory '$mem', not against the 128MiB limit"
else
  fail "run failed: $id"
fi
husk rm -f lim >/dev/null || fail "rm -f failed"
left=$(find "$deleg/husk" -mindepth 1 -type d 2>&1)
[ -z "$left" ] || fail "cgroups left after rm: $left"
# a controller the delegated cgroup was not given (cpuset): refused in one line naming it
out=$(husk run --rm --network none --cpuset-cpus 0 --rootfs /rootfs true 2>&1)
rc=$?
[ "$rc" != 0 ] && [ "$(echo "$out" | wc -l)" = 1 ] &&
  echo "$out" | grep -q "the cpuset controller is not delegated to \"$deleg/husk/" ||
  fail "--cpuset-cpus without a delegated cpuset controller: exit $rc, '$out'"
# run -d with limits killed at random moments (within 1.2 times what the first took): rm -f (or nothing, when it died before the
# record) leaves no cgroup and no container
for k in 1 2 3; do
  husk run -d --name "kill$k" --network none --memory 64m --rootfs /rootfs sleep 600 >/dev/null 2>&1 &
  sleep_within "${took:-300}"
  kill -9 $! 2>/dev/null
  wait $! 2>/dev/null
  husk rm -f "kill$k" >/dev/null 2>&1
done
left=$(find "$deleg/husk" -mindepth 1 -type d 2>&1)
[ -z "$left" ] || fail "cgroups left after killed runs and rm -f: $left"
[ -z "$(husk ps -aq)" ] || fail "containers left: $(husk ps -aq)"
echo "HUSK-QEMU-RC rootless-husk-delegated $ok"
EOF

cat >/tmp/bob-husk.sh <<'EOF'
# No delegated cgroup: --memory is refused in one line, and a run without limits works.
export XDG_RUNTIME_DIR=/run/user/1001
. /tmp/common.sh
cd || fail "cd $HOME"
out=$(husk run --rm --network none --memory 64m --rootfs /rootfs true 2>&1)
rc=$?
echo "$out" | sed 's/^/  /'
[ "$rc" != 0 ] || fail "--memory without a delegated cgroup exited 0"
[ "$(echo "$out" | wc -l)" = 1 ] || fail "the refusal is not one line"
echo "$out" | grep -q "no cgroup holding the memory controller is writable" ||
  fail "the refusal does not say why"
out=$(husk run --rm --network none --rootfs /rootfs sh -c 'echo hi' 2>&1)
rc=$?
[ "$rc" = 0 ] && [ "$out" = hi ] || fail "a run without limits: exit $rc, '$out'"
[ -z "$(husk ps -aq)" ] || fail "containers left: $(husk ps -aq)"
echo "HUSK-QEMU-RC rootless-husk-undelegated $ok"
EOF
cat >/tmp/alice-proc.sh <<'EOF'
# --proc-virtualize as a user (on by default with limits): free (sysinfo through the
# seccomp listener of a server running as alice), nproc (sched_getaffinity), meminfo show
# the limits; MemAvailable moves after an allocation (the file is re-rendered after a
# read: read again once the server has had a moment); uptime counts from the start.
export XDG_RUNTIME_DIR=/run/user/1000
. /tmp/common.sh
cd || fail "cd $HOME"
t=$(cs)
out=$(husk run --rm --network none --memory 128m --cpus 1 --rootfs /rootfs sh -c '
echo PV uptime $(awk "{ print int(\$1) }" /proc/uptime)
echo PV free $(free -m | awk "/^Mem:/ { print \$2 }")
echo PV nproc $(nproc)
echo PV memtotal $(awk "/^MemTotal:/ { print \$2 }" /proc/meminfo)
a=$(awk "/^MemAvailable:/ { print \$2 }" /proc/meminfo)
head -c 50m /dev/zero >/dev/shm/x
cat /proc/meminfo >/dev/null; sleep 1
b=$(awk "/^MemAvailable:/ { print \$2 }" /proc/meminfo)
echo PV moved $(( (a - b) / 1024 ))' 2>&1)
rc=$?
took=$((($(cs) - t) / 100 + 1))
echo "$out" | sed 's/^/  /'
[ "$rc" = 0 ] || fail "run exited $rc"
for want in "free 128" "nproc 1" "memtotal 131072"; do
  echo "$out" | grep -qx "PV $want" || fail "the container did not print 'PV $want'"
done
up=$(echo "$out" | awk '$1 == "PV" && $2 == "uptime" { print $3 }')
[ -n "$up" ] && [ "$up" -le "$took" ] || fail "uptime '$up' s, more than the $took s since husk run began"
moved=$(echo "$out" | awk '$1 == "PV" && $2 == "moved" { print $3 }')
[ -n "$moved" ] && [ "$moved" -ge 40 ] && [ "$moved" -le 60 ] || fail "MemAvailable moved by '$moved' MiB, not ~50"
echo "HUSK-QEMU-RC rootless-proc-virtualize $ok"
EOF
# one login of alice's: the second check's husk runs from where the first left her shell
echo 'sh /tmp/alice-runtime.sh "$1"; sh /tmp/alice-husk.sh "$1"; sh /tmp/alice-proc.sh' >/tmp/alice.sh
chmod 644 /tmp/common.sh /tmp/alice.sh /tmp/alice-runtime.sh /tmp/alice-husk.sh /tmp/alice-proc.sh /tmp/bob-husk.sh
as alice "$deleg" /tmp/alice.sh
as bob "$cg/user.slice/user-1001.slice" /tmp/bob-husk.sh
CHECK
  chmod +x "$root/rootless-check.sh"
fi
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

log=$work/console.log
timeout 900 qemu-system-x86_64 -accel tcg -m 768 -smp 2 -nographic -no-reboot \
  -kernel "$kernel" -initrd "$work/initrd.gz" \
  -append "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init" </dev/null | tee "$log" |
  grep -av -e '^\[' -e '^HUSK-QEMU-RC' || true
rcs=$(grep -a '^HUSK-QEMU-RC' "$log" | tr -d '\r' || true)
[ -n "$rcs" ] || { echo "the VM did not run the tests (see above)"; exit 1; }
echo "$rcs"
[ "$(echo "$rcs" | wc -l)" = "$expected" ] || { echo "not every binary reported"; exit 1; }
! echo "$rcs" | grep -qv ' 0$'
