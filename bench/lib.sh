# shellcheck shell=bash
# Shared by the benchmarks (sourced): clean-up of a work directory and the one busybox
# image every engine benchmark runs, loaded into husk's and podman's stores alike.

# umount_under DIR: lazily unmounts everything mounted below DIR, deepest first.
umount_under() {
    { findmnt -rn -o TARGET | grep "^$1/" || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
}

# busybox_for_both WORK HUSK PODMAN...: makes husk/busybox in $WORK/husk (husk's root) with
# scripts/make-busybox-image.sh and loads the same archive into podman (the command given,
# with its flags) as localhost/husk/busybox:latest.
busybox_for_both() {
    local work=$1 husk=$2
    shift 2
    bash "$(dirname "${BASH_SOURCE[0]}")/../scripts/make-busybox-image.sh" --root "$work/husk" \
        --husk "$husk" -o "$work/busybox.tar" >/dev/null
    "$@" load -q -i "$work/busybox.tar" >/dev/null
    "$@" tag "$("$@" images -q | head -1)" localhost/husk/busybox:latest
}
