#include "build/context.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <functional>

#include <fmt/format.h>

#include "image/digest.h"
#include "image/unpack.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/safe_path.h"

namespace husk::build {
namespace {

using sys::UniqueFd;

// "a/./b/../c/" -> "a/c"; never above the root ("../x" -> "x"); "" for the root.
std::string clean_rel(std::string_view p) {
    return image::clean_entry_path(p);
}

std::string join(const std::string& a, const std::string& b) {
    if (a.empty()) return b;
    if (b.empty()) return a;
    return a.back() == '/' ? a + b : fmt::format("{}/{}", a, b);
}

std::string base_name(const std::string& p) {
    size_t s = p.rfind('/');
    return s == std::string::npos ? p : p.substr(s + 1);
}

bool has_glob(std::string_view s) {
    return s.find_first_of("*?[") != std::string_view::npos;
}

std::string glob_regex(std::string_view p) {
    std::string out = "^";
    for (size_t i = 0; i < p.size(); ++i) {
        char c = p[i];
        if (c == '*') {
            if (i + 1 < p.size() && p[i + 1] == '*') {
                ++i;
                if (i + 1 < p.size() && p[i + 1] == '/') {
                    ++i;
                    out += "(.*/)?";
                } else {
                    out += ".*";
                }
            } else {
                out += "[^/]*";
            }
        } else if (c == '?') {
            out += "[^/]";
        } else if (c == '[') {
            size_t end = p.find(']', i + 1);
            if (end == std::string_view::npos) {
                out += "\\[";
                continue;
            }
            std::string cls(p.substr(i + 1, end - i - 1));
            if (!cls.empty() && (cls[0] == '!' || cls[0] == '^')) cls[0] = '^';
            out += "[" + cls + "]";
            i = end;
        } else if (c == '\\' && i + 1 < p.size()) {
            out += '\\';
            out += p[++i];
        } else {
            if (std::string_view(".^$|()+{}\\").find(c) != std::string_view::npos) out += '\\';
            out += c;
        }
    }
    return out + "$";
}

struct Stat {
    struct stat st {};
    bool found = false;
};

Stat stat_in(int root, const std::string& rel) {
    Stat s;
    std::string p = rel.empty() ? "." : rel;
    int fd = sys::open_in_root(root, p.c_str(), O_PATH | O_NOFOLLOW);
    if (fd < 0) {
        if (fd == -ENOENT || fd == -ENOTDIR) return s;
        errno = -fd;
        throw_sys("open", rel);
    }
    UniqueFd f(fd);
    if (::fstat(f.get(), &s.st) != 0) throw_sys("stat", rel);
    s.found = true;
    return s;
}

UniqueFd open_dir_in(int root, const std::string& rel) {
    std::string p = rel.empty() ? "." : rel;
    int fd = sys::open_in_root(root, p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd < 0) {
        errno = -fd;
        throw_sys("open", rel);
    }
    return UniqueFd(fd);
}

// Every entry below `rel` (relative paths from the source root), a directory before its
// contents; `enter` says whether to descend into a directory.
void walk(int root, const std::string& rel,
          const std::function<bool(const std::string& path, const struct stat& st)>& each) {
    UniqueFd dir = open_dir_in(root, rel);
    for (auto& name : sys::list_dir(".", dir.get())) {
        std::string path = join(rel, name);
        struct stat st {};
        if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw_sys("stat", path);
        if (each(path, st) && S_ISDIR(st.st_mode)) walk(root, path, each);
    }
}

void hash_file(image::Sha256& h, int root, const std::string& rel) {
    int fd = sys::open_in_root(root, rel.c_str(), O_RDONLY | O_NOFOLLOW);
    if (fd < 0) {
        errno = -fd;
        throw_sys("open", rel);
    }
    UniqueFd f(fd);
    std::vector<char> buf(1 << 16);
    while (true) {
        ssize_t n = ::read(f.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_sys("read", rel);
        if (n == 0) break;
        h.update(buf.data(), static_cast<size_t>(n));
    }
}

std::string read_link_at(int dirfd, const char* name, const std::string& path) {
    std::array<char, PATH_MAX> buf{};
    ssize_t n = ::readlinkat(dirfd, name, buf.data(), buf.size() - 1);
    if (n < 0) throw_sys("readlink", path);
    return {buf.data(), static_cast<size_t>(n)};
}

std::string link_target(int root, const std::string& rel) {
    std::string parent = rel.find('/') == std::string::npos ? "" : rel.substr(0, rel.rfind('/'));
    UniqueFd dir = open_dir_in(root, parent);
    return read_link_at(dir.get(), base_name(rel).c_str(), rel);
}

// A local file ADD extracts: a tar, plain or compressed (gzip, bzip2, xz, zstd).
bool is_archive(int root, const std::string& rel) {
    int fd = sys::open_in_root(root, rel.c_str(), O_RDONLY | O_NOFOLLOW);
    if (fd < 0) return false;
    UniqueFd f(fd);
    std::array<unsigned char, 512> b{};
    ssize_t n = ::pread(f.get(), b.data(), b.size(), 0);
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return true;                               // gzip
    if (n >= 3 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h') return true;                  // bzip2
    if (n >= 6 && b[0] == 0xfd && b[1] == '7' && b[2] == 'z' && b[3] == 'X') return true;  // xz
    if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) return true;
    return n >= 262 &&
           std::string_view(reinterpret_cast<const char*>(b.data()) + 257, 5) == "ustar";
}

int parent_fd(int root, const std::string& dst, std::array<char, 256>& name) {
    int fd = sys::parent_in_root(root, dst.c_str(), name.data(), name.size(), true, 0755);
    if (fd < 0) {
        errno = -fd;
        throw_sys("open parent directory", dst);
    }
    return fd;
}

void set_owner_mode(int fd, const std::string& dst, const CopyOwner& o, mode_t mode) {
    if (::fchown(fd, o.uid, o.gid) != 0) throw_sys("chown", dst);
    if (::fchmod(fd, o.chmod ? *o.chmod : (mode & 07777)) != 0) throw_sys("chmod", dst);
}

void copy_data(int src, int dst, const std::string& path) {
    std::vector<char> buf(1 << 16);
    while (true) {
        ssize_t n = ::read(src, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_sys("read", path);
        if (n == 0) return;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = ::write(dst, buf.data() + done, static_cast<size_t>(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) throw_sys("write", path);
            done += w;
        }
    }
}

// Makes room for a non-directory at `name`: what is there is removed (a directory is
// refused, as docker refuses it).
void clear_for_file(int parent, const char* name, const std::string& dst) {
    struct stat st {};
    if (::fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    if (S_ISDIR(st.st_mode))
        throw Error(fmt::format("cannot copy to \"{}\": it is a directory in the image", dst));
    if (::unlinkat(parent, name, 0) != 0) throw_sys("unlink", dst);
}

// The directories above `dst` (absolute in the root) that are missing, made 0755 and owned
// by the copy's owner (as buildah and BuildKit make them).
void make_parents(int root, const std::string& dst, const CopyOwner& owner) {
    std::string prefix;
    size_t b = 1;
    while (true) {
        size_t e = dst.find('/', b);
        if (e == std::string::npos) return;
        prefix = dst.substr(0, e);
        b = e + 1;
        if (prefix.size() <= 1 || stat_in(root, prefix.substr(1)).found) continue;
        int fd = sys::mkdir_all_in_root(root, prefix.c_str(), 0755);
        if (fd < 0) {
            errno = -fd;
            throw_sys("mkdir", prefix);
        }
        UniqueFd made(fd);
        if (::fchownat(made.get(), "", owner.uid, owner.gid, AT_EMPTY_PATH) != 0)
            throw_sys("chown", prefix);
    }
}

}  // namespace

IgnoreRules::IgnoreRules(std::string_view text) {
    size_t b = 0;
    while (b < text.size()) {
        size_t e = text.find('\n', b);
        if (e == std::string_view::npos) e = text.size();
        std::string_view line = text.substr(b, e - b);
        b = e + 1;
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
            line.remove_suffix(1);
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
            line.remove_prefix(1);
        if (line.empty() || line.front() == '#') continue;
        Rule r;
        if (line.front() == '!') {
            r.negate = true;
            exceptions_ = true;
            line.remove_prefix(1);
        }
        std::string pat = clean_rel(line);
        if (pat.empty()) continue;
        r.re = std::regex(glob_regex(pat));
        rules_.push_back(std::move(r));
    }
}

bool IgnoreRules::excluded(const std::string& rel) const {
    bool out = false;
    for (auto& r : rules_) {
        bool m = false;
        // the path itself or a directory above it
        for (size_t end = rel.size(); !m;) {
            m = std::regex_match(rel.begin(), rel.begin() + static_cast<long>(end), r.re);
            if (end == 0) break;
            size_t s = rel.rfind('/', end - 1);
            if (s == std::string::npos) break;
            end = s;
        }
        if (m) out = !r.negate;
    }
    return out;
}

bool glob_match(std::string_view pattern, std::string_view path) {
    return std::regex_match(path.begin(), path.end(), std::regex(glob_regex(pattern)));
}

CopySource CopySource::in_userns() const {
    CopySource s;
    s.root = reopen ? reopen() : UniqueFd(::fcntl(root.get(), F_DUPFD_CLOEXEC, 0));
    if (!s.root) throw_sys("open again", what);
    s.ignore = ignore;
    s.what = what;
    return s;
}

CopyPlan plan_copy(const CopySource& from, const std::vector<std::string>& sources,
                   const std::string& dest, bool dest_is_dir, bool is_add) {
    int root = from.root.get();
    auto excluded = [&](const std::string& rel) {
        return from.ignore != nullptr && !rel.empty() && from.ignore->excluded(rel);
    };
    struct Match {
        std::string rel;
        struct stat st;
    };
    std::vector<Match> matches;
    for (auto& s : sources) {
        std::string pat = clean_rel(s);
        if (!has_glob(pat)) {
            Stat st = stat_in(root, pat);
            if (!st.found || excluded(pat))
                throw Error(fmt::format("\"{}\": not found in {}{}", s, from.what,
                                        from.ignore ? " (or excluded by .dockerignore)" : ""));
            matches.push_back({pat, st.st});
            continue;
        }
        std::string base;
        for (size_t b = 0; b < pat.size();) {
            size_t e = pat.find('/', b);
            if (e == std::string::npos) break;
            std::string comp = pat.substr(b, e - b);
            if (has_glob(comp)) break;
            base = join(base, comp);
            b = e + 1;
        }
        size_t before = matches.size();
        std::regex re(glob_regex(pat));
        if (stat_in(root, base).found)
            walk(root, base, [&](const std::string& path, const struct stat& st) {
                if (excluded(path) && !(from.ignore && from.ignore->has_exceptions())) return false;
                if (std::regex_match(path, re) && !excluded(path)) {
                    matches.push_back({path, st});
                    return false;  // a matched directory is copied whole
                }
                return true;
            });
        if (matches.size() == before)
            throw Error(fmt::format(
                "\"{}\": no source files were specified (nothing in {} matches)", s, from.what));
    }
    bool into_dir = dest_is_dir || matches.size() > 1;
    if (matches.size() > 1 && !dest.ends_with('/') && !dest_is_dir)
        throw Error(
            "When using COPY with more than one source file, the destination must be a "
            "directory and end with a /");
    CopyPlan plan;
    image::Sha256 h;
    auto add = [&](CopyEntry e) {
        h.update(fmt::format("{}\n{}\n{:o}\n", e.src, e.dst, e.mode));
        if (S_ISREG(e.mode)) hash_file(h, root, e.src);
        if (S_ISLNK(e.mode)) h.update(link_target(root, e.src));
        h.update("\n");
        plan.entries.push_back(std::move(e));
    };
    std::string d = dest.size() > 1 && dest.back() == '/' ? dest.substr(0, dest.size() - 1) : dest;
    for (auto& m : matches) {
        if (S_ISDIR(m.st.st_mode)) {
            add({m.rel, d, S_IFDIR | 0755, false, true});
            walk(root, m.rel, [&](const std::string& path, const struct stat& st) {
                if (excluded(path)) return S_ISDIR(st.st_mode) && from.ignore->has_exceptions();
                std::string sub = m.rel.empty() ? path : path.substr(m.rel.size() + 1);
                add({path, join(d == "/" ? "/" : d + "/", sub), st.st_mode, false});
                return true;
            });
        } else if (is_add && S_ISREG(m.st.st_mode) && is_archive(root, m.rel)) {
            add({m.rel, d, m.st.st_mode, true});
        } else {
            add({m.rel, into_dir ? join(d == "/" ? "/" : d + "/", base_name(m.rel)) : d,
                 m.st.st_mode, false});
        }
    }
    plan.digest = h.digest();
    return plan;
}

void make_dir_in_root(int root_fd, const std::string& path) {
    int fd = sys::mkdir_all_in_root(root_fd, path.c_str(), 0755);
    if (fd < 0) {
        errno = -fd;
        throw_sys("mkdir", path);
    }
    ::close(fd);
}

void apply_copy(const CopySource& from, const CopyPlan& plan, int root_fd, const CopyOwner& owner) {
    int src_root = from.root.get();
    struct DirTimes {
        std::string dst;
        struct timespec times[2];
    };
    std::vector<DirTimes> dir_times;
    for (auto& e : plan.entries) {
        with_context(fmt::format("copy \"{}\" to \"{}\"", e.src.empty() ? "." : e.src, e.dst), [&] {
            Stat src = stat_in(src_root, e.src);
            if (!src.found) throw Error("the source is gone");
            make_parents(root_fd, e.dst, owner);
            if (e.extract) {
                make_dir_in_root(root_fd, e.dst);
                UniqueFd dir = open_dir_in(root_fd, e.dst);
                int fd = sys::open_in_root(src_root, e.src.c_str(), O_RDONLY | O_NOFOLLOW);
                if (fd < 0) {
                    errno = -fd;
                    throw_sys("open", e.src);
                }
                UniqueFd tar(fd);
                image::unpack_layer(tar.get(), dir.get(), image::UnpackLimits{});
                return;
            }
            if (S_ISDIR(e.mode)) {
                bool existed = stat_in(root_fd, e.dst).found;
                int fd = sys::mkdir_all_in_root(root_fd, e.dst.c_str(), 0755);
                if (fd < 0) {
                    errno = -fd;
                    throw_sys("mkdir", e.dst);
                }
                UniqueFd path_fd(fd);
                UniqueFd dir(::openat(path_fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
                if (!dir) throw_sys("open", e.dst);
                if (e.top && existed) return;
                set_owner_mode(dir.get(), e.dst, owner, e.mode);
                if (!e.top) dir_times.push_back({e.dst, {src.st.st_atim, src.st.st_mtim}});
                return;
            }
            std::array<char, 256> name{};
            UniqueFd parent(parent_fd(root_fd, e.dst, name));
            clear_for_file(parent.get(), name.data(), e.dst);
            if (S_ISLNK(e.mode)) {
                std::string target = link_target(src_root, e.src);
                if (::symlinkat(target.c_str(), parent.get(), name.data()) != 0)
                    throw_sys("symlink", e.dst);
                if (::fchownat(parent.get(), name.data(), owner.uid, owner.gid,
                               AT_SYMLINK_NOFOLLOW) != 0)
                    throw_sys("chown", e.dst);
                struct timespec t[2] = {src.st.st_atim, src.st.st_mtim};
                ::utimensat(parent.get(), name.data(), t, AT_SYMLINK_NOFOLLOW);
                return;
            }
            if (!S_ISREG(e.mode)) {
                if (::mknodat(parent.get(), name.data(), e.mode, src.st.st_rdev) != 0)
                    throw_sys("mknod", e.dst);
                return;
            }
            int sfd = sys::open_in_root(src_root, e.src.c_str(), O_RDONLY | O_NOFOLLOW);
            if (sfd < 0) {
                errno = -sfd;
                throw_sys("open", e.src);
            }
            UniqueFd in(sfd);
            UniqueFd out(::openat(parent.get(), name.data(),
                                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!out) throw_sys("create", e.dst);
            copy_data(in.get(), out.get(), e.dst);
            set_owner_mode(out.get(), e.dst, owner, e.mode);
            struct timespec t[2] = {src.st.st_atim, src.st.st_mtim};
            if (::futimens(out.get(), t) != 0) throw_sys("utimens", e.dst);
        });
    }
    // directory times last: creating their contents changed them
    for (auto it = dir_times.rbegin(); it != dir_times.rend(); ++it) {
        UniqueFd dir = open_dir_in(root_fd, it->dst);
        if (::futimens(dir.get(), it->times) != 0) throw_sys("utimens", it->dst);
    }
}

}  // namespace husk::build
