#!/usr/bin/env python3
"""Makes the pod sandbox ("pause") image for the CRI test from the busybox fixture layout:
the same layer, with `sleep infinity` as its command.

usage: pause_image.py BUSYBOX_LAYOUT OUT_LAYOUT REF_NAME
"""
import hashlib
import json
import os
import shutil
import sys


def blob_path(layout, digest):
    return os.path.join(layout, "blobs", *digest.split(":", 1))


def put_blob(layout, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(blob_path(layout, digest), "wb") as f:
        f.write(data)
    return digest


def main():
    src, out, ref = sys.argv[1:4]
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(src, out)
    index = json.load(open(os.path.join(out, "index.json")))
    desc = index["manifests"][0]
    manifest = json.load(open(blob_path(out, desc["digest"])))
    config = json.load(open(blob_path(out, manifest["config"]["digest"])))
    config.setdefault("config", {})["Cmd"] = ["/bin/sleep", "infinity"]
    config["config"].pop("Entrypoint", None)
    data = json.dumps(config).encode()
    manifest["config"]["digest"] = put_blob(out, data)
    manifest["config"]["size"] = len(data)
    data = json.dumps(manifest).encode()
    desc["digest"] = put_blob(out, data)
    desc["size"] = len(data)
    desc["annotations"] = {"org.opencontainers.image.ref.name": ref}
    index["manifests"] = [desc]
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f)


if __name__ == "__main__":
    main()
