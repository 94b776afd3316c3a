#!/usr/bin/env bats
# husk sbom: the packages inside an image, read from its unpacked layers.
load helpers

setup() { images_setup; }
teardown() { images_teardown; }

@test "sbom of a debootstrap Debian image lists what dpkg-query lists, each with the layer that installed it" {
    need jq
    tar=$(debian_tar)
    [ -n "$tar" ] || skip "no Debian minbase tree: debootstrap could not build one (see $WORK/debootstrap.log)"
    sbom_image debian debian:sbom --debian-tar "$tar"
    mkdir -p "$WORK/deb-root"
    tar -C "$WORK/deb-root" -xf "$tar" ./var/lib/dpkg
    want=$(( $(dpkg-query --admindir="$WORK/deb-root/var/lib/dpkg" -W | wc -l) + 1 ))  # + husk-fake
    husk sbom debian:sbom --format json -o "$WORK/deb.json"
    [ "$(jqf "$WORK/deb.json" '.packages | length')" -eq "$want" ]
    [ "$(jqf "$WORK/deb.json" '.os.id + " " + .os.versionId')" = "debian 12" ]
    # every package from the base layer but the one the second layer added
    [ "$(jqf "$WORK/deb.json" '[.packages[] | select(.layer == 0)] | length')" -eq $((want - 1)) ]
    [ "$(jqf "$WORK/deb.json" '.packages[] | select(.name == "husk-fake") | .layer')" = 1 ]
    [ "$(jqf "$WORK/deb.json" '.packages[] | select(.name == "husk-fake") | .purl')" = \
        "pkg:deb/debian/husk-fake@1%3A2.0-1+b1?arch=amd64&distro=debian-12&upstream=husk-fake-src%401%3A2.0-1" ]
    bash_purl=$(jqf "$WORK/deb.json" '.packages[] | select(.name == "bash") | .purl')
    [[ "$bash_purl" =~ ^pkg:deb/debian/bash@[^?]+\?arch=amd64\&distro=debian-12$ ]]
    # /bin/bash (bin -> usr/bin) is owned by bash; the unowned files are few
    [ "$(jqf "$WORK/deb.json" '.files.owned')" -gt 4000 ]
    [ "$(jqf "$WORK/deb.json" '.files.unowned')" -lt "$(jqf "$WORK/deb.json" '.files.owned')" ]
    run husk sbom debian:sbom
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^NAME\ +VERSION\ +TYPE\ +LAYER ]]
    [[ "$output" == *"OS: Debian GNU/Linux 12 (bookworm); $want packages"* ]]
}

@test "sbom reads apk's installed database: purls with the Alpine release, the layer that added each" {
    need jq
    sbom_image alpine alpine:sbom
    husk sbom alpine:sbom --format json -o "$WORK/a.json"
    [ "$(jqf "$WORK/a.json" '[.packages[].name] | join(" ")')" = "musl busybox curl" ]
    [ "$(jqf "$WORK/a.json" '.packages[] | select(.name == "musl") | .purl')" = \
        "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1" ]
    [ "$(jqf "$WORK/a.json" '.packages[] | select(.name == "musl") | .layer')" = 0 ]
    [ "$(jqf "$WORK/a.json" '.packages[] | select(.name == "curl") | .layer')" = 1 ]
    [ "$(jqf "$WORK/a.json" '.packages[] | select(.name == "busybox") | .license')" = GPL-2.0-only ]
    # owned: the musl loader, busybox, curl; unowned: os-release, motd, the db, the sh link
    [ "$(jqf "$WORK/a.json" '.files.owned')" = 3 ]
    [ "$(jqf "$WORK/a.json" '.files.unowned')" = 4 ]
}

@test "sbom reads an rpmdb.sqlite through SQLite: epoch, release, source rpm, licence" {
    need jq
    /usr/bin/python3 -c 'import rpm' 2>/dev/null || skip "python3-rpm is not installed (scripts/deps.sh installs it)"
    sbom_image rpm fedora:sbom
    husk sbom fedora:sbom --format json -o "$WORK/r.json"
    [ "$(jqf "$WORK/r.json" '[.packages[] | .name + "=" + .version] | join(" ")')" = \
        "bash=1:5.2.15-5.fc39 tzdata=2024a-1.fc39" ]
    [ "$(jqf "$WORK/r.json" '.packages[0].purl')" = \
        "pkg:rpm/fedora/bash@5.2.15-5.fc39?arch=x86_64&distro=fedora-39&epoch=1" ]
    [ "$(jqf "$WORK/r.json" '.packages[0].source')" = bash-5.2.15-5.fc39.src.rpm ]
    [ "$(jqf "$WORK/r.json" '.packages[0].license')" = GPL-3.0-or-later ]
    [ "$(jqf "$WORK/r.json" '.files.owned')" = 1 ]  # /usr/bin/bash
}

@test "sbom of an image whose rpmdb.sqlite is corrupt fails with one line naming the database" {
    sbom_image rpm-corrupt broken:sbom
    run husk sbom broken:sbom
    [ "$status" -eq 1 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "${lines[0]}" == "husk: error: sbom of \"broken:sbom\": read rpm database \"/var/lib/rpm/rpmdb.sqlite\": "*"file is not a database"* ]]
}

@test "sbom of an unknown image or container is one error line and exit 1" {
    run husk sbom no-such-image:1
    [ "$status" -eq 1 ]
    [ "${#lines[@]}" -eq 1 ]
    [ "${lines[0]}" = 'husk: error: no such image or container: "no-such-image:1"' ]
    run husk sbom
    [ "$status" -eq 125 ]
}
