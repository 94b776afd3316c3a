#!/usr/bin/env bats
# -it: an interactive shell through a real pty (a small pty driver plays the person).

load helpers

setup_file() { run_setup; }
teardown_file() { run_teardown; }

drive() { python3 "$BATS_TEST_DIRNAME/pty_drive.py" "$@"; }

needs_terminals() {
    run husk run --rm -t husk/busybox true
    [[ "$output" == *"terminals are not supported"* ]] && skip "the runtime has no terminals yet"
    return 0
}

@test "-it: prompt, a command, window size, exit code" {
    needs_terminals
    run drive 30 100 -- "$HUSK" --root "$ROOT" run -it --rm husk/busybox sh <<'EOF2'
expect # 
send echo $((6*7)); stty size; tty\r
expect 42
expect 30 100
expect /dev/pts/
resize 40 120
pause 0.5
send stty size\r
expect 40 120
send exit 3\r
EOF2
    echo "$output"
    [ "$status" -eq 3 ]
}

@test "-it: Ctrl-C interrupts the foreground command, not the shell; Ctrl-D ends it" {
    needs_terminals
    run drive 24 80 -- "$HUSK" --root "$ROOT" run -it --rm husk/busybox sh <<'EOF2'
expect # 
send sleep 100\r
pause 1
send \x03
expect # 
send echo still here\r
expect still here
send \x04
EOF2
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "-t without -i: output through the pty" {
    needs_terminals
    run drive 24 80 -- "$HUSK" --root "$ROOT" run -t --rm husk/busybox sh -c 'tty; echo $TERM'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"/dev/pts/"* ]]
    [[ "$output" == *"xterm"* ]]
}

@test "-t without -i: the container's terminal gets no end-of-file from husk" {
    needs_terminals
    run drive 24 80 -- "$HUSK" --root "$ROOT" run -t --rm husk/busybox sh -c \
        'cat </dev/tty >/dev/null & sleep 1; if kill -0 $! 2>/dev/null; then echo stdin-open; else echo stdin-eof; fi; kill $! 2>/dev/null; true'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *stdin-open* ]]
}
