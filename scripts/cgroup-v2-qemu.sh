#!/usr/bin/env bash
# Pure cgroup v2 for real, every controller: boots Debian's kernel (linux-image-amd64)
# under qemu (software emulation: no KVM here; hard timeout) with a small initramfs
# holding busybox, the given test binaries and their libraries. Its init mounts only
# cgroup2 at /sys/fs/cgroup and runs each binary with HUSK_V2_CONTROLLER=all.
# With --runtime, husk-runtime also runs a busybox container there with
# --proc-virtualize's annotation, -m 256m and one CPU's quota: what it sees in /proc, /sys
# and sysinfo(2) is checked (the runtime and its /proc server on pure cgroup v2).
# Exits 77 (skip) when qemu, the kernel or busybox is missing.
# Usage: cgroup-v2-qemu.sh [--runtime HUSK_RUNTIME] TEST_BINARY... (gtest binaries)
set -euo pipefail
skip() { echo "SKIP: $*"; exit 77; }
runtime=
if [ "${1:-}" = --runtime ]; then
  runtime=$2
  shift 2
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
for b in "$@" ${runtime:+"$runtime"}; do
  cp "$b" "$root/bin/"
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
poweroff -f
INIT
chmod +x "$root/init"

expected=$#
if [ -n "$runtime" ]; then
  expected=$((expected + 1))
  # The container: the VM's busybox, what it sees printed as "PV name value" lines. The
  # initramfs root cannot be pivoted from: --no-pivot (MS_MOVE and chroot) there.
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
out=$(/bin/husk-runtime --root /run/husk-runtime run --no-pivot --bundle /bundle pv 2>&1)
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
