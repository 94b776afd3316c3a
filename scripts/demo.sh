#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine (root): install what husk needs, build it,
# and run a container from a bundle made from Debian's busybox-static. The container
# shows that it is PID 1, has its own hostname and its own /proc.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target husk-runtime >/dev/null

bundle=$(mktemp -d /tmp/husk-demo-XXXXXX)
trap 'build/bin/husk-runtime --root "$bundle/state" delete --force demo >/dev/null 2>&1 || true; rm -rf "$bundle"' EXIT
mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/"
for app in sh ps hostname cat ls; do ln -s busybox "$bundle/rootfs/bin/$app"; done
build/bin/husk-runtime spec --bundle "$bundle"
# No terminal (the demo may run without one), and a command that shows the container.
python3 - "$bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["hostname"] = "demo"
c["process"]["args"] = ["sh", "-c",
    "echo \"my pid: $$\"; echo \"my hostname: $(hostname)\"; echo 'my processes:'; ps"]
json.dump(c, open(p, "w"), indent=2)
PY
echo "host: $(hostname), running husk-runtime run demo"
build/bin/husk-runtime --root "$bundle/state" run --bundle "$bundle" demo
