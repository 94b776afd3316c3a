#include "runtime/mount_options.h"

#include <sys/mount.h>

#include <string_view>

#include <fmt/format.h>

#include "sys/error.h"

namespace husk::runtime {
namespace {

struct AttrOption {
    std::string_view name;
    bool clear;  // the option removes the attribute (e.g. "rw", "suid")
    uint64_t attr;
};

// Options that map to a MOUNT_ATTR_* bit; each also exists with an "r" prefix (recursive).
constexpr AttrOption kAttrs[] = {
    {"ro", false, MOUNT_ATTR_RDONLY},
    {"rw", true, MOUNT_ATTR_RDONLY},
    {"nosuid", false, MOUNT_ATTR_NOSUID},
    {"suid", true, MOUNT_ATTR_NOSUID},
    {"nodev", false, MOUNT_ATTR_NODEV},
    {"dev", true, MOUNT_ATTR_NODEV},
    {"noexec", false, MOUNT_ATTR_NOEXEC},
    {"exec", true, MOUNT_ATTR_NOEXEC},
    {"nodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"diratime", true, MOUNT_ATTR_NODIRATIME},
    {"nosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    {"symfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

// atime modes are a 3-valued field: setting one means clearing the field first.
struct AtimeOption {
    std::string_view name;
    uint64_t mode;  // MOUNT_ATTR_RELATIME (0), NOATIME, STRICTATIME
    bool clear;     // "norelatime", "atime", "nostrictatime": back to the default (relatime)
};
constexpr AtimeOption kAtimes[] = {
    {"relatime", MOUNT_ATTR_RELATIME, false},       {"norelatime", MOUNT_ATTR_RELATIME, true},
    {"noatime", MOUNT_ATTR_NOATIME, false},         {"atime", MOUNT_ATTR_RELATIME, true},
    {"strictatime", MOUNT_ATTR_STRICTATIME, false}, {"nostrictatime", MOUNT_ATTR_RELATIME, true},
};

struct PropOption {
    std::string_view name;
    unsigned long flag;
    bool recursive;
};
constexpr PropOption kProps[] = {
    {"private", MS_PRIVATE, false},       {"rprivate", MS_PRIVATE, true},
    {"shared", MS_SHARED, false},         {"rshared", MS_SHARED, true},
    {"slave", MS_SLAVE, false},           {"rslave", MS_SLAVE, true},
    {"unbindable", MS_UNBINDABLE, false}, {"runbindable", MS_UNBINDABLE, true},
};

// Options that mean nothing for the new mount API or are the default.
constexpr std::string_view kIgnored[] = {"defaults", "remount", "async",  "loud", "silent",
                                         "nomand",   "auto",    "noauto", "user", "nouser"};

bool apply_attr(std::string_view opt, bool recursive, MountOptions& out) {
    for (const auto& a : kAttrs) {
        if (opt != a.name) continue;
        uint64_t& set = recursive ? out.rattr_set : out.attr_set;
        uint64_t& clr = recursive ? out.rattr_clr : out.attr_clr;
        if (a.clear) {
            clr |= a.attr;
            set &= ~a.attr;
        } else {
            set |= a.attr;
            clr &= ~a.attr;
        }
        return true;
    }
    for (const auto& a : kAtimes) {
        if (opt != a.name) continue;
        uint64_t& set = recursive ? out.rattr_set : out.attr_set;
        uint64_t& clr = recursive ? out.rattr_clr : out.attr_clr;
        set = (set & ~static_cast<uint64_t>(MOUNT_ATTR__ATIME)) | (a.clear ? 0 : a.mode);
        clr |= MOUNT_ATTR__ATIME;
        return true;
    }
    return false;
}

}  // namespace

MountOptions parse_mount_options(const std::string& type, const std::vector<std::string>& options) {
    MountOptions out;
    out.bind = type == "bind" || type == "rbind";
    out.recursive = type == "rbind";
    for (const auto& o : options) {
        std::string_view opt = o;
        if (opt == "bind") {
            out.bind = true;
            continue;
        }
        if (opt == "rbind") {
            out.bind = out.recursive = true;
            continue;
        }
        if (apply_attr(opt, false, out)) continue;
        if (opt.size() > 1 && opt[0] == 'r' && apply_attr(opt.substr(1), true, out)) continue;
        bool done = false;
        for (const auto& p : kProps) {
            if (opt == p.name) {
                out.propagation = p.flag;
                out.propagation_recursive = p.recursive;
                done = true;
            }
        }
        if (done) continue;
        if (opt == "idmap") {
            out.idmap = true;
            continue;
        }
        if (opt == "ridmap") {
            out.idmap = out.ridmap = true;
            continue;
        }
        if (opt == "tmpcopyup") {
            out.tmpcopyup = true;
            continue;
        }
        bool ignored = false;
        for (auto i : kIgnored) ignored = ignored || opt == i;
        if (ignored || opt.empty()) continue;
        // Everything else is a filesystem parameter: "size=64m", "mode=755", "newinstance".
        auto eq = opt.find('=');
        if (eq == std::string_view::npos) {
            out.params.emplace_back(std::string(opt), "");
        } else {
            out.params.emplace_back(std::string(opt.substr(0, eq)),
                                    std::string(opt.substr(eq + 1)));
        }
    }
    return out;
}

unsigned long parse_propagation(const std::string& name) {
    for (const auto& p : kProps)
        if (name == p.name) return p.flag | (p.recursive ? MS_REC : 0);
    throw Error(fmt::format("linux.rootfsPropagation: unknown propagation \"{}\"", name));
}

}  // namespace husk::runtime
