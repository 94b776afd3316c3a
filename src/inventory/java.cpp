// Java archives (*.jar, *.war, *.ear): META-INF/maven/GROUP/ARTIFACT/pom.properties
// (one package each), else META-INF/MANIFEST.MF (Implementation-Title/-Version,
// Bundle-SymbolicName/-Version), read with libarchive.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <map>
#include <memory>

#include "inventory/catalog.h"
#include "sys/error.h"
#include "sys/log.h"

namespace husk::inventory {

namespace {

struct ArchiveFree {
    void operator()(archive* a) const { archive_read_free(a); }
};

std::map<std::string, std::string> properties(std::string_view text) {
    std::map<std::string, std::string> out;
    for_each_line(text, [&out](std::string_view line) {
        line = trim(line);
        if (line.empty() || line.front() == '#') return;
        auto eq = line.find('=');
        if (eq == std::string_view::npos) return;
        out[std::string(trim(line.substr(0, eq)))] = trim(line.substr(eq + 1));
    });
    return out;
}

std::string entry_data(archive* a) {
    std::string data;
    char buf[16384];
    la_ssize_t n = 0;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0 && data.size() < (1U << 20))
        data.append(buf, static_cast<size_t>(n));
    return data;
}

void read_jar(int fd, const std::string& where, int layer, Inventory& inv) {
    std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
    archive_read_support_format_zip(a.get());
    if (archive_read_open_fd(a.get(), fd, 65536) != ARCHIVE_OK) {
        log::warn("sbom: {}: {}; skipped", where, archive_error_string(a.get()));
        return;
    }
    std::vector<Package> poms;
    std::map<std::string, std::string> manifest;
    archive_entry* e = nullptr;
    while (archive_read_next_header(a.get(), &e) == ARCHIVE_OK) {
        std::string_view name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
        if (name == "META-INF/MANIFEST.MF") {
            std::string text = entry_data(a.get());
            parse_stanza(text, 0, [&](std::string_view k, std::string_view v) {
                manifest[std::string(k)] = v;
            });
        } else if (name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties")) {
            auto props = properties(entry_data(a.get()));
            Package p;
            p.type = "maven";
            p.namespace_ = props["groupId"];
            p.name = props["artifactId"];
            p.version = props["version"];
            if (!p.name.empty()) poms.push_back(std::move(p));
        }
    }
    if (poms.empty()) {
        Package p;
        p.type = "maven";
        p.name = manifest.count("Implementation-Title") != 0 ? manifest["Implementation-Title"]
                                                             : manifest["Bundle-SymbolicName"];
        p.version = manifest.count("Implementation-Version") != 0
                        ? manifest["Implementation-Version"]
                        : manifest["Bundle-Version"];
        if (p.name.empty()) {  // the file name without .jar
            std::string base(split_last(where).second);
            p.name = base.substr(0, base.rfind('.'));
        }
        poms.push_back(std::move(p));
    }
    add_found(inv, poms, where, layer);
}

}  // namespace

void catalog_java(const Tree& t, Inventory& inv) {
    std::map<std::string, const Entry*> found;
    for (auto& [path, e] : t.entries())
        if (S_ISREG(e.mode) &&
            (path.ends_with(".jar") || path.ends_with(".war") || path.ends_with(".ear")))
            found.emplace(path, &e);
    for (auto& [path, e] : found) {
        sys::UniqueFd fd = t.open_in_layer(e->layer, path);
        if (fd) read_jar(fd.get(), "/" + path, e->layer, inv);
    }
}

}  // namespace husk::inventory
