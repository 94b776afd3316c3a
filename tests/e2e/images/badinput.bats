#!/usr/bin/env bats
# Bad input: a clear error, a non-zero exit, and the store exactly as before.

load helpers

setup_file() {
    need docker-registry skopeo
    images_setup
    start_registry main
    start_registry bad
    fixture busybox busybox
    fixture multilayer multi
    fixture multilayer multi-plain --compression none
    push busybox "$REG_main" husk/busybox:latest
    "$HUSK" --root "$ROOT" pull -q --tls-verify=false "$REG_main/husk/busybox"
    push multi "$REG_bad" husk/truncated:latest
    push_raw multi-plain "$REG_bad" husk/wrongdigest:latest
}

teardown_file() { images_teardown; }

@test "unknown image: the error names registry, repository and the server's answer" {
    before=$(store_state)
    run husk pull --tls-verify=false "$REG_main/husk/nothere"
    [ "$status" -ne 0 ]
    [[ "$output" == *"registry $REG_main, repository \"husk/nothere\""* ]]
    [[ "$output" == *"404"*"UNKNOWN"* ]]
    run husk pull --tls-verify=false "$REG_main/husk/busybox:nosuchtag"
    [ "$status" -ne 0 ]
    [[ "$output" == *"MANIFEST_UNKNOWN"* ]]
    [ "$(store_state)" = "$before" ]
}

@test "malformed reference: one clear error" {
    run husk pull "Upper/Case:tag"
    [ "$status" -ne 0 ]
    [[ "$output" == *'invalid reference "Upper/Case:tag"'* ]]
}

@test "registry down" {
    before=$(store_state)
    port=$(free_port)
    run husk pull --tls-verify=false "127.0.0.1:$port/husk/busybox"
    [ "$status" -ne 0 ]
    [[ "$output" == *"registry 127.0.0.1:$port"*"cannot reach"* ]]
    [ "$(store_state)" = "$before" ]
}

@test "plain HTTP registry refused when TLS is asked for, unless registries.json names it insecure" {
    # a loopback registry is insecure by default (docker's rule); --tls-verify=true asks for TLS
    before=$(store_state)
    run husk pull --tls-verify=true "$REG_main/husk/busybox"
    echo "$output"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    # it spoke TLS to a plain HTTP server: refused for that, naming the fix
    [[ "$output" == *"$REG_main"*"answers over plain HTTP"*"--tls-verify=false"* ]]
    [ "$(store_state)" = "$before" ]
    echo "{\"insecure\": [\"$REG_main\"]}" >"$ROOT/registries.json"
    run husk pull -q --tls-verify=true "$REG_main/husk/busybox"
    rm "$ROOT/registries.json"
    [ "$status" -eq 0 ]
}

@test "truncated blob: size mismatch, nothing stored" {
    before=$(store_state)
    blob=$(registry_blob bad "$(layer_digest multi 0)")
    truncate -s -100 "$blob"
    run husk pull --tls-verify=false "$REG_bad/husk/truncated"
    [ "$status" -ne 0 ]
    echo "$output"
    [[ "$output" == *"mismatch"* ]] || [[ "$output" == *"runcated"* ]]
    [ "$(store_state)" = "$before" ]
}

@test "wrong digest: content changed in the registry, nothing stored" {
    before=$(store_state)
    blob=$(registry_blob bad "$(layer_digest multi-plain 0)")
    # same size, one byte of file data changed: still a valid tar
    python3 - "$blob" <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
i = d.find(b"husk\n")
d[i] = ord("H")
open(p, "wb").write(bytes(d))
PY
    run husk pull --tls-verify=false "$REG_bad/husk/wrongdigest"
    [ "$status" -ne 0 ]
    [[ "$output" == *"digest mismatch"* ]]
    [ "$(store_state)" = "$before" ]
}

@test "a transfer broken off mid-blob is resumed with a Range request" {
    fixture big big
    push big "$REG_main" husk/big:latest
    pport=$(free_port)
    python3 "$HUSK_SRC/scripts/fixtures/flaky_proxy.py" "$pport" "$REG_main" 5000000 "$WORK/proxy.log" &
    echo $! >"$WORK/proxy.pid"
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$pport/v2/" && break; sleep 0.1; done
    run husk pull -q --tls-verify=false "127.0.0.1:$pport/husk/big"
    [ "$status" -eq 0 ]
    grep -q "/blobs/$(layer_digest big 0) bytes=5000000-" "$WORK/proxy.log"
}

@test "Ctrl-C stops a pull cleanly; the next pull resumes what it had" {
    fixture big big
    push big "$REG_main" husk/big:latest
    hex=$(layer_digest big 0)
    hex=${hex#sha256:}
    pport=$(free_port)
    python3 "$HUSK_SRC/scripts/fixtures/flaky_proxy.py" "$pport" "$REG_main" 3000000 "$WORK/stall.log" stall &
    echo $! >"$WORK/stall.pid"
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$pport/v2/" && break; sleep 0.1; done
    root2="$WORK/root-interrupted"
    "$HUSK" --root "$root2" pull -q --tls-verify=false "127.0.0.1:$pport/husk/big" 2>"$WORK/int.err" &
    pid=$!
    # interrupt once the stalled transfer has delivered its first bytes
    for _ in $(seq 300); do [ -s "$root2/tmp/partial-$hex" ] && break; sleep 0.1; done
    [ -s "$root2/tmp/partial-$hex" ]
    kill -INT "$pid"
    st=0
    wait "$pid" || st=$?
    [ "$st" -ne 0 ]
    grep -q interrupted "$WORK/int.err"
    [ "$(ls "$root2/tmp")" = "partial-$hex" ]
    run "$HUSK" --root "$root2" --debug pull --tls-verify=false "$REG_main/husk/big"
    [ "$status" -eq 0 ]
    [[ "$output" == *"resuming at byte"* ]]
    [ -z "$(ls -A "$root2/tmp")" ]
}
