#!/usr/bin/env bash
# Builds the default offline image, husk/busybox:latest, from Debian's
# busybox-static (/bin/busybox, a symlink per applet, /etc/passwd, /etc/group)
# as an OCI archive, and loads it into husk's store with `husk load`.
#
# usage: scripts/make-busybox-image.sh [--root DIR] [--husk PATH] [-o ARCHIVE.tar] [--arch GOARCH]
#   --root  husk's data root (default: husk's own default, /var/lib/husk)
#   --husk  the husk binary (default: build/src/cli/husk/husk, else husk on PATH)
#   -o      also keep the OCI archive here
#   --arch  another CPU's image, husk/busybox-GOARCH:latest (arm64, arm, ppc64le, s390x,
#           386), from that Debian architecture's busybox-static: its .deb fetched once
#           into /var/cache/husk-test with apt's own lists for it (the system's apt state
#           and architectures untouched); its applets are listed by running it, so the
#           host needs a binfmt_misc handler for it (qemu-user-static); exits 77 when the
#           .deb cannot be fetched (no mirror), so that a test can skip on that alone
# Without --arch the image is of this machine's architecture (mkimage.py's default).
set -euo pipefail
cd "$(dirname "$0")/.."

root_args=()
husk=""
out=""
arch=""
while [ $# -gt 0 ]; do
    case "$1" in
        --root) root_args=(--root "$2"); shift 2 ;;
        --husk) husk=$2; shift 2 ;;
        -o) out=$2; shift 2 ;;
        --arch) arch=$2; shift 2 ;;
        *) echo "usage: $0 [--root DIR] [--husk PATH] [-o ARCHIVE.tar] [--arch GOARCH]" >&2; exit 2 ;;
    esac
done
if [ -z "$husk" ]; then
    if [ -x build/src/cli/husk/husk ]; then husk=build/src/cli/husk/husk; else husk=husk; fi
fi
tmp=$(mktemp -d /tmp/husk-busybox-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
busybox=/bin/busybox
tag=husk/busybox:latest
arch_args=()
if [ -n "$arch" ]; then
    case "$arch" in
        amd64 | arm64 | s390x) debarch=$arch ;;
        arm) debarch=armhf ;;
        386) debarch=i386 ;;
        ppc64le) debarch=ppc64el ;;
        *) echo "$0: --arch $arch: no Debian architecture for it" >&2; exit 2 ;;
    esac
    cache=/var/cache/husk-test
    deb=$(ls "$cache"/busybox-static_*_"$debarch".deb 2>/dev/null | head -1 || true)
    if [ -z "$deb" ]; then
        mkdir -p "$cache" "$tmp/apt/lists/partial" "$tmp/apt/cache/archives/partial"
        apt_opts=(-qq -o "APT::Architecture=$debarch" -o "APT::Architectures::=$debarch"
            -o "Dir::State::Lists=$tmp/apt/lists" -o "Dir::Cache=$tmp/apt/cache"
            -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
        apt-get "${apt_opts[@]}" update >&2 &&
            (cd "$tmp" && apt-get "${apt_opts[@]}" download "busybox-static:$debarch" >&2) || {
            echo "$0: cannot fetch busybox-static:$debarch from the Debian mirror" >&2; exit 77; }
        mv "$tmp"/busybox-static_*_"$debarch".deb "$cache/"
        deb=$(ls "$cache"/busybox-static_*_"$debarch".deb | head -1)
    fi
    dpkg-deb -x "$deb" "$tmp/deb"
    busybox=$tmp/deb/bin/busybox
    tag=husk/busybox-$arch:latest
    arch_args=(--arch "$arch")
fi
[ -x "$busybox" ] || { echo "$0: $busybox missing: apt-get install busybox-static" >&2; exit 1; }
python3 scripts/fixtures/mkimage.py busybox "$tmp/layout" --tag "$tag" --busybox "$busybox" \
    "${arch_args[@]}" >/dev/null
tar -C "$tmp/layout" -cf "$tmp/busybox.tar" .
[ -n "$out" ] && cp "$tmp/busybox.tar" "$out"
"$husk" "${root_args[@]}" load -i "$tmp/busybox.tar"
