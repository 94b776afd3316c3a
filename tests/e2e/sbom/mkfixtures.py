#!/usr/bin/python3
"""Images for the sbom tests, built with scripts/fixtures/mkimage.py's layers and layout.

usage: mkfixtures.py KIND LAYOUT --tag TAG [--debian-tar TAR] [--go-binary BIN]
kinds: debian (the debootstrap tree of --debian-tar, and a layer adding a package),
       alpine (a fake apk database over two layers, and busybox),
       rpm (an rpmdb.sqlite written with sqlite3, headers made by librpm's Python module),
       rpm-corrupt (an rpmdb.sqlite that is no database),
       lang (Python dist-info, node_modules, a jar, a gem, and --go-binary, --rust-binary
             when given),
       dpkg (a Debian 12 status file of a few packages, for husk scan)
"""
import argparse
import io
import os
import sqlite3
import sys
import tarfile
import tempfile
import zipfile

sys.path.insert(0, os.path.join(os.environ["HUSK_SRC"], "scripts", "fixtures"))
import mkimage  # noqa: E402


def os_release(layer, text):
    layer.dir("etc")
    layer.file("etc/os-release", text.encode())


def debian(tar_path):
    with open(tar_path, "rb") as f:
        base = f.read()
    with tarfile.open(tar_path) as t:
        status = t.extractfile("./var/lib/dpkg/status").read()
    top = mkimage.Layer()
    for d in ("var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/info", "usr", "usr/bin"):
        top.dir(d)
    stanza = (b"Package: husk-fake\nStatus: install ok installed\nPriority: optional\n"
              b"Architecture: amd64\nSource: husk-fake-src (1:2.0-1)\nVersion: 1:2.0-1+b1\n"
              b"Description: a package added by a second layer\n\n")
    top.file("var/lib/dpkg/status", status.rstrip(b"\n") + b"\n\n" + stanza)
    top.file("var/lib/dpkg/info/husk-fake.list", b"/.\n/usr\n/usr/bin\n/usr/bin/husk-fake\n")
    top.file("usr/bin/husk-fake", b"#!/bin/sh\n", mode=0o755)
    return [base, top.data()]


APK_BASE = """C:Q1aaa=
P:musl
V:1.2.4-r2
A:x86_64
L:MIT
o:musl
F:lib
R:ld-musl-x86_64.so.1

P:busybox
V:1.36.1-r15
A:x86_64
L:GPL-2.0-only
o:busybox
F:bin
R:busybox
"""
APK_CURL = """
P:curl
V:8.5.0-r0
A:x86_64
L:curl
o:curl
F:usr/bin
R:curl
"""


def alpine():
    base = mkimage.Layer()
    os_release(base, 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\n'
                     'PRETTY_NAME="Alpine Linux v3.19"\n')
    base.file("etc/motd", b"welcome\n")
    for d in ("lib", "lib/apk", "lib/apk/db", "bin"):
        base.dir(d)
    base.file("lib/apk/db/installed", APK_BASE.encode())
    base.file("lib/ld-musl-x86_64.so.1", b"\x7fELF", mode=0o755)
    with open("/bin/busybox", "rb") as f:
        base.file("bin/busybox", f.read(), mode=0o755)
    base.symlink("bin/sh", "busybox")
    top = mkimage.Layer()
    for d in ("lib", "lib/apk", "lib/apk/db", "usr", "usr/bin"):
        top.dir(d)
    top.file("lib/apk/db/installed", (APK_BASE + APK_CURL).encode())
    top.file("usr/bin/curl", b"\x7fELF", mode=0o755)
    return [base.data(), top.data()]


def rpmdb(packages):
    import rpm  # python3-rpm
    fd, path = tempfile.mkstemp(suffix=".sqlite")
    os.close(fd)
    os.unlink(path)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
    for p in packages:
        h = rpm.hdr()
        for k, v in p.items():
            h[k] = v
        db.execute("INSERT INTO Packages (blob) VALUES (?)", (h.unload(),))
    db.commit()
    db.close()
    with open(path, "rb") as f:
        data = f.read()
    os.unlink(path)
    return data


def rpm_image(corrupt):
    base = mkimage.Layer()
    os_release(base, 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=39\nPRETTY_NAME="Fedora Linux 39"\n')
    for d in ("usr", "usr/bin", "var", "var/lib", "var/lib/rpm"):
        base.dir(d)
    base.file("usr/bin/bash", b"\x7fELF", mode=0o755)
    if corrupt:
        data = b"this is not an SQLite database\n" * 200
    else:
        import rpm
        data = rpmdb([
            {rpm.RPMTAG_NAME: "bash", rpm.RPMTAG_VERSION: "5.2.15", rpm.RPMTAG_RELEASE: "5.fc39",
             rpm.RPMTAG_EPOCH: 1, rpm.RPMTAG_ARCH: "x86_64", rpm.RPMTAG_LICENSE: "GPL-3.0-or-later",
             rpm.RPMTAG_SOURCERPM: "bash-5.2.15-5.fc39.src.rpm",
             rpm.RPMTAG_DIRNAMES: ["/usr/bin/"], rpm.RPMTAG_BASENAMES: ["bash"],
             rpm.RPMTAG_DIRINDEXES: [0]},
            {rpm.RPMTAG_NAME: "tzdata", rpm.RPMTAG_VERSION: "2024a", rpm.RPMTAG_RELEASE: "1.fc39",
             rpm.RPMTAG_ARCH: "noarch", rpm.RPMTAG_LICENSE: "LicenseRef-Fedora-Public-Domain",
             rpm.RPMTAG_SOURCERPM: "tzdata-2024a-1.fc39.src.rpm"},
        ])
    base.file("var/lib/rpm/rpmdb.sqlite", data)
    return [base.data()]


def zipped(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()


def war():
    """A war with its own pom and a library jar inside (WEB-INF/lib), stored as Spring Boot
    and servlet containers ship them."""
    lib = zipped([("META-INF/maven/org.apache.commons/commons-lang3/pom.properties",
                   "artifactId=commons-lang3\ngroupId=org.apache.commons\nversion=3.12.0\n")])
    return zipped([("META-INF/maven/com.example/shop/pom.properties",
                    "artifactId=shop\ngroupId=com.example\nversion=1.0\n"),
                   ("WEB-INF/lib/commons-lang3-3.12.0.jar", lib)])


def jar():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nImplementation-Title: guava\r\n"
                                           "Implementation-Version: 32.1.2-jre\r\n\r\n")
        z.writestr("META-INF/maven/com.google.guava/guava/pom.properties",
                   "#Created by Maven\nartifactId=guava\ngroupId=com.google.guava\nversion=32.1.2-jre\n")
        z.writestr("com/google/common/base/Strings.class", b"\xca\xfe\xba\xbe")
    return buf.getvalue()


def lang(go_binary, rust_binary=None):
    l = mkimage.Layer()
    site = "usr/lib/python3/dist-packages"
    for d in ("usr", "usr/lib", "usr/lib/python3", site, site + "/requests",
              site + "/requests-2.31.0.dist-info"):
        l.dir(d)
    l.file(site + "/requests/__init__.py", b"")
    l.file(site + "/requests-2.31.0.dist-info/METADATA",
           b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nLicense: Apache 2.0\n\nbody\n")
    l.file(site + "/requests-2.31.0.dist-info/RECORD",
           b"requests/__init__.py,sha256=x,0\nrequests-2.31.0.dist-info/METADATA,,\n"
           b"requests-2.31.0.dist-info/RECORD,,\n")
    for d in ("app", "app/node_modules", "app/node_modules/lodash", "app/node_modules/@types",
              "app/node_modules/@types/node", "app/node_modules/lodash/sub"):
        l.dir(d)
    l.file("app/node_modules/lodash/package.json",
           b'{"name": "lodash", "version": "4.17.21", "license": "MIT"}')
    l.file("app/node_modules/lodash/sub/package.json", b'{"name": "not-a-package"}')
    # the lock names lodash (installed: found by its package.json) and left-pad (not installed)
    l.file("app/package-lock.json",
           b'{"name": "app", "lockfileVersion": 3, "packages": {"": {"name": "app"}, '
           b'"node_modules/lodash": {"version": "4.17.21", "license": "MIT"}, '
           b'"node_modules/left-pad": {"version": "1.3.0", "license": "WTFPL"}}}')
    l.file("app/node_modules/@types/node/package.json",
           b'{"name": "@types/node", "version": "20.11.5", "license": {"type": "MIT"}}')
    for d in ("opt", "opt/app", "usr/lib/ruby", "usr/lib/ruby/gems", "usr/lib/ruby/gems/3.1.0",
              "usr/lib/ruby/gems/3.1.0/specifications"):
        l.dir(d)
    l.file("opt/app/guava-32.1.2-jre.jar", jar())
    l.file("opt/app/shop.war", war())
    l.file("usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec", b"# gemspec\n")
    if go_binary or rust_binary:
        l.dir("usr/local")
        l.dir("usr/local/bin")
    if go_binary:
        with open(go_binary, "rb") as f:
            l.file("usr/local/bin/hello", f.read(), mode=0o755)
    if rust_binary:
        with open(rust_binary, "rb") as f:
            l.file("usr/local/bin/rusty", f.read(), mode=0o755)
    return [l.data()]


def dpkg():
    l = mkimage.Layer()
    os_release(l, 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')
    for d in ("var", "var/lib", "var/lib/dpkg"):
        l.dir(d)
    stanzas = [("husk-fake", "husk-fake-src (1:2.0-1)", "1:2.0-1+b1"),
               ("libtilde1", "tilde", "2.0~rc1-1"),
               ("plain", None, "3.1-2")]
    text = ""
    for name, source, version in stanzas:
        text += "Package: %s\nStatus: install ok installed\nArchitecture: amd64\n" % name
        if source:
            text += "Source: %s\n" % source
        text += "Version: %s\nDescription: x\n\n" % version
    l.file("var/lib/dpkg/status", text.encode())
    return [l.data()]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind")
    p.add_argument("layout")
    p.add_argument("--tag", default="latest")
    p.add_argument("--debian-tar")
    p.add_argument("--go-binary")
    p.add_argument("--rust-binary")
    a = p.parse_args()
    if a.kind == "debian":
        layers = debian(a.debian_tar)
    elif a.kind == "alpine":
        layers = alpine()
    elif a.kind in ("rpm", "rpm-corrupt"):
        layers = rpm_image(a.kind == "rpm-corrupt")
    elif a.kind == "dpkg":
        layers = dpkg()
    elif a.kind == "lang":
        layers = lang(a.go_binary, a.rust_binary)
    else:
        sys.exit("unknown kind " + a.kind)
    lay = mkimage.Layout(a.layout)
    desc = lay.image(layers, "gzip", cmd=("/bin/sh",))
    lay.tag(desc, a.tag)


if __name__ == "__main__":
    main()
