#!/usr/bin/env bats
# Volumes: named ones that outlive containers, anonymous ones (-v /path, an image's
# Volumes) that go with --rm / rm -v, docker's copy-up of the image's files, husk volume.

load helpers

setup_file() {
    run_setup
    derived_image husk/voltest '.config.Volumes = {"/etc": {}, "/data": {}}'
}
teardown_file() { run_teardown; }

@test "a named volume keeps its data across containers; :ro is read-only; rm of a used one refused" {
    husk run --rm -v keep:/d husk/busybox sh -c 'echo hello > /d/f'
    run husk run --rm -v keep:/d:ro husk/busybox sh -c 'cat /d/f; touch /d/g'
    echo "$output"
    [ "${lines[0]}" = hello ]
    [[ "$output" == *"Read-only file system"* ]]
    [ "$(husk volume ls -q)" = keep ]
    [ "$(cat "$ROOT/volumes/keep/_data/f")" = hello ]
    id=$(husk run -d -v keep:/d husk/busybox sleep 100)
    husk inspect "$id" | jq -e '.[0].Mounts[] | select(.Destination == "/d") | .Type == "volume" and .Name == "keep" and .RW'
    run husk volume rm keep
    echo "$output"
    [ "$status" -eq 1 ]
    [ "$output" = "husk: error: remove keep: volume is in use - [$id]" ]
    husk rm -f "$id"
    husk volume rm keep
    [ -z "$(husk volume ls -q)" ]
    [ ! -e "$ROOT/volumes/keep" ]
}

@test "a new volume gets a copy of the image's files at its path (owners, modes, times)" {
    husk run --rm -v etc:/etc husk/busybox true
    [ "$(cat "$ROOT/volumes/etc/_data/passwd")" = "$(husk run --rm husk/busybox cat /etc/passwd)" ]
    [ "$(stat -c '%u %g %a' "$ROOT/volumes/etc/_data/group")" = "$(husk run --rm husk/busybox stat -c '%u %g %a' /etc/group)" ]
    # a volume that has data is not overwritten
    echo mine >"$ROOT/volumes/etc/_data/passwd"
    [ "$(husk run --rm -v etc:/etc husk/busybox cat /etc/passwd)" = mine ]
    husk volume rm etc
}

@test "anonymous volumes: -v /path and the image's Volumes; --rm and rm -v remove them" {
    run husk run --rm -v /scratch husk/voltest sh -c 'grep -c " /scratch \| /etc \| /data " /proc/self/mounts; cat /etc/passwd'
    echo "$output"
    [ "${lines[0]}" = 3 ]
    [[ "${lines[1]}" == root:* ]]  # /etc copied up from the image
    [ -z "$(husk volume ls -q)" ]  # --rm took them
    id=$(husk run -d husk/voltest sleep 100)
    [ "$(husk volume ls -q | wc -l)" -eq 2 ]
    husk rm -f "$id"
    [ "$(husk volume ls -q | wc -l)" -eq 2 ]  # rm without -v keeps them
    husk volume prune -f
    [ -z "$(husk volume ls -q)" ]
    id=$(husk run -d -v /x husk/busybox sleep 100)
    husk rm -fv "$id"
    [ -z "$(husk volume ls -q)" ]
    # a mount on an image volume's path replaces that anonymous volume
    husk run --rm -v named:/data husk/voltest true
    [ "$(husk volume ls -q)" = named ]
    husk volume rm named
}

@test "volume create/inspect/ls --format; bad names: one line, exit 125, nothing made" {
    run husk volume create --label team=a v1
    [ "$output" = v1 ]
    run husk volume inspect v1
    echo "$output"
    echo "$output" | jq -e '.[0].Name == "v1" and .[0].Driver == "local" and .[0].Labels.team == "a" and (.[0].Mountpoint | endswith("/volumes/v1/_data"))'
    [ "$(husk volume ls --format '{{.Name}} {{.Driver}}')" = "v1 local" ]
    run husk volume inspect nope
    [ "$status" -eq 1 ]
    [[ "$output" == *"no such volume"* ]]
    run husk run --rm -v 'bad name:/x' husk/busybox true
    echo "$output"
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"includes invalid characters for a local volume name"* ]]
    run husk volume create 'x/y'
    [ "$status" -ne 0 ]
    [[ "$output" == *'"x/y" includes invalid characters for a local volume name'* ]]
    husk volume rm v1
    [ -z "$(husk volume ls -q)" ]
    [ -z "$(leftovers)" ]
}
