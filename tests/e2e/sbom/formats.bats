#!/usr/bin/env bats
# husk sbom's SPDX 2.3 and CycloneDX 1.5 documents, checked against the published schemas.
load helpers

setup() { images_setup; }
teardown() { images_teardown; }

@test "cyclonedx-json validates against the published CycloneDX 1.5 schema and carries every package" {
    need jq
    [ -f "$CDX_SCHEMA" ] || skip "no CycloneDX 1.5 schema at $CDX_SCHEMA (scripts/deps.sh installs @cyclonedx/cyclonedx-library from npm)"
    sbom_image alpine alpine:sbom
    husk sbom alpine:sbom --format cyclonedx-json -o "$WORK/a.cdx.json"
    validate "$CDX_SCHEMA" "$WORK/a.cdx.json"
    # the validator itself rejects a broken document
    jq '.components[1].type = "bogus"' "$WORK/a.cdx.json" >"$WORK/bad.cdx.json"
    run /usr/bin/python3 "$HUSK_SRC/tests/e2e/sbom/validate.py" "$CDX_SCHEMA" "$WORK/bad.cdx.json"
    [ "$status" -eq 1 ]
    [ "$(jqf "$WORK/a.cdx.json" '[.components[] | select(.type == "library") | .purl] | join(" ")')" = \
        "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1 pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1 pkg:apk/alpine/curl@8.5.0-r0?arch=x86_64&distro=alpine-3.19.1" ]
    [ "$(jqf "$WORK/a.cdx.json" '.components[] | select(.type == "operating-system") | .name + " " + .version')" = "alpine 3.19.1" ]
    [ "$(jqf "$WORK/a.cdx.json" '.components[] | select(.name == "curl") | .properties[] | select(.name == "husk:layer:index") | .value')" = 1 ]
    [ "$(jqf "$WORK/a.cdx.json" '.metadata.component.type')" = container ]
}

@test "spdx-json is an SPDX 2.3 document: every package contained by the image, purls as external refs" {
    need jq
    sbom_image alpine alpine:sbom
    husk sbom alpine:sbom --format spdx-json -o "$WORK/a.spdx.json"
    [ "$(jqf "$WORK/a.spdx.json" '.spdxVersion + " " + .dataLicense + " " + .SPDXID')" = "SPDX-2.3 CC0-1.0 SPDXRef-DOCUMENT" ]
    [ "$(jqf "$WORK/a.spdx.json" '.creationInfo.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")')" = true ]
    # SPDX ids unique and well-formed; every relationship names existing elements
    [ "$(jqf "$WORK/a.spdx.json" '[.packages[].SPDXID] | (unique | length) == length')" = true ]
    [ "$(jqf "$WORK/a.spdx.json" '[.packages[].SPDXID | test("^SPDXRef-[A-Za-z0-9.-]+$")] | all')" = true ]
    [ "$(jqf "$WORK/a.spdx.json" '([.packages[].SPDXID] + ["SPDXRef-DOCUMENT"]) as $ids | [.relationships[] | (.spdxElementId | IN($ids[])) and (.relatedSpdxElement | IN($ids[]))] | all')" = true ]
    [ "$(jqf "$WORK/a.spdx.json" '[.relationships[] | select(.relationshipType == "CONTAINS")] | length')" = 4 ]  # the OS + 3
    [ "$(jqf "$WORK/a.spdx.json" '.packages[] | select(.name == "curl") | .externalRefs[0].referenceLocator')" = \
        "pkg:apk/alpine/curl@8.5.0-r0?arch=x86_64&distro=alpine-3.19.1" ]
    [ -n "$SPDX_SCHEMA" ] || skip "no Debian or npm package ships the SPDX 2.3 JSON schema (set HUSK_SPDX_SCHEMA to validate against one); structure checked above"
    validate "$SPDX_SCHEMA" "$WORK/a.spdx.json"
}
