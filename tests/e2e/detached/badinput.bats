#!/usr/bin/env bats
# Bad input to the container verbs: one clear line, docker's exit code, nothing changed.

load helpers

setup_file() { detached_setup; }
teardown_file() { detached_teardown; }
teardown() { remove_all_containers; }

@test "exec into a stopped container: 1, one line, nothing changed" {
    id=$(husk run -d husk/busybox true)
    husk wait "$id"
    before=$(cat "$ROOT/containers/$id/container.json")
    run husk exec "$id" echo hi
    echo "$output"
    [ "$status" -eq 1 ]
    [ "$output" = "husk: error: Container $id is not running" ]
    [ "$(cat "$ROOT/containers/$id/container.json")" = "$before" ]
    husk rm "$id"
}

@test "rm of a running container without -f: 1, one line, still running" {
    id=$(husk run -d husk/busybox sleep 1000)
    pid=$(husk inspect -f '{{.State.Pid}}' "$id")
    run husk rm "$id"
    echo "$output"
    [ "$status" -eq 1 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == "husk: error: You cannot remove a running container $id. Stop the container before attempting removal or force remove" ]]
    [ "$(husk inspect -f '{{.State.Pid}}' "$id")" = "$pid" ]
    [ -d "/proc/$pid" ]
    husk rm -f "$id"
    [ -z "$(leftovers_of "$id")" ]
}

@test "start of a running container: as docker, its name and 0; nothing changed" {
    husk run -d --name busy husk/busybox sleep 1000
    pid=$(husk inspect -f '{{.State.Pid}}' busy)
    run husk start busy
    [ "$status" -eq 0 ]
    [ "$output" = busy ]
    [ "$(husk inspect -f '{{.State.Pid}}' busy)" = "$pid" ]
    husk rm -f busy
}

@test "logs, rm, exec, stop, inspect, wait, kill, start of an unknown container: 1, one line" {
    for verb in logs rm stop inspect wait kill start attach; do
        run husk $verb nope
        echo "$verb: $status $output"
        [ "$status" -eq 1 ]
        [ "$output" = "husk: error: No such container: nope" ] || [ "$verb" = inspect ]
        [[ "$output" == *"husk: error: No such container: nope"* ]]
    done
    run husk exec nope true
    [ "$status" -eq 1 ]
    [ "$output" = "husk: error: No such container: nope" ]
}

@test "kill of a stopped container: 1, one line" {
    id=$(husk run -d husk/busybox true)
    husk wait "$id"
    run husk kill "$id"
    echo "$output"
    [ "$status" -eq 1 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"is not running"* ]]
    husk rm "$id"
}

@test "bad flags: 125" {
    run husk ps --bogus
    [ "$status" -eq 125 ]
    run husk logs --tail x nope
    [ "$status" -eq 125 ]
    run husk stop -t abc nope
    [ "$status" -eq 125 ]
    run husk run -d --log-opt max-size=12q husk/busybox true
    echo "$output"
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
    run husk run -d --log-opt bogus=1 husk/busybox true
    [ "$status" -eq 125 ]
    run husk run -d --detach-keys ctrl-% husk/busybox true
    [ "$status" -eq 125 ]
    run husk exec
    [ "$status" -eq 125 ]
    [ -z "$(husk ps -aq)" ]
    ls "$ROOT/containers" | grep -v '^\.lock$' && false
    true
}

@test "a name in use: 125 and nothing made" {
    husk create --name taken husk/busybox true
    run husk run -d --name taken husk/busybox true
    echo "$output"
    [ "$status" -eq 125 ]
    [[ "$output" == *'"taken" is already in use'* ]]
    [ "$(husk ps -aq | wc -l)" -eq 1 ]
    husk rm taken
}
