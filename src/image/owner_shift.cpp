#include "image/owner_shift.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

#include "image/unpack.h"

namespace husk::image {
namespace {

std::function<std::optional<OwnerShift>()>& provider() {
    static std::function<std::optional<OwnerShift>()> p;
    return p;
}

struct Limits {
    uint32_t max_uid, max_gid;
};

bool apply_one(void* ctx, int parent, const char* name, unsigned char type, const char* path,
               sys::RawError& e) {
    if (type != DT_REG && type != DT_DIR) return true;  // only these carry a record
    const auto* lim = static_cast<const Limits*>(ctx);
    int fd = ::openat(parent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return e.fail("open", path, errno);
    std::array<char, 64> v{};
    ssize_t n = ::fgetxattr(fd, kOverrideStatXattr, v.data(), v.size());
    bool ok = true;
    if (n < 0) {
        if (errno != ENODATA && errno != ENOTSUP) ok = e.fail("getxattr", path, errno);
    } else if (auto o = parse_override_stat(std::string_view(v.data(), static_cast<size_t>(n)));
               o && o->uid <= lim->max_uid && o->gid <= lim->max_gid) {
        if (::fchown(fd, o->uid, o->gid) != 0)
            ok = e.fail("chown", path, errno);
        else if (::fchmod(fd, o->perm) != 0)
            ok = e.fail("chmod", path, errno);
        else if (::fremovexattr(fd, kOverrideStatXattr) != 0)
            ok = e.fail("removexattr", path, errno);
    }
    ::close(fd);
    return ok;
}

}  // namespace

void set_owner_shift(std::function<std::optional<OwnerShift>()> p) {
    provider() = std::move(p);
}

const std::optional<OwnerShift>& owner_shift() {
    static const std::optional<OwnerShift> answer =
        provider() ? provider()() : std::optional<OwnerShift>();
    return answer;
}

bool apply_owner_records_raw(int fsfd, uint32_t max_uid, uint32_t max_gid,
                             sys::RawError& e) noexcept {
    Limits lim{max_uid, max_gid};
    return sys::walk_tree_raw(fsfd, apply_one, &lim, e);
}

bool UserRanges::operator==(const UserRanges& o) const {
    auto same = [](const std::vector<oci::IdMapping>& a, const std::vector<oci::IdMapping>& b) {
        return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                          [](const oci::IdMapping& x, const oci::IdMapping& y) {
                              return x.container_id == y.container_id && x.host_id == y.host_id &&
                                     x.size == y.size;
                          });
    };
    return same(uids, o.uids) && same(gids, o.gids);
}

namespace {

// The one range past the user's own id (container id 1 on) of `m`, if it has one.
const oci::IdMapping* subordinate(const std::vector<oci::IdMapping>& m) {
    for (const auto& r : m)
        if (r.container_id == 1) return &r;
    return nullptr;
}

RangeChange change_of(const std::vector<oci::IdMapping>& before,
                      const std::vector<oci::IdMapping>& now) {
    const oci::IdMapping *o = subordinate(before), *n = subordinate(now);
    if (o == nullptr || n == nullptr) return o == n ? RangeChange::same : RangeChange::moved;
    if (o->host_id == n->host_id && o->size <= n->size)
        return o->size == n->size ? RangeChange::same : RangeChange::grown;
    uint64_t o_end = uint64_t{o->host_id} + o->size, n_end = uint64_t{n->host_id} + n->size;
    return o->host_id < n_end && n->host_id < o_end ? RangeChange::overlap : RangeChange::moved;
}

}  // namespace

RangeChange range_change(const UserRanges& before, const UserRanges& now) {
    RangeChange u = change_of(before.uids, now.uids), g = change_of(before.gids, now.gids);
    return std::max(u, g);  // the worse of the two, in the enum's order
}

std::string host_ranges(const std::vector<oci::IdMapping>& m) {
    std::string out;
    for (const auto& r : m)
        if (r.container_id != 0)
            out += fmt::format("{}{}-{}", out.empty() ? "" : ",", r.host_id,
                               uint64_t{r.host_id} + r.size - 1);
    return out.empty() ? "none" : out;
}

uint32_t max_container_id(const std::vector<oci::IdMapping>& maps) {
    uint32_t top = 0;
    for (const auto& m : maps)
        if (m.size > 0) top = std::max(top, m.container_id + m.size - 1);
    return top;
}

std::string ranges_text(const UserRanges& r) {
    std::string out;
    for (const auto& m : r.uids)
        out += fmt::format("uid {} {} {}\n", m.container_id, m.host_id, m.size);
    for (const auto& m : r.gids)
        out += fmt::format("gid {} {} {}\n", m.container_id, m.host_id, m.size);
    return out;
}

std::optional<UserRanges> parse_ranges(const std::string& text) {
    UserRanges r;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::istringstream f(line);
        std::string kind;
        oci::IdMapping m;
        if (!(f >> kind >> m.container_id >> m.host_id >> m.size) || m.size == 0)
            return std::nullopt;
        if (kind == "uid")
            r.uids.push_back(m);
        else if (kind == "gid")
            r.gids.push_back(m);
        else
            return std::nullopt;
    }
    if (r.uids.empty() || r.gids.empty()) return std::nullopt;
    return r;
}

}  // namespace husk::image
