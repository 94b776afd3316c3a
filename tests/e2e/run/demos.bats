#!/usr/bin/env bats
# The classic "containers from scratch" demos, each done with `husk run`.

load helpers

setup_file() { run_setup; }
teardown_file() { run_teardown; }

@test "PID 1 and a hostname of its own; the host's hostname unchanged" {
    before=$(hostname)
    run husk run --rm husk/busybox sh -c 'echo pid $$; hostname'
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "pid 1" ]
    [[ "${lines[1]}" =~ ^[0-9a-f]{12}$ ]]
    [ "${lines[1]}" != "$before" ]
    [ "$(hostname)" = "$before" ]
    [ -z "$(leftovers)" ]
}

@test "/proc shows only the container's processes" {
    run husk run --rm husk/busybox sh -c 'sleep 30 & sleep 0.2; ps -o pid,args; kill %1'
    [ "$status" -eq 0 ]
    echo "$output"
    [ "${#lines[@]}" -eq 4 ]  # header, sh (1), sleep, ps
    [[ "${lines[1]}" =~ ^\ *1\ sh\ -c ]]
    [[ "${lines[2]}" == *"sleep 30"* ]]
    [[ "$output" != *husk* ]]
}

@test "a private mount made inside is invisible to the host" {
    tag=husk-private-$$-$RANDOM
    run husk run --rm --cap-add SYS_ADMIN husk/busybox sh -c \
        "mkdir -p /mnt/$tag && mount -t tmpfs tmpfs /mnt/$tag && echo hi >/mnt/$tag/f && grep -c $tag /proc/self/mountinfo"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = 1 ]
    ! grep -q "$tag" /proc/self/mountinfo || false
    ! grep -q "$tag" /proc/1/mountinfo || false
}

@test "--rootfs DIR runs a plain busybox tree, no image" {
    busybox_tree "$WORK/tree"
    run husk run --rm --rootfs "$WORK/tree" /bin/sh -c 'echo hello from pid $$; cat /etc/hostname'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "hello from pid 1" ]
    [[ "${lines[1]}" =~ ^[0-9a-f]{12}$ ]]
    [ -z "$(leftovers)" ]
}

@test "-v DIR:/data:ro is visible and read-only inside" {
    mkdir -p "$WORK/vol"
    echo from-the-host >"$WORK/vol/file"
    run husk run --rm -v "$WORK/vol:/data:ro" husk/busybox sh -c \
        'cat /data/file; touch /data/new 2>&1; echo status $?'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = from-the-host ]
    [[ "${lines[1]}" == *"Read-only file system"* ]]
    [ "${lines[2]}" = "status 1" ]
    [ ! -e "$WORK/vol/new" ]
    # and read-write without :ro
    run husk run --rm -v "$WORK/vol:/data" husk/busybox sh -c 'echo written >/data/new'
    [ "$status" -eq 0 ]
    [ "$(cat "$WORK/vol/new")" = written ]
}

@test "the command's exit code is husk's" {
    run husk run --rm husk/busybox sh -c 'exit 3'
    [ "$status" -eq 3 ]
    # PID 1 ignores signals it has no handler for: with --init the shell is not PID 1
    run husk run --rm --init husk/busybox sh -c 'kill -TERM $$'
    [ "$status" -eq 143 ]
}

@test "network none: a namespace with only loopback, and it is up" {
    run husk run --rm --network none husk/busybox sh -c 'ls /sys/class/net; ip -o link show lo'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = lo ]
    [[ "${lines[1]}" == *"<LOOPBACK,UP,LOWER_UP>"* ]]
    run husk run --rm --network none husk/busybox ping -c 1 -W 2 127.0.0.1
    [ "$status" -eq 0 ]
}

@test "/etc/hostname, /etc/hosts and /etc/resolv.conf are the container's own" {
    run husk run --rm --hostname web husk/busybox sh -c \
        'cat /etc/hostname; grep -c localhost /etc/hosts; grep -c " /etc/resolv.conf " /proc/self/mountinfo'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = web ]
    [ "${lines[1]}" -ge 1 ]
    [ "${lines[2]}" = 1 ]
}

@test "--init: husk-init is PID 1 and reaps orphans" {
    run husk run --rm --init husk/busybox sh -c '(sleep 0.1 &) ; sleep 0.5; ps -o pid,stat,comm'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "${lines[1]}" =~ ^\ *1\ .*husk-init$ ]]
    [[ "$output" != *" Z "* ]]
}

@test "docker's defaults: capabilities, seccomp, masked paths, env" {
    run husk run --rm husk/busybox sh -c \
        'grep -E "^(CapEff|Seccomp|NoNewPrivs):" /proc/self/status; cat /proc/kcore | wc -c; echo $HOME $HOSTNAME; echo x >/proc/sys/kernel/hostname 2>/dev/null || echo ro'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "CapEff:"*"00000000a80425fb" ]]
    [[ "$output" == *"NoNewPrivs:"*"0"* ]]
    [[ "$output" == *"Seccomp:"*"2"* ]]
    [[ "$output" == *$'\n0\n'* ]]
    [[ "$output" == *"/root "* ]]
    [ "${lines[-1]}" = ro ]
}

@test "--privileged: the host's device nodes are in /dev; without it they are not" {
    host=$(find /dev -maxdepth 1 \( -type c -o -type b \) ! -name console ! -name ptmx -printf '%f\n' | sort)
    [ -n "$host" ]
    run husk run --rm --privileged husk/busybox sh -c 'cd /dev && for f in *; do [ -c "$f" ] || [ -b "$f" ] && echo "$f"; done'
    echo "$output"
    [ "$status" -eq 0 ]
    missing=$(comm -23 <(echo "$host") <(echo "$output" | sort))
    echo "missing: $missing"
    [ -z "$missing" ]
    run husk run --rm husk/busybox ls /dev
    [[ "$output" != *kmsg* ]]
    [ -z "$(leftovers)" ]
}
