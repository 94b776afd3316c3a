# Shared by the user-defined network e2e tests: the detached tests' private data root
# (tests/e2e/detached/helpers.bash), network names with a unique suffix, and what a
# network leaves on the host once it is gone.

load ../detached/helpers

network_setup() {
    command -v nft >/dev/null || skip "nft is not installed (package nftables, scripts/deps.sh)"
    detached_setup
    SFX=$(basename "$WORK" | tr -cd 'a-zA-Z0-9' | tail -c 7)
    export SFX
    # the networks' DNS responders forward to the resolvers of this file, not of the
    # host's /etc/resolv.conf: none, so a name no container has fails at once (SERVFAIL)
    export HUSK_DNS_RESOLV_CONF=$WORK/resolv.conf
    : >"$HUSK_DNS_RESOLV_CONF"
}

network_teardown() {
    [ -n "${WORK:-}" ] || return 0
    remove_all_containers
    local n
    for n in $(husk network ls -q 2>/dev/null); do husk network rm "$n" >/dev/null 2>&1 || true; done
    detached_teardown
}

# A server on port 8080 of its container answering "hello from NAME" to each connection.
serve() {  # NAME [run flags...]
    local name=$1
    shift
    husk run -d --name "$name" "$@" husk/busybox nc -ll -p 8080 -e echo hello from "$name" >/dev/null
}

# Polls until a connection from container FROM to NAME:8080 gets "hello from NAME" (a
# server's nc may not listen yet when its `run -d` returns), for at most 20 s; on failure,
# prints what the last try said and what FROM's DNS answers for NAME.
hello_from() {  # FROM NAME
    local out deadline=$((SECONDS + 20))
    while :; do
        out=$(husk exec "$1" nc -w 3 "$2" 8080 2>&1) && [[ "$out" == *"hello from $2"* ]] && {
            echo "$out"
            return 0
        }
        ((SECONDS < deadline)) || break
        sleep 0.2
    done
    echo "no hello from $2 in $1 after 20 s; the last try: $out" >&2
    husk exec "$1" nslookup "$2" >&2 || true
    return 1
}

# The address NAME resolves to through DNS from container FROM; fails when it does not.
resolve() {  # FROM NAME
    husk exec "$1" nslookup "$2" | awk '/^Name:/ {n = 1} n && /^Address/ {print $NF; exit}' | grep .
}

# The IPv4 address of container NAME on its (one) user-defined network.
ip_of() { husk inspect --format '{{json .NetworkSettings.Networks}}' "$1" | jq -r '.[].IPAddress'; }

# The pid of network ID's DNS responder while one runs (and is not a zombie).
responder_pid() {  # ID
    local pid
    pid=$(cut -d' ' -f1 "/run/husk-dns/$1/pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && ps -o stat= -p "$pid" | grep -qv Z && echo "$pid"
}

# What network NAME (id ID, bridge husk<ID:0:10>) would leave on the host once removed.
network_leftovers() {  # ID
    local id=$1
    ls -d "/run/husk-dns/$id" 2>/dev/null || true
    pgrep -f "husk-dns .*/run/husk-dns/$id" || true
    ip link show "husk${id:0:10}" 2>/dev/null || true
    nft list table inet husk 2>/dev/null | grep -- "husk${id:0:10}" || true
    ls -d "/var/lib/cni/networks/husk-${id:0:12}" 2>/dev/null || true
    ls "/var/lib/cni/husk-subnets/$id.json" 2>/dev/null || true
}

# The Debian minbase tree (scripts/fixtures/debian-minbase.sh, cached) unpacked under
# $WORK/debian, for a container of glibc's resolver (getent); skips when it cannot be had.
debian_root() {
    local tar
    tar=$(bash "$HUSK_SRC/scripts/fixtures/debian-minbase.sh" 2>"$WORK/debootstrap.log") ||
        skip "no Debian minbase tree: $(tail -1 "$WORK/debootstrap.log")"
    mkdir -p "$WORK/debian"
    tar -C "$WORK/debian" -xf "$tar"
}
