#!/usr/bin/env bats
# Limits: a fork bomb under --pids-limit, an allocation over -m.

load helpers

setup_file() { run_setup; }
teardown_file() { run_teardown; }

@test "fork bomb with --pids-limit 20: contained, host fine, container removed" {
    run timeout 120 "$HUSK" --root "$ROOT" run --rm --pids-limit 20 husk/busybox sh -c \
        'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; b() { b | b & }; b; sleep 3; echo after'
    echo "$output" | head -5
    [ "$status" -ne 124 ]  # the bomb did not outlive its container
    [ "${lines[0]}" = 20 ]
    [[ "$output" == *"can't fork"* || "$output" == *"Resource temporarily unavailable"* ]]
    /bin/true  # the host still forks
    [ -z "$(leftovers)" ]
}

@test "-m 32m and a 100 MB allocation: exit 137 and an OOM message" {
    run husk run --rm -m 32m husk/busybox awk 'BEGIN { s = sprintf("%104857600s", ""); print length(s) }'
    echo "$output"
    [ "$status" -eq 137 ]
    [[ "$output" == *"OOM"* ]]
    [ -z "$(leftovers)" ]
}

@test "the limits are in the container's cgroup" {
    # v1 files where the host has those hierarchies, cgroup2's otherwise (pure v2 hosts)
    run husk run --rm -m 64m --cpus 0.5 --pids-limit 50 husk/busybox sh -c '
        cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max
        cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max
        cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 67108864 ]
    [ "${lines[1]}" = 50000 ] || [ "${lines[1]}" = "50000 100000" ]
    [ "${lines[2]}" = 50 ]
}

@test "-m without --memory-swap: swap limit twice the memory, as docker" {
    memory=$(cgroup_v1_mount memory)
    [ -z "$memory" ] || [ -e "$memory/memory.memsw.limit_in_bytes" ] ||
        skip "cgroup v1 memory controller without swap accounting: docker sets no swap limit either"
    run husk run --rm -m 32m husk/busybox sh -c \
        'cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.swap.max'
    echo "$output"
    [ "$status" -eq 0 ]
    # v1: memory+swap = 64 MiB; v2: swap alone = 32 MiB
    [ "$output" = 67108864 ] || [ "$output" = 33554432 ]
    run husk run --rm -m 32m --memory-swap -1 husk/busybox sh -c \
        'cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.swap.max'
    echo "$output"
    [ "$output" = 9223372036854771712 ] || [ "$output" = max ]
}
