#!/usr/bin/env bats
# Layers built to escape the layer root (the umoci and containerd unpack CVEs):
# each pull fails or is contained, and nothing outside the store changes.

load helpers

setup_file() {
    need docker-registry skopeo
    images_setup
    start_registry main
    for f in dotdot abs-symlink hardlink-out root-symlink bomb big; do
        fixture "$f" "$f"
        push "$f" "$REG_main" "husk/$f:latest"
    done
    sha256sum /etc/shadow /etc/passwd >"$WORK/host-files.sum"
}

teardown_file() { images_teardown; }

# Nothing appeared next to the marker, the host files are intact, no staging left.
assert_contained() {
    [ -z "$(ls -A "$WORK/outside")" ]
    sha256sum -c --quiet "$WORK/host-files.sum"
    [ -z "$(ls -A "$ROOT/tmp")" ]
    ! ls /tmp/marker-* 2>/dev/null || false
}

@test "../ escapes are clamped at the layer root" {
    run husk pull --tls-verify=false "$REG_main/husk/dotdot"
    echo "$output"
    [ "$status" -eq 0 ]
    assert_contained
    mnt=$(husk image mount "$REG_main/husk/dotdot")
    [ -f "$mnt$HUSK_ESCAPE_MARKER-dotdot" ]
    [ -f "$mnt/marker-dotdot2" ]
    husk image unmount "$REG_main/husk/dotdot"
}

@test "a file through an absolute symlink to a directory outside the layer is refused" {
    run husk pull --tls-verify=false "$REG_main/husk/abs-symlink"
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *'layer entry "evil/'*'parent directory "evil" is a symlink to a directory the layer does not have'* ]]
    assert_contained
    run husk images
    [[ "$output" != *abs-symlink* ]]
}

@test "a hardlink to /etc/shadow is refused" {
    run husk pull --tls-verify=false "$REG_main/husk/hardlink-out"
    [ "$status" -ne 0 ]
    [[ "$output" == *'hardlink target "etc/shadow"'* ]]
    assert_contained
    run husk images
    [[ "$output" != *hardlink-out* ]]
}

@test "a symlink replacing . is refused" {
    run husk pull --tls-verify=false "$REG_main/husk/root-symlink"
    [ "$status" -ne 0 ]
    [[ "$output" == *"would replace the root of the layer"* ]]
    assert_contained
}

@test "a layer over the size limit (decompression bomb) is stopped and removed" {
    before=$(store_state)
    run husk pull --tls-verify=false --max-layer-size 1048576 "$REG_main/husk/bomb"
    [ "$status" -ne 0 ]
    [[ "$output" == *"larger than the limit of 1048576 bytes"* ]]
    [ "$(store_state)" = "$before" ]
}

@test "a layer that would fill the disk below the reserve is stopped and removed" {
    before=$(store_state)
    run husk pull --tls-verify=false --disk-reserve 1000000000000000 "$REG_main/husk/big"
    [ "$status" -ne 0 ]
    [[ "$output" == *"would leave less than 1000000000000000 bytes free"* ]]
    [ "$(store_state)" = "$before" ]
}
