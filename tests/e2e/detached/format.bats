#!/usr/bin/env bats
# --format templates and shell completion on real containers, images and volumes.
# (The template engine's cases are unit tests: tests/unit/cli_template_test.cpp.)
load helpers

setup_file() { detached_setup; }
teardown_file() { detached_teardown; }

@test "ps --format 'table ...' prints docker's header row and aligned columns" {
    husk create --name fmt-web husk/busybox sleep 1 >/dev/null
    run husk ps -a --format 'table {{.Names}}\t{{.State}}\t{{.Image}}'
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "NAMES     STATE     IMAGE" ]
    [ "${lines[1]}" = "fmt-web   created   husk/busybox" ]
    run husk ps -a --format '{{.Names | upper}} {{if eq .State "created"}}new{{end}}'
    [ "$output" = "FMT-WEB new" ]
}

@test "inspect -f and image inspect -f run Go templates over the documents" {
    husk create --name fmt-args husk/busybox echo a b >/dev/null
    run husk inspect -f '{{join .Args ","}}|{{len .Args}}|{{json .Config.Cmd}}' fmt-args
    [ "$status" -eq 0 ]
    [ "$output" = 'a,b|2|["echo","a","b"]' ]
    run husk image inspect -f '{{.Os}}/{{.Architecture}}' husk/busybox
    [ "$status" -eq 0 ]
    [ "$output" = "linux/$(husk image inspect -f '{{.ImageConfig.architecture}}' husk/busybox)" ]
    # a bad template: one line naming the position, exit non-zero, nothing printed
    run husk inspect -f '{{.State.Nope}}' fmt-args
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *'template: :1:3: executing at <.State.Nope>: map has no entry for key "Nope"'* ]]
}

@test "images and volume ls take templates" {
    husk volume create fmt-vol >/dev/null
    run husk volume ls --format '{{.Driver}}:{{.Name}}'
    [ "$output" = "local:fmt-vol" ]
    run husk images --format '{{.Repository}}:{{.Tag}}'
    [ "$output" = "husk/busybox:latest" ]
    run husk images --format json
    [[ "$output" == '{"Containers":"N/A",'*'"Repository":"husk/busybox",'*'"Tag":"latest",'* ]]
}

@test "history and network ls take 'table' templates: a header row, then the rows" {
    run -0 husk history --format 'table {{.ID}}\t{{.Size}}' husk/busybox
    [[ "${lines[0]}" =~ ^IMAGE\ +SIZE$ ]]
    [[ "${lines[1]}" == "$(husk images -q)"* ]]
    run -0 husk history --format '{{.ID}}' husk/busybox
    [ "${lines[0]}" = "$(husk images -q)" ]
    run -0 husk network ls --format 'table {{.Name}}\t{{.Driver}}'
    [[ "${lines[0]}" =~ ^NAME\ +DRIVER$ ]]
}

@test "docker's {{.Label KEY}} on ps, volume ls and network ls rows; {{.Labels}} as text" {
    husk create --name fmt-lbl --label team=a --label tier=web husk/busybox true >/dev/null
    run -0 husk ps -a --filter name=fmt-lbl --format '{{.Label "tier"}}|{{.Label "none"}}|{{.Labels}}'
    [ "$output" = "web||team=a,tier=web" ]
    run -0 husk ps -a --filter name=fmt-lbl --format 'table {{.Names}}\t{{.Label "team"}}'
    [[ "${lines[0]}" =~ ^NAMES\ +team$ ]]  # docker's title: the key's last dotted part
    [[ "${lines[1]}" =~ ^fmt-lbl\ +a$ ]]
    husk volume create --label team=b fmt-lvol >/dev/null
    run -0 husk volume ls --format '{{.Name}} {{.Label "team"}} {{.Labels}}'
    [[ "$output" == *"fmt-lvol b team=b"* ]]
    husk network create --label team=c fmt-lnet >/dev/null
    run -0 husk network ls --format '{{.Name}}={{.Label "team"}} {{.IPv6}}'
    [[ "$output" == *"fmt-lnet=c false"* ]]
    husk network rm fmt-lnet >/dev/null
    # a method called without its argument: Go's one line, exit non-zero
    run husk ps -a --format '{{.Label}}'
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"wrong number of args for Label: want 1 got 0"* ]]
}

@test "the bash completion script completes commands, flags and a container's name" {
    husk create --name fmt-complete-me husk/busybox true >/dev/null
    mkdir -p "$WORK/bin"
    ln -sf "$HUSK" "$WORK/bin/husk"
    # shellcheck disable=SC2016
    run env PATH="$WORK/bin:$PATH" bash -c '
        source <(husk completion bash)
        complete -p husk
        COMP_WORDS=(husk --root "$1" start fmt-comp); COMP_CWORD=4; _husk
        echo "start: ${COMPREPLY[*]}"
        COMP_WORDS=(husk --root "$1" top fmt-comp); COMP_CWORD=4; _husk
        echo "top: ${COMPREPLY[*]}"
        COMP_WORDS=(husk --root "$1" image in); COMP_CWORD=4; _husk
        echo "image: ${COMPREPLY[*]}"
        COMP_WORDS=(husk ps --a); COMP_CWORD=2; _husk
        echo "ps: ${COMPREPLY[*]}"
        COMP_WORDS=(husk --root "$1" run husk/); COMP_CWORD=4; _husk
        echo "run: ${COMPREPLY[*]}"
        COMP_WORDS=(husk --root "$1" run husk/busybox ""); COMP_CWORD=5; _husk
        echo "run args: ${COMPREPLY[*]}"' _ "$ROOT"
    [ "$status" -eq 0 ]
    [[ "$output" == *"complete -F _husk husk"* ]]
    [[ "$output" == *"start: fmt-complete-me"* ]]
    [[ "$output" == *"top: fmt-complete-me"* ]]  # a container, though top passes the rest to ps
    [[ "$output" == *"image: inspect"* ]]
    [[ "$output" == *"ps: --all"* ]]
    [[ "$output" == *"run: husk/busybox:latest"* ]]
    [[ "$output" == *"run args: "$'\n'* || "$output" == *"run args: " ]]
}

@test "completion scripts for zsh and fish come from the same table" {
    run husk completion fish
    [ "$status" -eq 0 ]
    [[ "$output" == *"complete -c husk -n '__fish_use_subcommand' -a ps"* ]]
    [[ "$output" == *"complete -c husk -n '__fish_seen_subcommand_from start' -a '(husk __complete containers)'"* ]]
    run husk completion zsh
    [[ "$output" == *"bashcompinit"*"complete -F _husk husk"* ]]
    run husk completion tcsh
    [ "$status" -eq 125 ]
}
