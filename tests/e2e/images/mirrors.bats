#!/usr/bin/env bats
# Registry mirrors (registries.json "mirrors"): tried in order before the registry,
# a mirror that fails is skipped with a warning, the registry itself is the fallback.

load helpers

setup_file() {
    need docker-registry skopeo
    images_setup
    start_registry origin
    start_registry mirror
    fixture busybox busybox
    fixture multilayer multi
    # the mirror holds busybox (also under a path prefix); the origin only multi
    push busybox "$REG_mirror" husk/busybox:latest
    push busybox "$REG_mirror" cache/husk/busybox:latest
    push multi "$REG_origin" husk/multi:latest
    DOWN=127.0.0.1:$(free_port)
    export DOWN
}

teardown_file() { images_teardown; }

setup() { rm -rf "$ROOT"; }

# mirrors_config MIRROR...: registries.json with these mirrors of $REG_origin
mirrors_config() {
    local list
    list=$(printf '"%s",' "$@")
    echo "{\"insecure\": [\"127.0.0.1:*\"], \"mirrors\": {\"$REG_origin\": [${list%,}]}}" \
        >"$WORK/registries.json"
}

@test "a mirror that is down is skipped with a warning; the next mirror serves the image" {
    mirrors_config "$DOWN" "$REG_mirror"
    HUSK_REGISTRIES_CONFIG=$WORK/registries.json run husk pull "$REG_origin/husk/busybox"
    [ "$status" -eq 0 ]
    [[ "$output" == *"mirror $DOWN of $REG_origin skipped"*"cannot reach"* ]]
    # named after the reference asked for, not after the mirror
    run husk images --format '{{.Repository}}:{{.Tag}}'
    [[ "$output" == *"$REG_origin/husk/busybox:latest"* ]]
    [[ "$output" != *"$REG_mirror"* ]]
    mnt=$(husk image mount "$REG_origin/husk/busybox")
    [ -x "$mnt/bin/busybox" ]
    husk image unmount "$REG_origin/husk/busybox"
}

@test "a mirror with a path puts it in front of the repository" {
    mirrors_config "$REG_mirror/cache"
    HUSK_REGISTRIES_CONFIG=$WORK/registries.json run husk pull "$REG_origin/husk/busybox"
    [ "$status" -eq 0 ]
    [[ "$output" != *skipped* ]]
}

@test "mirrors from <root>/registries.json; the registry itself when no mirror has the image" {
    mirrors_config "$DOWN" "$REG_mirror"
    mkdir -p "$ROOT" && cp "$WORK/registries.json" "$ROOT/registries.json"
    run husk pull "$REG_origin/husk/multi"
    [ "$status" -eq 0 ]
    [[ "$output" == *"mirror $DOWN of $REG_origin skipped"* ]]
    [[ "$output" == *"mirror $REG_mirror of $REG_origin skipped"*"MANIFEST_UNKNOWN"* ]]
    run husk images
    [[ "$output" == *"$REG_origin/husk/multi"* ]]
}

@test "every mirror and the registry fail: the registry's error, the store unchanged" {
    mirrors_config "$DOWN" "$REG_mirror"
    export HUSK_REGISTRIES_CONFIG=$WORK/registries.json
    husk pull -q "$REG_origin/husk/multi" >/dev/null 2>&1
    before=$(store_state)
    run husk pull "$REG_origin/husk/nothere"
    [ "$status" -ne 0 ]
    [[ "$(echo "$output" | tail -1)" == *"registry $REG_origin, repository \"husk/nothere\""*"MANIFEST_UNKNOWN"* ]]
    [ "$(store_state)" = "$before" ]
}

@test "a malformed mirror entry: one clear error, the store unchanged" {
    mkdir -p "$ROOT"
    husk images >/dev/null
    before=$(store_state)
    echo "{\"mirrors\": {\"$REG_origin\": [\"http://$REG_mirror\"]}}" >"$WORK/bad.json"
    HUSK_REGISTRIES_CONFIG=$WORK/bad.json run husk pull "$REG_origin/husk/busybox"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"registries config \"$WORK/bad.json\": mirrors[\"$REG_origin\"][0]: invalid mirror"*"without a scheme"* ]]
    echo '{"mirrors": ["x"]}' >"$WORK/bad.json"
    HUSK_REGISTRIES_CONFIG=$WORK/bad.json run husk pull "$REG_origin/husk/busybox"
    [ "$status" -ne 0 ]
    [[ "$output" == *"mirrors: expected an object"* ]]
    HUSK_REGISTRIES_CONFIG=$WORK/missing.json run husk pull "$REG_origin/husk/busybox"
    [ "$status" -ne 0 ]
    [[ "$output" == *"HUSK_REGISTRIES_CONFIG: \"$WORK/missing.json\" does not exist"* ]]
    [ "$(store_state)" = "$before" ]
}
