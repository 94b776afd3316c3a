#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine (root): install what husk needs, build it,
# make the offline default image husk/busybox from Debian's busybox-static, and run a
# container from it with `husk run`. The container shows that it is PID 1, has its own
# hostname and sees only its own processes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# husk-runtime too: the README's runtime tour uses it
cmake --build build -j "$(nproc)" --target husk husk-runtime >/dev/null
husk=build/src/cli/husk/husk

# The default image, in husk's default data root (/var/lib/husk); no registry needed.
"$husk" images --format '{{.Repository}}:{{.Tag}}' | grep -q 'husk/busybox:latest' ||
    bash scripts/make-busybox-image.sh --husk "$husk" >/dev/null

echo "host: $(hostname)"
echo "+ husk run --rm husk/busybox sh -c 'echo pid \$\$; hostname; ps'"
"$husk" run --rm husk/busybox sh -c 'echo pid $$; hostname; ps'
