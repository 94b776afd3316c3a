#!/usr/bin/env bats
# Kill test of the in-process bridge network: `husk run -d -p` killed (-9) at random
# moments while it sets up the network (address lease, bridge, veth, nftables elements),
# then `husk rm -f` leaves no veth, no lease, no nftables element of its ports and no
# pinned network namespace; the same for a user-defined network and `husk network rm`.

load helpers

setup() {
    run_setup
    command -v nft >/dev/null || skip "nft is not installed (package nftables, scripts/deps.sh)"
}

teardown() {
    remove_containers
    [ -z "${NET:-}" ] || husk network rm "$NET" >/dev/null 2>&1 || true
    run_teardown
}

# The host end of the veth the container's endpoint files name (recorded before the
# set-up starts, so a killed run has them too).
veths_of() {  # ID
    cat "$ROOT/containers/$1/network.json" "$ROOT/containers/$1"/endpoints/*.json 2>/dev/null |
        jq -r '.host_veth // empty'
}

# Everything the runs of this test could have left on the host.
leftovers_of() {  # VETHS PORTS IDS
    local v p id
    for v in $1; do ip link show "$v" 2>/dev/null || true; done
    for p in $2; do nft list table inet husk 2>/dev/null | grep -oE -- "tcp \. $p :[^,}]*" || true; done
    for id in $3; do grep -rl -- "$id" /var/lib/cni/networks 2>/dev/null || true; done
    ls "$ROOT/run/.netns" 2>/dev/null | grep -v '^\.lock$' || true
}

# Runs `husk run -d -p 127.0.0.1:PORT:80 ARGS... sleep 600` N times, each killed after
# a random 0-300 ms; echoes "VETHS|PORTS|IDS" of what was started.
killed_runs() {  # N ARGS...
    local n=$1 i port delay veths="" ports="" ids="" id
    shift
    for i in $(seq 1 "$n"); do
        port=$(free_port)
        ports="$ports $port"
        # $! must be husk itself, not a shell around it: "$HUSK", not the husk function
        "$HUSK" --root "$ROOT" run -d -p "127.0.0.1:$port:80" "$@" husk/busybox sleep 600 \
            >/dev/null 2>&1 &
        delay=$(printf '0.%03d' $((RANDOM % 300)))
        sleep "$delay"
        kill -9 $! 2>/dev/null || true
        wait $! 2>/dev/null || true
    done
    for id in $(ls -A "$ROOT/containers" 2>/dev/null | grep -v '^\.lock$'); do
        ids="$ids $id"
        veths="$veths $(veths_of "$id" | tr '\n' ' ')"
    done
    echo "$veths|$ports|$ids"
}

@test "husk run -d -p killed during network set-up: rm -f leaves no veth, lease, nft element, netns" {
    IFS='|' read -r veths ports ids <<<"$(killed_runs 8)"
    echo "veths: $veths ports: $ports ids: $ids"
    for id in $ids; do husk rm -f "$id" >/dev/null; done
    left=$(leftovers_of "$veths" "$ports" "$ids")
    echo "$left"
    [ -z "$left" ]
}

@test "husk run --network NET -p killed during set-up: rm -f and network rm leave nothing" {
    NET=kill-$(basename "$WORK" | tr -cd 'a-zA-Z0-9' | tail -c 6)
    nid=$(husk network create "$NET")
    IFS='|' read -r veths ports ids <<<"$(killed_runs 6 --network "$NET")"
    echo "veths: $veths ports: $ports ids: $ids"
    for id in $ids; do husk rm -f "$id" >/dev/null; done
    husk network rm "$NET"
    left=$(leftovers_of "$veths" "$ports" "$ids")
    ip link show "husk${nid:0:10}" 2>/dev/null && left="$left bridge"
    nft list table inet husk | grep -- "husk${nid:0:10}" && left="$left nft"
    ls -d "/var/lib/cni/networks/husk-${nid:0:12}" 2>/dev/null && left="$left leases"
    echo "$left"
    [ -z "$left" ]
    NET=""
}
