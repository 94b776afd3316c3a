#include "runtime/idmap.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/syscalls.h"

namespace husk::runtime {

std::string format_id_map(const std::vector<oci::IdMapping>& m, const char* field) {
    if (m.empty())
        throw Error(fmt::format("{}: a user namespace needs at least one mapping", field));
    if (m.size() > 340)
        throw Error(fmt::format("{}: {} ranges, the kernel allows 340", field, m.size()));
    std::string out;
    for (const auto& r : m) out += fmt::format("{} {} {}\n", r.container_id, r.host_id, r.size);
    return out;
}

void write_id_maps(pid_t pid, const std::vector<oci::IdMapping>& uids,
                   const std::vector<oci::IdMapping>& gids) {
    std::string base = fmt::format("/proc/{}/", pid);
    std::string u = format_id_map(uids, "linux.uidMappings");
    std::string g = format_id_map(gids, "linux.gidMappings");
    with_context("linux.uidMappings", [&] { sys::write_file(base + "uid_map", u); });
    with_context("linux.gidMappings", [&] { sys::write_file(base + "gid_map", g); });
}

sys::UniqueFd userns_with_maps(const std::vector<oci::IdMapping>& uids,
                               const std::vector<oci::IdMapping>& gids) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) throw_sys("pipe2");
    sys::UniqueFd r(pipefd[0]), w(pipefd[1]);
    sys::CloneArgs args;
    args.flags = CLONE_NEWUSER;
    args.exit_signal = SIGCHLD;
    pid_t pid = sys::clone3(args);
    if (pid < 0) throw_sys("clone3 (user namespace for an idmapped mount)");
    if (pid == 0) {  // hold the namespace until the parent has its fd: EOF on the pipe
        char c;
        (void)!::read(pipefd[0], &c, 1);
        ::_exit(0);
    }
    r.reset();
    struct Reap {
        pid_t pid;
        ~Reap() {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    } reap{pid};
    write_id_maps(pid, uids, gids);
    std::string path = fmt::format("/proc/{}/ns/user", pid);
    sys::UniqueFd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) throw_sys("open", path);
    return ns;
}

sys::UniqueFd open_idmapped_tree(const std::string& source, const MountOptions& o, int userns_fd) {
    unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (o.recursive ? AT_RECURSIVE : 0);
    sys::UniqueFd tree(::open_tree(AT_FDCWD, source.c_str(), flags));
    if (!tree) throw_sys("bind mount source", source);
    mount_attr idmap{};
    idmap.attr_set = MOUNT_ATTR_IDMAP;
    idmap.userns_fd = static_cast<uint64_t>(userns_fd);
    unsigned at = AT_EMPTY_PATH | (o.ridmap ? AT_RECURSIVE : 0);
    if (::mount_setattr(tree.get(), "", at, &idmap, sizeof idmap) != 0)
        throw_sys("idmap mount of", source);
    auto set = [&](uint64_t set, uint64_t clr, bool recursive) {
        if (set == 0 && clr == 0) return;
        mount_attr a{};
        a.attr_set = set;
        a.attr_clr = clr;
        if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a,
                            sizeof a) != 0)
            throw_sys("set mount options on", source);
    };
    set(o.attr_set, o.attr_clr, false);
    set(o.rattr_set, o.rattr_clr, true);
    return tree;
}

}  // namespace husk::runtime
