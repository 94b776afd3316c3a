#!/usr/bin/env bats
# Images as an ordinary user, in the user's own data root: push to and pull from Debian's
# docker-registry on 127.0.0.1 (the image tests' fixture), build (RUN, WORKDIR, COPY, ADD,
# COPY --chown, USER; a build killed while it copies),
# commit, save and load, tag, rmi and image prune; what a container of each image sees.

bats_require_minimum_version 1.5.0
load helpers
load ../images/helpers

setup_file() {
    rootless_setup
    command -v docker-registry >/dev/null || skip "docker-registry is not installed (scripts/deps.sh installs it)"
    export RL_USER RL_BARE RL_SUBID
    start_registry main
    load_busybox "$RL_USER"
}

teardown_file() {
    [ -f "${WORK:-/nonexistent}/reg-main/pid" ] && kill "$(cat "$WORK/reg-main/pid")" 2>/dev/null
    USERS=("$RL_USER" "$RL_BARE")
    rootless_teardown
}

# husk as the test's user with a range
uh() { as "$RL_USER" "$HUSK" "$@"; }

# `run uh commit ARGS` with the user's range moved elsewhere in /etc/subuid and /etc/subgid
# (put back after, and by teardown when the test failed or was stopped half-way).
commit_after_range_moved() {
    touch "$WORK/range.moved"
    set_ranges "$RL_USER" $((RL_SUBID + 131072))
    run uh commit "$@"
    put_back_ranges
}

put_back_ranges() {
    [ -f "$WORK/range.moved" ] || return 0
    set_ranges "$RL_USER" "$RL_SUBID"
    rm -f "$WORK/range.moved"
}

teardown() { put_back_ranges; }

@test "rootless: push to the local registry, rmi, pull back and run it" {
    uh tag husk/busybox "$REG_main/rl/bb:1"
    run uh push --tls-verify=false "$REG_main/rl/bb:1"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "The push refers to repository [$REG_main/rl/bb]" ]
    [[ "$output" == *"1: digest: sha256:"* ]]
    run uh rmi "$REG_main/rl/bb:1"
    [ "$status" -eq 0 ]
    [[ "$output" == "Untagged: $REG_main/rl/bb:1"* ]]
    run uh pull --tls-verify=false "$REG_main/rl/bb:1"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Digest: sha256:"* ]]
    run uh run --rm --network none "$REG_main/rl/bb:1" sh -c 'echo pulled; id -u'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = pulled ]
    [ "${lines[1]}" = 0 ]
    # the layers are the user's, in the user's home
    [ -z "$(find "$WORK/home-$RL_USER/.local/share/husk" ! -user "$RL_USER" -print -quit)" ]
}

@test "rootless: build with RUN and USER; what its container sees" {
    local ctx=$WORK/ctx
    mkdir -p "$ctx"
    cat >"$ctx/Dockerfile" <<'EOF'
FROM husk/busybox
RUN echo built >/built && mkdir /data && echo made >/data/file
USER 1000
RUN id -u >/tmp/uid
CMD ["sh", "-c", "cat /built /data/file /tmp/uid; id -u"]
EOF
    chown -R "$RL_USER:" "$ctx"
    run uh build -q -t rl/built "$ctx"
    echo "$output"
    [ "$status" -eq 0 ]
    run uh run --rm --network none rl/built
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = built ]
    [ "${lines[1]}" = made ]
    [ "${lines[2]}" = 1000 ]
    [ "${lines[3]}" = 1000 ]
    # the layers have the container's owners, not the host's: pushed, and pulled by root,
    # /built is root's and /tmp/uid 1000's
    uh tag rl/built "$REG_main/rl/built:1"
    uh push -q --tls-verify=false "$REG_main/rl/built:1" >/dev/null
    "$HUSK" --root "$WORK/rootstore" pull -q --tls-verify=false "$REG_main/rl/built:1" >/dev/null
    run python3 "$HUSK_SRC/scripts/subreaper.py" "$HUSK" --root "$WORK/rootstore" run --rm \
        --network none "$REG_main/rl/built:1" stat -c %u /built /tmp/uid
    echo "$output"
    [ "${lines[0]}" = 0 ]
    [ "${lines[1]}" = 1000 ]
}

# A context with a file, a directory and a local tar (ADD unpacks it), owned by USER; the
# Dockerfile is the caller's.
copy_context() {
    local ctx=$1 u=$2
    mkdir -p "$ctx/dir/sub" "$ctx.tarsrc/t"
    echo copied >"$ctx/file"
    echo deep >"$ctx/dir/sub/deep"
    chmod 600 "$ctx/dir/sub/deep"
    echo intar >"$ctx.tarsrc/t/intar"
    tar -C "$ctx.tarsrc" --owner=0 --group=0 -cf "$ctx/t.tar" t
    chown -R "$u:" "$ctx"
}

@test "rootless: build with WORKDIR, COPY, ADD and COPY --chown; what the build and its container see" {
    local ctx=$WORK/ctx-copy
    copy_context "$ctx" "$RL_USER"
    cat >"$ctx/Dockerfile" <<'EOF'
FROM husk/busybox
WORKDIR /app
COPY file ./
COPY dir /app/dir
ADD t.tar /unpacked/
COPY --chown=1000:1000 file dir /owned/
RUN stat -c '%n %u:%g %a' /app /app/file /app/dir/sub/deep /unpacked/t/intar /owned/file /owned/sub/deep; \
    cat /app/file /app/dir/sub/deep /unpacked/t/intar /owned/sub/deep; pwd
CMD ["sh", "-c", "pwd; stat -c '%n %u:%g %a' /app/file /app/dir/sub/deep /unpacked/t/intar /owned/file /owned/sub/deep; cat /app/file /unpacked/t/intar /owned/file"]
EOF
    chown "$RL_USER:" "$ctx/Dockerfile"
    run uh build --network none -t rl/copied "$ctx"
    echo "$output"
    [ "$status" -eq 0 ]
    # in the build's RUN step: WORKDIR, the contents, modes and owners (--chown's 1000)
    [[ "$output" == *$'\n/app 0:0 755\n'* ]]
    [[ "$output" == *$'\n/app/file 0:0 644\n'* ]]
    [[ "$output" == *$'\n/app/dir/sub/deep 0:0 600\n'* ]]
    [[ "$output" == *$'\n/unpacked/t/intar 0:0 644\n'* ]]
    [[ "$output" == *$'\n/owned/file 1000:1000 644\n'* ]]
    [[ "$output" == *$'\n/owned/sub/deep 1000:1000 600\n'* ]]
    [[ "$output" == *$'\ncopied\ndeep\nintar\ndeep\n/app\n'* ]]
    # in a container of the image
    run uh run --rm --network none rl/copied
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = /app ]
    [ "${lines[1]}" = "/app/file 0:0 644" ]
    [ "${lines[2]}" = "/app/dir/sub/deep 0:0 600" ]
    [ "${lines[3]}" = "/unpacked/t/intar 0:0 644" ]
    # --chown's 1000 as the container sees it (layers are shifted into the user's range)
    [ "${lines[4]}" = "/owned/file 1000:1000 644" ]
    [ "${lines[5]}" = "/owned/sub/deep 1000:1000 600" ]
    [ "${lines[6]}" = copied ]
    [ "${lines[7]}" = intar ]
    [ "${lines[8]}" = copied ]
    # the image has the container's owners: --chown's 1000 (not the user's subordinate id),
    # root's elsewhere, as root's container of it shows
    uh save -o "$WORK/home-$RL_USER/copied.tar" rl/copied
    "$HUSK" --root "$WORK/rootstore" load -q -i "$WORK/home-$RL_USER/copied.tar" >/dev/null
    run python3 "$HUSK_SRC/scripts/subreaper.py" "$HUSK" --root "$WORK/rootstore" run --rm \
        --network none rl/copied
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "/app/file 0:0 644" ]
    [ "${lines[3]}" = "/unpacked/t/intar 0:0 644" ]
    [ "${lines[4]}" = "/owned/file 1000:1000 644" ]
    [ "${lines[5]}" = "/owned/sub/deep 1000:1000 600" ]
    # a COPY --chown step's layer: those owners, no overlay or owner-record xattrs
    printf 'FROM rl/copied\nCOPY --chown=1000:1000 file /owned/again\n' >"$ctx/Dockerfile.top"
    chown "$RL_USER:" "$ctx/Dockerfile.top"
    uh build -q -f "$ctx/Dockerfile.top" -t rl/copied-top "$ctx" >/dev/null
    uh save -o "$WORK/home-$RL_USER/copied-top.tar" rl/copied-top
    run top_layer_entries "$WORK/home-$RL_USER/copied-top.tar"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"owned/again 1000:1000 0644"* ]]
    [[ "$output" != *overlay* && "$output" != *override_stat* ]]
    # nothing of the steps is left: no step root, no lock
    local data=$WORK/home-$RL_USER/.local/share/husk
    run find "$data/rootfs" "$data/tmp" -maxdepth 1 -name 'build-*'
    echo "left: $output"
    [ -z "$output" ]
}

@test "rootless: build without a range: WORKDIR, COPY and ADD work; --chown to another id is refused in one line" {
    load_busybox "$RL_BARE"
    local ctx=$WORK/ctx-bare
    copy_context "$ctx" "$RL_BARE"
    cat >"$ctx/Dockerfile" <<'EOF'
FROM husk/busybox
WORKDIR /app
COPY file dir ./
ADD t.tar /unpacked/
COPY --chown=0:0 file /root-owned
CMD ["sh", "-c", "pwd; stat -c '%n %u:%g' /app/file /app/sub/deep /unpacked/t/intar /root-owned; cat /app/sub/deep /unpacked/t/intar"]
EOF
    chown "$RL_BARE:" "$ctx/Dockerfile"
    run as "$RL_BARE" "$HUSK" build -q -t rl/bare "$ctx"
    echo "$output"
    [ "$status" -eq 0 ]
    run --separate-stderr as "$RL_BARE" "$HUSK" run --rm --network none rl/bare
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = /app ]
    [ "${lines[1]}" = "/app/file 0:0" ]
    [ "${lines[2]}" = "/app/sub/deep 0:0" ]
    [ "${lines[3]}" = "/unpacked/t/intar 0:0" ]
    [ "${lines[4]}" = "/root-owned 0:0" ]
    [ "${lines[5]}" = deep ]
    [ "${lines[6]}" = intar ]
    printf 'FROM husk/busybox\nCOPY --chown=1000:1000 file /file\n' >"$ctx/Dockerfile"
    run as "$RL_BARE" "$HUSK" build -q -t rl/bare-chown "$ctx"
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"--chown=1000:1000: 1000:1000 is not an id of the user's containers"*"no range in /etc/subuid and /etc/subgid"* ]]
    local data=$WORK/home-$RL_BARE/.local/share/husk
    run find "$data/rootfs" "$data/tmp" -maxdepth 1 -name 'build-*'
    echo "left: $output"
    [ -z "$output" ]
}

@test "rootless: COPY onto scratch and COPY --from a stage a user built" {
    local ctx=$WORK/ctx-stages
    copy_context "$ctx" "$RL_USER"
    cat >"$ctx/Dockerfile" <<'EOF'
FROM husk/busybox AS first
COPY dir /made/
RUN echo ran >/made/ran
FROM scratch AS files
COPY --chown=1000:1000 file /in-scratch
FROM husk/busybox
COPY --from=first /made /from-first
COPY --from=files /in-scratch /from-scratch
CMD ["cat", "/from-first/sub/deep", "/from-first/ran", "/from-scratch"]
EOF
    chown "$RL_USER:" "$ctx/Dockerfile"
    # (the first stage's files are its root's, the user's on the host: a --from source is
    # read through a mount of the user alone, where a 0600 file of uid 1000, one of the
    # user's subordinate ids, is refused - README, not there yet)
    run uh build -q -t rl/stages "$ctx"
    echo "$output"
    [ "$status" -eq 0 ]
    run uh run --rm --network none rl/stages
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = $'deep\nran\ncopied' ]
    # the scratch stage's layer: the container's owners
    uh build -q --target files -t rl/scratch-files "$ctx" >/dev/null
    uh save -o "$WORK/home-$RL_USER/scratch-files.tar" rl/scratch-files
    run top_layer_entries "$WORK/home-$RL_USER/scratch-files.tar"
    echo "$output"
    [[ "$output" == *"in-scratch 1000:1000 0644"* ]]
}

# Where the kernel refuses overlayfs in a user namespace (and fuse-overlayfs too) a root is a copy, which keeps no
# changes apart for a layer: COPY is refused in one line naming why, and leaves nothing.
@test "rootless: COPY where roots are copies is refused in one line naming why" {
    local r=$WORK/home-$RL_USER/copy-build ctx=$WORK/ctx-copied-root
    as "$RL_USER" mkdir -p "$r"
    echo "$(uname -r) refused set by the test: copies of the layers" >"$r/userns-overlay"
    echo "$(uname -r) $(command -v fuse-overlayfs) refused set by the test" >"$r/userns-fuse-overlay"
    chown "$RL_USER:" "$r/userns-overlay" "$r/userns-fuse-overlay"
    as "$RL_USER" "$HUSK" --root "$r" load -i "$WORK/bb.tar" >/dev/null
    copy_context "$ctx" "$RL_USER"
    printf 'FROM husk/busybox\nCOPY file /file\n' >"$ctx/Dockerfile"
    chown "$RL_USER:" "$ctx/Dockerfile"
    run as "$RL_USER" "$HUSK" --root "$r" build -q "$ctx"
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"COPY, ADD and WORKDIR on a base image need overlayfs in a user namespace, refused here (set by the test: copies of the layers; fuse-overlayfs: set by the test): a copied root keeps no changes apart"* ]]
    # no step root, staging or lock (rootfs/ was never made)
    run find "$r" \( -path "$r/rootfs/*" -o -path "$r/tmp/*" \) -name 'build-*'
    echo "left: $output"
    [ -z "$output" ]
}

# The build killed while it copies (many files, given to the container's uid 1000: the step
# root holds files of the user's subordinate ids): the next build removes what it left.
@test "rootless kill: a build killed at random moments during COPY leaves nothing once the next build ran" {
    local ctx=$WORK/ctx-kill uid gid data=$WORK/home-$RL_USER/.local/share/husk
    mkdir -p "$ctx/many"
    local d f
    for d in $(seq 1 20); do
        mkdir -p "$ctx/many/$d"
        for f in $(seq 1 100); do echo "$d $f" >"$ctx/many/$d/$f"; done
    done
    chmod 700 "$ctx/many/1"
    printf 'FROM husk/busybox\nCOPY --chown=1000:1000 many /many\nWORKDIR /many/1\n' >"$ctx/Dockerfile"
    chown -R "$RL_USER:" "$ctx"
    uid=$(id -u "$RL_USER")
    gid=$(id -g "$RL_USER")
    local i ms before when
    as "$RL_USER" mkdir -p "$data/rootfs"
    for i in $(seq 1 10); do
        before=$(ls "$data/rootfs")
        # husk itself is $! (setpriv and env exec it)
        (cd "$WORK" && exec setpriv --reuid="$uid" --regid="$gid" --init-groups env -i \
            PATH=/usr/bin:/bin HOME="$WORK/home-$RL_USER" XDG_RUNTIME_DIR="$WORK/xdg-$RL_USER" \
            "$HUSK" build --no-cache -q "$ctx") >/dev/null 2>&1 &
        local pid=$!
        when="at random"
        if [ $((i % 2)) -eq 0 ]; then
            # once its step root exists (the COPY step began), then at random
            when="once its step root existed"
            for _ in $(seq 500); do
                [ "$(ls "$data/rootfs")" != "$before" ] && break
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.02
            done
        fi
        ms=$((RANDOM % 500))
        sleep "$(printf '0.%03d' "$ms")"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" || true
        echo "round $i: killed $ms ms $when; step roots: $(ls "$data/rootfs" | grep -c '^build-')"
    done
    echo "step roots the killed builds left: $(find "$data/rootfs" -maxdepth 1 -name 'build-*' | wc -l)"
    run uh build -q -t rl/after-kill "$ctx"
    echo "$output"
    [ "$status" -eq 0 ]
    run find "$data/rootfs" "$data/tmp" -maxdepth 1 -name 'build-*'
    echo "left: $output"
    [ -z "$output" ]
    run findmnt -rn -o TARGET
    [[ "$output" != *"$data"* ]]
    # no namespace helper outlived its husk
    run pgrep -u "$RL_USER"
    echo "processes: $output"
    [ -z "$output" ]
    run uh run --rm --network none rl/after-kill sh -c 'pwd; cat /many/20/100'
    echo "$output"
    [ "${lines[0]}" = /many/1 ]
    [ "${lines[1]}" = "20 100" ]
}

@test "rootless: commit a container's changes into an image" {
    uh run --name tocommit --network none husk/busybox sh -c 'echo changed >/changed'
    run uh commit tocommit rl/committed:1
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == sha256:* ]]
    uh rm tocommit
    run uh run --rm --network none rl/committed:1 cat /changed
    [ "$status" -eq 0 ]
    [ "$output" = changed ]
}

# The container's root writes files of its other ids (the user's /etc/subuid range on the
# host) that the user may not read: diff, commit and rm reach them as the container's root.
@test "rootless: commit, diff and rm reach what the container's other ids keep from the user" {
    uh run --name hidden --network none husk/busybox sh -c \
        'mkdir /s && echo hidden >/s/secret && chown -R 1:2 /s && chmod 600 /s/secret && chmod 700 /s'
    local upper
    upper=$(ls -d "$WORK/home-$RL_USER"/.local/share/husk/rootfs/*/upper/s)
    run as "$RL_USER" ls "$upper"
    [ "$status" -ne 0 ] # not the user's to read on the host
    run uh diff hidden
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"A /s/secret"* ]]
    run uh commit hidden rl/hidden:1
    echo "$output"
    [ "$status" -eq 0 ]
    run uh rm hidden
    echo "$output"
    [ "$status" -eq 0 ]
    [ ! -e "$upper" ]
    uh save -o "$WORK/home-$RL_USER/hidden.tar" rl/hidden:1
    run top_layer_entries "$WORK/home-$RL_USER/hidden.tar"
    echo "$output"
    [[ "$output" == *"s 1:2 0700"* ]]
    [[ "$output" == *"s/secret 1:2 0600"* ]]
    run uh run --rm --network none rl/hidden:1 cat /s/secret
    [ "$status" -eq 0 ]
    [ "$output" = hidden ]
}

# Owners are mapped back with the maps the container was made with, not with the user's
# range as /etc/subuid gives it now.
@test "rootless: commit after the user's range moved keeps the container's owners" {
    uh run --name moved --network none husk/busybox sh -c 'echo x >/owned && chown 5:6 /owned'
    commit_after_range_moved moved rl/moved:1
    echo "$output"
    [ "$status" -eq 0 ]
    uh rm moved
    uh save -o "$WORK/home-$RL_USER/moved.tar" rl/moved:1
    run top_layer_entries "$WORK/home-$RL_USER/moved.tar"
    echo "$output"
    [[ "$output" == *"owned 5:6 0644"* ]]
}

# Where the namespace cannot have the container's maps any more, what the user may not read
# is one line naming the file.
@test "rootless: commit after the user's range moved names the file the user may not read" {
    uh run --name gone --network none husk/busybox sh -c 'echo x >/kept && chown 5:6 /kept && chmod 600 /kept'
    commit_after_range_moved gone rl/gone:1
    echo "$output"
    [ "$status" -ne 0 ]
    # the store's line on the moved range (what to run), then the commit's error
    [ "${#lines[@]}" -eq 2 ]
    [[ "${lines[0]}" == *"warning: image store"*"husk system migrate"* ]]
    [[ "${lines[1]}" == *'"kept"'*EACCES* ]]
    run uh images
    [[ "$output" != *rl/gone* ]]
    uh rm gone
}

@test "rootless: save, rmi and load give the same image back" {
    uh tag husk/busybox rl/saved:1
    local id
    id=$(uh image inspect -f '{{.Id}}' rl/saved:1)
    uh save -o "$WORK/home-$RL_USER/saved.tar" rl/saved:1
    [ -s "$WORK/home-$RL_USER/saved.tar" ]
    uh rmi rl/saved:1
    run uh image inspect rl/saved:1
    [ "$status" -ne 0 ]
    run uh load -i "$WORK/home-$RL_USER/saved.tar"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "Loaded image: docker.io/rl/saved:1" ]
    [ "$(uh image inspect -f '{{.Id}}' rl/saved:1)" = "$id" ]
    run uh run --rm --network none rl/saved:1 echo loaded
    [ "$output" = loaded ]
}

@test "rootless: tag, rmi of the last tag and image prune remove the user's images" {
    local ctx=$WORK/ctx-prune
    mkdir -p "$ctx"
    printf 'FROM husk/busybox\nRUN echo one >/one\n' >"$ctx/Dockerfile"
    chown -R "$RL_USER:" "$ctx"
    uh build -q -t rl/prune:1 "$ctx" >/dev/null
    local id
    id=$(uh image inspect -f '{{.Id}}' rl/prune:1)
    uh tag rl/prune:1 rl/prune:2
    run uh images --format '{{.Repository}}:{{.Tag}}'
    echo "$output"
    [ "$(echo "$output" | grep -c 'rl/prune:[12]$')" -eq 2 ]
    uh rmi rl/prune:2
    [ "$(uh images --format '{{.Repository}}:{{.Tag}}' | grep 'rl/prune:')" != "" ]
    [ "$(uh images --format '{{.Repository}}:{{.Tag}}' | grep -c 'rl/prune:2$')" -eq 0 ]
    # a second build of the same tag leaves the first dangling: prune removes it
    printf 'FROM husk/busybox\nRUN echo two >/two\n' >"$ctx/Dockerfile"
    uh build -q -t rl/prune:1 "$ctx" >/dev/null
    run uh image prune -f
    echo "$output"
    [ "$status" -eq 0 ]
    # the first image, untagged, is gone
    run uh image inspect "$id"
    [ "$status" -ne 0 ]
    run uh run --rm --network none rl/prune:1 cat /two
    [ "$output" = two ]
}

# Where the kernel refuses overlayfs in a user namespace (and fuse-overlayfs too), a root is a copy of the layers
# (mode "copy", its files in merged/): rm reaches what the container's other ids keep there
# too. The data root's probe answers are set to "refused" to have copies on any kernel.
@test "rootless: rm of a copied root reaches what the container's other ids keep from the user" {
    local r=$WORK/home-$RL_USER/copy-root
    as "$RL_USER" mkdir -p "$r"
    echo "$(uname -r) refused set by the test: copies of the layers" >"$r/userns-overlay"
    echo "$(uname -r) $(command -v fuse-overlayfs) refused set by the test" >"$r/userns-fuse-overlay"
    chown "$RL_USER:" "$r/userns-overlay" "$r/userns-fuse-overlay"
    as "$RL_USER" "$HUSK" --root "$r" load -i "$WORK/bb.tar" >/dev/null
    run as "$RL_USER" "$HUSK" --root "$r" run --name cp-hidden --network none husk/busybox sh -c \
        'mkdir /s && echo hidden >/s/secret && chown -R 1:2 /s && chmod 700 /s'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(cat "$r"/rootfs/*/mode)" = copy ]
    run as "$RL_USER" "$HUSK" --root "$r" rm cp-hidden
    echo "$output"
    [ "$status" -eq 0 ]
    [ -z "$(ls -A "$r/rootfs")" ]
    [ -z "$(as "$RL_USER" "$HUSK" --root "$r" ps -aq)" ]
}

# husk killed while its reader in the container's user namespace runs (or waits for its
# maps): the reader ends with it, holding none of husk's locks, and rm -f finishes.
@test "rootless kill: commit killed at random moments leaves no reader behind; rm -f finishes" {
    uh run --name killed-commit --network none husk/busybox sh -c \
        'mkdir /s && echo hidden >/s/secret && chown -R 1:2 /s && chmod 700 /s'
    local i left
    for i in $(seq 1 10); do
        as "$RL_USER" "$HUSK" commit killed-commit "rl/killed:$i" >/dev/null 2>&1 &
        # odd rounds: while the reader waits for its maps (newuidmap runs)
        wait_kill_moment "$RL_USER" "$i" 200
        # husk itself (not its reader, a fork of it), then the reader gone with husk
        kill_oldest_and_wait "$RL_USER" "commit killed-commit rl/killed:$i\$"
        left=$KILL_LEFT
        echo "round $i: killed at $KILL_AT; left: ${left:-none}"
        [ -z "$left" ]
    done
    run as "$RL_USER" timeout 60 "$HUSK" rm -f killed-commit
    echo "$output"
    [ "$status" -eq 0 ]
    [ -z "$(uh ps -aq --filter name=killed-commit)" ]
}
