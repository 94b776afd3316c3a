#!/usr/bin/env bats
# Rootless container roots where the kernel refuses overlayfs in a user namespace (older
# kernels, some filesystems): fuse-overlayfs, detected by the same probe through it, served
# by a process of its own in the container's user namespace (no process of the container's),
# which ends when the container's mounts are gone. The kernel's refusal is set by the test in
# the data root's probe answer (this kernel takes overlayfs); fuse-overlayfs' own answer is
# probed for real.

load helpers

setup() {
    rootless_setup
    command -v fuse-overlayfs >/dev/null || skip "fuse-overlayfs is not installed (scripts/deps.sh installs it)"
    [ -c /dev/fuse ] || skip "no /dev/fuse on this machine"
    local u
    for u in "$RL_USER" "$RL_BARE"; do
        local r=$WORK/home-$u/.local/share/husk
        as "$u" mkdir -p "$r"
        echo "$(uname -r) refused set by the test: fuse-overlayfs then" >"$r/userns-overlay"
        chown "$u:" "$r/userns-overlay"
    done
}

teardown() {
    rm_containers_of "$RL_USER" "$RL_BARE"
    rootless_teardown
}

# The fuse-overlayfs servers of USER's data root (their -o names its paths), one pid a line.
servers_of() {
    pgrep -u "$1" -f "fuse-overlayfs .*$WORK/home-$1/" || true
}

# Waits up to 10 s for USER to have no fuse-overlayfs server; fails naming what is left.
no_server_left() {
    local i
    for i in $(seq 100); do
        [ -z "$(servers_of "$1")" ] && return 0
        sleep 0.1
    done
    echo "servers left: $(servers_of "$1" | xargs -r ps -o pid,args -p)"
    return 1
}

@test "fuse-overlayfs: a root served where the kernel refuses overlayfs in a user namespace" {
    load_busybox "$RL_USER"
    local data=$WORK/home-$RL_USER/.local/share/husk
    run as "$RL_USER" "$HUSK" run --name fo --network none husk/busybox \
        sh -c 'echo hi >/new; awk "\$5 == \"/\" { for (i = 7; \$i != \"-\"; i++); print \$(i + 1) }" /proc/self/mountinfo; ps -o comm | grep -c "^fuse-overlay" || true'
    echo "$output"
    [ "$status" -eq 0 ]
    # no note: fuse-overlayfs is no copy; the server is no process of the container's
    [ "${lines[0]}" = fuse.fuse-overlayfs ]
    [ "${lines[1]}" = 0 ]
    [ "${#lines[@]}" -eq 2 ]
    # an init that joins namespaces is not dumpable: the server's namespace comes by fd
    run as "$RL_USER" "$HUSK" run --rm --network host husk/busybox \
        sh -c 'awk "\$5 == \"/\" { for (i = 7; \$i != \"-\"; i++); print \$(i + 1) }" /proc/self/mountinfo'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = fuse.fuse-overlayfs ]
    [[ "$(cat "$data/userns-fuse-overlay")" == "$(uname -r) $(command -v fuse-overlayfs) fuse-overlayfs"* ]]
    run as "$RL_USER" "$HUSK" info
    [[ "$output" == *" Storage Driver: fuse-overlayfs"* ]]
    local id
    id=$(as "$RL_USER" "$HUSK" inspect --format '{{.Id}}' fo)
    [ "$(cat "$data/rootfs/$id/mode")" = fuse-overlayfs-userns ]
    [ "$(cat "$data/rootfs/$id/upper/new")" = hi ]
    [ "$(stat -c %U "$data/rootfs/$id/upper/new")" = "$RL_USER" ]
    [ -z "$(ls -A "$data/rootfs/$id/merged")" ]
    # the server ended with the container
    no_server_left "$RL_USER"
    run as "$RL_USER" "$HUSK" start -a fo
    [ "${lines[0]}" = fuse.fuse-overlayfs ]
    no_server_left "$RL_USER"
    # stopped, cp and export read it through a FUSE mount of their own
    as "$RL_USER" "$HUSK" cp fo:/new "$WORK/home-$RL_USER/copied"
    [ "$(cat "$WORK/home-$RL_USER/copied")" = hi ]
    [ "$(as "$RL_USER" "$HUSK" export fo | tar -t | grep -c -x -e new -e ./new)" = 1 ]
    no_server_left "$RL_USER"
    run as "$RL_USER" "$HUSK" rm fo
    [ "$status" -eq 0 ]
    [ -z "$(ls -A "$data/rootfs")" ]
}

@test "fuse-overlayfs: the layers' whiteouts and opaque directories hide what they cover, the container's own too" {
    load_multilayer "$RL_BARE"
    run as "$RL_BARE" "$HUSK" run --name fml --network none husk/ml \
        sh -c 'ls -A /d | tr "\n" " "; ls /gone; cat /a/f1; ls /gonedir 2>&1 >/dev/null || echo nogonedir
               rm /a/f1; rm -rf /d; mkdir /d; echo new >/d/n'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"z "* ]] # d is opaque in layer 2: its x and sub are gone
    [[ "$output" != *"x "* ]]
    [[ "$output" == *back* ]]
    [[ "$output" == *"one, changed"* ]]
    [[ "$output" == *nogonedir* ]]
    # diff and commit read fuse-overlayfs' upper directory: its opaque markers are no entries
    run as "$RL_BARE" "$HUSK" diff fml
    echo "$output"
    [ "$status" -eq 0 ]
    grep -qx 'D /a/f1' <<<"$output"
    grep -qx 'A /d/n' <<<"$output"
    [[ "$output" != *.wh.* ]]
    run as "$RL_BARE" "$HUSK" commit fml rl/fml:1
    [ "$status" -eq 0 ]
    as "$RL_BARE" "$HUSK" save -o "$WORK/home-$RL_BARE/fml.tar" rl/fml:1
    run top_layer_entries "$WORK/home-$RL_BARE/fml.tar"
    echo "$output"
    grep -qx 'a/.wh.f1 0:0 0000' <<<"$output"
    grep -qx 'd/.wh..wh..opq 0:0 0000' <<<"$output"
    [ "$(grep -c 'wh..opq' <<<"$output")" = 1 ]
    [[ "$output" != *fuseoverlayfs* ]]
    # the committed image shows the same root
    run as "$RL_BARE" "$HUSK" run --rm --network none rl/fml:1 sh -c 'ls -A /d; ls /a/f1 >/dev/null 2>&1 || echo nof1'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(grep -v '^husk: note:' <<<"$output" | tr '\n' ' ')" = "n nof1 " ]
    no_server_left "$RL_BARE"
}

@test "fuse-overlayfs: -d, exec, a user's name, a working directory and a new volume read through it" {
    load_busybox "$RL_USER"
    run as "$RL_USER" "$HUSK" run --rm --network none -w /made/here -u nobody -v /etc \
        husk/busybox sh -c 'pwd; id -u; grep -c ^root: /etc/passwd'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = /made/here ]
    [ "${lines[1]}" = 65534 ]
    [ "${lines[2]}" = 1 ]
    as "$RL_USER" "$HUSK" run -d --name fex --network none husk/busybox sleep 1000 >/dev/null
    run as "$RL_USER" "$HUSK" exec -u nobody fex sh -c 'id -u; echo x >/tmp/x; cat /tmp/x'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 65534 ]
    [ "${lines[1]}" = x ]
    # files of the container's other ids: chown in the root works through the server
    run as "$RL_USER" "$HUSK" exec fex sh -c 'touch /o && chown 123:456 /o && stat -c %u:%g /o'
    [ "$output" = 123:456 ]
    [ -n "$(servers_of "$RL_USER")" ]
    # cp in and out of the running root, through a process that joined its namespace
    echo into >"$WORK/home-$RL_USER/in"
    chown "$RL_USER:" "$WORK/home-$RL_USER/in"
    as "$RL_USER" "$HUSK" cp "$WORK/home-$RL_USER/in" fex:/in
    run as "$RL_USER" "$HUSK" exec fex cat /in
    [ "$output" = into ]
    as "$RL_USER" "$HUSK" cp fex:/o "$WORK/home-$RL_USER/o"
    [ -f "$WORK/home-$RL_USER/o" ]
    as "$RL_USER" "$HUSK" rm -f fex >/dev/null
    no_server_left "$RL_USER"
}

@test "fuse-overlayfs: runs killed at random moments (the CLI, or all its forks) leave no server or root behind" {
    load_busybox "$RL_USER"
    local i
    for i in $(seq 8); do
        as_exec "$RL_USER" "$HUSK" run -d --name "fk$i" --network none husk/busybox sleep 1000 \
            >/dev/null 2>&1 &
        local pid=$!
        sleep "0.$((RANDOM % 6))"
        if [ $((i % 2)) = 0 ]; then
            # every process of the run: its forks too, the one running the runtime's create
            # (in-process: the engine runs no husk-runtime binary) and the server's middle fork
            pkill -KILL -u "$RL_USER" -f -- "run -d --name fk$i " || true
        fi
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" || true
        as "$RL_USER" "$HUSK" rm -f "fk$i" >/dev/null 2>&1 || true
    done
    rm_containers_of "$RL_USER"
    nothing_left_of "$RL_USER"
    no_server_left "$RL_USER"
    run find "$WORK/home-$RL_USER/.local/share/husk/rootfs" -mindepth 1 -maxdepth 1
    echo "roots: $output"
    [ -z "$output" ]
}

@test "fuse-overlayfs refused too: roots are copies, with a note naming both answers" {
    local r=$WORK/home-$RL_USER/.local/share/husk
    echo "$(uname -r) $(command -v fuse-overlayfs) refused set by the test" >"$r/userns-fuse-overlay"
    chown "$RL_USER:" "$r/userns-fuse-overlay"
    load_busybox "$RL_USER"
    run as "$RL_USER" "$HUSK" run --rm --network none husk/busybox true
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"overlayfs in a user namespace is refused here (set by the test: fuse-overlayfs then; fuse-overlayfs: set by the test): the container's root is a copy"* ]]
    run as "$RL_USER" "$HUSK" info
    [[ "$output" == *" Storage Driver: copy"* ]]
}

@test "fuse-overlayfs: a user's build: RUN, COPY and an opaque directory in its layers" {
    load_busybox "$RL_USER"
    local ctx=$WORK/home-$RL_USER/ctx
    as "$RL_USER" mkdir -p "$ctx"
    as "$RL_USER" sh -c "echo copied >'$ctx/file'; printf 'FROM husk/busybox\nRUN mkdir -p /d/sub && echo x >/d/sub/x\nRUN rm -rf /d && mkdir /d && echo only >/d/only\nCOPY file /file\n' >'$ctx/Dockerfile'"
    run as "$RL_USER" "$HUSK" build -q -t rl/fbuild:1 "$ctx"
    echo "$output"
    [ "$status" -eq 0 ]
    run as "$RL_USER" "$HUSK" run --rm --network none rl/fbuild:1 sh -c 'ls -A /d; cat /file'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "only
copied" ]
    no_server_left "$RL_USER"
}
