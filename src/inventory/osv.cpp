// OSV records in, findings out: the range evaluation of the OSV schema
// (ossf.github.io/osv-schema, "Evaluation"), ecosystem names as OSV writes them.
#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "inventory/catalog.h"
#include "inventory/scan.h"
#include "sys/archive_ptr.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/text.h"

namespace husk::inventory {

namespace {

using nlohmann::json;

std::string str_at(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string severity_of(const json& j) {
    for (const char* where : {"database_specific", "ecosystem_specific"})
        if (auto it = j.find(where); it != j.end() && it->is_object()) {
            std::string s = sys::ascii_upper(str_at(*it, "severity"));
            if (!s.empty()) {
                if (s == "MODERATE") s = "MEDIUM";
                return s;
            }
        }
    // Only vectors: the highest rating computed from the newest CVSS version given
    // (CVSS_V4, else CVSS_V3, else CVSS_V2); a vector we cannot score is passed over.
    auto sev = j.find("severity");
    if (sev == j.end() || !sev->is_array()) return {};
    std::optional<double> best4, best3, best2;
    for (auto& e : *sev) {
        if (!e.is_object()) continue;
        std::string type = str_at(e, "type"), vec = str_at(e, "score");
        if (type != "CVSS_V2" && type != "CVSS_V3" && type != "CVSS_V4") continue;
        auto score = cvss_base_score(vec);
        if (!score) continue;
        auto& best = type == "CVSS_V4" ? best4 : type == "CVSS_V3" ? best3 : best2;
        if (!best || *score > *best) best = score;
    }
    if (best4) return cvss_severity(*best4, false);
    if (best3) return cvss_severity(*best3, false);
    if (best2) return cvss_severity(*best2, true);
    return {};
}

OsvRecord parse_record(const json& j) {
    OsvRecord r;
    r.id = str_at(j, "id");
    r.summary = str_at(j, "summary");
    r.severity = severity_of(j);
    if (auto a = j.find("aliases"); a != j.end() && a->is_array())
        for (auto& s : *a)
            if (s.is_string()) r.aliases.push_back(s.get<std::string>());
    auto aff = j.find("affected");
    if (aff == j.end() || !aff->is_array()) return r;
    for (auto& a : *aff) {
        OsvRecord::Affected x;
        if (auto p = a.find("package"); p != a.end() && p->is_object()) {
            x.ecosystem = str_at(*p, "ecosystem");
            x.name = str_at(*p, "name");
        }
        x.severity = severity_of(a);
        if (auto v = a.find("versions"); v != a.end() && v->is_array())
            for (auto& s : *v)
                if (s.is_string()) x.versions.push_back(s.get<std::string>());
        if (auto rs = a.find("ranges"); rs != a.end() && rs->is_array())
            for (auto& rj : *rs) {
                OsvRecord::Range range;
                range.type = str_at(rj, "type");
                if (auto ev = rj.find("events"); ev != rj.end() && ev->is_array())
                    for (auto& e : *ev)
                        for (const char* kind : {"introduced", "fixed", "last_affected"})
                            if (std::string v = str_at(e, kind); !v.empty())
                                range.events.push_back({kind, v});
                x.ranges.push_back(std::move(range));
            }
        r.affected.push_back(std::move(x));
    }
    return r;
}

void add_records(std::string_view text, const std::string& what, std::vector<OsvRecord>& out) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) throw Error(error_format("read \"{}\": not JSON", what));
    if (j.is_array()) {
        for (auto& r : j)
            if (r.is_object()) out.push_back(parse_record(r));
    } else if (j.is_object()) {
        out.push_back(parse_record(j));
    }
}

void load_zip(const std::string& path, std::vector<OsvRecord>& out) {
    sys::ArchiveReader a(archive_read_new());
    archive_read_support_format_zip(a.get());
    if (archive_read_open_filename(a.get(), path.c_str(), 65536) != ARCHIVE_OK)
        throw Error(error_format("open \"{}\": {}", path, archive_error_string(a.get())));
    archive_entry* e = nullptr;
    int rc = 0;
    while ((rc = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK) {
        std::string name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
        if (!name.ends_with(".json")) continue;
        std::string data;
        char buf[65536];
        la_ssize_t n = 0;
        while ((n = archive_read_data(a.get(), buf, sizeof buf)) > 0)
            data.append(buf, static_cast<size_t>(n));
        if (n < 0)
            throw Error(error_format("read \"{}\" in \"{}\": {}", name, path,
                                     archive_error_string(a.get())));
        add_records(data, fmt::format("{}:{}", path, name), out);
    }
    if (rc != ARCHIVE_EOF)
        throw Error(error_format("read \"{}\": {}", path, archive_error_string(a.get())));
}

void load_path(const std::string& path, std::vector<OsvRecord>& out) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw_sys("stat", path);
    if (S_ISDIR(st.st_mode)) {
        for (auto& n : sys::list_dir(path)) {
            if (n.starts_with('.')) continue;
            std::string sub = fmt::format("{}/{}", path, n);
            struct stat s2 {};
            if (::stat(sub.c_str(), &s2) != 0) throw_sys("stat", sub);
            if (S_ISDIR(s2.st_mode) || n.ends_with(".json") || n.ends_with(".zip"))
                load_path(sub, out);
        }
    } else if (path.ends_with(".zip")) {
        load_zip(path, out);
    } else {
        add_records(sys::read_file(path), path, out);
    }
}

// OSV's ecosystem for a package, and whether a qualified one ("Debian:12",
// "Alpine:v3.19") is the release of the image.
bool ecosystem_matches(const Package& p, const OsRelease& os, std::string_view eco) {
    static const std::map<std::string, std::vector<std::string>> names = {
        {"deb", {"Debian"}},
        {"apk", {"Alpine"}},
        {"rpm", {"Red Hat", "AlmaLinux", "Rocky Linux", "openSUSE", "SUSE", "Mageia"}},
        {"pypi", {"PyPI"}},
        {"npm", {"npm"}},
        {"golang", {"Go"}},
        {"maven", {"Maven"}},
        {"gem", {"RubyGems"}},
        {"cargo", {"crates.io"}}};
    auto it = names.find(p.type);
    if (it == names.end()) return false;
    std::string_view base = eco.substr(0, eco.find(':'));
    if (std::find(it->second.begin(), it->second.end(), base) == it->second.end()) return false;
    if (eco.size() == base.size()) return true;
    std::string_view release = eco.substr(base.size() + 1);
    if (p.type == "deb") return release == os.version_id;
    if (p.type == "apk") {  // "v3.19" against VERSION_ID 3.19.1
        if (release.starts_with('v')) release.remove_prefix(1);
        return os.version_id == release || os.version_id.starts_with(std::string(release) + ".");
    }
    return true;
}

std::string pep503(std::string s) {
    for (auto& c : s) {
        if (c == '_' || c == '.') c = '-';
        c = static_cast<char>(::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

bool name_matches(const Package& p, const std::string& name) {
    if (p.type == "deb" || p.type == "apk")  // OSV's Debian and Alpine records name source packages
        return name == (p.source.empty() ? p.name : p.source) || name == p.name;
    if (p.type == "pypi") return pep503(name) == pep503(p.name);
    if (p.type == "maven") return name == p.namespace_ + ":" + p.name;
    return name == p.name;
}

// Whether `v` is in the range (OSV's evaluation: events sorted by version, "0" first),
// and the first fixed version above it.
bool in_range(const std::string& type, const std::string& v, const OsvRecord::Range& r,
              std::string& fixed) {
    auto events = r.events;
    auto cmp = [&](const std::string& a, const std::string& b) {
        if (a == "0" || b == "0") return a == b ? 0 : (a == "0" ? -1 : 1);
        return compare_versions(type, a, b);
    };
    std::stable_sort(events.begin(), events.end(),
                     [&](auto& x, auto& y) { return cmp(x.version, y.version) < 0; });
    bool affected = false;
    for (auto& e : events) {
        int c = cmp(v, e.version);
        if (e.kind == "introduced" && c >= 0)
            affected = true;
        else if ((e.kind == "fixed" && c >= 0) || (e.kind == "last_affected" && c > 0))
            affected = false;
    }
    if (affected)
        for (auto& e : events)
            if (e.kind == "fixed" && cmp(e.version, v) > 0) {
                fixed = e.version;
                break;
            }
    return affected;
}

}  // namespace

std::vector<OsvRecord> load_osv(const std::string& path) {
    std::vector<OsvRecord> out;
    with_context(error_format("load vulnerability database \"{}\"", path),
                 [&] { load_path(path, out); });
    return out;
}

std::vector<Finding> match(const Inventory& inv, const std::vector<OsvRecord>& records) {
    std::vector<Finding> out;
    for (auto& p : inv.packages)
        for (auto& r : records)
            for (auto& a : r.affected) {
                if (!name_matches(p, a.name) || !ecosystem_matches(p, inv.os, a.ecosystem))
                    continue;
                std::string fixed;
                bool hit =
                    std::find(a.versions.begin(), a.versions.end(), p.version) != a.versions.end();
                for (auto& range : a.ranges)
                    if (!hit && (range.type == "ECOSYSTEM" || range.type == "SEMVER"))
                        hit = in_range(p.type, p.version, range, fixed);
                if (!hit) continue;
                std::string sev = !a.severity.empty() ? a.severity : r.severity;
                out.push_back(
                    {&p, r.id, r.aliases, r.summary, sev.empty() ? "UNKNOWN" : sev, fixed});
                break;  // one finding per record and package
            }
    return out;
}

std::string findings_table(const std::vector<Finding>& f) {
    size_t wn = 7, wv = 9, wf = 5, wi = 2;
    for (auto& x : f) {
        wn = std::max(wn, x.package->name.size());
        wv = std::max(wv, x.package->version.size());
        wf = std::max(wf, x.fixed.size());
        wi = std::max(wi, x.id.size());
    }
    std::string out = fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", "PACKAGE", wn,
                                  "INSTALLED", wv, "FIXED", wf, "ID", wi, "SEVERITY");
    for (auto& x : f)
        out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", x.package->name, wn,
                           x.package->version, wv, x.fixed, wf, x.id, wi, x.severity);
    out += fmt::format("\n{} vulnerabilities\n", f.size());
    return out;
}

std::string findings_json(const std::vector<Finding>& f) {
    json out = json::array();
    for (auto& x : f)
        out.push_back({{"package", x.package->name},
                       {"type", x.package->type},
                       {"purl", x.package->purl},
                       {"installed", x.package->version},
                       {"fixed", x.fixed},
                       {"id", x.id},
                       {"aliases", x.aliases},
                       {"summary", x.summary},
                       {"severity", x.severity},
                       {"layer", x.package->layer}});
    return out.dump(2) + "\n";
}

std::string findings_sarif(const std::vector<Finding>& f) {
    json rules = json::array();
    json results = json::array();
    std::map<std::string, bool> seen;
    for (auto& x : f) {
        if (!seen[x.id]) {
            seen[x.id] = true;
            rules.push_back({{"id", x.id},
                             {"shortDescription", {{"text", x.summary.empty() ? x.id : x.summary}}},
                             {"properties", {{"severity", x.severity}}}});
        }
        std::string level = x.severity == "CRITICAL" || x.severity == "HIGH" ? "error"
                            : x.severity == "MEDIUM"                         ? "warning"
                                                                             : "note";
        std::string text =
            fmt::format("{} {} is affected by {}", x.package->name, x.package->version, x.id);
        if (!x.fixed.empty()) text += fmt::format("; fixed in {}", x.fixed);
        std::string uri = x.package->location;
        if (uri.starts_with('/')) uri.erase(0, 1);
        results.push_back(
            {{"ruleId", x.id},
             {"level", level},
             {"message", {{"text", text}}},
             {"locations", {{{"physicalLocation", {{"artifactLocation", {{"uri", uri}}}}}}}},
             {"properties", {{"purl", x.package->purl}, {"fixed", x.fixed}}}});
    }
    json out = {
        {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
        {"version", "2.1.0"},
        {"runs",
         {{{"tool", {{"driver", {{"name", "husk"}, {"version", HUSK_VERSION}, {"rules", rules}}}}},
           {"results", results}}}}};
    return out.dump(2) + "\n";
}

}  // namespace husk::inventory
