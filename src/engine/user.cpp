#include "engine/user.h"

#include <fcntl.h>
#include <unistd.h>

#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "engine/rootless.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/safe_path.h"

namespace husk::engine {

namespace {

struct PasswdEntry {
    std::string name;
    uint32_t id = 0;
    uint32_t gid = 0;                  // passwd only
    std::string home;                  // passwd only
    std::vector<std::string> members;  // group only
};

std::optional<uint32_t> number(const std::string& s) {
    if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    unsigned long v = std::stoul(s);
    if (v > UINT32_MAX) return std::nullopt;
    return static_cast<uint32_t>(v);
}

std::vector<std::string> colon_fields(const std::string& line) {
    std::vector<std::string> out;
    std::stringstream ss(line);
    std::string f;
    while (std::getline(ss, f, ':')) out.push_back(f);
    if (!line.empty() && line.back() == ':') out.emplace_back();
    return out;
}

std::vector<PasswdEntry> parse_passwd(const std::string& text) {
    std::vector<PasswdEntry> out;
    std::stringstream ss(text);
    std::string line;
    while (std::getline(ss, line)) {
        auto f = colon_fields(line);
        if (f.size() < 7) continue;
        auto uid = number(f[2]), gid = number(f[3]);
        if (!uid || !gid) continue;
        out.push_back({f[0], *uid, *gid, f[5], {}});
    }
    return out;
}

std::vector<PasswdEntry> parse_group(const std::string& text) {
    std::vector<PasswdEntry> out;
    std::stringstream ss(text);
    std::string line;
    while (std::getline(ss, line)) {
        auto f = colon_fields(line);
        if (f.size() < 3) continue;
        auto gid = number(f[2]);
        if (!gid) continue;
        PasswdEntry e{f[0], *gid, 0, "", {}};
        if (f.size() > 3) {
            std::stringstream ms(f[3]);
            std::string m;
            while (std::getline(ms, m, ',')) e.members.push_back(m);
        }
        out.push_back(std::move(e));
    }
    return out;
}

// The file at `path` inside `rootfs`, "" when it does not exist.
std::string read_in_root(const std::string& rootfs, const char* path) {
    sys::UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_sys("open", rootfs);
    int fd = sys::open_in_root(root.get(), path, O_RDONLY);
    if (fd == -ENOENT) return "";
    if (fd < 0) throw_sys("open", rootfs + path, -fd);
    sys::UniqueFd f(fd);
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(f.get(), buf, sizeof buf);
        if (n < 0) throw_sys("read", rootfs + path);
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > (16u << 20)) throw Error(fmt::format("{}{}: too large", rootfs, path));
    }
    return out;
}

}  // namespace

ResolvedUser resolve_user_in(const std::string& passwd_text, const std::string& group_text,
                             const std::string& spec) {
    ResolvedUser u;
    if (spec.empty()) {
        for (auto& p : parse_passwd(passwd_text))
            if (p.id == 0) u.home = p.home.empty() ? "/" : p.home;
        return u;
    }
    auto colon = spec.find(':');
    std::string user = spec.substr(0, colon);
    std::string group = colon == std::string::npos ? "" : spec.substr(colon + 1);
    auto passwd = parse_passwd(passwd_text);
    auto groups = parse_group(group_text);

    std::string username;
    const PasswdEntry* pw = nullptr;
    if (auto n = number(user)) {
        u.uid = *n;
        for (auto& p : passwd)
            if (p.id == *n) {
                pw = &p;
                break;
            }
    } else {
        for (auto& p : passwd)
            if (p.name == user) {
                pw = &p;
                break;
            }
        if (!pw)
            throw Error(
                fmt::format("unable to find user {}: no matching entries in passwd file", user));
        u.uid = pw->id;
    }
    if (pw) {
        u.gid = pw->gid;
        u.home = pw->home.empty() ? "/" : pw->home;
        username = pw->name;
    }
    if (!group.empty()) {
        if (auto n = number(group)) {
            u.gid = *n;
        } else {
            const PasswdEntry* gr = nullptr;
            for (auto& g : groups)
                if (g.name == group) gr = &g;
            if (!gr)
                throw Error(fmt::format(
                    "unable to find group {}: no matching entries in group file", group));
            u.gid = gr->id;
        }
    } else if (!username.empty()) {
        for (auto& g : groups)
            for (auto& m : g.members)
                if (m == username && g.id != u.gid) u.additional_gids.push_back(g.id);
    }
    return u;
}

ResolvedUser resolve_user(const std::string& rootfs, const std::string& spec) {
    return with_context("resolve user \"" + spec + "\"", [&] {
        return resolve_user_in(read_in_root(rootfs, "/etc/passwd"),
                               read_in_root(rootfs, "/etc/group"), spec);
    });
}

ResolvedUser resolve_running_user(pid_t pid, bool fuse_root, const std::string& spec) {
    std::string root = fmt::format("/proc/{}/root", pid);
    if (!fuse_root || ::geteuid() == 0) return resolve_user(root, spec);
    return with_context("resolve user \"" + spec + "\"", [&] {
        std::string group;
        auto passwd = in_container_userns(
            {}, {},
            [&] {
                // both files in one answer: passwd's length first
                std::string p = read_in_root(root, "/etc/passwd");
                return fmt::format("{}\n{}{}", p.size(), p, read_in_root(root, "/etc/group"));
            },
            pid);
        if (!passwd) throw Error(fmt::format("join the user namespace of process {}", pid));
        size_t nl = passwd->find('\n');
        size_t len = std::stoul(passwd->substr(0, nl));
        group = passwd->substr(nl + 1 + len);
        return resolve_user_in(passwd->substr(nl + 1, len), group, spec);
    });
}

}  // namespace husk::engine
