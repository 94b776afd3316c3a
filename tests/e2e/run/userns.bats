#!/usr/bin/env bats
# --userns=auto: root inside, an unprivileged host uid outside.

load helpers

setup_file() { run_setup; }
teardown_file() { run_teardown; }

@test "--userns=auto: uid_map from the host, root-owned files inside" {
    "$HUSK" --root "$ROOT" run --rm --userns=auto --name uns husk/busybox sleep 60 &
    bg=$!
    id=""
    for _ in $(seq 100); do
        id=$(container_id uns 2>/dev/null || true)
        [ -n "$id" ] && [ -f "$ROOT/run/$id/state.json" ] && break
        sleep 0.1
    done
    pid=$(jq -r .pid "$ROOT/run/$id/state.json")
    map=$(tr -s ' ' <"/proc/$pid/uid_map")
    owner=$(stat -c %u "/proc/$pid")
    kill -KILL "$pid"
    wait "$bg" || true
    echo "map: $map owner: $owner"
    [[ "$map" =~ ^\ ?0\ ([0-9]+)\ 65536$ ]]
    base=${BASH_REMATCH[1]}
    [ "$base" -ge 65536 ]
    [ "$owner" = "$base" ]
    run husk run --rm --userns=auto husk/busybox sh -c 'id -u; stat -c "%u %g" /bin/busybox /etc/passwd /'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = 0 ]
    [ "${lines[1]}" = "0 0" ]
    [ "${lines[2]}" = "0 0" ]
    [ "${lines[3]}" = "0 0" ]
    [ -z "$(leftovers)" ]
}

@test "--userns=auto: two containers get ranges that do not overlap" {
    "$HUSK" --root "$ROOT" run --rm --userns=auto --name a1 husk/busybox sleep 60 &
    b1=$!
    "$HUSK" --root "$ROOT" run --rm --userns=auto --name a2 husk/busybox sleep 60 &
    b2=$!
    for _ in $(seq 100); do
        [ -n "$(container_id a1 2>/dev/null)" ] && [ -n "$(container_id a2 2>/dev/null)" ] && break
        sleep 0.1
    done
    # the ranges the kernel gave each container's init (its uid_map, seen from the host)
    pids=()
    for n in a1 a2; do
        id=$(container_id $n)
        for _ in $(seq 100); do [ -f "$ROOT/run/$id/state.json" ] && break; sleep 0.1; done
        pids+=("$(jq -r .pid "$ROOT/run/$id/state.json")")
    done
    r1=$(awk '{print $2}' /proc/${pids[0]}/uid_map)
    r2=$(awk '{print $2}' /proc/${pids[1]}/uid_map)
    kill -KILL "${pids[@]}"
    wait "$b1" "$b2" || true
    echo "$r1 $r2"
    [ "$r1" != "$r2" ]
    d=$((r1 > r2 ? r1 - r2 : r2 - r1))
    [ "$d" -ge 65536 ]
}

@test "--uidmap/--gidmap: the given ranges, root-owned files inside, host owners shifted" {
    run husk run --rm --uidmap 0:300000:65536 --gidmap 0:400000:65536 husk/busybox sh -c \
        'tr -s " " </proc/self/uid_map; tr -s " " </proc/self/gid_map; id -u; stat -c "%u %g" /bin/busybox /'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^\ ?0\ 300000\ 65536$ ]]
    [[ "${lines[1]}" =~ ^\ ?0\ 400000\ 65536$ ]]
    [ "${lines[2]}" = 0 ]
    [ "${lines[3]}" = "0 0" ]
    [ "${lines[4]}" = "0 0" ]
    # seen from the host: a file the container's root made belongs to the mapped ids
    run husk run --name shifted --uidmap 0:300000:65536 --gidmap 0:400000:65536 husk/busybox \
        sh -c 'echo x >/made-inside'
    [ "$status" -eq 0 ]
    id=$(container_id shifted)
    owners=$(find "$ROOT/rootfs/$id" -maxdepth 2 -name made-inside -exec stat -c '%u %g' {} \; | sort -u)
    echo "host owners: $owners"
    [ "$owners" = "300000 400000" ]
    # export gives the container's ids, as docker's under userns-remap: 0, not 300000
    husk export -o "$WORK/shifted.tar" shifted
    run tar --numeric-owner -tvf "$WORK/shifted.tar" made-inside
    echo "$output"
    [[ "$output" == *" 0/0 "* ]]
    husk rm shifted
    # --uidmap alone: the same map for groups, as podman
    run husk run --rm --uidmap 0:300000:65536 husk/busybox sh -c 'tr -s " " </proc/self/gid_map'
    [[ "$output" =~ ^\ ?0\ 300000\ 65536$ ]]
    [ -z "$(leftovers)" ]
}

@test "--uidmap bad input and --userns=keep-id: one line, 125, nothing left" {
    for args in "--uidmap 0:1" "--uidmap 0:x:5" "--uidmap 0:100000:0" \
        "--uidmap 0:100000:10 --uidmap 5:200000:10" "--uidmap 0:100000:10 --uidmap 10:100005:10" \
        "--uidmap 1:100000:10" "--userns=auto --uidmap 0:100000:10" \
        "--userns=keep-id"; do
        run husk run --rm $args husk/busybox true
        echo "$args -> $status $output"
        [ "$status" -eq 125 ]
        [ "${#lines[@]}" -eq 1 ]
    done
    [[ "$output" == *"keep-id is only supported in rootless mode"* ]]
    [ -z "$(leftovers)" ]
}

@test "--uidmap with several ranges: the container sees them all, its root owns the image's files" {
    run husk run --rm --uidmap 0:300000:1000 --uidmap 1000:310000:64536 husk/busybox sh -c \
        'tr -s " " </proc/self/uid_map; tr -s " " </proc/self/gid_map; stat -c "%u %g" /bin/busybox /; mkdir /w && chown 1000:1000 /w && stat -c "%u %g" /w'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^\ ?0\ 300000\ 1000$ ]]
    [[ "${lines[1]}" =~ ^\ ?1000\ 310000\ 64536$ ]]
    [[ "${lines[2]}" =~ ^\ ?0\ 300000\ 1000$ ]]
    [[ "${lines[3]}" =~ ^\ ?1000\ 310000\ 64536$ ]]
    [ "${lines[4]}" = "0 0" ]
    [ "${lines[5]}" = "0 0" ]
    [ "${lines[6]}" = "1000 1000" ]
    [ -z "$(leftovers)" ]
}
