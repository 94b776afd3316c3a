#!/usr/bin/env bats
# Health checks run by the container's monitor: starting, healthy, unhealthy when the
# command starts failing; State.Health in inspect, ps's "(healthy)", healthcheck run,
# the health_status events; bad --health-* flags.

bats_require_minimum_version 1.5.0
load ../detached/helpers

setup_file() { detached_setup; }
teardown_file() { detached_teardown; }
teardown() { remove_all_containers; }

@test "a health check turns unhealthy when its command starts failing" {
    id=$(husk run -d --health-cmd 'test ! -e /tmp/sick' --health-interval 200ms \
        --health-retries 2 husk/busybox sleep 1000)
    [ "$(husk inspect -f '{{.Config.Healthcheck.Retries}}' "$id")" = 2 ]
    wait_for "$id" '{{.State.Health.Status}}' healthy
    [[ "$(husk ps --format '{{.Status}}' --filter id="$id")" == "Up "*" (healthy)" ]]
    husk exec "$id" touch /tmp/sick
    wait_for "$id" '{{.State.Health.Status}}' unhealthy
    [[ "$(husk ps --format '{{.Status}}' --filter id="$id")" == "Up "*" (unhealthy)" ]]
    husk inspect "$id" | python3 -c '
import json, sys
h = json.load(sys.stdin)[0]["State"]["Health"]
assert h["FailingStreak"] >= 2, h
assert 1 <= len(h["Log"]) <= 5, h
assert h["Log"][-1]["ExitCode"] == 1, h
'
    run husk healthcheck run "$id"
    [ "$status" -eq 1 ]
    [ "$output" = unhealthy ]
    husk exec "$id" rm /tmp/sick
    run husk healthcheck run "$id"
    [ "$status" -eq 0 ]
    [ "$(husk inspect -f '{{.State.Health.Status}}' "$id")" = healthy ]
    run husk events --since 0 --until 0s --filter container="$id" --filter event=health_status --format '{{.Action}}'
    echo "$output"
    [ "${lines[0]}" = "health_status: healthy" ]
    [ "${lines[1]}" = "health_status: unhealthy" ]
    [ "${lines[2]}" = "health_status: healthy" ]
}

@test "a check that outlives --health-timeout fails; --no-healthcheck has none" {
    id=$(husk run -d --health-cmd 'sleep 30' --health-interval 200ms --health-timeout 300ms \
        --health-retries 1 husk/busybox sleep 1000)
    wait_for "$id" '{{.State.Health.Status}}' unhealthy
    [[ "$(husk inspect -f '{{json .State.Health.Log}}' "$id")" == *"exceeded timeout"* ]]
    n=$(husk run -d --no-healthcheck husk/busybox sleep 1000)
    [ "$(husk inspect -f '{{json .State.Health}}' "$n" 2>&1)" != '{"Status"'* ]
    run husk healthcheck run "$n"
    [ "$status" -ne 0 ]
}

@test "in the start period checks come every --health-start-interval, until the first passes" {
    # an interval of an hour: only the start interval can make it healthy within the test
    id=$(husk run -d --health-cmd true --health-interval 1h --health-start-period 1h \
        --health-start-interval 100ms husk/busybox sleep 1000)
    [ "$(husk inspect -f '{{.Config.Healthcheck.StartInterval}}' "$id")" = 100000000 ]
    wait_for "$id" '{{.State.Health.Status}}' healthy
}

@test "bad --health-* flags: one line, exit 125, nothing made" {
    for flags in "--health-retries=-1" "--health-interval=5x" "--health-timeout=-1s" \
        "--health-start-period=soon" "--health-interval=1ns" "--health-start-interval=500us"; do
        run husk run -d --health-cmd true "$flags" husk/busybox true
        echo "$flags: $output"
        [ "$status" -eq 125 ]
        [ "${#lines[@]}" -eq 1 ]
    done
    run husk run -d --no-healthcheck --health-cmd true husk/busybox true
    [ "$status" -eq 125 ]
    [ -z "$(husk ps -aq)" ]
}
