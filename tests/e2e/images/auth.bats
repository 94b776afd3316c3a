#!/usr/bin/env bats
# Registries that require authentication: basic auth (htpasswd, bcrypt) and
# bearer tokens from a token server (anonymous and with credentials);
# husk login/logout, --creds and ~/.docker/config.json.

load helpers

setup_file() {
    need docker-registry skopeo htpasswd openssl
    images_setup
    fixture busybox busybox
    htpasswd -Bbn husk s3cret >"$WORK/htpasswd"
    start_registry basic "auth: {htpasswd: {realm: husk-test, path: $WORK/htpasswd}}"
    push busybox "$REG_basic" husk/busybox:latest --dest-creds husk:s3cret

    start_token_registry token
    push busybox "$REG_token" public/busybox:latest --dest-creds husk:t0ken
    push busybox "$REG_token" private/busybox:latest --dest-creds husk:t0ken
}

teardown_file() { images_teardown; }

@test "basic auth: refused without credentials, with a clear message" {
    run husk pull --tls-verify=false "$REG_basic/husk/busybox"
    [ "$status" -ne 0 ]
    [[ "$output" == *"registry $REG_basic"*"401"* ]]
}

@test "basic auth: --creds, husk login / logout" {
    run husk pull -q --tls-verify=false --creds husk:wrong "$REG_basic/husk/busybox"
    [ "$status" -ne 0 ]
    [[ "$output" == *"401 Unauthorized"* ]]
    husk pull -q --tls-verify=false --creds husk:s3cret "$REG_basic/husk/busybox"
    run husk login --tls-verify=false -u husk -p wrong "$REG_basic"
    [ "$status" -ne 0 ]
    [[ "$output" == *"401 Unauthorized"* ]]
    run husk login --tls-verify=false -u husk -p s3cret "$REG_basic"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Login Succeeded"* ]]
    [ "$(stat -c %a "$ROOT/auth.json")" = 600 ]
    husk rmi "$REG_basic/husk/busybox"
    husk pull -q --tls-verify=false "$REG_basic/husk/busybox"
    husk logout "$REG_basic"
    run husk pull -q --tls-verify=false "$REG_basic/husk/busybox"
    [ "$status" -ne 0 ]
    [[ "$output" == *"401 Unauthorized"* ]]
}

@test "basic auth: credentials from \$DOCKER_CONFIG/config.json" {
    mkdir -p "$WORK/docker"
    printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG_basic" "$(printf husk:s3cret | base64)" \
        >"$WORK/docker/config.json"
    DOCKER_CONFIG="$WORK/docker" run husk pull -q --tls-verify=false "$REG_basic/husk/busybox"
    [ "$status" -eq 0 ]
    husk image inspect "$REG_basic/husk/busybox" >/dev/null
}

@test "token auth: anonymous pull of a public repository" {
    run husk pull --tls-verify=false "$REG_token/public/busybox"
    echo "$output"
    [ "$status" -eq 0 ]
    husk image inspect "$REG_token/public/busybox" >/dev/null
}

@test "token auth: a private repository needs credentials" {
    run husk pull --tls-verify=false "$REG_token/private/busybox"
    [ "$status" -ne 0 ]
    [[ "$output" == *"repository \"private/busybox\""*"401"* ]]
    run husk pull --tls-verify=false --creds husk:nope "$REG_token/private/busybox"
    [ "$status" -ne 0 ]
    [[ "$output" == *"token server"*"401"* ]]
    husk login --tls-verify=false -u husk -p t0ken "$REG_token"
    husk pull -q --tls-verify=false "$REG_token/private/busybox"
}
