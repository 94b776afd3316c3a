#!/usr/bin/env bats
# `husk network connect cni:NAME CONTAINER`: a users' own CNI conflist (NETCONFPATH) joined
# by a running container, as `run --network cni:NAME` joins it at start; disconnect and rm
# undo it (the plugins' DEL: the lease and the interface go).

load helpers

setup() {
    network_setup
    [ -x /usr/lib/cni/bridge ] || skip "containernetworking-plugins is not installed (scripts/deps.sh)"
    BR=hcn${SFX:0:6}
    mkdir -p "$WORK/net.d" "$WORK/cni"
    for p in bridge host-local; do ln -sf "/usr/lib/cni/$p" "$WORK/cni/$p"; done
    N=$((RANDOM % 200 + 20))
    cat >"$WORK/net.d/mine.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "mine", "plugins": [
  {"type": "bridge", "bridge": "$BR", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": "$WORK/leases",
            "ranges": [[{"subnet": "10.253.$N.0/24"}]]}}]}
JSON
    export NETCONFPATH=$WORK/net.d HUSK_CNI_PATH=$WORK/cni
}

teardown() {
    network_teardown
    ip link del "$BR" 2>/dev/null || true
}

@test "network connect cni:NAME: a running container joins a users' conflist; disconnect and rm undo it" {
    id=$(husk run -d husk/busybox sleep 600)
    husk network connect cni:mine "$id"
    run husk exec "$id" ip -o -4 addr show eth1
    echo "$output"
    [[ "$output" == *"inet 10.253.$N."* ]]
    addr=$(sed -E 's/.*inet ([0-9.]+)\/.*/\1/' <<<"$output")
    [ -n "$(grep -rl -- "$id" "$WORK/leases")" ]
    # inspect shows the address the container has
    [ "$(husk inspect --format '{{json .NetworkSettings.Networks}}' "$id" | jq -r '."cni:mine".IPAddress')" = "$addr" ]
    # twice: refused, nothing changed
    run husk network connect cni:mine "$id"
    [ "$status" -ne 0 ]
    [[ "$output" == *"already exists in network cni:mine"* ]]
    husk network disconnect cni:mine "$id"
    run husk exec "$id" ip -o link show eth1
    [ "$status" -ne 0 ]
    [ -z "$(grep -rl -- "$id" "$WORK/leases")" ]
    # connected again, then removed with the container
    husk network connect cni:mine "$id"
    [ -n "$(grep -rl -- "$id" "$WORK/leases")" ]
    husk rm -f "$id" >/dev/null
    [ -z "$(grep -rl -- "$id" "$WORK/leases")" ]
    [ -z "$(ls "$ROOT/run/.netns" | grep -v '^\.lock$')" ]
}

@test "network connect cni:NAME of a stopped container: joined at its start; an unknown one refused" {
    id=$(husk create husk/busybox sleep 600)
    husk network connect cni:mine "$id"
    husk start "$id" >/dev/null
    run husk exec "$id" ip -o -4 addr show
    echo "$output"
    [[ "$output" == *"inet 10.253.$N."* ]]
    run husk network connect cni:nosuch "$id"
    echo "$output"
    [ "$status" -ne 0 ]
    [ "$output" = "husk: error: network cni:nosuch not found: no CNI configuration named nosuch in $WORK/net.d" ]
    [ "$(husk inspect --format '{{json .NetworkSettings.Networks}}' "$id" | jq -r 'keys | join(",")')" = "cni:mine,husk" ]
}
