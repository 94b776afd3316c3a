#!/usr/bin/env bash
# bench/startup/hot_symbols.sh: remake src/cli/runtime/hot_symbols.txt, the functions
# husk-runtime runs for a container, in the order it first runs them. lld places them first
# in the text (CMakeLists.txt), so the start path's page faults map a few 64 KiB windows of
# the binary instead of all of it (peak RSS).
#
#   bench/startup/hot_symbols.sh [HUSK_RUNTIME]     (default build/bin/husk-runtime; root)
#
# Every instruction pointer of `run`, then of create, start, state, kill and delete (icount
# -s 1, user mode, the container's own processes left out), is named with the binary's
# symbol table (nm); the list is each name once, first use first. Names are link names, so
# a list made from any recent build serves: lld skips the ones it lacks.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=$(realpath "${1:-$top/build/bin/husk-runtime}")
out=$top/src/cli/runtime/hot_symbols.txt
[ "$(id -u)" = 0 ] || { echo "hot_symbols.sh: needs root" >&2; exit 1; }
for t in gcc nm jq runc python3 /bin/busybox; do
  command -v "$t" >/dev/null || { echo "hot_symbols.sh: $t missing" >&2; exit 1; }
done
work=$(mktemp -d /tmp/hot-symbols.XXXX)
id=hot-$$
cleanup() {
  "$bin" --root "$work/root" delete --force "$id-c" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
gcc -O2 -o "$work/icount" "$here/icount.c"
mkdir -p "$work/b/rootfs"/{bin,proc,dev,sys,tmp,etc}
cp /bin/busybox "$work/b/rootfs/bin/busybox"
ln -s busybox "$work/b/rootfs/bin/true"
ln -s busybox "$work/b/rootfs/bin/sleep"
(cd "$work/b" && runc spec)
jq '.process.terminal = false | .process.args = ["/bin/true"] | del(.process.capabilities.ambient)' \
  "$work/b/config.json" >"$work/c" && mv "$work/c" "$work/b/config.json"
mkdir -p "$work/s"
ln -s "$work/b/rootfs" "$work/s/rootfs"
jq '.process.args = ["/bin/sleep", "60"]' "$work/b/config.json" >"$work/s/config.json"

n=0
prof() { # icount profile of one husk-runtime invocation
  n=$((n + 1))
  "$work/icount" -s 1 -p "$work/p$n" -- "$bin" --root "$work/root" "$@" 2>/dev/null
}
prof run -b "$work/b" "$id-r"
# icount follows create's init, which waits for start: create profiled in the background
prof create -b "$work/b" "$id-t" &
for _ in $(seq 600); do
  "$bin" --root "$work/root" state "$id-t" 2>/dev/null | grep -q '"created"' && break
  sleep 0.1
done
n=2
prof start "$id-t"
wait
prof delete "$id-t"
"$bin" --root "$work/root" run -d -b "$work/s" "$id-c"
prof state "$id-c" >/dev/null
prof kill "$id-c" KILL
prof delete --force "$id-c"

nm -S --defined-only "$bin" >"$work/syms"
python3 - "$work" "$n" "$bin" >"$out.new" <<'PY'
import bisect, os, sys
work, n, binary = sys.argv[1], int(sys.argv[2]), sys.argv[3]
syms = []
for line in open(os.path.join(work, "syms")):
    f = line.split()
    if len(f) == 4 and f[2] in "tTwWi":
        syms.append((int(f[0], 16), max(int(f[1], 16), 1), f[3]))
syms.sort()
starts = [s[0] for s in syms]
seen, order = set(), []
for i in range(1, n + 1):
    for line in open(os.path.join(work, f"p{i}")):
        pid, exe, off = line.split()
        if os.path.realpath(exe) != binary and exe != "/":  # a sealed re-exec shows as "/"
            continue
        if off.startswith("outside"):
            continue
        a = int(off, 16)
        k = bisect.bisect_right(starts, a) - 1
        if k >= 0 and a < syms[k][0] + syms[k][1] and syms[k][2] not in seen:
            seen.add(syms[k][2])
            order.append(syms[k][2])
print("\n".join(order))
PY
mv "$out.new" "$out"
echo "hot_symbols.sh: $(wc -l <"$out") functions in $out"
