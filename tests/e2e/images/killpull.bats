#!/usr/bin/env bats
# `husk pull` killed (SIGKILL) at random moments against a local registry: the next
# pull completes, the image is whole and verified, and nothing is left half-done under
# the data root: no staging in tmp/, no snapshot that is not the image's, none without
# its tree. Every other round forces unpack's writer threads (HUSK_UNPACK_WRITERS=4), so
# kills land while files are queued or half-written by them whatever the CPU count; the
# fixture's last layer is thousands of small files with same-layer replacements.

load helpers

ROUNDS=${HUSK_KILL_ROUNDS:-24}

setup_file() {
    need docker-registry skopeo umoci
    images_setup
    start_registry main
    fixture killme killme
    push killme "$REG_main" husk/killme:latest
    umoci unpack --image "$LAYOUT:killme" "$WORK/umoci-killme" >/dev/null
}

teardown_file() { images_teardown; }

# The store holds the image whole and nothing else: every blob matches its digest,
# each layer has its one complete snapshot, tmp/ is empty, and the tree is umoci's.
assert_whole() {
    local ref=$1 expected
    [ -z "$(ls -A "$ROOT/tmp")" ] || { ls -la "$ROOT/tmp"; return 1; }
    for b in "$ROOT"/blobs/sha256/*; do
        [ "$(sha256sum <"$b" | cut -d' ' -f1)" = "$(basename "$b")" ]
    done
    expected=$(husk image inspect "$ref" | python3 -c \
        'import json,sys; print("\n".join(sorted(p.split("/")[-2] for p in json.load(sys.stdin)[0]["Snapshots"])))')
    [ "$(ls "$ROOT/snapshots")" = "$expected" ]
    for s in "$ROOT"/snapshots/*; do
        [ -d "$s/fs" ]
        [ -f "$s/size" ]
        [ "$(ls -A "$s" | wc -l)" -eq 2 ]
    done
    mnt=$(husk image mount "$ref")
    python3 "$TREECMP" "$WORK/umoci-killme/rootfs" "$mnt"
    husk image unmount "$ref"
}

@test "pull killed at random moments: the next pull completes and leaves nothing behind" {
    ref="$REG_main/husk/killme"
    start=$(date +%s%N)
    husk pull -q --tls-verify=false "$ref"
    full_ms=$(( ($(date +%s%N) - start) / 1000000 + 1 ))
    assert_whole "$ref"
    mid_pull=0
    for round in $(seq "$ROUNDS"); do
        husk rmi "$ref" >/dev/null
        husk image prune >/dev/null
        writers=$(( round % 2 == 0 ? 4 : 0 ))
        HUSK_UNPACK_WRITERS=$writers "$HUSK" --root "$ROOT" pull -q --tls-verify=false "$ref" >/dev/null 2>&1 &
        pid=$!
        delay_ms=$(( RANDOM % full_ms ))
        sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
        kill -9 "$pid" 2>/dev/null || true
        rc=0
        wait "$pid" || rc=$?
        [ "$rc" -eq 137 ] && mid_pull=$((mid_pull + 1))
        echo "round $round: killed after ${delay_ms} ms of a ${full_ms} ms pull, $writers writer threads (exit $rc)"
        # the next pull completes, with the same number of writers
        HUSK_UNPACK_WRITERS=$writers husk pull -q --tls-verify=false "$ref"
        assert_whole "$ref"
    done
    # most kills landed during a pull: were they all after its end, nothing was tested
    echo "$mid_pull of $ROUNDS kills landed during the pull"
    [ $((mid_pull * 3)) -ge "$ROUNDS" ]
}
