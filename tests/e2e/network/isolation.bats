#!/usr/bin/env bats
# An --internal network has no way out: no default route, nothing forwarded, so an
# address in a network namespace this test makes (never the internet) is out of reach,
# while a container on an ordinary network reaches it. IPv6 on a network made --ipv6.

load helpers

setup() {
    network_setup
    command -v ip >/dev/null || skip "iproute2 is not installed"
    NS=hnet-$SFX
    R=$((RANDOM % 200 + 20))
}

teardown() {
    ip netns del "$NS" 2>/dev/null || true
    ip link del "vh-$SFX" 2>/dev/null || true
    network_teardown
}

# A namespace at 172.31.$R.2 behind a veth from the host (172.31.$R.1), answering on 9000.
outside_listener() {
    ip netns add "$NS"
    ip link add "vh-$SFX" type veth peer name vc netns "$NS"
    ip addr add "172.31.$R.1/30" dev "vh-$SFX"
    ip link set "vh-$SFX" up
    ip -n "$NS" addr add "172.31.$R.2/30" dev vc
    ip -n "$NS" link set vc up
    ip -n "$NS" link set lo up
    ip -n "$NS" route add default via "172.31.$R.1"
    ip netns exec "$NS" busybox nc -ll -p 9000 -e echo outside >/dev/null 2>&1 3>&- &
    OUTSIDE_PID=$!
}

@test "--internal: no default route and nothing out; an ordinary network gets out" {
    outside_listener
    husk network create --internal "in-$SFX" >/dev/null
    husk network create "out-$SFX" >/dev/null
    run husk run --rm --network "out-$SFX" husk/busybox nc -w 3 "172.31.$R.2" 9000
    kill "$OUTSIDE_PID" 2>/dev/null || true
    echo "$output"
    [ "$output" = outside ]
    run husk run --rm --network "in-$SFX" husk/busybox sh -c \
        "ip route; nc -w 2 172.31.$R.2 9000"
    echo "$output"
    [[ "$output" != *default* ]]
    [[ "$output" != *outside* ]]
    [ "$(husk network inspect "in-$SFX" | jq -r '.[0].Internal')" = true ]
}

@test "--ipv6: the container has an address in the network's IPv6 subnet" {
    [ "$(cat /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null)" = 0 ] ||
        skip "IPv6 is disabled on this host (net.ipv6.conf.all.disable_ipv6)"
    husk network create --ipv6 "six-$SFX" >/dev/null
    subnet6=$(husk network inspect "six-$SFX" | jq -r '.[0].IPAM.Config[1].Subnet')
    [[ "$subnet6" == fd*::/64 ]]
    run husk run --rm --network "six-$SFX" husk/busybox ip -o -6 addr show eth0 scope global
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"inet6 ${subnet6%::/64}:"* ]]
}
