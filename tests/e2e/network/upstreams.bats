#!/usr/bin/env bats
# Where a network's DNS responder forwards the names no container has: the container's
# own --dns servers (its /etc/resolv.conf still names the responder, as docker's does),
# else the network's (`network create --dns`), else the host's resolvers. Each upstream
# is a tiny resolver this test runs on a loopback address of the host (the responder runs
# in the host's network namespace); each answers outside.test with its own address.

load helpers

setup() {
    network_setup
    SERVERS=()
}

teardown() {
    local p
    for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null || true; done
    network_teardown
}

# Starts a resolver on ADDRESS answering outside.test with ANSWER; skips when it cannot.
resolver() {  # ADDRESS ANSWER
    local fifo=$WORK/ready-$RANDOM line
    mkfifo "$fifo"
    python3 "$BATS_TEST_DIRNAME/testdns.py" "$1" "$2" >"$fifo" 2>>"$WORK/testdns.log" &
    SERVERS+=($!)
    read -r line <"$fifo"
    [ "$line" = ready ] || skip "cannot run a test resolver on $1:53: $(cat "$WORK/testdns.log")"
}

@test "--dns: the container's servers are its upstreams; the network's --dns, then the host's, for the others" {
    base=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
    resolver "$base.1" 192.0.2.1  # the host's
    resolver "$base.2" 192.0.2.2  # the network's
    resolver "$base.3" 192.0.2.3  # one container's
    echo "nameserver $base.1" >"$HUSK_DNS_RESOLV_CONF"
    husk network create "u-$SFX" >/dev/null
    gw=$(husk network inspect "u-$SFX" | jq -r '.[0].IPAM.Config[0].Gateway')
    husk run -d --name "plain-$SFX" --network "u-$SFX" husk/busybox sleep 600 >/dev/null
    husk run -d --name "own-$SFX" --network "u-$SFX" --dns "$base.3" husk/busybox sleep 600 >/dev/null
    [ "$(resolve "plain-$SFX" outside.test)" = 192.0.2.1 ]
    [ "$(resolve "own-$SFX" outside.test)" = 192.0.2.3 ]
    # it still resolves the network's names: its resolv.conf names the responder
    [ "$(husk exec "own-$SFX" cat /etc/resolv.conf | grep nameserver)" = "nameserver $gw" ]
    [ -n "$(resolve "own-$SFX" "plain-$SFX")" ]
    [ "$(husk inspect --format '{{.HostConfig.Dns}}' "own-$SFX")" = "[$base.3]" ]
    # a network with servers of its own: they, not the host's, for its containers
    husk network create --dns "$base.2" "v-$SFX" >/dev/null
    husk run -d --name "netdns-$SFX" --network "v-$SFX" husk/busybox sleep 600 >/dev/null
    [ "$(resolve "netdns-$SFX" outside.test)" = 192.0.2.2 ]
    run husk run --rm --network "v-$SFX" --dns "$base.3" husk/busybox nslookup outside.test
    echo "$output"
    [[ "$output" == *"Address: 192.0.2.3"* ]]
    # what a Debian container's resolver (glibc) finds through it
    debian_root
    run husk run --rm --network "u-$SFX" --dns "$base.3" --rootfs "$WORK/debian" getent hosts outside.test
    echo "$output"
    [ "$(echo "$output" | awk '{print $1, $2}')" = "192.0.2.3 outside.test" ]
}

@test "--dns with bad addresses: one line each, nothing made" {
    run husk network create --dns 10.1.0 "bad-$SFX"
    echo "$output"
    [ "$status" -ne 0 ]
    [ "$output" = "husk: error: invalid --dns 10.1.0: not an IP address" ]
    run husk network ls -q
    [ -z "$output" ]
    husk network create "ok-$SFX" >/dev/null
    run husk run --rm --network "ok-$SFX" --dns nope husk/busybox true
    [ "$status" -ne 0 ]
    [ "$output" = "husk: nope is not an ip address" ]
    [ -z "$(husk ps -aq)" ]
}
