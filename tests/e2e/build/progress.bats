#!/usr/bin/env bats
# husk build --progress: tty (BuildKit's console: steps redrawn in place, the running
# step's last output lines) through a pseudo-terminal, auto, and plain as before.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
    build_setup
    # runs a command on a new pseudo-terminal; prints what it drew, exits with its status
    cat >"$WORK/on_pty.py" <<'PY'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        d = os.read(fd, 65536)
    except OSError:
        break
    if not d:
        break
    out += d
_, st = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(st))
PY
}
teardown_file() { build_teardown; }
setup() { [ -n "${WORK:-}" ] || skip "no data root (see setup_file)"; rm -rf "$CTX"; mkdir -p "$CTX"; }

on_pty() { python3 "$WORK/on_pty.py" python3 "$HUSK_SRC/scripts/subreaper.py" "$HUSK" --root "$ROOT" "$@"; }

@test "--progress tty: steps redrawn in place with their state, the running step's output under it" {
    printf 'FROM husk/busybox\nRUN echo out-of-the-step; echo second-line\nENV A=1\n' >"$CTX/Dockerfile"
    run on_pty build --progress tty --network none -t tty:1 "$CTX"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"[+] Building "*"(3/3) FINISHED"* ]]
    [[ "$output" == *" => [2/3] RUN echo out-of-the-step; echo second-line"* ]]
    [[ "$output" == *" => => # out-of-the-step"* ]]
    [[ "$output" == *$'\e[2K'* ]]                 # lines cleared ...
    [[ "$output" =~ $'\e'\[[0-9]+A ]]             # ... after moving the cursor up over them
    [[ "$output" != *"Step 1/3"* ]]
    [[ "$output" == *"Successfully tagged tty:1"* ]]
    run on_pty build --progress tty --network none -t tty:1 "$CTX"
    [ "$status" -eq 0 ]
    [[ "$output" == *" => CACHED [2/3] RUN echo out-of-the-step"* ]]
}

@test "--progress tty: the clocks move on while a step prints nothing" {
    printf 'FROM husk/busybox\nRUN sleep 2\n' >"$CTX/Dockerfile"
    run on_pty build --progress tty --network none --no-cache "$CTX"
    [ "$status" -eq 0 ]
    # the running step's row is drawn again with its time going up, though `sleep` prints
    # nothing: more than one time shown for it before the final drawing
    times=$(grep -ao ' => \[2/2\] RUN sleep 2 *[0-9.]*s' <<<"$output" | awk '{print $NF}' | sort -u | wc -l)
    echo "$output"
    echo "distinct times of the RUN row: $times"
    [ "$times" -ge 3 ]
}

@test "--progress tty: a failing step keeps its last output lines, then the error" {
    printf 'FROM husk/busybox\nRUN echo before-failing; exit 3\n' >"$CTX/Dockerfile"
    run on_pty build --progress tty --network none "$CTX"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"FAILED"* ]]
    final=${output##*"[+] Building"}     # the last drawing
    [[ "$final" == *" => ERROR [2/2] RUN echo before-failing; exit 3"* ]]
    [[ "$final" == *" => => # before-failing"* ]]
    [[ "$output" == *"husk: error: Dockerfile:2: RUN returned exit code 3"* ]]
    [ -z "$(build_leftovers)" ]
}

@test "--progress auto: tty on a terminal, plain through a pipe; plain is docker's classic lines" {
    printf 'FROM husk/busybox\nRUN echo hi\n' >"$CTX/Dockerfile"
    run on_pty build --network none "$CTX"
    [ "$status" -eq 0 ]
    [[ "$output" == *"[+] Building"* ]]
    run husk build --network none "$CTX"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "Step 1/2 : FROM husk/busybox" ]
    run on_pty build --progress plain --network none "$CTX"
    [[ "$output" == *"Step 2/2 : RUN echo hi"* ]]
    [[ "$output" != *"[+] Building"* ]]
    run husk build --progress fancy "$CTX"
    [ "$status" -ne 0 ]
    [ "$output" = "husk: error: --progress=fancy: expected auto, plain or tty" ]
}

@test "--progress tty: a build taller than the terminal draws its latest steps under the header" {
    { echo 'FROM husk/busybox'; for i in $(seq 1 30); do echo "ENV V$i=$i"; done; } >"$CTX/Dockerfile"
    run on_pty build --progress tty "$CTX"      # a new pty says 0x0: drawn as 80x24
    [ "$status" -eq 0 ]
    final=${output##*"[+] Building"}
    [[ "$final" == *"(31/31) FINISHED"* ]]
    [[ "$final" == *" => [31/31] ENV V30=30"* ]]
    [[ "$final" != *" => [1/31] FROM"* ]]
    [ "$(grep -c ' => ' <<<"$final")" -eq 22 ]
}
