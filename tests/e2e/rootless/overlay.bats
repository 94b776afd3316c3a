#!/usr/bin/env bats
# Rootless container roots: the kernel's overlayfs mounted by the container's init inside
# its user namespace (userxattr), not a copy of the layers; layers unpacked by the user
# with their whiteouts and opaque directories as that overlay reads them.

load helpers

setup() { rootless_setup; }
teardown() { rootless_teardown; }

# Skips when this kernel refuses overlayfs in a user namespace (the copy then serves).
need_userns_overlay() {
    local f=$WORK/home-$1/.local/share/husk/userns-overlay
    [ -f "$f" ] || return 0
    if grep -q ' refused' "$f"; then skip "overlayfs in a user namespace refused: $(cut -d' ' -f3- "$f")"; fi
}

@test "a rootless container's root is overlayfs mounted in its user namespace, not a copy" {
    load_busybox "$RL_USER"
    local data=$WORK/home-$RL_USER/.local/share/husk
    run as "$RL_USER" "$HUSK" run --name ov --network none husk/busybox \
        sh -c 'echo hi >/new; awk "\$5 == \"/\" { for (i = 7; \$i != \"-\"; i++); print \$(i + 1) }" /proc/self/mountinfo'
    echo "$output"
    need_userns_overlay "$RL_USER"
    [ "$status" -eq 0 ]
    [ "$output" = overlay ]
    local id
    id=$(as "$RL_USER" "$HUSK" inspect --format '{{.Id}}' ov)
    [ "$(cat "$data/rootfs/$id/mode")" = overlay-userns ]
    # the change is in the upper directory, owned by the user; nothing mounted on the host
    [ "$(cat "$data/rootfs/$id/upper/new")" = hi ]
    [ "$(stat -c %U "$data/rootfs/$id/upper/new")" = "$RL_USER" ]
    [ -z "$(ls -A "$data/rootfs/$id/merged")" ]
    ! findmnt -rn -o TARGET | grep -q "^$data/" || false
    # started again, the change is still there
    run as "$RL_USER" "$HUSK" start -a ov
    [ "$output" = overlay ]
    # stopped, cp and export read it through a mount of their own
    as "$RL_USER" "$HUSK" cp ov:/new "$WORK/home-$RL_USER/copied"
    [ "$(cat "$WORK/home-$RL_USER/copied")" = hi ]
    [ "$(as "$RL_USER" "$HUSK" export ov | tar -t | grep -c -x -e new -e ./new)" = 1 ]
    run as "$RL_USER" "$HUSK" rm ov
    [ "$status" -eq 0 ]
    [ -z "$(ls -A "$data/rootfs")" ]
}

@test "whiteouts and opaque directories of layers unpacked by a user hide what they cover" {
    load_multilayer "$RL_BARE"
    run as "$RL_BARE" "$HUSK" run --rm --network none husk/ml \
        sh -c 'ls -A /d | tr "\n" " "; ls /gone; cat /a/f1; ls /gonedir 2>&1 >/dev/null || echo nogonedir'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"note: user $RL_BARE has no range"* ]]
    [[ "$output" == *"z "* ]]            # d is opaque in layer 2: its x and sub are gone
    [[ "$output" != *"x "* ]]
    [[ "$output" == *back* ]]            # gone: whited out, then a directory again
    [[ "$output" == *"one, changed"* ]]
    [[ "$output" == *nogonedir* ]]
}

@test "a rootless root's working directory, user and image volume are read through its overlay" {
    load_busybox "$RL_USER"
    # a new anonymous volume on /etc gets the image's /etc, read through the overlay
    run as "$RL_USER" "$HUSK" run --rm --network none -w /made/here -u nobody -v /etc \
        husk/busybox sh -c 'pwd; id -u; grep -c ^root: /etc/passwd; mount | grep -c " /etc "'
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = /made/here ]
    [ "${lines[1]}" = 65534 ]
    [ "${lines[2]}" = 1 ]
    [ "${lines[3]}" = 1 ]
}

@test "exec -u NAME resolves the user in the running container's root" {
    load_busybox "$RL_USER"
    as "$RL_USER" "$HUSK" run -d --name ex --network none husk/busybox sleep 1000 >/dev/null
    run as "$RL_USER" "$HUSK" exec -u nobody ex id -u
    [ "$status" -eq 0 ]
    [ "$output" = 65534 ]
    as "$RL_USER" "$HUSK" rm -f ex >/dev/null
}

@test "without a range, a layer's owners are kept in user.containers.override_stat" {
    load_multilayer "$RL_BARE"
    local data=$WORK/home-$RL_BARE/.local/share/husk f
    f=$(ls -d "$data"/snapshots/*/fs/home/user/owned)
    [ "$(stat -c %U "$f")" = "$RL_BARE" ]
    run python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.containers.override_stat").decode())' "$f"
    [ "$output" = 1000:1000:0644 ]
    run python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.containers.override_stat").decode())' \
        "$(dirname "$f")/dir"
    [ "$output" = 1000:100:0755 ]
    # root's files carry none
    run python3 -c 'import os, sys; print(os.listxattr(sys.argv[1]))' "$(dirname "$f")/../../etc/hostname"
    [ "$output" = "[]" ]
}

@test "a user's commit gives the layer the owners kept in user.containers.override_stat" {
    load_multilayer "$RL_BARE"
    need_userns_overlay "$RL_BARE"
    as "$RL_BARE" "$HUSK" run --name ow --network none husk/ml sh -c 'echo more >>/home/user/owned'
    run as "$RL_BARE" "$HUSK" commit ow rl/ow:1
    echo "$output"
    [ "$status" -eq 0 ]
    as "$RL_BARE" "$HUSK" save -o "$WORK/home-$RL_BARE/ow.tar" rl/ow:1
    run top_layer_entries "$WORK/home-$RL_BARE/ow.tar"
    echo "$output"
    # the owner the image gave it, not the user's (root in the container); no record itself
    grep -qx 'home/user/owned 1000:1000 0644' <<<"$output"
    [[ "$output" != *override_stat* ]]
    [[ "$output" != *user.overlay* ]]
}
