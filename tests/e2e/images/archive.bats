#!/usr/bin/env bats
# husk save / husk load of OCI archives, and the default offline image.

load helpers

setup_file() {
    need skopeo umoci
    images_setup
}

teardown_file() { images_teardown; }

@test "make-busybox-image.sh loads husk/busybox:latest; its root runs busybox" {
    "$HUSK_SRC/scripts/make-busybox-image.sh" --root "$ROOT" --husk "$HUSK" -o "$WORK/bb.tar"
    run husk images
    [[ "$output" == *"husk/busybox"*latest* ]]
    mnt=$(husk image mount husk/busybox)
    [ "$(chroot "$mnt" /bin/echo hello)" = hello ]
    grep -q '^root:x:0:0:' "$mnt/etc/passwd"
    husk image unmount husk/busybox
}

@test "save writes an OCI archive skopeo reads; load brings it into another store" {
    "$HUSK_SRC/scripts/make-busybox-image.sh" --root "$ROOT" --husk "$HUSK" >/dev/null
    husk save -o "$WORK/saved.tar" husk/busybox
    skopeo inspect "oci-archive:$WORK/saved.tar:docker.io/husk/busybox:latest" >/dev/null
    run "$HUSK" --root "$WORK/other" load -i "$WORK/saved.tar"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Loaded image: docker.io/husk/busybox:latest"* ]]
    [ "$(husk images -q)" = "$("$HUSK" --root "$WORK/other" images -q)" ]
    # and from stdin, under another name
    "$HUSK" --root "$WORK/third" load --tag example/bb:1 <"$WORK/saved.tar"
    run "$HUSK" --root "$WORK/third" images
    [[ "$output" == *"example/bb"*1* ]]
}

@test "load refuses a corrupt archive and leaves the store unchanged" {
    "$HUSK_SRC/scripts/make-busybox-image.sh" --root "$ROOT" --husk "$HUSK" -o "$WORK/bb.tar" >/dev/null
    before=$(store_state)
    mkdir "$WORK/corrupt" && tar -C "$WORK/corrupt" -xf "$WORK/bb.tar"
    for b in "$WORK"/corrupt/blobs/sha256/*; do
        [ "$(stat -c %s "$b")" -gt 100000 ] && printf 'X' | dd of="$b" bs=1 seek=5000 conv=notrunc 2>/dev/null
    done
    tar -C "$WORK/corrupt" -cf "$WORK/corrupt.tar" .
    run "$HUSK" --root "$WORK/fresh" load -i "$WORK/corrupt.tar"
    [ "$status" -ne 0 ]
    [[ "$output" == *"content has digest"* ]]
    run "$HUSK" --root "$WORK/fresh" images -q
    [ -z "$output" ]
    [ "$(store_state)" = "$before" ]
}
