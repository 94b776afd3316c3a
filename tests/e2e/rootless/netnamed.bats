#!/usr/bin/env bats
# A user's own networks (rootless `husk network create`, as podman's rootless netns): one
# holder process per user (husk-netns) keeps a user namespace with the user's maps and a
# network namespace where the networks' bridges, veths, rules and DNS responders live;
# containers on such a network join that user namespace; slirp4netns joins the holder's
# network to the host (outbound, the host's 127.0.0.1 as 10.0.2.2, and -p). The holder
# goes with the last container on a network; a killed one is replaced at the next run.

bats_require_minimum_version 1.5.0
load helpers
load ../images/helpers

setup_file() { network_file_setup slirp4netns slirp4netns both; }

teardown_file() { network_file_teardown; }

teardown() {
    stop_host_server
    rm_containers_of "$RL_USER" "$RL_BARE"
    local u n
    for u in "$RL_USER" "$RL_BARE"; do
        for n in $(as "$u" "$HUSK" network ls -q 2>/dev/null); do
            as "$u" "$HUSK" network rm "$n" >/dev/null 2>&1 || true
        done
    done
}

uh() { as "$RL_USER" "$HUSK" "$@"; }

# USER's live processes named NAME (husk-netns, slirp4netns, husk-dns): their pids.
procs() {
    ps -u "${2:-$RL_USER}" -o pid=,stat=,comm= | awk -v n="$1" '$2 !~ /^Z/ && $3 == n { print $1 }'
}

# Fails unless USER has no holder, slirp4netns or DNS responder left, nor their state.
no_network_left() {
    local u=${1:-$RL_USER}
    run procs husk-netns "$u"
    echo "holder: $output"
    [ -z "$output" ]
    run procs slirp4netns "$u"
    echo "slirp4netns: $output"
    [ -z "$output" ]
    run procs husk-dns "$u"
    echo "husk-dns: $output"
    [ -z "$output" ]
    run bash -c "find '$WORK/xdg-$u/husk/.netns-holder' '$WORK/xdg-$u/husk/.net/run' \
        '$WORK/xdg-$u/husk/.net/var/lib/cni/networks' -mindepth 1 -not -name lock 2>/dev/null"
    echo "state: $output"
    [ -z "$output" ]
}

# web USER NAME NET [ARGS...]: a detached busybox httpd NAME on NET serving its own name.
web() {
    local u=$1 name=$2 net=$3
    shift 3
    run as "$u" "$HUSK" run -d --name "$name" --network "$net" "$@" husk/busybox sh -c \
        "mkdir -p /www && echo served-by-$name >/www/index.html && exec httpd -f -p 80 -h /www"
    echo "$u run $name: $output"
    [ "$status" -eq 0 ]
}

@test "rootless network create, ls, inspect, rm as a user; bad input refused in one line" {
    run uh network create rnet1
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(uh network ls --format '{{.Name}}' | grep -cx rnet1)" -eq 1 ]
    local json
    json=$(uh network inspect rnet1)
    run jq -r '.[0] | "\(.Name) \(.Driver) \(.IPAM.Config[0].Subnet)"' <<<"$json"
    echo "$output"
    [[ "$output" == "rnet1 bridge "*/* ]]
    # a second user sees none of it, and makes its own of that name
    run as "$RL_BARE" "$HUSK" network inspect rnet1
    [ "$status" -ne 0 ]
    [[ "$output" == *"network rnet1 not found"* ]]
    run as "$RL_BARE" "$HUSK" network ls --format '{{.Name}}'
    [[ "$output" != *rnet1* ]]
    run as "$RL_BARE" "$HUSK" network rm rnet1
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    for bad in 'bad name' '-x' 'a/b'; do
        run uh network create "$bad"
        echo "$bad: $output"
        [ "$status" -ne 0 ]
        [ "${#lines[@]}" -eq 1 ]
    done
    run uh network create rnet1
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    run uh network create --subnet 10.300.0.0/24 rnet2
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    uh network rm rnet1
    run uh network inspect rnet1
    [ "$status" -ne 0 ]
    # nothing was started for a network without containers
    no_network_left
}

@test "rootless user network: containers resolve and reach each other by name and by IP" {
    uh network create rdns
    web "$RL_USER" db rdns
    local ip
    ip=$(uh inspect -f '{{(index .NetworkSettings.Networks "rdns").IPAddress}}' db)
    echo "db: $ip"
    [ -n "$ip" ]
    run uh run --rm --network rdns husk/busybox sh -c \
        "nslookup db; wget -qO- http://db/; wget -qO- http://$ip/"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Address"*"$ip"* ]]
    [ "$(grep -c served-by-db <<<"$output")" -eq 2 ]
    # one holder, one slirp4netns for the user, whatever the number of containers
    [ "$(procs husk-netns | wc -l)" -eq 1 ]
    [ "$(procs slirp4netns | wc -l)" -eq 1 ]
    # the container is in the holder's user namespace, with the user's maps
    local holder cpid
    holder=$(procs husk-netns)
    cpid=$(uh inspect -f '{{.State.Pid}}' db)
    [ "$(readlink /proc/"$holder"/ns/user)" = "$(readlink /proc/"$cpid"/ns/user)" ]
    [ "$(cat /proc/"$cpid"/uid_map | awk '{print $1, $3}' | head -1)" = "0 1" ]
    # the last container gone takes the holder, slirp4netns and the responder along
    uh rm -f db
    no_network_left
}

@test "rootless user network: -p reached from the host's 127.0.0.1; outbound to the host's 127.0.0.1 service" {
    uh network create rpub
    local port hport
    port=$(free_port)
    web "$RL_USER" pub rpub -p "127.0.0.1:$port:80"
    [ "$(curl_until "http://127.0.0.1:$port/index.html" served-by-pub)" = served-by-pub ]
    [ "$(uh port pub)" = "80/tcp -> 127.0.0.1:$port" ]
    # the same port again is refused in one line, naming it
    run uh run -d --network rpub -p "127.0.0.1:$port:80" husk/busybox sleep 100
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"127.0.0.1:$port"* ]]
    hport=$(free_port)
    host_server "$hport"
    run uh run --rm --network rpub husk/busybox sh -c \
        "printf 'GET /f HTTP/1.0\\r\\n\\r\\n' | nc -w 5 10.0.2.2 $hport"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"200 OK"*from-the-host* ]]
    # stopped: the port is no longer served; started again: it is
    uh stop -t 1 pub
    [ "$(curl -s -m 2 "http://127.0.0.1:$port/index.html" || true)" = "" ]
    no_network_left
    uh start pub
    [ "$(curl_until "http://127.0.0.1:$port/index.html" served-by-pub)" = served-by-pub ]
    uh rm -f pub
    [ "$(curl -s -m 2 "http://127.0.0.1:$port/index.html" || true)" = "" ]
    no_network_left
}

@test "rootless user network: network rm in use refused; another user cannot join it" {
    uh network create rbusy
    web "$RL_USER" busy rbusy
    run uh network rm rbusy
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"has active endpoints (busy)"* ]]
    run as "$RL_BARE" "$HUSK" run --rm --network rbusy husk/busybox true
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"network rbusy not found"* ]]
    # a users' CNI conflist stays root's
    run uh run --rm --network cni:foo husk/busybox true
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"needs root"* ]]
    uh rm -f busy
    uh network rm rbusy
    no_network_left
}

@test "rootless user network: a user without a subuid range has one too" {
    as "$RL_BARE" "$HUSK" network create rbare
    web "$RL_BARE" bdb rbare
    run as "$RL_BARE" "$HUSK" run --rm --network rbare husk/busybox wget -qO- http://bdb/
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = served-by-bdb ]  # after the note on the missing range
    as "$RL_BARE" "$HUSK" rm -f bdb
    no_network_left "$RL_BARE"
}

@test "rootless user network: two networks at once; --restart always comes back on its network, -p and name" {
    uh network create ra
    uh network create rb
    local port
    port=$(free_port)
    web "$RL_USER" again ra --network rb --restart always -p "127.0.0.1:$port:80"
    [ "$(curl_until "http://127.0.0.1:$port/index.html" served-by-again)" = served-by-again ]
    run uh run --rm --network rb husk/busybox wget -qO- http://again/
    echo "$output"
    [ "$output" = served-by-again ]
    kill_init_until_restarted again
    echo "init before $RESTART_OLD, after $RESTART_NEW"
    [ "$(curl_until "http://127.0.0.1:$port/index.html" served-by-again)" = served-by-again ]
    run uh run --rm --network ra husk/busybox wget -qO- http://again/
    echo "$output"
    [ "$output" = served-by-again ]
    [ "$(procs husk-netns | wc -l)" -eq 1 ]
    [ "$(procs slirp4netns | wc -l)" -eq 1 ]
    uh rm -f again
    no_network_left
}

@test "rootless network connect/disconnect: a running container joins and leaves another of the user's networks" {
    uh network create rc1
    uh network create rc2
    web "$RL_USER" cweb rc1
    uh network connect rc2 cweb
    run uh run --rm --network rc2 husk/busybox wget -qO- http://cweb/
    echo "$output"
    [ "$output" = served-by-cweb ]
    uh network disconnect rc2 cweb
    run uh run --rm --network rc2 husk/busybox wget -qO- -T 3 http://cweb/
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" != *served-by-cweb* ]]
    # its last network it keeps; a pasta container cannot join one
    run uh network disconnect rc1 cweb
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"cannot leave its last network"* ]]
    uh run -d --name pasta1 husk/busybox sleep 100
    run uh network connect rc1 pasta1
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"has a user-mode network of its own"* ]]
    uh rm -f cweb pasta1
    no_network_left
}

@test "rootless user network without XDG_RUNTIME_DIR: its state in the user's /tmp/husk-run-UID, none in root's" {
    local before=no uid
    [ -e /tmp/husk-run-0 ] && before=yes
    uid=$(id -u "$RL_USER")
    noxdg() {
        (cd "$WORK" && runuser -u "$RL_USER" -- env -i PATH=/usr/bin:/bin HOME="$WORK/home-$RL_USER" \
            "$HUSK" "$@")
    }
    noxdg network create rnoxdg 2>/dev/null
    run noxdg run --rm --network rnoxdg husk/busybox ip -4 -o addr show eth0
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"inet 10."* ]]
    [[ "$output" != *husk-run-0* ]]
    [ "$before" = yes ] || [ ! -e /tmp/husk-run-0 ]
    [ -d "/tmp/husk-run-$uid" ]
    noxdg network rm rnoxdg 2>/dev/null
    run procs husk-netns
    [ -z "$output" ]
}

@test "rootless user network: the holder killed is replaced at the next run, with a note" {
    uh network create rkill
    web "$RL_USER" one rkill
    local holder
    holder=$(procs husk-netns)
    [ -n "$holder" ]
    kill -9 "$holder"
    for _ in $(seq 100); do [ -z "$(procs slirp4netns)" ] && break; sleep 0.1; done
    [ -z "$(procs slirp4netns)" ]
    web "$RL_USER" two rkill
    [[ "$output" == *"is gone: starting a new one"* ]]
    run uh run --rm --network rkill husk/busybox wget -qO- http://two/
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = served-by-two ]
    uh rm -f one two
    uh network rm rkill
    no_network_left
}

@test "rootless user network kill: husk run -d killed at random moments; rm -f and network rm leave nothing" {
    uh network create rkills
    kill_runs_at_random "$RL_USER" 8 --network rkills
    run uh network rm rkills
    echo "$output"
    [ "$status" -eq 0 ]
    nothing_left_of "$RL_USER"
    no_network_left
}

@test "rootless user network with --proc-virtualize: the time namespace made in the joined user namespace" {
    # the init in the holder's user namespace is not dumpable from its helper on: its
    # /proc/self/timens_offsets must still be writable when it makes its time namespace
    uh network create rpv
    local h0 h1 up
    h0=$(cut -d. -f1 /proc/uptime)
    run uh run --rm --network rpv --proc-virtualize=true husk/busybox \
        sh -c 'echo up $(cut -d. -f1 /proc/uptime); ip -4 -o addr show eth0'
    h1=$(cut -d. -f1 /proc/uptime)
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"eth0"*"inet "* ]]  # on the user's network
    up=$(awk '/^up / { print $2 }' <<<"$output")
    [ -n "$up" ]
    # the container's uptime counts from its start, not the host's boot
    [ "$up" -le $((h1 - h0 + 1)) ]
    no_network_left
}

@test "rootless user network: a container whose create fails leaves no holder behind" {
    uh network create rfail
    run -127 uh run --rm --network rfail husk/busybox /no/such/program
    echo "$output"
    [ "$status" -ne 0 ]
    run uh run -d --name rfail1 --network rfail -w /etc/passwd husk/busybox true
    echo "$output"
    [ "$status" -ne 0 ]
    uh rm -f rfail1 >/dev/null 2>&1 || true
    no_network_left
}

@test "rootless user networks of two data roots keep apart: a second root's holder leaves the first's names and leases" {
    uh network create rone
    web "$RL_USER" one rone
    local r2="$WORK/home-$RL_USER/root2"
    as "$RL_USER" mkdir -p "$r2"
    as "$RL_USER" "$HUSK" --root "$r2" load -i "$WORK/bb.tar" >/dev/null
    as "$RL_USER" "$HUSK" --root "$r2" network create rtwo
    # a second holder starts and stops for the other root
    run as "$RL_USER" "$HUSK" --root "$r2" run --rm --network rtwo husk/busybox true
    echo "$output"
    [ "$status" -eq 0 ]
    as "$RL_USER" "$HUSK" --root "$r2" network rm rtwo
    # the first root's responder and leases are still there
    run uh run --rm --network rone husk/busybox sh -c 'nslookup one && wget -qO- http://one/'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *served-by-one* ]]
    uh rm -f one
    no_network_left
    as "$RL_USER" "$HUSK" --root "$r2" rmi husk/busybox >/dev/null 2>&1 || true
}

@test "rootless user network: a running holder with other id maps (the subuid range moved) is refused in one line, nothing made" {
    uh network create rmaps
    web "$RL_USER" m1 rmaps
    # the user's range moves while the holder runs with the old one (the first range is used)
    set_ranges "$RL_USER" $((RL_SUBID + 131072)) "$RL_SUBID"
    run uh run --rm --network rmaps husk/busybox true
    set_ranges "$RL_USER" "$RL_SUBID"
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "${lines[-1]}" == *"has other id maps than this container"* ]]
    [ "$(uh ps -aq | wc -l)" -eq 1 ]  # m1 alone
    uh rm -f m1
    no_network_left
}

@test "rootless network rm, prune and create while a container runs on another of the user's networks: no error, no warning" {
    uh network create rrm1
    uh network create rrm2
    web "$RL_USER" rrmw rrm1
    # rrm2's removal runs in the holder's namespaces (where rrm1 lives): no iptables there
    run uh network rm rrm2
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = rrm2 ]
    uh network create rrm3 >/dev/null
    run uh network prune -f
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *rrm3* ]]
    [[ "$output" != *rrm1* ]]
    [[ "$output" != *arning* ]]
    # a reservation without its record (a create killed between the two): the next
    # create drops it, and what the network left, without a warning
    uh network create rrm4 >/dev/null
    rm "$WORK/home-$RL_USER/.local/share/husk/networks/rrm4.json"
    run uh network create rrm5
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" != *arning* ]]
    run uh run --rm --network rrm1 husk/busybox wget -qO- http://rrmw/
    echo "$output"
    [ "$output" = served-by-rrmw ]
    uh rm -f rrmw
    uh network rm rrm1 rrm5
    no_network_left
}

@test "rootless user network: names outside resolve through the host's resolver on its loopback" {
    host_resolver
    uh network create rup
    # husk, the holder, slirp4netns and the responder it starts see it as the host's resolver
    run as_resolving "$RL_USER" "$HUSK" run --rm --network rup husk/busybox nslookup outside.test
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Address: 192.0.2.77"* ]]
    uh network rm rup
    no_network_left
}

@test "rootless user network: a new network after the runtime directory was cleared (logout) gets a subnet of its own" {
    uh network create rsub1
    # what a logout or reboot does to $XDG_RUNTIME_DIR: the reservations go, the records stay
    rm -rf "$WORK/xdg-$RL_USER/husk/.net"
    uh network create rsub2
    local s1 s2
    s1=$(uh network inspect rsub1 | jq -r '.[0].IPAM.Config[0].Subnet')
    s2=$(uh network inspect rsub2 | jq -r '.[0].IPAM.Config[0].Subnet')
    echo "rsub1 $s1, rsub2 $s2"
    [ -n "$s1" ]
    [ -n "$s2" ]
    [ "$s1" != "$s2" ]
    uh network rm rsub1 rsub2
}

@test "rootless user network: one host port on two host addresses is refused in one line" {
    uh network create rport
    local port
    port=$(free_port)
    web "$RL_USER" rp1 rport -p "127.0.0.1:$port:80"
    run uh run -d --name rp2 --network rport -p "127.0.0.2:$port:80" husk/busybox sleep 100
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"port $port is already allocated"* ]]
    # one container asking for it twice too
    run uh run -d --name rp3 --network rport -p "127.0.0.2:$port:80" -p "127.0.0.3:$port:81" \
        husk/busybox sleep 100
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"port $port is already allocated"* ]]
    [ "$(curl_until "http://127.0.0.1:$port/index.html" served-by-rp1)" = served-by-rp1 ]
    uh rm -f rp1 rp2 rp3 >/dev/null 2>&1 || true
    no_network_left
}
