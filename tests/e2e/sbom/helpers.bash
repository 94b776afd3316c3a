# Shared by the sbom tests: the image tests' work dir and helpers, and images built
# by mkfixtures.py loaded into $ROOT with `husk load` (no registry needed).
load ../images/helpers

SBOM_FIXTURES="$HUSK_SRC/tests/e2e/sbom/mkfixtures.py"

# sbom_image KIND TAG [mkfixtures args...]: builds the fixture and loads it as TAG
sbom_image() {
    local kind=$1 tag=$2
    shift 2
    rm -rf "$WORK/layout-$tag"
    /usr/bin/python3 "$SBOM_FIXTURES" "$kind" "$WORK/layout-$tag" --tag "$tag" "$@"
    tar -C "$WORK/layout-$tag" -cf "$WORK/$tag.tar" .
    "$HUSK" --root "$ROOT" load -i "$WORK/$tag.tar" >/dev/null
}

# The debootstrap Debian minbase tree as a tar (scripts/fixtures/debian-minbase.sh:
# the benchmarks' cache, else built once); prints its path, or nothing when it cannot be
# had (the reason is in $WORK/debootstrap.log).
debian_tar() {
    bash "$HUSK_SRC/scripts/fixtures/debian-minbase.sh" 2>"$WORK/debootstrap.log" || true
}

# jqf FILE FILTER: jq -r over a file
jqf() { jq -r "$2" "$1"; }

# The published CycloneDX 1.5 schema, from the npm package scripts/deps.sh installs.
CDX_SCHEMA=${HUSK_CDX_SCHEMA:-/usr/local/share/husk/npm/node_modules/@cyclonedx/cyclonedx-library/res/schema/bom-1.5.SNAPSHOT.schema.json}
# No Debian or npm package ships the SPDX 2.3 JSON schema; one given here is used.
SPDX_SCHEMA=${HUSK_SPDX_SCHEMA:-}

# validate SCHEMA DOC: the document against the schema (Debian's python3-jsonschema)
validate() {
    /usr/bin/python3 -c 'import jsonschema' 2>/dev/null ||
        skip "python3-jsonschema is not installed (scripts/deps.sh installs it)"
    run /usr/bin/python3 "$HUSK_SRC/tests/e2e/sbom/validate.py" "$1" "$2"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
}

# go_binary DIR [GOARCH]: builds a small Go program there (a dependency module replaced by
# a directory, so nothing is fetched), for this machine or GOARCH, and prints the binary's
# path; nothing without go. One build cache for the test file ($WORK/gocache).
go_binary() {
    local d=$1 arch=${2:-$(go env GOARCH 2>/dev/null)}
    command -v go >/dev/null || return 0
    mkdir -p "$d/greet"
    printf 'module example.com/greet\n\ngo 1.19\n' >"$d/greet/go.mod"
    printf 'package greet\n\nfunc Hi() string { return "hi" }\n' >"$d/greet/greet.go"
    printf 'module example.com/hello\n\ngo 1.19\n\nrequire example.com/greet v1.2.3\n\nreplace example.com/greet => ./greet\n' >"$d/go.mod"
    printf 'package main\n\nimport "example.com/greet"\n\nfunc main() { println(greet.Hi()) }\n' >"$d/main.go"
    (cd "$d" && HOME=$d GOPATH=$d/gopath GOCACHE="${WORK:-$d}/gocache" GOPROXY=off GOFLAGS=-mod=mod \
        GOARCH=$arch CGO_ENABLED=0 go build -o "$d/hello" . >"$d/build.log" 2>&1) && echo "$d/hello"
    return 0
}

# rust_binary DIR: an ELF executable with the .dep-v0 section cargo auditable writes
# (zlib-compressed JSON of the crate graph), added by objcopy; prints its path.
rust_binary() {
    local d=$1
    command -v objcopy >/dev/null || return 0
    mkdir -p "$d"
    /usr/bin/python3 - "$d/dep-v0" <<'PY'
import json, sys, zlib
graph = {"packages": [
    {"name": "rusty", "version": "0.1.0", "source": "local", "root": True, "dependencies": [1, 2]},
    {"name": "serde", "version": "1.0.195", "source": "crates.io"},
    {"name": "cc", "version": "1.0.83", "source": "crates.io", "kind": "build"}]}
open(sys.argv[1], "wb").write(zlib.compress(json.dumps(graph).encode()))
PY
    objcopy --add-section .dep-v0="$d/dep-v0" --set-section-flags .dep-v0=noload,readonly \
        /bin/true "$d/rusty" && echo "$d/rusty"
    return 0
}
