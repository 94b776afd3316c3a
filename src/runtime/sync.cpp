#include "runtime/sync.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "runtime/hooks.h"
#include "sys/error.h"
#include "sys/spawn.h"

namespace husk::runtime {

static void copy_str(char* dst, size_t len, const char* src) noexcept {
    if (!src) return;
    size_t n = std::strlen(src);
    if (n >= len) n = len - 1;
    std::memcpy(dst, src, n);
    dst[n] = '\0';
}

namespace {

int send_msg(int fd, const SyncMsg& m) noexcept {
    for (;;) {
        ssize_t n = ::send(fd, &m, sizeof m, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        return n == static_cast<ssize_t>(sizeof m) ? 0 : -errno;
    }
}

}  // namespace

int sync_send(int fd, SyncType type, int err, const char* step, const char* path) noexcept {
    SyncMsg m;
    m.type = type;
    m.err = err;
    copy_str(m.step, sizeof m.step, step);
    copy_str(m.path, sizeof m.path, path);
    return send_msg(fd, m);
}

int sync_send_hook_failure(int fd, const char* phase, const char* path,
                           sys::SpawnResult how) noexcept {
    SyncMsg m;
    m.type = SyncType::error;
    m.hook = how;
    static const char kPrefix[] = "hook ";
    std::memcpy(m.step, kPrefix, sizeof kPrefix - 1);
    copy_str(m.step + sizeof kPrefix - 1, sizeof m.step - (sizeof kPrefix - 1), phase);
    copy_str(m.path, sizeof m.path, path);
    return send_msg(fd, m);
}

int sync_recv(int fd, SyncMsg& msg) noexcept {
    for (;;) {
        ssize_t n = ::recv(fd, &msg, sizeof msg, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (n == 0) return 0;
        if (n != static_cast<ssize_t>(sizeof msg)) return -EPROTO;
        msg.step[sizeof msg.step - 1] = '\0';
        msg.path[sizeof msg.path - 1] = '\0';
        return 1;
    }
}

std::string describe(const SyncMsg& msg) {
    // The executable lookup uses the wording engines match on (as runc prints it).
    if (std::strcmp(msg.step, "lookup") == 0) {
        const char* why = msg.err == ENOENT   ? "executable file not found in $PATH"
                          : msg.err == EACCES ? "permission denied"
                                              : std::strerror(msg.err);
        return std::string("exec: \"") + msg.path + "\": " + why;
    }
    if (std::strncmp(msg.step, "hook ", 5) == 0)
        return std::string(msg.step + 5) + " hook \"" + msg.path +
               "\": " + sys::describe_spawn_result(msg.hook);
    return describe_sys(msg.step, msg.path, msg.err);
}

Error sync_error(const SyncMsg& msg) {
    ErrorKind kind = ErrorKind::none;
    if (std::strcmp(msg.step, "lookup") == 0 && msg.err == ENOENT) kind = ErrorKind::exec_not_found;
    if (std::strcmp(msg.step, "lookup") == 0 && msg.err == EACCES) kind = ErrorKind::exec_denied;
    return Error(describe(msg), msg.err, kind);
}

}  // namespace husk::runtime
