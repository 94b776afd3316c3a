#!/usr/bin/env bash
# How often does `podman run -it --rm IMAGE echo TEXT` (through conmon, podman on a pty of
# script(1)) print nothing? Runs N rounds, each runtime once per round (interleaved so load
# changes hit all alike), and counts the runs whose output lacks TEXT.
#
# usage: tty_loss.sh [-n N] [-k] [-s] RUNTIME...
#   -k: keep failing outputs in $KEEP_DIR
#   -s: script(1) reads a fifo that never ends (a silent terminal), not /dev/null
# env:  TTY_LOSS_BEFORE="sleep 0.2"  shell commands the container runs before the echo
# Exit status 1 when the last runtime (husk-runtime) lost any output.
#
# Why output is lost (podman 4.3.1, conmon 2.1.6; runc loses it too): at the end of /dev/null
# script(1) types one byte (a NUL) into podman's terminal; podman forwards it over conmon's
# attach socket (SOCK_SEQPACKET). When the container exits before conmon has read that byte,
# conmon closes the socket with it unread, so the kernel sets ECONNRESET on podman's end, and
# a recv there reports that error before the container's output still queued; podman takes
# ECONNRESET for the end of the stream and prints nothing. conmon had read the output from
# the pty and written it to the socket (and to its log). The runtime decides only how soon
# the container exits after `start`; with -s (no byte) no run loses anything.
#
# Measured here (2 cores, shared): with /dev/null, runc 1.1.5 lost 16 of 500 runs and
# husk-runtime 36 of 400; with -s, 0 of 200 each. husk-runtime's `start` returns sooner after
# releasing the container, so podman's byte lands more often just as conmon closes: a wrapper
# making that return 20 ms later lost 0 of 100. With `sleep 0.2` before the echo: 0 of 60.
set -uo pipefail
. "$(dirname "$0")/lib.bash"

n=100
keep=""
quiet_stdin=""
while [ $# -gt 0 ]; do
    case $1 in
        -n) n=$2; shift 2 ;;
        -k) keep=1; shift ;;
        -s) quiet_stdin=1; shift ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: $0 [-n N] [-k] [-s] RUNTIME..." >&2; exit 2; }
if ! command -v podman >/dev/null || ! command -v conmon >/dev/null; then
    echo "SKIP: podman or conmon is not installed (scripts/deps.sh installs them)"
    exit 77
fi
rts=()
for rt in "$@"; do rts+=("$(realpath "$rt")"); done

T=$(mktemp -d /tmp/tty-loss-XXXXXX)
trap 'podman_env_cleanup "$T"' EXIT
# --network none below: the bridge is never created.
podman_env "$T" "ttyl$$" "10.232.$((RANDOM % 250)).0/24"
engines_make_images "$T"
podman load -q -i "$T/busybox.tar" >/dev/null || { echo "podman load failed"; exit 1; }
IMG=localhost/husk/busybox:latest
KEEP_DIR=${KEEP_DIR:-$T/failed}
mkdir -p "$KEEP_DIR"

# -s: a fifo that we hold open and never write, so script(1) never types anything.
stdin=/dev/null
if [ -n "$quiet_stdin" ]; then
    mkfifo "$T/stdin"
    exec 7<>"$T/stdin"
    stdin=$T/stdin
fi
declare -A lost=()
for rt in "${rts[@]}"; do lost[$rt]=0; done
for i in $(seq "$n"); do
    for rt in "${rts[@]}"; do
        text="tty-loss-$i"
        cmd="echo $text"
        # TTY_LOSS_BEFORE: shell commands run in the container before the echo.
        [ -n "${TTY_LOSS_BEFORE:-}" ] && cmd="sh -c '$TTY_LOSS_BEFORE; echo $text'"
        out=$(timeout 60 script -qec \
            "podman --runtime $rt run -it --rm --network none $IMG $cmd" /dev/null <"$stdin")
        if ! grep -q "$text" <<<"$out"; then
            lost[$rt]=$((lost[$rt] + 1))
            [ -n "$keep" ] && printf '%s' "$out" >"$KEEP_DIR/$(basename "$rt")-$i.out"
        fi
    done
done
for rt in "${rts[@]}"; do
    echo "$(basename "$rt"): ${lost[$rt]} of $n runs lost the output"
done
[ "${lost[${rts[-1]}]}" = 0 ]
