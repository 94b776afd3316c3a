# Shared by the `husk run` e2e tests: a private data root under /tmp/run-e2e-*
# holding husk/busybox, removed (mounts, records, runtime state) by run_teardown.

: "${HUSK:?HUSK must name the husk binary}"
: "${HUSK_SRC:?HUSK_SRC must name the source tree}"

run_setup() {
    [ "$(id -u)" = 0 ] || skip "husk run needs root"
    [ -x /bin/busybox ] || skip "busybox-static is not installed (scripts/deps.sh installs it)"
    WORK=$(mktemp -d /tmp/run-e2e-XXXXXX)
    chmod 755 "$WORK"  # user-namespaced containers open their root through it
    export WORK
    export ROOT=$WORK/root
    bash "$HUSK_SRC/scripts/make-busybox-image.sh" --root "$ROOT" --husk "$HUSK" >/dev/null
}

run_teardown() {
    [ -n "${WORK:-}" ] || return 0
    # containers left by tests that ran without --rm: their roots are still mounted
    findmnt -rn -o TARGET | grep "^$WORK/" | sort -r | while read -r m; do umount -l "$m"; done
    rm -rf "$WORK"
}

husk() { "$HUSK" --root "$ROOT" "$@"; }

# Removes every container of the data root (rm -f: detached ones are stopped first).
remove_containers() {
    local id
    for id in $(ls -A "$ROOT/containers" 2>/dev/null | grep -v '^\.lock$'); do
        husk rm -f "$id" >/dev/null 2>&1 || true
    done
}

# A TCP port free on 127.0.0.1 now (the kernel's pick).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# What a failed `husk run` must not leave behind: records, roots, runtime state, cgroups.
leftovers() {
    ls -A "$ROOT/containers" 2>/dev/null | grep -v '^\.lock$' || true
    ls -A "$ROOT/rootfs" 2>/dev/null || true
    ls "$ROOT/run" 2>/dev/null || true  # not .seccomp-cache
    for id in $(ls -A "$ROOT/containers" 2>/dev/null | grep -v '^\.lock$'); do
        cgroups_of "$id"
    done
}

# A tree with busybox and a link per applet: what the classic demos unpack.
busybox_tree() {
    local dir=$1
    mkdir -p "$dir/bin" "$dir/etc" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/tmp"
    cp /bin/busybox "$dir/bin/busybox"
    for a in $(/bin/busybox --list); do
        [ -e "$dir/bin/$a" ] || ln -s busybox "$dir/bin/$a"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
    echo 'root:x:0:' >"$dir/etc/group"
}

# The id of the only container whose record names NAME.
container_id() {
    grep -l "\"name\": \"$1\"" "$ROOT"/containers/*/container.json | head -1 | xargs dirname | xargs basename
}

# derived_image NAME JQ: husk/busybox with its image config changed by the jq filter JQ
# (e.g. '.config.Volumes = {"/data": {}}'), loaded into $ROOT as NAME:latest.
derived_image() {
    local name=$1 filter=$2 x=$WORK/oci-$RANDOM
    [ -f "$WORK/bb.tar" ] ||
        bash "$HUSK_SRC/scripts/make-busybox-image.sh" --root "$ROOT" --husk "$HUSK" -o "$WORK/bb.tar" >/dev/null
    mkdir -p "$x" && tar -xf "$WORK/bb.tar" -C "$x"
    blob() { echo "$x/blobs/sha256/${1#sha256:}"; }
    local m c mj cj
    m=$(jq -r '.manifests[0].digest' "$x/index.json")
    c=$(jq -r '.config.digest' "$(blob "$m")")
    jq -c "$filter" "$(blob "$c")" >"$x/config.json"
    cj=sha256:$(sha256sum "$x/config.json" | cut -d' ' -f1)
    cp "$x/config.json" "$(blob "$cj")"
    jq -c --arg d "$cj" --argjson s "$(stat -c %s "$x/config.json")" \
        '.config.digest = $d | .config.size = $s' "$(blob "$m")" >"$x/manifest.json"
    mj=sha256:$(sha256sum "$x/manifest.json" | cut -d' ' -f1)
    cp "$x/manifest.json" "$(blob "$mj")"
    jq -c --arg d "$mj" --argjson s "$(stat -c %s "$x/manifest.json")" --arg n "$name:latest" \
        '.manifests[0].digest = $d | .manifests[0].size = $s |
         .manifests[0].annotations["org.opencontainers.image.ref.name"] = $n' \
        "$x/index.json" >"$x/index.new" && mv "$x/index.new" "$x/index.json"
    rm -f "$x/config.json" "$x/manifest.json"
    tar -cf "$x.tar" -C "$x" .
    "$HUSK" --root "$ROOT" load -i "$x.tar" >/dev/null
    rm -rf "$x" "$x.tar"
}

# Where the host mounts the cgroup v1 hierarchy holding controller $1 (nothing on a pure
# cgroup2 host), as its mount table says (the layout runtime/cgroup reads).
cgroup_v1_mount() { findmnt -rn -t cgroup -O "$1" -o TARGET | head -n1; }

# The container's cgroup directories in every cgroup hierarchy the host mounts (v1
# controllers on hybrid hosts, cgroup2 wherever it is: pure v2 hosts have no
# /sys/fs/cgroup/<controller>/).
cgroups_of() {
    local m
    for m in $(findmnt -rn -t cgroup,cgroup2 -o TARGET); do
        ls -d "$m/husk/$1" 2>/dev/null || true
    done
}
