// Python distributions: *.dist-info/METADATA (and *.egg-info/PKG-INFO), core metadata
// headers (packaging.python.org/specifications/core-metadata); owned files from the
// dist-info's RECORD (paths relative to the directory holding the dist-info).
#include <sys/stat.h>

#include <map>

#include "inventory/catalog.h"

namespace husk::inventory {

void catalog_python(const Tree& t, Inventory& inv) {
    std::map<std::string, const Entry*> found;  // sorted: a stable order
    for (auto& [path, e] : t.entries())
        if (S_ISREG(e.mode) &&
            (path.ends_with(".dist-info/METADATA") || path.ends_with(".egg-info/PKG-INFO")))
            found.emplace(path, &e);
    for (auto& [path, e] : found) {
        auto text = t.read_in_layer(e->layer, path);
        if (!text) continue;
        Package p;
        p.type = "pypi";
        p.location = "/" + path;
        p.layer = e->layer;
        std::string expression;
        parse_stanza(*text, 0, [&](std::string_view k, std::string_view v) {
            if (k == "Name")
                p.name = v;
            else if (k == "Version")
                p.version = v;
            else if (k == "License" && p.license.empty() && v.find('\n') == std::string::npos)
                p.license = v;
            else if (k == "License-Expression")
                expression = v;
        });
        if (!expression.empty()) p.license = expression;
        if (p.name.empty()) continue;
        auto [info_dir, file] = split_last(path);
        std::string site(split_last(info_dir).first);
        if (auto record = t.read(std::string(info_dir) + "/RECORD")) {
            for_each_line(*record, [&](std::string_view line) {
                std::string_view rel = line.substr(0, line.find(','));
                if (rel.empty()) return;
                p.files.push_back(rel.starts_with('/') ? std::string(rel)
                                                       : "/" + site + "/" + std::string(rel));
            });
        }
        inv.packages.push_back(std::move(p));
    }
}

}  // namespace husk::inventory
