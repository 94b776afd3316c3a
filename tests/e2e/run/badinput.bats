#!/usr/bin/env bats
# Bad input: one clear line, docker's exit code, nothing left behind.

load helpers

setup_file() { run_setup; }
teardown_file() { run_teardown; }

@test "-m 12q: docker's message, 125, nothing left" {
    run husk run --rm -m 12q husk/busybox true
    echo "$output"
    [ "$status" -eq 125 ]
    [ "$output" = "husk: invalid argument \"12q\" for \"-m, --memory\" flag: invalid size: '12q'" ]
    [ -z "$(leftovers)" ]
}

@test "--cpus -1: 125, nothing left" {
    run husk run --rm --cpus -1 husk/busybox true
    echo "$output"
    [ "$status" -eq 125 ]
    [[ "$output" == *"range of CPUs is from 0.01 to"* ]]
    [ "${#lines[@]}" -eq 1 ]
    [ -z "$(leftovers)" ]
}

@test "unknown image: 125, nothing left" {
    run husk run --rm --tls-verify=false 127.0.0.1:1/husk/nothere true
    echo "$output"
    [ "$status" -eq 125 ]
    [[ "$output" == *"127.0.0.1:1"* ]]
    [ -z "$(leftovers)" ]
}

@test "missing command: 125, nothing left" {
    run husk run --rm --entrypoint "" husk/busybox
    echo "$output"
    [ "$status" -eq 125 ]
    [ "$output" = "husk: no command specified" ]
    run husk run --rm
    [ "$status" -eq 125 ]
    [ "$output" = 'husk: "husk run" requires at least 1 argument: IMAGE [COMMAND] [ARG...]' ]
    [ -z "$(leftovers)" ]
}

@test "command not found: 127; not executable: 126; nothing left" {
    run -127 husk run --rm husk/busybox /no/such/thing
    echo "$output"
    [ "$status" -eq 127 ]
    [[ "$output" == *'"/no/such/thing": executable file not found'* ]]
    run -126 husk run --rm husk/busybox /etc/passwd
    echo "$output"
    [ "$status" -eq 126 ]
    [ -z "$(leftovers)" ]
}

@test "bad flag values: --ulimit, -v, --device, --userns, --network" {
    for args in "--ulimit nofile=x" "-v relative/dir:/x" "--device nodev" "--userns=bogus" "--network bogus" "--mount type=npipe,target=/x"; do
        run husk run --rm $args husk/busybox true
        echo "$args -> $status $output"
        [ "$status" -eq 125 ]
        [ "${#lines[@]}" -eq 1 ]
    done
    [ -z "$(leftovers)" ]
}

@test "name already in use: 125, the first container untouched" {
    run husk run --name dup husk/busybox true
    [ "$status" -eq 0 ]
    first=$(container_id dup)
    run husk run --rm --name dup husk/busybox true
    echo "$output"
    [ "$status" -eq 125 ]
    [[ "$output" == *"the container name \"dup\" is already in use by container \"$first\""* ]]
    [ "$(ls "$ROOT/containers" | wc -l)" -eq 1 ]
    [ "$(jq -r .status "$ROOT/containers/$first/container.json")" = exited ]
}

@test "a flag without its value, an unknown flag: 125 and one line, nothing left" {
    before=$(ls "$ROOT/containers" 2>/dev/null | wc -l)
    for args in "--name" "--bogus-flag"; do
        run husk run $args
        echo "$args -> $status $output"
        [ "$status" -eq 125 ]
        [ "${#lines[@]}" -eq 1 ]
    done
    [ "$(ls "$ROOT/containers" 2>/dev/null | wc -l)" -eq "$before" ]
}

@test "--mount type=bind with a missing source: docker's refusal, no directory made on the host" {
    before=$(leftovers)  # an earlier test keeps its "dup"
    src=$WORK/no-such-source
    for cmd in run create; do
        run husk $cmd --rm --mount "type=bind,source=$src,target=/x" husk/busybox true
        echo "$cmd -> $status $output"
        [ "$status" -eq 125 ]
        [ "$output" = "husk: invalid mount config for type \"bind\": bind source path does not exist: $src" ]
        [ ! -e "$src" ]
    done
    # -v still creates a missing host directory, as docker does
    run husk run --rm -v "$src:/x" husk/busybox sh -c 'test -d /x && echo made'
    [ "$status" -eq 0 ]
    [ "$output" = made ]
    [ -d "$src" ]
    [ "$(leftovers)" = "$before" ]
}

@test "--stop-signal BOGUS, --shm-size -1, --env-file DIR: refused with one line, 125, nothing left" {
    before=$(leftovers)  # an earlier test keeps its "dup"
    mkdir -p "$WORK/envdir"
    while IFS='|' read -r flags want; do
        for cmd in run create; do
            run husk $cmd --rm $flags husk/busybox true
            echo "$cmd $flags -> $status $output"
            [ "$status" -eq 125 ]
            [ "$output" = "husk: $want" ]
        done
    done <<LIST
--stop-signal BOGUS|invalid signal: BOGUS
--shm-size -1|invalid argument "-1" for "--shm-size" flag: invalid size: '-1'
--env-file $WORK/envdir|--env-file: read "$WORK/envdir": EISDIR (Is a directory)
LIST
    [ "$(leftovers)" = "$before" ]
    # what these flags take still works, and the container sees it
    printf 'FROM_FILE=yes\n' >"$WORK/env"
    run husk run --rm --stop-signal SIGUSR1 --shm-size 2m --env-file "$WORK/env" husk/busybox \
        sh -c 'echo $FROM_FILE; df -k /dev/shm | tail -1'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = yes ]
    [ "$(echo "${lines[1]}" | awk '{print $2}')" = 2048 ]
}

@test "--security-opt apparmor=PROFILE / label=...: refused, never silently ignored" {
    before=$(leftovers)  # an earlier test keeps its "dup"
    for opt in apparmor=my-profile label=type:svirt_t label=level:s0:c1; do
        run husk run --rm --security-opt "$opt" husk/busybox true
        echo "$opt -> $status $output"
        [ "$status" -eq 125 ]
        [ "${#lines[@]}" -eq 1 ]
        key=${opt%%=*} value=${opt#*=}
        [[ "$output" == "husk: --security-opt $key \"$value\": "* ]]
        [[ "$output" == *"is not enabled on this host" || "$output" == *"husk does not apply"* ]]
    done
    run husk run --rm --security-opt bogus husk/busybox true
    [ "$status" -eq 125 ]
    [ "$output" = 'husk: invalid --security-opt 1: "bogus"' ]
    [ "$(leftovers)" = "$before" ]
    # switching off what husk never applies is fine
    run husk run --rm --security-opt apparmor=unconfined --security-opt label=disable husk/busybox echo ok
    [ "$status" -eq 0 ]
    [ "$output" = ok ]
}

@test "a 10,000-character hostname: one short line, 125, nothing left" {
    before=$(leftovers)  # an earlier test keeps its "dup"
    long=$(printf 'h%.0s' $(seq 10000))
    run husk run --rm -h "$long" husk/busybox true
    echo "$output"
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
    [ "${#output}" -lt 600 ]
    [[ "$output" == *'for "-h, --hostname" flag: longer than the kernel'"'"'s 64 bytes' ]]
    [ "$(leftovers)" = "$before" ]
}
