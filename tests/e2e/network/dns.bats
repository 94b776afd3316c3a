#!/usr/bin/env bats
# The DNS responder of a user-defined network (husk-dns): containers on the network find
# each other by name, short id and alias through `nameserver <gateway>` in their
# /etc/resolv.conf (UDP, and TCP for truncated answers), containers that join later at once, containers of other networks
# never; other names are forwarded to the host's resolvers (here: a server the test runs
# on a loopback address of the host, where the responder runs); one responder per
# network, gone with its last container and with `network rm`, replaced when killed.

load helpers

setup() { network_setup; }
teardown() {
    [ -z "${DNS_SERVER:-}" ] || kill "$DNS_SERVER" 2>/dev/null || true
    network_teardown
}

net_id() { husk network inspect "$1" | jq -r '.[0].Id'; }

@test "containers resolve each other by name, short id and alias, in any case; /etc/hosts has only their own" {
    husk network create "n-$SFX" >/dev/null
    gw=$(husk network inspect "n-$SFX" | jq -r '.[0].IPAM.Config[0].Gateway')
    husk run -d --name "srv-$SFX" --network "n-$SFX" --network-alias "db-$SFX" husk/busybox sleep 600 >/dev/null
    husk run -d --name "cli-$SFX" --network "n-$SFX" husk/busybox sleep 600 >/dev/null
    srv=$(ip_of "srv-$SFX")
    short=$(husk inspect --format '{{.Id}}' "srv-$SFX" | cut -c1-12)
    [ "$(resolve "cli-$SFX" "srv-$SFX")" = "$srv" ]
    [ "$(resolve "cli-$SFX" "$short")" = "$srv" ]
    [ "$(resolve "cli-$SFX" "DB-$SFX")" = "$srv" ]
    [ "$(resolve "srv-$SFX" "cli-$SFX")" = "$(ip_of "cli-$SFX")" ]
    # what programs use (getaddrinfo): ping by name
    husk exec "cli-$SFX" ping -c 1 -W 3 "srv-$SFX" | grep -q "from $srv"
    # a name of the network has no IPv6 address: NODATA, not an error
    run husk exec "cli-$SFX" nslookup -type=AAAA "srv-$SFX"
    echo "$output"
    [[ "$output" != *"can't find"*"SERVFAIL"* ]]
    [[ "$output" != *"NXDOMAIN"* ]]
    run husk exec "cli-$SFX" cat /etc/resolv.conf
    [ "$(echo "$output" | grep -c nameserver)" -eq 1 ]
    [[ "$output" == *"nameserver $gw"* ]]
    run husk exec "cli-$SFX" cat /etc/hosts
    [[ "$output" != *"srv-$SFX"* ]]
    # --dns keeps the responder (its servers are the responder's upstreams: upstreams.bats)
    run husk run --rm --network "n-$SFX" --dns 192.0.2.53 husk/busybox cat /etc/resolv.conf
    [ "$output" = "nameserver $gw" ]
}

@test "a container started later is resolvable at once; one on another network never" {
    husk network create "a-$SFX" >/dev/null
    husk network create "b-$SFX" >/dev/null
    husk run -d --name "first-$SFX" --network "a-$SFX" husk/busybox sleep 600 >/dev/null
    husk run -d --name "later-$SFX" --network "a-$SFX" husk/busybox sleep 600 >/dev/null
    [ "$(resolve "first-$SFX" "later-$SFX")" = "$(ip_of "later-$SFX")" ]
    husk run -d --name "other-$SFX" --network "b-$SFX" husk/busybox sleep 600 >/dev/null
    run resolve "other-$SFX" "first-$SFX"
    [ "$status" -ne 0 ]
    run resolve "first-$SFX" "other-$SFX"
    [ "$status" -ne 0 ]
    # nor by asking the other network's responder itself (its gateway is the host's)
    gw=$(husk network inspect "a-$SFX" | jq -r '.[0].IPAM.Config[0].Gateway')
    run husk exec "other-$SFX" nslookup "first-$SFX" "$gw"
    echo "$output"
    [[ "$output" != *"Address: $(ip_of "first-$SFX")"* ]]
    [ "$status" -ne 0 ]
    # one responder per network
    [ -n "$(responder_pid "$(net_id "a-$SFX")")" ]
    [ -n "$(responder_pid "$(net_id "b-$SFX")")" ]
}

@test "other names are forwarded to the host's resolvers; not from an --internal network" {
    # a resolver on a loopback address of the host (the responder runs in the host's
    # network namespace): outside.test is 192.0.2.7, anything else NXDOMAIN
    addr=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).1
    mkfifo "$WORK/ready"
    python3 "$BATS_TEST_DIRNAME/testdns.py" "$addr" >"$WORK/ready" 2>"$WORK/testdns.log" &
    DNS_SERVER=$!
    read -r line <"$WORK/ready"
    [ "$line" = ready ] || skip "cannot run a test resolver on $addr:53: $(cat "$WORK/testdns.log")"
    echo "nameserver $addr" >"$HUSK_DNS_RESOLV_CONF"
    husk network create "f-$SFX" >/dev/null
    husk run -d --name "c-$SFX" --network "f-$SFX" husk/busybox sleep 600 >/dev/null
    [ "$(resolve "c-$SFX" outside.test)" = 192.0.2.7 ]
    run husk exec "c-$SFX" nslookup nowhere.test
    [[ "$output" == *NXDOMAIN* ]]
    # over TCP too (what a client does with a truncated answer), ours and forwarded
    gw=$(husk network inspect "f-$SFX" | jq -r '.[0].IPAM.Config[0].Gateway')
    [ "$(python3 "$BATS_TEST_DIRNAME/tcpquery.py" "$gw" "C-$SFX")" = "$(ip_of "c-$SFX")" ]
    [ "$(python3 "$BATS_TEST_DIRNAME/tcpquery.py" "$gw" outside.test)" = 192.0.2.7 ]
    # the resolvers are re-read when the file changes: none left, SERVFAIL
    : >"$HUSK_DNS_RESOLV_CONF"
    run husk exec "c-$SFX" nslookup outside.test
    [ "$status" -ne 0 ]
    [[ "$output" == *SERVFAIL* ]]
    echo "nameserver $addr" >"$HUSK_DNS_RESOLV_CONF"
    husk network create --internal "i-$SFX" >/dev/null
    husk run -d --name "in-$SFX" --network "i-$SFX" husk/busybox sleep 600 >/dev/null
    husk run -d --name "in2-$SFX" --network "i-$SFX" husk/busybox sleep 600 >/dev/null
    [ "$(resolve "in-$SFX" "in2-$SFX")" = "$(ip_of "in2-$SFX")" ]
    run resolve "in-$SFX" outside.test
    [ "$status" -ne 0 ]
}

@test "the responder ends with the network's last container; network rm leaves nothing" {
    husk network create "l-$SFX" >/dev/null
    id=$(net_id "l-$SFX")
    run responder_pid "$id"
    [ "$status" -ne 0 ]  # no container, no responder
    husk run -d --name "one-$SFX" --network "l-$SFX" husk/busybox sleep 600 >/dev/null
    husk run -d --name "two-$SFX" --network "l-$SFX" husk/busybox sleep 600 >/dev/null
    pid=$(responder_pid "$id")
    husk rm -f "one-$SFX" >/dev/null
    [ "$(responder_pid "$id")" = "$pid" ]
    # a foreground container that comes and goes keeps it
    husk run --rm --network "l-$SFX" husk/busybox nslookup "two-$SFX" >/dev/null
    [ "$(responder_pid "$id")" = "$pid" ]
    husk rm -f "two-$SFX" >/dev/null
    run responder_pid "$id"
    [ "$status" -ne 0 ]
    # a stale one (left by a killed command) goes with network rm
    husk run -d --name "three-$SFX" --network "l-$SFX" husk/busybox sleep 600 >/dev/null
    pid=$(responder_pid "$id")
    mv "$ROOT/containers" "$WORK/hidden"  # its records gone: nothing stops it
    mkdir "$ROOT/containers"
    husk network rm "l-$SFX"
    mv "$WORK/hidden"/* "$ROOT/containers/"
    ! ps -o stat= -p "$pid" | grep -qv Z || false
    [ -z "$(network_leftovers "$id" | grep husk-dns)" ]
}

@test "kill test: responders and husk run killed at random moments; cleanup leaves nothing" {
    husk network create "k-$SFX" >/dev/null
    id=$(net_id "k-$SFX")
    husk run -d --name "srv-$SFX" --network "k-$SFX" husk/busybox sleep 600 >/dev/null
    srv=$(ip_of "srv-$SFX")
    for i in 1 2 3 4; do
        # the responder killed while a client starts and asks
        husk run --rm --network "k-$SFX" husk/busybox nslookup "srv-$SFX" >/dev/null 2>&1 &
        client=$!
        sleep "0.$((RANDOM % 5))"
        pid=$(responder_pid "$id") && kill -9 "$pid"
        wait "$client" || true
        # the next run on the network has a responder again, and only one
        run husk run --rm --network "k-$SFX" husk/busybox nslookup "srv-$SFX"
        echo "$output"
        [[ "$output" == *"Address: $srv"* ]]
        [ "$(pgrep -f "husk-dns .*/run/husk-dns/$id" | wc -l)" -eq 1 ]
        # husk run itself killed while it connects and starts the responder
        # $! must be husk itself, not a shell around it: "$HUSK", not the husk function
        "$HUSK" --root "$ROOT" run -d --name "k$i-$SFX" --network "k-$SFX" husk/busybox sleep 600 \
            >/dev/null 2>&1 &
        runner=$!
        sleep "0.$((RANDOM % 8))"
        kill -9 "$runner" 2>/dev/null || true
        wait "$runner" || true
        [ "$(pgrep -f "husk-dns .*/run/husk-dns/$id" | wc -l)" -le 1 ]
    done
    remove_all_containers
    # (shown when the check below fails: what is left and what the responder serves)
    husk ps -a
    cat "/run/husk-dns/$id/names" "/run/husk-dns/$id/pid" "/run/husk-dns/$id/log" 2>&1 || true
    run responder_pid "$id"
    [ "$status" -ne 0 ]
    husk network rm "k-$SFX"
    [ -z "$(network_leftovers "$id")" ]
}
