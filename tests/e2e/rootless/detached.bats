#!/usr/bin/env bats
# Detached containers of an ordinary user: run -d, logs, exec, ps, stop, rm, and a named
# volume, all as that user, in its own store.

load helpers

setup() { rootless_setup; }
teardown() { rootless_teardown; }

@test "run -d, logs, exec, ps, stop and rm as a user" {
    load_busybox "$RL_USER"
    run as "$RL_USER" "$HUSK" run -d --name web --network none husk/busybox \
        sh -c 'echo started; exec sleep 1000'
    echo "$output"
    [ "$status" -eq 0 ]
    run as "$RL_USER" "$HUSK" ps --format '{{.Names}} {{.Status}}'
    [[ "$output" == "web Up"* ]]
    run as "$RL_USER" "$HUSK" exec web sh -c 'id -u; cat /proc/self/uid_map'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 0 ]
    [ "$(echo "${lines[1]}" | tr -s ' ' | sed 's/^ //')" = "0 $(id -u "$RL_USER") 1" ]
    run as "$RL_USER" "$HUSK" logs web
    [ "$output" = started ]
    run as "$RL_USER" "$HUSK" stop -t 1 web
    [ "$status" -eq 0 ]
    run as "$RL_USER" "$HUSK" ps -a --format '{{.Names}} {{.Status}}'
    [[ "$output" == "web Exited"* ]]
    run as "$RL_USER" "$HUSK" rm web
    [ "$status" -eq 0 ]
    [ -z "$(as "$RL_USER" "$HUSK" ps -aq)" ]
    [ -z "$(ls -A "$WORK/xdg-$RL_USER/husk" 2>/dev/null | grep -v '^\.')" ]
}

@test "a named volume of a user is the user's on the host and outlives the container" {
    load_busybox "$RL_USER"
    run as "$RL_USER" "$HUSK" run --rm --network none -v data:/data husk/busybox \
        sh -c 'echo kept >/data/f'
    [ "$status" -eq 0 ]
    local f
    f=$(find "$WORK/home-$RL_USER/.local/share/husk/volumes" -name f -type f)
    [ -n "$f" ]
    [ "$(stat -c %U "$f")" = "$RL_USER" ]
    run as "$RL_USER" "$HUSK" run --rm --network none -v data:/data husk/busybox cat /data/f
    [ "$output" = kept ]
}
