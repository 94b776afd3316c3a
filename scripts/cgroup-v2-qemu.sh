#!/usr/bin/env bash
# Pure cgroup v2 for real, every controller: boots Debian's kernel (linux-image-amd64)
# under qemu (software emulation: no KVM here; hard timeout) with a small initramfs
# holding busybox, the given test binaries and their libraries. Its init mounts only
# cgroup2 at /sys/fs/cgroup and runs each binary with HUSK_V2_CONTROLLER=all.
# Exits 77 (skip) when qemu, the kernel or busybox is missing.
# Usage: cgroup-v2-qemu.sh TEST_BINARY... (gtest binaries)
set -euo pipefail
skip() { echo "SKIP: $*"; exit 77; }

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
for b in "$@"; do
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
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

log=$work/console.log
timeout 900 qemu-system-x86_64 -accel tcg -m 768 -smp 2 -nographic -no-reboot \
  -kernel "$kernel" -initrd "$work/initrd.gz" \
  -append "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init" </dev/null | tee "$log" |
  grep -av -e '^\[' -e '^HUSK-QEMU-RC' || true
rcs=$(grep -a '^HUSK-QEMU-RC' "$log" | tr -d '\r' || true)
[ -n "$rcs" ] || { echo "the VM did not run the tests (see above)"; exit 1; }
echo "$rcs"
[ "$(echo "$rcs" | wc -l)" = "$#" ] || { echo "not every binary reported"; exit 1; }
! echo "$rcs" | grep -qv ' 0$'
