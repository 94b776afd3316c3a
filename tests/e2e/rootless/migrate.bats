#!/usr/bin/env bats
# The user's /etc/subuid and /etc/subgid range changing under a shifted store (issue 17):
# every command that opens the store says so in one line (the file, the old and new ranges,
# what to run), and `husk system migrate` gives the layers, container roots and volumes the
# new range's ids where newuidmap maps both ranges for the user; where it does not, one
# line and nothing changed. Killed at random moments, the next migrate finishes it.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
    rootless_setup
    export RL_USER RL_BARE RL_SUBID
    R1=$RL_SUBID
    R2=$((RL_SUBID + 131072))
    R3=$((RL_SUBID + 262144))
    export R1 R2 R3
    someone_image_tar "$WORK/owners.tar" 640 setuid sh stat cat touch chown ls id echo mkdir chmod sleep
    uh import "$WORK/owners.tar" rl/owners:1 >/dev/null
    # a stopped container whose upper dir and volume hold files of its uid 1000: its
    # command makes them once, then prints the owners it sees
    uh create --name mc --network none -v mvol:/vol rl/owners:1 sh -c \
        '[ -e /priv ] || { mkdir /priv && echo w >/priv/w && echo v >/vol/v &&
         chown 1000:1000 /priv /priv/w /vol/v && chmod 700 /priv; };
         stat -c "%u:%g" /priv/w /vol/v /home/someone/f' >/dev/null
    run uh start -a mc
    [ "$output" = "$(printf '1000:1000\n1000:1000\n1000:1000')" ]
}

teardown_file() {
    USERS=("$RL_USER" "$RL_BARE")
    rootless_teardown
}

uh() { as "$RL_USER" "$HUSK" "$@"; }

data_root() { echo "$WORK/home-$RL_USER/.local/share/husk"; }

# The user's ranges in /etc/subuid and /etc/subgid: START... (65536 ids each, first is used)
ranges() { set_ranges "$RL_USER" "$@"; }

# The host owner of the store's snapshot file, the container's and the volume's (one line).
host_owners() {
    local f w v
    f=$(find "$(data_root)/snapshots" -path '*/fs/home/someone/f')
    w=$(find "$(data_root)/rootfs" -path '*/upper/priv/w')
    v=$(find "$(data_root)/volumes" -path '*/_data/v')
    stat -c '%u:%g' "$f" "$w" "$v" | sort -u | tr '\n' ' '
}

# The owners are RANGE's 1000th id on the host and 1000 in the containers.
owners_are_of() {  # RANGE
    run host_owners
    echo "host: $output"
    [ "$output" = "$(($1 + 999)):$(($1 + 999)) " ]
    grep -q "^uid 1 $1 65536\$" "$(data_root)/owner-ranges"
    run uh start -a mc
    echo "container: $output"
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf '1000:1000\n1000:1000\n1000:1000')" ]
    run uh run --rm --network none rl/owners:1 stat -c '%u:%g %a' /home/someone/f /setuid
    echo "new container: $output"
    [ "${lines[0]}" = "1000:1000 640" ]
    [ "${lines[1]}" = "1000:1000 4755" ]
}

@test "rootless migrate: the changed range is said by every store command, migrate moves the owners" {
    ranges "$R2" "$R1" # the new range first (used), the old one still the user's
    run uh images
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(grep -c warning <<<"$output")" = 1 ]
    [[ "$output" == *"its files have the owners of uids $R1-$((R1 + 65535)) and gids $R1-$((R1 + 65535)) (owner-ranges)"* ]]
    [[ "$output" == *"/etc/subuid and /etc/subgid now give the user uids $R2-$((R2 + 65535))"*"run \`husk system migrate\`"* ]]
    # a layer unpacked meanwhile keeps its owners in records (the user's on the host)
    mkdir -p "$WORK/later/home/later"
    echo later >"$WORK/later/home/later/f"
    mkdir -p "$WORK/later/bin"
    cp /bin/busybox "$WORK/later/bin/"
    ln -sf busybox "$WORK/later/bin/stat"
    tar -C "$WORK/later" --numeric-owner --owner=1000 --group=1000 -cf "$WORK/later.tar" home
    tar -C "$WORK/later" --numeric-owner --owner=0 --group=0 -rf "$WORK/later.tar" bin
    chmod 644 "$WORK/later.tar"
    uh import "$WORK/later.tar" rl/later:1 >/dev/null 2>&1
    local later
    later=$(find "$(data_root)/snapshots" -path '*/fs/home/later/f')
    [ "$(stat -c %u "$later")" = "$(id -u "$RL_USER")" ]
    run uh system migrate
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "migrated \"$(data_root)\" to the uids and gids of /etc/subuid and /etc/subgid (1 container)" ]
    owners_are_of "$R2"
    [ "$(stat -c %u:%g "$later")" = "$((R2 + 999)):$((R2 + 999))" ] # its records applied
    run uh run --rm --network none rl/later:1 stat -c %u:%g /home/later/f
    [ "$output" = "1000:1000" ]
    run uh images
    [[ "$output" != *warning* ]]
    run uh system migrate
    [ "$output" = "nothing to migrate: the store's owners are those of the user's ranges" ]
    # nothing of the old range is left anywhere in the data root
    run find "$(data_root)" -uid "$((R1 + 999))"
    [ -z "$output" ]
}

# The store migrated to R2 (whatever the tests before did).
store_at_r2() {
    ranges "$R2" "$R1"
    uh system migrate >/dev/null
}

@test "rootless migrate: refused in one line when newuidmap no longer maps the old range" {
    store_at_r2
    ranges "$R3" # R2 (the store's now) is not the user's any more
    run uh system migrate
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == "husk: error: migrate: newuidmap refuses a namespace with both the old uids $R2-"*"/etc/subuid and /etc/subgid no longer give the user the old ones; have root give the user the old ranges too"*"or remove \"$(data_root)\" as root"* ]]
    grep -q "^uid 1 $R2 65536\$" "$(data_root)/owner-ranges"
    ranges "$R2"
    owners_are_of "$R2" # nothing changed
}

@test "rootless migrate: a running container of the old maps is refused in one line; nothing changed" {
    store_at_r2
    uh run -d --name busy --network none rl/owners:1 sleep 1000 >/dev/null
    ranges "$R1" "$R2"
    run uh system migrate
    echo "$output"
    [ "$status" -ne 0 ]
    [ "$output" = "husk: error: migrate: container busy is running: stop the user's containers first" ]
    grep -q "^uid 1 $R2 65536\$" "$(data_root)/owner-ranges"
    uh rm -f busy >/dev/null
    ranges "$R2"
    owners_are_of "$R2"
}

@test "rootless migrate: killed at random moments, the next migrate finishes it" {
    local i from=$R2 to=$R1
    store_at_r2
    for i in $(seq 6); do
        ranges "$to" "$from"
        as_exec "$RL_USER" "$HUSK" system migrate >/dev/null 2>&1 &
        wait_kill_moment "$RL_USER" "$i" 400
        # husk (the oldest); its namespace child, if any, must end by itself
        kill_oldest_and_wait "$RL_USER" "system migrate"
        echo "round $i: killed at $KILL_AT; left: ${KILL_LEFT:-none};" \
            "owner-ranges: $(grep '^uid 1 ' "$(data_root)/owner-ranges")"
        [ -z "$KILL_LEFT" ]
        run uh system migrate
        echo "$output"
        [ "$status" -eq 0 ]
        owners_are_of "$to"
        from=$to
        to=$([ "$to" = "$R1" ] && echo "$R2" || echo "$R1")
    done
    ranges "$from"
}
