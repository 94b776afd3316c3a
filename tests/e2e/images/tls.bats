#!/usr/bin/env bats
# A registry over HTTPS with a self-signed certificate: refused with verification on
# (--tls-verify=true; a loopback registry is insecure by default, as docker has it),
# accepted with --tls-verify=false or an insecure entry.

load helpers

setup_file() {
    need docker-registry skopeo openssl
    images_setup
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
        -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
    start_registry tls "" ", tls: {certificate: $WORK/cert.pem, key: $WORK/key.pem}"
    fixture busybox busybox
    push busybox "$REG_tls" husk/busybox:latest
}

teardown_file() { images_teardown; }

@test "TLS is verified when asked: a self-signed registry is refused" {
    # (without --tls-verify a registry on 127.0.0.0/8 is insecure, as docker's default)
    run husk pull --tls-verify=true "$REG_tls/husk/busybox"
    [ "$status" -ne 0 ]
    [[ "$output" == *"registry $REG_tls"*"certificate"* ]]
}

@test "--tls-verify=false pulls over HTTPS without verification" {
    run husk pull -q --tls-verify=false "$REG_tls/husk/busybox"
    [ "$status" -eq 0 ]
    husk image inspect "$REG_tls/husk/busybox" >/dev/null
}

@test "an insecure entry in registries.json does the same for that registry only" {
    echo "{\"insecure\": [\"127.0.0.1:*\"]}" >"$ROOT/registries.json"
    run husk pull -q "$REG_tls/husk/busybox"
    rm "$ROOT/registries.json"
    [ "$status" -eq 0 ]
    husk image inspect "$REG_tls/husk/busybox" >/dev/null
}
