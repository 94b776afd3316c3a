// Version ordering per ecosystem, through the ecosystems' own libraries where Debian
// has them (libapt-pkg for Debian, librpm for RPM).
#include <apt-pkg/debversion.h>
#include <rpm/rpmver.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "inventory/scan.h"

namespace husk::inventory {

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
    // release components one by one, a missing one counting as 0 (PEP 440: 2.31 == 2.31.0)
    while (!ca.empty() || !cb.empty()) {
        auto next = [](std::string_view& v) {
            auto dot = v.find('.');
            std::string_view part = v.substr(0, dot);
            v = dot == std::string_view::npos ? std::string_view{} : v.substr(dot + 1);
            return part.empty() ? std::string_view("0") : part;
        };
        std::string_view xa = next(ca), xb = next(cb);
        if (int c = natural(xa, xb); c != 0) return c;
    }
    if (pa.empty() != pb.empty()) return pa.empty() ? 1 : -1;
    return natural(pa, pb);
}

// Alpine's versions (apk-tools' ordering; Debian ships no apk library):
// 1.2.3[letter][_suffix[N]]...[-rN]; _alpha < _beta < _pre < _rc < (none) < _cvs <
// _svn < _git < _hg < _p.
struct ApkVersion {
    std::vector<uint64_t> numbers;
    char letter = 0;
    std::vector<std::pair<int, uint64_t>> suffixes;
    uint64_t revision = 0;
};

constexpr int kNoSuffix = 4;

std::optional<ApkVersion> parse_apk(std::string_view v) {
    static constexpr std::string_view kSuffixes[] = {"alpha", "beta", "pre", "rc", "",
                                                     "cvs",   "svn",  "git", "hg", "p"};
    ApkVersion out;
    size_t i = 0;
    auto number = [&](uint64_t& n) {
        size_t start = i;
        n = 0;
        while (i < v.size() && v[i] >= '0' && v[i] <= '9')
            n = n * 10 + static_cast<uint64_t>(v[i++] - '0');
        return i > start;
    };
    do {
        uint64_t n = 0;
        if (!number(n)) return std::nullopt;
        out.numbers.push_back(n);
    } while (i < v.size() && v[i] == '.' && ++i != 0);
    if (i < v.size() && v[i] >= 'a' && v[i] <= 'z') out.letter = v[i++];
    while (i < v.size() && v[i] == '_') {
        size_t end = ++i;
        while (end < v.size() && v[end] >= 'a' && v[end] <= 'z') ++end;
        std::string_view name = v.substr(i, end - i);
        auto it = std::find(std::begin(kSuffixes), std::end(kSuffixes), name);
        if (name.empty() || it == std::end(kSuffixes)) return std::nullopt;
        i = end;
        uint64_t n = 0;
        number(n);
        out.suffixes.emplace_back(static_cast<int>(it - std::begin(kSuffixes)), n);
    }
    if (v.substr(i).starts_with("-r")) {
        i += 2;
        if (!number(out.revision)) return std::nullopt;
    }
    if (i != v.size()) return std::nullopt;
    return out;
}

int apk_order(const std::string& a, const std::string& b) {
    auto va = parse_apk(a), vb = parse_apk(b);
    if (!va || !vb) return natural(a, b);
    for (size_t k = 0; k < std::max(va->numbers.size(), vb->numbers.size()); ++k) {
        if (k >= va->numbers.size()) return -1;
        if (k >= vb->numbers.size()) return 1;
        if (va->numbers[k] != vb->numbers[k]) return va->numbers[k] < vb->numbers[k] ? -1 : 1;
    }
    if (va->letter != vb->letter) return va->letter < vb->letter ? -1 : 1;
    for (size_t k = 0; k < std::max(va->suffixes.size(), vb->suffixes.size()); ++k) {
        auto sa =
            k < va->suffixes.size() ? va->suffixes[k] : std::pair<int, uint64_t>{kNoSuffix, 0};
        auto sb =
            k < vb->suffixes.size() ? vb->suffixes[k] : std::pair<int, uint64_t>{kNoSuffix, 0};
        if (sa != sb) return sa < sb ? -1 : 1;
    }
    if (va->revision != vb->revision) return va->revision < vb->revision ? -1 : 1;
    return 0;
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
    if (type == "apk") return apk_order(a, b);
    if (type == "pypi")
        if (auto c = compare_pep440(a, b)) return *c;
    return release_order(a, b);
}

}  // namespace husk::inventory
