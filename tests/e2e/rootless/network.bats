#!/usr/bin/env bats
# A rootless container's default network: pasta (Debian's passt) attached to its
# namespaces, -p published from the host's 127.0.0.1, the host's loopback reached through
# the gateway's address; pasta ends with its container, also when the husk that started
# it was killed at any moment.

bats_require_minimum_version 1.5.0
load helpers
load ../images/helpers

setup_file() { network_file_setup pasta passt; }

teardown_file() { network_file_teardown; }

teardown() {
    stop_host_server
    rm_containers_of "$RL_USER"
}

uh() { as "$RL_USER" "$HUSK" "$@"; }

# The user's pasta processes (pasta runs as passt.avx2 on some CPUs: by its arguments).
pastas() { pgrep -u "$RL_USER" -f -- '--config-net' || true; }

data_root() { echo "$WORK/home-$RL_USER/.local/share/husk"; }

@test "rootless -p: a server in the container is reached from the host's 127.0.0.1" {
    local port
    port=$(free_port)
    run uh run -d --name web -p "127.0.0.1:$port:8080" husk/busybox \
        sh -c 'mkdir -p /www && echo served-by-ctr >/www/index.html && exec httpd -f -p 8080 -h /www'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(curl_until "http://127.0.0.1:$port/index.html" served-by-ctr)" = served-by-ctr ]
    [ "$(uh port web)" = "8080/tcp -> 127.0.0.1:$port" ]
    # one pasta, the user's, for it; gone with the container
    [ "$(pastas | wc -l)" -eq 1 ]
    local id
    id=$(uh inspect -f '{{.Id}}' web)
    [ -d "$(data_root)/containers/$id/pasta" ]
    uh stop -t 1 web
    [ -z "$(pastas)" ]
    [ ! -d "$(data_root)/containers/$id/pasta" ]
    # started again: a new pasta for its new namespaces, the same port
    uh start web
    [ "$(curl_until "http://127.0.0.1:$port/index.html" served-by-ctr)" = served-by-ctr ]
    [ "$(pastas | wc -l)" -eq 1 ]
    uh stop -t 1 web
    uh rm web
    [ -z "$(pastas)" ]
}

@test "rootless -p with --restart always: the restarted container is published again, by one pasta" {
    local port
    port=$(free_port)
    uh run -d --name again --restart always -p "127.0.0.1:$port:8080" husk/busybox \
        sh -c 'mkdir -p /www && echo up >/www/index.html && exec httpd -f -p 8080 -h /www'
    [ "$(curl_until "http://127.0.0.1:$port/index.html" up)" = up ]
    kill_init_until_restarted again
    echo "init before $RESTART_OLD, after $RESTART_NEW"
    [ "$(curl_until "http://127.0.0.1:$port/index.html" up)" = up ]
    [ "$(uh inspect -f '{{.RestartCount}}' again)" -ge 1 ]
    # the first pasta ended with the first init (it may take a moment after the new one serves)
    for _ in $(seq 100); do
        [ "$(pastas | wc -l)" -eq 1 ] && break
        sleep 0.1
    done
    [ "$(pastas | wc -l)" -eq 1 ]
    uh rm -f again
    [ -z "$(pastas)" ]
}

@test "rootless: the container reaches a server on the host's 127.0.0.1 through the gateway" {
    local port
    port=$(free_port)
    host_server "$port"
    run uh run --rm husk/busybox sh -c \
        "gw=\$(ip route | awk '/^default/ {print \$3}'); echo \$gw; wget -q -O - http://\$gw:$port/f"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = from-the-host ]
    # a foreground run takes its pasta with it
    [ -z "$(pastas)" ]
}

@test "rootless: names outside resolve through the host's resolver on its loopback (pasta's forwarder)" {
    host_resolver
    run as_resolving "$RL_USER" "$HUSK" run --rm husk/busybox \
        sh -c 'cat /etc/resolv.conf && nslookup outside.test'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"nameserver 169.254.1.1"* ]]
    [[ "$output" == *"Address: 192.0.2.77"* ]]
    [[ "$output" != *"nameserver 127."* ]]
    # --dns still wins
    run as_resolving "$RL_USER" "$HUSK" run --rm --dns 192.0.2.53 husk/busybox cat /etc/resolv.conf
    [ "$status" -eq 0 ]
    [ "$(grep -c nameserver <<<"$output")" -eq 1 ]
    [[ "$output" == *"nameserver 192.0.2.53"* ]]
}

@test "rootless --add-host NAME:host-gateway is the gateway pasta maps to the host" {
    local port
    port=$(free_port)
    host_server "$port"
    run uh run --rm --add-host hg.test:host-gateway husk/busybox sh -c \
        "ip route | awk '/^default/ {print \$3}'; grep hg.test /etc/hosts; wget -q -O - http://hg.test:$port/f"
    echo "$output"
    [ "$status" -eq 0 ]
    # the container's own gateway (the host's, as pasta copies it), named in /etc/hosts
    [ -n "${lines[0]}" ]
    [ "${lines[1]}" = "$(printf '%s\thg.test' "${lines[0]}")" ]
    [ "${lines[2]}" = from-the-host ]
}

@test "rootless -p below net.ipv4.ip_unprivileged_port_start is refused naming the sysctl" {
    local start
    start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
    [ "$start" -gt 1 ] || skip "net.ipv4.ip_unprivileged_port_start is $start: every port is allowed"
    run uh run --rm -p "127.0.0.1:$((start - 1)):80" husk/busybox true
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"below net.ipv4.ip_unprivileged_port_start ($start)"* ]]
    [ -z "$(uh ps -aq)" ]
    [ -z "$(pastas)" ]
    # at create already, not at the first start
    run uh create -p "127.0.0.1:$((start - 1)):80" husk/busybox true
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"below net.ipv4.ip_unprivileged_port_start ($start)"* ]]
    [ -z "$(uh ps -aq)" ]
}

@test "rootless: a users' CNI conflist is refused in one line naming what works; a missing network is named" {
    run uh run --rm --network cni:mynet husk/busybox true
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"needs root"*"husk network create"* ]]
    run uh run --rm --network mynet husk/busybox true
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"network mynet not found"* ]]
}

@test "rootless kill: husk run -d -p killed at random moments leaves no pasta once rm -f ran" {
    kill_runs_at_random "$RL_USER" 8
    run pastas
    echo "left: $output"
    [ -z "$output" ]
    nothing_left_of "$RL_USER"
}
