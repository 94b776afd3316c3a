// Package URLs (github.com/package-url/purl-spec): pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS,
// qualifiers sorted by key, segments percent-encoded.
#include <fmt/format.h>

#include <map>

#include "inventory/catalog.h"
#include "sys/text.h"

namespace husk::inventory {

namespace {

std::string encode(std::string_view s, bool keep_slash = false) {
    std::string out;
    for (unsigned char c : s) {
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '.' || c == '-' || c == '_' || c == '~' || c == '+' ||
                     (keep_slash && c == '/');
        if (plain)
            out += static_cast<char>(c);
        else
            out += fmt::format("%{:02X}", c);
    }
    return out;
}

}  // namespace

std::string purl(const Package& p, const OsRelease& os) {
    std::string ns = p.namespace_;
    std::string name = p.name;
    std::string version = p.version;
    std::map<std::string, std::string> q;
    bool os_package = p.type == "deb" || p.type == "apk" || p.type == "rpm";
    if (os_package) {
        static const std::map<std::string, std::string> fallback = {
            {"deb", "debian"}, {"apk", "alpine"}, {"rpm", "redhat"}};
        ns = os.id.empty() ? fallback.at(p.type) : os.id;
        if (!p.arch.empty()) q["arch"] = p.arch;
        if (!os.id.empty())
            q["distro"] = os.version_id.empty() ? os.id : os.id + "-" + os.version_id;
    }
    if (p.type == "deb" && !p.source.empty() && p.source != p.name)
        q["upstream"] = p.source_version.empty() ? p.source : p.source + "@" + p.source_version;
    if (p.type == "rpm") {
        if (auto colon = version.find(':'); colon != std::string::npos) {
            q["epoch"] = version.substr(0, colon);
            version = version.substr(colon + 1);
        }
    }
    if (p.type == "pypi") {
        name = sys::ascii_lower(name);
        for (auto& c : name)
            if (c == '_' || c == '.') c = '-';
    }
    if (p.type == "npm" && name.starts_with('@')) {
        auto slash = name.find('/');
        if (slash != std::string::npos) {
            ns = name.substr(0, slash);
            name = name.substr(slash + 1);
        }
    }
    if (p.type == "golang") {
        auto slash = name.rfind('/');
        if (slash != std::string::npos) {
            ns = name.substr(0, slash);
            name = name.substr(slash + 1);
        }
    }
    std::string out = "pkg:" + p.type + "/";
    if (!ns.empty()) out += encode(ns, p.type == "golang") + "/";
    out += encode(name);
    if (!version.empty()) out += "@" + encode(version);
    char sep = '?';
    for (auto& [k, v] : q) {
        out += sep + k + "=" + encode(v);
        sep = '&';
    }
    return out;
}

}  // namespace husk::inventory
