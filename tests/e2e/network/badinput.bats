#!/usr/bin/env bats
# Bad input to the network commands: one clear line, a non-zero exit, nothing half-made
# (no record, no subnet reservation, no container left connected); a killed `network
# create` or `run --network` leaves nothing that `rm -f` and `network rm` cannot clean.

load helpers

setup() { network_setup; }
teardown() { network_teardown; }

one_line_error() {  # PATTERN
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"$1"* ]]
}

@test "overlapping subnet, name in use, bad text, unknown network: one line, nothing made" {
    husk network create "n1-$SFX" >/dev/null
    subnet=$(husk network inspect "n1-$SFX" | jq -r '.[0].IPAM.Config[0].Subnet')
    before=$(ls /var/lib/cni/husk-subnets | sort)
    run husk network create --subnet "$subnet" "n2-$SFX"
    one_line_error "Pool overlaps with other one on this address space"
    run husk network create --subnet "${subnet%.*.*}.0.0/16" "n2-$SFX"  # the /16 around it
    one_line_error "Pool overlaps"
    run husk network create "n1-$SFX"
    one_line_error "network with name n1-$SFX already exists"
    run husk network create --subnet 10.1.2.3/24 "n2-$SFX"
    one_line_error "invalid subnet 10.1.2.3/24: it should be 10.1.2.0/24"
    run husk network create --subnet nonsense "n2-$SFX"
    one_line_error "invalid CIDR address: nonsense"
    run husk network create "bad name"
    one_line_error "invalid network name"
    [ "$(husk network ls -q | wc -l)" -eq 1 ]
    [ "$(ls /var/lib/cni/husk-subnets | sort)" = "$before" ]
    run husk run --rm --network "nope-$SFX" husk/busybox true
    one_line_error "network nope-$SFX not found"
    [ -z "$(husk ps -aq)" ]
    run husk run --rm --network "n1-$SFX" --network host husk/busybox true
    one_line_error "conflicting options"
}

@test "rm of a network in use and connecting twice are refused; prune keeps what is used" {
    id=$(husk network create "used-$SFX")
    husk network create "idle-$SFX" >/dev/null
    husk run -d --name "c-$SFX" --network "used-$SFX" husk/busybox sleep 600 >/dev/null
    run husk network rm "used-$SFX"
    one_line_error "has active endpoints (c-$SFX)"
    run husk network connect "used-$SFX" "c-$SFX"
    one_line_error "endpoint with name c-$SFX already exists in network used-$SFX"
    run husk network prune -f
    [[ "$output" == *"idle-$SFX"* ]]
    [[ "$output" != *"used-$SFX"* ]]
    husk rm -f "c-$SFX" >/dev/null
    husk network rm "used-$SFX"
    [ -z "$(network_leftovers "$id")" ]
}

@test "killed network create and run --network: rm -f and network rm leave nothing" {
    id=$(husk network create "k-$SFX")
    # $! must be husk itself, not a shell around it: "$HUSK", not the husk function
    for delay in 0.05 0.15 0.3 0.6; do
        "$HUSK" --root "$ROOT" run -d --network "k-$SFX" husk/busybox sleep 600 >/dev/null 2>&1 &
        sleep "$delay"
        kill -9 $! 2>/dev/null || true
        wait $! 2>/dev/null || true
    done
    for delay in 0.005 0.02; do
        "$HUSK" --root "$ROOT" network create "k2-$SFX" >/dev/null 2>&1 &
        sleep "$delay"
        kill -9 $! 2>/dev/null || true
        wait $! 2>/dev/null || true
        husk network rm "k2-$SFX" >/dev/null 2>&1 || true
    done
    remove_all_containers
    husk network rm "k-$SFX"
    husk network prune -f >/dev/null
    [ -z "$(husk network ls -q)" ]
    [ -z "$(network_leftovers "$id")" ]
    ls "$ROOT/run/.netns" 2>/dev/null | grep -v '^\.lock$' && false
    # no reservation left that names this data root
    run grep -rl -- "$ROOT" /var/lib/cni/husk-subnets
    [ -z "$output" ]
}

# What left a stale husk bridge with 10.67.0.1/24 and no record on the host: a data root
# deleted with its networks (the README harness removes its root after a failed block).
@test "a network whose record is gone: the next prune or create removes its bridge and rules" {
    id=$(husk network create "lost-$SFX")
    husk run --rm --network "lost-$SFX" husk/busybox true
    ip link show "husk${id:0:10}" >/dev/null  # the first container made the bridge
    cp "$ROOT/networks/lost-$SFX.json" "$WORK/lost.json"
    rm "$ROOT/networks/lost-$SFX.json"
    husk network prune -f >/dev/null
    [ -z "$(network_leftovers "$id")" ]
    ! nft list set inet husk masq4 | grep -- "$(jq -r .Subnet "$WORK/lost.json")" || false

    id=$(husk network create "lost2-$SFX")
    husk run --rm --network "lost2-$SFX" husk/busybox true
    rm "$ROOT/networks/lost2-$SFX.json"
    husk network create "new-$SFX" >/dev/null
    [ -z "$(network_leftovers "$id")" ]
}
