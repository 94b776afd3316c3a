#!/usr/bin/env bash
# Installs every Debian package husk needs to build, test and benchmark.
# Idempotent: quiet and fast when everything is already there.
set -euo pipefail

tests=()
build=(build-essential cmake ninja-build pkg-config clang-format clang-tidy lld
  nlohmann-json3-dev libcli11-dev libfmt-dev libcurl4-openssl-dev libssl-dev
  libarchive-dev libzstd-dev liblzma-dev libbz2-dev libacl1-dev libxml2-dev liblz4-dev
  libseccomp-dev libcap-dev libgtest-dev libgmock-dev libbenchmark-dev)
# gzip layers inflated by ISA-L's igzip (streaming, a few times faster than zlib).
build+=(libisal-dev)
# husk-dns, the DNS responder of a user-defined network: the DNS wire format.
build+=(libldns-dev)
# husk's bridge networks in-process: netlink (libmnl) and nftables (libnftables; a
# container's port elements as libnftnl's messages, without libnftables' cache); the
# nft command for the tests that look at the rules.
build+=(libmnl-dev libnftables-dev libnftnl-dev)
tests+=(nftables)
# sha256 in husk-runtime (the seccomp cache): libnettle loads ~10x cheaper than libcrypto.
build+=(nettle-dev)
# husk sbom: rpm's sqlite database and its headers.
build+=(libsqlite3-dev librpm-dev zlib1g-dev)
# husk scan: Debian's version ordering.
build+=(libapt-pkg-dev)
tests+=(bats busybox-static jq iproute2 util-linux procps tmux python3 kmod)
# setcap: the file-capability attack test (CVE-2022-29162 class).
tests+=(libcap2-bin)
# strace: the pull test counts its syncfs calls.
tests+=(strace)
# husk build/run of another platform: binfmt_misc handlers (with the F flag) for qemu's
# user-mode emulators (tests/e2e/build/platform.bats).
tests+=(qemu-user-static binfmt-support)
# rootless: newuidmap/newgidmap set up the id ranges of a user's containers.
tests+=(uidmap)
# rootless: fuse-overlayfs, a user's container roots where the kernel refuses overlayfs in
# a user namespace (tests/e2e/rootless/fuse_overlay.bats).
tests+=(fuse-overlayfs)
# rootless: pasta (passt), the user-mode network of a user's containers (-p).
tests+=(passt)
# rootless: slirp4netns, the other user-mode network (--network slirp4netns).
tests+=(slirp4netns)
# husk sbom fixtures: an rpmdb.sqlite with real headers, a Debian tree, a Go binary;
# the SPDX/CycloneDX schema validator.
tests+=(sqlite3 python3-rpm debootstrap golang-go python3-jsonschema)
images=(docker-registry skopeo umoci apache2-utils zstd openssl curl)
peers=(crun runc hyperfine)
# Real engines driving husk-runtime (tests/e2e/engines, bench/engines), and our CRI client.
# iptables: the bridge and portmap CNI plugins of husk run run it.
engines=(podman conmon containernetworking-plugins iptables containerd libgrpc++-dev protobuf-compiler protobuf-compiler-grpc
  libprotobuf-dev)
vm=(qemu-system-x86 linux-image-amd64 cpio)  # pure cgroup v2 tests: scripts/cgroup-v2-qemu.sh
# Only for the benchmarks (`scripts/deps.sh bench`): big, so not installed by default.
bench=(debootstrap time linux-perf strace  # perf, strace: bench/startup/profile.sh
  netavark aardvark-dns)  # bench/network: podman's names on a network, the peer
# bench/proc: lxcfs, the FUSE /proc that --proc-virtualize is measured against.
bench+=(lxcfs)

want=("${build[@]}" "${tests[@]}" "${images[@]}" "${peers[@]}" "${engines[@]}" "${vm[@]}")
[ "${1:-}" = bench ] && want+=("${bench[@]}")
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The published CycloneDX JSON schemas (bom-1.5 with the spdx and jsf schemas it
# refers to) for the sbom tests, from the npm registry: no Debian package ships them.
npm_dir=/usr/local/share/husk/npm
npm_pkgs=(@cyclonedx/cyclonedx-library@10.3.0)
if [ ! -f "$npm_dir/node_modules/@cyclonedx/cyclonedx-library/res/schema/bom-1.5.SNAPSHOT.schema.json" ] &&
  command -v npm >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "deps.sh: npm install ${npm_pkgs[*]} into $npm_dir"
  npm install -s --prefix "$npm_dir" --no-audit --no-fund --ignore-scripts --omit=optional "${npm_pkgs[@]}" >/dev/null
fi
if [ ${#missing[@]} -ne 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  echo "deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the registry service on install; tests run their own on a free port.
  if command -v systemctl >/dev/null && systemctl is-active -q docker-registry 2>/dev/null; then
    systemctl stop docker-registry || true
  fi
fi

# Another platform's programs run through binfmt_misc: on a machine whose init did not mount
# it (no systemd), qemu-user-static's handlers (F flag: fix_binary) are not there until it is
# mounted and binfmt-support has imported them.
if [ "$(id -u)" = 0 ] && [ -d /proc/sys/fs/binfmt_misc ] && [ ! -e /proc/sys/fs/binfmt_misc/status ] &&
  command -v update-binfmts >/dev/null; then
  echo "deps.sh: mounting binfmt_misc and enabling binfmt-support's handlers"
  if mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; then
    update-binfmts --enable >/dev/null 2>&1 || echo "deps.sh: update-binfmts --enable failed" >&2
  fi
fi
