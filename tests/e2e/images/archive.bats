#!/usr/bin/env bats
# husk save / husk load of OCI archives, and the default offline image.

load helpers

setup_file() {
    need skopeo umoci
    images_setup
    fixture busybox busybox
    fixture multilayer multi
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

@test "load a docker-archive (skopeo docker-archive:): same tree as umoci unpack, runs busybox" {
    skopeo copy -q "oci:$LAYOUT:busybox" "docker-archive:$WORK/bb-docker.tar:husk/dbb:1"
    skopeo copy -q "oci:$LAYOUT:multi" "docker-archive:$WORK/multi-docker.tar:husk/dmulti:2"
    tar -tf "$WORK/bb-docker.tar" | grep -qx manifest.json
    run "$HUSK" --root "$WORK/docker" load -i "$WORK/bb-docker.tar"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Loaded image: docker.io/husk/dbb:1"* ]]
    mnt=$("$HUSK" --root "$WORK/docker" image mount husk/dbb:1)
    [ "$(chroot "$mnt" /bin/echo hello)" = hello ]
    umoci unpack --image "$LAYOUT:busybox" "$WORK/umoci-bb" >/dev/null
    python3 "$TREECMP" "$WORK/umoci-bb/rootfs" "$mnt"
    "$HUSK" --root "$WORK/docker" image unmount husk/dbb:1
    # from stdin, the multi-layer image: whiteouts, opaque dirs, hardlinks, devices
    "$HUSK" --root "$WORK/docker" load <"$WORK/multi-docker.tar"
    umoci unpack --image "$LAYOUT:multi" "$WORK/umoci-multi" >/dev/null
    mnt=$("$HUSK" --root "$WORK/docker" image mount husk/dmulti:2)
    python3 "$TREECMP" "$WORK/umoci-multi/rootfs" "$mnt"
    "$HUSK" --root "$WORK/docker" image unmount husk/dmulti:2
    # the image id is the config digest, as from the OCI layout
    id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"])' \
        "$LAYOUT/blobs/sha256/$(python3 -c 'import json,sys; print([m for m in json.load(open(sys.argv[1]+"/index.json"))["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"]=="busybox"][0]["digest"][7:])' "$LAYOUT")")
    run "$HUSK" --root "$WORK/docker" image inspect husk/dbb:1
    [[ "$output" == *"\"Id\": \"$id\""* ]]
    # and it is saved as an OCI archive skopeo reads
    "$HUSK" --root "$WORK/docker" save -o "$WORK/resaved.tar" husk/dbb:1
    skopeo inspect "oci-archive:$WORK/resaved.tar:docker.io/husk/dbb:1" >/dev/null
}

@test "docker save 25+ archives (OCI layout + manifest.json): named by io.containerd.image.name" {
    skopeo copy -q "oci:$LAYOUT:busybox" "oci-archive:$WORK/d25.tar:latest"
    mkdir "$WORK/d25" && tar -C "$WORK/d25" -xf "$WORK/d25.tar"
    python3 - "$WORK/d25" <<'PY'
import json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
m = idx["manifests"][0]
m["annotations"] = {"io.containerd.image.name": "docker.io/husk/d25:7", "org.opencontainers.image.ref.name": "7"}
json.dump(idx, open(d + "/index.json", "w"))
man = json.load(open(d + "/blobs/sha256/" + m["digest"][7:]))
json.dump([{"Config": "blobs/sha256/" + man["config"]["digest"][7:], "RepoTags": ["husk/d25:7"],
            "Layers": ["blobs/sha256/" + l["digest"][7:] for l in man["layers"]]}],
          open(d + "/manifest.json", "w"))
PY
    tar -C "$WORK/d25" -cf "$WORK/d25-docker.tar" .
    run "$HUSK" --root "$WORK/d25root" load -i "$WORK/d25-docker.tar"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Loaded image: docker.io/husk/d25:7"* ]]
}

@test "docker-archive with a repeated layer linked to its first copy, unnamed images" {
    skopeo copy -q "oci:$LAYOUT:busybox" "docker-archive:$WORK/bb2.tar"
    mkdir "$WORK/bb2" && tar -C "$WORK/bb2" -xf "$WORK/bb2.tar"
    # docker save links a layer tar that appears twice to the first copy
    python3 - "$WORK/bb2" <<'PY'
import json, os, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
first = m[0]["Layers"][0]
os.makedirs(d + "/dup", exist_ok=True)
os.symlink("../" + first, d + "/dup/layer.tar")
m[0]["Layers"][0] = "dup/layer.tar"
m[0]["RepoTags"] = None
json.dump(m, open(d + "/manifest.json", "w"))
PY
    tar -C "$WORK/bb2" -cf "$WORK/bb2-linked.tar" .
    run "$HUSK" --root "$WORK/linked" load -i "$WORK/bb2-linked.tar"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Loaded image: sha256:"* ]]
    mnt=$("$HUSK" --root "$WORK/linked" image mount "${output##*sha256:}")
    [ -x "$mnt/bin/busybox" ]
}

@test "bad docker-archives: one clear error, the store unchanged" {
    skopeo copy -q "oci:$LAYOUT:busybox" "docker-archive:$WORK/good.tar:husk/good:1"
    "$HUSK" --root "$ROOT" load -i "$WORK/good.tar" >/dev/null
    before=$(store_state)
    mkdir "$WORK/src" && tar -C "$WORK/src" -xf "$WORK/good.tar"
    # bad_archive NAME PYTHON: a copy of the good archive changed by PYTHON (d = its dir)
    bad_archive() {
        rm -rf "$WORK/b" && cp -a "$WORK/src" "$WORK/b"
        python3 -c "import json, os, sys; d = sys.argv[1]; $2" "$WORK/b"
        tar -C "$WORK/b" -cf "$WORK/$1.tar" .
    }
    # a layer whose content is not what the config's diff_ids say
    bad_archive corrupt 'm = json.load(open(d + "/manifest.json")); p = d + "/" + m[0]["Layers"][0]; f = open(p, "r+b"); f.seek(5000); f.write(b"X"); f.close()'
    # a layer missing from the archive
    bad_archive missing 'm = json.load(open(d + "/manifest.json")); os.unlink(d + "/" + m[0]["Layers"][0])'
    # a manifest.json that is not an array
    bad_archive notarray 'open(d + "/manifest.json", "w").write("{}")'
    # neither index.json nor manifest.json
    bad_archive empty 'os.unlink(d + "/manifest.json")'
    # a gzip layer whose tar is not the one the config names (its snapshot exists already)
    bad_archive gzipped 'import gzip, io, tarfile; m = json.load(open(d + "/manifest.json")); b = io.BytesIO(); t = tarfile.open(fileobj=b, mode="w"); i = tarfile.TarInfo("other"); t.addfile(i); t.close(); open(d + "/" + m[0]["Layers"][0], "wb").write(gzip.compress(b.getvalue()))'
    for t in corrupt missing notarray empty gzipped; do
        run "$HUSK" --root "$ROOT" load -i "$WORK/$t.tar" --tag husk/bad:$t
        echo "$t: $output"
        [ "$status" -ne 0 ]
        [ "${#lines[@]}" -eq 1 ]
        [ "$(store_state)" = "$before" ]
    done
    run "$HUSK" --root "$ROOT" load -i "$WORK/corrupt.tar"
    [[ "$output" == *"manifest.json[0].Layers[0]"*"has digest"*"the image config says"* ]]
    run "$HUSK" --root "$ROOT" load -i "$WORK/missing.tar"
    [[ "$output" == *"manifest.json[0].Layers[0]"*"is not in the archive"* ]]
    run "$HUSK" --root "$ROOT" load -i "$WORK/notarray.tar"
    [[ "$output" == *"manifest.json: expected a non-empty array"* ]]
    run "$HUSK" --root "$ROOT" load -i "$WORK/empty.tar"
    [[ "$output" == *"not an OCI archive or a docker-archive"* ]]
    run "$HUSK" --root "$ROOT" load -i "$WORK/gzipped.tar"
    [[ "$output" == *"manifest.json[0].Layers[0]"*"has uncompressed digest"*"the image config says"* ]]
    # a fresh store stays empty too
    for t in corrupt gzipped; do
        run "$HUSK" --root "$WORK/fresh2" load -i "$WORK/$t.tar"
        [ "$status" -ne 0 ]
    done
    [ -z "$(find "$WORK/fresh2/blobs/sha256" "$WORK/fresh2/snapshots" "$WORK/fresh2/tmp" -mindepth 1)" ]
}

@test "a load that fails on a later image takes out the snapshots and blobs it added" {
    fixture root-symlink bad
    skopeo copy -q "oci:$LAYOUT:busybox" "oci:$WORK/two:docker.io/husk/good:1"
    skopeo copy -q "oci:$LAYOUT:bad" "oci:$WORK/two:docker.io/husk/bad:1"
    tar -C "$WORK/two" -cf "$WORK/two.tar" .
    run "$HUSK" --root "$WORK/undo" load -i "$WORK/two.tar"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"replace the root"* ]]
    [ -z "$(find "$WORK/undo/blobs/sha256" "$WORK/undo/snapshots" "$WORK/undo/tmp" -mindepth 1)" ]
    run "$HUSK" --root "$WORK/undo" images -q
    [ -z "$output" ]
}

@test "the same image loaded from a docker-archive and an OCI archive, and twice: every name and the id run" {
    skopeo copy -q "oci:$LAYOUT:busybox" "docker-archive:$WORK/same-docker.tar:husk/viadocker:1"
    skopeo copy -q "oci:$LAYOUT:busybox" "oci-archive:$WORK/same-oci.tar:husk/viaoci:1"
    r="$WORK/same"
    "$HUSK" --root "$r" load -i "$WORK/same-docker.tar"
    "$HUSK" --root "$r" load -i "$WORK/same-oci.tar"
    "$HUSK" --root "$r" load -i "$WORK/same-oci.tar"
    id=$("$HUSK" --root "$r" images -q | sort -u)
    [ "$(wc -l <<<"$id")" -eq 1 ]
    for ref in husk/viadocker:1 husk/viaoci:1 "$id"; do
        run python3 "$HUSK_SRC/scripts/subreaper.py" "$HUSK" --root "$r" run --rm --network none "$ref" echo "ran $ref"
        echo "$output"
        [ "$status" -eq 0 ]
        [ "$output" = "ran $ref" ]
    done
}
