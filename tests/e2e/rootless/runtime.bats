#!/usr/bin/env bats
# husk-runtime as an ordinary user, as runc runs rootless: a `spec --rootless` bundle
# (a user namespace mapping the caller alone), its state under $XDG_RUNTIME_DIR, no
# cgroup where none is writable (this host's v1 hierarchies are not delegated).

load helpers

setup() { rootless_setup; }
teardown() { rootless_teardown; }

@test "a spec --rootless bundle runs as a user: root inside, the user in uid_map" {
    rootless_bundle "$RL_BARE" "$WORK/b" sh -c 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map'
    run as "$RL_BARE" "$HUSK_RUNTIME" run --bundle "$WORK/b" c1
    echo "$output"
    [ "$status" -eq 0 ]
    local uid gid
    uid=$(id -u "$RL_BARE")
    gid=$(id -g "$RL_BARE")
    [ "${lines[0]}" = 0 ]
    [ "${lines[1]}" = 0 ]
    [ "$(echo "${lines[2]}" | tr -s ' ' | sed 's/^ //')" = "0 $uid 1" ]
    [ "$(echo "${lines[3]}" | tr -s ' ' | sed 's/^ //')" = "0 $gid 1" ]
}

@test "the state of a user's containers is under its XDG_RUNTIME_DIR, not /run" {
    rootless_bundle "$RL_BARE" "$WORK/b" sleep 1000
    # its stdio is the container's: not bats' pipe, which would stay open
    as "$RL_BARE" "$HUSK_RUNTIME" create --bundle "$WORK/b" c2 </dev/null >/dev/null 2>&1
    [ -d "$WORK/xdg-$RL_BARE/husk-runtime/c2" ]
    [ ! -e /run/husk-runtime/c2 ]
    run as "$RL_BARE" "$HUSK_RUNTIME" state c2
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r .status)" = created ]
    # another user does not see it, and cannot reach it by --root
    run as "$RL_USER" "$HUSK_RUNTIME" list -q
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    run as "$RL_USER" "$HUSK_RUNTIME" --root "$WORK/xdg-$RL_BARE/husk-runtime" kill c2 9
    [ "$status" -ne 0 ]
    run as "$RL_BARE" "$HUSK_RUNTIME" delete --force c2
    echo "$output"
    [ "$status" -eq 0 ]
    [ -z "$(ls -A "$WORK/xdg-$RL_BARE/husk-runtime")" ]
}

@test "without XDG_RUNTIME_DIR the state goes to a private directory in /tmp" {
    rootless_bundle "$RL_BARE" "$WORK/b" true
    local uid dir
    uid=$(id -u "$RL_BARE")
    dir=/tmp/husk-run-$uid
    rm -rf "$dir"
    run runuser -u "$RL_BARE" -- env -i PATH=/usr/bin:/bin HOME="$WORK/home-$RL_BARE" \
        "$HUSK_RUNTIME" run --bundle "$WORK/b" c3
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == *"note: \$XDG_RUNTIME_DIR is not set; runtime state is kept in $dir"* ]]
    [ "$(stat -c '%U %a' "$dir")" = "$RL_BARE 700" ]
    rm -rf "$dir"
    # a directory of that name made by someone else is refused, with what to do
    mkdir -m 777 "$dir"
    run runuser -u "$RL_BARE" -- env -i PATH=/usr/bin:/bin HOME="$WORK/home-$RL_BARE" \
        "$HUSK_RUNTIME" run --bundle "$WORK/b" c3
    [ "$status" -ne 0 ]
    [[ "$output" == *"$dir is not a private directory"*XDG_RUNTIME_DIR* ]]
    [ "${#lines[@]}" -eq 1 ]
    rmdir "$dir"
}

@test "a rootless bundle asking for a memory limit is refused with why, leaving nothing" {
    rootless_bundle "$RL_BARE" "$WORK/b" true
    jq '.linux.resources = {"memory": {"limit": 67108864}}' "$WORK/b/config.json" >"$WORK/c.json"
    mv "$WORK/c.json" "$WORK/b/config.json"
    chown "$RL_BARE:" "$WORK/b/config.json"
    run as "$RL_BARE" "$HUSK_RUNTIME" run --bundle "$WORK/b" c4
    if [ "$status" -eq 0 ]; then
        skip "this host delegates a writable memory cgroup to users"
    fi
    [[ "$output" == *"no cgroup holding the memory controller is writable"* ]]
    [ "${#lines[@]}" -eq 1 ]
    [ -z "$(ls -A "$WORK/xdg-$RL_BARE/husk-runtime" 2>/dev/null | grep -v '^\.')" ]
}

@test "a user's run tries the read-only re-exec of husk-runtime once (the entry point's finding is kept)" {
    # As a user there is no CAP_SYS_ADMIN: open_tree of /proc/self/exe fails with EPERM.
    # The ELF entry point finds that out before the C library starts; main() and create's
    # own check must not try again (each try is an open_tree).
    command -v strace >/dev/null || skip "strace is not installed"
    rootless_bundle "$RL_BARE" "$WORK/b" true
    local trace=$WORK/home-$RL_BARE/trace
    run as "$RL_BARE" strace -f -qq -o "$trace" -e trace=open_tree \
        "$HUSK_RUNTIME" run --bundle "$WORK/b" c5
    echo "$output"
    [ "$status" -eq 0 ]
    cat "$trace"
    [ "$(grep -c 'open_tree(AT_FDCWD, "/proc/self/exe"' "$trace")" -eq 1 ]
    grep -q 'open_tree(AT_FDCWD, "/proc/self/exe".*EPERM' "$trace"
}
