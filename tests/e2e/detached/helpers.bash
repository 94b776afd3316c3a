# Shared by the detached-container e2e tests: a private data root (and so a private
# runtime root, <data root>/run) under /tmp/detached-e2e-*, holding husk/busybox.
# detached_teardown removes every container (processes, monitors, mounts, cgroups).

: "${HUSK:?HUSK must name the husk binary}"
: "${HUSK_SRC:?HUSK_SRC must name the source tree}"

load ../eventually

detached_setup() {
    [ "$(id -u)" = 0 ] || skip "detached containers need root"
    [ -x /bin/busybox ] || skip "busybox-static is not installed (scripts/deps.sh installs it)"
    WORK=$(mktemp -d /tmp/detached-e2e-XXXXXX)
    chmod 755 "$WORK"
    export WORK
    export ROOT=$WORK/root
    bash "$HUSK_SRC/scripts/make-busybox-image.sh" --root "$ROOT" --husk "$HUSK" >/dev/null
}

# Processes whose command line names our data root: monitors and their cleanups.
our_processes() {
    local p
    for p in /proc/[0-9]*; do
        tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q -- "$ROOT" && basename "$p"
    done
    return 0
}

detached_teardown() {
    [ -n "${WORK:-}" ] || return 0
    remove_all_containers
    for p in $(our_processes); do kill -9 "$p" 2>/dev/null || true; done
    findmnt -rn -o TARGET | grep "^$WORK/" | sort -r | while read -r m; do umount -l "$m"; done
    rm -rf "$WORK"
}

husk() { "$HUSK" --root "$ROOT" "$@"; }

# Between tests: none of the previous test's containers (even when it failed midway).
remove_all_containers() {
    local ids
    ids=$(husk ps -aq --no-trunc 2>/dev/null || true)
    [ -z "$ids" ] || husk rm -f $ids >/dev/null 2>&1 || true
}

# What a removed container must not leave: records, roots, runtime state, cgroups, mounts.
leftovers_of() {
    local id=$1
    ls -d "$ROOT/containers/$id" "$ROOT/containers/.gone-$id" "$ROOT/rootfs/$id" "$ROOT/run/$id" 2>/dev/null || true
    cgroups_of "$id"
    findmnt -rn -o TARGET | grep "$id" || true
}


# True when `husk ARGS...` fails (for `eventually husk_fails inspect ID`).
husk_fails() {
    ! husk "$@"
}

# Waits (bounded) until `husk inspect -f FORMAT ID` prints VALUE.
wait_for() {  # ID FORMAT VALUE
    eventually inspect_is "$@"
}
inspect_is() {
    local now
    now=$(husk inspect -f "$2" "$1" 2>&1)
    [ "$now" = "$3" ] || { echo "$2 is $now"; return 1; }
}

# Waits (bounded) until file PATH exists in running container ID: what a container's
# command touches once it is ready (its signal handlers set, say).
wait_ready() {  # ID PATH
    eventually husk exec "$1" test -e "$2"
}

# The pid of the process of container ID whose command line is exactly CMDLINE, if any:
# prints it and succeeds, or fails.
container_process() {  # ID CMDLINE
    local p
    for p in $(pgrep -f "^$2\$"); do
        grep -q "$1" "/proc/$p/cgroup" 2>/dev/null && { echo "$p"; return 0; }
    done
    return 1
}

# Succeeds when `husk CMD...` prints EXPECTED (the output is shown otherwise).
husk_prints() {  # EXPECTED CMD...
    local want=$1 got
    shift
    got=$(husk "$@" 2>&1)
    [ "$got" = "$want" ] || { echo "husk $* printed: $got"; return 1; }
}

# The monitor of a running container: the parent of its init.
monitor_pid() {
    local pid
    pid=$(husk inspect -f '{{.State.Pid}}' "$1")
    awk '{print $4}' "/proc/$pid/stat"
}

# Where the host mounts the cgroup v1 hierarchy holding controller $1 (nothing on a pure
# cgroup2 host), and cgroup2, as its mount table says (the layout runtime/cgroup reads).
cgroup_v1_mount() { findmnt -rn -t cgroup -O "$1" -o TARGET | head -n1; }
cgroup_v2_mount() { findmnt -rn -t cgroup2 -o TARGET | head -n1; }

# The container's cgroup directories in every cgroup hierarchy the host mounts (v1
# controllers on hybrid hosts, cgroup2 wherever it is: pure v2 hosts have no
# /sys/fs/cgroup/<controller>/).
cgroups_of() {
    local m
    for m in $(findmnt -rn -t cgroup,cgroup2 -o TARGET); do
        ls -d "$m/husk/$1" 2>/dev/null || true
    done
}
