#!/usr/bin/env bats
# Name resolution on a user-defined network, as docker's: a client reaches a server by
# its name, short id and --network-alias (served by the network's DNS responder, dns.bats);
# a container on another network reaches it by none of them (nor by its address); the
# default bridge keeps no names. Containers that come and go are added to and dropped
# from the others' names. `network connect` adds a running container to a second network
# under an alias.

load helpers

setup() { network_setup; }
teardown() { network_teardown; }

@test "a client reaches a server by name, short id and alias; another network cannot" {
    husk network create "front-$SFX" >/dev/null
    husk network create "back-$SFX" >/dev/null
    serve "srv-$SFX" --network "front-$SFX" --network-alias "db-$SFX"
    short=$(husk inspect --format '{{.Id}}' "srv-$SFX" | cut -c1-12)
    run husk run --rm --network "front-$SFX" husk/busybox sh -c \
        "nc -w 3 srv-$SFX 8080; nc -w 3 db-$SFX 8080; nc -w 3 $short 8080"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | grep -c "hello from srv-$SFX")" -eq 3 ]

    addr=$(husk network inspect "front-$SFX" | jq -r '.[0].Containers[].IPv4Address' | cut -d/ -f1)
    [ -n "$addr" ]
    run husk run --rm --network "back-$SFX" husk/busybox sh -c \
        "nslookup srv-$SFX >/dev/null && echo resolved; nc -w 2 $addr 8080"
    echo "$output"
    [[ "$output" != *"hello from"* ]]
    [[ "$output" != *resolved* ]]
    # the default bridge: no names, as docker's (and the host's resolvers)
    run husk run --rm husk/busybox sh -c "grep -c srv-$SFX /etc/hosts; cat /etc/resolv.conf"
    [ "${lines[0]}" = 0 ]
    gw=$(husk network inspect "front-$SFX" | jq -r '.[0].IPAM.Config[0].Gateway')
    [[ "$output" != *"nameserver $gw"* ]]
}

@test "containers that come and go: names added, dropped, and connect adds a second network" {
    since=$(date +%s)
    husk network create "a-$SFX" >/dev/null
    husk network create "b-$SFX" >/dev/null
    serve "one-$SFX" --network "a-$SFX"
    husk run -d --name "watch-$SFX" --network "a-$SFX" husk/busybox sleep 600 >/dev/null
    hello_from "watch-$SFX" "one-$SFX"
    serve "two-$SFX" --network "a-$SFX"
    # the second server's name reaches the container that was there first
    hello_from "watch-$SFX" "two-$SFX"
    husk rm -f "two-$SFX" >/dev/null
    run resolve "watch-$SFX" "two-$SFX"
    [ "$status" -ne 0 ]

    serve "three-$SFX" --network "b-$SFX"
    husk network connect --alias "other-$SFX" "b-$SFX" "watch-$SFX"
    # its first network's responder answers it the names of the second
    husk exec "watch-$SFX" ip -o -4 addr show eth1
    hello_from "watch-$SFX" "three-$SFX"
    resolve "three-$SFX" "other-$SFX"
    run husk network connect "b-$SFX" "watch-$SFX"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"already exists in network b-$SFX"* ]]
    husk network disconnect "b-$SFX" "watch-$SFX"
    run husk exec "watch-$SFX" ip link show eth1
    [ "$status" -ne 0 ]
    run resolve "watch-$SFX" "three-$SFX"
    [ "$status" -ne 0 ]
    run resolve "three-$SFX" "other-$SFX"
    [ "$status" -ne 0 ]
    # and husk events shows the network's side as docker's does
    watch=$(husk inspect --format '{{.Id}}' "watch-$SFX")
    run husk events --since "$since" --until 0s --filter type=network --filter network="b-$SFX" \
        --format '{{.Action}} {{.Actor.Attributes.name}}'
    echo "$output"
    [ "$(echo "$output" | tr '\n' '|')" = "create b-$SFX|connect b-$SFX|disconnect b-$SFX|" ]
    run husk events --since "$since" --until 0s --filter network="b-$SFX" --filter event=connect \
        --format '{{.Actor.Attributes.container}}'
    [ "$output" = "$watch" ]
}

@test "--ip picks the address; -p ranges publish every port of the range" {
    husk network create --subnet 10.250.77.0/24 "ip-$SFX" >/dev/null ||
        skip "10.250.77.0/24 is in use on this host"
    p=$(python3 -c 'import socket
for base in range(20000, 60000, 10):
    ok = True
    for p in (base, base + 1):
        s = socket.socket()
        try: s.bind(("127.0.0.1", p))
        except OSError: ok = False
        s.close()
    if ok: print(base); break')
    husk run -d --name "fixed-$SFX" --network "ip-$SFX" --ip 10.250.77.42 \
        -p "127.0.0.1:$p-$((p + 1)):8000-8001" husk/busybox sh -c \
        'nc -ll -p 8000 -e echo port 8000 & nc -ll -p 8001 -e echo port 8001 & wait' >/dev/null
    run husk inspect --format '{{json .NetworkSettings.Networks}}' "fixed-$SFX"
    [[ "$output" == *'"IPAddress":"10.250.77.42"'* ]]
    for i in 0 1; do
        # the container's nc may not listen yet when run -d returns: up to 20 s
        for _ in $(seq 100); do
            run busybox nc -w 3 127.0.0.1 $((p + i))
            [ "$output" = "port $((8000 + i))" ] && break
            sleep 0.2
        done
        [ "$output" = "port $((8000 + i))" ]
    done
    run husk run --rm --network "ip-$SFX" --ip 10.1.2.3 husk/busybox true
    [ "$status" -ne 0 ]
    [[ "$output" == *"not in the subnet 10.250.77.0/24"* ]]
}

@test "containers joining keep the gateway's MAC: those already there still reach it" {
    husk network create "mac-$SFX" >/dev/null
    id=$(husk network inspect "mac-$SFX" | jq -r '.[0].Id')
    br=husk${id:0:10}
    gw=$(husk network inspect "mac-$SFX" | jq -r '.[0].IPAM.Config[0].Gateway')
    want=$(printf '02:42:%02x:%02x:%02x:%02x' ${gw//./ })
    husk run -d --name "first-$SFX" --network "mac-$SFX" husk/busybox sleep 600 >/dev/null
    # set by husk (NET_ADDR_SET), from the gateway's address, not the lowest port's
    [ "$(cat "/sys/class/net/$br/addr_assign_type")" = 3 ]
    [ "$(cat "/sys/class/net/$br/address")" = "$want" ]
    husk exec "first-$SFX" ping -c 1 -W 2 "$gw" >/dev/null
    for i in 1 2 3 4; do
        husk run -d --name "more$i-$SFX" --network "mac-$SFX" husk/busybox sleep 600 >/dev/null
        [ "$(cat "/sys/class/net/$br/address")" = "$want" ]
    done
    # the first container's ARP entry for the gateway is still the bridge's address
    run husk exec "first-$SFX" ip neigh show "$gw"
    echo "$output"
    [[ "$output" == *"$want"* ]]
    husk exec "first-$SFX" ping -c 1 -W 2 "$gw" >/dev/null
}
