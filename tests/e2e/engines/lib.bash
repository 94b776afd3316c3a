# Shared by the engine suites (podman.sh, containerd.sh): images from the project's own
# fixtures and the one-line-per-check report.
#
# Each check runs first with the reference runtimes (crun, runc: what works on this
# machine at all), then with husk-runtime. It prints one line per runtime:
#   ok   NAME [runtime]
#   FAIL NAME [runtime]: why
# A husk-runtime failure counts (exit status 1) only when a reference runtime passed the
# same check; where every reference fails too, the line says so.

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
            echo "ok   $name [$label]"
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
        "$engines_regressions of them pass with a reference runtime"
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
