#!/usr/bin/env bats
# husk stats: docker's columns and JSON fields, figures from the container's cgroup.

load helpers

setup() { detached_setup; }
teardown() { detached_teardown; }

@test "stats --no-stream: a busy container's CPU, its memory limit, pids; JSON fields" {
    busy=$(husk run -d --name busy -m 64m husk/busybox sh -c 'sleep 100 & while :; do :; done')
    idle=$(husk run -d --name idle husk/busybox sleep 100)
    run husk stats --no-stream
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "CONTAINER ID"*"NAME"*"CPU %"*"MEM USAGE / LIMIT"*"MEM %"*"NET I/O"*"BLOCK I/O"*"PIDS" ]]
    [ "${#lines[@]}" -eq 3 ]
    run husk stats --no-stream --format json busy
    echo "$output"
    [ "$status" -eq 0 ]
    echo "$output" | jq -e '.Name == "busy" and .ID == "'"${busy:0:12}"'" and .PIDs == "2"'
    # the shell and its sleep; the shell spinning: most of a CPU (not a threshold on speed: any CPU at all, and
    # at most what 2 CPUs can give)
    cpu=$(echo "$output" | jq -r .CPUPerc | tr -d %)
    awk -v c="$cpu" 'BEGIN { exit !(c > 0 && c <= 200.5) }'
    # -m 64m is the limit shown
    echo "$output" | jq -e '.MemUsage | endswith(" / 64MiB")'
    # network I/O is the container's own: bytes it sent over the bridge show up
    talker=$(husk run -d husk/busybox sh -c 'ping -c 3 -s 1000 10.66.0.1 >/dev/null; sleep 100')
    sleep 3
    run husk stats --no-stream --format '{{.NetIO}}' "$talker"
    echo "$output"
    [[ "$output" =~ ^[0-9.]+kB\ /\ [0-9.]+kB$ ]]  # ~3 kB each way, not 0B
    husk rm -f "$talker"
    # the idle one: 0.00% and the host's memory as its limit
    run husk stats --no-stream --format '{{.Name}} {{.CPUPerc}} {{.PIDs}}' idle
    echo "$output"
    [ "$output" = "idle 0.00% 1" ]
}

@test "stats -a shows a stopped container with zeros; unknown container: 1, one line" {
    id=$(husk run -d --name done husk/busybox true)
    husk wait "$id"
    run husk stats --no-stream --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}' -a
    echo "$output"
    [ "$output" = "done 0.00% 0B / 0B 0" ]
    run husk stats --no-stream
    [ "${#lines[@]}" -eq 1 ]
    run husk stats --no-stream nope
    echo "$output"
    [ "$status" -eq 1 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"No such container: nope"* ]]
}
