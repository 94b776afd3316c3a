#!/usr/bin/env bats
# `husk run` as an ordinary user: its own data root and state, a user namespace per
# container (the user as root, plus its /etc/subuid range through newuidmap), --network
# none and host, limits refused where no cgroup is delegated, and bad set-ups refused
# with one line.

load helpers

setup() { rootless_setup; }
teardown() { rootless_teardown; }

@test "husk info as a user names rootless mode and the user's paths" {
    run as "$RL_BARE" "$HUSK" info --format '{{.Rootless}} {{.DockerRootDir}} {{.StateRoot}} {{.ConfigDir}}'
    [ "$status" -eq 0 ]
    local h=$WORK/home-$RL_BARE
    [ "$output" = "true $h/.local/share/husk $WORK/xdg-$RL_BARE/husk $h/.config/husk" ]
    run "$HUSK" info --format '{{.Rootless}} {{.DockerRootDir}} {{.StateRoot}}'
    [ "$output" = "false /var/lib/husk /run/husk" ]
}

@test "a user with a subuid range: root inside, the user and its range outside" {
    load_busybox "$RL_USER"
    [ -d "$WORK/home-$RL_USER/.local/share/husk/blobs" ]
    run as "$RL_USER" "$HUSK" run --rm --network none husk/busybox \
        sh -c 'id -u; cat /proc/self/uid_map'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 0 ]
    local uid
    uid=$(id -u "$RL_USER")
    [ "$(echo "${lines[1]}" | tr -s ' ' | sed 's/^ //')" = "0 $uid 1" ]
    [ "$(echo "${lines[2]}" | tr -s ' ' | sed 's/^ //')" = "1 $RL_SUBID 65536" ]
    # nothing of it left
    [ -z "$(as "$RL_USER" "$HUSK" ps -aq)" ]
}

@test "a user without a range: the user alone as root, with a note" {
    load_busybox "$RL_BARE"
    run as "$RL_BARE" "$HUSK" run --rm --network none husk/busybox cat /proc/self/uid_map
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == *"note: user $RL_BARE has no range in /etc/subuid"* ]]
    [ "$(echo "${lines[1]}" | tr -s ' ' | sed 's/^ //')" = "0 $(id -u "$RL_BARE") 1" ]
}

@test "a file the container's root writes to a volume belongs to the user on the host" {
    load_busybox "$RL_USER"
    mkdir "$WORK/vol"
    chown "$RL_USER:" "$WORK/vol"
    run as "$RL_USER" "$HUSK" run --rm --network none -v "$WORK/vol:/data" husk/busybox \
        sh -c 'echo hi >/data/f; stat -c %u /data/f'
    [ "$status" -eq 0 ]
    [ "$output" = 0 ]
    [ "$(stat -c %U "$WORK/vol/f")" = "$RL_USER" ]
}

@test "--network host works rootless; the default is pasta's network, a missing user network is named" {
    load_busybox "$RL_BARE"
    run as "$RL_BARE" "$HUSK" run --rm --network host husk/busybox true
    [ "$status" -eq 0 ]
    if command -v pasta >/dev/null; then
        # a user without a subuid range gets it too: eth0 configured by pasta
        run as "$RL_BARE" "$HUSK" run --rm husk/busybox sh -c 'ip -o -4 addr show eth0 | wc -l'
        echo "$output"
        [ "$status" -eq 0 ]
        [ "${lines[-1]}" = 1 ]
    fi
    run as "$RL_BARE" "$HUSK" run --rm --network somenet husk/busybox true
    [ "$status" -ne 0 ]
    [[ "$output" == *"network somenet not found"* ]]
    [ "${#lines[@]}" -eq 1 ]
    [ -z "$(as "$RL_BARE" "$HUSK" ps -aq)" ]
}

@test "--memory without a delegated cgroup is refused with why; no limit runs" {
    load_busybox "$RL_BARE"
    run as "$RL_BARE" "$HUSK" run --rm --network none --memory 64m husk/busybox true
    [ "$status" -ne 0 ]
    [[ "$output" == *"no cgroup holding the memory controller is writable"* ]]
    [ -z "$(as "$RL_BARE" "$HUSK" ps -aq)" ]
    [ -z "$(ls -A "$WORK/xdg-$RL_BARE/husk" 2>/dev/null | grep -v '^\.')" ]
}

@test "a subuid range without a subgid range is refused naming /etc/subgid" {
    load_busybox "$RL_USER"
    edit_subids /etc/subgid "$RL_USER"
    run as "$RL_USER" "$HUSK" run --rm --network none husk/busybox true
    [ "$status" -ne 0 ]
    [[ "$output" == *"has a range in /etc/subuid but none in /etc/subgid"* ]]
    [ "${#lines[@]}" -eq 1 ]
    [ -z "$(as "$RL_USER" "$HUSK" ps -aq)" ]
}

@test "a user cannot reach another user's containers or images" {
    load_busybox "$RL_USER"
    as "$RL_USER" "$HUSK" run -d --name mine --network none husk/busybox sleep 1000 >/dev/null
    run as "$RL_BARE" "$HUSK" ps -aq
    [ -z "$output" ]
    run as "$RL_BARE" "$HUSK" --root "$WORK/home-$RL_USER/.local/share/husk" rm -f mine
    [ "$status" -ne 0 ]
    run as "$RL_BARE" "$HUSK" --root "$WORK/home-$RL_USER/.local/share/husk" images
    [ "$status" -ne 0 ]
    run as "$RL_USER" "$HUSK" ps --format '{{.Names}}'
    [ "$output" = mine ]
}

@test "husk run as a user killed at random moments: rm -f then leaves nothing" {
    load_busybox "$RL_USER"
    local uid gid i data=$WORK/home-$RL_USER/.local/share/husk
    uid=$(id -u "$RL_USER")
    gid=$(id -g "$RL_USER")
    for i in 1 2 3 4 5 6; do
        # setpriv execs: $! is husk itself
        (cd "$WORK" && exec setpriv --reuid "$uid" --regid "$gid" --clear-groups \
            env -i PATH=/usr/bin:/bin HOME="$WORK/home-$RL_USER" XDG_RUNTIME_DIR="$WORK/xdg-$RL_USER" \
            "$HUSK" run --network none --name "k$i" husk/busybox sleep 1000 </dev/null >/dev/null 2>&1) &
        local bg=$!
        sleep "0.$((RANDOM % 4))$((RANDOM % 10))"  # a random moment of its start
        kill -KILL "$bg" 2>/dev/null || true
        wait "$bg" || true
    done
    as "$RL_USER" "$HUSK" ps -aq | while read -r id; do as "$RL_USER" "$HUSK" rm -f "$id" >/dev/null; done
    [ -z "$(as "$RL_USER" "$HUSK" ps -aq)" ]
    [ -z "$(ls -A "$data/rootfs" 2>/dev/null)" ]
    [ -z "$(ls -A "$WORK/xdg-$RL_USER/husk" 2>/dev/null | grep -v '^\.')" ]
    # nothing of the user's left running (zombies of killed runs wait for a reaper: this
    # machine's PID 1 reaps none)
    [ -z "$(ps -o stat= -u "$RL_USER" | grep -v '^Z')" ]
}
