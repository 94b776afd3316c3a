#include "sys/fuse.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/mount_api.h"
#include "sys/spawn.h"

namespace husk::sys {

int fuse_mount_detached(const char* subtype, bool allow_other, FuseMountFds& out,
                        const char*& step) noexcept {
    step = "open /dev/fuse";
    int dev = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
    if (dev < 0) return -errno;
    // "fd=N": the number in decimal, without snprintf's locale machinery
    char num[16];
    char* p = num + sizeof num;
    *--p = 0;
    unsigned v = static_cast<unsigned>(dev);
    do {
        *--p = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    step = "fsopen fuse";
    int fs = open_filesystem("fuse");
    int r = fs;
    if (fs >= 0) {
        const char* const opts[][2] = {{"source", subtype},
                                       {"subtype", subtype},
                                       {"fd", p},
                                       {"rootmode", "40000"},
                                       {"user_id", "0"},
                                       {"group_id", "0"},
                                       {"allow_other", nullptr},
                                       {"default_permissions", nullptr}};
        for (const auto& o : opts) {
            if (!allow_other && std::strcmp(o[0], "allow_other") == 0) continue;
            step = o[0];
            r = set_filesystem_option(fs, o[0], o[1]);
            if (r < 0) break;
        }
        if (r >= 0) {
            step = "mount fuse";
            r = create_filesystem_mount(fs, 0);
        }
        ::close(fs);
    }
    if (r < 0) {
        ::close(dev);
        return r;
    }
    out.dev = dev;
    out.mnt = r;
    return 0;
}

void start_fuse_overlayfs(const std::vector<std::string>& options, int dev, int userns_fd) {
    std::string path = find_on_path("fuse-overlayfs");
    if (path.empty())
        throw Error("fuse-overlayfs: not found on $PATH (Debian's fuse-overlayfs package)", ENOENT);
    std::string joined;
    for (const auto& o : options) {
        if (o.find(',') != std::string::npos)
            throw Error(fmt::format("fuse-overlayfs option \"{}\": a ',' separates options", o),
                        EINVAL);
        if (!joined.empty()) joined += ',';
        joined += o;
    }
    std::vector<std::string> argv = {path, "-f", "-o", joined, fmt::format("/dev/fd/{}", dev)};
    std::vector<char*> args = c_strings(argv);
    // none of the caller's environment (FUSE_OVERLAYFS_* would change how it writes the
    // upper directory, which diff and commit read)
    std::vector<std::string> env = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    std::vector<char*> envp = c_strings(env);
    if (!spawn_detached(args.data(), nullptr, {dev}, userns_fd, envp.data()))
        throw Error("fork (fuse-overlayfs): failed");
}

}  // namespace husk::sys
