#!/usr/bin/env bats
# husk build next to podman build (buildah), and husk build killed at random moments.

load helpers

setup_file() { build_setup; }
teardown_file() {
    if [ -n "${WORK:-}" ] && command -v podman >/dev/null; then
        pm image umount -a >/dev/null 2>&1 || true
        pm rmi -af >/dev/null 2>&1 || true
    fi
    build_teardown
}
setup() { [ -n "${WORK:-}" ] || skip "no data root (see setup_file)"; rm -rf "$CTX"; mkdir -p "$CTX"; }

# podman on its own storage under WORK; runc (crun refuses this machine's hybrid cgroups).
pm() {
    podman --root "$WORK/podman/root" --runroot "$WORK/podman/run" --tmpdir "$WORK/podman/tmp" \
        --cgroup-manager cgroupfs --events-backend file --runtime runc "$@"
}

# Path, mode, owner, size and link target of every file under DIR, less the root itself
# and what buildah's RUN leaves as mount targets (/etc/hostname, /run).
tree_of() {
    (cd "$1" && find . -printf '%p %m %U %G %s %l\n' | sort |
        grep -v -e '^\. ' -e '^\./etc/hostname ' -e '^\./run ')
}

@test "the same Dockerfile built by podman build and husk build gives the same file tree" {
    command -v podman >/dev/null || skip "podman is not installed"
    command -v runc >/dev/null || skip "runc is not installed (podman's runtime here)"
    mkdir -p "$WORK/podman/tmp" "$CTX/dir/sub"
    echo data >"$CTX/f"
    echo x >"$CTX/dir/sub/x"
    ln -s sub/x "$CTX/dir/link"
    echo ignored >"$CTX/dir/junk.tmp"
    echo '**/*.tmp' >"$CTX/.dockerignore"
    cat >"$CTX/Dockerfile" <<'DF'
FROM husk/busybox
COPY f /f
COPY --chown=1:2 dir /opt/dir/
WORKDIR /srv/w
RUN mkdir -p /out && echo built > /out/x && rm /bin/ls && chmod 700 /out
ENV A=1
DF
    husk save husk/busybox -o "$WORK/busybox.tar"
    pm load -q -i "$WORK/busybox.tar" >/dev/null
    run pm build --network none -q -t peer "$CTX"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run husk build --network none -q -t peer "$CTX"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    pdir=$(pm image mount peer)
    hdir=$(husk image mount peer)
    tree_of "$pdir" >"$WORK/podman.tree"
    tree_of "$hdir" >"$WORK/husk.tree"
    pm image umount peer >/dev/null
    husk image unmount peer >/dev/null
    diff "$WORK/podman.tree" "$WORK/husk.tree"
    grep -q '^\./opt/dir/sub/x 644 1 2 2 $' "$WORK/husk.tree"
    ! grep -q junk.tmp "$WORK/husk.tree" || false
}

@test "husk build killed at random moments leaves nothing the next build cannot clean" {
    cat >"$CTX/Dockerfile" <<'DF'
FROM husk/busybox
RUN sleep 0.3; echo one > /one
COPY Dockerfile /
RUN sleep 0.3; echo two > /two
RUN <<EOF
#!/bin/sh
sleep 0.3; echo three > /three
EOF
COPY <<EOF /four
four
EOF
DF
    for delay in 0.2 0.5 0.9 1.4 1.9; do
        "$HUSK" --root "$ROOT" build --no-cache --network none -q "$CTX" >/dev/null 2>&1 &
        pid=$!
        sleep "$delay"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    run husk build --network none -t after-kill "$CTX"
    echo "$output"
    [ "$status" -eq 0 ]
    run build_leftovers
    echo "$output"
    [ -z "$output" ]
    run husk run --rm --network none after-kill cat /one /two /three /four
    [ "$output" = $'one\ntwo\nthree\nfour' ]
}

@test "a concurrent build removes only a killed build's step containers, never a live one's" {
    # a step container as a live build holds it (its lock taken), and one a killed build left
    husk create --name husk-build-live --network none husk/busybox true >/dev/null
    husk create --name husk-build-dead --network none husk/busybox true >/dev/null
    # (a live build holds the store's lock shared too: no one sweeps tmp/ meanwhile)
    exec {store}>>"$ROOT/store.lock"
    flock -s "$store"
    exec {held}>"$ROOT/tmp/husk-build-live.lock"
    flock -x "$held"
    : >"$ROOT/tmp/husk-build-gone.lock"  # a build killed before its container existed
    printf 'FROM husk/busybox\nLABEL other=build\n' >"$CTX/Dockerfile"
    run husk build -q "$CTX"
    echo "$output"
    [ "$status" -eq 0 ]
    run husk ps -a --format '{{.Names}}'
    [[ "$output" == *husk-build-live* ]]
    [[ "$output" != *husk-build-dead* ]]
    [ -e "$ROOT/tmp/husk-build-live.lock" ]
    [ ! -e "$ROOT/tmp/husk-build-gone.lock" ]
    exec {held}>&- {store}>&-
    run husk build -q "$CTX"
    [ "$status" -eq 0 ]
    run build_leftovers
    echo "$output"
    [ -z "$output" ]
}
