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

@test "plain HTTP registry refused without --tls-verify=false or an insecure entry" {
    run husk pull "$REG_main/husk/busybox"
    [ "$status" -ne 0 ]
    echo "{\"insecure\": [\"$REG_main\"]}" >"$ROOT/registries.json"
    run husk pull -q "$REG_main/husk/busybox"
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
