# Shared by the build e2e tests: a private data root under /tmp/build-e2e-* holding
# husk/busybox (scripts/make-busybox-image.sh), and a build context to fill in.

: "${HUSK:?HUSK must name the husk binary}"
: "${HUSK_SRC:?HUSK_SRC must name the source tree}"

build_setup() {
    [ "$(id -u)" = 0 ] || skip "building images runs containers: needs root"
    [ -x /bin/busybox ] || skip "busybox-static is not installed (scripts/deps.sh installs it)"
    WORK=$(mktemp -d /tmp/build-e2e-XXXXXX)
    chmod 755 "$WORK"
    export WORK ROOT=$WORK/root CTX=$WORK/ctx
    mkdir -p "$CTX"
    bash "$HUSK_SRC/scripts/make-busybox-image.sh" --root "$ROOT" --husk "$HUSK" >/dev/null
}

build_teardown() {
    [ -n "${WORK:-}" ] || return 0
    local ids
    ids=$(husk ps -aq --no-trunc 2>/dev/null || true)
    [ -z "$ids" ] || husk rm -f $ids >/dev/null 2>&1 || true
    findmnt -rn -o TARGET | grep "^$WORK/" | sort -r | while read -r m; do umount -l "$m"; done
    rm -rf "$WORK"
}

husk() { python3 "$HUSK_SRC/scripts/subreaper.py" "$HUSK" --root "$ROOT" "$@"; }

# What a build must not leave behind: step containers, step roots, mounts, staging.
build_leftovers() {
    husk ps -a --format '{{.Names}}' 2>/dev/null | grep '^husk-build-' || true
    ls -d "$ROOT"/rootfs/build-* 2>/dev/null || true
    findmnt -rn -o TARGET | grep "^$ROOT/" || true
    ls "$ROOT/tmp" 2>/dev/null | grep -v '^partial-' || true
}

image_id() { husk image inspect "$1" | sed -n 's/^    "Id": "\(.*\)",$/\1/p'; }
