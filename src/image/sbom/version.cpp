// Version ordering per ecosystem, through the ecosystems' own libraries where Debian
// has them (libapt-pkg for Debian, librpm for RPM).
#include <apt-pkg/debversion.h>
#include <rpm/rpmver.h>

#include <memory>

#include "image/sbom/scan.h"

namespace husk::image::sbom {

namespace {

struct RpmverFree {
    void operator()(rpmver_s* v) const { rpmverFree(v); }
};

int sign(int v) {
    return (v > 0) - (v < 0);
}

// Digits compared as numbers, other characters as they are: "1.10" > "1.9".
int natural(std::string_view a, std::string_view b) {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        bool da = a[i] >= '0' && a[i] <= '9', db = b[j] >= '0' && b[j] <= '9';
        if (da && db) {
            size_t ei = i, ej = j;
            while (ei < a.size() && a[ei] >= '0' && a[ei] <= '9') ++ei;
            while (ej < b.size() && b[ej] >= '0' && b[ej] <= '9') ++ej;
            std::string_view na = a.substr(i, ei - i), nb = b.substr(j, ej - j);
            while (na.size() > 1 && na.front() == '0') na.remove_prefix(1);
            while (nb.size() > 1 && nb.front() == '0') nb.remove_prefix(1);
            if (na.size() != nb.size()) return na.size() < nb.size() ? -1 : 1;
            if (int c = na.compare(nb); c != 0) return sign(c);
            i = ei;
            j = ej;
            continue;
        }
        if (a[i] != b[j]) return a[i] < b[j] ? -1 : 1;
        ++i;
        ++j;
    }
    return sign(static_cast<int>(a.size() - i) - static_cast<int>(b.size() - j));
}

// semver-like: "v" dropped, build metadata ("+...") ignored, a pre-release ("-rc1",
// or PEP 440's "rc1"/"a1"/"b1"/".dev1" suffix) sorts before the release itself.
int release_order(std::string_view a, std::string_view b) {
    auto split = [](std::string_view v) {
        if (v.starts_with('v')) v.remove_prefix(1);
        v = v.substr(0, v.find('+'));
        size_t pre = v.find('-');
        if (pre == std::string_view::npos) {
            // PEP 440 pre-releases: the first letter after the numeric release
            pre = v.find_first_not_of("0123456789.");
            if (pre != std::string_view::npos && v.substr(pre).starts_with("post"))
                pre = std::string_view::npos;
        }
        if (pre == std::string_view::npos) return std::pair{v, std::string_view{}};
        return std::pair{v.substr(0, pre), v.substr(pre)};
    };
    auto [ca, pa] = split(a);
    auto [cb, pb] = split(b);
    while (ca.ends_with('.')) ca.remove_suffix(1);
    while (cb.ends_with('.')) cb.remove_suffix(1);
    if (int c = natural(ca, cb); c != 0) return c;
    if (pa.empty() != pb.empty()) return pa.empty() ? 1 : -1;
    return natural(pa, pb);
}

}  // namespace

int compare_versions(std::string_view type, const std::string& a, const std::string& b) {
    if (type == "deb") return sign(debVS.CmpVersion(a, b));
    if (type == "rpm") {
        // rpmverParse wants E:V-R with an epoch; a version without one has epoch 0
        std::unique_ptr<rpmver_s, RpmverFree> va(rpmverParse(a.c_str()));
        std::unique_ptr<rpmver_s, RpmverFree> vb(rpmverParse(b.c_str()));
        if (va && vb) return sign(rpmverCmp(va.get(), vb.get()));
        return natural(a, b);
    }
    if (type == "apk") return natural(a, b);
    return release_order(a, b);
}

}  // namespace husk::image::sbom
