#!/usr/bin/env bats
# The CLI's error behaviour: unknown commands, flag errors in one wording with exit 125 for
# every command, a working directory that is a file named as the container sees it, an
# upper-case image name refused as a reference before any pull.

bats_require_minimum_version 1.5.0
load ../detached/helpers

setup_file() { detached_setup; }
teardown_file() { detached_teardown; }

@test "husk foo: unknown command, exit 125" {
    run husk foo
    [ "$status" -eq 125 ]
    [ "$output" = 'husk: unknown command "foo" (see husk --help)' ]
    run husk container frobnicate
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
}

@test "flag errors: the same words and exit 125 for every command" {
    for cmd in ps logs rm cp port rename update images pull inspect stop; do
        run husk $cmd --no-such-flag x y
        echo "$cmd: $output"
        [ "$status" -eq 125 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "$output" = "husk: unknown flag: --no-such-flag (see husk $cmd --help)" ]
    done
    run husk logs --tail
    [ "$status" -eq 125 ]
    [ "$output" = "husk: flag needs an argument: --tail (see husk logs --help)" ]
    run husk update --pids-limit abc x
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *'"abc"'*'--pids-limit'* ]]
    run husk rename
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == 'husk: "husk rename" requires at least 2 arguments'* ]]
}

@test "-w naming a file: the error names the container path, not the host's" {
    run husk run --rm -w /etc/passwd husk/busybox true
    echo "$output"
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *'"/etc/passwd"'* ]]
    [[ "$output" != *"$ROOT"* ]]
    [ -z "$(husk ps -aq)" ]
}

@test "an upper-case image name: the reference error first, no pull" {
    run husk run --rm husk/BusyBox true
    echo "$output"
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"repository name must be lowercase"* ]]
    [[ "$output" != *"Unable to find"* ]]
}
