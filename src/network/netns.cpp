#include "network/netns.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"

namespace husk::network {

void pin_netns(pid_t pid, const std::string& path) {
    sys::mkdir_all(path.substr(0, path.rfind('/')), 0700);
    sys::UniqueFd f(::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0400));
    if (!f) throw_sys("create", path);
    std::string ns = fmt::format("/proc/{}/ns/net", pid);
    if (::mount(ns.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
        int err = errno;
        ::unlink(path.c_str());
        throw SysError("bind mount " + ns + " on", path, err);
    }
}

void unpin_netns(const std::string& path) {
    if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
        throw_sys("umount", path);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw_sys("unlink", path);
}

}  // namespace husk::network
