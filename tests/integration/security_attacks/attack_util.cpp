#include "attack_util.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace husk::test::attack {

std::string attacker_bin() {
    return HUSK_ATTACKER_BIN;
}

nlohmann::json run_probe(Bundle& b, int timeout_s) {
    std::string id = b.id();
    Result r = b.runtime({"run", "--bundle", b.dir(), id}, timeout_s);
    // The container's exit status is its own business (the probe exits 1 when a mode
    // fails); what matters is its report.
    try {
        return last_json_line(r.out);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "run " << id << " exited " << r.status << " without a report: " << r.err
                      << r.out;
        return nullptr;
    }
}

Result create(const Bundle& b, std::string* id) {
    *id = b.id();
    return b.runtime({"create", "--bundle", b.dir(), *id});
}

void write_file(const std::string& path, const std::string& data, int mode) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << data;
    f.close();
    ::chmod(path.c_str(), static_cast<mode_t>(mode));
}

std::vector<std::string> all_capabilities() {
    static const char* names[] = {"CAP_CHOWN",
                                  "CAP_DAC_OVERRIDE",
                                  "CAP_DAC_READ_SEARCH",
                                  "CAP_FOWNER",
                                  "CAP_FSETID",
                                  "CAP_KILL",
                                  "CAP_SETGID",
                                  "CAP_SETUID",
                                  "CAP_SETPCAP",
                                  "CAP_LINUX_IMMUTABLE",
                                  "CAP_NET_BIND_SERVICE",
                                  "CAP_NET_BROADCAST",
                                  "CAP_NET_ADMIN",
                                  "CAP_NET_RAW",
                                  "CAP_IPC_LOCK",
                                  "CAP_IPC_OWNER",
                                  "CAP_SYS_MODULE",
                                  "CAP_SYS_RAWIO",
                                  "CAP_SYS_CHROOT",
                                  "CAP_SYS_PTRACE",
                                  "CAP_SYS_PACCT",
                                  "CAP_SYS_ADMIN",
                                  "CAP_SYS_BOOT",
                                  "CAP_SYS_NICE",
                                  "CAP_SYS_RESOURCE",
                                  "CAP_SYS_TIME",
                                  "CAP_SYS_TTY_CONFIG",
                                  "CAP_MKNOD",
                                  "CAP_LEASE",
                                  "CAP_AUDIT_WRITE",
                                  "CAP_AUDIT_CONTROL",
                                  "CAP_SETFCAP",
                                  "CAP_MAC_OVERRIDE",
                                  "CAP_MAC_ADMIN",
                                  "CAP_SYSLOG",
                                  "CAP_WAKE_ALARM",
                                  "CAP_BLOCK_SUSPEND",
                                  "CAP_AUDIT_READ",
                                  "CAP_PERFMON",
                                  "CAP_BPF",
                                  "CAP_CHECKPOINT_RESTORE"};
    int last = 40;
    std::ifstream f("/proc/sys/kernel/cap_last_cap");
    f >> last;
    // Only what this process may hand out (a machine may lack some, e.g. CAP_SYS_RESOURCE).
    unsigned long long bnd = ~0ULL;
    std::ifstream st("/proc/self/status");
    for (std::string line; std::getline(st, line);)
        if (line.rfind("CapBnd:", 0) == 0) bnd = std::stoull(line.substr(7), nullptr, 16);
    std::vector<std::string> out;
    for (int i = 0; i <= last && i < static_cast<int>(std::size(names)); ++i)
        if (bnd & (1ULL << i)) out.push_back(names[i]);
    return out;
}

void set_all_caps(nlohmann::json& config, const std::vector<std::string>& names) {
    auto& c = config["process"]["capabilities"];
    for (const char* set : {"bounding", "effective", "permitted", "inheritable", "ambient"})
        c[set] = names;
}

void drop_namespace(nlohmann::json& config, const std::string& type) {
    auto& ns = config["linux"]["namespaces"];
    for (auto it = ns.begin(); it != ns.end(); ++it)
        if ((*it)["type"] == type) {
            ns.erase(it);
            return;
        }
}

std::string cap_hex(const std::vector<int>& caps) {
    unsigned long long m = 0;
    for (int c : caps) m |= 1ULL << c;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%016llx", m);
    return buf;
}

int listen_unix(const std::string& path) {
    int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(s, 4) != 0) {
        if (s >= 0) ::close(s);
        return -1;
    }
    return s;
}

int accept_fd(int listener, std::string* data) {
    int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return -1;
    std::vector<char> buf(65536);
    char ctl[CMSG_SPACE(sizeof(int))];
    iovec io{buf.data(), buf.size()};
    msghdr m{};
    m.msg_iov = &io;
    m.msg_iovlen = 1;
    m.msg_control = ctl;
    m.msg_controllen = sizeof ctl;
    int fd = -1;
    ssize_t n = ::recvmsg(c, &m, MSG_CMSG_CLOEXEC);
    if (n > 0) {
        data->assign(buf.data(), static_cast<size_t>(n));
        if (cmsghdr* h = CMSG_FIRSTHDR(&m); h && h->cmsg_type == SCM_RIGHTS)
            std::memcpy(&fd, CMSG_DATA(h), sizeof fd);
    }
    ::close(c);
    return fd;
}

bool not_supported(const Result& r) {
    return r.err.find("not supported") != std::string::npos ||
           r.out.find("not supported") != std::string::npos;
}

}  // namespace husk::test::attack
