#!/usr/bin/env bash
# Builds the default offline image, husk/busybox:latest, from Debian's
# busybox-static (/bin/busybox, a symlink per applet, /etc/passwd, /etc/group)
# as an OCI archive, and loads it into husk's store with `husk load`.
#
# usage: scripts/make-busybox-image.sh [--root DIR] [--husk PATH] [-o ARCHIVE.tar]
#   --root  husk's data root (default: husk's own default, /var/lib/husk)
#   --husk  the husk binary (default: build/src/cli/husk/husk, else husk on PATH)
#   -o      also keep the OCI archive here
set -euo pipefail
cd "$(dirname "$0")/.."

root_args=()
husk=""
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --root) root_args=(--root "$2"); shift 2 ;;
        --husk) husk=$2; shift 2 ;;
        -o) out=$2; shift 2 ;;
        *) echo "usage: $0 [--root DIR] [--husk PATH] [-o ARCHIVE.tar]" >&2; exit 2 ;;
    esac
done
if [ -z "$husk" ]; then
    if [ -x build/src/cli/husk/husk ]; then husk=build/src/cli/husk/husk; else husk=husk; fi
fi
[ -x /bin/busybox ] || { echo "$0: /bin/busybox missing: apt-get install busybox-static" >&2; exit 1; }

tmp=$(mktemp -d /tmp/husk-busybox-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
python3 scripts/fixtures/mkimage.py busybox "$tmp/layout" --tag husk/busybox:latest >/dev/null
tar -C "$tmp/layout" -cf "$tmp/busybox.tar" .
[ -n "$out" ] && cp "$tmp/busybox.tar" "$out"
"$husk" "${root_args[@]}" load -i "$tmp/busybox.tar"
