#include "network/dns/names.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace husk::network::dns {

std::string canonical(const std::string& name) {
    std::string out = name;
    if (!out.empty() && out.back() == '.') out.pop_back();
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string format_names(const std::vector<NameEntry>& entries) {
    std::string out;
    for (auto& e : entries) out += fmt::format("{} {}\n", e.ip, fmt::join(e.names, " "));
    return out;
}

NameTable NameTable::parse(const std::string& text) {
    NameTable t;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string ip, name;
        ls >> ip;
        unsigned char a[4];
        if (::inet_pton(AF_INET, ip.c_str(), a) != 1) continue;
        std::string ptr = fmt::format("{}.{}.{}.{}.in-addr.arpa", a[3], a[2], a[1], a[0]);
        while (ls >> name) {
            std::string key = canonical(name);
            auto& ips = t.by_name_[key];
            if (std::find(ips.begin(), ips.end(), ip) == ips.end()) ips.push_back(ip);
            t.by_ptr_.emplace(ptr, name);
        }
    }
    return t;
}

const std::vector<std::string>* NameTable::addresses(const std::string& name) const {
    auto it = by_name_.find(canonical(name));
    return it == by_name_.end() ? nullptr : &it->second;
}

const std::string* NameTable::name_of(const std::string& ptr) const {
    auto it = by_ptr_.find(canonical(ptr));
    return it == by_ptr_.end() ? nullptr : &it->second;
}

}  // namespace husk::network::dns
