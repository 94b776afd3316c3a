// The compiled-BPF cache: compiling docker's default profile with libseccomp
// costs milliseconds on every container start; reading the cached program
// costs microseconds. Files are <cache_dir>/<sha256>.bpf:
//   "HUSKBPF1" | u32 count | u32 0 | sha256(instructions) | count * sock_filter
#include <fcntl.h>
#include <nettle/sha2.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include <fmt/format.h>
#include <cstring>
#include <random>

#include "runtime/security/seccomp_internal.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/log.h"

namespace husk::runtime::security {
namespace {

constexpr char kMagic[8] = {'H', 'U', 'S', 'K', 'B', 'P', 'F', '1'};
constexpr size_t kMaxInsns = 4096;  // BPF_MAXINSNS

using Digest = std::array<unsigned char, 32>;

struct Header {
    char magic[8];
    uint32_t count;
    uint32_t reserved;
    Digest digest;
};
static_assert(sizeof(Header) == 48);

// nettle, not libcrypto: loading libcrypto.so costs husk-runtime ~3 ms of CPU
// per start on this machine, libnettle ~0.3 ms.
Digest sha256(const void* data, size_t len) {
    sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, len, static_cast<const uint8_t*>(data));
    Digest d{};
    sha256_digest(&ctx, d.size(), d.data());
    return d;
}

std::string hex(const Digest& d) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : d) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// A directory we may trust: ours and not writable by anyone else.
bool trusted(const struct stat& st) {
    return st.st_uid == geteuid() && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

bool ensure_dir(const std::string& dir) {
    for (size_t pos = 1; pos <= dir.size(); ++pos) {
        if (pos != dir.size() && dir[pos] != '/') continue;
        std::string part = dir.substr(0, pos);
        if (mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
            log::warn("seccomp cache: {}", describe_sys("mkdir", part, errno));
            return false;
        }
    }
    struct stat st {};
    if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || !trusted(st)) {
        log::warn("seccomp cache: \"{}\" is not a private directory of ours, not used", dir);
        return false;
    }
    return true;
}

bool read_cached(const std::string& path, std::vector<sock_filter>& out) {
    sys::UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
        if (errno != ENOENT) log::warn("seccomp cache: {}", describe_sys("open", path, errno));
        return false;
    }
    struct stat st {};
    if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || !trusted(st)) {
        log::warn("seccomp cache: \"{}\" is not a private file of ours, ignored", path);
        return false;
    }
    Header h{};
    auto size = static_cast<size_t>(st.st_size);
    if (size < sizeof h || pread(fd.get(), &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h) ||
        std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.count == 0 || h.count > kMaxInsns ||
        size != sizeof h + h.count * sizeof(sock_filter)) {
        log::warn("seccomp cache: \"{}\" is malformed, recompiling", path);
        return false;
    }
    std::vector<sock_filter> prog(h.count);
    size_t bytes = h.count * sizeof(sock_filter);
    if (pread(fd.get(), prog.data(), bytes, sizeof h) != static_cast<ssize_t>(bytes) ||
        sha256(prog.data(), bytes) != h.digest) {
        log::warn("seccomp cache: \"{}\" is corrupt, recompiling", path);
        return false;
    }
    out = std::move(prog);
    return true;
}

void write_cached(const std::string& dir, const std::string& path,
                  const std::vector<sock_filter>& prog) {
    if (!ensure_dir(dir)) return;
    std::random_device rd;
    std::string tmp = fmt::format("{}.{}-{:08x}.tmp", path, getpid(), rd());
    sys::UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) {
        log::warn("seccomp cache: {}", describe_sys("open", tmp, errno));
        return;
    }
    Header h{};
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.count = static_cast<uint32_t>(prog.size());
    size_t bytes = prog.size() * sizeof(sock_filter);
    h.digest = sha256(prog.data(), bytes);
    std::string buf(reinterpret_cast<const char*>(&h), sizeof h);
    buf.append(reinterpret_cast<const char*>(prog.data()), bytes);
    bool ok = write(fd.get(), buf.data(), buf.size()) == static_cast<ssize_t>(buf.size());
    int err = errno;
    fd.reset();
    if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
        if (ok) err = errno;
        log::warn("seccomp cache: {}", describe_sys(ok ? "rename" : "write", tmp, err));
        unlink(tmp.c_str());
    }
}

}  // namespace

std::string seccomp_cache_key(const oci::Seccomp& profile) {
    // Only what shapes the BPF: flags and the listener are applied at load time.
    oci::Seccomp bpf_part = profile;
    bpf_part.flags.clear();
    bpf_part.listener_path.clear();
    bpf_part.listener_metadata.clear();
    const scmp_version* v = seccomp_version();
    struct utsname u {};
    uname(&u);
    std::string input =
        fmt::format("husk-seccomp-bpf 1\nlibseccomp {}.{}.{}\n{} {}\n{}", v->major, v->minor,
                    v->micro, u.release, u.machine, dump_seccomp_json(bpf_part));
    return hex(sha256(input.data(), input.size()));
}

SeccompProgram load_or_compile_seccomp(const oci::Seccomp& profile, const std::string& cache_dir) {
    if (cache_dir.empty()) return compile_seccomp(profile);
    std::string path = fmt::format("{}/{}.bpf", cache_dir, seccomp_cache_key(profile));
    SeccompProgram prog = program_settings(profile);
    if (read_cached(path, prog.filter)) {
        log::debug("seccomp: loaded compiled profile from {}", path);
        return prog;
    }
    prog = compile_seccomp(profile);
    write_cached(cache_dir, path, prog.filter);
    return prog;
}

}  // namespace husk::runtime::security
