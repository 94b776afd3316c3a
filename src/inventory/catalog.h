// The catalogers: one per package database or ecosystem, each adding what it finds
// in the merged tree to the inventory (inventory.cpp runs them in order).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inventory/inventory.h"
#include "inventory/tree.h"

namespace husk::inventory {

OsRelease read_os_release(const Tree& t);

void catalog_dpkg(const Tree& t, Inventory& inv);
void catalog_apk(const Tree& t, Inventory& inv);
void catalog_rpm(const Tree& t, Inventory& inv);
void catalog_python(const Tree& t, Inventory& inv);
void catalog_npm(const Tree& t, Inventory& inv);
// ELF executables (elf.cpp), each read once for every kind of embedded metadata:
void catalog_binaries(const Tree& t, Inventory& inv);
// An unsigned integer of `size` (<= 8) bytes at `off` of `bytes` in the given byte order
// (elf.cpp; the caller checks the bounds).
uint64_t read_uint(std::string_view bytes, size_t off, size_t size, bool big_endian);
// `n` bytes at virtual address `addr` of an executable as it is loaded (its PT_LOAD
// segments' file contents); nullopt outside them.
using ReadVirtual = std::function<std::optional<std::string>(uint64_t addr, uint64_t n)>;
// the .go.buildinfo section of a Go binary (golang.cpp); `read` reaches the strings that
// the section of a binary of Go before 1.18 points to
void add_go_buildinfo(std::string_view section, const ReadVirtual& read, const std::string& where,
                      int layer, Inventory& inv);
// the .dep-v0 section cargo auditable embeds in a Rust binary (rust.cpp)
void add_cargo_auditable(std::string_view section, const std::string& where, int layer,
                         Inventory& inv);
void catalog_java(const Tree& t, Inventory& inv);
void catalog_gems(const Tree& t, Inventory& inv);

// The purl of a package (pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS), the distro
// qualifier taken from `os` for OS packages.
std::string purl(const Package& p, const OsRelease& os);

// For a database that is one file, rewritten by every layer that changes it (dpkg's
// status, apk's installed, rpmdb.sqlite): sets each package's layer to the lowest
// layer of the unbroken run of copies, from the top one down, that all list it
// (same name, version and architecture). `parse` reads one layer's copy.
void attribute_layers(const Tree& t, const std::string& db_path, std::vector<Package>& pkgs,
                      const std::function<std::vector<Package>(int layer)>& parse);

// "Key: value" header lines (RFC 822 style, continuation lines start with a space)
// of one stanza, calling `field` for each; returns where the stanza ended.
size_t parse_stanza(std::string_view text, size_t pos,
                    const std::function<void(std::string_view, std::string_view)>& field);

std::string_view trim(std::string_view s);

// Calls `line` for every line of `text` (without its newline).
void for_each_line(std::string_view text, const std::function<void(std::string_view)>& line);

// The packages of a database that is one file in the merged tree (dpkg's status,
// apk's installed), read with `parse`, each with the layer that introduced it; none
// when the image has no such file. `what` names the database in errors.
std::vector<Package> read_db_file(
    const Tree& t, std::string_view path, std::string_view what,
    const std::function<std::vector<Package>(std::string_view)>& parse);

// Adds `pkgs` to the inventory as found in `where` (a file of the image) of `layer`.
void add_found(Inventory& inv, std::vector<Package>& pkgs, const std::string& where, int layer);

}  // namespace husk::inventory

namespace husk::inventory {

// A random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", for the
// documents' serial numbers and namespaces.
std::string random_uuid();
// "Layer N sha256:..." for a package (empty when its layer is unknown).
std::string layer_text(const Inventory& inv, const Package& p);

}  // namespace husk::inventory
