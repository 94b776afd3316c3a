#!/usr/bin/env bats
# husk build: what the built image holds and how it runs, as `husk run` shows it.

bats_require_minimum_version 1.5.0
load helpers

setup_file() { build_setup; }
teardown_file() { build_teardown; }
setup() { [ -n "${WORK:-}" ] || skip "no data root (see setup_file)"; rm -rf "$CTX"; mkdir -p "$CTX"; }

@test "multi-stage build: COPY --from, .dockerignore with an exception, ARG and ENV substitution" {
    mkdir -p "$CTX/sub"
    echo hello >"$CTX/a.txt"
    echo secret >"$CTX/skip.log"
    echo kept >"$CTX/keep.log"
    echo s >"$CTX/sub/s.txt"
    printf '*.log\n!keep.log\n' >"$CTX/.dockerignore"
    cat >"$CTX/Dockerfile" <<'DF'
ARG BASE=husk/busybox
FROM $BASE AS builder
ARG GREETING=hi
RUN echo "$GREETING from the builder" > /built.txt
FROM husk/busybox
ENV DIR=/app \
    MODE=prod
COPY --from=builder /built.txt ${DIR}/
COPY . $DIR/
COPY --chmod=600 a.txt ${DIR:-/x}/private
DF
    run husk build --network none -t multi:1 --build-arg GREETING=hey "$CTX"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Step 3/8 : RUN echo"* ]]
    [[ "$output" == *"Successfully tagged multi:1"* ]]
    run husk run --rm --network none multi:1 sh -c \
        'cat /app/built.txt; ls /app; stat -c %a /app/private; echo $MODE'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "hey from the builder" ]
    [[ "$output" == *"keep.log"* ]]
    [[ "$output" != *"skip.log"* ]]
    [[ "$output" == *"s.txt"* ]] || [[ "$output" == *"sub"* ]]
    [[ "$output" == *$'\n600\nprod'* ]]
}

@test "USER, WORKDIR, ENTRYPOINT, CMD, EXPOSE, LABEL and a RUN heredoc are what husk run and inspect see" {
    cat >"$CTX/Dockerfile" <<'DF'
FROM husk/busybox
RUN <<EOF
echo from-heredoc > /h
EOF
WORKDIR /srv/app
USER 1000:1000
EXPOSE 8080
LABEL org.example.kind=demo
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo $(id -u):$(id -g) $(pwd) $(cat /h)"]
DF
    run husk build -q --label built.by=test "$CTX"
    [ "$status" -eq 0 ]
    id=$output
    [[ "$id" == sha256:* ]]
    run husk run --rm --network none "$id"
    echo "$output"
    [ "$output" = "1000:1000 /srv/app from-heredoc" ]
    run husk image inspect "$id"
    [[ "$output" == *'"8080/tcp"'* ]]
    [[ "$output" == *'"org.example.kind": "demo"'* ]]
    [[ "$output" == *'"built.by": "test"'* ]]
}

@test "the build cache: a second build is all cached, one changed file rebuilds from its COPY" {
    echo one >"$CTX/a.txt"
    echo two >"$CTX/b.txt"
    cat >"$CTX/Dockerfile" <<'DF'
FROM husk/busybox
RUN echo base > /base
COPY a.txt /a.txt
RUN cat /a.txt > /copy-of-a
COPY b.txt /b.txt
DF
    run husk build --network none -t cached "$CTX"
    [ "$status" -eq 0 ]
    first=$(image_id cached)
    run husk build --network none -t cached "$CTX"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(grep -c -- '---> Using cache' <<<"$output")" -eq 4 ]
    [ "$(image_id cached)" = "$first" ]
    echo changed >"$CTX/a.txt"
    run husk build --network none -t cached "$CTX"
    echo "$output"
    [ "$(grep -c -- '---> Using cache' <<<"$output")" -eq 1 ]   # only the first RUN
    run husk run --rm --network none cached cat /copy-of-a
    [ "$output" = "changed" ]
}

@test "a failing RUN names its Dockerfile line and leaves no image, container or mount" {
    cat >"$CTX/Dockerfile" <<'DF'
FROM husk/busybox

# comment
RUN echo ok
RUN echo about to fail; \
    exit 2
RUN echo never
DF
    images_before=$(husk images -a -q | sort)
    run husk build --network none -t broken "$CTX"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"Dockerfile:5: RUN returned exit code 2"* ]]
    [[ "$output" != *"Step 4/4"* ]]
    run husk image inspect broken
    [ "$status" -ne 0 ]
    [ "$(husk images -a -q | wc -l)" -eq "$(($(wc -l <<<"$images_before") + 1))" ]  # only the first RUN
    [ -z "$(build_leftovers)" ]
}

@test "bad input: unknown instruction, ADD of a URL, missing source: one line each, nothing left" {
    printf 'FROM husk/busybox\nFOO bar\n' >"$CTX/Dockerfile"
    run husk build "$CTX"
    [ "$status" -eq 1 ]
    [ "$output" = "husk: error: Dockerfile:2: unknown instruction: FOO" ]
    printf 'FROM husk/busybox\nADD https://example.com/x /x\n' >"$CTX/Dockerfile"
    run husk build "$CTX"
    [ "$status" -eq 1 ]
    [[ "$output" == *"Dockerfile:2: ADD of a URL"*"not supported"* ]]
    printf 'FROM husk/busybox\nCOPY nothere /x\n' >"$CTX/Dockerfile"
    run husk build "$CTX"
    [ "$status" -eq 1 ]
    [[ "$output" == *'Dockerfile:2: "nothere": not found in the build context'* ]]
    [ -z "$(build_leftovers)" ]
}

@test "reproducible: --no-cache with SOURCE_DATE_EPOCH twice gives the same image digest" {
    echo data >"$CTX/f"
    cat >"$CTX/Dockerfile" <<'DF'
FROM husk/busybox
COPY f /f
RUN mkdir -p /out && echo built > /out/x && touch /out/y
ENV A=1
DF
    export SOURCE_DATE_EPOCH=1700000000
    run husk build -q --no-cache --network none "$CTX"
    [ "$status" -eq 0 ]
    one=$output
    run husk build -q --no-cache --network none "$CTX"
    [ "$status" -eq 0 ]
    [ "$output" = "$one" ]
}

@test "commit and diff: a container's changes become an image that runs with them" {
    run husk run --name build-e2e-commit --network none husk/busybox \
        sh -c 'echo hi > /tmp/x; rm /bin/ls; mkdir /newdir'
    [ "$status" -eq 0 ]
    run husk diff build-e2e-commit
    echo "$output"
    [ "$output" = $'C /bin\nD /bin/ls\nA /newdir\nC /tmp\nA /tmp/x' ]
    run husk commit -m "a change" -c 'CMD ["cat", "/tmp/x"]' -c 'ENV COMMITTED=yes' \
        build-e2e-commit committed:v1
    [ "$status" -eq 0 ]
    [[ "$output" == sha256:* ]]
    run husk run --rm --network none committed:v1
    [ "$output" = "hi" ]
    run husk run --rm --network none committed:v1 sh -c 'echo $COMMITTED; test -e /bin/ls || echo gone'
    [ "$output" = $'yes\ngone' ]
    run husk commit -c 'RUN echo' build-e2e-commit
    [ "$status" -ne 0 ]
    [[ "$output" == *"RUN is not a valid change command"* ]]
}

@test "commit keeps what run changed over the image: command, -e, -w, -u, --entrypoint, --label" {
    husk create --name build-e2e-cfg --network none -e GREETING=hello -w /tmp -u nobody \
        --label team=blue husk/busybox sh -c 'echo "$GREETING from $(pwd) as $(id -un)"' >/dev/null
    run -0 husk inspect -f '{{json .Config.Cmd}}|{{.Config.Entrypoint}}|{{.Config.WorkingDir}}|{{.Config.User}}' build-e2e-cfg
    [ "$output" = '["sh","-c","echo \"$GREETING from $(pwd) as $(id -un)\""]|<nil>|/tmp|nobody' ]
    husk commit build-e2e-cfg committed:cfg >/dev/null
    run -0 husk run --rm --network none committed:cfg
    [ "$output" = "hello from /tmp as nobody" ]
    run -0 husk image inspect -f '{{index .Config.Labels "team"}}' committed:cfg
    [ "$output" = blue ]
    # a new entrypoint drops the image's command; --change still has the last word
    husk create --name build-e2e-ep --network none --entrypoint /bin/echo husk/busybox >/dev/null
    husk commit -c 'CMD ["from", "change"]' build-e2e-ep committed:ep >/dev/null
    run -0 husk run --rm --network none committed:ep
    [ "$output" = "from change" ]
    run -0 husk image inspect -f '{{json .Config.Entrypoint}}' committed:ep
    [ "$output" = '["/bin/echo"]' ]
}

@test "commit keeps the ports a container exposes: -p and --expose with the image's, in inspect too" {
    printf 'FROM husk/busybox\nEXPOSE 7000\n' >"$CTX/Dockerfile"
    husk build -q -t exposes "$CTX" >/dev/null
    # created, never started: no network is set up, the ports are only recorded
    husk create --name build-e2e-ports -p 127.0.0.1::80 --expose 9000-9001/udp --expose 53 \
        exposes true >/dev/null
    run -0 husk inspect -f '{{json .Config.ExposedPorts}}' build-e2e-ports
    [ "$output" = '{"53/tcp":{},"7000/tcp":{},"80/tcp":{},"9000/udp":{},"9001/udp":{}}' ]
    husk commit build-e2e-ports committed:ports >/dev/null
    run -0 husk image inspect -f '{{json .Config.ExposedPorts}}' committed:ports
    [ "$output" = '{"53/tcp":{},"7000/tcp":{},"80/tcp":{},"9000/udp":{},"9001/udp":{}}' ]
    run husk create --expose 70000 exposes true
    [ "$status" -ne 0 ]
    [ "$output" = "husk: invalid range format for --expose: 70000" ]
}
