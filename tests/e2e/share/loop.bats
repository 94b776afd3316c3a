#!/usr/bin/env bats
# husk tag, history, export and import on the offline husk/busybox image (no registry):
# names and their errors, docker's history columns, and a container's filesystem
# exported and imported again with its files, modes and owners.

load ../images/helpers

setup_file() {
    [ "$(id -u)" = 0 ] || skip "containers need root"
    [ -x /bin/busybox ] || skip "busybox-static is not installed (scripts/deps.sh installs it)"
    images_setup
    bash "$HUSK_SRC/scripts/make-busybox-image.sh" --root "$ROOT" --husk "$HUSK" >/dev/null
    CTR=share-loop-$$
    export CTR
    python3 "$HUSK_SRC/scripts/subreaper.py" "$HUSK" --root "$ROOT" run --name "$CTR" --network none \
        husk/busybox sh -c 'mkdir -p /data/sub && echo exported >/data/f && chmod 640 /data/f &&
            chown 12:34 /data/f && ln -s f /data/link && chmod 1777 /data/sub && ln /data/f /data/hard &&
            rm /etc/group'
}

teardown_file() {
    "$HUSK" --root "$ROOT" rm -f "$CTR" >/dev/null 2>&1 || true
    images_teardown
}

# The image id of IMAGE, 12 hex digits (what docker's tables show).
short_id() {
    husk image inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"][7:19])'
}

@test "tag: names the same image, by name or by id prefix" {
    husk tag husk/busybox share/tagged:v1
    id=$(short_id husk/busybox)
    husk tag "$id" 127.0.0.1:5000/share/byid
    run husk images
    [[ "$output" == *"share/tagged"*"v1"*"$id"* ]]
    [[ "$output" == *"127.0.0.1:5000/share/byid"*"latest"*"$id"* ]]
}

@test "tag: a bad target, a digest target or an unknown source is one line, non-zero, nothing changed" {
    before=$(cat "$ROOT/index.json")
    run husk tag husk/busybox Bad/Name
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"invalid reference"*"lowercase"* ]]
    run husk tag husk/busybox "share/x@sha256:$(printf '%064d' 0)"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"refusing to create a tag with a digest reference"* ]]
    run husk tag share/nope share/x
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *'"share/nope" not known'* ]]
    [ "$(cat "$ROOT/index.json")" = "$before" ]
}

@test "history: docker's columns, -q, --no-trunc and --format" {
    run husk history husk/busybox
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^IMAGE\ +CREATED\ +CREATED\ BY\ +SIZE\ +COMMENT$ ]]
    id=$(short_id husk/busybox)
    [[ "${lines[1]}" == "$id "* ]]
    run husk history -q husk/busybox
    [ "${lines[0]}" = "$id" ]
    run husk history -q --no-trunc husk/busybox
    [[ "${lines[0]}" =~ ^sha256:[0-9a-f]{64}$ ]]
    run husk history --format '{{.ID}}|{{.Size}}' husk/busybox
    [[ "${lines[0]}" =~ ^$id\|[0-9.]+[kMG]?B$ ]]
    run husk history share/nope
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
}

@test "export, import: the container's files, modes, owners and links come back as a one-layer image" {
    husk export -o "$WORK/ctr.tar" "$CTR"
    run husk import -m "round trip" -c 'CMD ["cat", "/data/f"]' -c 'ENV A=b' -c 'WORKDIR /data' \
        "$WORK/ctr.tar" share/imported:1
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
    id=$(husk inspect -f '{{.Id}}' "$CTR")
    mnt=$(husk image mount share/imported:1)
    python3 "$TREECMP" "$ROOT/rootfs/$id/merged" "$mnt"
    husk image unmount share/imported:1
    [ ! -e "$mnt/etc/group" ]
    [ "$(husk history -q share/imported:1 | wc -l)" -eq 1 ]
    [ "$(husk history --format '{{.Comment}}' share/imported:1)" = "round trip" ]
    run python3 "$HUSK_SRC/scripts/subreaper.py" "$HUSK" --root "$ROOT" run --rm --network none \
        share/imported:1
    [ "$status" -eq 0 ]
    [ "$output" = "exported" ]
    run python3 "$HUSK_SRC/scripts/subreaper.py" "$HUSK" --root "$ROOT" run --rm --network none \
        share/imported:1 sh -c 'echo $A $(pwd)'
    [ "$output" = "b /data" ]
}

@test "import from stdin (gzip) with no name: an unnamed image" {
    husk export "$CTR" | gzip -c >"$WORK/ctr.tar.gz"
    run husk import - <"$WORK/ctr.tar.gz"
    [ "$status" -eq 0 ]
    run husk images
    [[ "$output" == *"<none>"* ]]
}

@test "export to a terminal, of an unknown container; import of garbage or a bad change: one line, nothing left" {
    run script -qec "$HUSK --root $ROOT export $CTR" /dev/null
    [ "$status" -ne 0 ]
    [[ "$output" == *"refusing to save to a terminal"* ]]
    run husk export -o "$WORK/none.tar" share-no-such
    [ "$status" -ne 0 ]
    [[ "$output" == *"No such container: share-no-such"* ]]
    [ ! -e "$WORK/none.tar" ]
    [ -z "$(find "$WORK" -maxdepth 1 -name '*.husk-export-tmp')" ]
    before=$(store_state)
    head -c 10000 /dev/urandom >"$WORK/garbage"
    run husk import "$WORK/garbage" share/garbage
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    run husk import -c 'FROB x' "$WORK/ctr.tar" share/frob
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"FROB is not a valid change command"* ]]
    [ "$(store_state)" = "$before" ]
}

@test "export -o a device or a symlink writes through it, never renames over it" {
    mknod "$WORK/null" c 1 3
    husk export -o "$WORK/null" "$CTR"
    [ -c "$WORK/null" ]
    : >"$WORK/real.tar"
    ln -s real.tar "$WORK/link.tar"
    husk export -o "$WORK/link.tar" "$CTR"
    [ -L "$WORK/link.tar" ]
    tar -tf "$WORK/real.tar" | grep -qx 'data/f'
}
