#!/usr/bin/env bats
# husk's bridge network (the default, as docker's) and published ports (-p): an address
# in 10.66.0.0/16 with a default route, containers reaching each other over husk0, a
# port published on 127.0.0.1 reached from the host, and nothing left behind (pinned
# netns, veth, the port's element in husk's nftables table, the address lease) once a
# container is gone, nor after a -p that fails. Only 127.0.0.1 and the bridge are used.

load helpers

setup() {
    run_setup
    command -v nft >/dev/null || skip "nft is not installed (package nftables, scripts/deps.sh)"
}

teardown() {
    remove_containers
    run_teardown
}

# A port nobody on the host uses right now.
# busybox wget crashes in this static build: HTTP by hand over nc.
http_get() {  # HOST PORT PATH
    printf 'GET %s HTTP/1.0\r\n\r\n' "$3" | busybox nc -w 3 "$1" "$2"
}

# The elements of husk's nftables table that publish host port PORT, one a line.
port_rules() {  # PORT
    nft list table inet husk 2>/dev/null | grep -oE -- "(tcp|udp) \. $1 : [0-9.]+ \. [0-9]+" || true
}

# What container ID would leave behind on the host once it is gone.
net_leftovers() {
    local id=$1
    ls "$ROOT/run/.netns/$id" 2>/dev/null || true
    grep -rl -- "$id" /var/lib/cni/networks/husk 2>/dev/null || true
    if [ -n "${VETH:-}" ]; then ip link show "$VETH" 2>/dev/null || true; fi
    if [ -n "${PORT:-}" ]; then port_rules "$PORT"; fi
}

# The host side of the container's veth, from its endpoint record.
host_veth() {
    jq -r .host_veth "$ROOT/containers/$1/network.json"
}

@test "bridge by default: an address in 10.66.0.0/16, a default route, its name in /etc/hosts" {
    run husk run --rm --hostname net1 husk/busybox sh -c \
        'ip -o -4 addr show eth0; ip route; grep net1 /etc/hosts'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ inet\ 10\.66\.[0-9]+\.[0-9]+/16 ]]
    [[ "$output" == *"default via 10.66.0.1 dev eth0"* ]]
    addr=$(echo "${lines[0]}" | grep -o 'inet [0-9.]*' | cut -d' ' -f2)
    [[ "$output" == *"$addr"$'\t'"net1"* ]]
}

@test "two containers reach each other over the bridge" {
    id=$(husk run -d --name net-srv husk/busybox sh -c 'echo hello-over-bridge >/tmp/i; httpd -f -p 80 -h /tmp')
    addr=$(husk inspect -f '{{.NetworkSettings.IPAddress}}' net-srv)
    [[ "$addr" == 10.66.* ]]
    run husk run --rm husk/busybox sh -c \
        "for i in 1 2 3 4 5; do printf 'GET /i HTTP/1.0\r\n\r\n' | nc -w 3 $addr 80 && break; sleep 0.2; done"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *hello-over-bridge* ]]
}

@test "-p 127.0.0.1:PORT:80 is reached from the host; ps and inspect show it; rm leaves nothing" {
    port=$(free_port)
    id=$(husk run -d -p "127.0.0.1:$port:80" husk/busybox sh -c 'echo published >/tmp/i; httpd -f -p 80 -h /tmp')
    VETH=$(host_veth "$id")
    ip link show "$VETH" >/dev/null
    out=""
    for i in 1 2 3 4 5 6 7 8 9 10; do
        out=$(http_get 127.0.0.1 "$port" /i) && [[ "$out" == *published* ]] && break
        sleep 0.2
    done
    echo "$out"
    [[ "$out" == *published* ]]
    run husk ps
    echo "$output"
    [[ "$output" == *"127.0.0.1:$port->80/tcp"* ]]
    run husk inspect -f '{{json .NetworkSettings.Ports}}' "$id"
    echo "$output"
    [[ "$output" == *'"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"'$port'"}]'* ]]
    [ -n "$(net_leftovers "$id")" ]  # the check sees a connected container
    husk rm -f "$id"
    [ -z "$(net_leftovers "$id")" ]
    run http_get 127.0.0.1 "$port" /i
    [[ "$output" != *published* ]]
}

@test "a host port left to us (IP::CPORT) is a free one, shown by ps" {
    id=$(husk run -d -p 127.0.0.1::80 husk/busybox sleep 60)
    run husk ps
    echo "$output"
    [[ "$output" =~ 127\.0\.0\.1:[0-9]+-\>80/tcp ]]
    husk rm -f "$id"
    [ -z "$(net_leftovers "$id")" ]
}

@test "--rm in the foreground and a detached container that exits release everything" {
    run husk run --rm --name net-fg husk/busybox sh -c 'cat /proc/sys/kernel/hostname'
    [ "$status" -eq 0 ]
    [ -z "$(ls "$ROOT/run/.netns" 2>/dev/null)" ]
    port=$(free_port)
    id=$(husk run -d -p "127.0.0.1:$port:80" husk/busybox sh -c 'sleep 0.5')
    VETH=$(host_veth "$id")
    husk wait "$id"
    run husk ps -a
    [[ "$output" != *"->80/tcp"* ]]
    [ -z "$(net_leftovers "$id")" ]
    [ ! -e "$ROOT/containers/$id/network.json" ]
    husk stop "$id"
    # started again it is connected again
    husk start "$id"
    [ -e "$ROOT/containers/$id/network.json" ] || husk wait "$id"
    husk wait "$id"
    husk rm "$id"
    [ -z "$(net_leftovers "$id")" ]
}

@test "husk stop releases the network" {
    id=$(husk run -d husk/busybox sleep 60)
    VETH=$(host_veth "$id")
    husk stop -t 1 "$id"
    [ -z "$(net_leftovers "$id")" ]
    husk rm "$id"
}

@test "bad -p, -p with --network none, a port already published: one line, 125, nothing left" {
    for p in abc 80/sctp 1.2.3:1:80 70000:80; do
        run husk run --rm -p "$p" husk/busybox true
        echo "$p -> $status $output"
        [ "$status" -eq 125 ]
        [ "${#lines[@]}" -eq 1 ]
    done
    run husk run --rm --network none -p 80 husk/busybox true
    echo "$output"
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
    [ -z "$(leftovers)" ]
    port=$(free_port)
    first=$(husk run -d -p "127.0.0.1:$port:80" husk/busybox sleep 60)
    rules=$(port_rules "$port" | wc -l)
    run husk run --rm --name net-dup -p "$port:81" husk/busybox true
    echo "$output"
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"port is already allocated"* ]]
    [ -z "$(ls -A "$ROOT/containers" | grep -v -e '^\.lock$' -e "^$first$")" ]
    [ -z "$(ls "$ROOT/run/.netns" | grep -v "^$first$")" ]
    [ "$(port_rules "$port" | wc -l)" -eq "$rules" ]  # the first's only
    husk rm -f "$first"
    [ -z "$(net_leftovers "$first")" ]
    [ -z "$(port_rules "$port")" ]
}

@test "-p with --network host: docker's warning, the ports discarded" {
    run husk run --rm --network host -p 80 husk/busybox true
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"WARNING: Published ports are discarded when using host network mode"* ]]
}

# A users' CNI network in NETCONFPATH: bridge BR with host-local leases under $WORK/leases,
# the subnet 10.252.N.0/24 (clear of husk's own), and the plugins of $WORK/cni.
write_conflist() {  # NAME BR N [extra plugin JSON]
    mkdir -p "$WORK/net.d" "$WORK/cni"
    for p in bridge host-local portmap; do ln -sf "/usr/lib/cni/$p" "$WORK/cni/$p"; done
    cat >"$WORK/net.d/$1.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "$1", "plugins": [
  {"type": "bridge", "bridge": "$2", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": "$WORK/leases",
            "ranges": [[{"subnet": "10.252.$3.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}}${4:+, $4}]}
JSON
}

@test "--network cni:NAME: a users' conflist through the CNI plugins; rm leaves nothing" {
    [ -x /usr/lib/cni/bridge ] || skip "containernetworking-plugins is not installed (scripts/deps.sh)"
    br=hcni$RANDOM
    write_conflist mine "$br" 201
    export NETCONFPATH=$WORK/net.d HUSK_CNI_PATH=$WORK/cni
    id=$(husk run -d --network cni:mine husk/busybox sleep 60)
    run husk exec "$id" ip -o -4 addr show eth0
    echo "$output"
    [[ "$output" == *"inet 10.252.201."* ]]
    [ -n "$(grep -rl -- "$id" "$WORK/leases")" ]
    husk rm -f "$id"
    [ -z "$(grep -rl -- "$id" "$WORK/leases")" ]
    [ -z "$(ls "$ROOT/run/.netns" | grep -v '^\.lock$')" ]
    ip link del "$br"
    run husk run --rm --network cni:nosuch husk/busybox true
    echo "$output"
    [ "$status" -eq 125 ]
    [ "$output" = "husk: network cni:nosuch not found: no CNI configuration named nosuch in $WORK/net.d" ]
    [ -z "$(leftovers)" ]
}

@test "a CNI plugin that fails: one line naming it, 125, nothing left (lease, veth, netns)" {
    [ -x /usr/lib/cni/bridge ] || skip "containernetworking-plugins is not installed (scripts/deps.sh)"
    br=hcni$RANDOM
    write_conflist refusing "$br" 202 '{"type": "firewall"}'
    cat >"$WORK/cni/firewall" <<'SH'
#!/bin/sh
cat >/dev/null
[ "$CNI_COMMAND" = ADD ] || exit 0
echo "$CNI_CONTAINERID" >"$(dirname "$0")/id"
echo '{"cniVersion":"1.0.0","code":999,"msg":"refused by the test","details":"always"}'
exit 1
SH
    chmod +x "$WORK/cni/firewall"
    NETCONFPATH=$WORK/net.d HUSK_CNI_PATH=$WORK/cni run husk run --rm --network cni:refusing husk/busybox true
    echo "$output"
    ip link del "$br" 2>/dev/null || true
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
    [ "$output" = 'husk: network "refusing": plugin "firewall": refused by the test: always' ]
    id=$(cat "$WORK/cni/id")
    [ -n "$id" ]
    [ -z "$(grep -rl -- "$id" "$WORK/leases")" ]
    [ -z "$(leftovers)" ]
}

@test "husk ps during a foreground run does not take it for dead (its network stays)" {
    # the container says it is up, then waits for the test's go (files in a volume)
    mkdir -p "$WORK/sig"
    husk run --rm --name net-fg2 -v "$WORK/sig:/sig" husk/busybox sh -c \
        'touch /sig/up; while [ ! -e /sig/go ]; do sleep 0.05; done
         ip -4 -o addr show eth0 | grep -c 10.66' >"$WORK/fg.out" 2>&1 &
    for _ in $(seq 1 600); do [ -e "$WORK/sig/up" ] && break; sleep 0.05; done
    [ -e "$WORK/sig/up" ]
    run husk ps
    touch "$WORK/sig/go"
    echo "$output"
    [[ "$output" == *net-fg2* ]]
    wait $!
    cat "$WORK/fg.out"
    [ "$(cat "$WORK/fg.out")" = 1 ]
}

@test "monitor and container killed (-9): the next husk command releases the network" {
    port=$(free_port)
    id=$(husk run -d -p "127.0.0.1:$port:80" husk/busybox sleep 1000)
    VETH=$(host_veth "$id")
    pid=$(husk inspect -f '{{.State.Pid}}' "$id")
    mon=$(awk '{print $4}' "/proc/$pid/stat")
    [[ "$(tr '\0' ' ' </proc/$mon/cmdline)" == *husk-monitor* ]]
    kill -9 "$mon" "$pid"
    run husk ps -a
    echo "$output"
    [[ "$output" == *"Exited (unknown)"* ]]
    [ -z "$(net_leftovers "$id")" ]
    [ -z "$(port_rules "$port")" ]
    husk rm "$id"
}

@test "two runs publishing one port at the same time: exactly one gets it" {
    port=$(free_port)
    for n in 1 2; do
        (rc=0; husk run -d --name "net-race$n" -p "127.0.0.1:$port:80" husk/busybox sleep 60 \
            >"$WORK/race$n.out" 2>&1 || rc=$?; echo $rc >"$WORK/race$n.rc") &
    done
    wait
    cat "$WORK"/race*.out
    [ "$(cat "$WORK"/race*.rc | sort | tr '\n' ' ')" = "0 125 " ]
    grep -q "port is already allocated" "$WORK"/race*.out
    [ "$(port_rules "$port" | wc -l)" -eq 1 ]
}

@test "the netns gone before the DEL (pin removed): rm still leaves nothing" {
    port=$(free_port)
    id=$(husk run -d -p "127.0.0.1:$port:80" husk/busybox sleep 60)
    VETH=$(host_veth "$id")
    umount "$ROOT/run/.netns/$id"
    rm "$ROOT/run/.netns/$id"
    husk rm -f "$id"
    [ -z "$(net_leftovers "$id")" ]
    [ -z "$(port_rules "$port")" ]
}

@test "outbound NAT: the subnet in husk's masquerade set, nothing per container" {
    husk run --rm husk/busybox true
    nft list set inet husk masq4 | grep -q '10.66.0.0/16'
    nft list chain inet husk postrouting | grep -q 'ip saddr @masq4 ip daddr != @masq4 masquerade'
}

@test "-P publishes every exposed port to a free one; --add-host and --dns reach the files" {
    derived_image husk/exposing '.config.ExposedPorts = {"80/tcp": {}, "53/udp": {}}'
    id=$(husk run -d -P --add-host db:10.1.2.3 --add-host gw=host-gateway --dns 192.0.2.53 \
        --dns-search example.test --dns-option ndots:2 husk/exposing sleep 60)
    run husk inspect -f '{{json .NetworkSettings.Ports}}' "$id"
    echo "$output"
    echo "$output" | jq -e '(.["80/tcp"][0].HostPort | tonumber) > 0 and (.["53/udp"][0].HostPort | tonumber) > 0'
    run husk exec "$id" cat /etc/hosts /etc/resolv.conf
    echo "$output"
    [[ "$output" == *$'10.1.2.3\tdb'* ]]
    [[ "$output" == *$'10.66.0.1\tgw'* ]]
    [[ "$output" == *$'\t'"${id:0:12}"* ]]  # the bridge's own line too
    [ "$(echo "$output" | grep -c '^nameserver')" -eq 1 ]
    [[ "$output" == *"nameserver 192.0.2.53"* ]]
    [[ "$output" == *"search example.test"* ]]
    [[ "$output" == *"options ndots:2"* ]]
    husk rm -f "$id"
    [ -z "$(net_leftovers "$id")" ]
    run husk run --rm --add-host db:notanip husk/busybox true
    [ "$status" -eq 125 ]
    [ "${#lines[@]}" -eq 1 ]
    run husk run --rm --network host --dns 1.1.1.1 husk/busybox true
    [ "$status" -eq 125 ]
    [ "$output" = "husk: conflicting options: dns and the network mode" ]
}

@test "a host whose resolv.conf names only systemd-resolved's stub: containers get resolved's upstreams" {
    printf 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch example.test\n' >"$WORK/stub.conf"
    printf 'nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch example.test\n' >"$WORK/upstreams.conf"
    # in a mount namespace of the test's own: the host's files stay as they are
    run unshare -m --propagation private -- bash -c '
        mount --bind "$1" /etc/resolv.conf && mkdir -p /run/systemd &&
        mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/resolve &&
        cp "$2" /run/systemd/resolve/resolv.conf || exit 99
        "$HUSK" --root "$ROOT" run --rm husk/busybox cat /etc/resolv.conf
        echo ---
        "$HUSK" --root "$ROOT" run --rm --network host husk/busybox cat /etc/resolv.conf' \
        _ "$WORK/stub.conf" "$WORK/upstreams.conf"
    echo "$output"
    [ "$status" -eq 0 ]
    local bridge=${output%%---*} host=${output#*---}
    [[ "$bridge" == *"nameserver 192.0.2.53"*"nameserver 192.0.2.54"* ]]
    [[ "$bridge" != *"127.0.0.53"* ]]
    [[ "$bridge" == *"search example.test"* ]]
    # the host's network: the stub, which it reaches
    [[ "$host" == *"nameserver 127.0.0.53"* ]]
    [[ "$host" != *"192.0.2.53"* ]]
}
