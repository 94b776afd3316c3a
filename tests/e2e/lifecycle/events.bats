#!/usr/bin/env bats
# husk events: the journal every husk process and monitor writes, in docker's shape.

bats_require_minimum_version 1.5.0
load ../detached/helpers

setup_file() { detached_setup; }
teardown_file() { detached_teardown; }
teardown() { remove_all_containers; }

@test "events shows a container's life in order: create, start, die (exit code), destroy" {
    since=$(date +%s)
    id=$(husk run -d --name ev-web husk/busybox sh -c 'exit 3')
    [ "$(husk wait "$id")" = 3 ]
    husk rm "$id" >/dev/null
    run husk events --since "$since" --until 0s --filter container=ev-web --format '{{.Action}}'
    echo "$output"
    [ "$(echo "$output" | tr '\n' ' ')" = "create start die destroy " ]
    husk events --since "$since" --until 0s --filter event=die --format json | python3 -c '
import json, sys
e = json.loads(sys.stdin.readline())
assert e["Type"] == "container" and e["Action"] == "die" and e["status"] == "die", e
assert e["Actor"]["Attributes"] == {"exitCode": "3", "image": "husk/busybox", "name": "ev-web"}, e
assert e["id"] == e["Actor"]["ID"] and e["from"] == "husk/busybox", e
assert e["time"] == e["timeNano"] // 10**9, e
'
}

@test "events follows live; --until ends it; stop and kill are there" {
    since=$(date +%s)
    husk events --since "$since" --filter container=ev-live --format '{{.Action}}' >"$WORK/live" &
    follower=$!
    id=$(husk run -d --name ev-live husk/busybox sleep 1000)
    husk stop -t 0 "$id" >/dev/null
    husk volume create ev-vol >/dev/null
    for i in $(seq 1 200); do
        [ "$(wc -l <"$WORK/live")" -ge 5 ] && break
        sleep 0.05
    done
    kill "$follower"
    cat "$WORK/live"
    [ "$(tr '\n' ' ' <"$WORK/live")" = "create start kill die stop " ]
    [ "$(husk events --since 0 --until 0s --filter type=volume --format '{{.Action}} {{.Actor.ID}}')" = "create ev-vol" ]
    # a future --until: it follows, then ends by itself
    run timeout 30 "$HUSK" --root "$ROOT" events --until "$(( $(date +%s) + 1 ))"
    [ "$status" -eq 0 ]
}

@test "bad events flags: one line, exit 125" {
    for args in "--filter colour=red" "--filter nokey" "--since soon" "--until 5x"; do
        run husk events $args
        echo "$args: $output"
        [ "$status" -eq 125 ]
        [ "${#lines[@]}" -eq 1 ]
    done
}
