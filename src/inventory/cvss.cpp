// CVSS base scores from vector strings (v3.0, v3.1 and v2), as FIRST's specifications
// define them, and the qualitative severity of a score. OSV records often carry only
// a vector ("severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/..."}]).
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "inventory/scan.h"

namespace husk::inventory {

namespace {

// "AV:N/AC:L/..." after the prefix → {"AV": "N", ...}; nullopt on a malformed part.
std::optional<std::map<std::string, std::string, std::less<>>> metrics(std::string_view v) {
    std::map<std::string, std::string, std::less<>> out;
    while (!v.empty()) {
        size_t slash = v.find('/');
        std::string_view part = v.substr(0, slash);
        size_t colon = part.find(':');
        if (colon == std::string_view::npos || colon == 0 || colon + 1 == part.size())
            return std::nullopt;
        out.emplace(std::string(part.substr(0, colon)), std::string(part.substr(colon + 1)));
        v = slash == std::string_view::npos ? std::string_view{} : v.substr(slash + 1);
    }
    return out;
}

// The value of metric `name` among `choices` ({"N", 0.85}, ...); nullopt when absent/unknown.
std::optional<double> weight(const std::map<std::string, std::string, std::less<>>& m,
                             std::string_view name,
                             std::initializer_list<std::pair<std::string_view, double>> choices) {
    auto it = m.find(name);
    if (it == m.end()) return std::nullopt;
    for (auto& [k, w] : choices)
        if (it->second == k) return w;
    return std::nullopt;
}

// CVSS v3.1's Roundup: the smallest one-decimal number >= x, computed on integers so
// that floating-point noise (4.000000000000001) does not round up.
double roundup31(double x) {
    auto i = static_cast<long long>(std::llround(x * 100000.0));
    if (i % 10000 == 0) return static_cast<double>(i) / 100000.0;
    long long tenths = i / 10000 + 1;
    return static_cast<double>(tenths) / 10.0;
}

std::optional<double> v3(std::string_view rest, bool v30) {
    auto m = metrics(rest);
    if (!m) return std::nullopt;
    auto scope = m->find("S");
    if (scope == m->end() || (scope->second != "U" && scope->second != "C")) return std::nullopt;
    bool changed = scope->second == "C";
    auto av = weight(*m, "AV", {{"N", 0.85}, {"A", 0.62}, {"L", 0.55}, {"P", 0.2}});
    auto ac = weight(*m, "AC", {{"L", 0.77}, {"H", 0.44}});
    auto pr =
        weight(*m, "PR", {{"N", 0.85}, {"L", changed ? 0.68 : 0.62}, {"H", changed ? 0.5 : 0.27}});
    auto ui = weight(*m, "UI", {{"N", 0.85}, {"R", 0.62}});
    auto c = weight(*m, "C", {{"H", 0.56}, {"L", 0.22}, {"N", 0}});
    auto i = weight(*m, "I", {{"H", 0.56}, {"L", 0.22}, {"N", 0}});
    auto a = weight(*m, "A", {{"H", 0.56}, {"L", 0.22}, {"N", 0}});
    if (!av || !ac || !pr || !ui || !c || !i || !a) return std::nullopt;
    double iss = 1 - (1 - *c) * (1 - *i) * (1 - *a);
    double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
    double exploitability = 8.22 * *av * *ac * *pr * *ui;
    if (impact <= 0) return 0.0;
    double sum = changed ? 1.08 * (impact + exploitability) : impact + exploitability;
    sum = std::min(sum, 10.0);
    return v30 ? std::ceil(sum * 10.0) / 10.0 : roundup31(sum);
}

std::optional<double> v2(std::string_view vec) {
    auto m = metrics(vec);
    if (!m) return std::nullopt;
    auto av = weight(*m, "AV", {{"L", 0.395}, {"A", 0.646}, {"N", 1.0}});
    auto ac = weight(*m, "AC", {{"H", 0.35}, {"M", 0.61}, {"L", 0.71}});
    auto au = weight(*m, "Au", {{"M", 0.45}, {"S", 0.56}, {"N", 0.704}});
    auto c = weight(*m, "C", {{"N", 0}, {"P", 0.275}, {"C", 0.660}});
    auto i = weight(*m, "I", {{"N", 0}, {"P", 0.275}, {"C", 0.660}});
    auto a = weight(*m, "A", {{"N", 0}, {"P", 0.275}, {"C", 0.660}});
    if (!av || !ac || !au || !c || !i || !a) return std::nullopt;
    double impact = 10.41 * (1 - (1 - *c) * (1 - *i) * (1 - *a));
    double exploitability = 20 * *av * *ac * *au;
    double f = impact == 0 ? 0 : 1.176;
    double score = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * f;
    return std::round(score * 10.0) / 10.0;
}

}  // namespace

std::optional<double> cvss_base_score(std::string_view vector) {
    if (vector.starts_with("CVSS:3.1/")) return v3(vector.substr(9), false);
    if (vector.starts_with("CVSS:3.0/")) return v3(vector.substr(9), true);
    if (vector.starts_with("CVSS:")) return std::nullopt;  // v4 and later: not computed
    if (vector.starts_with("(") && vector.ends_with(")"))
        vector = vector.substr(1, vector.size() - 2);
    return v2(vector);
}

std::string cvss_severity(double score, bool v2) {
    if (v2) return score >= 7.0 ? "HIGH" : score >= 4.0 ? "MEDIUM" : "LOW";
    if (score >= 9.0) return "CRITICAL";
    if (score >= 7.0) return "HIGH";
    if (score >= 4.0) return "MEDIUM";
    if (score > 0.0) return "LOW";
    return "NONE";
}

}  // namespace husk::inventory
