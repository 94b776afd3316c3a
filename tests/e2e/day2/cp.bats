#!/usr/bin/env bats
# husk cp: both ways, tar streams, docker's destination rules, modes and times kept, and
# container-side paths resolved inside the container (a symlink out of it never reaches
# the host). One running container shared by the file's tests.

bats_require_minimum_version 1.5.0
load ../detached/helpers

setup_file() {
    detached_setup
    husk run -d --name day2-cp husk/busybox sleep 1000 >/dev/null
    husk exec day2-cp sh -c 'mkdir -p /data/sub && echo hi >/data/f && chmod 640 /data/f &&
        touch -d "2020-01-02 03:04:05" /data/f && ln -s /etc /data/etclink && echo deep >/data/sub/g'
}
teardown_file() { detached_teardown; }
setup() {
    OUT=$(mktemp -d "$WORK/out-XXXXXX")
}

@test "cp CONTAINER:DIR HOSTDIR copies the tree; modes, times and symlinks kept" {
    husk cp day2-cp:/data "$OUT/"
    [ "$(cat "$OUT/data/f")" = hi ]
    [ "$(cat "$OUT/data/sub/g")" = deep ]
    [ "$(stat -c %a "$OUT/data/f")" = 640 ]
    [ "$(date -u -d @"$(stat -c %Y "$OUT/data/f")" +%F)" = 2020-01-02 ]
    [ "$(readlink "$OUT/data/etclink")" = /etc ]
}

@test "cp DIR/. copies the contents; a missing DEST directory is made" {
    husk cp day2-cp:/data/. "$OUT/"
    [ -f "$OUT/f" ]
    [ -d "$OUT/sub" ]
    husk cp day2-cp:/data "$OUT/newdir"
    [ -f "$OUT/newdir/f" ]
}

@test "cp - writes a tar stream; cp - CONTAINER:DIR extracts one" {
    run -0 bash -c "'$HUSK' --root '$ROOT' cp day2-cp:/data - | tar -t"
    [[ "$output" == *"data/"* && "$output" == *"data/sub/g"* ]]
    echo streamed >"$OUT/s.txt"
    tar -C "$OUT" -cf - s.txt | husk cp - day2-cp:/tmp
    [ "$(husk exec day2-cp cat /tmp/s.txt)" = streamed ]
}

@test "cp HOSTFILE CONTAINER:PATH writes as the container's root; -a keeps the owner" {
    echo up >"$OUT/up.txt"
    chown 1234:2345 "$OUT/up.txt"
    chmod 604 "$OUT/up.txt"
    husk cp "$OUT/up.txt" day2-cp:/tmp/up.txt
    [ "$(husk exec day2-cp stat -c '%u:%g %a' /tmp/up.txt)" = "0:0 604" ]
    husk cp -a "$OUT/up.txt" day2-cp:/tmp/up-a.txt
    [ "$(husk exec day2-cp stat -c '%u:%g' /tmp/up-a.txt)" = "1234:2345" ]
}

@test "cp of a symlink copies the link; -L what it points at, inside the container" {
    husk exec day2-cp ln -sf /etc/hostname /hn
    husk cp day2-cp:/hn "$OUT/link"
    [ "$(readlink "$OUT/link")" = /etc/hostname ]
    husk cp -L day2-cp:/hn "$OUT/target"
    [ "$(cat "$OUT/target")" = "$(husk exec day2-cp cat /etc/hostname)" ]
}

@test "cp through a symlink pointing out of the container stays inside it; the host is untouched" {
    victim=$(mktemp -d /tmp/day2-cp-victim-XXXXXX)
    echo host-secret >"$victim/secret"
    husk exec day2-cp sh -c "mkdir -p $victim && echo container-file >$victim/secret &&
        ln -sf ../../../../..$victim /escape && ln -sf $victim/new /escape-file"
    echo payload >"$OUT/p.txt"
    husk cp "$OUT/p.txt" day2-cp:/escape/
    husk cp "$OUT/p.txt" day2-cp:/escape-file
    husk cp day2-cp:/escape/secret "$OUT/read"
    ls -la "$victim"
    [ "$(ls "$victim")" = secret ]
    [ "$(cat "$victim/secret")" = host-secret ]
    [ "$(cat "$OUT/read")" = container-file ]
    [ "$(husk exec day2-cp cat "$victim/p.txt" "$victim/new")" = "$(printf 'payload\npayload')" ]
    rm -rf "$victim"
}

@test "cp replaces what is in the way: a symlink in DEST's tree is not followed; a DEST that is a link is" {
    # a link where the tree puts a file: replaced by the file, its target untouched
    echo keep >"$OUT/keep"
    mkdir "$OUT/data" && ln -s "$OUT/keep" "$OUT/data/f"
    husk cp day2-cp:/data "$OUT/"
    [ ! -L "$OUT/data/f" ]
    [ "$(cat "$OUT/data/f")" = hi ]
    [ "$(cat "$OUT/keep")" = keep ]
    # DEST itself a link to a file: written through it, as docker cp does
    echo old >"$OUT/real" && ln -s "$OUT/real" "$OUT/alias"
    husk cp day2-cp:/data/f "$OUT/alias"
    [ -L "$OUT/alias" ]
    [ "$(cat "$OUT/real")" = hi ]
    # the same into the container: a link in the way is replaced, a hard link keeps its data
    husk exec day2-cp sh -c 'mkdir -p /in/data && echo keep >/in/keep && ln -s /in/keep /in/data/f &&
        echo one >/in/h1 && ln /in/h1 /in/data/sub'
    mkdir -p "$OUT/up/data" && echo new >"$OUT/up/data/f" && echo new >"$OUT/up/data/sub"
    husk cp "$OUT/up/data" day2-cp:/in/
    [ "$(husk exec day2-cp sh -c 'test -L /in/data/f || cat /in/data/f /in/data/sub /in/keep /in/h1')" = \
        "$(printf 'new\nnew\nkeep\none')" ]
}

@test "cp keeps hard links: out to a directory, out as a tar stream, and a stream in" {
    husk exec day2-cp sh -c 'mkdir -p /hl && echo same >/hl/a && ln /hl/a /hl/b'
    husk cp day2-cp:/hl "$OUT/"
    [ "$(stat -c %i "$OUT/hl/a")" = "$(stat -c %i "$OUT/hl/b")" ]
    [ "$(cat "$OUT/hl/b")" = same ]
    run -0 bash -c "'$HUSK' --root '$ROOT' cp day2-cp:/hl - | tar -tvf -"
    [[ "$output" == *"hl/b link to hl/a"* || "$output" == *"hl/a link to hl/b"* ]]
    mkdir "$OUT/in" && echo two >"$OUT/in/x" && ln "$OUT/in/x" "$OUT/in/y"
    tar -C "$OUT" -cf - in | husk cp - day2-cp:/tmp
    [ "$(husk exec day2-cp stat -c '%i %h' /tmp/in/x)" = "$(husk exec day2-cp stat -c '%i %h' /tmp/in/y)" ]
    [ "$(husk exec day2-cp cat /tmp/in/y)" = two ]
}

@test "cp of a stream whose hard link climbs out links nothing outside DEST" {
    python3 - "$OUT/evil.tar" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("evil")
    i.type = tarfile.LNKTYPE
    i.linkname = "../../../../etc/hostname"
    t.addfile(i)
PY
    run husk cp - day2-cp:/tmp/ <"$OUT/evil.tar"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"/tmp/etc/hostname"* ]]
    run husk exec day2-cp test -e /tmp/evil
    [ "$status" -ne 0 ]
}

@test "cp works on a stopped container" {
    husk create --name day2-cp-stopped husk/busybox true >/dev/null
    echo cold >"$OUT/c.txt"
    husk cp "$OUT/c.txt" day2-cp-stopped:/c.txt
    husk cp day2-cp-stopped:/c.txt "$OUT/back.txt"
    [ "$(cat "$OUT/back.txt")" = cold ]
    husk rm day2-cp-stopped >/dev/null
}

@test "cp on a stopped container reads and writes its volumes and binds; nothing stays mounted" {
    mkdir "$OUT/bind" && echo b >"$OUT/bind/b.txt"
    husk run --name day2-cp-vol --network none -v day2cpvol:/vol -v "$OUT/bind:/bind" \
        husk/busybox sh -c 'echo v >/vol/v.txt'
    husk cp day2-cp-vol:/vol/v.txt "$OUT/v.txt"
    [ "$(cat "$OUT/v.txt")" = v ]
    husk cp day2-cp-vol:/bind/b.txt "$OUT/b2.txt"
    [ "$(cat "$OUT/b2.txt")" = b ]
    echo w >"$OUT/w.txt"
    husk cp "$OUT/w.txt" day2-cp-vol:/vol/w.txt
    [ "$(husk run --rm --network none -v day2cpvol:/vol husk/busybox cat /vol/w.txt)" = w ]
    run grep -c "/vol " /proc/self/mountinfo
    [ "$output" = 0 ]
    husk rm day2-cp-vol >/dev/null
    husk volume rm day2cpvol >/dev/null
}

@test "cp bad input: one line, non-zero, nothing made" {
    run husk cp day2-cp:/nope "$OUT/x"
    [ "$status" -ne 0 ]
    [ "$output" = "husk: error: Could not find the file /nope in container day2-cp" ]
    [ ! -e "$OUT/x" ]
    run husk cp "$OUT" day2-cp:/etc/passwd
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"cannot copy a directory to a file"* ]]
    run husk cp "$OUT/none" day2-cp:/tmp/
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    run husk cp a b
    [ "$status" -ne 0 ]
    [ "$output" = "husk: error: must specify at least one container source" ]
    run husk cp day2-cp:/data/f day2-cp:/tmp
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    run husk cp day2-cp:/data/f "$OUT/missing/dir/f"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [ ! -e "$OUT/missing" ]
    run husk cp no-such-ctr:/x "$OUT"
    [ "$status" -ne 0 ]
    [ "$output" = "husk: error: No such container: no-such-ctr" ]
}
