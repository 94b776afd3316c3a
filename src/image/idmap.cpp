#include "image/idmap.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::image {

using sys::UniqueFd;

sys::UniqueFd make_userns(const IdShift& shift) {
    int ready[2], done[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) throw_sys("pipe");
    UniqueFd ready_r(ready[0]), ready_w(ready[1]);
    if (::pipe2(done, O_CLOEXEC) != 0) throw_sys("pipe");
    UniqueFd done_r(done[0]), done_w(done[1]);
    pid_t pid = ::fork();
    if (pid < 0) throw_sys("fork");
    if (pid == 0) {  // only async-signal-safe calls here
        ::close(done[1]);
        ::close(ready[0]);
        char c = ::unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
        if (::write(ready[1], &c, 1) != 1) ::_exit(1);
        ::read(done[0], &c, 1);
        ::_exit(0);
    }
    ready_w.reset();
    done_r.reset();
    auto reap = [&] {
        done_w.reset();
        int st = 0;
        while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
    };
    try {
        char c = 0;
        if (::read(ready_r.get(), &c, 1) != 1 || c != 'y')
            throw Error("create a user namespace for an idmapped mount: unshare failed");
        std::string proc = fmt::format("/proc/{}", pid);
        auto text = [](const std::vector<IdRangeMap>& maps) {
            std::string t;
            for (auto& m : maps) t += fmt::format("{} {} {}\n", m.inside, m.outside, m.count);
            return t;
        };
        sys::write_file(proc + "/uid_map", text(shift.uids()));
        sys::write_file(proc + "/gid_map", text(shift.gids()));
        UniqueFd ns(::open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
        if (!ns) throw_sys("open", proc + "/ns/user");
        reap();
        return ns;
    } catch (...) {
        reap();
        throw;
    }
}

void idmapped_mount(const std::string& src, const std::string& dst, int userns_fd) {
    UniqueFd tree(::open_tree(AT_FDCWD, src.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (!tree) throw_sys("open_tree", src);
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY;
    attr.userns_fd = static_cast<uint64_t>(userns_fd);
    if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
        throw_sys("mount_setattr MOUNT_ATTR_IDMAP", src);
    if (::move_mount(tree.get(), "", AT_FDCWD, dst.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
        throw_sys("move_mount", dst);
}

}  // namespace husk::image
