// What is inside an image: the packages its layers carry, read from the package
// databases and language metadata of the unpacked layers (no container is run).
//
//   auto inv = husk::inventory::inventory({{snapshot_fs_dir, diff_id}, ...});
//
// Layers are given bottom first, each an unpacked directory in overlayfs format
// (whiteouts are 0/0 character devices, opaque directories carry
// trusted.overlay.opaque=y), as the store's snapshots and a container's upper
// directory are. Each package names the layer that introduced it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace husk::inventory {

struct LayerRef {
    std::string dir;     // the unpacked layer
    std::string digest;  // its diff id ("sha256:..."), or "upper" for a container's changes
};

struct OsRelease {
    std::string id;  // "debian", "alpine", "fedora"; empty when the image has no os-release
    std::string version_id;
    std::string version_codename;
    std::string name;
    std::string pretty_name;
};

struct Package {
    std::string type;        // purl type: deb, apk, rpm, pypi, npm, golang, maven, gem, cargo
    std::string namespace_;  // maven group id; empty elsewhere
    std::string name;
    std::string version;  // as the database records it (deb "1:2.3-4", rpm "[epoch:]v-r")
    std::string arch;
    std::string source;          // source package (deb Source, rpm SOURCERPM, apk origin)
    std::string source_version;  // deb only, when it differs from version
    std::string license;         // as recorded, empty when the database has none
    std::string location;  // the file it was read from, inside the image ("/var/lib/dpkg/status")
    int layer = -1;        // index into Inventory::layers
    std::string purl;
    std::vector<std::string> files;  // files the package owns, as recorded (absolute)
};

struct Inventory {
    OsRelease os;
    std::vector<LayerRef> layers;
    std::vector<Package> packages;
    uint64_t files = 0;        // non-directories in the merged tree
    uint64_t owned_files = 0;  // of those, owned by some package
};

// Reads every package database and language ecosystem of the merged layers.
// Throws husk::Error naming the database and the layer when one exists but cannot be
// read (a corrupt rpmdb.sqlite, an unreadable status file).
Inventory inventory(const std::vector<LayerRef>& layers);

// The JSON documents `husk sbom` writes. `subject` names the image or container,
// `subject_id` is its id ("sha256:..." for an image). `created` is RFC 3339 (UTC).
struct Subject {
    std::string name;
    std::string id;
    std::string created;
    bool container = false;
};
std::string to_json(const Inventory& inv, const Subject& s);       // husk's own
std::string to_spdx(const Inventory& inv, const Subject& s);       // SPDX 2.3 JSON
std::string to_cyclonedx(const Inventory& inv, const Subject& s);  // CycloneDX 1.5 JSON
std::string to_table(const Inventory& inv);

}  // namespace husk::inventory
