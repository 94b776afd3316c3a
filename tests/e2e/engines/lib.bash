# Shared by the engine suites (podman.sh, containerd.sh): images from the project's own
# fixtures and the one-line-per-check report.
#
# Each check runs first with the reference runtimes (crun, runc: what works on this
# machine at all), then with husk-runtime. It prints one line per runtime:
#   ok   NAME [runtime]
#   FAIL NAME [runtime]: why
# A husk-runtime failure counts (exit status 1) when a reference runtime passed the same
# check, or when no reference was run (ENGINES_REFS=""); where every reference fails too,
# the line says so.

ENGINES_SRC=${HUSK_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
declare -A engines_broken=()  # runtime -> why it cannot run a container here at all
declare -A engines_last=()    # runtime -> why the last check failed ("" when it passed)
engines_regressions=0
engines_husk_fails=0

# busybox as an OCI archive (an OCI image layout in a tar), named husk/busybox:latest.
# With a second argument, a "pause" image: the same layer, command `sleep infinity`.
engines_make_images() {  # DIR
    local dir=$1
    python3 "$ENGINES_SRC/scripts/fixtures/mkimage.py" busybox "$dir/busybox-layout" \
        --tag husk/busybox:latest >/dev/null
    tar -C "$dir/busybox-layout" -cf "$dir/busybox.tar" .
    python3 "$ENGINES_SRC/tests/e2e/engines/pause_image.py" "$dir/busybox-layout" \
        "$dir/pause-layout" husk/pause:latest
    tar -C "$dir/pause-layout" -cf "$dir/pause.tar" .
}

# check NAME FUNCTION RUNTIMES... (the last runtime is husk-runtime; FUNCTION RUNTIME
# returns non-zero with its reason as the last line of its output).
check() {
    local name=$1 fn=$2
    shift 2
    local n=$# i=0 rt label out rc ref_ok=0 refs_failed=()
    for rt in "$@"; do
        i=$((i + 1))
        label=$(basename "$rt")
        if [ -n "${engines_broken[$rt]:-}" ]; then
            echo "FAIL $name [$label]: not tried: ${engines_broken[$rt]}"
            refs_failed+=("$label")
            continue
        fi
        out=$("$fn" "$rt" 2>&1)
        rc=$?
        engines_last[$rt]=""
        if [ $rc = 0 ]; then
            # A passing check may explain itself in a line "note: ...".
            local note
            note=$(printf '%s\n' "$out" | sed -n 's/^note: //p' | tail -1)
            echo "ok   $name [$label]${note:+ ($note)}"
            [ $i -lt $n ] && ref_ok=1
            continue
        fi
        local why
        why=$(printf '%s\n' "$out" | grep -v '^\s*$' | tail -1 | cut -c1-400)
        [ -n "$why" ] || why="exit status $rc"
        engines_last[$rt]=$why
        if [ $i -lt $n ]; then
            echo "FAIL $name [$label]: $why"
            refs_failed+=("$label")
        elif [ $ref_ok = 1 ]; then
            echo "FAIL $name [$label]: $why"
            engines_regressions=$((engines_regressions + 1))
            engines_husk_fails=$((engines_husk_fails + 1))
        elif [ $n = 1 ]; then
            echo "FAIL $name [$label]: $why"
            engines_regressions=$((engines_regressions + 1))
            engines_husk_fails=$((engines_husk_fails + 1))
        else
            echo "FAIL $name [$label]: $why (${refs_failed[*]} fail here too)"
            engines_husk_fails=$((engines_husk_fails + 1))
        fi
    done
}

# The first check decides whether a runtime can run containers here at all: one that
# fails it is not tried again (its later lines say why).
check_basic() {  # NAME FUNCTION RUNTIMES...
    local name=$1 fn=$2 rt
    shift 2
    check "$name" "$fn" "$@"
    for rt in "${@:1:$(($# - 1))}"; do
        [ -n "${engines_last[$rt]:-}" ] || continue
        engines_broken[$rt]="$(basename "$rt") cannot run a container on this machine: ${engines_last[$rt]}"
    done
}

engines_summary() {  # SUITE
    echo "$1: $engines_husk_fails husk-runtime check(s) failed," \
        "$engines_regressions of them where a reference runtime passes (or none was run)"
    [ "$engines_regressions" = 0 ]
}

# Poll until COMMAND succeeds (at most ~10 s).
wait_for() {
    local i
    for i in $(seq 50); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    "$@"
}

expect() {  # WHAT GOT WANTED: fails saying both when they differ
    [ "$2" = "$3" ] && return 0
    echo "$1: got \"$2\", want \"$3\""
    return 1
}

# podman on its own temporary storage and containers.conf under DIR (exported through
# CONTAINERS_CONF and CONTAINERS_STORAGE_CONF), its default network a bridge BRIDGE on SUBNET
# (x.y.z.0/24, gateway x.y.z.1). The caller removes the bridge and DIR.
podman_env() {  # DIR BRIDGE SUBNET
    local T=$1 bridge=$2 subnet=$3 gw=${3%.0/24}.1
    mkdir -p "$T/root" "$T/runroot" "$T/tmp" "$T/cni"
    cat >"$T/containers.conf" <<CONF
[containers]
# podman's default nofile/nproc (1048576, the host's) exceed what processes without
# CAP_SYS_RESOURCE may set here (hard nofile 20000): every runtime fails setrlimit.
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/events.log"
runtime_supports_json = ["crun", "runc", "husk-runtime"]
tmp_dir = "$T/tmp"
[network]
network_config_dir = "$T/cni"
default_network = "huskengines"
CONF
    cat >"$T/storage.conf" <<CONF
[storage]
driver = "overlay"
runroot = "$T/runroot"
graphroot = "$T/root"
CONF
    # The default network: a bridge of our own (podman's own default, cni-podman0, may be in
    # use by others on this machine), no masquerading so no iptables rules are left behind.
    cat >"$T/cni/huskengines.conflist" <<CONF
{"cniVersion": "0.4.0", "name": "huskengines", "plugins": [{
  "type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": false,
  "ipam": {"type": "host-local", "dataDir": "$T/ipam", "routes": [{"dst": "0.0.0.0/0"}],
           "ranges": [[{"subnet": "$subnet", "gateway": "$gw"}]]}}]}
CONF
    export CONTAINERS_CONF=$T/containers.conf CONTAINERS_STORAGE_CONF=$T/storage.conf
}

# Undo podman_env: remove its containers, wait for the `podman container cleanup` that conmon
# starts after a container exits (it would recreate DIR's storage and mounts), unmount, remove.
podman_env_cleanup() {  # DIR
    local T=$1 i
    podman rm -af -t 0 >/dev/null 2>&1
    for i in $(seq 50); do
        pgrep -f -- "$T/" >/dev/null || break
        sleep 0.2
    done
    findmnt -rn -o TARGET | grep "^$T" | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "$T"
}
