#include "sys/self_exe.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "sys/fd.h"
#include "sys/mount_api.h"

extern char** environ;

namespace husk::sys {
namespace {

// Our argv, from /proc/self/cmdline (NUL-separated).
std::vector<std::string> own_argv() {
    std::vector<std::string> args;
    UniqueFd fd(::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC));
    if (!fd) return args;
    std::string all;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
        all.append(buf, static_cast<size_t>(n));
    for (size_t i = 0; i < all.size();) {
        size_t end = all.find('\0', i);
        if (end == std::string::npos) end = all.size();
        args.emplace_back(all, i, end - i);
        i = end + 1;
    }
    return args;
}

// What this process knows of its binary: unknown, on a read-only mount, or the re-exec
// impossible (with its errno). husk-runtime is single-threaded where this is asked.
enum class Known { unknown, readonly, impossible };
Known known = Known::unknown;
int impossible_errno = 0;

bool impossible(int err) noexcept {
    known = Known::impossible;
    impossible_errno = err;
    errno = err;
    return false;
}

}  // namespace

bool self_exe_readonly() noexcept {
    if (known == Known::readonly) return true;
    UniqueFd exe(::open("/proc/self/exe", O_PATH | O_CLOEXEC));
    struct statvfs sv {};
    bool ro = exe && ::fstatvfs(exe.get(), &sv) == 0 && (sv.f_flag & ST_RDONLY) != 0;
    if (ro) known = Known::readonly;
    return ro;
}

void note_self_exe(bool readonly, int err) noexcept {
    if (readonly)
        known = Known::readonly;
    else
        impossible(err);
}

bool reexec_from_readonly_self() noexcept {
    if (known == Known::impossible) {
        errno = impossible_errno;
        return false;
    }
    if (self_exe_readonly()) return true;
    UniqueFd tree(clone_mount(AT_FDCWD, "/proc/self/exe"));
    if (!tree) return impossible(errno);
    if (int r = set_mount_attrs(tree.get(), false,
                                MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0);
        r < 0)
        return impossible(-r);
    std::vector<std::string> args;
    std::vector<char*> argv;
    try {
        args = own_argv();
        for (auto& s : args) argv.push_back(s.data());
        argv.push_back(nullptr);
    } catch (...) {
        errno = ENOMEM;
        return false;
    }
    if (args.empty()) return impossible(EINVAL);
    ::syscall(SYS_execveat, tree.get(), "", argv.data(), environ, AT_EMPTY_PATH);
    return impossible(errno);
}

}  // namespace husk::sys
