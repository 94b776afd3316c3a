#!/usr/bin/env bats
# husk push against Debian's docker-registry on 127.0.0.1 (the image tests' fixture):
# what skopeo and a pull into a fresh data root see, blobs the registry already has,
# cross-repository mounts, chunked uploads, basic auth, bad input, and pushes killed
# at random moments.

bats_require_minimum_version 1.5.0
load ../images/helpers

setup_file() {
    need docker-registry skopeo htpasswd openssl
    images_setup
    fixture busybox busybox
    fixture killme killme
    fixture index index
    start_registry main
    start_registry other
    htpasswd -Bbn husk s3cret >"$WORK/htpasswd"
    start_registry basic "auth: {htpasswd: {realm: husk-test, path: $WORK/htpasswd}}"
    start_token_registry token
    push busybox "$REG_main" src/busybox:latest
    push killme "$REG_main" src/killme:latest
    push index "$REG_main" src/index:latest --all
    "$HUSK" --root "$ROOT" pull -q --tls-verify=false "$REG_main/src/busybox" >/dev/null
    "$HUSK" --root "$ROOT" pull -q --tls-verify=false "$REG_main/src/killme" >/dev/null
    "$HUSK" --root "$ROOT" pull -q --tls-verify=false "$REG_main/src/index" >/dev/null
}

teardown_file() { images_teardown; }

# The manifest digest the registry serves for REF (host:port/repo:tag).
reg_digest() {
    skopeo inspect --tls-verify=false "docker://$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])'
}

@test "push: every blob uploaded; skopeo and a pull into a fresh root see the same digest, and it runs" {
    husk tag "$REG_main/src/busybox" "$REG_other/app:1"
    run husk push --tls-verify=false "$REG_other/app:1"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "The push refers to repository [$REG_other/app]" ]
    [[ "${lines[1]}" =~ ^[0-9a-f]{12}:\ Pushed$ ]]
    want=$(reg_digest "$REG_main/src/busybox")
    [[ "${lines[2]}" =~ ^1:\ digest:\ $want\ size:\ [0-9]+$ ]]
    [ "$(reg_digest "$REG_other/app:1")" = "$want" ]
    run "$HUSK" --root "$WORK/fresh" pull --tls-verify=false "$REG_other/app:1"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Digest: $want"* ]]
    run python3 "$HUSK_SRC/scripts/subreaper.py" "$HUSK" --root "$WORK/fresh" run --rm --network none \
        "$REG_other/app:1" echo pushed-and-back
    [ "$status" -eq 0 ]
    [ "$output" = "pushed-and-back" ]
}

@test "push: a second push says Layer already exists for every layer" {
    husk tag "$REG_main/src/busybox" "$REG_other/again:1"
    husk push --tls-verify=false "$REG_other/again:1" >/dev/null
    run husk push --tls-verify=false "$REG_other/again:1"
    [ "$status" -eq 0 ]
    [[ "${lines[1]}" =~ ^[0-9a-f]{12}:\ Layer\ already\ exists$ ]]
    [[ "$output" != *"Pushed"* ]]
}

@test "push: a layer another repository of the registry holds is mounted, not uploaded" {
    husk tag "$REG_main/src/killme" "$REG_main/mine/killme:2"
    run husk push --tls-verify=false "$REG_main/mine/killme:2"
    echo "$output"
    [ "$status" -eq 0 ]
    # every layer mounted; the busybox layer from src/busybox (the first name the store
    # knows it by)
    layers=$(husk image inspect -f '{{len .RootFS.Layers}}' "$REG_main/src/killme")
    [ "$(grep -c ': Mounted from src/\(killme\|busybox\)$' <<<"$output")" -eq "$layers" ]
    [[ "$output" != *"Pushed"* ]]
    want=$(reg_digest "$REG_main/src/killme")
    [[ "$output" == *"2: digest: $want size: "* ]]
}

@test "push --all-tags: every tag of the repository, each with its digest line" {
    husk tag "$REG_main/src/busybox" "$REG_other/tags:one"
    husk tag "$REG_main/src/killme" "$REG_other/tags:two"
    run husk push --tls-verify=false -a "$REG_other/tags"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(grep -c '^The push refers to repository' <<<"$output")" -eq 1 ]
    [[ "$output" == *"one: digest: $(reg_digest "$REG_main/src/busybox") size: "* ]]
    [[ "$output" == *"two: digest: $(reg_digest "$REG_main/src/killme") size: "* ]]
    [ "$(reg_digest "$REG_other/tags:two")" = "$(reg_digest "$REG_main/src/killme")" ]
    run husk push --tls-verify=false -a "$REG_other/tags:one"
    [ "$status" -ne 0 ]
    [ "$output" = "husk: error: push --all-tags \"$REG_other/tags:one\": give a repository without a tag or digest" ]
    run husk push --tls-verify=false --all-tags "$REG_other/none"
    [ "$status" -ne 0 ]
    [[ "$output" == *"no tag of $REG_other/none in the store"* ]]
}

@test "push of an image pulled from an index: the index goes up whole, other platforms copied" {
    index_platforms
    want=$(skopeo inspect --raw --tls-verify=false "docker://$REG_main/src/index" | sha256sum | cut -d' ' -f1)
    arm=$(skopeo inspect --raw --tls-verify=false "docker://$REG_main/src/index" |
        python3 -c 'import json,sys; print([m["digest"] for m in json.load(sys.stdin)["manifests"] if m["platform"]["architecture"]==sys.argv[1]][0])' "$OTHER_ARCH")
    # the same registry: the other platform's blobs are mounted from src/index
    husk tag "$REG_main/src/index" "$REG_main/dst/index:1"
    run husk push --tls-verify=false "$REG_main/dst/index:1"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"$OTHER_PLATFORM ${arm:7:12}: Copied from src/index"* ]]
    [[ "$output" == *"linux/$HOST_ARCH "*": Pushed"* ]]
    [[ "$output" == *"Mounted from src/index"* ]]
    [[ "${lines[-1]}" == "1: digest: sha256:$want size: "* ]]
    [ "$(skopeo inspect --raw --tls-verify=false "docker://$REG_main/dst/index:1" | sha256sum | cut -d' ' -f1)" = "$want" ]
    skopeo inspect --raw --tls-verify=false "docker://$REG_main/dst/index@$arm" >/dev/null
    # another registry: the other platform's blobs are streamed through; a second push finds all there
    husk tag "$REG_main/src/index" "$REG_other/index:1"
    run -0 husk push --tls-verify=false "$REG_other/index:1"
    [ "$(skopeo inspect --raw --tls-verify=false "docker://$REG_other/index:1" | sha256sum | cut -d' ' -f1)" = "$want" ]
    skopeo copy -q --all --src-tls-verify=false "docker://$REG_other/index:1" "oci:$WORK/index-copy:x"
    run -0 husk push --tls-verify=false "$REG_other/index:1"
    [[ "$output" == *"$OTHER_PLATFORM ${arm:7:12}: Manifest already exists"* ]]
    [ "$(grep -c '^[0-9a-f]\{12\}: Layer already exists$' <<<"$output")" -eq 1 ]
    run grep -c '^[0-9a-f]\{12\}: Pushed$' <<<"$output"
    [ "$output" = 0 ]
    [ -z "$(ls "$ROOT/tmp")" ]
}

@test "push: large blobs go up in PATCH chunks and pull back whole" {
    husk tag "$REG_main/src/killme" "$REG_other/chunked:1"
    run husk push --tls-verify=false --chunk-size 1000000 "$REG_other/chunked:1"
    [ "$status" -eq 0 ]
    want=$(reg_digest "$REG_main/src/killme")
    [[ "$output" == *"1: digest: $want size: "* ]]
    run "$HUSK" --root "$WORK/fresh-chunked" pull --tls-verify=false "$REG_other/chunked:1"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Digest: $want"* ]]
}

@test "push: basic auth refused without credentials (one line), accepted with --creds and husk login" {
    husk tag "$REG_main/src/busybox" "$REG_basic/husk/app:1"
    run husk push --tls-verify=false "$REG_basic/husk/app:1"
    [ "$status" -ne 0 ]
    [ "$(grep -c 'husk: error' <<<"$output")" -eq 1 ]
    [[ "$output" == *"401"* ]]
    run husk push -q --tls-verify=false --creds husk:s3cret "$REG_basic/husk/app:1"
    [ "$status" -eq 0 ]
    husk login --tls-verify=false -u husk -p s3cret "$REG_basic" >/dev/null
    run husk push --tls-verify=false "$REG_basic/husk/app:1"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Layer already exists"* ]]
    skopeo inspect --tls-verify=false --creds husk:s3cret "docker://$REG_basic/husk/app:1" >/dev/null
}

@test "push: bearer tokens: anonymous pushes are refused, credentials get pull,push" {
    husk tag "$REG_main/src/busybox" "$REG_token/public/app:1"
    run husk push --tls-verify=false "$REG_token/public/app:1"
    [ "$status" -ne 0 ]
    [ "$(grep -c 'husk: error' <<<"$output")" -eq 1 ]
    [[ "$output" == *"401"* ]]
    run husk push --tls-verify=false --creds husk:t0ken "$REG_token/public/app:1"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Pushed"* ]]
    # anonymous pulls of public/ are allowed: it pulls back with the pushed digest
    want=$(reg_digest "$REG_main/src/busybox")
    run "$HUSK" --root "$WORK/fresh-token" pull --tls-verify=false "$REG_token/public/app:1"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Digest: $want"* ]]
}

@test "push: an unknown image, a bad reference, an unreachable registry: one line, non-zero, nothing changed" {
    before=$(store_state)
    run husk push --tls-verify=false "$REG_other/nope:1"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"not known"* ]]
    run husk push --tls-verify=false "$REG_other/Bad:1"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"invalid reference"* ]]
    [ "$(store_state)" = "$before" ]
    port=$(free_port)
    husk tag "$REG_main/src/busybox" "127.0.0.1:$port/gone:1"
    before=$(store_state)
    run husk push --tls-verify=false "127.0.0.1:$port/gone:1"
    [ "$status" -ne 0 ]
    [ "$(grep -c 'husk: error' <<<"$output")" -eq 1 ]
    [[ "$output" == *"cannot reach 127.0.0.1:$port"* ]]
    [ "$(store_state)" = "$before" ]
}

@test "push killed at random moments: a second push completes and the image pulls back intact" {
    husk tag "$REG_main/src/killme" "$REG_other/killed:1"
    for i in 1 2 3 4 5 6; do
        "$HUSK" --root "$ROOT" push --tls-verify=false --chunk-size 4000000 "$REG_other/killed:1" >/dev/null 2>&1 &
        pid=$!
        sleep "0.$((RANDOM % 9 + 1))"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" || true
    done
    run husk push --tls-verify=false "$REG_other/killed:1"
    [ "$status" -eq 0 ]
    want=$(reg_digest "$REG_main/src/killme")
    [[ "$output" == *"1: digest: $want size: "* ]]
    run "$HUSK" --root "$WORK/fresh-killed" pull --tls-verify=false "$REG_other/killed:1"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Digest: $want"* ]]
    skopeo copy -q --src-tls-verify=false "docker://$REG_other/killed:1" "oci:$WORK/killed-copy:x"
}

@test "build --platform: FROM's image pulled for that platform from its index (COPY only), pushed, its repo digest recorded" {
    index_platforms
    other=$OTHER_PLATFORM arch=$OTHER_ARCH
    mkdir -p "$WORK/ctx-plat"
    echo added >"$WORK/ctx-plat/f"
    printf 'FROM %s/src/index\nCOPY f /f\n' "$REG_main" >"$WORK/ctx-plat/Dockerfile"
    run husk build --tls-verify=false --platform "$other" -t "$REG_other/plat:1" "$WORK/ctx-plat"
    echo "$output"
    [ "$status" -eq 0 ]
    run -0 husk image inspect -f '{{.Architecture}}' "$REG_other/plat:1"
    [ "$output" = "$arch" ]
    run -0 husk image inspect -f '{{json .RepoDigests}}' "$REG_other/plat:1"
    [ "$output" = "[]" ]
    run -0 husk push --tls-verify=false "$REG_other/plat:1"
    want=$(reg_digest "$REG_other/plat:1")
    # the pushed digest is recorded, as docker's RepoDigests shows it
    run -0 husk image inspect -f '{{json .RepoDigests}}' "$REG_other/plat:1"
    [ "$output" = "[\"$REG_other/plat@$want\"]" ]
    run -0 skopeo inspect --tls-verify=false --override-arch "$arch" "docker://$REG_other/plat:1"
    [[ "$output" == *"\"Architecture\": \"$arch\""* ]]
}
