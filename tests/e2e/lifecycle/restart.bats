#!/usr/bin/env bats
# Restart policies carried out by the container's monitor, with no daemon: on-failure's
# count, always after a kill from outside, never after husk stop; the boot path
# (start --all-restartable, generate systemd); a monitor killed mid-restart.

bats_require_minimum_version 1.5.0
load ../detached/helpers

setup_file() { detached_setup; }
teardown_file() { detached_teardown; }
teardown() { remove_all_containers; }

# Waits (bounded) until the container's init is a new process, running.
wait_for_new_pid() {
    local id=$1 old=$2 i pid
    for i in $(seq 1 200); do
        pid=$(husk inspect -f '{{.State.Pid}}' "$id" 2>/dev/null)
        if [ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$old" ] &&
            [ "$(husk inspect -f '{{.State.Status}}' "$id")" = running ]; then
            return 0
        fi
        sleep 0.05
    done
    echo "no new init for $id (pid now $pid, was $old)"
    return 1
}

# Waits (bounded) until the container's monitor (or the cleanup it became) is gone: from
# then on no restart can come, so a status read afterwards is final.
wait_monitor_gone() {
    local mon i
    mon=$(cat "$ROOT/containers/$1/monitor.pid")
    for i in $(seq 1 200); do
        [ -e "/proc/$mon" ] || return 0
        [ "$(cut -d' ' -f3 "/proc/$mon/stat" 2>/dev/null)" = Z ] && return 0
        sleep 0.05
    done
    echo "monitor $mon of $1 still runs"
    return 1
}

@test "on-failure:3: a container exiting 1 runs exactly 4 times, then stays exited" {
    id=$(husk run -d --restart on-failure:3 husk/busybox sh -c 'echo ran; exit 1')
    run husk wait "$id"
    [ "$output" = 1 ]
    [ "$(husk logs "$id" | grep -c ran)" -eq 4 ]
    [ "$(husk inspect -f '{{.RestartCount}}' "$id")" = 3 ]
    [ "$(husk inspect -f '{{.State.Status}}' "$id")" = exited ]
    [ "$(husk inspect -f '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}' "$id")" = "on-failure 3" ]
    [ "$(husk events --since 0 --until 0s --filter container="$id" --filter event=die | grep -c 'exitCode=1')" -eq 4 ]
    [ "$(husk events --since 0 --until 0s --filter container="$id" --filter event=restart | wc -l)" -eq 3 ]
}

@test "on-failure does not restart a container that exits 0" {
    id=$(husk run -d --restart on-failure husk/busybox true)
    [ "$(husk wait "$id")" = 0 ]
    [ "$(husk inspect -f '{{.RestartCount}}' "$id")" = 0 ]
}

@test "always: back after kill -9 of its process from outside, not after husk stop" {
    id=$(husk run -d --restart always husk/busybox sleep 1000)
    pid=$(husk inspect -f '{{.State.Pid}}' "$id")
    kill -9 "$pid"
    wait_for_new_pid "$id" "$pid"
    [ "$(husk inspect -f '{{.RestartCount}}' "$id")" = 1 ]
    new=$(husk inspect -f '{{.State.Pid}}' "$id")
    [ "$(cat /proc/$new/comm)" = sleep ]
    husk stop -t 1 "$id"
    [ "$(husk inspect -f '{{.State.Status}}' "$id")" = exited ]
    # the monitor ended without a restart: nothing may run
    wait_monitor_gone "$id"
    [ "$(husk inspect -f '{{.State.Status}}' "$id")" = exited ]
    [ -z "$(our_processes | while read -r p; do grep -l "$id" /proc/$p/cmdline 2>/dev/null; done)" ]
    # a start through husk puts the policy back in force
    husk start "$id" >/dev/null
    pid=$(husk inspect -f '{{.State.Pid}}' "$id")
    kill -9 "$pid"
    wait_for_new_pid "$id" "$pid"
}

@test "update --restart: a running container follows its new policy from its next exit" {
    id=$(husk run -d husk/busybox sleep 1000)
    run -0 husk update --restart always "$id"
    [ "$(husk inspect -f '{{.HostConfig.RestartPolicy.Name}}' "$id")" = always ]
    pid=$(husk inspect -f '{{.State.Pid}}' "$id")
    kill -9 "$pid"
    wait_for_new_pid "$id" "$pid"
    [ "$(husk inspect -f '{{.RestartCount}}' "$id")" = 1 ]
    # and back to no: the next kill ends it
    husk update --restart no "$id" >/dev/null
    pid=$(husk inspect -f '{{.State.Pid}}' "$id")
    kill -9 "$pid"
    wait_monitor_gone "$id"
    [ "$(husk inspect -f '{{.State.Status}}' "$id")" = exited ]
    run husk update --restart sometimes "$id"
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
    rm_id=$(husk create --rm husk/busybox true)
    run husk update --restart always "$rm_id"
    [ "$status" -ne 0 ]
    [[ "$output" == *"AutoRemove is enabled"* ]]
}

@test "husk kill is a manual stop too; ps says Restarting between two runs" {
    id=$(husk run -d --restart always husk/busybox sh -c 'sleep 0.3; exit 2')
    seen=
    for i in $(seq 1 200); do
        s=$(husk ps -a --format '{{.Status}}' --filter id="$id")
        [[ "$s" == *"Restarting (2)"* ]] && { seen=1; break; }
        sleep 0.02
    done
    [ -n "$seen" ]
    wait_for "$id" '{{.State.Status}}' running
    husk kill "$id" >/dev/null
    wait_for "$id" '{{.State.Status}}' exited
    wait_monitor_gone "$id"
    [ "$(husk inspect -f '{{.State.Status}}' "$id")" = exited ]
    [ "$(husk inspect -f '{{.State.Pid}}' "$id")" = 0 ]
}

@test "start --all-restartable starts what the policies want after a reboot" {
    a=$(husk run -d --name boot-always --restart always husk/busybox sleep 1000)
    u=$(husk run -d --name boot-unless --restart unless-stopped husk/busybox sleep 1000)
    s=$(husk run -d --name boot-stopped --restart unless-stopped husk/busybox sleep 1000)
    n=$(husk run -d --name boot-no husk/busybox sleep 1000)
    husk stop -t 1 boot-stopped >/dev/null
    # the reboot: every monitor and container gone at once, records left saying running
    for p in $(our_processes); do kill -9 "$p" 2>/dev/null || true; done
    for c in "$a" "$u" "$n"; do
        pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$ROOT/containers/$c/container.json")
        kill -9 "$pid" 2>/dev/null || true
    done
    run husk start --all-restartable
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | sort | tr '\n' ' ')" = "boot-always boot-unless " ]
    [ "$(husk inspect -f '{{.State.Status}}' boot-always)" = running ]
    [ "$(husk inspect -f '{{.State.Status}}' boot-unless)" = running ]
    [ "$(husk inspect -f '{{.State.Status}}' boot-stopped)" = exited ]
    [ "$(husk inspect -f '{{.State.Status}}' boot-no)" = exited ]
}

@test "generate systemd writes a unit that starts and stops the container" {
    husk create --name unit-web --restart always husk/busybox sleep 1000 >/dev/null
    run husk generate systemd unit-web
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"[Unit]"* ]]
    [[ "$output" == *"ExecStart=$HUSK --root $ROOT start "* ]]
    [[ "$output" == *"ExecStop=$HUSK --root $ROOT stop -t 10 "* ]]
    [[ "$output" == *"WantedBy=default.target"* ]]
    cd "$WORK" && husk generate systemd --files unit-web
    [ -f "$WORK/container-unit-web.service" ]
    if command -v systemd-analyze >/dev/null; then
        run systemd-analyze verify "$WORK/container-unit-web.service"
        echo "$output"
        [[ "$output" != *"Unknown key"* && "$output" != *"Unknown section"* ]]
    fi
}

@test "a monitor killed at random moments of a restart: rm -f finishes and leaves nothing" {
    for i in 1 2 3 4 5 6; do
        id=$(husk run -d --restart always husk/busybox sh -c 'exit 1')
        sleep "0.$((RANDOM % 6))$((RANDOM % 10))"
        mon=$(cat "$ROOT/containers/$id/monitor.pid")
        kill -9 "$mon" 2>/dev/null || true
        run timeout 60 "$HUSK" --root "$ROOT" rm -f "$id"
        echo "round $i: $output"
        [ "$status" -eq 0 ]
        [ -z "$(leftovers_of "$id")" ]
        # nothing of it runs on: no monitor, no restart helper, no container
        for p in $(our_processes); do ! grep -q "$id" "/proc/$p/cmdline" 2>/dev/null; done
    done
}

@test "bad restart policies: one line, exit 125, nothing made" {
    for policy in bogus on-failure:-1 on-failure:x always:3 "on-failure:"; do
        run husk run -d --restart "$policy" husk/busybox true
        echo "$policy: $output"
        [ "$status" -eq 125 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "$output" == *"invalid restart policy"* ]]
    done
    run husk run -d --rm --restart always husk/busybox true
    [ "$status" -eq 125 ]
    [ "$output" = "husk: Conflicting options: --restart and --rm" ]
    [ -z "$(husk ps -aq)" ]
}
