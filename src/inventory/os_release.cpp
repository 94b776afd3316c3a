// The OS from /etc/os-release (else /usr/lib/os-release), os-release(5).
#include "inventory/catalog.h"

namespace husk::inventory {

namespace {
std::string unquote(std::string_view v) {
    v = trim(v);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
        v = v.substr(1, v.size() - 2);
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) ++i;
        out += v[i];
    }
    return out;
}
}  // namespace

OsRelease read_os_release(const Tree& t) {
    OsRelease os;
    auto text = t.read("etc/os-release");
    if (!text) text = t.read("usr/lib/os-release");
    if (!text) return os;
    for_each_line(*text, [&os](std::string_view line) {
        auto eq = line.find('=');
        if (eq == std::string_view::npos || line.starts_with('#')) return;
        std::string_view key = trim(line.substr(0, eq));
        std::string value = unquote(line.substr(eq + 1));
        if (key == "ID")
            os.id = value;
        else if (key == "VERSION_ID")
            os.version_id = value;
        else if (key == "VERSION_CODENAME")
            os.version_codename = value;
        else if (key == "NAME")
            os.name = value;
        else if (key == "PRETTY_NAME")
            os.pretty_name = value;
    });
    return os;
}

}  // namespace husk::inventory
