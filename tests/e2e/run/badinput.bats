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
    [ "$status" -ne 0 ]
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
