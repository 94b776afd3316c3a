// The inventory walker: the merged tree of the layers, the OS, then every cataloger;
// owned and unowned files counted over the merged tree.
#include <sys/stat.h>

#include <algorithm>
#include <unordered_set>

#include "inventory/catalog.h"
#include "sys/error.h"

namespace husk::inventory {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

void for_each_line(std::string_view text, const std::function<void(std::string_view)>& line) {
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        line(text.substr(pos, end - pos));
        pos = end + 1;
    }
}

std::vector<Package> read_db_file(
    const Tree& t, std::string_view path, std::string_view what,
    const std::function<std::vector<Package>(std::string_view)>& parse) {
    auto real = t.resolve(path);
    const Entry* e = real ? t.find(*real) : nullptr;
    if (e == nullptr || !S_ISREG(e->mode)) return {};
    auto text = with_context(error_format("read {} database \"/{}\"", what, path),
                             [&] { return t.read_in_layer(e->layer, *real); });
    if (!text) return {};
    auto pkgs = parse(*text);
    attribute_layers(t, *real, pkgs, [&](int layer) {
        auto copy = t.read_in_layer(layer, *real);
        return copy ? parse(*copy) : std::vector<Package>{};
    });
    return pkgs;
}

void add_found(Inventory& inv, std::vector<Package>& pkgs, const std::string& where, int layer) {
    for (auto& p : pkgs) {
        p.location = where;
        p.layer = layer;
        inv.packages.push_back(std::move(p));
    }
}

size_t parse_stanza(std::string_view text, size_t pos,
                    const std::function<void(std::string_view, std::string_view)>& field) {
    std::string_view key;
    std::string value;
    auto flush = [&] {
        if (!key.empty()) field(key, value);
        key = {};
        value.clear();
    };
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        if (trim(line).empty()) {
            if (!key.empty() || !value.empty()) break;
            continue;  // blank lines before a stanza
        }
        if (line.front() == ' ' || line.front() == '\t') {
            if (!key.empty()) {
                value += '\n';
                value += trim(line);
            }
            continue;
        }
        flush();
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        key = line.substr(0, colon);
        value = trim(line.substr(colon + 1));
    }
    flush();
    return pos;
}

void attribute_layers(const Tree& t, const std::string& db_path, std::vector<Package>& pkgs,
                      const std::function<std::vector<Package>(int layer)>& parse) {
    const Entry* top = t.find(db_path);
    if (top == nullptr) return;
    auto key = [](const Package& p) { return p.name + '\0' + p.version + '\0' + p.arch; };
    std::unordered_set<std::string> alive;  // listed by every copy so far, from the top
    for (auto& p : pkgs) {
        p.layer = top->layer;
        alive.insert(key(p));
    }
    for (int layer = top->layer - 1; layer >= 0 && !alive.empty(); --layer) {
        if (t.removed_in_layer(layer + 1, db_path)) break;  // nothing below shows through
        auto copy = parse(layer);
        if (copy.empty()) {
            // no copy in this layer: it changed nothing of the database, unless it is
            // the bottom of the run (an empty database counts as a copy listing none)
            if (!t.read_in_layer(layer, db_path)) continue;
        }
        std::unordered_set<std::string> here;
        for (auto& p : copy) here.insert(key(p));
        std::unordered_set<std::string> still;
        for (auto& p : pkgs)
            if (alive.count(key(p)) != 0 && here.count(key(p)) != 0) {
                p.layer = layer;
                still.insert(key(p));
            }
        alive = std::move(still);
    }
}

namespace {

// The path a package's file has in the merged tree: its directories' symlinks
// resolved ("/bin/bash" is "usr/bin/bash" where /bin links to usr/bin).
std::optional<std::string> owned_path(const Tree& t, std::string_view file) {
    while (file.starts_with('/')) file.remove_prefix(1);
    if (file.empty()) return std::nullopt;
    if (t.find(file) != nullptr) return std::string(file);
    return t.resolve(file, false);
}

void count_files(const Tree& t, Inventory& inv) {
    std::unordered_set<std::string> owned;
    for (auto& p : inv.packages)
        for (auto& f : p.files)
            if (auto real = owned_path(t, f)) owned.insert(std::move(*real));
    for (auto& [path, e] : t.entries()) {
        if (S_ISDIR(e.mode)) continue;
        ++inv.files;
        if (owned.count(path) != 0) ++inv.owned_files;
    }
}

}  // namespace

Inventory inventory(const std::vector<LayerRef>& layers) {
    Tree t(layers);
    Inventory inv;
    inv.layers = layers;
    inv.os = read_os_release(t);
    for (auto* cataloger : {catalog_dpkg, catalog_apk, catalog_rpm, catalog_python, catalog_npm,
                            catalog_binaries, catalog_java, catalog_gems})
        cataloger(t, inv);
    for (auto& p : inv.packages) p.purl = purl(p, inv.os);
    count_files(t, inv);
    return inv;
}

}  // namespace husk::inventory
