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
    for (auto& e : entries)
        out += fmt::format("{}{} {}\n", e.client.empty() ? "" : "@" + e.client + " ", e.ip,
                           fmt::join(e.names, " "));
    return out;
}

NameTable NameTable::parse(const std::string& text) {
    NameTable t;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string ip, name, client;
        ls >> ip;
        if (ip.starts_with("@")) {
            client = ip.substr(1);
            ls >> ip;
        }
        Scope& scope = t.scopes_[client];
        unsigned char a[4];
        if (::inet_pton(AF_INET, ip.c_str(), a) != 1) continue;
        std::string ptr = fmt::format("{}.{}.{}.{}.in-addr.arpa", a[3], a[2], a[1], a[0]);
        while (ls >> name) {
            std::string key = canonical(name);
            auto& ips = scope.by_name[key];
            if (std::find(ips.begin(), ips.end(), ip) == ips.end()) ips.push_back(ip);
            scope.by_ptr.emplace(ptr, name);
        }
    }
    return t;
}

std::vector<std::string> NameTable::addresses(const std::string& name,
                                              const std::string& client) const {
    std::vector<std::string> out;
    std::string key = canonical(name);
    for (const std::string& scope : {std::string(), client}) {
        auto s = scopes_.find(scope);
        if (s == scopes_.end()) continue;
        auto it = s->second.by_name.find(key);
        if (it == s->second.by_name.end()) continue;
        for (auto& ip : it->second)
            if (std::find(out.begin(), out.end(), ip) == out.end()) out.push_back(ip);
        if (client.empty()) break;
    }
    return out;
}

std::optional<std::string> NameTable::name_of(const std::string& ptr,
                                              const std::string& client) const {
    std::string key = canonical(ptr);
    for (const std::string& scope : {std::string(), client}) {
        auto s = scopes_.find(scope);
        if (s == scopes_.end()) continue;
        auto it = s->second.by_ptr.find(key);
        if (it != s->second.by_ptr.end()) return it->second;
    }
    return std::nullopt;
}

}  // namespace husk::network::dns
