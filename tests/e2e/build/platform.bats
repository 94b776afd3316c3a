#!/usr/bin/env bats
# husk build --platform and BuildKit's predefined platform ARGs: this machine's platform,
# a stage FROM --platform=$BUILDPLATFORM, another platform built with COPY/ADD, and RUN of
# another platform through the kernel's binfmt_misc (qemu-user-static's handlers).

bats_require_minimum_version 1.5.0
load helpers
load ../images/helpers  # start_registry

setup_file() { build_setup; }
teardown_file() {
    local pid
    for pid in "${WORK:-/nonexistent}"/reg-*/pid; do
        [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null
    done
    build_teardown
}
setup() {
    [ -n "${WORK:-}" ] || skip "no data root (see setup_file)"
    rm -rf "$CTX"
    mkdir -p "$CTX"
    index_platforms
    OTHER=linux/$OTHER_ARCH
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

# husk in a mount namespace of its own whose /proc/sys/fs/binfmt_misc is an empty tmpfs
# ("not mounted"), or one whose status says enabled and that has no handler.
without_binfmt() {
    local how=$1
    shift
    unshare -m --propagation private sh -c '
        mount -t tmpfs none /proc/sys/fs/binfmt_misc || exit 99
        [ "$0" = none ] || echo enabled >/proc/sys/fs/binfmt_misc/status
        exec "$@"' "$how" python3 "$HUSK_SRC/scripts/subreaper.py" "$HUSK" --root "$ROOT" "$@"
}

@test "RUN for a platform this machine has no emulator for: one line saying what to install, nothing left" {
    printf 'FROM scratch\nCOPY f /f\nRUN /f\n' >"$CTX/Dockerfile"
    echo x >"$CTX/f"
    run without_binfmt handlers build --network none --platform "$OTHER" "$CTX"
    echo "$output"
    [ "$status" -ne 99 ] || skip "cannot mount a tmpfs over /proc/sys/fs/binfmt_misc"
    [ "$status" -eq 1 ]
    [ "${lines[-1]}" = "husk: error: Dockerfile:3: RUN for $OTHER cannot run on this linux/$HOST_ARCH machine: no binfmt_misc handler runs $OTHER programs (install qemu-user-static and binfmt-support)" ]
    run without_binfmt none build --network none --platform "$OTHER" "$CTX"
    [ "$status" -eq 1 ]
    [ "${lines[-1]}" = "husk: error: Dockerfile:3: RUN for $OTHER cannot run on this linux/$HOST_ARCH machine: /proc/sys/fs/binfmt_misc is not mounted (mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc, then install qemu-user-static and binfmt-support)" ]
    run husk build --platform linux/amd64,linux/amd64 "$CTX"
    [ "$status" -ne 0 ]
    [ "$output" = "husk: error: --platform=linux/amd64,linux/amd64: linux/amd64 given twice" ]
    # arm64's variant is v8 when none is given: the same platform twice
    run husk build --platform linux/arm64,linux/arm64/v8 "$CTX"
    [ "$status" -ne 0 ]
    [ "$output" = "husk: error: --platform=linux/arm64,linux/arm64/v8: linux/arm64/v8 given twice" ]
    run husk build --platform linux/amd64, "$CTX"
    [ "$status" -ne 0 ]
    [ "$output" = "husk: error: --platform=linux/amd64,: invalid platform \"\": expected os/arch[/variant]" ]
    [ -z "$(build_leftovers)" ]
}

# The other platform's busybox image (Debian's busybox-static of that architecture) and a
# binfmt_misc handler with the F flag for it: registered here when the package did not.
emulation_setup() {
    command -v update-binfmts >/dev/null && [ -x /usr/bin/qemu-$OTHER_UNAME-static ] ||
        skip "qemu-user-static and binfmt-support are not installed (scripts/deps.sh installs them)"
    local bf=/proc/sys/fs/binfmt_misc
    if [ ! -e $bf/status ]; then
        mount -t binfmt_misc binfmt_misc $bf 2>/dev/null || skip "the kernel refuses to mount binfmt_misc"
    fi
    local h=$bf/qemu-$OTHER_UNAME
    [ -e $h ] && grep -qx enabled $h || update-binfmts --enable qemu-$OTHER_UNAME >/dev/null 2>&1 ||
        skip "update-binfmts --enable qemu-$OTHER_UNAME failed: the kernel refuses the handler"
    grep -qx enabled $h || skip "the binfmt_misc handler qemu-$OTHER_UNAME is not enabled"
    grep -q '^flags: .*F' $h || skip "the binfmt_misc handler qemu-$OTHER_UNAME has no F flag"
    OTHER_IMAGE=husk/busybox-${OTHER#linux/}
    husk image inspect "$OTHER_IMAGE" >/dev/null 2>&1 && return
    run bash "$HUSK_SRC/scripts/make-busybox-image.sh" --root "$ROOT" --husk "$HUSK" \
        --arch "${OTHER#linux/}"
    [ "$status" -ne 77 ] || skip "no busybox-static of ${OTHER#linux/}: $output"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "RUN for another platform through binfmt_misc; husk run --platform of its image" {
    emulation_setup
    cat >"$CTX/Dockerfile" <<DF
FROM $OTHER_IMAGE
ARG TARGETARCH
RUN uname -m > /m && echo "\$TARGETARCH" > /targetarch
DF
    run husk build --network none --platform "$OTHER" -t plat:emulated "$CTX"
    echo "$output"
    [ "$status" -eq 0 ]
    run -0 husk image inspect -f '{{.Os}}/{{.Architecture}}' plat:emulated
    [ "$output" = "$OTHER" ]
    run -0 husk run --rm --network none --platform "$OTHER" plat:emulated cat /m /targetarch
    [ "$output" = "$OTHER_UNAME
${OTHER#linux/}" ]
    # without --platform the image's own platform runs too, as with podman
    run -0 husk run --rm --network none plat:emulated uname -m
    [ "$output" = "$OTHER_UNAME" ]
    # no handler: one line naming the platform and what to install
    run without_binfmt handlers run --rm --network none plat:emulated true
    [ "$status" -ne 99 ] || skip "cannot mount a tmpfs over /proc/sys/fs/binfmt_misc"
    [ "$status" -eq 125 ]
    [ "$output" = "husk: image \"plat:emulated\" ($OTHER) cannot run on this linux/$HOST_ARCH machine: no binfmt_misc handler runs $OTHER programs (install qemu-user-static and binfmt-support)" ]
    [ -z "$(build_leftovers)" ]
}

# A Dockerfile FROM husk/busybox-$TARGETARCH (this machine's busybox tagged so, or the other
# platform's) ending in the RUN given: per_platform_dockerfile 'RUN ...'
per_platform_dockerfile() {
    husk tag husk/busybox "husk/busybox-$HOST_ARCH"
    printf 'ARG TARGETARCH\nFROM husk/busybox-$TARGETARCH\nARG TARGETPLATFORM\n%s\n' "$1" >"$CTX/Dockerfile"
}

@test "several platforms in one build: an index; run, inspect, push and save/load take it whole" {
    emulation_setup
    per_platform_dockerfile 'RUN echo "$TARGETPLATFORM $(uname -m)" > /built'
    none_before=$(husk images --format '{{.Repository}}' | grep -c '<none>' || true)
    run husk build --network none --platform "linux/$HOST_ARCH,$OTHER" -t plat:multi "$CTX"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = "Successfully tagged plat:multi" ]
    run -0 husk image inspect -f '{{.Architecture}}' plat:multi
    [ "$output" = "$HOST_ARCH" ]
    run -0 sh -c "python3 '$HUSK_SRC/scripts/subreaper.py' '$HUSK' --root '$ROOT' image inspect plat:multi |
        jq -r '.[0].Index.manifests[] | .platform.os + \"/\" + .platform.architecture'"
    [ "$output" = "linux/$HOST_ARCH
$OTHER" ]
    run -0 husk run --rm --network none plat:multi cat /built
    [ "$output" = "linux/$HOST_ARCH $(uname -m)" ]
    # run --platform writes nothing to the store's index, and its container records the
    # reference given (the platform's image its id)
    idx_before=$(cat "$ROOT/index.json")
    run -0 husk run --rm --network none --platform "$OTHER" plat:multi cat /built
    [ "$output" = "$OTHER $OTHER_UNAME" ]
    run -0 husk create --network none --platform "$OTHER" plat:multi true
    cid=$output
    [ "$(cat "$ROOT/index.json")" = "$idx_before" ]
    run -0 husk inspect -f '{{.Config.Image}}' "$cid"
    [ "$output" = plat:multi ]
    # its image is the other platform's, resolved by id though no record names it
    run -0 husk image inspect -f '{{.Architecture}}' "$(husk inspect -f '{{.Image}}' "$cid")"
    [ "$output" = "$OTHER_ARCH" ]
    husk rm "$cid" >/dev/null
    run -0 husk images --format '{{.Repository}}:{{.Tag}}'
    [ "$(grep -c '^plat:multi$' <<<"$output")" = 1 ]
    [ "$(grep -c '<none>' <<<"$output" || true)" = "$none_before" ]  # the platforms' images hidden
    # the cache is per platform: a second build reuses every step of both
    run -0 husk build --network none --platform "linux/$HOST_ARCH,$OTHER" -t plat:multi2 "$CTX"
    [ "$(grep -c 'Using cache' <<<"$output")" -ge 4 ]
    [ "$(husk image inspect -f '{{.Id}}' plat:multi2)" = "$(husk image inspect -f '{{.Id}}' plat:multi)" ]

    # push: the index, every platform's manifest and blobs
    command -v docker-registry >/dev/null && command -v skopeo >/dev/null ||
        skip "docker-registry and skopeo are not installed (scripts/deps.sh installs them)"
    start_registry plat
    husk tag plat:multi "$REG_plat/multi:1"
    run husk push --tls-verify=false "$REG_plat/multi:1"
    echo "$output"
    [ "$status" -eq 0 ]
    run -0 sh -c "skopeo inspect --tls-verify=false --raw docker://$REG_plat/multi:1 |
        jq -r '.mediaType, (.manifests[] | .platform.architecture)'"
    [ "$output" = "application/vnd.oci.image.index.v1+json
$HOST_ARCH
${OTHER#linux/}" ]
    skopeo copy -q --src-tls-verify=false --override-arch "${OTHER#linux/}" \
        "docker://$REG_plat/multi:1" "oci:$WORK/other-layout:x"
    run -0 sh -c "cd $WORK/other-layout && m=\$(jq -r '.manifests[0].digest' index.json) &&
        c=\$(jq -r .config.digest blobs/sha256/\${m#sha256:}) && jq -r .architecture blobs/sha256/\${c#sha256:}"
    [ "$output" = "${OTHER#linux/}" ]
    # a pull into a fresh root gets this machine's platform of the index
    run -0 "$HUSK" --root "$WORK/root2" pull -q --tls-verify=false "$REG_plat/multi:1"
    run -0 python3 "$HUSK_SRC/scripts/subreaper.py" "$HUSK" --root "$WORK/root2" run --rm --network none "$REG_plat/multi:1" cat /built
    [ "$output" = "linux/$HOST_ARCH $(uname -m)" ]

    # save/load: every platform comes along
    husk save -o "$WORK/multi.tar" plat:multi
    run -0 "$HUSK" --root "$WORK/root3" load -i "$WORK/multi.tar"
    run -0 python3 "$HUSK_SRC/scripts/subreaper.py" "$HUSK" --root "$WORK/root3" run --rm --network none --platform "$OTHER" plat:multi cat /built
    [ "$output" = "$OTHER $OTHER_UNAME" ]
    run -0 python3 "$HUSK_SRC/scripts/subreaper.py" "$HUSK" --root "$WORK/root3" run --rm --network none plat:multi cat /built
    [ "$output" = "linux/$HOST_ARCH $(uname -m)" ]
    for r in "$WORK/root2" "$WORK/root3"; do
        [ -z "$(findmnt -rn -o TARGET | grep "^$r/")" ]
    done
    [ -z "$(build_leftovers)" ]
}

# A data root of its own: h ROOT ARGS...
h() {
    local r=$1
    shift
    python3 "$HUSK_SRC/scripts/subreaper.py" "$HUSK" --root "$r" "$@"
}

@test "image prune keeps every platform of a multi-platform image: built, loaded, pushed" {
    emulation_setup
    command -v docker-registry >/dev/null && command -v skopeo >/dev/null ||
        skip "docker-registry and skopeo are not installed (scripts/deps.sh installs them)"
    per_platform_dockerfile 'RUN echo "kept $TARGETPLATFORM" > /p'
    run husk build --network none --platform "linux/$HOST_ARCH,$OTHER" -t plat:keep "$CTX"
    echo "$output"
    [ "$status" -eq 0 ]
    # the other platform's entry is unnamed: prune must not take it for a dangling image
    run -0 husk image prune -f
    echo "$output"
    run -0 husk run --rm --network none --platform "$OTHER" plat:keep cat /p
    [ "$output" = "kept $OTHER" ]
    # loaded from an archive the other platform has no entry at all; prune -a with the
    # image kept by a container keeps both
    husk save -o "$WORK/keep.tar" plat:keep
    r=$WORK/root-keep
    h "$r" load -i "$WORK/keep.tar" >/dev/null
    h "$r" create --name keep-c plat:keep true >/dev/null
    run -0 h "$r" image prune -a -f
    echo "$output"
    run -0 h "$r" run --rm --network none --platform "$OTHER" plat:keep cat /p
    [ "$output" = "kept $OTHER" ]
    run -0 h "$r" run --rm --network none plat:keep cat /p
    [ "$output" = "kept linux/$HOST_ARCH" ]
    start_registry keep
    h "$r" tag plat:keep "$REG_keep/keep:1"
    run h "$r" push --tls-verify=false "$REG_keep/keep:1"
    echo "$output"
    [ "$status" -eq 0 ]
    run -0 sh -c "skopeo inspect --tls-verify=false --raw docker://$REG_keep/keep:1 |
        jq -r '.manifests[] | .platform.architecture'"
    [ "$output" = "$HOST_ARCH
${OTHER#linux/}" ]
    h "$r" rm keep-c >/dev/null
    [ -z "$(findmnt -rn -o TARGET | grep "^$r/")" ]
}

@test "a build FROM an index pulls the other platform without moving the tag; FROM then gets this machine's" {
    emulation_setup
    command -v docker-registry >/dev/null && command -v skopeo >/dev/null ||
        skip "docker-registry and skopeo are not installed (scripts/deps.sh installs them)"
    per_platform_dockerfile 'RUN echo "base $TARGETPLATFORM" > /base'
    run husk build --network none --platform "linux/$HOST_ARCH,$OTHER" -t plat:base "$CTX"
    echo "$output"
    [ "$status" -eq 0 ]
    start_registry base
    husk tag plat:base "$REG_base/base:1"
    run -0 husk push --tls-verify=false "$REG_base/base:1"
    # a fresh root holds this machine's platform of it only
    r=$WORK/root-base
    run -0 h "$r" pull -q --tls-verify=false "$REG_base/base:1"
    cat >"$CTX/Dockerfile" <<DF
FROM $REG_base/base:1
COPY f /f
DF
    echo f >"$CTX/f"
    run h "$r" build --network none --tls-verify=false --platform "linux/$HOST_ARCH,$OTHER" -t plat:on "$CTX"
    echo "$output"
    [ "$status" -eq 0 ]
    run -0 h "$r" image inspect -f '{{.Architecture}}' "$REG_base/base:1"
    [ "$output" = "$HOST_ARCH" ]
    run -0 h "$r" build -q --network none --tls-verify=false "$CTX"
    run -0 h "$r" image inspect -f '{{.Architecture}}' "$output"
    [ "$output" = "$HOST_ARCH" ]
    run -0 h "$r" run --rm --network none plat:on cat /base
    [ "$output" = "base linux/$HOST_ARCH" ]
    run -0 h "$r" run --rm --network none --platform "$OTHER" plat:on cat /base
    [ "$output" = "base $OTHER" ]
}
