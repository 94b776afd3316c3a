#include "runtime/cgroup/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"

namespace husk::runtime::cgroup {

namespace {

std::string join(const std::string& dir, std::string_view name) {
    std::string p = dir;
    p += '/';
    p += name;
    return p;
}

// The child cgroups of `dir`: its subdirectories. A cgroup that is gone, or cannot be
// listed, has none to see (rmdir then says what is wrong with it).
std::vector<std::string> subdirs(const std::string& dir) {
    std::vector<std::string> out;
    try {
        for (const auto& e : sys::list_dir_entries(dir))
            if (e.type == DT_DIR && e.name[0] != '.') out.push_back(join(dir, e.name));
    } catch (const SysError&) {
        out.clear();
    }
    return out;
}

bool read_all(const std::string& path, std::string& out, int& err) {
    sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        err = errno;
        return false;
    }
    out.clear();
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            err = errno;
            return false;
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return true;
}

void collect_procs(const std::string& dir, bool recursive, std::vector<pid_t>& out) {
    std::string text;
    int err = 0;
    if (!read_all(join(dir, "cgroup.procs"), text, err)) {
        if (err == ENOENT || err == ENODEV) return;
        throw_sys("read", join(dir, "cgroup.procs"), err);
    }
    const char* p = text.data();
    const char* end = p + text.size();
    while (p < end) {
        pid_t pid = 0;
        auto [next, ec] = std::from_chars(p, end, pid);
        if (ec == std::errc()) out.push_back(pid);
        p = next;
        while (p < end && (*p < '0' || *p > '9')) ++p;
    }
    if (!recursive) return;
    for (const auto& s : subdirs(dir)) collect_procs(s, true, out);
}

}  // namespace

WriteFile::WriteFile(const std::string& dir, std::string_view name) : path_(join(dir, name)) {}

void WriteFile::write(std::string_view value) {
    if (!fd_) {
        fd_.reset(::open(path_.c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd_) throw_sys(fmt::format("write \"{}\" to", value), path_);
    }
    ssize_t n;
    do {
        n = ::write(fd_.get(), value.data(), value.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw_sys(fmt::format("write \"{}\" to", value), path_);
}

void write_file(const std::string& dir, std::string_view name, std::string_view value) {
    WriteFile(dir, name).write(value);
}

std::string read_file(const std::string& dir, std::string_view name) {
    std::string out;
    int err = 0;
    const std::string path = join(dir, name);
    if (!read_all(path, out, err)) throw_sys("read", path, err);
    return out;
}

bool try_read_file(const std::string& path, std::string& out) {
    int err = 0;
    return read_all(path, out, err);
}

bool file_exists(const std::string& dir, std::string_view name) {
    return ::access(join(dir, name).c_str(), F_OK) == 0;
}

std::vector<pid_t> read_procs(const std::string& dir, bool recursive) {
    std::vector<pid_t> out;
    collect_procs(dir, recursive, out);
    return out;
}

std::vector<std::string> make_dirs(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) == 0) return {path};
    if (errno == EEXIST) return {};
    if (errno != ENOENT) throw_sys("mkdir", path);
    // Some ancestors are missing: walk down from the top.
    std::vector<std::string> created;
    for (size_t pos = 1;; ++pos) {
        pos = path.find('/', pos);
        std::string part = path.substr(0, pos);
        if (::mkdir(part.c_str(), 0755) == 0) {
            created.push_back(part);
        } else if (errno != EEXIST) {
            int err = errno;
            for (auto it = created.rbegin(); it != created.rend(); ++it) ::rmdir(it->c_str());
            throw_sys("mkdir", part, err);
        }
        if (pos == std::string::npos) return created;
    }
}

void remove_cgroup(const std::string& dir) {
    // A container's cgroup seldom has children: rmdir first, and list the directory (some
    // 30 files in each of up to 10 hierarchies) only when that fails.
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    for (const auto& s : subdirs(dir)) remove_cgroup(s);
    // Processes that were just killed leave the cgroup asynchronously.
    auto delay = std::chrono::microseconds(200);
    for (int attempt = 0;; ++attempt) {
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
        if (errno != EBUSY || attempt >= 60) throw_sys("rmdir", dir);
        std::this_thread::sleep_for(delay);
        if (delay < std::chrono::milliseconds(50)) delay *= 2;
    }
}

std::map<std::string, uint64_t> read_flat(const std::string& dir, std::string_view name) {
    std::map<std::string, uint64_t> out;
    std::string text;
    if (!try_read_file(join(dir, name), text)) return out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string::npos) eol = text.size();
        std::string_view line(text.data() + pos, eol - pos);
        size_t sp = line.find(' ');
        if (sp != std::string_view::npos) {
            uint64_t v = 0;
            std::from_chars(line.data() + sp + 1, line.data() + line.size(), v);
            out[std::string(line.substr(0, sp))] = v;
        }
        pos = eol + 1;
    }
    return out;
}

bool has(const std::vector<std::string>& words, std::string_view word) {
    return std::find(words.begin(), words.end(), word) != words.end();
}

std::string parent_of(const std::string& dir) {
    return dir.substr(0, dir.rfind('/'));
}

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find_first_of(" \n", pos);
        if (end == std::string_view::npos) end = text.size();
        if (end > pos) out.emplace_back(text.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

int64_t flat_key(std::string_view text, std::string_view key) {
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        std::string_view line = text.substr(pos, eol - pos);
        if (line.size() > key.size() && line.substr(0, key.size()) == key &&
            line[key.size()] == ' ') {
            std::string_view v = line.substr(key.size() + 1);
            int64_t out = -1;
            std::from_chars(v.data(), v.data() + v.size(), out);
            return out;
        }
        pos = eol + 1;
    }
    return -1;
}

}  // namespace husk::runtime::cgroup
