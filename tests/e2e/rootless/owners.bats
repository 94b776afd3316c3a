#!/usr/bin/env bats
# An image's owners in a user's store (issue 17): with a /etc/subuid range, a user's
# layers are given the owners the image gives (container uid 1000 is the range's 1000th
# id on the host), as podman unpacks them; without a range they stay the user's (root in
# the container). The image: busybox and a 0700 /home/someone with a file, both 1000:1000,
# imported from a tarball the test writes.

bats_require_minimum_version 1.5.0
load helpers
load ../images/helpers

setup_file() {
    rootless_setup
    export RL_USER RL_BARE RL_SUBID
    someone_image_tar "$WORK/owners.tar" 640 setuid sh stat cat touch chown ls id echo
    make_link_images
    if command -v docker-registry >/dev/null; then start_registry main; fi
}

# Two OCI archives sharing a base layer, for the hardlink tests: hl-base.tar (the base
# alone) and hl-links.tar (the base and a layer of hardlinks to files only the base has:
# /data/shared 0644 of uid 1000 in a directory of root's, /home/someone/secret 0600 of
# uid 1000 in the 0700 /home/someone of uid 1000, which the link's layer must copy up);
# hl-shared.tar: the base and the link to /data/shared alone).
make_link_images() {
    python3 - "$WORK" <<'PY'
import hashlib, io, json, os, sys, tarfile
work = sys.argv[1]
def layer(entries):
    b = io.BytesIO()
    t = tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT)
    for name, kind, mode, uid, data, link in entries:
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.uid, ti.gid, ti.mtime = kind, mode, uid, uid, 1700000000
        ti.size, ti.linkname = len(data), link
        t.addfile(ti, io.BytesIO(data) if data else None)
    t.close()
    return b.getvalue()
D, F, L, H = tarfile.DIRTYPE, tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
base = [("bin", D, 0o755, 0, b"", ""),
        ("bin/busybox", F, 0o755, 0, open("/bin/busybox", "rb").read(), "")]
base += [("bin/" + a, L, 0o777, 0, b"", "busybox") for a in ("sh", "stat", "cat", "ls")]
base += [(d, D, 0o755, 0, b"", "") for d in ("proc", "sys", "dev", "tmp", "etc", "data", "home")]
base += [("data/shared", F, 0o644, 1000, b"shared\n", ""),
         ("home/someone", D, 0o700, 1000, b"", ""),
         ("home/someone/secret", F, 0o600, 1000, b"secret\n", "")]
links = [("links", D, 0o755, 0, b"", ""),
         ("links/shared", H, 0o644, 1000, b"", "data/shared"),
         ("links/secret", H, 0o600, 1000, b"", "home/someone/secret")]
def archive(path, name, layers):
    blobs = {}
    def blob(data):
        d = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[d] = data
        return {"digest": d, "size": len(data)}
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": [
                             "sha256:" + hashlib.sha256(l).hexdigest() for l in layers]}}).encode()
    manifest = json.dumps({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": dict(blob(config), mediaType="application/vnd.oci.image.config.v1+json"),
        "layers": [dict(blob(l), mediaType="application/vnd.oci.image.layer.v1.tar")
                   for l in layers]}).encode()
    index = {"schemaVersion": 2, "manifests": [dict(blob(manifest),
        mediaType="application/vnd.oci.image.manifest.v1+json",
        annotations={"org.opencontainers.image.ref.name": name})]}
    out = tarfile.open(path, "w")
    def add(n, data):
        ti = tarfile.TarInfo(n)
        ti.size, ti.mode = len(data), 0o644
        out.addfile(ti, io.BytesIO(data))
    add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    add("index.json", json.dumps(index).encode())
    for d, data in blobs.items():
        add("blobs/sha256/" + d[7:], data)
    out.close()
    os.chmod(path, 0o644)
b = layer(base)
archive(work + "/hl-base.tar", "localhost/rl/hl-base:1", [b])
archive(work + "/hl-links.tar", "localhost/rl/hl-links:1", [b, layer(links)])
archive(work + "/hl-shared.tar", "localhost/rl/hl-shared:1", [b, layer(links[:2])])
PY
}

teardown_file() {
    [ -f "${WORK:-/nonexistent}/reg-main/pid" ] && kill "$(cat "$WORK/reg-main/pid")" 2>/dev/null
    USERS=("$RL_USER" "$RL_BARE")
    rootless_teardown
}

# The range-moved test's /etc/subuid and /etc/subgid back, whatever stopped it.
teardown() {
    if [ -f "$WORK/range.moved" ]; then
        set_ranges "$RL_USER" "$RL_SUBID"
        rm -f "$WORK/range.moved"
    fi
}

# husk as the test's user with a range, and as the one without
uh() { as "$RL_USER" "$HUSK" "$@"; }
ub() { as "$RL_BARE" "$HUSK" "$@"; }

data_root() { echo "$WORK/home-$1/.local/share/husk"; }

# What of USER's data root is not USER's on the host (one path a line).
not_the_users() {
    find "$(data_root "$1")" ! -user "$1" -print 2>/dev/null
}

# `image prune -a` as the user with a range succeeds and leaves no snapshot, nothing in
# tmp/ and nothing of the range's ids.
prune_leaves_nothing() {
    run uh image prune -a -f
    echo "$output"
    [ "$status" -eq 0 ]
    run not_the_users "$RL_USER"
    echo "$output"
    [ -z "$output" ]
    [ -z "$(ls -A "$(data_root "$RL_USER")/snapshots")" ]
    [ -z "$(ls -A "$(data_root "$RL_USER")/tmp")" ]
}

@test "rootless: an image's owners are the container's, the range's ids on the host" {
    uh import "$WORK/owners.tar" rl/owners:1 >/dev/null
    run uh run --rm --network none rl/owners:1 stat -c '%u:%g %a' /home/someone/f /home/someone /setuid
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "1000:1000 640" ]
    [ "${lines[1]}" = "1000:1000 700" ]
    [ "${lines[2]}" = "1000:1000 4755" ] # chown clears set-id bits: given back
    run uh run --rm --network none rl/owners:1 cat /home/someone/f
    [ "$output" = "someone's" ]
    # on the host: the range's 1000th id, and no record left on the file
    local f
    f=$(find "$(data_root "$RL_USER")/snapshots" -path '*/fs/home/someone/f')
    [ "$(stat -c '%u:%g' "$f")" = "$((RL_SUBID + 999)):$((RL_SUBID + 999))" ]
    run python3 -c 'import os, sys; print(os.listxattr(sys.argv[1]))' "$f"
    [[ "$output" != *override_stat* ]]
    grep -q "^uid 1 $RL_SUBID 65536\$" "$(data_root "$RL_USER")/owner-ranges"
}

@test "rootless: a commit of a container of it keeps 1000 in the new layer, shifted once" {
    uh run --name owned --network none rl/owners:1 sh -c \
        'echo new >/home/someone/new && chown 1000:1000 /home/someone/new'
    run uh commit owned rl/owners:2
    echo "$output"
    [ "$status" -eq 0 ]
    uh rm owned
    uh save -o "$WORK/home-$RL_USER/owners2.tar" rl/owners:2
    run top_layer_entries "$WORK/home-$RL_USER/owners2.tar"
    echo "$output"
    [[ "$output" == *"home/someone 1000:1000 0700"* ]]
    [[ "$output" == *"home/someone/new 1000:1000 0644"* ]]
    run uh run --rm --network none rl/owners:2 stat -c '%u:%g' /home/someone/new /home/someone/f
    echo "$output"
    [ "${lines[0]}" = "1000:1000" ]
    [ "${lines[1]}" = "1000:1000" ]
    # the committed layer's snapshot holds the range's 1000th id, not a second shift of it
    local f
    f=$(find "$(data_root "$RL_USER")/snapshots" -path '*/fs/home/someone/new')
    [ "$(stat -c '%u' "$f")" = "$((RL_SUBID + 999))" ]
}

@test "rootless: rmi and image prune of it leave nothing of the range's ids" {
    [ -n "$(not_the_users "$RL_USER")" ] # the shifted snapshots
    run uh rmi rl/owners:2 rl/owners:1
    echo "$output"
    [ "$status" -eq 0 ]
    prune_leaves_nothing
}

# /etc/subuid giving the user another range than the store's layers were shifted for: a
# new layer is not shifted (its files would be of ids the store's others are not), and one
# line says so and what to do.
@test "rootless: a new layer after the user's range moved stays the user's, with a warning naming migrate" {
    grep -q "^uid 1 $RL_SUBID 65536\$" "$(data_root "$RL_USER")/owner-ranges"
    mkdir -p "$WORK/moved/home/other"
    echo other >"$WORK/moved/home/other/f"
    tar -C "$WORK/moved" --numeric-owner --owner=1000 --group=1000 -cf "$WORK/moved.tar" home
    chmod 644 "$WORK/moved.tar"
    touch "$WORK/range.moved"
    set_ranges "$RL_USER" $((RL_SUBID + 131072))
    run uh import "$WORK/moved.tar" rl/moved:1
    teardown  # the ranges back at once (and by bats' teardown should this test stop early)
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(grep -c warning <<<"$output")" = 1 ]
    [[ "$output" == *"warning: image store"*"(owner-ranges)"*"/etc/subuid and /etc/subgid now give"*"husk system migrate"*"new layers stay the user's"* ]]
    local f
    f=$(find "$(data_root "$RL_USER")/snapshots" -path '*/fs/home/other/f')
    [ "$(stat -c '%u' "$f")" = "$(id -u "$RL_USER")" ]
    uh rmi rl/moved:1 >/dev/null
}

# Without a range the container has one id: the user, its root. Files stay the user's
# (the owners kept in records, not applied), so root's in the container.
@test "rootless: without a range an image's owners stay the user's, root in the container" {
    ub import "$WORK/owners.tar" rl/owners:1 >/dev/null
    run ub run --rm --network none rl/owners:1 stat -c '%u:%g' /home/someone/f
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = "0:0" ]
    run not_the_users "$RL_BARE"
    [ -z "$output" ]
    [ ! -e "$(data_root "$RL_BARE")/owner-ranges" ]
    ub rmi rl/owners:1
}

# The owner records below DIR: "PATH VALUE" a line.
records_below() {
    python3 - "$1" <<'PY'
import os, sys
for d, dirs, files in os.walk(sys.argv[1]):
    for p in [d] + [os.path.join(d, n) for n in files]:
        try:
            print(p, os.getxattr(p, "user.containers.override_stat", follow_symlinks=False).decode())
        except OSError:
            pass
PY
}

# What a run of the hardlink image as `husk` (given as the command) shows of the links and
# their targets: "INODE UID:GID MODE" a line for /links/shared, /data/shared, /links/secret,
# /home/someone/secret, /home/someone, then the secret's content.
link_view() {
    "$@" run --rm --network none localhost/rl/hl-links:1 sh -c \
        'stat -c "%i %u:%g %a" /links/shared /data/shared /links/secret /home/someone/secret /home/someone && cat /links/secret'
}

# The lines of link_view: each link one file with its target, OWNER (UID:GID) and the modes
# of the image on them.
links_are_one_file() {
    local owner=$1
    [ "${#lines[@]}" -eq 6 ]
    [ "${lines[0]%% *}" = "${lines[1]%% *}" ]
    [ "${lines[2]%% *}" = "${lines[3]%% *}" ]
    [ "${lines[0]#* }" = "$owner 644" ]
    [ "${lines[1]#* }" = "$owner 644" ]
    [ "${lines[2]#* }" = "$owner 600" ]
    [ "${lines[3]#* }" = "$owner 600" ]
    [ "${lines[4]#* }" = "$owner 700" ]
    [ "${lines[5]}" = "secret" ]
}

# A layer whose hardlinks name files only a lower layer has (a second image over a base
# already in the store) copies them up; the base's files are the range's ids, which the
# user may neither chown to nor read (0600 in a 0700 directory of uid 1000): the copies
# must keep the image's owners and modes and be one file with their links.
@test "rootless: hardlinks to files of a shifted lower layer: one file, the image's owner" {
    uh load -i "$WORK/hl-base.tar" >/dev/null
    local f
    f=$(find "$(data_root "$RL_USER")/snapshots" -path '*/fs/home/someone/secret' | head -1)
    [ "$(stat -c %u "$f")" = "$((RL_SUBID + 999))" ] # the base is shifted
    run uh load -i "$WORK/hl-links.tar"
    echo "$output"
    [ "$status" -eq 0 ]
    run link_view uh
    echo "$output"
    [ "$status" -eq 0 ]
    links_are_one_file 1000:1000
    # on the host: the links' layer holds the copies, of the range's 1000th id, no record
    local top id=$((RL_SUBID + 999))
    top=$(find "$(data_root "$RL_USER")/snapshots" -path '*/fs/links/secret')
    top=${top%/links/secret}
    [ "$(stat -c '%u:%g %a %h' "$top/home/someone/secret")" = "$id:$id 600 2" ]
    [ "$(stat -c '%u:%g %a' "$top/home/someone")" = "$id:$id 700" ]
    [ "$(stat -c '%u:%g %a %h' "$top/data/shared")" = "$id:$id 644 2" ]
    [ "$(stat -c %u "$top/data")" = "$(id -u "$RL_USER")" ]
    [ "$(stat -c %i "$top/links/secret")" = "$(stat -c %i "$top/home/someone/secret")" ]
    run records_below "$top"
    echo "$output"
    [ -z "$output" ]
    uh rmi localhost/rl/hl-links:1 localhost/rl/hl-base:1 >/dev/null
}

# Where newuidmap refuses the namespace for the copy-up (the wrapper refuses the first
# call, the owner shift's after it goes through), the user copies the readable file itself,
# seeing the host's ids: the copy's record must be the image's owner (1000), which the owner
# shift then applies, not the host's id (kept beyond the range: root's in the container).
@test "rootless: a copy-up where newuidmap refuses the maps records the image's owner" {
    uh load -i "$WORK/hl-base.tar" >/dev/null
    run as_newuidmap_refusing "$RL_USER" 1 "$HUSK" load -i "$WORK/hl-shared.tar"
    echo "$output"
    cat "$WORK/nuid-$RL_USER/calls"
    [ "$status" -eq 0 ]
    [ "$(wc -l <"$WORK/nuid-$RL_USER/calls")" -eq 2 ] # the copy-up's, refused; the shift's
    run uh run --rm --network none localhost/rl/hl-shared:1 stat -c '%i %u:%g %a' /links/shared /data/shared
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]%% *}" = "${lines[1]%% *}" ]
    [ "${lines[0]#* }" = "1000:1000 644" ]
    [ "${lines[1]#* }" = "1000:1000 644" ]
    local top id=$((RL_SUBID + 999))
    top=$(find "$(data_root "$RL_USER")/snapshots" -path '*/fs/links/shared')
    top=${top%/links/shared}
    [ "$(stat -c '%u:%g %a %h' "$top/data/shared")" = "$id:$id 644 2" ]
    run records_below "$top"
    echo "$output"
    [ -z "$output" ]
    uh rmi localhost/rl/hl-shared:1 localhost/rl/hl-base:1 >/dev/null
}

@test "rootless: hardlinks to files of a lower layer without a range: one file, root's" {
    ub load -i "$WORK/hl-base.tar" >/dev/null
    run ub load -i "$WORK/hl-links.tar"
    echo "$output"
    [ "$status" -eq 0 ]
    run --separate-stderr link_view ub
    echo "$output"
    [ "$status" -eq 0 ]
    links_are_one_file 0:0
    # the copies keep the image's owner in their records
    local top
    top=$(find "$(data_root "$RL_BARE")/snapshots" -path '*/fs/links/secret')
    top=${top%/links/secret}
    run records_below "$top"
    echo "$output"
    [[ "$output" == *"$top/home/someone 1000:1000:0700"* ]]
    [[ "$output" == *"$top/home/someone/secret 1000:1000:0600"* ]]
    [[ "$output" == *"$top/data/shared 1000:1000:0644"* ]]
    ub rmi localhost/rl/hl-links:1 localhost/rl/hl-base:1 >/dev/null
}

@test "root: hardlinks to files of a lower layer: one file, the image's owner" {
    local r="$WORK/root-hl"
    "$HUSK" --root "$r" load -i "$WORK/hl-base.tar" >/dev/null
    run "$HUSK" --root "$r" load -i "$WORK/hl-links.tar"
    echo "$output"
    [ "$status" -eq 0 ]
    run link_view "$HUSK" --root "$r"
    echo "$output"
    [ "$status" -eq 0 ]
    links_are_one_file 1000:1000
    "$HUSK" --root "$r" rmi localhost/rl/hl-links:1 localhost/rl/hl-base:1 >/dev/null
    "$HUSK" --root "$r" image prune -a -f >/dev/null
}

# Snapshots holding the range's ids are removed from one user namespace for all of them
# (not one each): a prune of several such images leaves nothing behind.
@test "rootless: image prune -a of several images with the range's ids leaves nothing" {
    local i
    for i in 1 2 3 4; do
        mkdir -p "$WORK/many$i/home/p"
        echo "$i" >"$WORK/many$i/home/p/f"
        chmod 700 "$WORK/many$i/home/p"
        tar -C "$WORK/many$i" --numeric-owner --owner=1000 --group=1000 -cf "$WORK/many$i.tar" home
        chmod 644 "$WORK/many$i.tar"
        uh import "$WORK/many$i.tar" "rl/many:$i" >/dev/null
    done
    [ "$(find "$(data_root "$RL_USER")/snapshots" -path '*/fs/home/p' | wc -l)" -eq 4 ]
    [ -n "$(not_the_users "$RL_USER")" ]
    prune_leaves_nothing
    [ -z "$(uh images -q)" ]
}

# husk killed while it pulls (downloading, unpacking, giving the staged layers their owners
# in the namespace, renaming): what it left in tmp/ is the range's ids' too; image prune
# removes it through the namespace and nothing is left.
@test "rootless kill: a pull killed at random moments, then image prune, leaves nothing" {
    [ -n "${REG_main:-}" ] || skip "docker-registry is not installed (scripts/deps.sh installs it)"
    local ref=$REG_main/rl/owners:k i left
    uh import "$WORK/owners.tar" rl/owners:k >/dev/null
    uh tag rl/owners:k "$ref"
    uh push --tls-verify=false "$ref" >/dev/null
    uh rmi "$ref" rl/owners:k >/dev/null
    uh image prune -a -f >/dev/null
    for i in $(seq 1 8); do
        as "$RL_USER" "$HUSK" pull --tls-verify=false "$ref" >/dev/null 2>&1 &
        # odd rounds: while the staged layers get their owners (newuidmap sets the child's maps)
        wait_kill_moment "$RL_USER" "$i" 400
        kill_oldest_and_wait "$RL_USER" "pull --tls-verify=false $ref\$"
        left=$KILL_LEFT
        echo "round $i: killed at $KILL_AT; left: ${left:-none}"
        [ -z "$left" ]
        uh rmi "$ref" >/dev/null 2>&1 || true # when it had finished
    done
    prune_leaves_nothing
}

# husk killed while it loads the hardlink image over the shifted base (copying up from the
# namespace, giving the staged layer its owners, renaming): image prune leaves nothing.
@test "rootless kill: a load copying up a shifted layer's files killed at random moments leaves nothing after prune" {
    uh load -i "$WORK/hl-base.tar" >/dev/null
    local i left pat="load -i $WORK/hl-links.tar\$"
    for i in $(seq 1 8); do
        as "$RL_USER" "$HUSK" load -i "$WORK/hl-links.tar" >/dev/null 2>&1 &
        # odd rounds: while the copy-up or owner-shift child gets its maps
        wait_kill_moment "$RL_USER" "$i" 300
        kill_oldest_and_wait "$RL_USER" "$pat"
        left=$KILL_LEFT
        echo "round $i: killed at $KILL_AT; left: ${left:-none}"
        [ -z "$left" ]
        uh rmi localhost/rl/hl-links:1 >/dev/null 2>&1 || true # when it had finished
    done
    run uh load -i "$WORK/hl-links.tar" # what a killed load left does not stand in the way
    echo "$output"
    [ "$status" -eq 0 ]
    uh rmi localhost/rl/hl-links:1 localhost/rl/hl-base:1 >/dev/null
    prune_leaves_nothing
}

@test "rootless: sbom of an image and a container whose files the range's ids keep from the user" {
    uh import "$WORK/owners.tar" rl/owners:sbom >/dev/null
    # /home/someone is 0700 of uid 1000 (the range's id on the host): the user reads it
    # from a namespace with the range's maps
    run uh sbom --format json rl/owners:sbom
    echo "$output" | head -c 2000
    [ "$status" -eq 0 ]
    image_files=$(jq -r ".files.total" <<<"$output")
    [ "$image_files" -ge 11 ] # busybox, its 8 links, /home/someone/f, /setuid
    cid=$(uh create --network none rl/owners:sbom true)
    run uh sbom --format json "$cid"
    [ "$status" -eq 0 ]
    [ "$(jq -r ".files.total" <<<"$output")" = "$image_files" ]
    uh rm "$cid" >/dev/null
}
