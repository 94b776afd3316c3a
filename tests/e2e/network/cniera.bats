#!/usr/bin/env bats
# Upgrading from a husk of the CNI path: the iptables rules it kept in the host's tables
# (each network's MASQUERADE, the HUSK-ISOLATION chains and CNI-ADMIN's jump to them) go
# when husk makes its nftables table, the first connection this boot; husk's own NAT and
# isolation are nftables' and keep working.

load helpers

setup() {
    network_setup
    command -v iptables >/dev/null || skip "iptables is not installed"
}

# What the test adds, gone whatever husk did (each step may find nothing).
remove_old_rules() {
    iptables -t nat -D POSTROUTING -s 10.88.0.0/16 ! -d 10.88.0.0/16 \
        -m comment --comment "husk network husk" -j MASQUERADE 2>/dev/null || true
    iptables -t nat -D POSTROUTING -s "10.231.${R:-0}.0/24" ! -d "10.231.${R:-0}.0/24" \
        -m comment --comment "husk network old-$SFX" -j MASQUERADE 2>/dev/null || true
    iptables -t nat -D POSTROUTING -s 10.232.0.0/24 -m comment --comment "not husk" \
        -j MASQUERADE 2>/dev/null || true
    iptables -D CNI-ADMIN -j HUSK-ISOLATION 2>/dev/null || true
    local c
    for c in HUSK-ISOLATION HUSK-ISOLATION-2; do
        iptables -F "$c" 2>/dev/null && iptables -X "$c" 2>/dev/null || true
    done
}

teardown() {
    remove_old_rules
    network_teardown
}

@test "the iptables rules of a husk of the CNI path are removed when husk makes its table" {
    R=$((RANDOM % 200 + 20))
    remove_old_rules
    # what the older husk left: the default network's and another network's outbound NAT,
    # and its isolation chains with CNI-ADMIN's jump
    nft delete table inet husk 2>/dev/null || true
    iptables -t nat -A POSTROUTING -s 10.88.0.0/16 ! -d 10.88.0.0/16 \
        -m comment --comment "husk network husk" -j MASQUERADE
    iptables -t nat -A POSTROUTING -s "10.231.$R.0/24" ! -d "10.231.$R.0/24" \
        -m comment --comment "husk network old-$SFX" -j MASQUERADE
    iptables -t nat -A POSTROUTING -s 10.232.0.0/24 -m comment --comment "not husk" -j MASQUERADE
    iptables -N HUSK-ISOLATION-2
    iptables -A HUSK-ISOLATION-2 -o husk+ -j DROP
    iptables -N HUSK-ISOLATION
    iptables -A HUSK-ISOLATION -i husk0 ! -o husk0 -j HUSK-ISOLATION-2
    iptables -N CNI-ADMIN 2>/dev/null || true
    iptables -I CNI-ADMIN 1 -j HUSK-ISOLATION

    run husk run --rm husk/busybox ip -4 addr show eth0
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *inet* ]]

    run iptables -t nat -S POSTROUTING
    echo "$output"
    [[ "$output" != *"husk network"* ]]
    [[ "$output" == *"not husk"* ]]  # not ours: kept
    run iptables -S HUSK-ISOLATION
    [ "$status" -ne 0 ]
    run iptables -S HUSK-ISOLATION-2
    [ "$status" -ne 0 ]
    run iptables -S CNI-ADMIN
    echo "$output"
    [[ "$output" != *HUSK-ISOLATION* ]]
    # the table is husk's again and a second run finds nothing to do
    nft list table inet husk >/dev/null
    run husk run --rm husk/busybox true
    [ "$status" -eq 0 ]
}
