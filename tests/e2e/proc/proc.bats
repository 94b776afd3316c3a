#!/usr/bin/env bats
# --proc-virtualize: a container with -m and --cpus reads its own limits in /proc/meminfo,
# /proc/cpuinfo, /sys/devices/system/cpu/online, sysinfo(2) (busybox free), /proc/uptime;
# without limits it reads the host's; killing its server never fails a read.

load ../run/helpers

setup_file() { run_setup; }
teardown_file() {
    for c in pv-kill-a pv-kill-b pv-exec pv-hand; do "$HUSK" --root "$ROOT" rm -f "$c" >/dev/null 2>&1 || true; done
    run_teardown
}

# The value (kB) of KEY in a meminfo text on stdin.
kb() { awk -v k="$1:" '$1 == k { print $2 }'; }

host_online() { cat /sys/devices/system/cpu/online; }

# The host's /usr and /lib read-only, and /lib64 where the host has one (aarch64 Debian
# has none): what a host program needs to run in the container.
host_libs() {
    HOST_LIBS=(-v /usr:/usr:ro -v /lib:/lib:ro)
    [ -e /lib64 ] && HOST_LIBS+=(-v /lib64:/lib64:ro)
    return 0
}

@test "-m 256m --cpus 1: meminfo, cpuinfo, cpu/online, free (sysinfo) and uptime show the limits" {
    run husk run --rm -m 256m --cpus 1 husk/busybox sh -c '
        cat /proc/meminfo; echo ---
        grep -c ^processor /proc/cpuinfo
        cat /sys/devices/system/cpu/online /sys/devices/system/cpu/possible
        free -m | awk "/^Mem:/ { print \$2 }"
        cut -d. -f1 /proc/uptime'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | kb MemTotal)" = 262144 ]
    avail=$(echo "$output" | kb MemAvailable)
    [ "$avail" -le 262144 ]
    [ "$avail" -gt 0 ]
    tail=$(echo "$output" | sed -n '/^---$/,$p' | tail -n +2)
    [ "$(echo "$tail" | sed -n 1p)" = 1 ]   # processors
    [ "$(echo "$tail" | sed -n 2p)" = 0 ]   # online
    [ "$(echo "$tail" | sed -n 3p)" = 0 ]   # possible
    [ "$(echo "$tail" | sed -n 4p)" = 256 ] # free -m total, from sysinfo(2)
    [ "$(echo "$tail" | sed -n 5p)" -lt 60 ] # uptime counts from the container's start
}

@test "--cpuset-cpus 0: nproc, cpuinfo and cpu/online show one CPU" {
    run husk run --rm -m 256m --cpuset-cpus 0 husk/busybox sh -c \
        'nproc; grep -c ^processor /proc/cpuinfo; cat /sys/devices/system/cpu/online'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf '1\n1\n0')" ]
}

# tests/e2e/proc/affinity.c, static (it runs in the busybox image): sched_getaffinity(2)'s
# sizes, CPUs and errors, one line per case.
affinity_prog() {
    [ -x "$WORK/affinity" ] && return
    command -v gcc >/dev/null || skip "gcc is not installed (it builds tests/e2e/proc/affinity.c)"
    gcc -static -O2 -o "$WORK/affinity" "$HUSK_SRC/tests/e2e/proc/affinity.c" ||
        skip "no static glibc to build tests/e2e/proc/affinity.c with"
}
# What affinity.c prints in a container narrowed to one CPU: the host's sizes and errors.
one_cpu() { sed -E 's/cpus [0-9]+$/cpus 1/'; }
# --cpus 1 narrows the CPU mask the container is told only where there is more than one.
more_than_one_cpu() {
    [ "$(nproc)" -gt 1 ] || skip "this machine runs us on 1 CPU: --cpus 1 has nothing to narrow"
}

@test "--cpus 1: nproc, cpuinfo and sched_getaffinity count one CPU, with the kernel's sizes and errors" {
    more_than_one_cpu
    affinity_prog
    host=$("$WORK/affinity")
    run husk run --rm -m 256m --cpus 1 -v "$WORK/affinity:/affinity:ro" husk/busybox sh -c \
        'nproc; grep -c ^processor /proc/cpuinfo; /affinity'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 1 ]
    [ "${lines[1]}" = 1 ]
    [ "$(printf '%s\n' "${lines[@]:2}")" = "$(echo "$host" | one_cpu)" ]
    [[ "$host" == *'len 4: EINVAL'* ]]
    [[ "$host" == *'bad address: EFAULT'* ]]
}

@test "--cpus 1: Python's os.sched_getaffinity (its own, by pid, another process's), os.cpu_count() and coreutils nproc say 1" {
    more_than_one_cpu
    [ -x /usr/bin/python3 ] || skip "/usr/bin/python3 is not installed"
    [ -x /usr/bin/nproc ] || skip "coreutils' nproc is not installed"
    host_libs
    run husk run --rm -m 256m --cpus 1 "${HOST_LIBS[@]}" \
        husk/busybox sh -c '/bin/sleep 100 & /usr/bin/python3 -c "
import os, sys
print(len(os.sched_getaffinity(0)), len(os.sched_getaffinity(os.getpid())),
      len(os.sched_getaffinity(int(sys.argv[1]))), os.cpu_count())" $!; /usr/bin/nproc; kill $!'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf '1 1 1 1\n1')" ]
}

@test "with a memory limit only, or none, sched_getaffinity and nproc are the host's" {
    affinity_prog
    host=$("$WORK/affinity")
    for limits in "-m 256m" ""; do
        # shellcheck disable=SC2086
        run husk run --rm $limits -v "$WORK/affinity:/affinity:ro" husk/busybox sh -c 'nproc; /affinity'
        echo "$output"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "$(nproc)" ]
        [ "$(printf '%s\n' "${lines[@]:1}")" = "$host" ]
    done
}

# The number of fds the process PID has open.
fd_count() { ls "/proc/$1/fd" | wc -l; }

@test "husk exec'd processes: free (sysinfo), nproc and sched_getaffinity show the container's limits" {
    affinity_prog
    husk run -d --name pv-exec -m 256m --cpus 1 -v "$WORK/affinity:/affinity:ro" husk/busybox sleep 300 >/dev/null
    server=$(cat "$(pv_dir pv-exec)/server.pid")
    fds=$(fd_count "$server")
    run husk exec pv-exec sh -c 'free -m | awk "/^Mem:/ { print \$2 }"'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = 256 ]
    if [ "$(nproc)" -gt 1 ]; then
        run husk exec pv-exec nproc
        [ "$status" -eq 0 ]
        [ "$output" = 1 ]
        run husk exec pv-exec /affinity
        echo "$output"
        [ "$status" -eq 0 ]
        [ "$output" = "$("$WORK/affinity" | one_cpu)" ]
    fi
    # the server lets go of each exec'd process's listener once it has exited
    for i in 1 2 3 4 5; do husk exec pv-exec free >/dev/null; done
    for i in $(seq 1 100); do
        [ "$(fd_count "$server")" = "$fds" ] && break
        sleep 0.05
    done
    [ "$(fd_count "$server")" = "$fds" ]
    husk rm -f pv-exec >/dev/null
}

@test "a 100 MiB allocation in the container moves MemAvailable by about that much" {
    run husk run --rm -m 256m husk/busybox sh -c '
        grep ^MemAvailable: /proc/meminfo
        awk "BEGIN { s = sprintf(\"%104857600s\", \"\"); while ((getline l < \"/proc/meminfo\") > 0) if (l ~ /^MemAvailable:/) print l }"'
    echo "$output"
    [ "$status" -eq 0 ]
    before=$(echo "${lines[0]}" | awk '{ print $2 }')
    after=$(echo "${lines[1]}" | awk '{ print $2 }')
    moved=$(( (before - after) / 1024 ))
    echo "moved by $moved MiB"
    [ "$moved" -ge 90 ]
    [ "$moved" -le 130 ]
}

@test "a reader polling /proc/meminfo without a pause sees an allocation made meanwhile" {
    # each render opens a short window in which opens read the file as it is: a reader that
    # never stops must still get new numbers (the server marks the file again)
    run husk run --rm -m 256m husk/busybox sh -c '
        before=$(awk "/^MemAvailable:/ { print \$2 }" /proc/meminfo)
        awk "BEGIN { s = sprintf(\"%104857600s\", \"\"); system(\"touch /tmp/held; sleep 60\") }" &
        while [ ! -e /tmp/held ]; do cat /proc/meminfo >/dev/null; done
        i=0
        while [ $i -lt 5000 ]; do
            now=$(awk "/^MemAvailable:/ { print \$2 }" /proc/meminfo)
            [ $(( (before - now) / 1024 )) -ge 90 ] && { echo "moved after $i reads"; exit 0; }
            i=$((i + 1))
        done
        echo "MemAvailable still $now kB (before: $before kB) after $i reads"
        exit 1'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == "moved after "*" reads" ]]
}

# The host's Python, read-only with its libraries (merged /usr: /lib and /lib64 lead there).
@test "host python3 in the container: os.cpu_count() is 1 with --cpus 1" {
    [ -x /usr/bin/python3 ] || skip "/usr/bin/python3 is not installed"
    host_libs
    run husk run --rm -m 256m --cpus 1 "${HOST_LIBS[@]}" \
        husk/busybox /usr/bin/python3 -c 'import os; print(os.cpu_count())'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = 1 ]
}

@test "host JDK in the container: heap sized from the limit, availableProcessors() = 1" {
    java=$(readlink -f /usr/bin/java 2>/dev/null || true)
    [ -x "$java" ] || skip "no JDK: Debian's openjdk is not installed (not needed otherwise)"
    etc=$(ls -d /etc/java-*-openjdk 2>/dev/null | head -1)
    mkdir -p "$WORK/java"
    echo 'class Cpus { public static void main(String[] a) { System.out.println("cpus=" + Runtime.getRuntime().availableProcessors()); } }' >"$WORK/java/Cpus.java"
    host_libs
    run husk run --rm -m 256m --cpus 1 "${HOST_LIBS[@]}" \
        ${etc:+-v $etc:$etc:ro} -v "$WORK/java:/java:ro" husk/busybox sh -c "
        $java -XshowSettings:vm -version 2>&1 | grep 'Max. Heap Size'
        $java -Xshare:off /java/Cpus.java"
    echo "$output"
    [ "$status" -eq 0 ]
    # the default heap is a share of the memory the JVM sees: MiB, not the host's GiB
    [[ "${lines[0]}" =~ Max\.\ Heap\ Size\ \(Estimated\):\ ([0-9.]+)M$ ]]
    [ "${BASH_REMATCH[1]%.*}" -lt 256 ]
    [ "${lines[1]}" = cpus=1 ]
}

@test "without limits everything shows the host" {
    run husk run --rm husk/busybox sh -c \
        'grep ^MemTotal: /proc/meminfo; cat /sys/devices/system/cpu/online; free | awk "/^Mem:/ { print \$2 }"; grep -c ^processor /proc/cpuinfo'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "$(grep ^MemTotal: /proc/meminfo)" ]
    [ "${lines[1]}" = "$(host_online)" ]
    [ "${lines[2]}" = "$(free | awk '/^Mem:/ { print $2 }')" ]
    [ "${lines[3]}" = "$(grep -c ^processor /proc/cpuinfo)" ]
}

@test "--proc-virtualize=false with limits shows the host; a bad value is one clear error" {
    run husk run --rm -m 256m --proc-virtualize=false husk/busybox grep ^MemTotal: /proc/meminfo
    [ "$status" -eq 0 ]
    [ "$output" = "$(grep ^MemTotal: /proc/meminfo)" ]
    run husk run --rm -m 256m --proc-virtualize=maybe husk/busybox true
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *'--proc-virtualize'*'expected true or false'* ]]
}

# Waits (bounded) until no process matches `pgrep -f PATTERN`: processes exit on their own
# after a kill (a server when its container's init is gone), not at once.
gone_matching() {
    local i
    for i in $(seq 1 200); do
        pgrep -f -- "$1" >/dev/null || return 0
        sleep 0.05
    done
    echo "still running after 10 s:"
    pgrep -af -- "$1"
    return 1
}
# Waits (bounded) until process PID is gone (reaped).
gone() {
    local i
    for i in $(seq 1 200); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.05
    done
    echo "process $1 still there after 10 s"
    return 1
}

# The state directory of a detached container's runtime (its procvirt/ files).
pv_dir() { echo "$ROOT/run/$(container_id "$1")/procvirt"; }

# Waits (bounded) until DIR's server.pid names PID (the standby that took over serves).
serves() {  # DIR PID
    local i
    for i in $(seq 1 100); do
        [ "$(cat "$1/server.pid")" = "$2" ] && return 0
        sleep 0.05
    done
    echo "server.pid says $(cat "$1/server.pid"), not $2, after 5 s"
    return 1
}
# Prints the pid of DIR's standby once standby.pid names a live process other than OLD
# (bounded; fails naming what it saw).
next_standby() {  # DIR OLD
    local i pid
    for i in $(seq 1 100); do
        pid=$(cat "$1/standby.pid")
        [ "$pid" != "$2" ] && kill -0 "$pid" 2>/dev/null && { echo "$pid"; return 0; }
        sleep 0.05
    done
    echo "no new standby after 5 s (standby.pid: $pid, old: $2)" >&2
    return 1
}

@test "killing a container's server never fails a read, in that container or another" {
    husk run -d --name pv-kill-a -m 256m husk/busybox sleep 300 >/dev/null
    husk run -d --name pv-kill-b -m 128m husk/busybox sleep 300 >/dev/null
    a=$(pv_dir pv-kill-a)
    server=$(cat "$a/server.pid") standby=$(cat "$a/standby.pid")
    kill -0 "$server"
    kill -0 "$standby"
    # an exec'd process from before the kill: its sysinfo listener goes to the standby too
    # (one fd more there once it has it)
    fds=$(fd_count "$standby")
    husk exec -d pv-kill-a sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done
        free -m | awk "/^Mem:/ { print \$2 }" >/tmp/free.tmp && mv /tmp/free.tmp /tmp/free'
    for i in $(seq 1 100); do
        [ "$(fd_count "$standby")" -gt "$fds" ] && break
        sleep 0.05
    done
    [ "$(fd_count "$standby")" -gt "$fds" ]
    read_all='cat /proc/meminfo /proc/cpuinfo /proc/stat /proc/loadavg /proc/diskstats /proc/swaps /sys/devices/system/cpu/online >/dev/null && grep ^MemTotal: /proc/meminfo'

    # the server killed: its standby takes over (it names itself in server.pid once it
    # serves), values stay fresh
    kill -9 "$server"
    run husk exec pv-kill-a sh -c "$read_all"
    [ "$status" -eq 0 ]
    [ "$output" = "MemTotal:         262144 kB" ]
    serves "$a" "$standby"
    husk exec pv-kill-a touch /tmp/go
    for i in $(seq 1 200); do
        husk exec pv-kill-a test -e /tmp/free && break
        sleep 0.05
    done
    run husk exec pv-kill-a cat /tmp/free
    [ "$status" -eq 0 ]
    [ "$output" = 256 ]
    # and a process exec'd now hands its listener to the standby that took over
    run husk exec pv-kill-a sh -c 'free -m | awk "/^Mem:/ { print \$2 }"'
    [ "$status" -eq 0 ]
    [ "$output" = 256 ]
    run husk exec pv-kill-a sh -c 'head -c 50m /dev/zero > /dev/shm/x; grep ^Shmem: /proc/meminfo'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | awk '{ print $2 }')" -ge 51200 ]

    # the standby that took over started one of its own: killed in turn, that one serves
    second=$standby
    standby=$(next_standby "$a" "$second")
    kill -9 "$second"
    gone "$second"
    serves "$a" "$standby"
    run husk exec pv-kill-a sh -c 'free -m | awk "/^Mem:/ { print \$2 }"'
    [ "$status" -eq 0 ]
    [ "$output" = 256 ]

    # its standby killed: it starts another
    server=$standby
    standby=$(next_standby "$a" "$server")
    kill -9 "$standby"
    gone "$standby"
    standby=$(next_standby "$a" "$standby")

    # both at once (stopped first, so neither sees the other go): nobody serves the
    # container; reads still work (stale values)
    kill -STOP "$server" "$standby"
    kill -9 "$server" "$standby"
    gone "$standby"
    gone "$server"
    for i in 1 2 3; do
        run husk exec pv-kill-a sh -c "$read_all"
        [ "$status" -eq 0 ]
        [ "$output" = "MemTotal:         262144 kB" ]
    done
    # nobody to take an exec'd process's listener: it goes without the filter (the host's
    # sysinfo, no ENOSYS)
    run husk exec pv-kill-a free -m
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | awk '/^Mem:/ { print $2 }')" = "$(free -m | awk '/^Mem:/ { print $2 }')" ]
    # the other container has its own server, untouched
    run husk exec pv-kill-b sh -c "$read_all"
    [ "$status" -eq 0 ]
    [ "$output" = "MemTotal:         131072 kB" ]
    kill -0 "$(cat "$(pv_dir pv-kill-b)/server.pid")"
    husk rm -f pv-kill-a pv-kill-b >/dev/null
}

# FILE of container C once it is not empty (waits up to 10 s).
cat_when_written() {  # C FILE
    local i
    for i in $(seq 1 200); do
        husk exec "$1" test -s "$2" && break
        sleep 0.05
    done
    husk exec "$1" cat "$2"
}

# The seccomp listeners process PID holds (the init's, one per exec'd process alive).
notify_fds() { ls -l "/proc/$1/fd" 2>/dev/null | grep -c 'seccomp notify' || true; }

@test "a server killed while it hands an exec'd process's listener on: its standby serves that process, holding the listener once" {
    command -v strace >/dev/null || skip "no strace (apt-get install strace)"
    husk run -d --name pv-hand -m 256m husk/busybox sleep 300 >/dev/null
    a=$(pv_dir pv-hand)
    # the server is killed as it enters its Nth recvmsg (strace's fault injection): 1, as
    # it peeks at the inbox (nothing passed on yet); 2, as it takes the datagram off the
    # inbox (a copy passed to the standby already, the datagram still queued)
    for when in 1 2; do
        server=$(cat "$a/server.pid")
        standby=$(cat "$a/standby.pid")
        strace -qq -o /dev/null -p "$server" -e trace=recvmsg -e inject=recvmsg:signal=KILL:when=$when &
        tracer=$!
        for i in $(seq 1 100); do
            [ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$server/status")" != 0 ] && break
            sleep 0.05
        done
        husk exec -d pv-hand sh -c 'free -m | awk "/^Mem:/ { print \$2 }" >/tmp/free.$1
            while [ ! -e /tmp/go.$1 ]; do sleep 0.05; done
            free -m | awk "/^Mem:/ { print \$2 }" >/tmp/again.$1' sh "$when"
        gone "$server"
        wait "$tracer" || true
        serves "$a" "$standby"
        run cat_when_written pv-hand "/tmp/free.$when"
        [ "$status" -eq 0 ]
        [ "$output" = 256 ]
        # the init's listener and the exec'd process's, each once
        [ "$(notify_fds "$standby")" = 2 ]
        husk exec pv-hand touch "/tmp/go.$when"
        run cat_when_written pv-hand "/tmp/again.$when"
        [ "$status" -eq 0 ]
        [ "$output" = 256 ]
        # opens still answered: a listener held twice would leave the server waiting
        # for a call on it
        run timeout 10 "$HUSK" --root "$ROOT" exec pv-hand grep ^MemTotal: /proc/meminfo
        [ "$status" -eq 0 ]
        [ "$output" = "MemTotal:         262144 kB" ]
    done
    husk rm -f pv-hand >/dev/null
}

# An OCI bundle of the busybox tree running `sh -c SCRIPT` with the annotation and limits.
runtime_bundle() {
    local b=$WORK/bundle-$RANDOM
    mkdir -p "$b/rootfs" && busybox_tree "$b/rootfs"
    (cd "$b" && "$HUSK_RUNTIME" spec)
    jq --arg s "$1" '.process.terminal = false | .process.args = ["sh", "-c", $s] |
        .annotations["run.oci.husk.proc-virtualize"] = "true" |
        .linux.resources.memory = {"limit": 268435456} |
        .linux.resources.cpu = {"quota": 100000, "period": 100000}' \
        "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
    echo "$b"
}

@test "husk-runtime with the annotation: the same limits in /proc, /sys and sysinfo" {
    b=$(runtime_bundle 'grep ^MemTotal: /proc/meminfo; grep -c ^processor /proc/cpuinfo
        cat /sys/devices/system/cpu/online; free -m | awk "/^Mem:/ { print \$2 }"; cut -d. -f1 /proc/uptime')
    cd "$b"
    run "$HUSK_RUNTIME" --root "$WORK/rt" run "pv-rt-$RANDOM"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "MemTotal:         262144 kB" ]
    [ "${lines[1]}" = 1 ]
    [ "${lines[2]}" = 0 ]
    [ "${lines[3]}" = 256 ]
    [ "${lines[4]}" -lt 60 ]
}

@test "husk-runtime exec with the annotation: sysinfo and nproc show the limits" {
    b=$(runtime_bundle 'sleep 300')
    id=pv-rt-exec-$RANDOM
    "$HUSK_RUNTIME" --root "$WORK/rt" create --bundle "$b" "$id"
    "$HUSK_RUNTIME" --root "$WORK/rt" start "$id"
    run "$HUSK_RUNTIME" --root "$WORK/rt" exec "$id" sh -c 'free -m | awk "/^Mem:/ { print \$2 }"; nproc'
    "$HUSK_RUNTIME" --root "$WORK/rt" delete --force "$id"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 256 ]
    [ "${lines[1]}" = 1 ]
}

# husk-runtime's own forks (an init before its execve, the procvirt server and its standby)
# carry its command line, hence the state root: none may outlive what engines do to clean up.
@test "husk-runtime create killed or failing around its server, or deleted at once: nothing left" {
    rt=$WORK/rt-pv-kill
    b=$(runtime_bundle 'sleep 300')

    # killed after the files were written, before the server (a createRuntime hook kills it)
    cp "$b/config.json" "$b/plain.json"
    jq '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "kill -9 $PPID"]}]' \
        "$b/plain.json" >"$b/config.json"
    run "$HUSK_RUNTIME" --root "$rt" create --bundle "$b" pv-killed
    echo "$output"
    [ "$status" -eq 137 ]
    [ -f "$rt/pv-killed/procvirt/meminfo" ]
    run "$HUSK_RUNTIME" --root "$rt" delete --force pv-killed
    echo "$output"
    [ "$status" -eq 0 ]
    [ ! -e "$rt/pv-killed" ]
    gone_matching "$rt"
    cp "$b/plain.json" "$b/config.json"

    # failing after the server started (its pid file cannot be written): create undoes it all
    run "$HUSK_RUNTIME" --root "$rt" create --bundle "$b" --pid-file "$WORK/no-such-dir/pid" pv-failed
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *no-such-dir* ]]
    [ ! -e "$rt/pv-failed" ]
    gone_matching "$rt"

    # created (server and standby running), then deleted at once: they go with it
    for i in 1 2 3 4 5; do
        "$HUSK_RUNTIME" --root "$rt" create --bundle "$b" "pv-quick-$i"
        kill -0 "$(cat "$rt/pv-quick-$i/procvirt/server.pid")"
        kill -0 "$(cat "$rt/pv-quick-$i/procvirt/standby.pid")"
        "$HUSK_RUNTIME" --root "$rt" delete "pv-quick-$i"
        [ ! -e "$rt/pv-quick-$i" ]
    done
    gone_matching "$rt"
    [ -z "$(ls "$rt")" ]
}
