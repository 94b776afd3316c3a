// Java archives (*.jar, *.war, *.ear): META-INF/maven/GROUP/ARTIFACT/pom.properties
// (one package each), else META-INF/MANIFEST.MF (Implementation-Title/-Version,
// Bundle-SymbolicName/-Version), read with libarchive; archives inside archives (a
// war's WEB-INF/lib, a Spring Boot jar's BOOT-INF/lib) too, located as "outer!/inner".
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <map>
#include <memory>
#include <optional>

#include "inventory/catalog.h"
#include "sys/archive_ptr.h"
#include "sys/error.h"
#include "sys/log.h"

namespace husk::inventory {

namespace {

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

// An entry's bytes, up to `limit`; nullopt when it is larger (or unreadable).
std::optional<std::string> entry_data(archive* a, size_t limit) {
    std::string data;
    char buf[16384];
    la_ssize_t n = 0;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
        if (data.size() + static_cast<size_t>(n) > limit) return std::nullopt;
        data.append(buf, static_cast<size_t>(n));
    }
    if (n < 0) return std::nullopt;
    return data;
}

constexpr size_t kTextLimit = size_t{1} << 20;      // pom.properties, MANIFEST.MF
constexpr size_t kNestedLimit = size_t{256} << 20;  // one archive inside another
constexpr int kNestedDepth = 3;                     // jar in war in ear

bool is_java_archive(std::string_view name) {
    return name.ends_with(".jar") || name.ends_with(".war") || name.ends_with(".ear");
}

void read_jar(archive* a, const std::string& where, int layer, int depth, Inventory& inv);

// Opens an archive over an fd or memory, then reads it as a jar.
template <class Open>
void open_jar(const std::string& where, int layer, int depth, Inventory& inv, Open open) {
    sys::ArchiveReader a(archive_read_new());
    archive_read_support_format_zip(a.get());
    if (open(a.get()) != ARCHIVE_OK) {
        log::warn("sbom: {}: {}; skipped", where, archive_error_string(a.get()));
        return;
    }
    read_jar(a.get(), where, layer, depth, inv);
}

void read_jar(archive* a, const std::string& where, int layer, int depth, Inventory& inv) {
    std::vector<Package> poms;
    std::map<std::string, std::string> manifest;
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        std::string_view name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
        if (name == "META-INF/MANIFEST.MF") {
            std::string text = entry_data(a, kTextLimit).value_or("");
            parse_stanza(text, 0, [&](std::string_view k, std::string_view v) {
                manifest[std::string(k)] = v;
            });
        } else if (name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties")) {
            auto props = properties(entry_data(a, kTextLimit).value_or(""));
            Package p;
            p.type = "maven";
            p.namespace_ = props["groupId"];
            p.name = props["artifactId"];
            p.version = props["version"];
            if (!p.name.empty()) poms.push_back(std::move(p));
        } else if (is_java_archive(name) && archive_entry_filetype(e) == AE_IFREG) {
            std::string inner = fmt::format("{}!/{}", where, name);
            if (depth >= kNestedDepth) {
                log::warn("sbom: {}: archives nested deeper than {}; skipped", inner, kNestedDepth);
                continue;
            }
            auto bytes = entry_data(a, kNestedLimit);
            if (!bytes) {
                log::warn("sbom: {}: unreadable or larger than {} MiB; skipped", inner,
                          kNestedLimit >> 20);
                continue;
            }
            open_jar(inner, layer, depth + 1, inv, [&bytes](archive* n) {
                return archive_read_open_memory(n, bytes->data(), bytes->size());
            });
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
        if (S_ISREG(e.mode) && is_java_archive(path)) found.emplace(path, &e);
    for (auto& [path, e] : found) {
        sys::UniqueFd fd = t.open_in_layer(e->layer, path);
        if (fd)
            open_jar("/" + path, e->layer, 0, inv,
                     [&fd](archive* a) { return archive_read_open_fd(a, fd.get(), 65536); });
    }
}

}  // namespace husk::inventory
