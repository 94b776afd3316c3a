#!/usr/bin/env bash
# containerd 1.6 drives husk-runtime through the io.containerd.runc.v2 shim. containerd is
# started here with its config, socket, state and root under a temporary directory (never
# the system service) and killed at the end.
#
# usage: containerd.sh ctr HUSK_RUNTIME
#          `ctr run --runc-binary RUNTIME`: run, exit codes, exec, tty, ps, pause/resume,
#          kill, kill --all, delete, cgroup limits; crun and runc first as references.
#        containerd.sh cri HUSK_RUNTIME CRI_CLIENT
#          containerd's CRI plugin with runtime handlers "crun", "runc" and "husk"
#          (config.toml runtimes with BinaryName), driven by our husk-cri-client, with a
#          Bidirectional volume (mount propagation both ways, as Kubernetes asks it).
# env:   ENGINES_REFS="crun runc"  reference runtimes run first (empty: husk-runtime only)
set -uo pipefail
. "$(dirname "$0")/lib.bash"

mode=${1:-ctr}
husk=$(realpath "${2:-$ENGINES_SRC/build/bin/husk-runtime}")
client=${3:-}
read -r -a refs <<<"${ENGINES_REFS-crun runc}"
for b in containerd ctr containerd-shim-runc-v2; do
    command -v $b >/dev/null || {
        echo "SKIP containerd: $b is not installed (scripts/deps.sh installs it)"
        exit 77
    }
done
if [ "$mode" = cri ] && [ ! -x "$client" ]; then
    echo "SKIP containerd CRI: husk-cri-client not built (needs libgrpc++-dev, protobuf-compiler)"
    exit 77
fi

T=$(mktemp -d /tmp/engines-containerd-XXXXXX)
ns=engines-$$
ctd_pid=""
cleanup() {
    if [ -n "$ctd_pid" ]; then
        local c
        for c in $(ctr_ task ls -q 2>/dev/null); do ctr_ task kill -s KILL "$c" 2>/dev/null; done
        sleep 0.5
        for c in $(ctr_ task ls -q 2>/dev/null); do ctr_ task delete -f "$c" >/dev/null 2>&1; done
        for c in $(ctr_ c ls -q 2>/dev/null); do ctr_ c rm "$c" >/dev/null 2>&1; done
        kill "$ctd_pid" 2>/dev/null
        wait "$ctd_pid" 2>/dev/null
    fi
    # Shims whose containerd is gone exit by themselves; any left are ours (by socket path).
    local p
    for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $T/containerd.sock"); do
        kill -9 "$p" 2>/dev/null
    done
    # The cgroups containerd made for our namespace (ctr) or pods (CRI), once empty, in
    # every hierarchy the host mounts (v1 controllers, cgroup2 wherever it is).
    local m
    for m in $(findmnt -rn -t cgroup,cgroup2 -o TARGET); do
        rmdir "$m/$ns" "$m/$ns-pods" 2>/dev/null
    done
    findmnt -rn -o TARGET | grep "^$T" | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

mkdir -p "$T/cni" "$T/pods"
runtime_entry() {  # NAME BINARY
    cat <<CONF
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1.options]
        BinaryName = "$2"
        Root = "$T/state-$1"
CONF
}
cat >"$T/config.toml" <<CONF
version = 2
root = "$T/root"
state = "$T/state"
[grpc]
  address = "$T/containerd.sock"
[ttrpc]
  address = "$T/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  # The pod sandbox image, built from our busybox fixture (pause_image.py).
  sandbox_image = "docker.io/husk/pause:latest"
  # Without CAP_SYS_RESOURCE nothing may lower its oom_score_adj (the sandbox asks -998).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$T/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
$(runtime_entry crun "$(command -v crun || echo crun)")
$(runtime_entry runc "$(command -v runc || echo runc)")
$(runtime_entry husk "$husk")
CONF
containerd --config "$T/config.toml" >"$T/containerd.log" 2>&1 &
ctd_pid=$!
# CRI works in containerd's namespace "k8s.io" (of our own containerd instance).
ctrns=$ns
[ "$mode" = cri ] && ctrns=k8s.io
ctr_() { timeout 60 ctr --address "$T/containerd.sock" -n "$ctrns" "$@"; }
if ! wait_for ctr_ version; then
    echo "FAIL containerd did not start: $(tail -3 "$T/containerd.log")"
    exit 1
fi

engines_make_images "$T"
for img in busybox pause; do
    ctr_ images import "$T/$img.tar" >/dev/null &&
        ctr_ images tag husk/$img:latest docker.io/husk/$img:latest >/dev/null ||
        { echo "FAIL ctr images import $img"; exit 1; }
done
IMG=docker.io/husk/busybox:latest

if [ "$mode" = cri ]; then
    c_cri() {
        local handler
        handler=$(basename "$1")
        [ "$handler" = husk-runtime ] && handler=husk
        mkdir -p "$T/pods/$handler"
        # A shared mount for the Bidirectional volume (containerd refuses one on a private
        # mount): the client checks propagation both ways through it.
        local shared="$T/shared-$handler"
        mkdir -p "$shared"
        mount --bind "$shared" "$shared" && mount --make-shared "$shared" ||
            { echo "cannot make $shared a shared mount"; return 1; }
        "$client" "$T/containerd.sock" "$handler" "$IMG" "$T/pods/$handler" "/$ns-pods" \
            "$shared" >"$T/cri-$handler.txt" 2>&1
        local rc=$?
        grep '^FAIL' "$T/cri-$handler.txt" | head -1 | sed 's/^FAIL //'
        return $rc
    }
    check "CRI pod sandbox + container, runtime handler" c_cri "${refs[@]}" "$husk"
    for f in "$T"/cri-*.txt; do
        [ -e "$f" ] && sed "s/^/    [$(basename "$f" .txt)] /" "$f"
    done
    engines_summary "containerd CRI"
    exit
fi

RT=""
# The shim's runc root under our temp dir, per runtime.
run_() { ctr_ run --runc-binary "$RT" --runc-root "$T/runc-$(basename "$RT")" "$@"; }
run_tty() {
    timeout 60 script -qec "ctr --address $T/containerd.sock -n $ns run --runc-binary $RT \
        --runc-root $T/runc-$(basename "$RT") $*" /dev/null
}
cname() { echo "engines-$1-$(basename "$RT" | tr -cd 'a-z')"; }
task_status() { ctr_ task ls | awk -v c="$1" '$1 == c {print $3}'; }

c_run_rm() {
    RT=$1
    local out
    out=$(run_ --rm "$IMG" "$(cname r)" echo hello) || return 1
    expect output "$out" hello
}
c_exit_code() {
    RT=$1
    run_ --rm "$IMG" "$(cname e)" sh -c 'exit 3'
    expect "exit status" $? 3
}
c_detached_exec() {
    RT=$1
    local c out
    c=$(cname d)
    run_ -d "$IMG" "$c" sleep 300 >/dev/null || return 1
    wait_for sh -c "ctr --address $T/containerd.sock -n $ns task ls | grep -q '^$c .*RUNNING'" ||
        { echo "task not RUNNING: $(task_status "$c")"; return 1; }
    out=$(ctr_ task exec --exec-id x1 "$c" sh -c 'echo in-exec; exit 5')
    expect "exec exit status" $? 5 || return 1
    expect "exec output" "$out" in-exec
}
# The tty checks keep the process a second after it prints: containerd 1.6 may close
# ctr's side of a terminal's output when the exit event comes before the shim copied the
# last bytes (the output of a process that prints and exits at once is sometimes lost,
# with any runtime; containerd issue 770, concourse 6775). What we check is the terminal.
c_exec_tty() {
    RT=$1
    local out
    out=$(timeout 60 script -qec "ctr --address $T/containerd.sock -n $ns task exec -t \
        --exec-id t1 $(cname d) sh -c 'tty; sleep 1'" /dev/null | tr -d '\r')
    grep -q '/dev/pts/[0-9]' <<<"$out" || { echo "tty in exec -t: $out"; return 1; }
}
c_ps() {
    RT=$1
    local out
    out=$(ctr_ task ps "$(cname d)") || return 1
    [ "$(tail -n +2 <<<"$out" | wc -l)" -ge 1 ] || { echo "task ps: $out"; return 1; }
}
c_pause_resume() {
    RT=$1
    local c
    c=$(cname d)
    ctr_ task pause "$c" || return 1
    expect "after pause" "$(task_status "$c")" PAUSED || return 1
    ctr_ task resume "$c" || return 1
    expect "after resume" "$(task_status "$c")" RUNNING
}
c_kill_all_delete() {
    RT=$1
    local c out
    c=$(cname d)
    ctr_ task exec -d --exec-id bg "$c" sleep 300 >/dev/null 2>&1 &
    sleep 1
    ctr_ task kill --all -s SIGKILL "$c" || return 1
    wait_for sh -c "ctr --address $T/containerd.sock -n $ns task ls | grep -q '^$c .*STOPPED'" ||
        { echo "not STOPPED after kill --all: $(task_status "$c")"; return 1; }
    out=$(ctr_ task delete "$c") || { echo "task delete: $out"; return 1; }
    ctr_ container rm "$c" || return 1
}
c_kill() {
    RT=$1
    local c bg rc
    c=$(cname k)
    run_ "$IMG" "$c" sleep 300 >/dev/null &
    bg=$!
    wait_for sh -c "ctr --address $T/containerd.sock -n $ns task ls | grep -q '^$c .*RUNNING'" ||
        { echo "task not RUNNING: $(task_status "$c")"; return 1; }
    ctr_ task kill -s SIGKILL "$c" || return 1
    wait $bg
    rc=$?
    ctr_ container rm "$c" >/dev/null
    expect "ctr run exit status" $rc 137
}
c_tty() {
    RT=$1
    local out
    out=$(run_tty --rm -t "$IMG" "$(cname t)" sh -c "'tty; sleep 1'" | tr -d '\r')
    grep -q '/dev/pts/0' <<<"$out" || { echo "run -t: $out"; return 1; }
}
# host_cgroup_file PID CONTROLLER V1FILE V2FILE: the file of PID's cgroup for that controller,
# on a v1 hierarchy (hybrid hosts) or on cgroup2 (wherever it is mounted).
host_cgroup_file() {
    local pid=$1 ctl=$2 v1=$3 v2=$4 rel mnt
    rel=$(awk -F: -v c="$ctl" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$pid/cgroup")
    mnt=$(findmnt -rn -t cgroup -o TARGET,OPTIONS | awk -v c="$ctl" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) { print $1; exit } }')
    if [ -n "$rel" ] && [ -n "$mnt" ] && [ -e "$mnt$rel/$v1" ]; then
        cat "$mnt$rel/$v1"
        return
    fi
    rel=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
    mnt=$(findmnt -rn -t cgroup2 -o TARGET | head -1)
    cat "$mnt$rel/$v2"
}
c_cgroup_limits() {
    RT=$1
    local c pid mem cpu
    c=$(cname l)
    run_ -d --memory-limit 33554432 --cpus 0.5 "$IMG" "$c" sleep 300 >/dev/null || return 1
    pid=$(ctr_ task ls | awk -v c="$c" '$1 == c {print $2}')
    # ctr mounts no /sys/fs/cgroup in the container: read the limits from the host, from
    # the v1 controller's hierarchy where there is one, else from cgroup2.
    mem=$(host_cgroup_file "$pid" memory memory.limit_in_bytes memory.max)
    cpu=$(host_cgroup_file "$pid" cpu cpu.cfs_quota_us cpu.max)
    cpu=${cpu%% *}  # v2's cpu.max is "quota period"
    ctr_ task kill -s SIGKILL "$c"
    wait_for sh -c "ctr --address $T/containerd.sock -n $ns task ls | grep -q '^$c .*STOPPED'"
    ctr_ task delete "$c" >/dev/null
    ctr_ container rm "$c" >/dev/null
    expect "memory.limit_in_bytes, cpu.cfs_quota_us" "$mem $cpu" "33554432 50000"
}
# --proc-virtualize through the bundle's annotation (husk-runtime only: the reference
# runtimes do not know it): the task and an exec'd process read the limits from
# sysinfo(2) (busybox free) and the CPU mask (nproc; 1 on a 1-CPU machine anyway).
c_proc_virtualize() {
    RT=$1
    local c out ex
    local limits=(--memory-limit 268435456 --cpus 1 --annotation run.oci.husk.proc-virtualize=true)
    local show='echo $(free -m | awk "/^Mem:/ { print \$2 }") $(nproc)'
    out=$(run_ --rm "${limits[@]}" "$IMG" "$(cname vr)" sh -c "$show") || return 1
    expect "run: free -m total, nproc" "$out" "256 1" || return 1
    c=$(cname v)
    run_ -d "${limits[@]}" "$IMG" "$c" sleep 300 >/dev/null || return 1
    wait_for sh -c "ctr --address $T/containerd.sock -n $ns task ls | grep -q '^$c .*RUNNING'" ||
        { echo "task not RUNNING: $(task_status "$c")"; return 1; }
    ex=$(ctr_ task exec --exec-id pv "$c" sh -c "$show")
    ctr_ task kill -s SIGKILL "$c"
    wait_for sh -c "ctr --address $T/containerd.sock -n $ns task ls | grep -q '^$c .*STOPPED'"
    ctr_ task delete "$c" >/dev/null
    ctr_ container rm "$c" >/dev/null
    expect "exec: free -m total, nproc" "$ex" "256 1"
}

all=("${refs[@]}" "$husk")
check_basic "ctr run --rm" c_run_rm "${all[@]}"
check "ctr run exit code" c_exit_code "${all[@]}"
check "ctr run -d + task exec" c_detached_exec "${all[@]}"
check "ctr task exec -t" c_exec_tty "${all[@]}"
check "ctr task ps" c_ps "${all[@]}"
check "ctr task pause/resume" c_pause_resume "${all[@]}"
check "ctr task kill --all + delete" c_kill_all_delete "${all[@]}"
check "ctr task kill (exit 137)" c_kill "${all[@]}"
check "ctr run -t" c_tty "${all[@]}"
check "ctr run --memory-limit --cpus (host cgroup files)" c_cgroup_limits "${all[@]}"
check "ctr run/task exec with run.oci.husk.proc-virtualize=true" c_proc_virtualize "$husk"
engines_summary containerd
