#!/usr/bin/env bats
# Rootless podman drives husk-runtime (`podman --runtime husk-runtime` as an ordinary user):
# podman runs the OCI runtime as the root of its own user namespace (the user and its
# /etc/subuid range), with the user's $XDG_RUNTIME_DIR and no --root, and a spec without a
# user namespace of its own. runc is the reference: each file first checks that podman
# with runc works here, else the tests skip naming why.

load helpers
load ../images/helpers

setup_file() {
    rootless_setup
    command -v podman >/dev/null || skip "podman is not installed (scripts/deps.sh installs it)"
    command -v runc >/dev/null || skip "runc is not installed (scripts/deps.sh installs it)"
    export RL_USER RL_BARE RL_SUBID
    bash "$HUSK_SRC/scripts/make-busybox-image.sh" --root "$WORK/build-root" --husk "$HUSK" \
        -o "$WORK/bb.tar" >/dev/null
    chmod 644 "$WORK/bb.tar"
    local out
    out=$(pm_as "$RL_USER" load -q -i "$WORK/bb.tar" 2>&1) || skip "podman load as a user: $out"
    IMG=${out##*: }
    export IMG
    out=$(pm_as "$RL_USER" --runtime runc run --rm --network none "$IMG" true 2>&1) ||
        skip "rootless podman with runc (the reference) fails here: $out"
}

teardown_file() { network_file_teardown; }

teardown() {
    stop_host_server
    pm --runtime "$HUSK_RUNTIME" rm -af -t 0 >/dev/null 2>&1 || true
}

# podman as USER, its own events file and cgroupfs (this host's cgroups are not delegated).
pm_as() {
    local u=$1
    shift
    as "$u" timeout 120 podman --events-backend file --cgroup-manager cgroupfs "$@"
}
pm() { pm_as "$RL_USER" "$@"; }
hr() { pm --runtime "$HUSK_RUNTIME" "$@"; }

# The containers husk-runtime keeps for the user (none left once podman removed them; its
# seccomp cache, .seccomp-cache, stays).
runtime_state() {
    find "$WORK/xdg-$RL_USER/husk-runtime" -mindepth 1 -maxdepth 1 -name '[!.]*' 2>/dev/null || true
}

@test "rootless podman + husk-runtime: run --rm is root inside, the user and its range outside, state in XDG_RUNTIME_DIR" {
    run hr run --rm --network none "$IMG" sh -c 'id -u; cat /proc/self/uid_map; ls -l /dev/null'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 0 ]
    [ "$(echo "${lines[1]}" | tr -s ' ' | sed 's/^ //')" = "0 $(id -u "$RL_USER") 1" ]
    [ "$(echo "${lines[2]}" | tr -s ' ' | sed 's/^ //')" = "1 $RL_SUBID 65536" ]
    # the host's node, bound (root's on the host: nobody in the user's namespace); one made
    # by mknod would be the container root's
    [[ "${lines[3]}" == crw-rw-rw-*" nobody "*" 1,"*" 3 "* ]]
    [ -d "$WORK/xdg-$RL_USER/husk-runtime" ]
    [ -z "$(runtime_state)" ]
}

@test "rootless podman + husk-runtime: run -d, exec, logs, stop, start, rm; a volume's files are the user's" {
    mkdir -p "$WORK/vol"
    echo from-host >"$WORK/vol/in"
    chown -R "$RL_USER:" "$WORK/vol"
    run hr run -d --name pmd --network none -v "$WORK/vol:/v" "$IMG" \
        sh -c 'cat /v/in; echo written >/v/out; exec sleep 1000'
    echo "$output"
    [ "$status" -eq 0 ]
    run hr exec pmd sh -c 'echo in-exec $(id -u)'
    [ "$status" -eq 0 ]
    [ "$output" = "in-exec 0" ]
    run hr logs pmd
    [ "$output" = from-host ]
    [ "$(stat -c %U "$WORK/vol/out")" = "$RL_USER" ]
    [ -n "$(runtime_state)" ]
    run hr stop -t 1 pmd
    [ "$status" -eq 0 ]
    [ "$(hr inspect -f '{{.State.Status}}' pmd)" = exited ]
    run hr start pmd
    [ "$status" -eq 0 ]
    [ "$(hr inspect -f '{{.State.Status}}' pmd)" = running ]
    run hr rm -f pmd
    [ "$status" -eq 0 ]
    [ -z "$(runtime_state)" ]
}

@test "rootless podman + husk-runtime: -p reached from the host's 127.0.0.1; -t has a terminal" {
    local port
    port=$(free_port)
    run hr run -d --name pmp -p "127.0.0.1:$port:8080" "$IMG" \
        sh -c 'mkdir -p /www && echo served-by-ctr >/www/index.html && exec httpd -f -p 8080 -h /www'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(curl_until "http://127.0.0.1:$port/index.html" served-by-ctr)" = served-by-ctr ]
    hr rm -f pmp >/dev/null
    run hr run --rm -t --network none "$IMG" tty
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == /dev/pts/* ]]
}

@test "rootless podman + husk-runtime kill: podman or husk-runtime killed at random moments; rm -af leaves nothing" {
    local k job hit=0
    for k in 1 2 3 4 5 6; do
        (as_exec "$RL_USER" podman --events-backend file --cgroup-manager cgroupfs \
            --runtime "$HUSK_RUNTIME" run -d --name "pk$k" --network none "$IMG" sleep 1000) \
            >/dev/null 2>&1 &
        job=$!
        if [ $((k % 2)) -eq 1 ]; then
            sleep "0.$((RANDOM % 9 + 1))"
            kill -9 "$job" 2>/dev/null || true
        else
            # the runtime itself (conmon runs it: podman reports the failure): the first
            # husk-runtime of the user seen after a random moment (create, start or state)
            local i
            sleep "0.$((RANDOM % 5))"
            for i in $(seq 1000); do
                if pkill -9 -u "$RL_USER" -x husk-runtime; then
                    hit=$((hit + 1))
                    break
                fi
            done
        fi
        wait "$job" 2>/dev/null || true
    done
    echo "# husk-runtime killed in $hit of 3 rounds" >&3
    run hr rm -af -t 0
    echo "$output"
    [ "$status" -eq 0 ]
    [ -z "$(hr ps -aq)" ]
    # a container the runtime still keeps but podman no longer lists (podman forgets one whose
    # cleanup failed, and the kill may hit that cleanup's `delete --force` too) is removed by
    # husk-runtime's own delete --force: it always finishes and leaves nothing
    local left n=0
    for left in $(runtime_state); do
        echo "# left: $(basename "$left")" >&3
        pm unshare "$HUSK_RUNTIME" delete --force "$(basename "$left")"
        n=$((n + 1))
    done
    echo "# left to husk-runtime delete --force: $n" >&3
    [ -z "$(runtime_state)" ]
    # no container process of the user's left (podman's own pause process aside)
    run pgrep -u "$RL_USER" -f 'sleep 1000'
    [ -z "$output" ]
}
