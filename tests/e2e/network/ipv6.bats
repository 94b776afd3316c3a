#!/usr/bin/env bats
# Networks made --ipv6: their names answer AAAA queries with the containers' IPv6
# addresses (and PTR for them), as busybox's and glibc's resolvers ask; ports published on
# such a network are reached over IPv6 too, through husk's nftables table.

load helpers
load ../run/helpers  # free_port

setup() {
    [ "$(cat /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null)" = 0 ] ||
        skip "IPv6 is disabled on this host (net.ipv6.conf.all.disable_ipv6)"
    network_setup
    NS=h6-$SFX
}

teardown() {
    ip netns del "$NS" 2>/dev/null || true
    ip link del "v6h-$SFX" 2>/dev/null || true
    network_teardown
}

ip6_of() { husk inspect --format '{{json .NetworkSettings.Networks}}' "$1" | jq -r '.[].GlobalIPv6Address'; }

@test "--ipv6: AAAA and PTR of the containers' IPv6 addresses; A stays IPv4" {
    husk network create --ipv6 "six-$SFX" >/dev/null
    husk run -d --name "srv-$SFX" --network "six-$SFX" --network-alias "db-$SFX" husk/busybox sleep 600 >/dev/null
    husk run -d --name "cli-$SFX" --network "six-$SFX" husk/busybox sleep 600 >/dev/null
    srv6=$(ip6_of "srv-$SFX")
    subnet6=$(husk network inspect "six-$SFX" | jq -r '.[0].IPAM.Config[1].Subnet')
    [[ "$srv6" == "${subnet6%::/64}:"* ]]
    [ "$(husk network inspect "six-$SFX" | jq -r ".[0].Containers[].IPv6Address" | grep -c "/64")" -eq 2 ]
    run husk exec "cli-$SFX" nslookup -type=AAAA "srv-$SFX"
    echo "$output"
    [[ "$output" == *"Address: $srv6"* ]]
    run husk exec "cli-$SFX" nslookup -type=AAAA "DB-$SFX"
    [[ "$output" == *"Address: $srv6"* ]]
    run husk exec "cli-$SFX" nslookup -type=A "srv-$SFX"
    [[ "$output" != *"$srv6"* ]]
    [[ "$output" == *"Address: $(ip_of "srv-$SFX")"* ]]
    # reverse lookup of the IPv6 address
    run husk exec "cli-$SFX" nslookup "$srv6"
    echo "$output"
    [[ "$output" == *"srv-$SFX"* ]]
    # what a program uses: ping over IPv6 by name
    husk exec "cli-$SFX" ping -6 -c 1 -W 3 "srv-$SFX" | grep -q "from $srv6"
    # glibc's resolver (getent) in a Debian container: both families
    debian_root
    run husk run --rm --network "six-$SFX" --rootfs "$WORK/debian" getent ahostsv6 "srv-$SFX"
    echo "$output"
    [[ "$output" == "$srv6 "* ]]
    run husk run --rm --network "six-$SFX" --rootfs "$WORK/debian" getent ahostsv4 "srv-$SFX"
    [[ "$output" == "$(ip_of "srv-$SFX") "* ]]
}

@test "an IPv4-only network answers AAAA of its names with no data (NOERROR), as docker's" {
    husk network create "four-$SFX" >/dev/null
    husk run -d --name "srv-$SFX" --network "four-$SFX" husk/busybox sleep 600 >/dev/null
    debian_root
    # glibc asks A and AAAA: the AAAA answer has nothing (no error), so the IPv4 address only
    run husk run --rm --network "four-$SFX" --rootfs "$WORK/debian" getent ahosts "srv-$SFX"
    echo "$output"
    [ "$status" -eq 0 ]
    [ -z "$(echo "$output" | grep -v "^$(ip_of "srv-$SFX") ")" ]
    run husk run --rm --network "four-$SFX" --rootfs "$WORK/debian" getent hosts "srv-$SFX"
    [ "$(echo "$output" | awk '{print $1, $2}')" = "$(ip_of "srv-$SFX") srv-$SFX" ]
}

# A namespace at fd6e:$R::2 behind a veth from the host (fd6e:$R::1): a client outside.
outside_client() {
    R=$(printf '%x' $((RANDOM % 4000 + 16)))
    ip netns add "$NS"
    ip link add "v6h-$SFX" type veth peer name vc netns "$NS"
    ip addr add "fd6e:$R::1/64" dev "v6h-$SFX" nodad
    ip link set "v6h-$SFX" up
    ip -n "$NS" addr add "fd6e:$R::2/64" dev vc nodad
    ip -n "$NS" link set vc up
    ip -n "$NS" link set lo up
}

@test "-p on an --ipv6 network: reached over the host's IPv6 address, [IP]:HOST:CT only there" {
    outside_client
    husk network create --ipv6 "p6-$SFX" >/dev/null
    port=$(free_port)
    serve "web-$SFX" --network "p6-$SFX" -p "$port:8080"
    run ip netns exec "$NS" busybox nc -w 3 "fd6e:$R::1" "$port"
    echo "$output"
    [ "$output" = "hello from web-$SFX" ]
    # IPv4 still
    [ "$(busybox nc -w 3 127.0.0.1 "$port")" = "hello from web-$SFX" ]
    [ -n "$(nft list map inet husk ports6 | grep -- "$(ip6_of "web-$SFX") . 8080")" ]
    port2=$(free_port)
    serve "only-$SFX" --network "p6-$SFX" -p "[fd6e:$R::1]:$port2:8080"
    run ip netns exec "$NS" busybox nc -w 3 "fd6e:$R::1" "$port2"
    [ "$output" = "hello from only-$SFX" ]
    [ "$(husk port "only-$SFX")" = "8080/tcp -> [fd6e:$R::1]:$port2" ]
    # not on IPv4
    run busybox nc -w 2 127.0.0.1 "$port2"
    [ "$output" != "hello from only-$SFX" ]
    husk rm -f "web-$SFX" "only-$SFX" >/dev/null
    [ -z "$(nft list table inet husk | grep -e ":$port " -e " $port " -e " $port2 ")" ]
}

@test "-p [IPv6]:HOST:CT on a network without IPv6: one line, nothing left" {
    outside_client
    husk network create "v4-$SFX" >/dev/null
    run husk run --rm --name "x-$SFX" --network "v4-$SFX" -p "[fd6e:$R::1]:$(free_port):80" husk/busybox true
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"network v4-$SFX has no IPv6 (husk network create --ipv6)"* ]]
    [ -z "$(husk ps -aq)" ]
    [ -z "$(ls "$ROOT/run/.netns" 2>/dev/null | grep -v '^\.lock$')" ]
}

@test "create -p [IPv6]:HOST:CT on a network without IPv6 (or the default one): refused at create" {
    husk network create "v4c-$SFX" >/dev/null
    for net in "v4c-$SFX" bridge; do
        run husk create --name "c-$SFX" --network "$net" -p "[fd00::1]:8080:80" husk/busybox true
        echo "$output"
        [ "$status" -ne 0 ]
        [ "${#lines[@]}" -eq 1 ]
        [[ "$output" == *"publish [fd00::1]:8080:80/tcp: network "*" has no IPv6 (husk network create --ipv6)"* ]]
        [ -z "$(husk ps -aq)" ]
    done
    # [::1] goes through husk-proxy: no IPv6 needed
    husk create --name "c-$SFX" --network "v4c-$SFX" -p "[::1]:8080:80" husk/busybox true >/dev/null
}

# The husk-proxy processes and directories of container ID.
proxies_of() {  # ID
    ls -d /run/husk-proxy/"$1".* 2>/dev/null || true
    pgrep -f "husk-proxy .*/run/husk-proxy/$1" || true
}

@test "[::1]: -p HOST:CT of an --ipv6 network and -p [::1]:HOST:CT of any, through husk-proxy; gone with the container" {
    husk network create --ipv6 "lo6-$SFX" >/dev/null
    port=$(free_port)
    serve "web-$SFX" --network "lo6-$SFX" -p "$port:8080"
    [ "$(busybox nc -w 3 ::1 "$port")" = "hello from web-$SFX" ]
    [ "$(busybox nc -w 3 127.0.0.1 "$port")" = "hello from web-$SFX" ]
    # on the default network (IPv4 only): [::1] to the container's IPv4 address
    port2=$(free_port)
    serve "lo4-$SFX" -p "[::1]:$port2:8080"
    [ "$(busybox nc -w 3 ::1 "$port2")" = "hello from lo4-$SFX" ]
    run busybox nc -w 2 127.0.0.1 "$port2"
    [ "$output" != "hello from lo4-$SFX" ]
    [ "$(husk port "lo4-$SFX")" = "8080/tcp -> [::1]:$port2" ]
    # the port is taken while it runs
    run husk run -d -p "[::1]:$port2:80" husk/busybox sleep 60
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"[::1]:$port2"* ]]
    web=$(husk inspect --format '{{.Id}}' "web-$SFX")
    lo4=$(husk inspect --format '{{.Id}}' "lo4-$SFX")
    [ -n "$(proxies_of "$web")" ]
    husk rm -f "web-$SFX" "lo4-$SFX" >/dev/null
    [ -z "$(proxies_of "$web")" ]
    [ -z "$(proxies_of "$lo4")" ]
    run busybox nc -w 2 ::1 "$port2"
    [ "$output" != "hello from lo4-$SFX" ]
}

@test "kill test: husk run -p [::1] killed at random moments; rm leaves no proxy, port or address" {
    husk network create --ipv6 "k6-$SFX" >/dev/null
    id=$(husk network inspect "k6-$SFX" | jq -r '.[0].Id')
    for i in 1 2 3 4; do
        # $! must be husk itself, not a shell around it: "$HUSK", not the husk function
        "$HUSK" --root "$ROOT" run -d --name "k$i-$SFX" --network "k6-$SFX" -p "$(free_port):8080" \
            -p "[::1]:$(free_port):8081" husk/busybox sleep 600 >/dev/null 2>&1 &
        runner=$!
        sleep "0.$((RANDOM % 9))"
        kill -9 "$runner" 2>/dev/null || true
        wait "$runner" || true
    done
    # and one run left to finish: the check below has at least one proxy to see gone
    husk run -d --name "k5-$SFX" --network "k6-$SFX" -p "[::1]:$(free_port):8081" husk/busybox sleep 600 >/dev/null
    [ -n "$(proxies_of "$(husk inspect --format '{{.Id}}' "k5-$SFX")")" ]
    # a run killed before it recorded the container made nothing: ps lists every other one
    ids=$(husk ps -aq --no-trunc)
    remove_all_containers
    for c in $ids; do [ -z "$(proxies_of "$c")" ]; done
    [ -z "$(ls "$ROOT/containers" | grep -v '^\.lock$')" ]
    [ -z "$(ls "/var/lib/cni/networks/husk-${id:0:12}/k6-$SFX" 2>/dev/null | grep -v -e lock -e last_reserved)" ]
    sub6=$(husk network inspect "k6-$SFX" | jq -r '.[0].IPAM.Config[1].Subnet')
    [ -z "$(nft list table inet husk | grep -F "${sub6%::/64}:" | grep -v "/64")" ]
}
