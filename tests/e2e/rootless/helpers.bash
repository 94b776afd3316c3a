# Shared by the rootless e2e tests: two unprivileged users made for the test, RL_USER with
# a /etc/subuid and /etc/subgid range of 65536 ids and RL_BARE without one, each with a
# home and a private XDG_RUNTIME_DIR under $WORK; removed with their files by
# rootless_teardown.

: "${HUSK:?HUSK must name the husk binary}"
: "${HUSK_SRC:?HUSK_SRC must name the source tree}"
: "${HUSK_RUNTIME:=$(dirname "$HUSK")/../../../bin/husk-runtime}"

load ../eventually

# Why this kernel cannot run unprivileged user namespaces, or nothing.
userns_refused() {
    local f=/proc/sys/kernel/unprivileged_userns_clone
    [ -r $f ] && [ "$(cat $f)" = 0 ] && { echo "$f is 0"; return; }
    f=/proc/sys/user/max_user_namespaces
    [ -r $f ] && [ "$(cat $f)" = 0 ] && { echo "$f is 0"; return; }
    true
}

# useradd NAME with a home under $WORK and a runtime directory; prints nothing.
make_user() {
    local name=$1
    # under the id files' lock (edit_subids): useradd writes /etc/subuid and /etc/subgid too
    flock /run/husk-tests-subid.lock useradd -M -d "$WORK/home-$name" -s /bin/sh "$name"
    mkdir -p "$WORK/home-$name" "$WORK/xdg-$name"
    chown "$name:" "$WORK/home-$name" "$WORK/xdg-$name"
    chmod 700 "$WORK/home-$name" "$WORK/xdg-$name"
    USERS+=("$name")
}

rootless_setup() {
    [ "$(id -u)" = 0 ] || skip "making the test users needs root"
    local why
    why=$(userns_refused)
    [ -z "$why" ] || skip "the kernel refuses unprivileged user namespaces: $why"
    [ -x /bin/busybox ] || skip "busybox-static is not installed (scripts/deps.sh installs it)"
    command -v useradd >/dev/null || skip "useradd is missing"
    WORK=$(mktemp -d /tmp/rootless-e2e-XXXXXX)
    chmod 755 "$WORK"
    export WORK
    USERS=()
    # Short unique names (32 characters at most): the test's pid.
    RL_USER=hrl$$a
    RL_BARE=hrl$$b
    make_user "$RL_USER"
    make_user "$RL_BARE"
    # Debian's useradd gives each new user a range (SUB_UID_COUNT): RL_BARE must have none.
    edit_subids "/etc/subuid /etc/subgid" "$RL_BARE"
    if ! grep -q "^$RL_USER:" /etc/subuid || ! grep -q "^$RL_USER:" /etc/subgid; then
        # A range of its own, far above any real uid.
        set_ranges "$RL_USER" $((1000000 + ($(id -u "$RL_USER") % 30000) * 65536))
    fi
    RL_SUBID=$(grep "^$RL_USER:" /etc/subuid | head -1 | cut -d: -f2)
}

rootless_teardown() {
    [ -n "${WORK:-}" ] || return 0
    local u
    for u in "${USERS[@]}"; do
        # the users' containers: removed as they would remove them
        as "$u" "$HUSK" ps -aq 2>/dev/null | while read -r id; do
            as "$u" "$HUSK" rm -f "$id" >/dev/null 2>&1 || true
        done
        # what a test left running as the user (a created container's init)
        ps -o pid= -u "$u" | xargs -r kill -9 2>/dev/null || true
        # the runtime directory made in /tmp when XDG_RUNTIME_DIR is unset
        rm -rf "/tmp/husk-run-$(id -u "$u" 2>/dev/null || echo none)"
        flock /run/husk-tests-subid.lock userdel "$u" 2>/dev/null || true
        edit_subids "/etc/subuid /etc/subgid" "$u"
    done
    findmnt -rn -o TARGET | grep "^$WORK/" | sort -r | while read -r m; do umount -l "$m"; done
    rm -rf "$WORK"
}

# as USER CMD...: CMD as USER with its own HOME and XDG_RUNTIME_DIR, in $WORK.
as() {
    local u=$1
    shift
    (cd "$WORK" && runuser -u "$u" -- env -i PATH=/usr/bin:/bin HOME="$WORK/home-$u" \
        XDG_RUNTIME_DIR="$WORK/xdg-$u" "$@")
}

# as_exec USER CMD...: CMD as USER with the environment `as` gives it, in $WORK, exec'd in
# place of the calling shell (setpriv and env exec too): run as a background job,
# `as_exec U CMD... &`, $! is CMD itself, so that a kill -9 of $! hits it (`as ... &`
# leaves $! a subshell whose runuser and CMD live on). Refused in the test's own shell.
as_exec() {
    local u=$1 uid gid
    shift
    [ "$BASHPID" != "$$" ] || { echo "as_exec: only in a background job or a subshell" >&2; return 1; }
    uid=$(id -u "$u") && gid=$(id -g "$u") || return 1
    cd "$WORK" || return 1
    exec setpriv --reuid="$uid" --regid="$gid" --init-groups env -i PATH=/usr/bin:/bin \
        HOME="$WORK/home-$u" XDG_RUNTIME_DIR="$WORK/xdg-$u" "$@"
}

# A bundle owned by USER at DIR: busybox with an applet link each, and a config.json
# from `husk-runtime spec --rootless` whose process runs ARGS without a terminal.
rootless_bundle() {
    local u=$1 dir=$2
    shift 2
    mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" "$dir/rootfs/tmp"
    cp /bin/busybox "$dir/rootfs/bin/busybox"
    for a in $(/bin/busybox --list); do
        [ -e "$dir/rootfs/bin/$a" ] || ln -s busybox "$dir/rootfs/bin/$a"
    done
    chown -R "$u:" "$dir"
    (cd "$dir" && as "$u" sh -c "cd '$dir' && '$HUSK_RUNTIME' spec --rootless")
    local args
    args=$(printf '%s\n' "$@" | jq -R . | jq -s -c .)
    jq --argjson a "$args" '.process.terminal = false | .process.args = $a' "$dir/config.json" \
        >"$dir/config.new"
    mv "$dir/config.new" "$dir/config.json"
    chown "$u:" "$dir/config.json"
}

# husk/busybox loaded into USER's own store (its default data root), as that user.
load_busybox() {
    local u=$1
    [ -f "$WORK/bb.tar" ] ||
        bash "$HUSK_SRC/scripts/make-busybox-image.sh" --root "$WORK/build-root" --husk "$HUSK" \
            -o "$WORK/bb.tar" >/dev/null
    chmod 644 "$WORK/bb.tar"
    as "$u" "$HUSK" load -i "$WORK/bb.tar" >/dev/null
}

# The multilayer fixture (whiteouts, an opaque directory, owners) over busybox, into USER's store.
load_multilayer() {
    local u=$1
    python3 "$HUSK_SRC/scripts/fixtures/mkimage.py" busybox-multilayer "$WORK/ml" \
        --tag husk/ml:latest >/dev/null
    tar -C "$WORK/ml" -cf "$WORK/ml.tar" .
    chmod 644 "$WORK/ml.tar"
    as "$u" "$HUSK" load -i "$WORK/ml.tar" >/dev/null
}

# The entries of the top layer of the image in the OCI archive FILE (`husk save`), one a
# line: PATH UID:GID MODE(octal) and the names of its xattrs.
top_layer_entries() {
    python3 - "$1" <<'PY'
import io, json, sys, tarfile
t = tarfile.open(sys.argv[1])
names = {m.name.removeprefix("./"): m for m in t.getmembers()}
def blob(d):
    return t.extractfile(names["blobs/sha256/" + d.split(":")[1]]).read()
m = json.loads(t.extractfile(names["index.json"]).read())
while "manifests" in m:
    m = json.loads(blob(m["manifests"][0]["digest"]))
layer = tarfile.open(fileobj=io.BytesIO(blob(m["layers"][-1]["digest"])))
for e in layer:
    xattrs = sorted(k.removeprefix("SCHILY.xattr.") for k in e.pax_headers if k.startswith("SCHILY.xattr."))
    print(e.name.rstrip("/"), f"{e.uid}:{e.gid}", f"{e.mode:04o}", *xattrs)
PY
}

# Polls until `curl URL` prints WANT, for 30 s at most (connections that hang included);
# prints what it got last.
curl_until() {
    local url=$1 want=$2 got= end=$((SECONDS + 30))
    while [ "$SECONDS" -lt "$end" ]; do
        got=$(curl -s -m 2 "$url" || true)
        [ "$got" = "$want" ] && break
        sleep 0.1
    done
    echo "$got"
}

# setup_file of a file on a user-mode network: skips without PROGRAM (of Debian's PACKAGE),
# else both users with husk/busybox in their stores (RL_BARE's only with "both").
network_file_setup() {  # PROGRAM PACKAGE [both]
    rootless_setup
    command -v "$1" >/dev/null || skip "$1 is not installed (scripts/deps.sh installs $2)"
    export RL_USER RL_BARE RL_SUBID
    load_busybox "$RL_USER"
    [ "${3:-}" != both ] || load_busybox "$RL_BARE"
}

# teardown_file of such a file: both users and their files go.
network_file_teardown() {
    USERS=("$RL_USER" "$RL_BARE")
    rootless_teardown
}

# The host_server of a test, stopped (in its teardown).
stop_host_server() {
    [ -f "$WORK/server.pid" ] && kill "$(cat "$WORK/server.pid")" 2>/dev/null
    [ -f "$WORK/dns.pid" ] && kill "$(cat "$WORK/dns.pid")" 2>/dev/null
    rm -f "$WORK/server.pid" "$WORK/dns.pid"
}

# A resolver on a random address of the host's loopback answering outside.test with
# 192.0.2.77 (../network/testdns.py; its pid in $WORK/dns.pid for stop_host_server), and
# $WORK/resolv.conf naming it alone, as systemd-resolved's 127.0.0.53 is named. Skips when
# it cannot run.
host_resolver() {
    local address fifo=$WORK/dns-ready line
    address=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).1
    rm -f "$fifo"
    mkfifo "$fifo"
    python3 "$BATS_TEST_DIRNAME/../network/testdns.py" "$address" 192.0.2.77 >"$fifo" \
        2>>"$WORK/testdns.log" &
    echo $! >"$WORK/dns.pid"
    read -r line <"$fifo"
    [ "$line" = ready ] || skip "cannot run a test resolver on $address:53: $(cat "$WORK/testdns.log")"
    echo "nameserver $address" >"$WORK/resolv.conf"
    chmod 644 "$WORK/resolv.conf"
}

# as_resolving USER CMD...: `as USER CMD...` in a mount namespace of its own where
# $WORK/resolv.conf (host_resolver) is the host's /etc/resolv.conf, for CMD and everything
# it starts (the host's file stays as it is).
as_resolving() {
    unshare -m --propagation private -- bash -c 'mount --bind "$1" /etc/resolv.conf &&
        cd "$WORK" && u=$2 && shift 2 && exec runuser -u "$u" -- env -i PATH=/usr/bin:/bin \
        HOME="$WORK/home-$u" XDG_RUNTIME_DIR="$WORK/xdg-$u" "$@"' _ "$WORK/resolv.conf" "$@"
}

# A server on the host's 127.0.0.1:PORT serving "from-the-host" as /f (its pid in
# $WORK/server.pid, for the test's teardown).
host_server() {
    local port=$1
    mkdir -p "$WORK/served"
    echo from-the-host >"$WORK/served/f"
    (cd "$WORK/served" && exec setsid python3 -m http.server -b 127.0.0.1 "$port" >/dev/null 2>&1) &
    echo $! >"$WORK/server.pid"
    [ "$(curl_until "http://127.0.0.1:$port/f" from-the-host)" = from-the-host ]
}

# N times as USER: `husk run -d --name kI ARGS... -p 127.0.0.1:PORT:80 husk/busybox sleep
# 1000` with husk itself killed (SIGKILL) at a random moment, then `rm -f kI`; at last
# `rm -f` of every container USER still has. Needs ../images/helpers (free_port).
kill_runs_at_random() {
    local u=$1 n=$2 i
    shift 2
    for i in $(seq "$n"); do
        local port pid
        port=$(free_port)
        as_exec "$u" "$HUSK" run -d --name "k$i" "$@" -p "127.0.0.1:$port:80" husk/busybox sleep 1000 \
            >/dev/null 2>&1 &
        pid=$!
        sleep "0.$((RANDOM % 6))"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" || true
        as "$u" "$HUSK" rm -f "k$i" >/dev/null 2>&1 || true
    done
    # whatever got recorded meanwhile (a name taken by a killed run)
    as "$u" "$HUSK" ps -aq | while read -r id; do as "$u" "$HUSK" rm -f "$id" >/dev/null 2>&1 || true; done
}

# Fails unless USER has no container, no container directory and no runtime state left.
nothing_left_of() {
    local u=$1
    [ -z "$(as "$u" "$HUSK" ps -aq)" ]
    run find "$WORK/home-$u/.local/share/husk/containers" -mindepth 1 -maxdepth 1 -type d
    echo "dirs: $output"
    [ -z "$output" ]
    [ -d "$WORK/xdg-$u/husk" ] || return 0 # nothing ever started
    run find "$WORK/xdg-$u/husk" -mindepth 1 -maxdepth 1 -type d -name '[!.]*'
    echo "state: $output"
    [ -z "$output" ]
}

# Removes every container of each USER (between tests; failures ignored).
rm_containers_of() {  # USER...
    local u
    for u; do
        as "$u" "$HUSK" ps -aq | while read -r id; do as "$u" "$HUSK" rm -f "$id" >/dev/null 2>&1; done
    done
    true
}

# An image tarball at OUT, mode 0644: busybox with the APPLET links, /proc /sys /dev /tmp
# /etc /home, and a 0700 /home/someone of 1000:1000 holding its file f (mode FMODE, octal,
# "someone's"); with SETUID "setuid" also a 4755 /setuid of 1000:1000.
someone_image_tar() {  # OUT FMODE SETUID APPLET...
    python3 - "$@" <<'PY'
import io, sys, tarfile
path, fmode, setuid, applets = sys.argv[1], int(sys.argv[2], 8), sys.argv[3], sys.argv[4:]
out = tarfile.open(path, "w", format=tarfile.PAX_FORMAT)
def add(name, kind, mode, uid=0, data=b"", link=""):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.uid, ti.gid, ti.mtime = kind, mode, uid, uid, 1700000000
    ti.size, ti.linkname = len(data), link
    out.addfile(ti, io.BytesIO(data) if data else None)
add("bin", tarfile.DIRTYPE, 0o755)
add("bin/busybox", tarfile.REGTYPE, 0o755, data=open("/bin/busybox", "rb").read())
for a in applets:
    add("bin/" + a, tarfile.SYMTYPE, 0o777, link="busybox")
for d in ("proc", "sys", "dev", "tmp", "etc", "home"):
    add(d, tarfile.DIRTYPE, 0o755)
add("home/someone", tarfile.DIRTYPE, 0o700, uid=1000)
add("home/someone/f", tarfile.REGTYPE, fmode, uid=1000, data=b"someone's\n")
if setuid == "setuid":
    add("setuid", tarfile.REGTYPE, 0o4755, uid=1000, data=b"x")
out.close()
PY
    chmod 644 "$1"
}

# Kills (SIGKILL) USER's oldest process whose command line matches PATTERN (husk itself, not
# the fork of it in a user namespace, which has the same command line), waits for this
# shell's jobs, then up to 5 s for every match to be gone (the fork dies with husk). Sets
# KILL_LEFT to the pids still there (empty when none is). Called directly, not in $(...):
# a subshell cannot wait for this shell's jobs.
kill_oldest_and_wait() {  # USER PATTERN
    local u=$1 pat=$2
    pkill -9 -o -u "$u" -f -- "$pat" || true
    wait || true
    for _ in $(seq 50); do
        KILL_LEFT=$(pgrep -u "$u" -f -- "$pat" || true)
        [ -z "$KILL_LEFT" ] && break
        sleep 0.1
    done
}

# Kills (SIGKILL) the init of the user's container NAME (a --restart always one) and waits
# up to 30 s for the restarted one: RESTART_OLD and RESTART_NEW are the two inits' pids;
# fails (a message, status 1) when no new init came.
kill_init_until_restarted() {  # NAME
    RESTART_OLD=$(uh inspect -f '{{.State.Pid}}' "$1")
    kill -9 "$RESTART_OLD"
    for _ in $(seq 300); do
        RESTART_NEW=$(uh inspect -f '{{.State.Pid}}' "$1")
        [[ "$RESTART_NEW" =~ ^[1-9][0-9]*$ ]] && [ "$RESTART_NEW" != "$RESTART_OLD" ] && return 0
        sleep 0.1
    done
    echo "$1: no new init 30 s after $RESTART_OLD was killed (pid now: $RESTART_NEW)"
    # why: the state the engine reports and what the monitor said about the restart
    uh inspect -f '{{.State.Status}} exit {{.State.ExitCode}} error "{{.State.Error}}"' "$1" || true
    local id
    id=$(uh inspect -f '{{.Id}}' "$1" 2>/dev/null || true)
    [ -n "$id" ] && find "$WORK" -path "*$id*" -name monitor.log -exec tail -n 20 {} + 2>/dev/null
    return 1
}

# Waits for the moment to kill USER's job just started in the background ($!): in an even
# ROUND a random 0 to MAX_MS ms; in an odd one until newuidmap runs for the user (the job's
# namespace child getting its maps) or the job has ended. KILL_AT says which.
wait_kill_moment() {  # USER ROUND MAX_MS
    local job=$!
    if [ $(($2 % 2)) -eq 0 ]; then
        KILL_AT="$((RANDOM % $3)) ms"
        sleep "$(printf '0.%03d' "${KILL_AT% ms}")"
        return 0
    fi
    KILL_AT="newuidmap (not seen: the job ended first)"
    for _ in $(seq 2000); do
        if pgrep -U "$1" -x newuidmap >/dev/null; then
            KILL_AT=newuidmap
            return 0
        fi
        kill -0 "$job" 2>/dev/null || return 0
    done
    KILL_AT="newuidmap (not seen in 2000 looks)"
    return 0
}

# as_newuidmap_refusing USER CALLS CMD...: CMD as USER (as `as` runs it) in a mount namespace
# of its own where /usr/bin/newuidmap refuses the calls numbered in CALLS ("1 2": the first
# two; "all") and lets the others through, as newuidmap refuses maps /etc/subuid does not
# give: a wrapper bound over it there (setuid root, as husk checks the helper is; ignored on
# a script), the real one bound at $WORK/nuid-USER/real; each call a line in
# $WORK/nuid-USER/calls. The host's newuidmap and other processes are untouched.
as_newuidmap_refusing() {
    local u=$1 refuse=$2 d=$WORK/nuid-$1
    shift 2
    mkdir -p "$d"
    : >"$d/calls"
    : >"$d/real"
    chown "$u:" "$d" "$d/calls"
    cat >"$d/newuidmap" <<WRAP
#!/bin/sh
echo "\$*" >>"$d/calls"
n=\$(wc -l <"$d/calls")
case " $refuse " in *" all "* | *" \$n "*) ;; *) exec "$d/real" "\$@" ;; esac
echo "newuidmap: write to uid_map failed: Operation not permitted (a test's wrapper)" >&2
exit 1
WRAP
    chmod 4755 "$d/newuidmap"
    (cd "$WORK" && unshare -m --propagation private sh -c '
        mount --bind /usr/bin/newuidmap "$1/real" && mount --bind "$1/newuidmap" /usr/bin/newuidmap &&
        shift && exec "$@"' sh "$d" runuser -u "$u" -- env -i PATH=/usr/bin:/bin \
        HOME="$WORK/home-$u" XDG_RUNTIME_DIR="$WORK/xdg-$u" "$@")
}

# USER's lines in FILES (words) replaced by 65536 ids at each START (none: the lines
# go), under the lock every test edit of the id files takes (useradd and userdel too, in
# make_user and rootless_teardown): other users' lines, other tests' among them, stay.
edit_subids() {  # FILES USER [START...]
    local files=$1 u=$2 f s
    shift 2
    (
        flock 9
        for f in $files; do
            touch "$f"
            sed -i "/^$u:/d" "$f"
            for s; do echo "$u:$s:65536" >>"$f"; done
        done
    ) 9>/run/husk-tests-subid.lock
}

# USER's ranges in /etc/subuid and /etc/subgid: 65536 ids at each START (the first is the
# one used).
set_ranges() {  # USER START...
    local u=$1
    shift
    edit_subids "/etc/subuid /etc/subgid" "$u" "$@"
}
