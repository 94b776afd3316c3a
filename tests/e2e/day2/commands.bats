#!/usr/bin/env bats
# The day-2 commands on one shared running container: top, port, rename, update,
# logs --until, ps -n/-l/-s/--filter label=/ancestor=, {{.Labels}}, the management forms
# (container ls, image ls), container prune, image prune, system df/prune, info, version.

bats_require_minimum_version 1.5.0
load ../detached/helpers

setup_file() {
    detached_setup
    husk run -d --name day2-top --label tier=web --label team=a -p 127.0.0.1::80 \
        husk/busybox sh -c 'echo before; sleep 1000' >/dev/null
}
teardown_file() { detached_teardown; }

@test "top shows the container's processes with ps's columns; ps options pass through" {
    command -v ps >/dev/null || skip "no ps on this host (procps)"
    run -0 husk top day2-top
    echo "$output"
    [[ "${lines[0]}" == UID*PID*PPID*CMD ]]
    [ "${#lines[@]}" -eq 2 ]  # its one process (sh execs the last command), nothing of the host
    [[ "$output" == *"sleep 1000"* ]]
    run -0 husk top day2-top -o pid,comm
    [[ "${lines[0]}" == *PID*COMMAND* ]]
    [[ "$output" == *sleep* ]]
    run husk top day2-top -o comm
    [ "$status" -ne 0 ]
    [ "$output" = "husk: error: Couldn't find PID field in ps output" ]
}

@test "port lists the published ports; PRIVATE picks one; an unpublished one is an error" {
    run -0 husk port day2-top
    [[ "$output" =~ ^80/tcp\ -\>\ 127\.0\.0\.1:[0-9]+$ ]]
    hostport=${output##*:}
    [ "$(husk port day2-top 80)" = "127.0.0.1:$hostport" ]
    [ "$(husk port day2-top 80/tcp)" = "127.0.0.1:$hostport" ]
    run husk port day2-top 81
    [ "$status" -ne 0 ]
    [ "$output" = "husk: error: No public port '81/tcp' published for day2-top" ]
}

@test "rename: the new name finds it; a taken name is refused; a bad name is refused" {
    husk create --name day2-other husk/busybox true >/dev/null
    husk rename day2-other day2-renamed
    [ "$(husk inspect -f '{{.Name}}' day2-renamed)" = /day2-renamed ]
    run husk rename day2-renamed day2-top
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *'container name "day2-top" is already in use'* ]]
    run husk rename day2-renamed 'bad/name'
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"invalid container name"* ]]
    [ "$(husk inspect -f '{{.Name}}' day2-renamed)" = /day2-renamed ]
    husk rm day2-renamed >/dev/null
}

@test "update changes a running container's limits, seen inside it and kept in its config" {
    husk update --memory 64m --pids-limit 77 --cpus 0.5 day2-top
    [ "$(husk inspect -f '{{.HostConfig.Memory}}' day2-top)" = 67108864 ]
    [ "$(husk inspect -f '{{.HostConfig.PidsLimit}}' day2-top)" = 77 ]
    # what the container's cgroup says, v1 or v2
    mem=$(husk exec day2-top sh -c 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes')
    [ "$mem" = 67108864 ]
    pids=$(husk exec day2-top sh -c 'cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max')
    [ "$pids" = 77 ]
    run husk update --memory 12q day2-top
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *'invalid argument "12q" for "-m, --memory" flag'* ]]
    run husk update day2-top
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [ "$(husk inspect -f '{{.HostConfig.Memory}}' day2-top)" = 67108864 ]
}

@test "logs --until leaves out what came after" {
    [ "$(husk logs --until 2000-01-01T00:00:00Z day2-top | wc -l)" -eq 0 ]
    [ "$(husk logs --until 0s day2-top)" = before ]
    # with -f the container still runs: --until ends the follow (a past time at once, a
    # future one when it comes); a timeout would fail the test, not pass it
    run timeout 30 "$HUSK" --root "$ROOT" logs -f --until 0s day2-top
    [ "$status" -eq 0 ]
    [ "$output" = before ]
    run timeout 30 "$HUSK" --root "$ROOT" logs -f --until "$(($(date +%s) + 1))" day2-top
    [ "$status" -eq 0 ]
    [ "$output" = before ]
}

@test "ps --format {{.Labels}}, --filter label= and ancestor=, -n, -l, -s" {
    [ "$(husk ps --format '{{.Labels}}' --filter name=day2-top)" = "team=a,tier=web" ]
    [ "$(husk ps -q --filter label=tier=web)" = "$(husk ps -q --filter name=day2-top)" ]
    [ "$(husk ps -q --filter label=tier)" = "$(husk ps -q --filter name=day2-top)" ]
    [ -z "$(husk ps -q --filter label=tier=db)" ]
    [ -n "$(husk ps -q --filter ancestor=husk/busybox)" ]
    [ -n "$(husk ps -q --filter ancestor=husk/busybox:latest)" ]
    [ -z "$(husk ps -q --filter ancestor=no/such)" ]
    husk create --name day2-newest husk/busybox true >/dev/null
    [ "$(husk ps -l --format '{{.Names}}')" = day2-newest ]
    [ "$(husk ps -n 2 --format '{{.Names}}')" = "$(printf 'day2-newest\nday2-top')" ]
    run -0 husk ps -s --filter name=day2-top
    [[ "${lines[0]}" == *NAMES*SIZE ]]
    [[ "${lines[1]}" == *"(virtual "*")" ]]
    husk rm day2-newest >/dev/null
}

@test "container ls|inspect and image ls|inspect are the commands of the same meaning" {
    [ "$(husk container ls -q)" = "$(husk ps -q)" ]
    [ "$(husk container inspect -f '{{.Name}}' day2-top)" = /day2-top ]
    [ "$(husk image ls -q)" = "$(husk images -q)" ]
    husk image inspect husk/busybox >/dev/null
}

@test "container prune removes stopped containers only; -f does not ask" {
    id=$(husk create husk/busybox true)
    run -0 husk container prune -f
    [[ "$output" == *"Deleted Containers:"*"$id"*"Total reclaimed space:"* ]]
    [ -z "$(leftovers_of "$id")" ]
    [ "$(husk inspect -f '{{.State.Status}}' day2-top)" = running ]
    # without -f it asks, and a no keeps everything
    id=$(husk create husk/busybox true)
    run bash -c "echo n | '$HUSK' --root '$ROOT' container prune"
    [[ "$output" == *"Are you sure you want to continue? [y/N]"* ]]
    husk inspect "$id" >/dev/null
    husk rm "$id" >/dev/null
}

@test "image prune keeps images in use; -a removes the unused ones" {
    bash "$HUSK_SRC/scripts/make-busybox-image.sh" --root "$WORK/prune-root" --husk "$HUSK" >/dev/null
    p() { "$HUSK" --root "$WORK/prune-root" "$@"; }
    run -0 p image prune -f
    [[ "$output" == *"Total reclaimed space:"* ]]
    [ -n "$(p images -q)" ]  # named: kept without -a
    run -0 p image prune -a -f
    [[ "$output" == *"untagged: "*"husk/busybox"* ]]
    [ -z "$(p images -q)" ]
    # here the shared root's image stays: a container uses it
    run -0 husk image prune -a -f
    [ -n "$(husk images -q)" ]
}

@test "system df sums images, containers and volumes; -v lists them" {
    run -0 husk system df
    echo "$output"
    [[ "${lines[0]}" == TYPE*TOTAL*ACTIVE*SIZE*RECLAIMABLE ]]
    [[ "${lines[1]}" =~ ^Images\ +1\ +1\  ]]
    [[ "${lines[2]}" =~ ^Containers\ +1\ +1\  ]]
    run -0 husk system df -v
    [[ "$output" == *"Images space usage:"*"Containers space usage:"*day2-top*"Local Volumes space usage:"* ]]
}

@test "system prune removes stopped containers and dangling images, keeps the running one" {
    id=$(husk create husk/busybox true)
    run -0 husk system prune -f
    [[ "$output" == *"$id"*"Total reclaimed space:"* ]]
    run husk inspect "$id"
    [ "$status" -ne 0 ]
    [ "$(husk inspect -f '{{.State.Status}}' day2-top)" = running ]
}

@test "info and system info: containers, images, kernel, cgroup version, storage driver" {
    run -0 husk info
    echo "$output"
    [[ "$output" == *" Containers: 1"*"  Running: 1"*" Images: 1"* ]]
    [[ "$output" == *" Kernel Version: $(uname -r)"* ]]
    [[ "$output" == *" Cgroup Version: "* && "$output" == *" Storage Driver: "* ]]
    [ "$(husk system info --format '{{.KernelVersion}}')" = "$(uname -r)" ]
    [ "$(husk info --format '{{.ContainersRunning}}')" = 1 ]
}

@test "version: client, engine, runtime, kernel, cgroup mode, storage driver" {
    run -0 husk version
    echo "$output"
    [[ "$output" == Client:*Version:*Server:*Kernel:*"$(uname -r)"*"Cgroup version:"*"Storage driver:"*husk-runtime:* ]]
    [ "$(husk version --format '{{.Server.KernelVersion}}')" = "$(uname -r)" ]
    [ "$(husk version --format '{{.Client.Version}}')" = "$(husk version --format '{{.Server.Runtime.Version}}')" ]
}
