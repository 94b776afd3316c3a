#!/usr/bin/env bats
# --network slirp4netns, the other user-mode network (podman's name): slirp4netns attached
# to the container's namespaces gives it tap0 with 10.0.2.100 and DNS on 10.0.2.3 (and
# fd00::/64 with enable_ipv6=true), -p is published through its API socket, it runs in its
# sandbox with seccomp, and it ends with its container, also when the husk that started it
# or the container's monitor was killed at any moment (its --exit-fd pipe). A user's
# husk.conf may make it the default network. As a user with a subuid range and one without.

bats_require_minimum_version 1.5.0
load helpers
load ../images/helpers

setup_file() { network_file_setup slirp4netns slirp4netns both; }

teardown_file() { network_file_teardown; }

teardown() {
    stop_host_server
    rm -f "$WORK/home-$RL_USER/.config/husk/husk.conf"
    rm_containers_of "$RL_USER" "$RL_BARE"
}

uh() { as "$RL_USER" "$HUSK" "$@"; }

# USER's slirp4netns processes.
slirps() { pgrep -u "${1:-$RL_USER}" -x slirp4netns || true; }

data_root() { echo "$WORK/home-${1:-$RL_USER}/.local/share/husk"; }

# run_web USER NAME PORT TEXT: `run` of a detached --network slirp4netns container NAME
# of USER serving TEXT as /index.html on the host's 127.0.0.1:PORT.
run_web() {
    run as "$1" "$HUSK" run -d --name "$2" --network slirp4netns -p "127.0.0.1:$3:80" \
        husk/busybox sh -c "mkdir -p /www && echo $4 >/www/index.html && exec httpd -f -p 80 -h /www"
    echo "$1: $output"
}

@test "slirp4netns: tap0 with 10.0.2.100 and DNS on 10.0.2.3, with and without a subuid range" {
    local u
    for u in "$RL_USER" "$RL_BARE"; do
        run as "$u" "$HUSK" run --rm --network slirp4netns husk/busybox sh -c \
            'ip -4 -o addr show tap0; ip route; grep nameserver /etc/resolv.conf'
        echo "$u: $output"
        [ "$status" -eq 0 ]
        [[ "$output" == *"tap0"*"inet 10.0.2.100/24"* ]]
        [[ "$output" == *"default via 10.0.2.2 dev tap0"* ]]
        [ "$(grep -c nameserver <<<"$output")" -eq 1 ]
        [[ "$output" == *"nameserver 10.0.2.3"* ]]
        # a foreground run takes its slirp4netns with it
        [ -z "$(slirps "$u")" ]
    done
    # --dns still wins
    run uh run --rm --network slirp4netns --dns 192.0.2.1 husk/busybox cat /etc/resolv.conf
    [ "$status" -eq 0 ]
    [[ "$output" == *"nameserver 192.0.2.1"* ]]
    [[ "$output" != *"10.0.2.3"* ]]
}

@test "slirp4netns: names outside resolve through the host's resolver on its loopback" {
    host_resolver
    run as_resolving "$RL_USER" "$HUSK" run --rm --network slirp4netns husk/busybox \
        nslookup outside.test
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Address: 192.0.2.77"* ]]
}

@test "slirp4netns run --rm -p: returns with its slirp4netns gone and the port free, run after run" {
    # its end is awaited last (after the container's removal), still before run returns
    local port i
    port=$(free_port)
    for i in 1 2 3; do
        run uh run --rm --network slirp4netns -p "127.0.0.1:$port:80" husk/busybox true
        echo "$i: $output"
        [ "$status" -eq 0 ]
        [ -z "$(slirps)" ]
    done
    run uh ps -aq
    [ -z "$output" ]
}

@test "slirp4netns -p: reached from the host's 127.0.0.1, again after stop/start, gone with rm" {
    local u
    for u in "$RL_USER" "$RL_BARE"; do
        local port id
        port=$(free_port)
        run_web "$u" web "$port" served-by-ctr
        [ "$status" -eq 0 ]
        [ "$(curl_until "http://127.0.0.1:$port/index.html" served-by-ctr)" = served-by-ctr ]
        [ "$(as "$u" "$HUSK" port web)" = "80/tcp -> 127.0.0.1:$port" ]
        [ "$(as "$u" "$HUSK" inspect -f '{{.NetworkSettings.IPAddress}}' web)" = 10.0.2.100 ]
        [ "$(slirps "$u" | wc -l)" -eq 1 ]
        id=$(as "$u" "$HUSK" inspect -f '{{.Id}}' web)
        [ -d "$(data_root "$u")/containers/$id/slirp4netns" ]
        as "$u" "$HUSK" stop -t 1 web
        [ -z "$(slirps "$u")" ]
        [ ! -d "$(data_root "$u")/containers/$id/slirp4netns" ]
        [ "$(curl -s -m 2 "http://127.0.0.1:$port/index.html" || true)" = "" ]
        # started again: a new slirp4netns for its new namespaces, the same port
        as "$u" "$HUSK" start web
        [ "$(curl_until "http://127.0.0.1:$port/index.html" served-by-ctr)" = served-by-ctr ]
        [ "$(slirps "$u" | wc -l)" -eq 1 ]
        as "$u" "$HUSK" rm -f web
        [ -z "$(slirps "$u")" ]
        [ ! -d "$(data_root "$u")/containers/$id" ]
    done
}

@test "slirp4netns -p with --restart always: the restarted container is published again" {
    local port
    port=$(free_port)
    uh run -d --name again --restart always --network slirp4netns -p "127.0.0.1:$port:8080" \
        husk/busybox sh -c 'mkdir -p /www && echo up >/www/index.html && exec httpd -f -p 8080 -h /www'
    [ "$(curl_until "http://127.0.0.1:$port/index.html" up)" = up ]
    kill_init_until_restarted again
    echo "init before $RESTART_OLD, after $RESTART_NEW"
    [ "$(curl_until "http://127.0.0.1:$port/index.html" up)" = up ]
    for _ in $(seq 100); do
        [ "$(slirps | wc -l)" -eq 1 ] && break
        sleep 0.1
    done
    [ "$(slirps | wc -l)" -eq 1 ]
    uh rm -f again
    [ -z "$(slirps)" ]
}

@test "slirp4netns with --restart always and a container that writes at once: its network survives each restart" {
    # the restart hands slirp4netns' exit pipe to the monitor on a connection closed at
    # once; output the monitor sends that connection first must not lose the pipe
    local port round
    port=$(free_port)
    uh run -d --name chatty --restart always --network slirp4netns -p "127.0.0.1:$port:8080" \
        husk/busybox sh -c 'mkdir -p /www && echo up >/www/index.html && httpd -p 8080 -h /www
            while :; do echo tick; sleep 0.01; done'
    [ "$(curl_until "http://127.0.0.1:$port/index.html" up)" = up ]
    for round in 1 2 3; do
        kill_init_until_restarted chatty
        echo "round $round: init before $RESTART_OLD, after $RESTART_NEW"
        [ "$(curl_until "http://127.0.0.1:$port/index.html" up)" = up ]
        [ "$(slirps | wc -l)" -eq 1 ]
    done
    uh rm -f chatty
    [ -z "$(slirps)" ]
}

@test "slirp4netns: the host's loopback is 10.0.2.2 only with allow_host_loopback=true" {
    local port
    port=$(free_port)
    host_server "$port"
    local get="printf 'GET /f HTTP/1.0\\r\\n\\r\\n' | nc -w 5 10.0.2.2 $port"
    run uh run --rm --network slirp4netns:allow_host_loopback=true husk/busybox sh -c "$get"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"200 OK"*from-the-host* ]]
    # without it: the container's network is up (tap0), and it is nc that is refused
    run uh run --rm --network slirp4netns husk/busybox sh -c "ip -4 addr show tap0; $get; echo nc-exit=\$?"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"inet 10.0.2.100/24"* ]]
    [[ "$output" == *nc-exit=[1-9]* ]]
    [[ "$output" != *from-the-host* ]]
}

@test "slirp4netns: bad options and unsupported ones are refused in one line, exit 125" {
    local opt
    for opt in slirp4netns:cidr=10.5.0.0/24 slirp4netns:port_handler=rootlesskit \
        slirp4netns:enable_ipv6=maybe slirp4netns:nosuch=1 slirp4netns:allow_host_loopback=maybe \
        slirp4netns:mtu=12; do
        run uh run --rm --network "$opt" husk/busybox true
        echo "$opt: $output"
        [ "$status" -eq 125 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "$output" == *"slirp4netns option"* ]]
    done
    run uh run --rm --network slirp4netns -p "[::1]:$(free_port):80" husk/busybox true
    echo "$output"
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
    local start
    start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
    if [ "$start" -gt 1 ]; then
        run uh run --rm --network slirp4netns -p "127.0.0.1:$((start - 1)):80" husk/busybox true
        echo "$output"
        [ "$status" -eq 125 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "$output" == *"below net.ipv4.ip_unprivileged_port_start ($start)"* ]]
    fi
    [ -z "$(uh ps -aq)" ]
    [ -z "$(slirps)" ]
}

@test "slirp4netns: a port the host already serves is refused in one line; nothing left" {
    local port
    port=$(free_port)
    host_server "$port"
    run uh run -d --name taken --network slirp4netns -p "127.0.0.1:$port:80" husk/busybox sleep 100
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"127.0.0.1:$port"*"address already in use"* ]]
    [ -z "$(slirps)" ]
    local id
    id=$(uh ps -aq --filter name=taken)
    if [ -n "$id" ]; then
        [ ! -d "$(data_root)/containers/$(uh inspect -f '{{.Id}}' taken)/slirp4netns" ]
    fi
}

@test "slirp4netns kill: husk run -d killed at random moments leaves no slirp4netns once rm -f ran" {
    kill_runs_at_random "$RL_USER" 8 --network slirp4netns
    run slirps
    echo "left: $output"
    [ -z "$output" ]
    nothing_left_of "$RL_USER"
}

# Waits (30 s at most) until USER has no slirp4netns left; fails naming what is left.
no_slirp_within() {
    local u=${1:-$RL_USER} i
    for i in $(seq 300); do
        [ -z "$(slirps "$u")" ] && return 0
        sleep 0.1
    done
    echo "slirp4netns left: $(slirps "$u" | xargs -r ps -o pid,args -p)"
    return 1
}

# The pid of USER's husk-monitor of the container named NAME (none: nothing).
monitor_of() {
    pgrep -u "$1" -f -- "husk-monitor .* $2 " || true
}

@test "slirp4netns: in its sandbox, seccomp on, ended by its exit pipe; the network still works" {
    local help
    help=$(slirp4netns --help)
    [[ "$help" == *--exit-fd* ]] || skip "this slirp4netns has no --exit-fd"
    local u
    for u in "$RL_USER" "$RL_BARE"; do
        local port pid
        port=$(free_port)
        run_web "$u" sb "$port" in-sandbox
        [ "$status" -eq 0 ]
        [[ "$output" != *warning* ]] # started in its sandbox at once
        [[ "${lines[-1]}" =~ ^[0-9a-f]{64}$ ]]
        [ "$(curl_until "http://127.0.0.1:$port/index.html" in-sandbox)" = in-sandbox ]
        # DNS through 10.0.2.3 and outbound connections from the sandbox as before
        pid=$(slirps "$u")
        [ "$(wc -w <<<"$pid")" -eq 1 ]
        tr '\0' ' ' <"/proc/$pid/cmdline"
        echo
        [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" == *" --exit-fd="* ]]
        if [[ "$help" == *--enable-sandbox* ]]; then
            # what slirp4netns sees as / is its sandbox: /etc and /run, nothing of the host's
            run ls "/proc/$pid/root/"
            echo "its root: $output"
            [ "$(echo "$output" | tr '\n' ' ')" = "etc run " ]
        fi
        if [[ "$help" == *--enable-seccomp* ]]; then
            grep '^Seccomp:' "/proc/$pid/status"
            [ "$(awk '/^Seccomp:/ {print $2}' "/proc/$pid/status")" = 2 ]
        fi
        as "$u" "$HUSK" rm -f sb
        [ -z "$(slirps "$u")" ]
    done
}

@test "slirp4netns --exit-fd: it ends with the monitor of a detached container, without rm" {
    local port init mon
    port=$(free_port)
    run_web "$RL_USER" held "$port" up
    [ "$status" -eq 0 ]
    [ "$(curl_until "http://127.0.0.1:$port/index.html" up)" = up ]
    # the husk that started it is gone; its monitor holds the exit pipe
    [ "$(slirps | wc -l)" -eq 1 ]
    init=$(uh inspect -f '{{.State.Pid}}' held)
    mon=$(ps -o ppid= -p "$init" | tr -d ' ')
    echo "init $init, monitor $mon: $(tr '\0' ' ' <"/proc/$mon/cmdline")"
    [[ "$(cat "/proc/$mon/comm")" == husk-monitor* ]]
    kill -9 "$mon"
    no_slirp_within
    run uh rm -f held
    echo "$output"
    [ "$status" -eq 0 ]
    nothing_left_of "$RL_USER"
}

@test "slirp4netns --exit-fd: a foreground husk run killed takes its slirp4netns with it" {
    (as "$RL_USER" "$HUSK" run --name fg --network slirp4netns husk/busybox sleep 1000 \
        >/dev/null 2>&1 &)
    local i
    for i in $(seq 300); do
        [ -n "$(slirps)" ] && break
        sleep 0.1
    done
    [ -n "$(slirps)" ]
    pkill -9 -u "$RL_USER" -f -- "--name fg --network slirp4netns"
    no_slirp_within
    run uh rm -f fg
    [ "$status" -eq 0 ]
    nothing_left_of "$RL_USER"
}

@test "slirp4netns kill: husk run -d and its monitor killed at random moments: no slirp4netns left, even before rm -f" {
    local uid gid i
    uid=$(id -u "$RL_USER")
    gid=$(id -g "$RL_USER")
    for i in $(seq 6); do
        local port pid mon
        port=$(free_port)
        (cd "$WORK" && exec setpriv --reuid="$uid" --regid="$gid" --init-groups env -i \
            PATH=/usr/bin:/bin HOME="$WORK/home-$RL_USER" XDG_RUNTIME_DIR="$WORK/xdg-$RL_USER" \
            "$HUSK" run -d --name "x$i" --network slirp4netns -p "127.0.0.1:$port:80" \
            husk/busybox sleep 1000) >/dev/null 2>&1 &
        pid=$!
        sleep "0.$((RANDOM % 6))"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" || true
        # the monitor too (when there is one yet): nothing of husk's is left running
        mon=$(monitor_of "$RL_USER" "x$i")
        echo "run $i: monitor ${mon:-none}"
        [ -z "$mon" ] || kill -9 $mon
        no_slirp_within
        run uh rm -f "x$i"
        echo "rm: $output"
        [ "$status" -eq 0 ] || [[ "$output" == *"No such container"* ]]
    done
    rm_containers_of "$RL_USER"
    [ -z "$(slirps)" ]
    nothing_left_of "$RL_USER"
}

@test "slirp4netns enable_ipv6=true: tap0 gets an fd00::/64 address and route; not without it" {
    slirp4netns --help | grep -q -- --enable-ipv6 || skip "this slirp4netns has no --enable-ipv6"
    # the address comes from slirp's router advertisement: waited for inside
    local wait6='for i in $(seq 100); do ip -6 addr show tap0 | grep -q "inet6 fd00:" && ! ip -6 addr show tap0 | grep -q tentative && break; sleep 0.1; done'
    local u
    for u in "$RL_USER" "$RL_BARE"; do
        run as "$u" "$HUSK" run --rm --network slirp4netns:enable_ipv6=true husk/busybox sh -c \
            "$wait6; ip -6 addr show tap0; ip -6 route; ip -4 -o addr show tap0"
        echo "$u: $output"
        [ "$status" -eq 0 ]
        [[ "$output" == *"inet6 fd00::"*"/64 scope global"* ]]
        [[ "$output" == *"fd00::/64 dev tap0"* ]]
        [[ "$output" == *"default via fe80::"*"dev tap0"* ]]
        [[ "$output" == *"inet 10.0.2.100/24"* ]]
        [ -z "$(slirps "$u")" ]
    done
    run uh run --rm --network slirp4netns husk/busybox sh -c 'sleep 1; ip -6 addr show tap0'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" != *"fd00:"* ]]
}

@test "slirp4netns --add-host NAME:host-gateway is 10.0.2.2, the host's loopback with allow_host_loopback" {
    local port
    port=$(free_port)
    host_server "$port"
    run uh run --rm --network slirp4netns:allow_host_loopback=true --add-host hg.test:host-gateway \
        husk/busybox sh -c "grep hg.test /etc/hosts; printf 'GET /f HTTP/1.0\\r\\n\\r\\n' | nc -w 5 hg.test $port"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "$(printf '10.0.2.2\thg.test')" ]
    [[ "$output" == *"200 OK"*from-the-host* ]]
}

@test "husk.conf default_rootless_network_cmd: slirp4netns for a run without --network; bad values refused" {
    local conf="$WORK/home-$RL_USER/.config/husk"
    as "$RL_USER" mkdir -p "$conf"
    printf '# as in containers.conf\n[network]\ndefault_rootless_network_cmd = "slirp4netns"\n' |
        as "$RL_USER" sh -c "cat >'$conf/husk.conf'"
    run uh run --rm husk/busybox sh -c 'ip -4 -o addr show tap0; grep nameserver /etc/resolv.conf'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"inet 10.0.2.100/24"* ]]
    [[ "$output" == *"nameserver 10.0.2.3"* ]]
    # --network still wins
    run uh run --rm --network none husk/busybox sh -c 'ip -o link | grep -c -v " lo:" || true'
    echo "$output"
    [ "$output" = 0 ]
    # pasta by name: no tap0 (pasta gives the host's interface)
    printf 'default_rootless_network_cmd = pasta\n' | as "$RL_USER" sh -c "cat >'$conf/husk.conf'"
    run uh run --rm husk/busybox ip -o link
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" != *tap0* ]]
    # a bad value: one line naming the file, the line and the value; exit 125; nothing made
    printf '\ndefault_rootless_network_cmd = vde\n' | as "$RL_USER" sh -c "cat >'$conf/husk.conf'"
    run uh run --rm husk/busybox true
    echo "$output"
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"$conf/husk.conf:2:"*"default_rootless_network_cmd"*'"vde"'* ]]
    [ -z "$(uh ps -aq)" ]
    rm -f "$conf/husk.conf"
}

# A slirp4netns that refuses its sandbox (a wrapper earlier in PATH: its --help is the real
# one's, --enable-sandbox makes it fail before it is ready): started again without it, one
# warning line, and the container's network works as before.
@test "slirp4netns refusing --enable-sandbox: one warning, started without it, the network works" {
    [[ "$(slirp4netns --help)" == *--enable-sandbox* ]] || skip "this slirp4netns has no --enable-sandbox"
    local d=$WORK/fakeslirp port
    mkdir -p "$d"
    cat >"$d/slirp4netns" <<'WRAP'
#!/bin/sh
for a; do
    [ "$a" = --enable-sandbox ] && { echo "sandbox: refused (a test's wrapper)" >&2; exit 1; }
done
exec /usr/bin/slirp4netns "$@"
WRAP
    chmod 755 "$d/slirp4netns"
    run as "$RL_USER" env PATH="$d:/usr/bin:/bin" "$HUSK" run --rm --network slirp4netns husk/busybox \
        sh -c 'ip -4 -o addr show tap0; grep nameserver /etc/resolv.conf'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(grep -c warning <<<"$output")" = 1 ]
    [[ "$output" == *"warning: slirp4netns runs without its sandbox: with --enable-sandbox,"* ]]
    [[ "$output" == *"inet 10.0.2.100/24"* ]]
    [[ "$output" == *"nameserver 10.0.2.3"* ]]
    # detached, with -p: published through the unsandboxed slirp4netns, gone with rm
    port=$(free_port)
    run as "$RL_USER" env PATH="$d:/usr/bin:/bin" "$HUSK" run -d --name nosb --network slirp4netns \
        -p "127.0.0.1:$port:80" husk/busybox sh -c 'mkdir -p /www && echo nosb >/www/index.html && exec httpd -f -p 80 -h /www'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(grep -c warning <<<"$output")" = 1 ]
    [ "$(curl_until "http://127.0.0.1:$port/index.html" nosb)" = nosb ]
    [[ "$(tr '\0' ' ' <"/proc/$(slirps)/cmdline")" != *--enable-sandbox* ]]
    uh rm -f nosb
    [ -z "$(slirps)" ]
}

# husk.conf's network is a user's build's too: a RUN step without --network gets it, as a
# `husk run` does; --network still wins.
@test "husk.conf default_rootless_network_cmd = slirp4netns: a build's RUN steps are on slirp4netns" {
    local conf="$WORK/home-$RL_USER/.config/husk" ctx=$WORK/slirp-build
    as "$RL_USER" mkdir -p "$conf"
    printf '[network]\ndefault_rootless_network_cmd = "slirp4netns"\n' |
        as "$RL_USER" sh -c "cat >'$conf/husk.conf'"
    mkdir -p "$ctx"
    cat >"$ctx/Dockerfile" <<'DF'
FROM husk/busybox
RUN (ip -4 -o addr show tap0 || echo no-tap0; grep nameserver /etc/resolv.conf) >/net
DF
    chown -R "$RL_USER:" "$ctx"
    run uh build -q -t rl/slirpbuild "$ctx"
    echo "$output"
    [ "$status" -eq 0 ]
    run uh run --rm --network none rl/slirpbuild cat /net
    echo "$output"
    [[ "$output" == *"inet 10.0.2.100/24"* ]]
    [[ "$output" == *"nameserver 10.0.2.3"* ]]
    run uh build -q --no-cache --network none -t rl/nonebuild "$ctx"
    echo "$output"
    [ "$status" -eq 0 ]
    run uh run --rm --network none rl/nonebuild cat /net
    echo "$output"
    [[ "$output" == *no-tap0* ]]
    [[ "$output" != *10.0.2.3* ]]
    uh rmi rl/slirpbuild rl/nonebuild >/dev/null
    rm -f "$conf/husk.conf"
}
