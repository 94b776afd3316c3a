#include "oci/image/reference.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "sys/error.h"

namespace husk::oci::image {
namespace {

constexpr std::string_view kDefaultDomain = "docker.io";
constexpr std::string_view kLegacyDomain = "index.docker.io";
constexpr std::string_view kOfficialPrefix = "library/";
constexpr size_t kNameMaxLength = 255;

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
}
bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// path-component: [a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*
bool valid_path_component(std::string_view c) {
    if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) return false;
    size_t i = 0;
    while (i < c.size()) {
        if (is_lower_alnum(c[i])) {
            ++i;
            continue;
        }
        // a separator run: ".", "_", "__" or one or more "-"
        size_t j = i;
        while (j < c.size() && !is_lower_alnum(c[j])) ++j;
        std::string_view sep = c.substr(i, j - i);
        bool ok = sep == "." || sep == "_" || sep == "__" ||
                  std::all_of(sep.begin(), sep.end(), [](char x) { return x == '-'; });
        if (!ok) return false;
        i = j;
    }
    return true;
}

// domain-component: [a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool valid_domain_component(std::string_view c) {
    if (c.empty() || !is_alnum(c.front()) || !is_alnum(c.back())) return false;
    return std::all_of(c.begin(), c.end(), [](char x) { return is_alnum(x) || x == '-'; });
}

// host (components joined by '.', or a bracketed IPv6 address) with an optional :port
bool valid_domain(std::string_view d) {
    std::string_view host = d;
    if (!d.empty() && d.front() == '[') {
        size_t close = d.find(']');
        if (close == std::string_view::npos || close < 3) return false;
        std::string_view ip = d.substr(1, close - 1);
        if (!std::all_of(ip.begin(), ip.end(), [](char x) {
                return std::isxdigit(static_cast<unsigned char>(x)) || x == ':' || x == '.';
            }))
            return false;
        host = {};
        d = d.substr(close + 1);
        if (d.empty()) return true;
        if (d.front() != ':') return false;
    } else if (size_t colon = d.rfind(':'); colon != std::string_view::npos) {
        host = d.substr(0, colon);
        d = d.substr(colon);
    } else {
        d = {};
    }
    if (!d.empty()) {  // ":port"
        std::string_view port = d.substr(1);
        if (port.empty() ||
            !std::all_of(port.begin(), port.end(), [](char x) { return x >= '0' && x <= '9'; }))
            return false;
    }
    size_t start = 0;
    while (start <= host.size() && !host.empty()) {
        size_t dot = host.find('.', start);
        std::string_view comp = host.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (!valid_domain_component(comp)) return false;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return true;
}

// tag: [\w][\w.-]{0,127}
bool valid_tag(std::string_view t) {
    auto word = [](char c) { return is_alnum(c) || c == '_'; };
    if (t.empty() || t.size() > 128 || !word(t.front())) return false;
    return std::all_of(t.begin(), t.end(), [&](char c) { return word(c) || c == '.' || c == '-'; });
}

[[noreturn]] void bad(std::string_view input, std::string_view why) {
    throw Error(fmt::format("invalid reference \"{}\": {}", input, why));
}

}  // namespace

bool is_valid_digest(std::string_view s) {
    size_t colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    std::string_view algo = s.substr(0, colon), hex = s.substr(colon + 1);
    if (!std::all_of(algo.begin(), algo.end(), [](char c) {
            return is_lower_alnum(c) || c == '+' || c == '.' || c == '_' || c == '-';
        }))
        return false;
    if (!std::all_of(hex.begin(), hex.end(), is_hex)) return false;
    if (algo == "sha256") return hex.size() == 64;
    if (algo == "sha512") return hex.size() == 128;
    return hex.size() >= 32;
}

std::string digest_hex(std::string_view s) {
    if (!s.starts_with("sha256:") || !is_valid_digest(s))
        throw Error(fmt::format("invalid digest \"{}\": expected sha256:<64 hex digits>", s));
    return std::string(s.substr(7));
}

std::string Reference::name() const {
    return domain + "/" + path;
}

std::string Reference::str() const {
    std::string out = name();
    if (!tag.empty()) out += ":" + tag;
    if (!digest.empty()) out += "@" + digest;
    return out;
}

std::string Reference::familiar_name() const {
    std::string p = path;
    if (domain == kDefaultDomain) {
        if (p.starts_with(kOfficialPrefix) &&
            p.find('/', kOfficialPrefix.size()) == std::string::npos)
            p = p.substr(kOfficialPrefix.size());
    } else {
        p = domain + "/" + p;
    }
    if (!tag.empty()) p += ":" + tag;
    if (!digest.empty()) p += "@" + digest;
    return p;
}

Reference parse_reference(std::string_view input) {
    if (input.empty()) bad(input, "empty reference");
    Reference r;
    std::string_view rest = input;
    if (size_t at = rest.find('@'); at != std::string_view::npos) {
        r.digest = std::string(rest.substr(at + 1));
        rest = rest.substr(0, at);
        if (!is_valid_digest(r.digest)) bad(input, fmt::format("invalid digest \"{}\"", r.digest));
    }
    // A tag is the part after the last ':' that follows the last '/'.
    size_t slash = rest.rfind('/');
    size_t colon = rest.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        r.tag = std::string(rest.substr(colon + 1));
        rest = rest.substr(0, colon);
        if (!valid_tag(r.tag)) bad(input, fmt::format("invalid tag \"{}\"", r.tag));
    }
    if (rest.empty()) bad(input, "missing repository name");

    // Split the domain the way docker does: the first component is a domain when it
    // contains '.' or ':', is "localhost", or has an uppercase letter.
    size_t first = rest.find('/');
    std::string_view domain, remainder;
    if (first == std::string_view::npos) {
        domain = kDefaultDomain;
        remainder = rest;
    } else {
        std::string_view head = rest.substr(0, first);
        bool lower =
            std::none_of(head.begin(), head.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
        if (head.find_first_of(".:") == std::string_view::npos && head != "localhost" && lower) {
            domain = kDefaultDomain;
            remainder = rest;
        } else {
            domain = head;
            remainder = rest.substr(first + 1);
        }
    }
    if (domain == kLegacyDomain) domain = kDefaultDomain;
    if (!valid_domain(domain)) bad(input, fmt::format("invalid registry host \"{}\"", domain));
    if (std::any_of(remainder.begin(), remainder.end(),
                    [](char c) { return c >= 'A' && c <= 'Z'; }))
        bad(input, "repository name must be lowercase");
    if (domain == kDefaultDomain && remainder.find('/') == std::string_view::npos) {
        if (r.digest.empty() && remainder.size() == 64 &&
            std::all_of(remainder.begin(), remainder.end(), is_hex))
            bad(input, "cannot specify 64-byte hexadecimal strings as a repository name");
        r.path = std::string(kOfficialPrefix) + std::string(remainder);
    } else {
        r.path = std::string(remainder);
    }
    size_t start = 0;
    while (true) {
        size_t s = r.path.find('/', start);
        std::string_view comp = std::string_view(r.path).substr(
            start, s == std::string::npos ? std::string::npos : s - start);
        if (!valid_path_component(comp))
            bad(input, fmt::format("invalid repository path component \"{}\"", comp));
        if (s == std::string::npos) break;
        start = s + 1;
    }
    r.domain = std::string(domain);
    if (r.name().size() > kNameMaxLength)
        bad(input, fmt::format("repository name longer than {} characters", kNameMaxLength));
    if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
    return r;
}

}  // namespace husk::oci::image
