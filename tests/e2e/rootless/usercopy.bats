#!/usr/bin/env bats
# What a user copies out of and into its containers and images whose files the user's
# /etc/subuid range keeps from the user (issue 17): layers shifted into the range, so the
# image's 0700 /home/someone and its 0600 file of uid 1000 are the range's 1000th id's on
# the host. cp (stopped and running containers, both ways, streams), export, image mount
# and a build's COPY --from of them; and cp into a container killed at random moments.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
    rootless_setup
    export RL_USER RL_BARE RL_SUBID
    someone_image_tar "$WORK/uc.tar" 600 no sh stat cat ls sleep true find
    as "$RL_USER" "$HUSK" import "$WORK/uc.tar" rl/uc:1 >/dev/null
}

teardown_file() {
    USERS=("$RL_USER" "$RL_BARE")
    rootless_teardown
}

teardown() { rm_containers_of "$RL_USER"; }

uh() { as "$RL_USER" "$HUSK" "$@"; }
home() { echo "$WORK/home-$RL_USER"; }
data_root() { echo "$WORK/home-$RL_USER/.local/share/husk"; }

# The entries of the tar on stdin, one a line: NAME UID:GID MODE(octal).
tar_entries() {
    python3 -c '
import sys, tarfile
for e in tarfile.open(fileobj=sys.stdin.buffer, mode="r|"):
    print(e.name.removeprefix("./").rstrip("/"), f"{e.uid}:{e.gid}", f"{e.mode:04o}")'
}

# A tar on stdout: one file NAME holding DATA, of uid:gid ID, 0640.
tar_of() {
    python3 - "$@" <<'PY'
import io, sys, tarfile
name, data, uid = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
out = tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT)
ti = tarfile.TarInfo(name)
ti.mode, ti.uid, ti.gid, ti.size, ti.mtime = 0o640, uid, uid, len(data), 1700000000
out.addfile(ti, io.BytesIO(data))
out.close()
PY
}

@test "rootless cp out of a stopped container: the range's 0700 dir and 0600 file, as the user's" {
    uh create --name ucs --network none rl/uc:1 true >/dev/null
    # as the user on the host the file is the range's: refused to the user directly
    local f
    f=$(find "$(data_root)/snapshots" -path '*/fs/home/someone/f')
    [ "$(stat -c '%u' "$f")" = "$((RL_SUBID + 999))" ]
    run as "$RL_USER" cat "$f"
    [ "$status" -ne 0 ]
    run uh cp ucs:/home/someone/f "$(home)/f"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(cat "$(home)/f")" = "someone's" ]
    [ "$(stat -c '%U %a' "$(home)/f")" = "$RL_USER 600" ]
    run uh cp ucs:/home/someone "$(home)/dir"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(stat -c '%U %a' "$(home)/dir")" = "$RL_USER 700" ]
    [ "$(stat -c '%U %a' "$(home)/dir/f")" = "$RL_USER 600" ]
    [ "$(cat "$(home)/dir/f")" = "someone's" ]
    # -a: the container's owners, its uid 1000 being the range's 1000th id on the host
    run uh cp -a ucs:/home/someone/f "$(home)/fa"
    [ "$status" -eq 0 ]
    [ "$(stat -c '%u:%g' "$(home)/fa")" = "$((RL_SUBID + 999)):$((RL_SUBID + 999))" ]
    # a tar stream has the container's ids
    uh cp ucs:/home/someone - >"$WORK/cp-out.tar"
    run tar_entries <"$WORK/cp-out.tar"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "someone 1000:1000 0700" ]
    [ "${lines[1]}" = "someone/f 1000:1000 0600" ]
}

@test "rootless cp into a stopped container's 0700 dir of uid 1000: its root's, or the tar's ids with -a" {
    uh create --name uci --network none rl/uc:1 \
        sh -c 'cd /home/someone && stat -c "%n %u:%g %a" * && cat in' >/dev/null
    echo "from the host" >"$(home)/in"
    chown "$RL_USER:" "$(home)/in"
    chmod 640 "$(home)/in"
    run uh cp "$(home)/in" uci:/home/someone/in
    echo "$output"
    [ "$status" -eq 0 ]
    # a tar stream: the container's root's without -a, its own ids (1000) with -a
    tar_of plain plain 1000 | as "$RL_USER" "$HUSK" cp - uci:/home/someone
    tar_of kept kept 1000 | as "$RL_USER" "$HUSK" cp -a - uci:/home/someone
    # -a of the user's own file: the user is the container's root
    cp -p "$(home)/in" "$(home)/in-a"
    uh cp -a "$(home)/in-a" uci:/home/someone/
    # -a of another user's (the host's root's): an id the container has not, nobody
    echo "root's" >"$WORK/roots"
    chmod 644 "$WORK/roots"
    uh cp -a "$WORK/roots" uci:/home/someone/
    run uh start -a uci
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "f 1000:1000 600" ]
    [ "${lines[1]}" = "in 0:0 640" ]
    [ "${lines[2]}" = "in-a 0:0 640" ]
    [ "${lines[3]}" = "kept 1000:1000 640" ]
    [ "${lines[4]}" = "plain 0:0 640" ]
    [ "${lines[5]}" = "roots 65534:65534 644" ]
    [ "${lines[6]}" = "from the host" ]
}

@test "rootless cp with a running container, both ways, in its 0700 dir of uid 1000" {
    uh run -d --name ucr --network none rl/uc:1 sleep 1000 >/dev/null
    run uh cp ucr:/home/someone/f "$(home)/rf"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(cat "$(home)/rf")" = "someone's" ]
    [ "$(stat -c '%U' "$(home)/rf")" = "$RL_USER" ]
    echo "into a running one" >"$(home)/rin"
    chown "$RL_USER:" "$(home)/rin"
    run uh cp "$(home)/rin" ucr:/home/someone/
    echo "$output"
    [ "$status" -eq 0 ]
    run uh exec ucr stat -c '%u:%g' /home/someone/rin
    [ "$output" = "0:0" ]
    run uh exec ucr cat /home/someone/rin
    [ "$output" = "into a running one" ]
}

@test "rootless export: a tar with the container's owners, its uid 1000 and its root" {
    uh run --name uce --network none rl/uc:1 sh -c 'echo made >/home/someone/made' >/dev/null
    uh export uce >"$WORK/uce-out.tar"
    run tar_entries <"$WORK/uce-out.tar"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *$'\n'"home/someone 1000:1000 0700"$'\n'* ]]
    [[ "$output" == *$'\n'"home/someone/f 1000:1000 0600"* ]]
    [[ "$output" == *$'\n'"home/someone/made 0:0 0644"* ]]
    [[ "$output" == *$'\n'"bin/busybox 0:0 0755"* ]]
    [[ "$output" != *"$RL_SUBID"* ]]
    # -o FILE, and the data of the 0600 file
    uh export -o "$(home)/uce.tar" uce
    [ "$(tar -xOf "$(home)/uce.tar" home/someone/f)" = "someone's" ]
}

@test "rootless image mount: refused in one line, as podman outside podman unshare; nothing made" {
    run uh image mount rl/uc:1
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"cannot mount an image as a user (rootless)"*"podman unshare"* ]]
    run find "$(data_root)" -path '*/mounts/*'
    echo "$output"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "rootless build: COPY --from a stage and an image of the range's 0600 file keeps COPY's owners" {
    local ctx=$(home)/ctx-from
    mkdir -p "$ctx"
    cat >"$ctx/Dockerfile" <<'EOF'
FROM rl/uc:1 AS src
FROM rl/uc:1
COPY --from=src /home/someone/f /copied
COPY --from=rl/uc:1 /home/someone /from-image/
COPY --from=src --chown=1000:1000 /home/someone/f /chowned
EOF
    chown -R "$RL_USER:" "$ctx"
    run uh build -q -t rl/uc-from "$ctx"
    echo "$output"
    [ "$status" -eq 0 ]
    run uh run --rm --network none rl/uc-from sh -c \
        'stat -c "%n %u:%g %a" /copied /from-image /from-image/f /chowned; cat /copied /from-image/f'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "/copied 0:0 600" ]
    [ "${lines[1]}" = "/from-image 0:0 755" ] # a directory's contents into a new 0755 one
    [ "${lines[2]}" = "/from-image/f 0:0 600" ]
    [ "${lines[3]}" = "/chowned 1000:1000 600" ]
    [ "${lines[4]}" = "someone's" ]
    [ "${lines[5]}" = "someone's" ]
    run find "$(data_root)/rootfs" "$(data_root)/tmp" -maxdepth 1 -name 'build-*'
    [ -z "$output" ]
}

# husk cp into a stopped container killed 6 times at random moments (odd rounds soon after
# it forked newuidmap or the namespace child that copies): the namespace child dies with it; `rm -f` then finishes
# and nothing is left: no process of the user (so no user namespace), no mount, no
# container directory, nothing in the data root's tmp/.
@test "rootless kill: cp into a container killed at random moments, then rm -f leaves nothing" {
    uh create --name uck --network none rl/uc:1 true >/dev/null
    local src=$(home)/many i ms uid gid pid left state
    mkdir -p "$src"
    for i in $(seq 300); do echo "file $i" >"$src/f$i"; done
    head -c 30000000 /dev/urandom >"$src/big"
    chown -R "$RL_USER:" "$src"
    uid=$(id -u "$RL_USER")
    gid=$(id -g "$RL_USER")
    for i in $(seq 6); do
        # husk itself is $! (setpriv and env exec it)
        (cd "$WORK" && exec setpriv --reuid="$uid" --regid="$gid" --init-groups env -i \
            PATH=/usr/bin:/bin HOME="$(home)" XDG_RUNTIME_DIR="$WORK/xdg-$RL_USER" \
            "$HUSK" cp "$src" uck:/home/someone/) >/dev/null 2>&1 &
        pid=$!
        if [ $((i % 2)) -eq 1 ]; then
            # once husk has a child (newuidmap, or the namespace child that copies), and
            # up to 90 ms more
            ms="child +$((RANDOM % 10))0"
            for _ in $(seq 2000); do
                pgrep -P "$pid" >/dev/null && break
                kill -0 "$pid" 2>/dev/null || break
            done
            sleep "0.0${ms#child +}"
        else
            ms=$((RANDOM % 500))
            sleep "$(printf '0.%03d' "$ms")"
        fi
        state=finished # (before the kill: the round proves nothing more than a clean cp)
        if kill -9 "$pid" 2>/dev/null; then state=killed; fi
        wait "$pid" || true
        for _ in $(seq 50); do # its child in the namespace dies with it
            left=$(pgrep -u "$RL_USER" || true)
            [ -z "$left" ] && break
            sleep 0.1
        done
        echo "round $i: $state at $ms ms; left: ${left:-none}"
        [ -z "$left" ]
    done
    run uh rm -f uck
    echo "$output"
    [ "$status" -eq 0 ]
    nothing_left_of "$RL_USER"
    [ -z "$(pgrep -u "$RL_USER")" ]
    run findmnt -rn -o TARGET
    [[ "$output" != *"$WORK/"* ]]
    [ -z "$(ls -A "$(data_root)/rootfs")" ]
    [ -z "$(ls -A "$(data_root)/tmp")" ]
}

# Where newuidmap refuses the container's maps (a wrapper refusing every call, in a mount
# namespace of the test's own), cp is done as the user: what the user may read is copied,
# the range's 0600 file fails with one line naming it and EACCES, a missing one is docker's
# "Could not find the file" line, as with the namespace.
@test "rootless cp where newuidmap refuses the maps: as the user, the range's 0600 file refused naming it" {
    uh create --name ucf --network none rl/uc:1 true >/dev/null
    run as_newuidmap_refusing "$RL_USER" all "$HUSK" cp ucf:/bin/busybox "$(home)/bb"
    echo "$output"
    [ "$status" -eq 0 ]
    cmp "$(home)/bb" /bin/busybox
    [ "$(wc -l <"$WORK/nuid-$RL_USER/calls")" -ge 1 ] # the namespace was tried, and refused
    run as_newuidmap_refusing "$RL_USER" all "$HUSK" cp ucf:/home/someone/f "$(home)/nf"
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == "husk: error: "*"/home/someone"*"EACCES"* ]]
    [ ! -e "$(home)/nf" ]
    # the same missing file with and without the namespace: docker's line, exit 1
    run as_newuidmap_refusing "$RL_USER" all "$HUSK" cp ucf:/nope "$(home)/nope"
    [ "$status" -eq 1 ]
    [ "$output" = "husk: error: Could not find the file /nope in container ucf" ]
    run uh cp ucf:/nope "$(home)/nope"
    [ "$status" -eq 1 ]
    [ "$output" = "husk: error: Could not find the file /nope in container ucf" ]
}
