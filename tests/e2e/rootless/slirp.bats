#!/usr/bin/env bats
# --network slirp4netns, the other user-mode network (podman's name): slirp4netns attached
# to the container's namespaces gives it tap0 with 10.0.2.100 and DNS on 10.0.2.3, -p is
# published through its API socket, and it ends with its container, also when the husk that
# started it was killed at any moment. As a user with a subuid range and one without.

bats_require_minimum_version 1.5.0
load helpers
load ../images/helpers

setup_file() {
    rootless_setup
    command -v slirp4netns >/dev/null ||
        skip "slirp4netns is not installed (scripts/deps.sh installs it)"
    export RL_USER RL_BARE RL_SUBID
    load_busybox "$RL_USER"
    load_busybox "$RL_BARE"
}

teardown_file() {
    USERS=("$RL_USER" "$RL_BARE")
    rootless_teardown
}

teardown() {
    [ -f "$WORK/server.pid" ] && kill "$(cat "$WORK/server.pid")" 2>/dev/null
    rm -f "$WORK/server.pid"
    rm_containers_of "$RL_USER" "$RL_BARE"
}

uh() { as "$RL_USER" "$HUSK" "$@"; }

# USER's slirp4netns processes.
slirps() { pgrep -u "${1:-$RL_USER}" -x slirp4netns || true; }

data_root() { echo "$WORK/home-${1:-$RL_USER}/.local/share/husk"; }

# A server on the host's 127.0.0.1:PORT serving FILE's text as /f.
host_server() {
    local port=$1
    mkdir -p "$WORK/served"
    echo from-the-host >"$WORK/served/f"
    (cd "$WORK/served" && exec setsid python3 -m http.server -b 127.0.0.1 "$port" >/dev/null 2>&1) &
    echo $! >"$WORK/server.pid"
    [ "$(curl_until "http://127.0.0.1:$port/f" from-the-host)" = from-the-host ]
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

@test "slirp4netns -p: reached from the host's 127.0.0.1, again after stop/start, gone with rm" {
    local u
    for u in "$RL_USER" "$RL_BARE"; do
        local port id
        port=$(free_port)
        run as "$u" "$HUSK" run -d --name web --network slirp4netns -p "127.0.0.1:$port:80" \
            husk/busybox sh -c 'mkdir -p /www && echo served-by-ctr >/www/index.html && exec httpd -f -p 80 -h /www'
        echo "$u: $output"
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
    local port pid1 pid2
    port=$(free_port)
    uh run -d --name again --restart always --network slirp4netns -p "127.0.0.1:$port:8080" \
        husk/busybox sh -c 'mkdir -p /www && echo up >/www/index.html && exec httpd -f -p 8080 -h /www'
    [ "$(curl_until "http://127.0.0.1:$port/index.html" up)" = up ]
    pid1=$(uh inspect -f '{{.State.Pid}}' again)
    kill -9 "$pid1"
    for _ in $(seq 300); do
        pid2=$(uh inspect -f '{{.State.Pid}}' again)
        [[ "$pid2" =~ ^[1-9][0-9]*$ ]] && [ "$pid2" != "$pid1" ] && break
        sleep 0.1
    done
    echo "init before $pid1, after $pid2"
    [[ "$pid2" =~ ^[1-9][0-9]*$ ]]
    [ "$pid2" != "$pid1" ]
    [ "$(curl_until "http://127.0.0.1:$port/index.html" up)" = up ]
    for _ in $(seq 100); do
        [ "$(slirps | wc -l)" -eq 1 ] && break
        sleep 0.1
    done
    [ "$(slirps | wc -l)" -eq 1 ]
    uh rm -f again
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
        slirp4netns:enable_ipv6=true slirp4netns:nosuch=1 slirp4netns:allow_host_loopback=maybe \
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
