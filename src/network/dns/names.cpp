#include "network/dns/names.h"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "network/subnet.h"

namespace husk::network::dns {

namespace {

// The family of address text `ip` (AF_INET, AF_INET6), 0 for no address.
int family_of(const std::string& ip) {
    auto a = try_parse_ip(ip);
    return !a ? 0 : a->family == 4 ? AF_INET : AF_INET6;
}

// `ip` as inet_ntop writes it (what the responder sees a client as); "" for no address.
std::string normal_ip(const std::string& ip) {
    auto a = try_parse_ip(ip);
    return a ? address_text(*a) : std::string();
}

void add_unique(std::vector<std::string>& to, const std::string& v) {
    if (std::find(to.begin(), to.end(), v) == to.end()) to.push_back(v);
}

}  // namespace

std::string canonical(const std::string& name) {
    std::string out = name;
    if (!out.empty() && out.back() == '.') out.pop_back();
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string reverse_name(const std::string& ip) {
    auto parsed = try_parse_ip(ip);
    if (!parsed) return {};
    const auto& a = parsed->addr;
    if (parsed->family == 4) return fmt::format("{}.{}.{}.{}.in-addr.arpa", a[3], a[2], a[1], a[0]);
    std::string out;
    for (size_t i = a.size(); i-- > 0;) out += fmt::format("{:x}.{:x}.", a[i] & 0xf, a[i] >> 4);
    return out + "ip6.arpa";
}

std::string format_names(const std::vector<NameEntry>& entries, const Upstreams& upstreams) {
    std::string out;
    for (auto& e : entries)
        out += fmt::format("{}{} {}\n", e.client.empty() ? "" : "@" + e.client + " ", e.ip,
                           fmt::join(e.names, " "));
    for (auto& [client, servers] : upstreams)
        if (!servers.empty())
            out += fmt::format("nameservers {} {}\n", client.empty() ? "*" : client,
                               fmt::join(servers, " "));
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
        if (ip == "nameservers") {
            ls >> client;
            client = client == "*" ? "" : normal_ip(client);
            auto& servers = t.upstreams_[client];
            while (ls >> name)
                if (family_of(name) != 0) add_unique(servers, name);
            continue;
        }
        if (ip.starts_with("@")) {
            client = normal_ip(ip.substr(1));
            ls >> ip;
            if (client.empty()) continue;
        }
        ip = normal_ip(ip);
        if (ip.empty()) continue;
        Scope& scope = t.scopes_[client];
        std::string ptr = reverse_name(ip);
        while (ls >> name) {
            add_unique(scope.by_name[canonical(name)], ip);
            scope.by_ptr.emplace(ptr, name);
        }
    }
    return t;
}

bool NameTable::known(const std::string& name, const std::string& asker) const {
    std::string client = normal_ip(asker);
    std::string key = canonical(name);
    for (const std::string& scope : {std::string(), client}) {
        auto s = scopes_.find(scope);
        if (s != scopes_.end() && s->second.by_name.count(key)) return true;
        if (client.empty()) break;
    }
    return false;
}

std::vector<std::string> NameTable::addresses(const std::string& name, const std::string& asker,
                                              int family) const {
    std::string client = normal_ip(asker);
    std::vector<std::string> out;
    std::string key = canonical(name);
    for (const std::string& scope : {std::string(), client}) {
        auto s = scopes_.find(scope);
        if (s == scopes_.end()) continue;
        auto it = s->second.by_name.find(key);
        if (it == s->second.by_name.end()) continue;
        for (auto& ip : it->second)
            if (family_of(ip) == family) add_unique(out, ip);
        if (client.empty()) break;
    }
    return out;
}

std::optional<std::string> NameTable::name_of(const std::string& ptr,
                                              const std::string& asker) const {
    std::string client = normal_ip(asker);
    std::string key = canonical(ptr);
    for (const std::string& scope : {std::string(), client}) {
        auto s = scopes_.find(scope);
        if (s == scopes_.end()) continue;
        auto it = s->second.by_ptr.find(key);
        if (it != s->second.by_ptr.end()) return it->second;
    }
    return std::nullopt;
}

std::vector<std::string> NameTable::upstreams(const std::string& client) const {
    std::string own = normal_ip(client);
    if (auto it = upstreams_.find(own); !own.empty() && it != upstreams_.end()) return it->second;
    auto it = upstreams_.find("");
    return it == upstreams_.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace husk::network::dns
