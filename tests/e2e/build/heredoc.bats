#!/usr/bin/env bats
# Heredocs in the Dockerfile, as BuildKit's frontend reads them: RUN bodies run by the
# shell or by a command, #! scripts, <<- and quoted delimiters, COPY's inline files.

bats_require_minimum_version 1.5.0
load helpers

setup_file() { build_setup; }
teardown_file() { build_teardown; }
setup() { [ -n "${WORK:-}" ] || skip "no data root (see setup_file)"; rm -rf "$CTX"; mkdir -p "$CTX"; }

@test "RUN heredocs: the body by the shell, by a command, a #! script, several, <<- and quoted" {
    tab=$'\t'
    cat >"$CTX/Dockerfile" <<DF
FROM husk/busybox
ENV WHO=world
RUN <<EOF
echo "hello \$WHO" > /simple
echo second line >> /simple
EOF
RUN sh <<EOF > /by-command
echo "run by a command for \$WHO"
EOF
RUN <<EOF
#!/bin/sh -e
echo "script \$0" > /script
EOF
RUN cat <<one > /several && cat <<'two' >> /several
first \$WHO
one
second \$WHO
two
RUN <<-EOF
${tab}${tab}echo stripped > /tabs
${tab}EOF
DF
    run husk build --network none -t heredocs "$CTX"
    echo "$output"
    [ "$status" -eq 0 ]
    run -0 husk run --rm --network none heredocs cat /simple /by-command /script /several /tabs
    echo "$output"
    [ "$output" = "hello world
second line
run by a command for world
script /dev/pipes/EOF
first world
second \$WHO
stripped" ]
    [ -z "$(build_leftovers)" ]  # the #! script's staging directory too
}

@test "COPY heredocs: inline files with --chmod and --chown, expanded unless quoted, beside context files" {
    echo from-context >"$CTX/ctx.txt"
    cat >"$CTX/Dockerfile" <<'DF'
FROM husk/busybox
ARG NAME=husk
COPY <<EOF /etc/greeting
hello $NAME "quoted"
EOF
COPY --chmod=750 --chown=1000:100 <<a.sh <<'b.txt' /dir/
echo a $NAME
a.sh
b $NAME
b.txt
WORKDIR /app
COPY <<EOF ctx.txt ./
inline
EOF
DF
    run husk build --network none -t copydocs "$CTX"
    echo "$output"
    [ "$status" -eq 0 ]
    run -0 husk run --rm --network none copydocs sh -c \
        'cat /etc/greeting; stat -c "%a %u:%g %n" /etc/greeting /dir/a.sh /dir/b.txt; cat /dir/a.sh /dir/b.txt; cat /app/EOF /app/ctx.txt'
    echo "$output"
    [ "$output" = 'hello husk "quoted"
644 0:0 /etc/greeting
750 1000:100 /dir/a.sh
750 1000:100 /dir/b.txt
echo a husk
b $NAME
inline
from-context' ]
    [ -z "$(build_leftovers)" ]
}

@test "the cache covers a heredoc's body: a changed body runs again, an unchanged one is reused" {
    printf 'FROM husk/busybox\nRUN <<EOF\necho one > /v\nEOF\nCOPY <<EOF /c\nc1\nEOF\n' >"$CTX/Dockerfile"
    run -0 husk build --network none -t docs-cache "$CTX"
    run -0 husk build --network none -t docs-cache "$CTX"
    [ "$(grep -c -- '---> Using cache' <<<"$output")" -eq 2 ]
    printf 'FROM husk/busybox\nRUN <<EOF\necho two > /v\nEOF\nCOPY <<EOF /c\nc2\nEOF\n' >"$CTX/Dockerfile"
    run -0 husk build --network none -t docs-cache "$CTX"
    echo "$output"
    [ "$(grep -c -- '---> Using cache' <<<"$output")" -eq 0 ]
    run -0 husk run --rm --network none docs-cache cat /v /c
    [ "$output" = $'two\nc2' ]
}

@test "ONBUILD with a heredoc: the body is kept in the image and run by the build FROM it" {
    cat >"$CTX/Dockerfile" <<'DF'
FROM husk/busybox
ONBUILD RUN <<EOF
echo "trigger ran" > /trig
echo second >> /trig
EOF
LABEL after=1
DF
    run husk build --network none -t heredoc-onbuild-base "$CTX"
    echo "$output"
    [ "$status" -eq 0 ]
    # the instruction after the heredoc is an instruction, not a line of the body
    [ "$(husk image inspect -f '{{index .Config.Labels "after"}}' heredoc-onbuild-base)" = 1 ]
    run -0 husk image inspect -f '{{json .Config.OnBuild}}' heredoc-onbuild-base
    [ "$output" = '["RUN <<EOF\necho \"trigger ran\" > /trig\necho second >> /trig\nEOF"]' ]
    printf 'FROM heredoc-onbuild-base\n' >"$CTX/Dockerfile"
    run husk build --network none -t heredoc-onbuild-child "$CTX"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"# Executing 1 build trigger"* ]]
    run -0 husk run --rm --network none heredoc-onbuild-child cat /trig
    [ "$output" = "$(printf 'trigger ran\nsecond')" ]
    husk rmi heredoc-onbuild-child heredoc-onbuild-base >/dev/null
}

@test "heredoc errors: unterminated, a heredoc as COPY's destination; one line, nothing left" {
    printf 'FROM husk/busybox\nRUN <<EOF\necho never ends\n' >"$CTX/Dockerfile"
    run husk build "$CTX"
    [ "$status" -eq 1 ]
    [ "$output" = "husk: error: Dockerfile:2: unterminated heredoc <<EOF" ]
    printf 'FROM husk/busybox\nCOPY x <<EOF\nbody\nEOF\n' >"$CTX/Dockerfile"
    run husk build "$CTX"
    [ "$status" -eq 1 ]
    echo "$output"
    [ "${lines[-1]}" = "husk: error: Dockerfile:2: COPY cannot accept a heredoc as a destination" ]
    [ -z "$(build_leftovers)" ]
}
