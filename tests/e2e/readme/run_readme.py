#!/usr/bin/env python3
"""Runs every shell block of README.md marked runnable, so the README stays true.

usage: run_readme.py README.md

A block is runnable when the line `<!-- runnable -->` stands directly before its
```sh fence. Each block runs as printed with `bash -euo pipefail` in an empty
directory, with the build's husk and husk-runtime on PATH (HUSK, HUSK_RUNTIME) and
pointed at one private data root (holding husk/busybox, made by
scripts/make-busybox-image.sh). After each block its containers, volumes and
directory are removed. A failing block is named by its line in README.md:

    README.md:105: the block failed (exit 1)

Exits 0 when every block ran, 1 when one failed, 77 (skip) without root or tools."""
import os
import shutil
import subprocess
import sys
import tempfile

MARKER = "<!-- runnable -->"
BLOCK_TIMEOUT = 180

# The blocks say `husk` and `husk-runtime`; these send them to the private roots.
PRELUDE = """husk() { command husk --root "$README_ROOT" "$@"; }
husk-runtime() { command husk-runtime --root "$README_ROOT/runtime" "$@"; }
"""


def blocks(path):
    """(line of the ```sh fence, text) of each runnable block."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out = []
    for i, line in enumerate(lines):
        if line.strip() != MARKER:
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith("```sh"):
            sys.exit(f"{path}:{i + 1}: {MARKER} is not directly before a ```sh fence")
        body = []
        for j in range(i + 2, len(lines)):
            if lines[j].startswith("```"):
                break
            body.append(lines[j])
        else:
            sys.exit(f"{path}:{i + 2}: the block is not closed")
        out.append((i + 2, "\n".join(body) + "\n"))
    return out


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def cleanup(husk, runtime, root, workdir):
    """What a block leaves: containers (husk's and the runtime's), volumes, networks, mounts."""
    ids = run([husk, "--root", root, "ps", "-aq", "--no-trunc"]).stdout.split()
    if ids:
        run([husk, "--root", root, "rm", "-f", *ids])
    for c in run([runtime, "--root", f"{root}/runtime", "list", "-q"]).stdout.split():
        run([runtime, "--root", f"{root}/runtime", "delete", "--force", c])
    for v in run([husk, "--root", root, "volume", "ls", "-q"]).stdout.split():
        run([husk, "--root", root, "volume", "rm", "-f", v])
    # a network's bridge and rules outlive its data root: removed while the record is there
    run([husk, "--root", root, "network", "prune", "-f"])
    mounts = run(["findmnt", "-rn", "-o", "TARGET"]).stdout.split("\n")
    for m in sorted((m for m in mounts if m.startswith(workdir + "/")), reverse=True):
        run(["umount", "-l", m])
    shutil.rmtree(workdir, ignore_errors=True)


def main():
    readme = sys.argv[1]
    husk, runtime, src = os.environ["HUSK"], os.environ["HUSK_RUNTIME"], os.environ["HUSK_SRC"]
    found = blocks(readme)
    if not found:
        sys.exit(f"{readme}: no block is marked {MARKER}")
    if os.geteuid() != 0:
        print("skip: the README's blocks run containers as root")
        return 77
    for tool in ("jq", "findmnt"):
        if not shutil.which(tool):
            print(f"skip: {tool} is not installed (scripts/deps.sh installs it)")
            return 77
    if not os.path.exists("/bin/busybox"):
        print("skip: busybox-static is not installed (scripts/deps.sh installs it)")
        return 77

    top = tempfile.mkdtemp(prefix="readme-e2e-")
    os.chmod(top, 0o755)
    root = f"{top}/root"
    bindir = f"{top}/bin"
    os.makedirs(bindir)
    os.symlink(husk, f"{bindir}/husk")
    os.symlink(runtime, f"{bindir}/husk-runtime")
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", README_ROOT=root)
    failed = 0
    try:
        made = run(["bash", f"{src}/scripts/make-busybox-image.sh", "--root", root, "--husk", husk])
        if made.returncode != 0:
            print(made.stdout)
            sys.exit("make-busybox-image.sh failed")
        for n, (line, text) in enumerate(found):
            workdir = f"{top}/block-{n}"
            os.makedirs(workdir)
            script = f"{top}/block-{n}.sh"
            with open(script, "w", encoding="utf-8") as f:
                f.write(PRELUDE + text)
            try:
                r = run(["bash", "-euo", "pipefail", script], cwd=workdir, env=env,
                        stdin=subprocess.DEVNULL, timeout=BLOCK_TIMEOUT)
                code, output = r.returncode, r.stdout
            except subprocess.TimeoutExpired as e:
                code, output = f"timed out after {BLOCK_TIMEOUT} s", e.stdout or ""
                output = output.decode() if isinstance(output, bytes) else output
            if code != 0:
                failed += 1
                print(f"{readme}:{line}: the block failed (exit {code})")
                print("".join(f"    {l}\n" for l in output.splitlines()))
            else:
                print(f"{readme}:{line}: ok")
            cleanup(husk, runtime, root, workdir)
    finally:
        cleanup(husk, runtime, root, f"{top}/none")
        for m in sorted((m for m in run(["findmnt", "-rn", "-o", "TARGET"]).stdout.split("\n")
                         if m.startswith(top + "/")), reverse=True):
            run(["umount", "-l", m])
        shutil.rmtree(top, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
