// CVSS scores from vector strings (v4.0, v3.0, v3.1 and v2), as FIRST's specifications
// define them, and the qualitative severity of a score. OSV records often carry only
// a vector ("severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/..."}]).
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inventory/scan.h"

namespace husk::inventory {

namespace {

using Metrics = std::map<std::string, std::string, std::less<>>;

// "AV:N/AC:L/..." after the prefix → {"AV": "N", ...}; nullopt on a malformed part or a
// metric given twice (every version's specification allows each metric once).
std::optional<Metrics> metrics(std::string_view v) {
    Metrics out;
    while (!v.empty()) {
        size_t slash = v.find('/');
        std::string_view part = v.substr(0, slash);
        size_t colon = part.find(':');
        if (colon == std::string_view::npos || colon == 0 || colon + 1 == part.size())
            return std::nullopt;
        if (!out.emplace(std::string(part.substr(0, colon)), std::string(part.substr(colon + 1)))
                 .second)
            return std::nullopt;
        if (slash + 1 == v.size()) return std::nullopt;  // a trailing '/'
        v = slash == std::string_view::npos ? std::string_view{} : v.substr(slash + 1);
    }
    return out;
}

// The value of metric `name` among `choices` ({"N", 0.85}, ...); nullopt when absent/unknown.
std::optional<double> weight(const Metrics& m, std::string_view name,
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

// ---- CVSS v4.0 (FIRST, "CVSS v4.0 Specification Document", section 8) ----------------
//
// A vector falls into one of 270 macro vectors: six equivalence sets EQ1..EQ6, each a
// level 0 (most severe) to 2 computed from a few metrics. The specification gives each
// macro vector a score (the table below); a vector scores less than its macro vector's
// score by how far it is, in severity steps, from the most severe vectors of its macro
// vector, scaled into the gap to the next lower macro vector. Threat (E) and
// environmental (CR.., M..) metrics take part when the vector gives them (CVSS-BT/BE/BTE);
// absent or X, they take the specification's defaults (E:A, CR/IR/AR:H, M.. = the base).

// Every metric of a v4.0 vector and its values; the first eleven are the mandatory base
// metrics. The supplemental metrics (S, AU, R, V, RE, U) are valid but not scored.
constexpr std::array<std::pair<std::string_view, std::string_view>, 32> kV4Metrics{{
    {"AV", "/N/A/L/P/"},    {"AC", "/L/H/"},
    {"AT", "/N/P/"},        {"PR", "/N/L/H/"},
    {"UI", "/N/P/A/"},      {"VC", "/H/L/N/"},
    {"VI", "/H/L/N/"},      {"VA", "/H/L/N/"},
    {"SC", "/H/L/N/"},      {"SI", "/H/L/N/"},
    {"SA", "/H/L/N/"},      {"E", "/X/A/P/U/"},
    {"CR", "/X/H/M/L/"},    {"IR", "/X/H/M/L/"},
    {"AR", "/X/H/M/L/"},    {"MAV", "/X/N/A/L/P/"},
    {"MAC", "/X/L/H/"},     {"MAT", "/X/N/P/"},
    {"MPR", "/X/N/L/H/"},   {"MUI", "/X/N/P/A/"},
    {"MVC", "/X/H/L/N/"},   {"MVI", "/X/H/L/N/"},
    {"MVA", "/X/H/L/N/"},   {"MSC", "/X/H/L/N/"},
    {"MSI", "/X/S/H/L/N/"}, {"MSA", "/X/S/H/L/N/"},
    {"S", "/X/N/P/"},       {"AU", "/X/N/Y/"},
    {"R", "/X/A/U/I/"},     {"V", "/X/D/C/"},
    {"RE", "/X/L/M/H/"},    {"U", "/X/Clear/Green/Amber/Red/"},
}};
constexpr size_t kV4BaseMetrics = 11;

bool v4_valid(const Metrics& m) {
    for (auto& [name, value] : m) {
        auto def = std::ranges::find(kV4Metrics, std::string_view(name),
                                     &std::pair<std::string_view, std::string_view>::first);
        if (def == kV4Metrics.end()) return false;
        std::string slashed = "/" + value + "/";
        if (def->second.find(slashed) == std::string_view::npos) return false;
    }
    return std::all_of(kV4Metrics.begin(), kV4Metrics.begin() + kV4BaseMetrics,
                       [&](auto& def) { return m.contains(def.first); });
}

// The value a metric scores with: its modified (M..) value when given, else the base
// value; E and CR/IR/AR not given (or X) are the worst case, E:A and H.
std::string_view effective(const Metrics& m, std::string_view name) {
    if (auto mod = m.find("M" + std::string(name)); mod != m.end() && mod->second != "X")
        return mod->second;
    auto it = m.find(name);
    if (it != m.end() && it->second != "X") return it->second;
    if (name == "E") return "A";
    return "H";  // CR, IR, AR
}

// Each macro vector's score in tenths (EQ1..EQ6 as the key's digits): data of the
// specification (its macro-vector lookup table, as FIRST's calculator publishes it).
constexpr std::array<std::pair<std::string_view, int>, 270> kMacroScores{{
    {"000000", 100}, {"000001", 99}, {"000010", 98}, {"000011", 95}, {"000020", 95}, {"000021", 92},
    {"000100", 100}, {"000101", 96}, {"000110", 93}, {"000111", 87}, {"000120", 91}, {"000121", 81},
    {"000200", 93},  {"000201", 90}, {"000210", 89}, {"000211", 80}, {"000220", 81}, {"000221", 68},
    {"001000", 98},  {"001001", 95}, {"001010", 95}, {"001011", 92}, {"001020", 90}, {"001021", 84},
    {"001100", 93},  {"001101", 92}, {"001110", 89}, {"001111", 81}, {"001120", 81}, {"001121", 65},
    {"001200", 88},  {"001201", 80}, {"001210", 78}, {"001211", 70}, {"001220", 69}, {"001221", 48},
    {"002001", 92},  {"002011", 82}, {"002021", 72}, {"002101", 79}, {"002111", 69}, {"002121", 50},
    {"002201", 69},  {"002211", 55}, {"002221", 27}, {"010000", 99}, {"010001", 97}, {"010010", 95},
    {"010011", 92},  {"010020", 92}, {"010021", 85}, {"010100", 95}, {"010101", 91}, {"010110", 90},
    {"010111", 83},  {"010120", 84}, {"010121", 71}, {"010200", 92}, {"010201", 81}, {"010210", 82},
    {"010211", 71},  {"010220", 72}, {"010221", 53}, {"011000", 95}, {"011001", 93}, {"011010", 92},
    {"011011", 85},  {"011020", 85}, {"011021", 73}, {"011100", 92}, {"011101", 82}, {"011110", 80},
    {"011111", 72},  {"011120", 70}, {"011121", 59}, {"011200", 84}, {"011201", 70}, {"011210", 71},
    {"011211", 52},  {"011220", 50}, {"011221", 30}, {"012001", 86}, {"012011", 75}, {"012021", 52},
    {"012101", 71},  {"012111", 52}, {"012121", 29}, {"012201", 63}, {"012211", 29}, {"012221", 17},
    {"100000", 98},  {"100001", 95}, {"100010", 94}, {"100011", 87}, {"100020", 91}, {"100021", 81},
    {"100100", 94},  {"100101", 89}, {"100110", 86}, {"100111", 74}, {"100120", 77}, {"100121", 64},
    {"100200", 87},  {"100201", 75}, {"100210", 74}, {"100211", 63}, {"100220", 63}, {"100221", 49},
    {"101000", 94},  {"101001", 89}, {"101010", 88}, {"101011", 77}, {"101020", 76}, {"101021", 67},
    {"101100", 86},  {"101101", 76}, {"101110", 74}, {"101111", 58}, {"101120", 59}, {"101121", 50},
    {"101200", 72},  {"101201", 57}, {"101210", 57}, {"101211", 52}, {"101220", 52}, {"101221", 25},
    {"102001", 83},  {"102011", 70}, {"102021", 54}, {"102101", 65}, {"102111", 58}, {"102121", 26},
    {"102201", 53},  {"102211", 21}, {"102221", 13}, {"110000", 95}, {"110001", 90}, {"110010", 88},
    {"110011", 76},  {"110020", 76}, {"110021", 70}, {"110100", 90}, {"110101", 77}, {"110110", 75},
    {"110111", 62},  {"110120", 61}, {"110121", 53}, {"110200", 77}, {"110201", 66}, {"110210", 68},
    {"110211", 59},  {"110220", 52}, {"110221", 30}, {"111000", 89}, {"111001", 78}, {"111010", 76},
    {"111011", 67},  {"111020", 62}, {"111021", 58}, {"111100", 74}, {"111101", 59}, {"111110", 57},
    {"111111", 57},  {"111120", 47}, {"111121", 23}, {"111200", 61}, {"111201", 52}, {"111210", 57},
    {"111211", 29},  {"111220", 24}, {"111221", 16}, {"112001", 71}, {"112011", 59}, {"112021", 30},
    {"112101", 58},  {"112111", 26}, {"112121", 15}, {"112201", 23}, {"112211", 13}, {"112221", 6},
    {"200000", 93},  {"200001", 87}, {"200010", 86}, {"200011", 72}, {"200020", 75}, {"200021", 58},
    {"200100", 86},  {"200101", 74}, {"200110", 74}, {"200111", 61}, {"200120", 56}, {"200121", 34},
    {"200200", 70},  {"200201", 54}, {"200210", 52}, {"200211", 40}, {"200220", 40}, {"200221", 22},
    {"201000", 85},  {"201001", 75}, {"201010", 74}, {"201011", 55}, {"201020", 62}, {"201021", 51},
    {"201100", 72},  {"201101", 57}, {"201110", 55}, {"201111", 41}, {"201120", 46}, {"201121", 19},
    {"201200", 53},  {"201201", 36}, {"201210", 34}, {"201211", 19}, {"201220", 19}, {"201221", 8},
    {"202001", 64},  {"202011", 51}, {"202021", 20}, {"202101", 47}, {"202111", 21}, {"202121", 11},
    {"202201", 24},  {"202211", 9},  {"202221", 4},  {"210000", 88}, {"210001", 75}, {"210010", 73},
    {"210011", 53},  {"210020", 60}, {"210021", 50}, {"210100", 73}, {"210101", 55}, {"210110", 59},
    {"210111", 40},  {"210120", 41}, {"210121", 20}, {"210200", 54}, {"210201", 43}, {"210210", 45},
    {"210211", 22},  {"210220", 20}, {"210221", 11}, {"211000", 75}, {"211001", 55}, {"211010", 58},
    {"211011", 45},  {"211020", 40}, {"211021", 21}, {"211100", 61}, {"211101", 51}, {"211110", 48},
    {"211111", 18},  {"211120", 20}, {"211121", 9},  {"211200", 46}, {"211201", 18}, {"211210", 17},
    {"211211", 7},   {"211220", 8},  {"211221", 2},  {"212001", 53}, {"212011", 24}, {"212021", 14},
    {"212101", 24},  {"212111", 12}, {"212121", 5},  {"212201", 10}, {"212211", 3},  {"212221", 1},
}};

static_assert(std::ranges::is_sorted(kMacroScores, {}, &std::pair<std::string_view, int>::first));

std::optional<int> macro_score(const std::array<int, 6>& eq) {
    std::string key;
    for (int d : eq) key += static_cast<char>('0' + d);
    auto it = std::ranges::lower_bound(kMacroScores, std::string_view(key), {},
                                       &std::pair<std::string_view, int>::first);
    if (it == kMacroScores.end() || it->first != key) return std::nullopt;
    return it->second;
}

// A metric value's severity level in tenths of a step, 0 the most severe (the
// specification's severity distances).
int level(std::string_view name, std::string_view value) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kLevels{{
        {"AV", "NALP"},
        {"PR", "NLH"},
        {"UI", "NPA"},
        {"AC", "LH"},
        {"AT", "NP"},
        {"VC", "HLN"},
        {"VI", "HLN"},
        {"VA", "HLN"},
        {"SC", "_HLN"},
        {"SI", "SHLN"},
        {"SA", "SHLN"},
        {"CR", "HML"},
        {"IR", "HML"},
        {"AR", "HML"},
    }};
    auto def =
        std::ranges::find(kLevels, name, &std::pair<std::string_view, std::string_view>::first);
    if (def == kLevels.end() || value.empty()) return 0;
    return static_cast<int>(def->second.find(value.front()));
}

// The most severe vectors of each equivalence set's levels ("metric:value/..."); the
// distance of a vector is taken from the first of them it is not more severe than.
std::vector<std::string_view> highest(int eq, int lvl, int eq6) {
    switch (eq) {
        case 1:
            if (lvl == 0) return {"AV:N/PR:N/UI:N"};
            if (lvl == 1) return {"AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"};
            return {"AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P"};
        case 2:
            if (lvl == 0) return {"AC:L/AT:N"};
            return {"AC:H/AT:N", "AC:L/AT:P"};
        case 3:  // EQ3 and EQ6 together
            if (lvl == 0 && eq6 == 0) return {"VC:H/VI:H/VA:H/CR:H/IR:H/AR:H"};
            if (lvl == 0) return {"VC:H/VI:H/VA:L/CR:M/IR:M/AR:H", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M"};
            if (lvl == 1 && eq6 == 0)
                return {"VC:L/VI:H/VA:H/CR:H/IR:H/AR:H", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H"};
            if (lvl == 1)
                return {"VC:L/VI:H/VA:L/CR:H/IR:M/AR:H", "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M",
                        "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M", "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H",
                        "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M"};
            return {"VC:L/VI:L/VA:L/CR:H/IR:H/AR:H"};
        default:  // EQ4
            if (lvl == 0) return {"SC:H/SI:S/SA:S"};
            if (lvl == 1) return {"SC:H/SI:H/SA:H"};
            return {"SC:L/SI:L/SA:L"};
    }
}

// The severity distance of the vector from the first of `candidates` it does not exceed
// in any metric (in tenths); nullopt when it exceeds them all (not for a valid vector).
std::optional<int> distance(const Metrics& m, const std::vector<std::string_view>& candidates) {
    for (std::string_view c : candidates) {
        auto top = metrics(c);
        if (!top) return std::nullopt;
        int sum = 0;
        bool below = true;
        for (auto& [name, value] : *top) {
            int d = level(name, effective(m, name)) - level(name, value);
            below = below && d >= 0;
            sum += d;
        }
        if (below) return sum;
    }
    return std::nullopt;
}

std::optional<double> v4(std::string_view rest) {
    auto parsed = metrics(rest);
    if (!parsed || !v4_valid(*parsed)) return std::nullopt;
    const Metrics& m = *parsed;
    auto is = [&](std::string_view name, std::string_view value) {
        return effective(m, name) == value;
    };
    if (std::ranges::all_of(std::array<std::string_view, 6>{"VC", "VI", "VA", "SC", "SI", "SA"},
                            [&](auto name) { return is(name, "N"); }))
        return 0.0;

    // The equivalence sets (specification tables 24-29).
    int eq1 = is("AV", "N") && is("PR", "N") && is("UI", "N")                       ? 0
              : (is("AV", "N") || is("PR", "N") || is("UI", "N")) && !is("AV", "P") ? 1
                                                                                    : 2;
    int eq2 = is("AC", "L") && is("AT", "N") ? 0 : 1;
    int eq3 = is("VC", "H") && is("VI", "H")                    ? 0
              : is("VC", "H") || is("VI", "H") || is("VA", "H") ? 1
                                                                : 2;
    int eq4 = is("SI", "S") || is("SA", "S")                    ? 0
              : is("SC", "H") || is("SI", "H") || is("SA", "H") ? 1
                                                                : 2;
    int eq5 = is("E", "A") ? 0 : is("E", "P") ? 1 : 2;
    int eq6 = (is("CR", "H") && is("VC", "H")) || (is("IR", "H") && is("VI", "H")) ||
                      (is("AR", "H") && is("VA", "H"))
                  ? 0
                  : 1;
    std::array<int, 6> macro{eq1, eq2, eq3, eq4, eq5, eq6};
    auto value = macro_score(macro);
    if (!value) return std::nullopt;

    // The score of the macro vector one level lower in a set (nullopt: there is none).
    auto lower = [&](std::initializer_list<std::pair<size_t, int>> steps) {
        auto next = macro;
        for (auto [i, by] : steps) next.at(i) += by;
        return macro_score(next);
    };
    std::optional<int> lower3;  // EQ3 and EQ6 step together; from 00 the higher of 01, 10
    if (eq3 == 0 && eq6 == 0) {
        auto to01 = lower({{5, 1}}), to10 = lower({{2, 1}});
        lower3 = to01 && (!to10 || *to01 > *to10) ? to01 : to10;
    } else {
        lower3 = eq3 == 1 && eq6 == 0 ? lower({{5, 1}}) : lower({{2, 1}});
    }

    // The largest distance within each level, in tenths (EQ3 by EQ3 and EQ6 together).
    static constexpr std::array<int, 3> kMax1{1, 4, 5}, kMax2{1, 2}, kMax4{6, 5, 4};
    int max3 = eq3 == 0 ? (eq6 == 0 ? 7 : 6) : eq3 == 1 ? 8 : 10;
    struct Step {
        std::optional<int> lower;  // the next lower macro vector's score, tenths
        std::optional<int> dist;   // the vector's distance from the highest, tenths
        int max;
    };
    std::array<Step, 4> steps{{
        {lower({{0, 1}}), distance(m, highest(1, eq1, eq6)), kMax1.at(eq1)},
        {lower({{1, 1}}), distance(m, highest(2, eq2, eq6)), kMax2.at(eq2)},
        {lower3, distance(m, highest(3, eq3, eq6)), max3},
        {lower({{3, 1}}), distance(m, highest(4, eq4, eq6)), kMax4.at(eq4)},
    }};
    // EQ5 counts among the sets with a lower macro vector but moves the score by 0.
    bool lower5 = lower({{4, 1}}).has_value();

    // The score drops by the mean, over the sets with a lower macro vector, of
    // gap * distance / max. Exact integers: everything times 2520 (lcm of 1..10).
    constexpr long long kScale = 2520;
    long long n = lower5 ? 1 : 0, drop = 0;
    for (auto& s : steps) {
        if (!s.lower) continue;
        if (!s.dist) return std::nullopt;
        ++n;
        drop += static_cast<long long>(*value - *s.lower) * *s.dist * (kScale / s.max);
    }
    if (n == 0) return *value / 10.0;
    long long num = *value * kScale * n - drop, den = kScale * n;   // score, tenths = num/den
    long long tenths = num <= 0 ? 0 : (2 * num + den) / (2 * den);  // rounded half up
    return static_cast<double>(std::min(tenths, 100LL)) / 10.0;
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
    if (vector.starts_with("CVSS:4.0/")) return v4(vector.substr(9));
    if (vector.starts_with("CVSS:")) return std::nullopt;  // a version we do not know
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
