#!/usr/bin/env bats
# husk sbom CONTAINER: the image's layers and the container's own changes (its upper layer).
load helpers

setup() { images_setup; }
teardown() {
    "$HUSK" --root "$ROOT" rm -f sbomc >/dev/null 2>&1 || true
    images_teardown
}

@test "sbom of a container includes what the container installed, as its upper layer" {
    need jq
    sbom_image alpine alpine:sbom
    husk run --name sbomc --network none alpine:sbom /bin/sh -c \
        'printf "\nP:extra\nV:1.0-r0\nA:x86_64\nF:usr/bin\nR:extra\n" >>/lib/apk/db/installed; echo x >/usr/bin/extra; rm /etc/motd'
    husk sbom sbomc --format json -o "$WORK/c.json"
    [ "$(jqf "$WORK/c.json" '.container.name')" = sbomc ]
    [ "$(jqf "$WORK/c.json" '[.packages[].name] | join(" ")')" = "musl busybox curl extra" ]
    [ "$(jqf "$WORK/c.json" '.packages[] | select(.name == "extra") | .layer')" = 2 ]
    [ "$(jqf "$WORK/c.json" '.packages[] | select(.name == "extra") | .layerDigest')" = upper ]
    [ "$(jqf "$WORK/c.json" '.packages[] | select(.name == "musl") | .layer')" = 0 ]
    [ "$(jqf "$WORK/c.json" '.packages[] | select(.name == "curl") | .layer')" = 1 ]
    # the image: 3 owned, 4 unowned files; the container added one owned file, deleted
    # motd (a whiteout), and the engine wrote etc/hostname, hosts and resolv.conf
    [ "$(jqf "$WORK/c.json" '.files.owned')" = 4 ]
    [ "$(jqf "$WORK/c.json" '.files.unowned')" = 6 ]
    # the image itself is unchanged
    husk sbom alpine:sbom --format json -o "$WORK/i.json"
    [ "$(jqf "$WORK/i.json" '.packages | length')" = 3 ]
}
