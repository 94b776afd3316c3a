#!/usr/bin/env bats
# Pulls that exercise the unpacker through a registry: hardlinks into lower layers as
# a container sees them, the root cause of a failed layer, a gzip bomb of zeros.

load helpers

setup_file() {
    need docker-registry skopeo umoci
    images_setup
    start_registry main
    for f in lowerlink onefails; do
        fixture "$f" "$f"
        push "$f" "$REG_main" "husk/$f:latest"
    done
    fixture zeros zeros --zeros-mib 1024
    push_raw zeros "$REG_main" husk/zeros:latest
}

teardown_file() { images_teardown; }

@test "a hardlink to a lower layer's file: one file under both names in the container, as umoci makes it" {
    ref="$REG_main/husk/lowerlink"
    husk pull -q --tls-verify=false "$ref"
    run python3 "$HUSK_SRC/scripts/subreaper.py" "$HUSK" --root "$ROOT" run --rm --network none "$ref" \
        stat -c '%i %h %a %u %n' /usr/share/doc/orig /links/one /second /links/two
    echo "$output"
    [ "$status" -eq 0 ]
    read -r ino1 n1 mode1 uid1 _ <<<"${lines[0]}"
    read -r ino2 n2 mode2 uid2 _ <<<"${lines[1]}"
    [ "$ino1" = "$ino2" ]
    [ "$n1" = 2 ]
    [ "$n2" = 2 ]
    [ "$mode1" = 640 ]
    [ "$uid1" = 7 ]
    [ "$mode2" = 640 ]
    [ "$uid2" = 7 ]
    read -r ino3 n3 _ <<<"${lines[2]}"
    read -r ino4 n4 _ <<<"${lines[3]}"
    [ "$ino3" = "$ino4" ]
    [ "$n3" = 2 ]
    [ "$n4" = 2 ]
    mnt=$(husk image mount "$ref")
    umoci unpack --image "$LAYOUT:lowerlink" "$WORK/umoci-lowerlink" >/dev/null
    python3 "$TREECMP" "$WORK/umoci-lowerlink/rootfs" "$mnt"
    husk image unmount "$ref"
}

@test "a refused layer is what the failed pull reports, not the layers cancelled because of it" {
    before=$(store_state)
    run husk pull --tls-verify=false "$REG_main/husk/onefails"
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"would replace the root of the layer"* ]]
    [[ "$output" != *cancelled* ]]
    [ "$(store_state)" = "$before" ]
}

@test "a gzip bomb of zeros is stored as holes; one larger than the free disk stops before writing" {
    probe="$ROOT.probe"
    truncate -s 64M "$probe"
    sparse=$(( $(stat -c %b "$probe") == 0 ))
    rm -f "$probe"
    ref="$REG_main/husk/zeros"
    husk pull -q --tls-verify=false --disk-reserve 1 "$ref"
    f=$(find "$ROOT/snapshots" -name zeros)
    [ "$(stat -c %s "$f")" = 1073741824 ]
    if [ "$sparse" = 1 ]; then
        [ "$(( $(stat -c %b "$f") * $(stat -c %B "$f") ))" -lt 1048576 ]
    else
        echo "# the file system under $ROOT has no holes: the hole check is skipped" >&3
    fi
    husk rmi "$ref"
    husk image prune >/dev/null
    avail=$(df --output=avail -B1 "$ROOT" | tail -1)
    run husk pull --tls-verify=false --disk-reserve $((avail - (256 << 20))) "$ref"
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *'layer entry "zeros": the layer'*"free on the disk above the reserve"* ]]
    [ "$(grep -c error <<<"$output")" -eq 1 ]
    [ -z "$(ls -A "$ROOT/tmp")" ]
    [ -z "$(find "$ROOT/snapshots" -name zeros)" ]
}
