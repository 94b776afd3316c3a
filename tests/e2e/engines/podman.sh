#!/usr/bin/env bash
# podman 4.3 (with conmon) drives husk-runtime: each check runs with crun, runc, then
# husk-runtime, on podman's own temporary storage and containers.conf (cgroupfs manager,
# file events logger, ulimits this machine allows, husk-runtime in runtime_supports_json so
# podman passes --log-format json and parses our error lines).
#
# usage: podman.sh [HUSK_RUNTIME]   (default: build/bin/husk-runtime)
# env:   ENGINES_REFS="crun runc"  reference runtimes run first (empty: husk-runtime only)
set -uo pipefail
. "$(dirname "$0")/lib.bash"

husk=$(realpath "${1:-$ENGINES_SRC/build/bin/husk-runtime}")
read -r -a refs <<<"${ENGINES_REFS-crun runc}"
if ! command -v podman >/dev/null || ! command -v conmon >/dev/null; then
    echo "SKIP podman: podman or conmon is not installed (scripts/deps.sh installs them)"
    exit 77
fi

T=$(mktemp -d /tmp/engines-podman-XXXXXX)
bridge=hke$$
subnet=10.231.$((RANDOM % 250)).0/24
gw=${subnet%.0/24}.1
subid_line=""
cleanup() {
    podman_env_cleanup "$T"
    [ -n "$subid_line" ] && sed -i "\\|^$subid_line\$|d" /etc/subuid /etc/subgid
    ip link del "$bridge" 2>/dev/null
}
trap cleanup EXIT

mkdir -p "$T/vol"
podman_env "$T" "$bridge" "$subnet"
# --userns=auto takes its ranges from the "containers" entries of /etc/subuid and /etc/subgid.
if ! grep -q '^containers:' /etc/subuid || ! grep -q '^containers:' /etc/subgid; then
    subid_line="containers:3000000000:1000000"
    echo "$subid_line" >>/etc/subuid
    echo "$subid_line" >>/etc/subgid
fi

engines_make_images "$T"
podman load -q -i "$T/busybox.tar" >/dev/null || { echo "FAIL podman load of the busybox image"; exit 1; }
IMG=localhost/husk/busybox:latest

RT=""
pm() { timeout 60 podman --runtime "$RT" "$@"; }
# A terminal for podman itself (-it): script(1) gives it a pty. script reads a fifo that never
# ends (held open on fd 7), not /dev/null: at the end of its input script types a byte into
# podman's terminal, podman forwards it to conmon's attach socket, and when conmon exits with
# that byte unread the kernel reports ECONNRESET on podman's end before the container's output
# queued there, so podman prints nothing (runc 3%, husk-runtime 9% of runs: tty_loss.sh).
mkfifo "$T/tty-stdin"
exec 7<>"$T/tty-stdin"
pm_tty() { timeout 60 script -qec "podman --runtime $RT $*" /dev/null <"$T/tty-stdin"; }
cname() { echo "engines-$$-$1-$(basename "$RT" | tr -cd 'a-z')"; }

c_run_rm() {
    RT=$1
    local out
    out=$(pm run --rm "$IMG" echo hello) || return 1
    expect output "$out" hello
}
c_exit_code() {
    RT=$1
    pm run --rm "$IMG" sh -c 'exit 3'
    expect "exit status" $? 3
}
c_missing_command() {
    RT=$1
    local out rc
    out=$(pm run --rm "$IMG" /no/such 2>&1)
    rc=$?
    printf '%s\n' "$out"
    expect "exit status" $rc 127 || return 1
    grep -q '/no/such' <<<"$out" || { echo "the error does not name /no/such"; return 1; }
}
c_detached_logs() {
    RT=$1
    local c
    c=$(cname d)
    pm run -d --name "$c" --health-cmd 'test -d /proc' "$IMG" \
        sh -c 'echo logged; exec sleep 300' >/dev/null || return 1
    wait_for sh -c "podman logs $c | grep -q logged" || { echo "logs: no \"logged\""; return 1; }
}
c_exec() {
    RT=$1
    local c out
    c=$(cname d)
    out=$(pm exec "$c" sh -c 'echo in-$(hostname); exit 5')
    expect "exec exit status" $? 5 || return 1
    [ "${out#in-}" != "$out" ] || { echo "exec output: $out"; return 1; }
}
c_pid_container() {
    RT=$1
    local out
    out=$(pm run --rm --pid "container:$(cname d)" "$IMG" cat /proc/1/cmdline | tr '\0' ' ') ||
        return 1
    grep -q 'sleep 300' <<<"$out" || { echo "PID 1 is \"$out\", not the other container's sleep"; return 1; }
}
c_exec_tty() {
    RT=$1
    local out
    out=$(pm_tty exec -it "$(cname d)" tty | tr -d '\r\000')
    grep -q '/dev/pts/[0-9]' <<<"$out" || { echo "tty in exec -it: $out"; return 1; }
}
c_top() {
    RT=$1
    local out
    out=$(pm top "$(cname d)") || return 1
    grep -q 'sleep 300' <<<"$out" || { echo "top: $out"; return 1; }
}
c_stats() {
    RT=$1
    local out
    out=$(pm stats --no-stream --format '{{.PIDs}} {{.MemUsage}}' "$(cname d)") || return 1
    [[ "$out" =~ ^[1-9] ]] || { echo "stats: $out"; return 1; }
}
c_healthcheck() {
    RT=$1
    local out
    out=$(pm healthcheck run "$(cname d)") || { echo "healthcheck run: $out"; return 1; }
    expect health "$(pm inspect -f '{{.State.Health.Status}}' "$(cname d)")" healthy
}
c_pause_unpause() {
    RT=$1
    local c
    c=$(cname d)
    pm pause "$c" >/dev/null || return 1
    expect "state after pause" "$(pm inspect -f '{{.State.Status}}' "$c")" paused || return 1
    pm unpause "$c" >/dev/null || return 1
    expect "state after unpause" "$(pm inspect -f '{{.State.Status}}' "$c")" running
}
c_stop_rm() {
    RT=$1
    local c
    c=$(cname d)
    pm stop -t 1 "$c" >/dev/null || return 1
    # sleep as PID 1 ignores SIGTERM: podman kills it after the timeout.
    expect "exit code" "$(pm inspect -f '{{.State.ExitCode}}' "$c")" 137 || return 1
    pm rm "$c" >/dev/null || return 1
    ! pm container exists "$c" || { echo "still there after rm"; return 1; }
}
c_kill_wait() {
    RT=$1
    local c
    c=$(cname k)
    pm run -d --name "$c" "$IMG" sleep 300 >/dev/null || return 1
    pm kill "$c" >/dev/null || return 1
    expect "wait" "$(pm wait "$c")" 137 || return 1
    pm rm "$c" >/dev/null
}
c_rm_force_running() {
    RT=$1
    local c
    c=$(cname f)
    pm run -d --name "$c" "$IMG" sleep 300 >/dev/null || return 1
    pm rm -f -t 0 "$c" >/dev/null || return 1
    ! pm container exists "$c" || { echo "still there after rm -f"; return 1; }
}
c_init_rm() {
    RT=$1
    local c
    c=$(cname i)
    pm create --name "$c" "$IMG" true >/dev/null || return 1
    pm init "$c" >/dev/null || return 1
    expect "state after init" "$(pm inspect -f '{{.State.Status}}' "$c")" initialized || return 1
    pm rm "$c" >/dev/null || return 1
    ! pm container exists "$c" || { echo "still there after rm"; return 1; }
}
c_tty() {
    RT=$1
    local c out log
    c=$(cname t)
    out=$(pm_tty run -it --name "$c" "$IMG" sh -c "'tty'" | tr -d '\r\000')
    log=$(pm logs "$c" 2>&1 | tr -d '\r')
    pm rm -f "$c" >/dev/null 2>&1
    grep -q '/dev/pts/0' <<<"$out" || { echo "run -it: attach \"$out\", log \"$log\""; return 1; }
}
# The output of a container that exits at once reaches podman's terminal, every time (with
# script reading /dev/null podman/conmon lost ~1 run in 11 to 30, see pm_tty).
c_tty_output_repeated() {
    RT=$1
    local i out lost=0
    for i in $(seq 10); do
        out=$(pm_tty run -it --rm --network none "$IMG" echo "tty-out-$i")
        grep -q "tty-out-$i" <<<"$out" || lost=$((lost + 1))
    done
    expect "runs of 10 that printed nothing" "$lost" 0
}
c_memory() {
    RT=$1
    local out
    # v1 (hybrid hosts) or v2 (pure cgroup2 hosts): the same byte count
    out=$(pm run --rm -m 32m "$IMG" sh -c \
        'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max') || return 1
    expect "memory limit" "$out" 33554432
}
c_pids_limit() {
    RT=$1
    local out
    out=$(pm run --rm --pids-limit 20 "$IMG" sh -c \
        'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max') || return 1
    expect pids.max "$out" 20
}
c_cpus() {
    RT=$1
    local out
    # v1: cpu.cfs_quota_us "50000"; v2: cpu.max "50000 100000"
    out=$(pm run --rm --cpus 0.5 "$IMG" sh -c \
        'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max') || return 1
    expect "cpu quota" "${out%% *}" 50000
}
c_volume() {
    RT=$1
    local f
    f=$(basename "$RT")
    pm run --rm -v "$T/vol:/data" "$IMG" sh -c "echo written > /data/$f" || return 1
    expect "host file" "$(cat "$T/vol/$f")" written || return 1
    if pm run --rm -v "$T/vol:/data:ro" "$IMG" sh -c "echo again > /data/$f" 2>/dev/null; then
        echo "wrote through a :ro volume"
        return 1
    fi
}
# podman passes every host device with its st_mode as fileMode (020666...) and allows them
# all in the device cgroup: the host's /dev/kmsg is there and opens.
c_privileged() {
    RT=$1
    local out
    out=$(pm run --rm --privileged "$IMG" sh -c 'stat -c "%F %a" /dev/null; true </dev/kmsg && echo kmsg-opened') ||
        return 1
    expect output "$(echo $out)" "character special file 666 kmsg-opened"
}
c_network_none() {
    RT=$1
    local out
    out=$(pm run --rm --network none "$IMG" sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1') || return 1
    expect interfaces "$(echo $out)" lo
}
c_network_default() {
    RT=$1
    local out
    out=$(pm run --rm "$IMG" sh -c "ip -4 addr show eth0 | grep inet; ping -c1 -W2 $gw | grep received") || return 1
    grep -q "inet ${subnet%.0/24}\." <<<"$out" || { echo "eth0: $out"; return 1; }
    grep -q '1 packets received' <<<"$out" || { echo "ping gateway: $out"; return 1; }
}
c_userns_auto() {
    RT=$1
    local out
    out=$(pm run --rm --userns=auto "$IMG" sh -c 'cat /proc/self/uid_map; id -u') || return 1
    read -r inside outside _ uid <<<"$(echo $out)"
    [ "$inside" = 0 ] && [ "$outside" != 0 ] && [ "$uid" = 0 ] ||
        { echo "uid_map/id: $(echo $out)"; return 1; }
}
# --proc-virtualize through the bundle's annotation (husk-runtime only: the reference
# runtimes do not know it): the container's process and an exec'd one read the limits
# from sysinfo(2) (busybox free) and the CPU mask (nproc; 1 on a 1-CPU machine anyway).
c_proc_virtualize() {
    RT=$1
    local c out ex
    local limits=(-m 256m --cpus 1 --annotation run.oci.husk.proc-virtualize=true)
    local show='echo $(free -m | awk "/^Mem:/ { print \$2 }") $(nproc)'
    out=$(pm run --rm "${limits[@]}" "$IMG" sh -c "$show") || return 1
    expect "run: free -m total, nproc" "$out" "256 1" || return 1
    c=$(cname v)
    pm run -d --name "$c" "${limits[@]}" "$IMG" sleep 300 >/dev/null || return 1
    ex=$(pm exec "$c" sh -c "$show")
    pm rm -f -t 0 "$c" >/dev/null
    expect "exec: free -m total, nproc" "$ex" "256 1"
}

all=("${refs[@]}" "$husk")
check_basic "podman run --rm" c_run_rm "${all[@]}"
check "podman run exit code" c_exit_code "${all[@]}"
check "podman run missing command (exit 127, JSON error)" c_missing_command "${all[@]}"
check "podman run -d + logs" c_detached_logs "${all[@]}"
check "podman exec" c_exec "${all[@]}"
check "podman exec -it" c_exec_tty "${all[@]}"
check "podman run --pid container:X" c_pid_container "${all[@]}"
check "podman top" c_top "${all[@]}"
check "podman stats" c_stats "${all[@]}"
check "podman healthcheck run" c_healthcheck "${all[@]}"
check "podman pause/unpause" c_pause_unpause "${all[@]}"
check "podman stop + rm" c_stop_rm "${all[@]}"
check "podman kill + wait" c_kill_wait "${all[@]}"
check "podman rm -f (running)" c_rm_force_running "${all[@]}"
check "podman init + rm (created, never started)" c_init_rm "${all[@]}"
check "podman run -it" c_tty "${all[@]}"
check "podman run -it output, 10 times" c_tty_output_repeated "${all[@]}"
check "podman run -m" c_memory "${all[@]}"
check "podman run --pids-limit" c_pids_limit "${all[@]}"
check "podman run --cpus" c_cpus "${all[@]}"
check "podman run -v" c_volume "${all[@]}"
check "podman run --privileged" c_privileged "${all[@]}"
check "podman run --network none" c_network_none "${all[@]}"
check "podman run (default network)" c_network_default "${all[@]}"
check "podman run --userns=auto" c_userns_auto "${all[@]}"
check "podman run/exec with run.oci.husk.proc-virtualize=true" c_proc_virtualize "$husk"
engines_summary podman
