#include "network/ipam.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "network/subnet.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"

namespace husk::network {

namespace {

// The low 32 bits of an address, as an offset from the network address.
uint32_t low32(const Cidr& c) {
    size_t n = static_cast<size_t>(c.bits() / 8);
    return (uint32_t{c.addr[n - 4]} << 24) | (uint32_t{c.addr[n - 3]} << 16) |
           (uint32_t{c.addr[n - 2]} << 8) | uint32_t{c.addr[n - 1]};
}

// How many addresses of `net` there are to hand out, as offsets 1 .. count: not the
// network address, not IPv4's broadcast (offsets past 2^32 are never reached).
uint64_t usable(const Cidr& net) {
    int host_bits = std::min(net.bits() - net.prefix, 32);
    uint64_t size = uint64_t{1} << host_bits;
    return net.family == 4 ? (size > 2 ? size - 2 : 0) : size - 1;
}

struct Holder {
    std::string id, ifname;
};

std::optional<Holder> holder_of(const std::string& path) {
    auto text = sys::read_file_if_exists(path);
    if (!text) return std::nullopt;
    Holder h;
    size_t br = text->find_first_of("\r\n");
    h.id = text->substr(0, br);
    if (br != std::string::npos) {
        size_t start = text->find_first_not_of("\r\n", br);
        if (start != std::string::npos) h.ifname = text->substr(start);
    }
    while (!h.ifname.empty() && (h.ifname.back() == '\n' || h.ifname.back() == '\r'))
        h.ifname.pop_back();
    return h;
}

bool is_lease_name(const std::string& f) {
    return f.find_first_not_of("0123456789abcdef.:") == std::string::npos && f != "." &&
           !f.empty() && f.find_first_of(".:") != std::string::npos;
}

// Creates the lease file of `ip` unless it exists.
bool take(const std::string& dir, const std::string& ip, const std::string& id,
          const std::string& ifname) {
    std::string path = fmt::format("{}/{}", dir, ip);
    sys::UniqueFd f(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!f) {
        if (errno == EEXIST) return false;
        throw_sys("create the address lease", path);
    }
    std::string text = fmt::format("{}\r\n{}", id, ifname);
    if (::write(f.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        int err = errno;
        ::unlink(path.c_str());
        throw_sys("write the address lease", path, err);
    }
    return true;
}

// One range: the lease of `id`/`ifname` there, or a new one.
Lease lease_in(const std::string& dir, const Network& net, const std::string& subnet,
               const std::string& gateway, int range, const std::string& id,
               const std::string& ifname, const std::string& requested,
               const std::vector<std::string>& files) {
    Cidr sn = parse_cidr(subnet);
    Lease out{{}, sn.prefix, gateway};
    for (auto& f : files) {
        if (!is_lease_name(f)) continue;
        Cidr ip;
        try {
            ip = parse_ip(f);
        } catch (const Error&) {
            continue;
        }
        if (!contains(sn, ip)) continue;
        auto h = holder_of(fmt::format("{}/{}", dir, f));
        if (h && h->id == id && h->ifname == ifname &&
            (requested.empty() || parse_ip(requested) == ip)) {
            out.ip = f;
            return out;
        }
    }
    if (!requested.empty()) {
        Cidr ip = parse_ip(requested);
        std::string text = address_text(ip);
        if (!contains(sn, ip) || low32(ip) == low32(sn) || text == gateway ||
            (sn.family == 4 && low32(ip) - low32(sn) > usable(sn)) || !take(dir, text, id, ifname))
            throw Error(error_format("requested IP address {} is not available in network {}", text,
                                     net.name));
        out.ip = text;
        return out;
    }
    std::string last_file = fmt::format("{}/last_reserved_ip.{}", dir, range);
    uint64_t count = usable(sn);
    uint64_t start = 0;
    if (auto last = sys::read_file_if_exists(last_file)) {
        try {
            Cidr l = parse_ip(*last);
            if (contains(sn, l)) start = low32(l) - low32(sn);
        } catch (const Error&) {
        }
    }
    // at most one probe per lease file, plus the gateway, plus one
    uint64_t tries = std::min<uint64_t>(count, files.size() + 2);
    for (uint64_t i = 0; i < count && tries > 0; ++i) {
        uint64_t offset = (start + i) % count + 1;
        std::string text = nth_address(sn, static_cast<uint32_t>(offset));
        if (text == gateway) continue;
        --tries;
        if (!take(dir, text, id, ifname)) continue;
        sys::write_file(last_file, text, 0644);
        out.ip = text;
        return out;
    }
    throw Error(error_format("network {}: no IP addresses available in {}", net.name, subnet));
}

}  // namespace

std::string lease_dir(const Network& net) {
    return fmt::format("{}/{}", net.ipam_dir, net.name);
}

std::vector<Lease> lease_addresses(const Network& net, const std::string& id,
                                   const std::string& ifname, const std::string& requested) {
    std::string dir = lease_dir(net);
    sys::mkdir_all(dir, 0755);
    sys::FileLock lock(dir + "/lock", sys::FileLock::exclusive);
    auto files = sys::list_dir(dir);
    std::string want = requested.substr(0, requested.find('/'));
    std::vector<Lease> out;
    try {
        out.push_back(lease_in(dir, net, net.subnet, net.gateway, 0, id, ifname, want, files));
        if (!net.subnet6.empty())
            out.push_back(lease_in(dir, net, net.subnet6, net.gateway6, 1, id, ifname, {}, files));
    } catch (...) {
        for (auto& l : out) ::unlink(fmt::format("{}/{}", dir, l.ip).c_str());
        throw;
    }
    return out;
}

std::string leased_address(const Network& net, const std::string& id, const std::string& ifname,
                           bool v6) {
    std::string dir = lease_dir(net);
    Cidr sn = parse_cidr(v6 ? net.subnet6 : net.subnet);
    for (auto& f : sys::list_dir(dir)) {
        if (!is_lease_name(f) || (f.find(':') != std::string::npos) != v6) continue;
        auto h = holder_of(fmt::format("{}/{}", dir, f));
        if (!h || h->id != id || h->ifname != ifname) continue;
        try {
            if (contains(sn, parse_ip(f))) return f;
        } catch (const Error&) {
        }
    }
    return {};
}

void release_addresses(const Network& net, const std::string& id, const std::string& ifname) {
    std::string dir = lease_dir(net);
    if (!sys::exists_follow(dir)) return;
    sys::FileLock lock(dir + "/lock", sys::FileLock::exclusive);
    for (auto& f : sys::list_dir(dir)) {
        if (!is_lease_name(f)) continue;
        std::string path = fmt::format("{}/{}", dir, f);
        auto h = holder_of(path);
        if (!h || h->id != id || (!ifname.empty() && h->ifname != ifname)) continue;
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            throw_sys("release the address lease", path);
    }
}

}  // namespace husk::network
