// The parent side of SCMP_ACT_NOTIFY: receive the listener fd from the child,
// and hand it to the seccomp agent at linux.seccomp.listenerPath together with
// the container process state (runtime-spec config-linux.md, "listenerPath").
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>
#include <cstring>

#include <nlohmann/json.hpp>

#include "runtime/security/seccomp.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/unix_socket.h"

namespace husk::runtime::security {

std::string container_process_state(const oci::State& s, const std::string& metadata) {
    // The field order of the runtime spec's example.
    nlohmann::ordered_json j = {
        {"ociVersion", s.oci_version}, {"fds", {"seccompFd"}}, {"pid", s.pid}};
    if (!metadata.empty()) j["metadata"] = metadata;
    j["state"] = nlohmann::ordered_json::parse(oci::dump_hook_state(s));
    return j.dump();
}

void send_to_listener(const std::string& listener_path, int listener_fd,
                      const std::string& state_json) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (listener_path.empty() || listener_path.size() >= sizeof addr.sun_path)
        throw Error(fmt::format("linux.seccomp.listenerPath: \"{}\": not a valid socket path",
                                listener_path));
    std::memcpy(addr.sun_path, listener_path.data(), listener_path.size());
    sys::UniqueFd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) throw_sys("socket", listener_path);
    int rc;
    do {
        rc = connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) throw_sys("connect", listener_path);
    if (int err = sys::send_fd(sock.get(), listener_fd, state_json.data(), state_json.size());
        err < 0)
        throw_sys("sendmsg", listener_path, -err);
}

}  // namespace husk::runtime::security
