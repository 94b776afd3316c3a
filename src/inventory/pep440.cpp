// PEP 440 version ordering (Python packages): epoch, release, pre-, post- and
// dev-releases and local versions, with the spec's accepted spellings normalised
// ("1.0-ALPHA.1" == "1.0a1", "1.0-1" == "1.0.post1", "1.0c1" == "1.0rc1").
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "inventory/scan.h"

namespace husk::inventory {

namespace {

struct Pep440 {
    uint64_t epoch = 0;
    std::vector<uint64_t> release;
    int pre_kind = 0;  // 0 none; 1 a, 2 b, 3 rc
    uint64_t pre = 0;
    std::optional<uint64_t> post;
    std::optional<uint64_t> dev;
    std::vector<std::variant<uint64_t, std::string>> local;  // absent when empty
};

class Scanner {
  public:
    explicit Scanner(std::string_view s) : s_(s) {}
    bool done() const { return i_ == s_.size(); }
    bool digit() const {
        return i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]));
    }
    std::optional<uint64_t> number() {
        if (!digit()) return std::nullopt;
        uint64_t n = 0;
        while (digit()) {
            uint64_t d = static_cast<uint64_t>(s_[i_++] - '0');
            if (n > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;
            n = n * 10 + d;
        }
        return n;
    }
    bool take(char c) {
        if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
        return false;
    }
    bool separator() { return take('.') || take('-') || take('_'); }
    // The longest of `words` at the cursor (after an optional separator); its index.
    std::optional<size_t> word(std::initializer_list<std::string_view> words) {
        size_t save = i_;
        separator();
        std::optional<size_t> best;
        size_t best_len = 0, k = 0;
        for (std::string_view w : words) {
            if (s_.substr(i_).starts_with(w) && w.size() > best_len) best = k, best_len = w.size();
            ++k;
        }
        if (!best)
            i_ = save;
        else
            i_ += best_len;
        return best;
    }
    size_t pos() const { return i_; }
    void seek(size_t i) { i_ = i; }
    std::string_view rest() const { return s_.substr(i_); }

  private:
    std::string_view s_;
    size_t i_ = 0;
};

std::optional<Pep440> parse_pep440(std::string_view raw) {
    std::string s;
    for (char c : raw) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::string_view v = s;
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    if (v.starts_with('v')) v.remove_prefix(1);
    Pep440 out;
    Scanner sc(v);
    auto first = sc.number();
    if (!first) return std::nullopt;
    if (sc.take('!')) {
        out.epoch = *first;
        first = sc.number();
        if (!first) return std::nullopt;
    }
    out.release.push_back(*first);
    while (true) {
        size_t save = sc.pos();
        if (!sc.take('.')) break;
        auto n = sc.number();
        if (!n) {
            sc.seek(save);
            break;
        }
        out.release.push_back(*n);
    }
    // pre-release: a, b, rc and their spellings
    if (auto w = sc.word({"alpha", "a", "beta", "b", "preview", "pre", "rc", "c"})) {
        static constexpr int kinds[] = {1, 1, 2, 2, 3, 3, 3, 3};
        out.pre_kind = kinds[*w];
        sc.separator();
        out.pre = sc.number().value_or(0);
    }
    // post-release: ".postN", "-N", ".revN", ".rN"
    {
        size_t save = sc.pos();
        if (sc.take('-') && sc.digit()) {
            out.post = sc.number();
        } else {
            sc.seek(save);
            if (sc.word({"post", "rev", "r"})) {
                sc.separator();
                out.post = sc.number().value_or(0);
            }
        }
    }
    if (sc.word({"dev"})) {
        sc.separator();
        out.dev = sc.number().value_or(0);
    }
    if (sc.take('+')) {
        std::string_view local = sc.rest();
        if (local.empty()) return std::nullopt;
        size_t start = 0;
        while (start <= local.size()) {
            size_t end = local.find_first_of(".-_", start);
            std::string_view part =
                local.substr(start, end == std::string_view::npos ? end : end - start);
            if (part.empty()) return std::nullopt;
            for (char c : part)
                if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
            if (std::all_of(part.begin(), part.end(),
                            [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
                uint64_t n = 0;  // a number past 64 bits is no version we order
                if (std::from_chars(part.data(), part.data() + part.size(), n).ec != std::errc())
                    return std::nullopt;
                out.local.emplace_back(n);
            } else {
                out.local.emplace_back(std::string(part));
            }
            if (end == std::string_view::npos) break;
            start = end + 1;
        }
        sc.seek(sc.pos() + local.size());
    }
    if (!sc.done()) return std::nullopt;
    return out;
}

template <class T>
int order(const T& a, const T& b) {
    return a < b ? -1 : (b < a ? 1 : 0);
}

// A comparison key of one optional segment: PEP 440 places "no pre-release" after every
// pre-release (but a dev-only release before them), "no post" before any post, "no dev"
// after any dev.
using Key = std::pair<int64_t, uint64_t>;  // (rank, number)

Key pre_key(const Pep440& v) {
    if (v.pre_kind == 0 && !v.post && v.dev) return {-1, 0};  // 1.0.dev1 < 1.0a1
    if (v.pre_kind == 0) return {4, 0};
    return {v.pre_kind, v.pre};
}

}  // namespace

std::optional<int> compare_pep440(const std::string& a, const std::string& b) {
    auto va = parse_pep440(a), vb = parse_pep440(b);
    if (!va || !vb) return std::nullopt;
    if (int c = order(va->epoch, vb->epoch)) return c;
    for (size_t k = 0; k < std::max(va->release.size(), vb->release.size()); ++k) {
        uint64_t x = k < va->release.size() ? va->release[k] : 0;
        uint64_t y = k < vb->release.size() ? vb->release[k] : 0;
        if (int c = order(x, y)) return c;
    }
    if (int c = order(pre_key(*va), pre_key(*vb))) return c;
    auto post_key = [](const Pep440& v) { return v.post ? Key{1, *v.post} : Key{0, 0}; };
    if (int c = order(post_key(*va), post_key(*vb))) return c;
    auto dev_key = [](const Pep440& v) { return v.dev ? Key{0, *v.dev} : Key{1, 0}; };
    if (int c = order(dev_key(*va), dev_key(*vb))) return c;
    // local versions: absent first; segment by segment, numbers after strings and
    // compared as numbers; a longer local version wins a tie on the common prefix
    for (size_t k = 0; k < std::max(va->local.size(), vb->local.size()); ++k) {
        if (k >= va->local.size()) return -1;
        if (k >= vb->local.size()) return 1;
        const auto &x = va->local[k], &y = vb->local[k];
        if (x.index() != y.index()) return x.index() == 0 ? 1 : -1;
        if (int c = x.index() == 0 ? order(std::get<0>(x), std::get<0>(y))
                                   : order(std::get<1>(x), std::get<1>(y)))
            return c;
    }
    return 0;
}

}  // namespace husk::inventory
