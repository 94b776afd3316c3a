#!/usr/bin/env bats
# husk sbom's language packages: Python dist-info, node_modules, Go build info, jars, gems.
load helpers

setup() { images_setup; }
teardown() { images_teardown; }

@test "sbom finds Python, npm (node_modules, package-lock.json), Java (jars inside a war too) and Ruby packages with purls and the files a dist-info records" {
    need jq
    sbom_image lang lang:sbom
    husk sbom lang:sbom --format json -o "$WORK/l.json"
    purls=$(jqf "$WORK/l.json" '[.packages[].purl] | sort | join(" ")')
    [ "$purls" = "pkg:gem/rake@13.0.6 pkg:maven/com.example/shop@1.0 pkg:maven/com.google.guava/guava@32.1.2-jre pkg:maven/org.apache.commons/commons-lang3@3.12.0 pkg:npm/%40types/node@20.11.5 pkg:npm/left-pad@1.3.0 pkg:npm/lodash@4.17.21 pkg:pypi/requests@2.31.0" ]
    # a package the lock file names but node_modules lacks is found in the lock file
    [ "$(jqf "$WORK/l.json" '.packages[] | select(.name == "left-pad") | .location')" = /app/package-lock.json ]
    [ "$(jqf "$WORK/l.json" '[.packages[] | select(.name == "lodash")] | length')" = 1 ]
    # a package.json below a package's own directory is not a package
    [ "$(jqf "$WORK/l.json" '[.packages[] | select(.name == "not-a-package")] | length')" = 0 ]
    [ "$(jqf "$WORK/l.json" '.packages[] | select(.name == "lodash") | .license')" = MIT ]
    [ "$(jqf "$WORK/l.json" '.packages[] | select(.name == "@types/node") | .license')" = MIT ]
    [ "$(jqf "$WORK/l.json" '.packages[] | select(.name == "requests") | .license')" = "Apache 2.0" ]
    [ "$(jqf "$WORK/l.json" '.packages[] | select(.name == "guava") | .location')" = /opt/app/guava-32.1.2-jre.jar ]
    [ "$(jqf "$WORK/l.json" '.packages[] | select(.name == "commons-lang3") | .location')" = /opt/app/shop.war!/WEB-INF/lib/commons-lang3-3.12.0.jar ]
    # RECORD's three files are owned; nothing else in the image is
    [ "$(jqf "$WORK/l.json" '.files.owned')" = 3 ]
}

@test "sbom reads a Go binary's build info: main module, dependencies, Go version" {
    need jq
    bin=$(go_binary "$WORK/go")
    [ -n "$bin" ] || skip "go is not installed (scripts/deps.sh installs golang-go)"
    sbom_image lang golang:sbom --go-binary "$bin"
    husk sbom golang:sbom --format json -o "$WORK/g.json"
    gov=$(go version "$bin" | sed -E 's/.*: go([0-9.]+).*/\1/')
    got=$(jqf "$WORK/g.json" '[.packages[] | select(.type == "golang") | .purl] | join(" ")')
    [ "$got" = "pkg:golang/example.com/hello@%28devel%29 pkg:golang/example.com/greet@v1.2.3 pkg:golang/stdlib@$gov" ]
    [ "$(jqf "$WORK/g.json" '[.packages[] | select(.type == "golang") | .location] | unique | join(" ")')" = /usr/local/bin/hello ]
}

@test "sbom reads the build info of Go binaries for 32-bit and big-endian machines (386, s390x)" {
    need jq
    command -v go >/dev/null || skip "go is not installed (scripts/deps.sh installs golang-go)"
    for arch in 386 s390x; do
        bin=$(go_binary "$WORK/go-$arch" "$arch")
        [ -n "$bin" ] || { cat "$WORK/go-$arch/build.log"; false; }
        # the file is what its name says: ELF class and byte order
        case $arch in
            386) [ "$(od -An -tx1 -j4 -N2 "$bin" | tr -d ' ')" = 0101 ] ;;  # 32-bit, little
            s390x) [ "$(od -An -tx1 -j4 -N2 "$bin" | tr -d ' ')" = 0202 ] ;;  # 64-bit, big
        esac
        sbom_image lang "golang-$arch:sbom" --go-binary "$bin"
        husk sbom "golang-$arch:sbom" --format json -o "$WORK/g-$arch.json"
        gov=$(go version "$bin" | sed -E 's/.*: go([0-9.]+).*/\1/')
        got=$(jqf "$WORK/g-$arch.json" '[.packages[] | select(.type == "golang") | .purl] | join(" ")')
        echo "$arch: $got"
        [ "$got" = "pkg:golang/example.com/hello@%28devel%29 pkg:golang/example.com/greet@v1.2.3 pkg:golang/stdlib@$gov" ]
    done
}

@test "sbom reads the crate graph cargo auditable embeds in a Rust binary" {
    need jq
    bin=$(rust_binary "$WORK/rust")
    [ -n "$bin" ] || skip "objcopy is not installed (binutils, with build-essential)"
    sbom_image lang rust:sbom --rust-binary "$bin"
    husk sbom rust:sbom --format json -o "$WORK/r.json"
    [ "$(jqf "$WORK/r.json" '[.packages[] | select(.type == "cargo") | .purl] | join(" ")')" = \
        "pkg:cargo/rusty@0.1.0 pkg:cargo/serde@1.0.195 pkg:cargo/cc@1.0.83" ]
    [ "$(jqf "$WORK/r.json" '[.packages[] | select(.type == "cargo") | .location] | unique | join(" ")')" = /usr/local/bin/rusty ]
}
