#!/usr/bin/env bats
# Detached containers: run -d under a monitor, ps, logs, exec, stop, kill, start,
# restart, attach, rm, wait, inspect, create.

bats_require_minimum_version 1.5.0
load helpers

setup_file() { detached_setup; }
teardown_file() { detached_teardown; }
teardown() { remove_all_containers; }

@test "run -d prints the id at once; the container outlives husk; ps and inspect show it" {
    run husk run -d --name web husk/busybox sleep 1000
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" =~ ^[0-9a-f]{64}$ ]]
    id=$output
    [ "$(husk inspect -f '{{.State.Status}}' web)" = running ]
    [ "$(husk inspect -f '{{.State.Running}}' web)" = true ]
    pid=$(husk inspect -f '{{.State.Pid}}' web)
    [ -d "/proc/$pid" ]
    [ "$(cat /proc/$pid/comm)" = sleep ]
    run husk ps
    echo "$output"
    [ "${#lines[@]}" -eq 2 ]
    [[ "${lines[1]}" == ${id:0:12}*"Up "*web ]]
    [ "$(husk ps -q)" = "${id:0:12}" ]
    [ "$(husk ps --format '{{.Names}} {{.State}}')" = "web running" ]
    husk inspect web | python3 -c 'import json,sys; o=json.load(sys.stdin)[0]; assert o["Name"]=="/web" and o["Path"]=="sleep" and o["Args"]==["1000"] and "GraphDriver" in o and "HostConfig" in o and "Config" in o and "Mounts" in o, o'
    husk rm -f web
    [ -z "$(leftovers_of "$id")" ]
}

@test "logs -f follows new lines until the container exits; --tail, -t, --since" {
    id=$(husk run -d husk/busybox sh -c 'for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; sleep 0.3; done')
    run husk logs -f "$id"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *out1*out5* ]]
    [[ "$output" == *err5* ]]
    [ "$(husk logs "$id" 2>/dev/null | wc -l)" -eq 5 ]
    [ "$(husk logs "$id" 2>&1 >/dev/null | wc -l)" -eq 5 ]
    # --tail counts the lines of both streams, as docker's
    [ "$(husk logs --tail 4 "$id" 2>/dev/null)" = "$(printf 'out4\nout5')" ]
    [[ "$(husk logs -t --tail 2 "$id" 2>/dev/null)" =~ ^20[0-9-]+T[0-9:.]+Z\ out5$ ]]
    [ "$(husk logs --since 10m "$id" 2>&1 | wc -l)" -eq 10 ]
    # docker's json-file lines
    head -1 "$ROOT/containers/$id/$id-json.log" | python3 -c 'import json,sys; e=json.loads(sys.stdin.read()); assert set(e)=={"log","stream","time"} and e["log"] in ("out1\n","err1\n"), e'
    husk rm "$id"
}

@test "exec sees PID != 1 and the same hostname and mounts" {
    id=$(husk run -d husk/busybox sleep 1000)
    run husk exec "$id" sh -c 'echo $$; hostname; cat /proc/1/cmdline | tr "\0" " "; echo; wc -l </proc/self/mountinfo; wc -l </proc/1/mountinfo'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" != 1 ]
    [ "${lines[1]}" = "${id:0:12}" ]
    [ "${lines[2]}" = "sleep 1000 " ]
    [ "${lines[3]}" = "${lines[4]}" ]
    # the exec'd process is in the container's cgroup and has its capability set
    run husk exec "$id" sh -c 'cat /proc/self/cgroup | md5sum; cat /proc/1/cgroup | md5sum; grep CapBnd /proc/self/status'
    echo "$output"
    [ "${lines[0]}" = "${lines[1]}" ]
    [ "${lines[2]}" = "$(husk exec "$id" grep CapBnd /proc/1/status)" ]
    # seen from the host: the exec'd process is in the container's own cgroups
    husk exec -d "$id" sleep 77
    # (exec -d returns once the process is made: its execve of sleep may come a bit later)
    eventually container_process "$id" 'sleep 77'
    epid=$(container_process "$id" 'sleep 77')
    [ "$(grep -c "husk/$id" /proc/$epid/cgroup)" -ge 3 ]
    # exec -d: detached from the caller: its own session, stdio on /dev/null (nothing of
    # its output reaches ours), not a child of ours
    run husk exec -d "$id" sh -c 'echo to-nowhere; echo to-nowhere >&2; exec sleep 31'
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    eventually container_process "$id" 'sleep 31'
    xpid=$(container_process "$id" 'sleep 31')
    [ "$(ps -o sid= -p $xpid)" -ne "$(ps -o sid= -p $$)" ]
    [ "$(readlink /proc/$xpid/fd/1)" = /dev/null ]
    # an exec -d that cannot start reports it like exec: 127, one line
    run -127 husk exec -d "$id" /no/such
    [ "${#lines[@]}" -eq 1 ]
    # exit codes, -e, -w, -u
    run husk exec -e FOO=bar -w /tmp -u nobody "$id" sh -c 'echo $FOO $(pwd) $(id -u); exit 3'
    echo "$output"
    [ "$status" -eq 3 ]
    [ "$output" = "bar /tmp 65534" ]
    run -127 husk exec "$id" /no/such
    [ "$status" -eq 127 ]
    husk rm -f "$id"
}

@test "stop: a process that ignores SIGTERM ends with SIGKILL after -t 1, exit 137" {
    # (the stop comes once the shell ignores TERM: before, TERM would end it with 143)
    id=$(husk run -d husk/busybox sh -c 'trap "" TERM; touch /ready; while true; do sleep 0.1; done')
    wait_ready "$id" /ready
    run husk stop -t 1 "$id"
    [ "$status" -eq 0 ]
    [ "$output" = "$id" ]
    [ "$(husk inspect -f '{{.State.Status}}' "$id")" = exited ]
    [ "$(husk inspect -f '{{.State.ExitCode}}' "$id")" = 137 ]
    [[ "$(husk ps -a --format '{{.Status}}' --filter id="$id")" == "Exited (137) "* ]]
    husk rm "$id"
}

@test "stop uses the stop signal: --stop-signal USR1 with a handler exits at once" {
    id=$(husk run -d --stop-signal USR1 husk/busybox sh -c 'trap "exit 7" USR1; touch /ready; while true; do sleep 0.1; done')
    wait_ready "$id" /ready
    husk stop -t 60 "$id"
    [ "$(husk inspect -f '{{.State.ExitCode}}' "$id")" = 7 ]
    [ "$(husk inspect -f '{{.Config.StopSignal}}' "$id")" = USR1 ]
    husk rm "$id"
}

@test "inspect of an OOM-killed container says OOMKilled=true" {
    id=$(husk run -d -m 32m husk/busybox awk 'BEGIN { s = sprintf("%104857600s", ""); print length(s) }')
    run husk wait "$id"
    [ "$output" = 137 ]
    [ "$(husk inspect -f '{{.State.OOMKilled}}' "$id")" = true ]
    [ "$(husk inspect -f '{{.State.ExitCode}}' "$id")" = 137 ]
    husk rm "$id"
}

@test "--rm -d: the container disappears after it exits, leaving nothing; wait has its code" {
    id=$(husk run --rm -d husk/busybox sh -c 'sleep 1; exit 3')
    run husk wait "$id"
    [ "$output" = 3 ]
    eventually husk_fails inspect "$id"
    run husk inspect "$id"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"husk: error: No such container: $id"* ]]
    [ -z "$(leftovers_of "$id")" ]
}

@test "kill -9 of the monitor: ps -a shows the container exited (unknown), rm works" {
    id=$(husk run -d husk/busybox sleep 1000)
    pid=$(husk inspect -f '{{.State.Pid}}' "$id")
    mon=$(monitor_pid "$id")
    [[ "$(tr '\0' ' ' </proc/$mon/cmdline)" == *husk-monitor* ]]
    kill -9 "$mon"
    run timeout 20 "$HUSK" --root "$ROOT" ps -a --format '{{.ID}} {{.Status}}'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == "${id:0:12} Exited (unknown) "* ]]
    [ "$(husk inspect -f '{{.State.ExitCode}}' "$id")" = -1 ]
    [ ! -d "/proc/$pid" ] || [ "$(awk '{print $3}' /proc/$pid/stat)" = Z ]  # killed
    run timeout 20 "$HUSK" --root "$ROOT" rm "$id"
    [ "$status" -eq 0 ]
    [ -z "$(leftovers_of "$id")" ]
}

@test "create, start, wait, restart, kill" {
    run husk create --name later husk/busybox sh -c 'echo started; sleep 1000'
    [ "$status" -eq 0 ]
    id=$output
    [ "$(husk inspect -f '{{.State.Status}}' later)" = created ]
    [ -z "$(husk ps -q)" ]
    [ "$(husk ps -aq)" = "${id:0:12}" ]
    [ "$(husk start later)" = later ]
    [ "$(husk inspect -f '{{.State.Status}}' later)" = running ]
    pid1=$(husk inspect -f '{{.State.Pid}}' later)
    [ "$(husk restart -t 0 later)" = later ]
    pid2=$(husk inspect -f '{{.State.Pid}}' later)
    [ "$pid1" != "$pid2" ]
    # (the restarted shell's echo may come a moment after restart returns)
    eventually husk_prints "$(printf 'started\nstarted')" logs later
    [ "$(husk kill -s TERM later)" = later ]  # PID 1 without a handler: ignored
    [ "$(husk inspect -f '{{.State.Running}}' later)" = true ]
    husk kill later
    run husk wait later
    [ "$output" = 137 ]
    husk rm later
}

@test "start -a prints the output and returns the exit code" {
    id=$(husk create husk/busybox sh -c 'echo hello; echo oops >&2; exit 5')
    run husk start -a "$id"
    echo "$output"
    [ "$status" -eq 5 ]
    [ "$output" = "$(printf 'hello\noops')" ]
    husk rm "$id"
}

@test "attach to -i: stdin reaches the container; the detach keys leave it running" {
    id=$(husk run -d -i husk/busybox sh -c 'while read l; do echo "got $l"; done')
    run bash -c "(printf 'one\n'; sleep 0.5; printf '\x10\x11') | '$HUSK' --root '$ROOT' attach $id"
    echo "$output"
    [ "$status" -eq 1 ]  # docker's status after the detach keys
    [[ "$output" == *"read escape sequence"* ]]
    [[ "$output" == *"got one"* ]]
    [ "$(husk inspect -f '{{.State.Running}}' "$id")" = true ]
    run bash -c "(printf 'two\n'; sleep 0.5; printf '\x18\x01') | '$HUSK' --root '$ROOT' attach --detach-keys ctrl-x,ctrl-a $id"
    [ "$status" -eq 1 ]
    [[ "$output" == *"got two"* ]]
    [ "$(husk logs "$id")" = "$(printf 'got one\ngot two')" ]
    husk rm -f "$id"
}

@test "run -d -t: the container's stdio is a terminal; its output is logged" {
    id=$(husk run -d -t husk/busybox sh -c 'tty; test -t 0 && echo is-a-tty')
    run husk wait "$id"
    [ "$output" = 0 ]
    run husk logs "$id"
    echo "$output"
    [[ "$output" == *"/dev/pts/0"* ]]
    [[ "$output" == *is-a-tty* ]]
    husk rm "$id"
}

@test "log rotation: --log-opt max-size=1k max-file=3 keeps the size bound" {
    id=$(husk run -d --log-opt max-size=1k --log-opt max-file=3 husk/busybox sh -c 'i=0; while [ $i -lt 300 ]; do echo line $i; i=$((i+1)); done')
    husk wait "$id"
    ls -l "$ROOT/containers/$id/"
    [ "$(ls "$ROOT/containers/$id/" | grep -c -- -json.log)" -eq 3 ]
    for f in "$ROOT/containers/$id/$id"-json.log*; do
        [ "$(stat -c %s "$f")" -le 1024 ]
    done
    [ "$(husk logs --tail 1 "$id")" = "line 299" ]
    [ "$(husk inspect -f '{{index .HostConfig.LogConfig.Config "max-file"}}' "$id")" = 3 ]
    husk rm "$id"
}

@test "after a reboot (monitor, processes, runtime state and mounts gone) it is listed exited and starts again with its changes" {
    id=$(husk run -d husk/busybox sh -c 'echo run >>/keep; touch /ready; sleep 1000')
    wait_for "$id" '{{.State.Running}}' true
    wait_ready "$id" /ready
    [ "$(husk exec "$id" cat /keep)" = run ]
    pid=$(husk inspect -f '{{.State.Pid}}' "$id")
    kill -9 "$(monitor_pid "$id")" "$pid"
    [[ "$(husk ps -a --format '{{.Status}}')" == "Exited (unknown)"* ]]
    umount "$ROOT/rootfs/$id/merged"
    [ ! -e "$ROOT/run/$id" ]
    [ "$(husk start "$id")" = "$id" ]
    # (the shell's echo may come a moment after start returns)
    eventually husk_prints "$(printf 'run\nrun')" exec "$id" cat /keep
    husk rm -f "$id"
    [ -z "$(leftovers_of "$id")" ]
}

@test "inspect: the image's ExposedPorts in Config, as docker shows them" {
    command -v umoci >/dev/null || skip "umoci is not installed (scripts/deps.sh installs it)"
    img=$(mktemp -d "$WORK/img-XXXXXX")
    python3 "$HUSK_SRC/scripts/fixtures/mkimage.py" busybox "$img/layout" --tag husk/busybox:latest >/dev/null
    umoci config --image "$img/layout:husk/busybox:latest" --tag web \
        --config.exposedports 8080/tcp --config.exposedports 53/udp
    (cd "$img/layout" && tar -cf ../web.tar .)
    husk load -i "$img/web.tar"
    id=$(husk create web true)
    run husk inspect -f '{{json .Config.ExposedPorts}}' "$id"
    echo "$output"
    [ "$output" = '{"53/udp":{},"8080/tcp":{}}' ]
    husk rm "$id"
    [ -z "$(leftovers_of "$id")" ]
}
