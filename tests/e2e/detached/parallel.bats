#!/usr/bin/env bats
# Concurrent husk commands on different containers never corrupt each other.

load helpers

setup_file() { detached_setup; }
teardown_file() { detached_teardown; }

@test "two husk processes creating 20 containers each in parallel: 40 containers, no corruption" {
    for p in a b; do
        (for i in $(seq 1 20); do husk create --name "$p$i" husk/busybox true >/dev/null || echo "FAIL $p$i"; done) >"$WORK/$p.out" 2>&1 &
    done
    wait
    cat "$WORK/a.out" "$WORK/b.out"
    [ ! -s "$WORK/a.out" ]
    [ ! -s "$WORK/b.out" ]
    [ "$(husk ps -aq | wc -l)" -eq 40 ]
    [ "$(husk ps -a --format '{{.Names}}' | sort -u | wc -l)" -eq 40 ]
    # every record is whole JSON and names its own directory
    for d in "$ROOT"/containers/*/; do
        python3 -c 'import json,sys,os; r=json.load(open(sys.argv[1]+"container.json")); assert r["id"]==os.path.basename(sys.argv[1].rstrip("/")), r' "$d"
    done
    # and they all run, in parallel too
    (husk start $(husk ps -aq --filter name=a) >/dev/null) &
    (husk start $(husk ps -aq --filter name=b) >/dev/null) &
    wait
    for id in $(husk ps -aq); do
        [ "$(husk wait "$id")" = 0 ]
    done
    husk rm $(husk ps -aq) >/dev/null
    [ -z "$(husk ps -aq)" ]
    [ -z "$(ls "$ROOT/rootfs")" ]
}
