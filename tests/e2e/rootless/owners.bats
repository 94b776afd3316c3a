#!/usr/bin/env bats
# An image's owners in a user's store (issue 17): with a /etc/subuid range, a user's
# layers are given the owners the image gives (container uid 1000 is the range's 1000th
# id on the host), as podman unpacks them; without a range they stay the user's (root in
# the container). The image: busybox and a 0700 /home/someone with a file, both 1000:1000,
# imported from a tarball the test writes.

bats_require_minimum_version 1.5.0
load helpers
load ../images/helpers

setup_file() {
    rootless_setup
    export RL_USER RL_BARE RL_SUBID
    someone_image_tar "$WORK/owners.tar" 640 setuid sh stat cat touch chown ls id echo
    if command -v docker-registry >/dev/null; then start_registry main; fi
}

teardown_file() {
    [ -f "${WORK:-/nonexistent}/reg-main/pid" ] && kill "$(cat "$WORK/reg-main/pid")" 2>/dev/null
    USERS=("$RL_USER" "$RL_BARE")
    rootless_teardown
}

# The range-moved test's /etc/subuid and /etc/subgid back, whatever stopped it.
teardown() {
    if [ -f "$WORK/subuid.kept" ]; then
        cp "$WORK/subuid.kept" /etc/subuid
        cp "$WORK/subgid.kept" /etc/subgid
        rm -f "$WORK/subuid.kept" "$WORK/subgid.kept"
    fi
}

# husk as the test's user with a range, and as the one without
uh() { as "$RL_USER" "$HUSK" "$@"; }
ub() { as "$RL_BARE" "$HUSK" "$@"; }

data_root() { echo "$WORK/home-$1/.local/share/husk"; }

# What of USER's data root is not USER's on the host (one path a line).
not_the_users() {
    find "$(data_root "$1")" ! -user "$1" -print 2>/dev/null
}

# `image prune -a` as the user with a range succeeds and leaves no snapshot, nothing in
# tmp/ and nothing of the range's ids.
prune_leaves_nothing() {
    run uh image prune -a -f
    echo "$output"
    [ "$status" -eq 0 ]
    run not_the_users "$RL_USER"
    echo "$output"
    [ -z "$output" ]
    [ -z "$(ls -A "$(data_root "$RL_USER")/snapshots")" ]
    [ -z "$(ls -A "$(data_root "$RL_USER")/tmp")" ]
}

@test "rootless: an image's owners are the container's, the range's ids on the host" {
    uh import "$WORK/owners.tar" rl/owners:1 >/dev/null
    run uh run --rm --network none rl/owners:1 stat -c '%u:%g %a' /home/someone/f /home/someone /setuid
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "1000:1000 640" ]
    [ "${lines[1]}" = "1000:1000 700" ]
    [ "${lines[2]}" = "1000:1000 4755" ] # chown clears set-id bits: given back
    run uh run --rm --network none rl/owners:1 cat /home/someone/f
    [ "$output" = "someone's" ]
    # on the host: the range's 1000th id, and no record left on the file
    local f
    f=$(find "$(data_root "$RL_USER")/snapshots" -path '*/fs/home/someone/f')
    [ "$(stat -c '%u:%g' "$f")" = "$((RL_SUBID + 999)):$((RL_SUBID + 999))" ]
    run python3 -c 'import os, sys; print(os.listxattr(sys.argv[1]))' "$f"
    [[ "$output" != *override_stat* ]]
    grep -q "^uid 1 $RL_SUBID 65536\$" "$(data_root "$RL_USER")/owner-ranges"
}

@test "rootless: a commit of a container of it keeps 1000 in the new layer, shifted once" {
    uh run --name owned --network none rl/owners:1 sh -c \
        'echo new >/home/someone/new && chown 1000:1000 /home/someone/new'
    run uh commit owned rl/owners:2
    echo "$output"
    [ "$status" -eq 0 ]
    uh rm owned
    uh save -o "$WORK/home-$RL_USER/owners2.tar" rl/owners:2
    run top_layer_entries "$WORK/home-$RL_USER/owners2.tar"
    echo "$output"
    [[ "$output" == *"home/someone 1000:1000 0700"* ]]
    [[ "$output" == *"home/someone/new 1000:1000 0644"* ]]
    run uh run --rm --network none rl/owners:2 stat -c '%u:%g' /home/someone/new /home/someone/f
    echo "$output"
    [ "${lines[0]}" = "1000:1000" ]
    [ "${lines[1]}" = "1000:1000" ]
    # the committed layer's snapshot holds the range's 1000th id, not a second shift of it
    local f
    f=$(find "$(data_root "$RL_USER")/snapshots" -path '*/fs/home/someone/new')
    [ "$(stat -c '%u' "$f")" = "$((RL_SUBID + 999))" ]
}

@test "rootless: rmi and image prune of it leave nothing of the range's ids" {
    [ -n "$(not_the_users "$RL_USER")" ] # the shifted snapshots
    run uh rmi rl/owners:2 rl/owners:1
    echo "$output"
    [ "$status" -eq 0 ]
    prune_leaves_nothing
}

# /etc/subuid giving the user another range than the store's layers were shifted for: a
# new layer is not shifted (its files would be of ids the store's others are not), and one
# line says so and what to do.
@test "rootless: a new layer after the user's range moved stays the user's, with a warning" {
    grep -q "^uid 1 $RL_SUBID 65536\$" "$(data_root "$RL_USER")/owner-ranges"
    mkdir -p "$WORK/moved/home/other"
    echo other >"$WORK/moved/home/other/f"
    tar -C "$WORK/moved" --numeric-owner --owner=1000 --group=1000 -cf "$WORK/moved.tar" home
    chmod 644 "$WORK/moved.tar"
    cp /etc/subuid "$WORK/subuid.kept"
    cp /etc/subgid "$WORK/subgid.kept"
    sed -i "s/^$RL_USER:.*/$RL_USER:$((RL_SUBID + 131072)):65536/" /etc/subuid /etc/subgid
    run uh import "$WORK/moved.tar" rl/moved:1
    teardown  # the ranges back at once (and by bats' teardown should this test stop early)
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"warning: image store"*"(owner-ranges)"*"new layers stay the user's"* ]]
    local f
    f=$(find "$(data_root "$RL_USER")/snapshots" -path '*/fs/home/other/f')
    [ "$(stat -c '%u' "$f")" = "$(id -u "$RL_USER")" ]
    uh rmi rl/moved:1 >/dev/null
}

# Without a range the container has one id: the user, its root. Files stay the user's
# (the owners kept in records, not applied), so root's in the container.
@test "rootless: without a range an image's owners stay the user's, root in the container" {
    ub import "$WORK/owners.tar" rl/owners:1 >/dev/null
    run ub run --rm --network none rl/owners:1 stat -c '%u:%g' /home/someone/f
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = "0:0" ]
    run not_the_users "$RL_BARE"
    [ -z "$output" ]
    [ ! -e "$(data_root "$RL_BARE")/owner-ranges" ]
    ub rmi rl/owners:1
}

# husk killed while it pulls (downloading, unpacking, giving the staged layers their owners
# in the namespace, renaming): what it left in tmp/ is the range's ids' too; image prune
# removes it through the namespace and nothing is left.
@test "rootless kill: a pull killed at random moments, then image prune, leaves nothing" {
    [ -n "${REG_main:-}" ] || skip "docker-registry is not installed (scripts/deps.sh installs it)"
    local ref=$REG_main/rl/owners:k i ms left
    uh import "$WORK/owners.tar" rl/owners:k >/dev/null
    uh tag rl/owners:k "$ref"
    uh push --tls-verify=false "$ref" >/dev/null
    uh rmi "$ref" rl/owners:k >/dev/null
    uh image prune -a -f >/dev/null
    for i in $(seq 1 8); do
        as "$RL_USER" "$HUSK" pull --tls-verify=false "$ref" >/dev/null 2>&1 &
        if [ $((i % 2)) -eq 0 ]; then
            ms=$((RANDOM % 400))
            sleep "$(printf '0.%03d' "$ms")"
        else
            # while the staged layers get their owners: newuidmap sets the child's maps
            ms=newuidmap
            for _ in $(seq 2000); do
                pgrep -U "$RL_USER" -x newuidmap >/dev/null && break
                kill -0 $! 2>/dev/null || break  # the pull ended first
            done
        fi
        pkill -9 -o -u "$RL_USER" -f -- "pull --tls-verify=false $ref\$" || true
        wait || true
        for _ in $(seq 50); do # its child in the namespace dies with it
            left=$(pgrep -u "$RL_USER" -f -- "pull --tls-verify=false $ref\$" || true)
            [ -z "$left" ] && break
            sleep 0.1
        done
        echo "round $i: killed at $ms ms; left: ${left:-none}"
        [ -z "$left" ]
        uh rmi "$ref" >/dev/null 2>&1 || true # when it had finished
    done
    prune_leaves_nothing
}

@test "rootless: sbom of an image and a container whose files the range's ids keep from the user" {
    uh import "$WORK/owners.tar" rl/owners:sbom >/dev/null
    # /home/someone is 0700 of uid 1000 (the range's id on the host): the user reads it
    # from a namespace with the range's maps
    run uh sbom --format json rl/owners:sbom
    echo "$output" | head -c 2000
    [ "$status" -eq 0 ]
    image_files=$(jq -r ".files.total" <<<"$output")
    [ "$image_files" -ge 11 ] # busybox, its 8 links, /home/someone/f, /setuid
    cid=$(uh create --network none rl/owners:sbom true)
    run uh sbom --format json "$cid"
    [ "$status" -eq 0 ]
    [ "$(jq -r ".files.total" <<<"$output")" = "$image_files" ]
    uh rm "$cid" >/dev/null
}
