#!/usr/bin/env bash
# A name lookup on a user-defined network, DNS (the network's husk-dns) beside /etc/hosts:
# glibc's getaddrinfo() in a client container's network namespace with the container's own
# /etc/resolv.conf and /etc/hosts (bind-mounted over the host's in a private mount
# namespace; the host's nsswitch "files dns"), for
#   hosts:  a name of the container's /etc/hosts (--add-host): read from the file
#   dns:    a name of the network: not in the file, asked of the responder
#   query:  one raw UDP query to the responder and its reply (no resolver library)
# Median and 90th percentile of ROUNDS lookups each, in microseconds.
#
# usage: bench/network/lookup.sh [-n ROUNDS] [--husk PATH] [--no-write]
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD
rounds=2000
husk=$src/build/src/cli/husk/husk
write=1
while [ $# -gt 0 ]; do
    case "$1" in
        -n) rounds=$2; shift 2 ;;
        --husk) husk=$2; shift 2 ;;
        --no-write) write=0; shift ;;
        *) echo "usage: $0 [-n ROUNDS] [--husk PATH] [--no-write]" >&2; exit 2 ;;
    esac
done
[ -x "$husk" ] || { echo "$0: build husk first ($husk)" >&2; exit 1; }

work=$(mktemp -d /tmp/lookup-bench-XXXXXX)
chmod 755 "$work"
sfx=$(basename "$work" | tr -cd 'a-zA-Z0-9' | tail -c 6)
h=("$husk" --root "$work/husk")
cleanup() {
    "${h[@]}" rm -f $("${h[@]}" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
    "${h[@]}" network prune -f >/dev/null 2>&1 || true
    { findmnt -rn -o TARGET | grep "^$work/" || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
    rm -rf "$work"
}
trap cleanup EXIT

bash scripts/make-busybox-image.sh --root "$work/husk" --husk "$husk" >/dev/null
"${h[@]}" network create "lk-$sfx" >/dev/null
"${h[@]}" run -d --name "srv-$sfx" --network "lk-$sfx" husk/busybox sleep 3600 >/dev/null
ip=$("${h[@]}" inspect --format '{{json .NetworkSettings.Networks}}' "srv-$sfx" | jq -r '.[].IPAddress')
"${h[@]}" run -d --name "cli-$sfx" --network "lk-$sfx" --add-host "srvh-$sfx:$ip" husk/busybox sleep 3600 >/dev/null
cli=$("${h[@]}" inspect --format '{{.Id}}' "cli-$sfx")
pid=$("${h[@]}" inspect --format '{{.State.Pid}}' "cli-$sfx")
dir=$work/husk/containers/$cli
gw=$(awk '/^nameserver/ {print $2; exit}' "$dir/resolv.conf")

result=$(unshare -m sh -c '
mount --bind "$1/resolv.conf" /etc/resolv.conf
mount --bind "$1/hosts" /etc/hosts
exec nsenter -t "$2" -n python3 - "$3" "$4" "$5" "$6" "$7"' sh "$dir" "$pid" "$rounds" "srvh-$sfx" "srv-$sfx" "$gw" "$ip" <<'PY'
import socket, struct, sys, time
rounds, hosts_name, dns_name, gw, ip = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
def stats(f):
    f()  # warm
    t = []
    for _ in range(rounds):
        a = time.perf_counter_ns(); f(); t.append(time.perf_counter_ns() - a)
    t.sort()
    return t[len(t) // 2] / 1000, t[len(t) * 9 // 10] / 1000
def lookup(name):
    def f():
        got = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
        assert got == ip, (name, got)
    return f
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"".join(
    bytes([len(p)]) + p.encode() for p in dns_name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((gw, 53))
s.settimeout(2)
def query():
    s.send(q)
    r = s.recv(512)
    assert r[:2] == q[:2] and r.endswith(socket.inet_aton(ip))
for label, f in (("hosts", lookup(hosts_name)), ("dns", lookup(dns_name)), ("query", query)):
    m, p90 = stats(f)
    print(f"{label} {m:.0f} {p90:.0f}")
PY
)
report=$(
    echo "# bench/network/lookup — $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "$rounds lookups each, us | median | p90"
    echo "---|---|---"
    echo "$result" | while read -r label median p90; do
        case "$label" in
            hosts) label="getaddrinfo, a name of /etc/hosts" ;;
            dns) label="getaddrinfo, a name of the network (DNS responder)" ;;
            query) label="one raw UDP query to the responder" ;;
        esac
        echo "$label | $median | $p90"
    done
)
echo "$report"
[ "$write" = 1 ] && echo "$report" >bench/network/lookup-results.md
exit 0
