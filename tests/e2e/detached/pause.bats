#!/usr/bin/env bats
# husk pause / unpause: every process frozen (cgroup freezer), shown as docker shows it,
# and docker's refusals while paused.

load helpers

setup() { detached_setup; }
teardown() { detached_teardown; }

# The counter file is replaced by rename, so a reader never sees it empty or half written.
counter() { husk exec p1 cat /tmp/n; }

@test "pause freezes the container, ps/inspect say so, unpause resumes it" {
    id=$(husk run -d --name p1 husk/busybox sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/n.new; mv /tmp/n.new /tmp/n; sleep 0.05; done')
    wait_ready "$id" /tmp/n
    sleep 0.3
    run husk pause p1
    [ "$status" -eq 0 ]
    [ "$output" = p1 ]
    # the container's cgroup is frozen, seen from the host: by the v1 freezer where the
    # host has one, else by cgroup2 (wherever each is mounted)
    freezer=$(cgroup_v1_mount freezer)
    if [ -n "$freezer" ]; then
        [ "$(cat "$freezer/husk/$id/freezer.state")" = FROZEN ]
    else
        grep -qx "frozen 1" "$(cgroup_v2_mount)/husk/$id/cgroup.events"
    fi
    # and it does not run: its counter stands still (read from the host through its root)
    pid=$(husk inspect --format '{{.State.Pid}}' p1)
    a=$(cat /proc/$pid/root/tmp/n); sleep 0.5; b=$(cat /proc/$pid/root/tmp/n)
    [ "$a" = "$b" ]
    [[ "$(husk ps --format '{{.Status}}')" == *"(Paused)" ]]
    [ "$(husk ps -q --filter status=paused)" = "${id:0:12}" ]
    [ "$(husk inspect --format '{{.State.Status}} {{.State.Paused}} {{.State.Running}}' p1)" = "paused true true" ]
    # docker's refusals, one line each, exit 1
    for cmd in "exec p1 true" "stop p1" "kill p1" "pause p1"; do
        run husk $cmd
        echo "$cmd: $output"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
    done
    [[ "$(husk pause p1 2>&1)" == *"is already paused" ]]
    [[ "$(husk exec p1 true 2>&1)" == *"is paused. Unpause the container before exec" ]]
    run husk unpause p1
    [ "$status" -eq 0 ]
    [ "$(husk inspect --format '{{.State.Status}} {{.State.Paused}}' p1)" = "running false" ]
    # it runs again: the counter moves
    a=$(counter); sleep 0.3; b=$(counter)
    [ "$b" -gt "$a" ]
    run husk unpause p1
    [ "$status" -eq 1 ]
    [[ "$output" == *"is not paused" ]]
}

@test "rm -f of a paused container removes it; pause of a stopped one: 1, one line" {
    id=$(husk run -d --name p2 husk/busybox sleep 100)
    husk pause p2
    husk rm -f p2
    [ -z "$(husk ps -aq)" ]
    [ -z "$(leftovers_of "$id")" ]
    id=$(husk run -d --name p3 husk/busybox true)
    husk wait p3
    run husk pause p3
    echo "$output"
    [ "$status" -eq 1 ]
    [ "$output" = "husk: error: Container $id is not running" ]
}
