#!/usr/bin/env bats
# A registry on the loopback network speaking plain HTTP: insecure by default, as docker
# treats 127.0.0.0/8; with verification asked for, one line naming the fix, not OpenSSL's.

load ../images/helpers

setup_file() {
    need docker-registry skopeo
    images_setup
    start_registry plain
    fixture busybox busybox
    push busybox "$REG_plain" husk/busybox:latest
}
teardown_file() { images_teardown; }

@test "a 127.0.0.0/8 registry is insecure by default: plain HTTP pulls" {
    run husk pull -q "$REG_plain/husk/busybox"
    echo "$output"
    [ "$status" -eq 0 ]
    husk image inspect "$REG_plain/husk/busybox" >/dev/null
}

@test "plain HTTP with verification asked for: one line naming registries.json and --tls-verify" {
    run husk pull --tls-verify=true "$REG_plain/husk/busybox:other"
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"answers over plain HTTP"*"registries.json"*"--tls-verify=false"* ]]
    [[ "$output" != *"wrong version number"* ]]
}
