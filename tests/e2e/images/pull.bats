#!/usr/bin/env bats
# husk pull against a real docker-registry: fixtures built by the test, trees
# compared with what `umoci unpack` makes of the same image.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
    need docker-registry skopeo umoci zstd
    images_setup
    start_registry main
    fixture busybox busybox
    fixture multilayer multi
    fixture multilayer multi-zstd --compression zstd
    fixture multilayer multi-plain --compression none
    fixture index index
    fixture big big
    fixture many many
    push many "$REG_main" husk/many:latest
    push busybox "$REG_main" husk/busybox:latest
    push multi "$REG_main" husk/multi:latest
    push multi-zstd "$REG_main" husk/multi:zstd
    push_raw multi-plain "$REG_main" husk/multi:plain
    push index "$REG_main" husk/index:latest --all
    push big "$REG_main" husk/big:latest
    umoci unpack --image "$LAYOUT:multi" "$WORK/umoci-multi" >/dev/null
    umoci unpack --image "$LAYOUT:busybox" "$WORK/umoci-busybox" >/dev/null
    umoci unpack --image "$LAYOUT:big" "$WORK/umoci-big" >/dev/null
}

teardown_file() { images_teardown; }

@test "pull busybox: listed by husk images, stored as an OCI layout skopeo and umoci read" {
    run husk pull --tls-verify=false "$REG_main/husk/busybox"
    [ "$status" -eq 0 ]
    [[ "$output" == *"$REG_main/husk/busybox:latest"* ]]
    run husk images
    [[ "$output" == *"$REG_main/husk/busybox"*latest* ]]
    run husk images --format '{{.Repository}}:{{.Tag}}'
    [[ "$output" == *"$REG_main/husk/busybox:latest"* ]]
    skopeo inspect "oci:$ROOT:$REG_main/husk/busybox:latest" >/dev/null
    umoci unpack --image "$ROOT:$REG_main/husk/busybox:latest" "$WORK/from-store" >/dev/null
    python3 "$TREECMP" "$WORK/umoci-busybox/rootfs" "$WORK/from-store/rootfs"
}

@test "pull on a terminal shows docker's per-layer progress; not on a terminal, plain lines" {
    local tty_root=$WORK/tty-root
    run python3 "$HUSK_SRC/tests/e2e/run/pty_drive.py" 40 120 -- \
        "$HUSK" --root "$tty_root" pull --tls-verify=false "$REG_main/husk/multi" <<<"expect Status:"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Using default tag: latest"*"latest: Pulling from husk/multi"* ]]
    [[ "$output" == *": Pull complete"* ]]
    [[ "$output" == *"Digest: sha256:"*"Status: Downloaded newer image for $REG_main/husk/multi:latest"* ]]
    run python3 "$HUSK_SRC/tests/e2e/run/pty_drive.py" 40 120 -- \
        "$HUSK" --root "$tty_root" pull --tls-verify=false "$REG_main/husk/multi:latest" <<<"expect Status:"
    [ "$status" -eq 0 ]
    [[ "$output" != *"Using default tag"* ]]
    [[ "$output" == *": Already exists"*"Status: Image is up to date for $REG_main/husk/multi:latest"* ]]
    # stdout not a terminal: today's lines, no cursor movement
    run "$HUSK" --root "$tty_root" pull --tls-verify=false "$REG_main/husk/multi"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Image ID: "* ]]
    [[ "$output" != *"Pull complete"* && "$output" != *$'\x1b['* ]]
    rm -rf "$tty_root"
}

@test "pull on a terminal draws docker's download bar while a layer is half there" {
    # the registry through a proxy that holds each response for 2 s once 2 MiB of it are
    # through: the big layer is seen mid-download, its bar and byte counts drawn
    coproc PROXY { exec python3 "$HUSK_SRC/tests/e2e/images/stall_proxy.py" "$REG_main" 2097152 2; }
    read -r port <&"${PROXY[0]}"
    run python3 "$HUSK_SRC/tests/e2e/run/pty_drive.py" 40 120 -- \
        "$HUSK" --root "$WORK/bar-root" pull --tls-verify=false "127.0.0.1:$port/husk/big" <<<"expect Status:"
    kill "$PROXY_PID"
    rm -rf "$WORK/bar-root"
    [ "$status" -eq 0 ]
    # docker's frame: "Downloading [=====>      ]  2.1MB/104.9MB"
    [[ "$output" =~ Downloading\ \[=*\>\ +\]\ +[0-9.]+[kMG]?B/[0-9.]+[kMG]?B ]]
    [[ "$output" == *": Pull complete"* ]]
}

@test "multi-layer gzip image: mounted tree equals umoci unpack (whiteouts, opaque dirs, hardlinks, devices, setuid)" {
    husk pull -q --tls-verify=false "$REG_main/husk/multi"
    mnt=$(husk image mount "$REG_main/husk/multi")
    python3 "$TREECMP" "$WORK/umoci-multi/rootfs" "$mnt"
    [ ! -e "$mnt/gone/inner" ]
    [ ! -e "$mnt/gonedir" ]
    [ ! -e "$mnt/d/x" ]
    [ -e "$mnt/d/z" ]
    [ "$(stat -c %a "$mnt/bin/su")" = 4755 ]
    [ "$(stat -c %t,%T "$mnt/dev/null")" = 1,3 ]
    [ -p "$mnt/dev/fifo" ]
    [ "$(stat -c %i "$mnt/a/f1")" = "$(stat -c %i "$mnt/a/f1link")" ]
    husk image unmount "$REG_main/husk/multi"
    ! findmnt -rn "$mnt" || false
    # the same with writer threads, which this machine's CPU count may not turn on
    local wroot=$WORK/writers-root
    HUSK_UNPACK_WRITERS=4 "$HUSK" --root "$wroot" pull -q --tls-verify=false "$REG_main/husk/multi"
    mnt=$("$HUSK" --root "$wroot" image mount "$REG_main/husk/multi")
    python3 "$TREECMP" "$WORK/umoci-multi/rootfs" "$mnt"
    "$HUSK" --root "$wroot" image unmount "$REG_main/husk/multi"
    rm -rf "$wroot"
}

@test "a pull is on disk before the store counts it: one syncfs before its renames, no fsync per file" {
    command -v strace >/dev/null || skip "strace is not installed (scripts/deps.sh installs it)"
    local sroot=$WORK/sync-root
    strace -f -qq -y -e trace=syncfs,fsync,fdatasync,rename,renameat,renameat2 -o "$WORK/sync.trace" \
        "$HUSK" --root "$sroot" pull -q --tls-verify=false "$REG_main/husk/multi"
    layers=$("$HUSK" --root "$sroot" image inspect --format '{{len .RootFS.Layers}}' "$REG_main/husk/multi")
    [ "$layers" -gt 1 ]
    [ "$(grep -c 'syncfs(' "$WORK/sync.trace")" -eq 1 ]
    # every blob and snapshot renamed into place after it
    sync_line=$(grep -n 'syncfs(' "$WORK/sync.trace" | cut -d: -f1)
    grep -nE 'rename.*"[^"]*/(blobs/sha256|snapshots)/' "$WORK/sync.trace" >"$WORK/renames"
    [ "$(wc -l <"$WORK/renames")" -ge "$((2 * layers))" ]
    while IFS=: read -r n _; do [ "$n" -gt "$sync_line" ]; done <"$WORK/renames"
    # no file of the layers is synced on its own (strace -y names each fsync's file): only
    # the store's own small writes are (the config, the manifest, index.json: unnamed
    # O_TMPFILE files, 5 fsyncs here), none of a snapshot's tree
    grep -E 'fsync\(|fdatasync\(' "$WORK/sync.trace" || true
    run grep -E '(fsync|fdatasync)\([0-9]+<[^>]*(/snapshots/|/fs/)' "$WORK/sync.trace"
    [ "$status" -eq 1 ]
    [ "$(grep -cE 'fsync\(|fdatasync\(' "$WORK/sync.trace" || true)" -le 6 ]
    rm -rf "$sroot"
}

@test "zstd and uncompressed twins unpack to the tree of the gzip image" {
    husk pull -q --tls-verify=false "$REG_main/husk/multi:zstd"
    husk pull -q --tls-verify=false "$REG_main/husk/multi:plain"
    for t in zstd plain; do
        mnt=$(husk image mount "$REG_main/husk/multi:$t")
        python3 "$TREECMP" "$WORK/umoci-multi/rootfs" "$mnt"
        husk image unmount "$REG_main/husk/multi:$t"
    done
}

@test "index: this machine's platform by default, --platform picks another" {
    index_platforms
    run husk pull --tls-verify=false "$REG_main/husk/index"
    [ "$status" -eq 0 ]
    mnt=$(husk image mount "$REG_main/husk/index")
    [ -x "$mnt/bin/busybox" ]
    husk image unmount "$REG_main/husk/index"
    husk pull -q --tls-verify=false --platform "linux/$OTHER_ARCH" "$REG_main/husk/index:latest"
    run husk image inspect "$REG_main/husk/index"
    [[ "$output" == *"\"Architecture\": \"$OTHER_ARCH\""* ]]
    # a platform the index lacks (neither of the fixture's two)
    local none=s390x
    [ "$HOST_ARCH" != s390x ] || none=ppc64le
    run husk pull --tls-verify=false --platform "linux/$none" "$REG_main/husk/index"
    [ "$status" -ne 0 ]
    [[ "$output" == *"no image for platform linux/$none"*"$OTHER_PLATFORM"* ]]
}

@test "create --platform pulls the platform's image the store lacks: docker's line and a pull event" {
    index_platforms
    husk rmi -f "$REG_main/husk/index" >/dev/null 2>&1 || true  # an earlier test's pull
    pulls() {  # the journal's pull events of the index
        husk events --since 0 --until 0s --filter type=image --filter event=pull \
            --format '{{.Action}} {{.Actor.ID}}' | grep -c "^pull $REG_main/husk/index\$" || true
    }
    before=$(pulls)
    run -0 husk create --tls-verify=false --network none --platform "linux/$OTHER_ARCH" "$REG_main/husk/index" true
    [[ "$output" == *"Unable to find image '$REG_main/husk/index' for linux/$OTHER_ARCH"* ]]
    cid=${lines[-1]}
    run -0 husk image inspect -f '{{.Architecture}}' "$(husk inspect -f '{{.Image}}' "$cid")"
    [ "$output" = "$OTHER_ARCH" ]
    [ "$(pulls)" -eq $((before + 1)) ]  # one pull event more
    husk rm "$cid" >/dev/null
}

@test "an index is stored whole: inspect and save show every platform; rmi and prune drop it" {
    index_platforms
    r=$WORK/root-index
    h() { "$HUSK" --root "$r" "$@"; }
    h pull -q --tls-verify=false "$REG_main/husk/index"
    idx=$(skopeo inspect --raw --tls-verify=false "docker://$REG_main/husk/index" | sha256sum | cut -d' ' -f1)
    [ -f "$r/blobs/sha256/$idx" ]
    run h image inspect "$REG_main/husk/index"
    [[ "$output" == *"\"IndexDigest\": \"sha256:$idx\""* ]]
    platforms() {
        python3 -c 'import json,sys; i=json.load(sys.stdin)[0]["Index"]; print(" ".join(sorted(m["platform"]["architecture"] for m in i["manifests"])))'
    }
    [ "$(echo "$output" | platforms)" = "$(printf '%s\n' "$HOST_ARCH" "$OTHER_ARCH" | sort | xargs)" ]
    # only this machine's platform is fetched
    arm=$(python3 -c 'import json,sys; print([m["digest"][7:] for m in json.load(open(sys.argv[1]))["manifests"] if m["platform"]["architecture"]==sys.argv[2]][0])' "$r/blobs/sha256/$idx" "$OTHER_ARCH")
    [ ! -e "$r/blobs/sha256/$arm" ]
    # save names the index itself; loading it gives the same image, index and all
    h save -o "$WORK/index.tar" "$REG_main/husk/index"
    tar -xOf "$WORK/index.tar" index.json | grep -q "\"digest\":\"sha256:$idx\""
    skopeo inspect "oci-archive:$WORK/index.tar:$REG_main/husk/index:latest" >/dev/null
    r2=$WORK/root-index2
    "$HUSK" --root "$r2" load -i "$WORK/index.tar"
    [ "$(h images -q)" = "$("$HUSK" --root "$r2" images -q)" ]
    run "$HUSK" --root "$r2" image inspect "$REG_main/husk/index"
    [[ "$output" == *"\"IndexDigest\": \"sha256:$idx\""* ]]
    # prune keeps the index of a named image
    h image prune >/dev/null
    "$HUSK" --root "$r2" image prune >/dev/null
    [ -f "$r/blobs/sha256/$idx" ]
    [ -f "$r2/blobs/sha256/$idx" ]
    # another platform's pull: the name is that platform's; saved and loaded, every
    # platform the store holds comes along, and the name is this machine's again (as
    # containerd's store names an index by the host's platform)
    h pull -q --tls-verify=false --platform "linux/$OTHER_ARCH" "$REG_main/husk/index"
    run h image inspect "$REG_main/husk/index"
    [[ "$output" == *"\"Architecture\": \"$OTHER_ARCH\""* ]]
    h save -o "$WORK/index-arm.tar" "$REG_main/husk/index"
    "$HUSK" --root "$WORK/root-index3" load -i "$WORK/index-arm.tar"
    [ -f "$WORK/root-index3/blobs/sha256/$arm" ]
    run "$HUSK" --root "$WORK/root-index3" image inspect "$REG_main/husk/index"
    [[ "$output" == *"\"Architecture\": \"$HOST_ARCH\""* ]]
    # rmi of every name leaves nothing behind
    h rmi "$REG_main/husk/index"
    [ -z "$(find "$r/blobs/sha256" "$r/snapshots" -mindepth 1)" ]
}

@test "a 100 MB layer: contents intact" {
    husk pull -q --tls-verify=false "$REG_main/husk/big"
    mnt=$(husk image mount "$REG_main/husk/big")
    python3 "$TREECMP" "$WORK/umoci-big/rootfs" "$mnt"
    husk image unmount "$REG_main/husk/big"
}

@test "layers already present are not downloaded again; pulls sharing layers run concurrently" {
    husk pull -q --tls-verify=false "$REG_main/husk/busybox"
    run husk pull --tls-verify=false "$REG_main/husk/busybox"
    [[ "$output" == *"already present"* ]]
    root2="$WORK/root-concurrent"
    "$HUSK" --root "$root2" pull -q --tls-verify=false "$REG_main/husk/busybox" &
    a=$!
    "$HUSK" --root "$root2" pull -q --tls-verify=false "$REG_main/husk/index" &
    b=$!
    "$HUSK" --root "$root2" pull -q --tls-verify=false "$REG_main/husk/multi" &
    c=$!
    wait $a && wait $b && wait $c
    run "$HUSK" --root "$root2" images
    [[ "$output" == *husk/busybox* ]]
    [[ "$output" == *husk/index* ]]
    [[ "$output" == *husk/multi* ]]
    # busybox and the index's entry for this machine are one image: two image ids
    run "$HUSK" --root "$root2" images -q
    [ "${#lines[@]}" -eq 2 ]
    [ -z "$(ls -A "$root2/tmp")" ]
}

@test "image inspect, rmi and prune" {
    run husk image inspect "$REG_main/husk/multi"
    [ "$status" -eq 0 ]
    [[ "$output" == *'"Layers"'* ]]
    [[ "$output" == *'"Digest"'* ]]
    id=$(husk images -q | head -1)
    husk pull -q --tls-verify=false "$REG_main/husk/big"
    big_layer=$(layer_digest big)
    [ -e "$ROOT/blobs/sha256/${big_layer#sha256:}" ]
    run husk rmi "$REG_main/husk/big"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Untagged: $REG_main/husk/big:latest"* ]]
    [ ! -e "$ROOT/blobs/sha256/${big_layer#sha256:}" ]
    run husk rmi "$REG_main/husk/nothere"
    [ "$status" -ne 0 ]
    run husk image prune
    [ "$status" -eq 0 ]
    run husk images
    [[ "$output" == *"husk/busybox"* ]]
}

@test "an interrupted pull resumes from the bytes it had; a bad partial file is dropped" {
    root2="$WORK/root-resume"
    "$HUSK" --root "$root2" images >/dev/null
    layer=$(layer_digest big 0)
    hex=${layer#sha256:}
    head -c 20000000 "$LAYOUT/blobs/sha256/$hex" >"$root2/tmp/partial-$hex"
    run "$HUSK" --root "$root2" --debug pull --tls-verify=false "$REG_main/husk/big"
    [ "$status" -eq 0 ]
    [[ "$output" == *"resuming at byte 20000000"* ]]
    [ ! -e "$root2/tmp/partial-$hex" ]
    mnt=$("$HUSK" --root "$root2" image mount "$REG_main/husk/big")
    python3 "$TREECMP" "$WORK/umoci-big/rootfs" "$mnt"
    "$HUSK" --root "$root2" image unmount "$REG_main/husk/big"
    "$HUSK" --root "$root2" rmi "$REG_main/husk/big"
    head -c 1000 /dev/zero >"$root2/tmp/partial-$hex"
    run "$HUSK" --root "$root2" pull --tls-verify=false "$REG_main/husk/big"
    [ "$status" -ne 0 ]
    [ ! -e "$root2/tmp/partial-$hex" ]
    "$HUSK" --root "$root2" pull -q --tls-verify=false "$REG_main/husk/big"
}

@test "60 layers: more than one overlay option string can name (lowerdir+ on Linux >= 6.8)" {
    husk pull -q --tls-verify=false "$REG_main/husk/many"
    mnt=$(husk image mount "$REG_main/husk/many")
    [ "$(cat "$mnt/layer")" = 59 ]
    [ -f "$mnt/f00" ]
    [ -f "$mnt/f59" ]
    major=$(uname -r | cut -d. -f1)
    minor=$(uname -r | cut -d. -f2)
    if [ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 8 ]; }; then
        findmnt -rn "$mnt" | grep -q overlay
    fi
    husk image unmount "$REG_main/husk/many"
}
