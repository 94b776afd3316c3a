#!/usr/bin/env bats
# husk build --platform and BuildKit's predefined platform ARGs: this machine's platform,
# a stage FROM --platform=$BUILDPLATFORM, and another platform built with COPY/ADD only.

bats_require_minimum_version 1.5.0
load helpers

setup_file() { build_setup; }
teardown_file() { build_teardown; }
setup() {
    [ -n "${WORK:-}" ] || skip "no data root (see setup_file)"
    rm -rf "$CTX"
    mkdir -p "$CTX"
    case "$(uname -m)" in
        x86_64) HOST_ARCH=amd64 OTHER=linux/arm64 ;;
        aarch64) HOST_ARCH=arm64 OTHER=linux/amd64 ;;
        *) skip "no platform mapping for $(uname -m)" ;;
    esac
}

@test "--platform of this machine: FROM --platform=\$BUILDPLATFORM and the predefined ARGs" {
    cat >"$CTX/Dockerfile" <<'DF'
ARG BASE=husk/busybox
FROM --platform=$BUILDPLATFORM $BASE AS b
ARG TARGETPLATFORM
ARG TARGETOS
ARG TARGETARCH
ARG BUILDPLATFORM
ARG BUILDARCH
RUN echo "$BUILDPLATFORM $BUILDARCH -> $TARGETPLATFORM $TARGETOS $TARGETARCH" > /p
FROM $BASE
RUN echo "undeclared: [$TARGETARCH]" > /u
COPY --from=b /p /p
DF
    run husk build --network none --platform "linux/$HOST_ARCH" -t plat:host "$CTX"
    echo "$output"
    [ "$status" -eq 0 ]
    run -0 husk run --rm --network none plat:host cat /p /u
    [ "$output" = "linux/$HOST_ARCH $HOST_ARCH -> linux/$HOST_ARCH linux $HOST_ARCH
undeclared: []" ]
    run -0 husk image inspect -f '{{.Os}}/{{.Architecture}}' plat:host
    [ "$output" = "linux/$HOST_ARCH" ]
}

@test "another platform: COPY/ADD stages build and record it, RUN stages of the build platform feed them" {
    echo data >"$CTX/f"
    cat >"$CTX/Dockerfile" <<'DF'
FROM --platform=$BUILDPLATFORM husk/busybox AS tools
ARG TARGETARCH
RUN echo "made for $TARGETARCH" > /made
FROM scratch
COPY --from=tools /made /made
COPY f /f
DF
    run husk build --network none --platform "$OTHER" -t plat:other "$CTX"
    echo "$output"
    [ "$status" -eq 0 ]
    run -0 husk image inspect -f '{{.Os}}/{{.Architecture}}' plat:other
    [ "$output" = "$OTHER" ]
    husk create --name plat-other-c plat:other /made >/dev/null
    run -0 husk cp plat-other-c:/made -
    [[ "$output" == *"made for ${OTHER#linux/}"* ]]
    husk rm plat-other-c >/dev/null
    # the same Dockerfile for this machine is another cache entry, another image
    run -0 husk build -q --network none "$CTX"
    run -0 husk image inspect -f '{{.Architecture}}' "$output"
    [ "$output" = "$HOST_ARCH" ]
}

@test "RUN for a platform this machine cannot run: one line, nothing left" {
    printf 'FROM scratch\nCOPY f /f\nRUN /f\n' >"$CTX/Dockerfile"
    echo x >"$CTX/f"
    run husk build --network none --platform "$OTHER" "$CTX"
    echo "$output"
    [ "$status" -eq 1 ]
    [ "${lines[-1]}" = "husk: error: Dockerfile:3: RUN for $OTHER cannot run on this linux/$HOST_ARCH machine (husk has no emulation): only COPY and ADD build other platforms' stages" ]
    run husk build --platform linux/amd64,linux/arm64 "$CTX"
    [ "$status" -ne 0 ]
    [ "$output" = "husk: error: --platform=linux/amd64,linux/arm64: one platform at a time" ]
    [ -z "$(build_leftovers)" ]
}
