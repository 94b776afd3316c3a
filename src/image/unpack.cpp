#include "image/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <exception>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "image/digest.h"
#include "image/fsutil.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/log.h"

namespace husk::image {
namespace {

using sys::UniqueFd;

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kWhiteoutMeta = ".wh..wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";
constexpr uint64_t kDiskCheckEvery = 32ULL << 20;

int openat2_fd(int dirfd, const std::string& path, uint64_t flags, uint64_t resolve) {
    open_how how{};
    how.flags = flags;
    how.resolve = resolve;
    return static_cast<int>(
        ::syscall(SYS_openat2, dirfd, path.empty() ? "." : path.c_str(), &how, sizeof how));
}

constexpr uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

struct ArchiveDeleter {
    void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

std::string archive_error(archive* a) {
    const char* e = archive_error_string(a);
    return e != nullptr ? e : "unknown libarchive error";
}

// The outer reader: decompresses the layer and hashes the uncompressed stream.
struct RawStream {
    archive* raw = nullptr;
    Sha256 diff;
    uint64_t total = 0;
    uint64_t next_disk_check = kDiskCheckEvery;
    const UnpackLimits* limits = nullptr;
    int root_fd = -1;
    bool eof = false;
    std::exception_ptr error;
};

la_ssize_t read_decompressed(archive*, void* ud, const void** buf) {
    auto* s = static_cast<RawStream*>(ud);
    if (s->eof) return 0;
    try {
        size_t size = 0;
        la_int64_t offset = 0;
        int rc = archive_read_data_block(s->raw, buf, &size, &offset);
        if (rc == ARCHIVE_EOF) {
            s->eof = true;
            return 0;
        }
        if (rc < ARCHIVE_WARN)
            throw Error(fmt::format("decompress layer: {}", archive_error(s->raw)));
        s->diff.update(*buf, size);
        s->total += size;
        if (s->limits->max_layer_bytes != 0 && s->total > s->limits->max_layer_bytes)
            throw Error(fmt::format(
                "layer is larger than the limit of {} bytes uncompressed (a decompression bomb?)",
                s->limits->max_layer_bytes));
        if (s->total >= s->next_disk_check) {
            s->next_disk_check = s->total + kDiskCheckEvery;
            struct statvfs sv {};
            if (::fstatvfs(s->root_fd, &sv) == 0 &&
                static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize < s->limits->disk_reserve_bytes)
                throw Error(fmt::format(
                    "unpacking the layer would leave less than {} bytes free on the disk",
                    s->limits->disk_reserve_bytes));
        }
        return static_cast<la_ssize_t>(size);
    } catch (...) {
        s->error = std::current_exception();
        return -1;
    }
}

struct DeferredTimes {
    std::string path;
    timespec times[2];
};

class Extractor {
  public:
    Extractor(int root_fd, archive* tar, RawStream& raw, const std::atomic<bool>* cancel)
        : root_(root_fd), tar_(tar), raw_(raw), cancel_(cancel) {}

    // A libarchive failure: the stream's own error (limits, decompression) when there is one.
    [[noreturn]] void fail(std::string_view what) {
        if (raw_.error) std::rethrow_exception(raw_.error);
        throw Error(fmt::format("{}: {}", what, archive_error(tar_)));
    }

    uint64_t file_bytes() const { return file_bytes_; }

    uint64_t run() {
        RawStream& raw = raw_;
        archive_entry* e = nullptr;
        uint64_t entries = 0;
        while (true) {
            if (cancel_ != nullptr && cancel_->load()) throw Error("cancelled");
            int rc = archive_read_next_header(tar_, &e);
            if (rc == ARCHIVE_EOF) break;
            if (raw.error) std::rethrow_exception(raw.error);
            if (rc < ARCHIVE_WARN) fail("read layer");
            const char* name = archive_entry_pathname(e);
            if (name == nullptr) name = archive_entry_pathname_utf8(e);
            if (name == nullptr) throw Error("read layer: an entry without a name");
            with_context(fmt::format("layer entry \"{}\"", name), [&] { entry(e, name); });
            if (raw.error) std::rethrow_exception(raw.error);
            ++entries;
        }
        if (raw.error) std::rethrow_exception(raw.error);
        finish_dirs();
        return entries;
    }

  private:
    void entry(archive_entry* e, const char* raw_name) {
        std::string path = clean_entry_path(raw_name);
        Whiteout wo = classify_whiteout(path);
        if (wo.kind == WhiteoutKind::meta) return;
        if (wo.kind == WhiteoutKind::opaque) {
            int dir = parent(wo.dir.empty() ? std::string() : wo.dir, true);
            UniqueFd d(openat2_fd(dir, "", O_RDONLY | O_DIRECTORY | O_CLOEXEC, kInRoot));
            if (!d) throw_sys("open", wo.dir);
            if (::fsetxattr(d.get(), "trusted.overlay.opaque", "y", 1, 0) != 0)
                throw_sys("setxattr trusted.overlay.opaque", wo.dir);
            return;
        }
        if (wo.kind == WhiteoutKind::whiteout) {
            int dir = parent(wo.dir, true);
            remove_existing(dir, wo.name.c_str(), false);
            if (::mknodat(dir, wo.name.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0)
                throw_sys("mknod whiteout", wo.name);
            return;
        }
        const char* hardlink = archive_entry_hardlink(e);
        mode_t type = archive_entry_filetype(e);
        if (path.empty()) {  // the root itself
            if (hardlink != nullptr || type != AE_IFDIR)
                throw Error("the entry would replace the root of the layer");
            apply_dir_meta(root_, "", e);
            return;
        }
        size_t slash = path.rfind('/');
        std::string dir_path = slash == std::string::npos ? std::string() : path.substr(0, slash);
        std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
        int dir = parent(dir_path, true);
        const char* n = base.c_str();

        if (hardlink != nullptr) {
            std::string target = clean_entry_path(hardlink);
            if (target.empty()) throw Error("hardlink to the root of the layer");
            UniqueFd t(openat2_fd(root_, target, O_PATH | O_NOFOLLOW | O_CLOEXEC, kInRoot));
            if (!t) throw_sys("hardlink target", target);
            struct stat st {};
            if (::fstat(t.get(), &st) != 0) throw_sys("stat", target);
            if (S_ISDIR(st.st_mode))
                throw Error(fmt::format("hardlink to directory \"{}\"", target));
            remove_existing(dir, n, false);
            if (::linkat(t.get(), "", dir, n, AT_EMPTY_PATH) != 0) {
                std::string proc = fmt::format("/proc/self/fd/{}", t.get());
                if (::linkat(AT_FDCWD, proc.c_str(), dir, n, AT_SYMLINK_FOLLOW) != 0)
                    throw_sys("link", target);
            }
            return;
        }
        const mode_t perm = archive_entry_perm(e) & 07777;
        const uid_t uid = static_cast<uid_t>(archive_entry_uid(e));
        const gid_t gid = static_cast<gid_t>(archive_entry_gid(e));
        timespec ts[2] = {entry_atime(e), entry_mtime(e)};
        switch (type) {
            case AE_IFDIR: {
                if (!remove_existing(dir, n, true)) {
                    if (::mkdirat(dir, n, 0700) != 0) throw_sys("mkdir", path);
                }
                UniqueFd d(::openat(dir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                if (!d) throw_sys("open", path);
                apply_dir_meta(d.get(), path, e);
                return;
            }
            case AE_IFREG: {
                remove_existing(dir, n, false);
                UniqueFd f(
                    ::openat(dir, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
                if (!f) throw_sys("create", path);
                write_data(f.get(), path, archive_entry_size(e));
                file_bytes_ += static_cast<uint64_t>(std::max<int64_t>(archive_entry_size(e), 0));
                if (::fchown(f.get(), uid, gid) != 0) throw_sys("chown", path);
                if (::fchmod(f.get(), perm) != 0) throw_sys("chmod", path);
                set_xattrs(f.get(), path, e);
                if (::futimens(f.get(), ts) != 0) throw_sys("utimens", path);
                return;
            }
            case AE_IFLNK: {
                const char* target = archive_entry_symlink(e);
                if (target == nullptr) target = archive_entry_symlink_utf8(e);
                if (target == nullptr) throw Error("symlink without a target");
                remove_existing(dir, n, false);
                if (::symlinkat(target, dir, n) != 0) throw_sys("symlink", path);
                if (::fchownat(dir, n, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
                    throw_sys("chown", path);
                if (::utimensat(dir, n, ts, AT_SYMLINK_NOFOLLOW) != 0) throw_sys("utimens", path);
                return;
            }
            case AE_IFCHR:
            case AE_IFBLK:
            case AE_IFIFO: {
                remove_existing(dir, n, false);
                dev_t dev = type == AE_IFIFO ? 0 : archive_entry_rdev(e);
                if (::mknodat(dir, n, type | perm, dev) != 0) throw_sys("mknod", path);
                if (::fchownat(dir, n, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
                    throw_sys("chown", path);
                UniqueFd p(::openat(dir, n, O_PATH | O_NOFOLLOW | O_CLOEXEC));
                if (!p) throw_sys("open", path);
                std::string proc = fmt::format("/proc/self/fd/{}", p.get());
                if (::fchmodat(AT_FDCWD, proc.c_str(), perm, 0) != 0) throw_sys("chmod", path);
                set_xattrs_path(proc, path, e);
                if (::utimensat(dir, n, ts, AT_SYMLINK_NOFOLLOW) != 0) throw_sys("utimens", path);
                return;
            }
            case AE_IFSOCK:
                log::debug("skipping socket \"{}\"", path);
                return;
            default:
                throw Error(fmt::format("unsupported entry type {:o}", type));
        }
    }

    static timespec entry_mtime(archive_entry* e) {
        return timespec{archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
    }
    static timespec entry_atime(archive_entry* e) {
        if (archive_entry_atime_is_set(e))
            return timespec{archive_entry_atime(e), archive_entry_atime_nsec(e)};
        return entry_mtime(e);
    }

    void apply_dir_meta(int fd, const std::string& path, archive_entry* e) {
        if (::fchown(fd, static_cast<uid_t>(archive_entry_uid(e)),
                     static_cast<gid_t>(archive_entry_gid(e))) != 0)
            throw_sys("chown", path);
        if (::fchmod(fd, archive_entry_perm(e) & 07777) != 0) throw_sys("chmod", path);
        set_xattrs(fd, path, e);
        dirs_.push_back(DeferredTimes{path, {entry_atime(e), entry_mtime(e)}});
    }

    // Data of a regular file; sparse blocks land at their offsets.
    void write_data(int fd, const std::string& path, int64_t size) {
        const void* buf = nullptr;
        size_t len = 0;
        la_int64_t off = 0;
        while (true) {
            int rc = archive_read_data_block(tar_, &buf, &len, &off);
            if (rc == ARCHIVE_EOF) break;
            if (rc < ARCHIVE_WARN) fail("read data");
            const char* p = static_cast<const char*>(buf);
            while (len > 0) {
                ssize_t w = ::pwrite(fd, p, len, off);
                if (w < 0 && errno == EINTR) continue;
                if (w < 0) throw_sys("write", path);
                p += w;
                len -= static_cast<size_t>(w);
                off += w;
            }
        }
        if (size > 0 && ::ftruncate(fd, size) != 0) throw_sys("truncate", path);
    }

    template <class SetFn>
    void for_xattrs(archive_entry* e, const std::string& path, SetFn&& set) {
        archive_entry_xattr_reset(e);
        const char* name = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
            std::string_view nv = name;
            // overlayfs' own attributes would turn files into whiteouts or redirects
            if (nv.starts_with("trusted.overlay.")) continue;
            if (set(name, value, size) != 0) {
                if (errno == ENOTSUP) {
                    log::debug("xattr {} on \"{}\" not supported here", name, path);
                    continue;
                }
                throw_sys(fmt::format("setxattr {}", name), path);
            }
        }
    }
    void set_xattrs(int fd, const std::string& path, archive_entry* e) {
        for_xattrs(e, path, [&](const char* n, const void* v, size_t s) {
            return ::fsetxattr(fd, n, v, s, 0);
        });
    }
    void set_xattrs_path(const std::string& proc, const std::string& path, archive_entry* e) {
        for_xattrs(e, path, [&](const char* n, const void* v, size_t s) {
            return ::setxattr(proc.c_str(), n, v, s, 0);
        });
    }

    // Removes what is at dir/name unless both it and the new entry are directories.
    // Returns true when an existing directory is kept.
    bool remove_existing(int dir, const char* name, bool new_is_dir) {
        struct stat st {};
        if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) return false;
            throw_sys("stat", name);
        }
        if (S_ISDIR(st.st_mode) && new_is_dir) return true;
        invalidate();
        if (S_ISDIR(st.st_mode))
            remove_tree_at(dir, name);
        else if (::unlinkat(dir, name, 0) != 0)
            throw_sys("unlink", name);
        return false;
    }

    void invalidate() {
        cached_path_.clear();
        cached_.reset();
        have_cache_ = false;
    }

    // An O_PATH fd of the directory `dir` (relative to the root, resolved in it),
    // created with mode 0755 when missing. Owned by the cache.
    int parent(const std::string& dir, bool create) {
        if (dir.empty()) return root_;
        if (have_cache_ && cached_path_ == dir) return cached_.get();
        UniqueFd fd(openat2_fd(root_, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, kInRoot));
        if (!fd && errno == ENOENT && create) fd = make_dirs(dir);
        if (!fd) throw_sys("open parent directory", dir);
        cached_ = std::move(fd);
        cached_path_ = dir;
        have_cache_ = true;
        return cached_.get();
    }

    UniqueFd make_dirs(const std::string& dir) {
        UniqueFd cur(::fcntl(root_, F_DUPFD_CLOEXEC, 0));
        std::string sofar;
        size_t start = 0;
        while (start < dir.size()) {
            size_t slash = dir.find('/', start);
            std::string comp =
                dir.substr(start, slash == std::string::npos ? slash : slash - start);
            sofar += (sofar.empty() ? "" : "/") + comp;
            UniqueFd next(openat2_fd(root_, sofar, O_PATH | O_DIRECTORY | O_CLOEXEC, kInRoot));
            if (!next && errno == ENOENT) {
                if (::mkdirat(cur.get(), comp.c_str(), 0755) != 0 && errno != EEXIST)
                    throw_sys("mkdir", sofar);
                next.reset(openat2_fd(root_, sofar, O_PATH | O_DIRECTORY | O_CLOEXEC, kInRoot));
            }
            if (!next) throw_sys("open", sofar);
            cur = std::move(next);
            if (slash == std::string::npos) break;
            start = slash + 1;
        }
        return cur;
    }

    void finish_dirs() {
        invalidate();
        for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
            UniqueFd d(openat2_fd(root_, it->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                                  kInRoot | RESOLVE_NO_SYMLINKS));
            if (!d) continue;  // replaced later in the layer
            if (::futimens(d.get(), it->times) != 0) throw_sys("utimens", it->path);
        }
    }

    int root_;
    archive* tar_;
    RawStream& raw_;
    const std::atomic<bool>* cancel_;
    std::vector<DeferredTimes> dirs_;
    uint64_t file_bytes_ = 0;
    UniqueFd cached_;
    std::string cached_path_;
    bool have_cache_ = false;
};

}  // namespace

std::string clean_entry_path(std::string_view name) {
    std::vector<std::string_view> parts;
    size_t i = 0;
    while (i <= name.size()) {
        size_t slash = name.find('/', i);
        if (slash == std::string_view::npos) slash = name.size();
        std::string_view comp = name.substr(i, slash - i);
        if (comp == "..") {
            if (!parts.empty()) parts.pop_back();
        } else if (!comp.empty() && comp != ".") {
            parts.push_back(comp);
        }
        i = slash + 1;
    }
    std::string out;
    for (auto& p : parts) {
        if (!out.empty()) out += '/';
        out += p;
    }
    return out;
}

Whiteout classify_whiteout(std::string_view cleaned) {
    Whiteout w;
    size_t slash = cleaned.rfind('/');
    std::string_view base = slash == std::string_view::npos ? cleaned : cleaned.substr(slash + 1);
    std::string_view dir =
        slash == std::string_view::npos ? std::string_view() : cleaned.substr(0, slash);
    if (!base.starts_with(kWhiteoutPrefix)) return w;
    w.dir = std::string(dir);
    if (base == kOpaque) {
        w.kind = WhiteoutKind::opaque;
    } else if (base.starts_with(kWhiteoutMeta)) {
        w.kind = WhiteoutKind::meta;
    } else {
        w.name = std::string(base.substr(kWhiteoutPrefix.size()));
        w.kind = (w.name.empty() || w.name == "." || w.name == "..") ? WhiteoutKind::meta
                                                                     : WhiteoutKind::whiteout;
    }
    return w;
}

UnpackResult unpack_layer(int fd, int root_fd, const UnpackLimits& limits,
                          const std::atomic<bool>* cancel) {
    ArchivePtr raw(archive_read_new());
    archive_read_support_filter_gzip(raw.get());
    archive_read_support_filter_zstd(raw.get());
    archive_read_support_filter_xz(raw.get());
    archive_read_support_filter_bzip2(raw.get());
    archive_read_support_format_raw(raw.get());
    archive_read_support_format_empty(raw.get());
    if (archive_read_open_fd(raw.get(), fd, size_t{256} * 1024) != ARCHIVE_OK)
        throw Error(fmt::format("open layer stream: {}", archive_error(raw.get())));
    archive_entry* re = nullptr;
    int rc = archive_read_next_header(raw.get(), &re);
    if (rc == ARCHIVE_EOF) throw Error("the layer is empty");
    if (rc < ARCHIVE_WARN) throw Error(fmt::format("read layer: {}", archive_error(raw.get())));

    RawStream stream;
    stream.raw = raw.get();
    stream.limits = &limits;
    stream.root_fd = root_fd;

    ArchivePtr tar(archive_read_new());
    archive_read_support_format_tar(tar.get());
    archive_read_support_format_gnutar(tar.get());
    if (archive_read_open(tar.get(), &stream, nullptr, read_decompressed, nullptr) != ARCHIVE_OK) {
        if (stream.error) std::rethrow_exception(stream.error);
        throw Error(fmt::format("read layer: {}", archive_error(tar.get())));
    }
    Extractor ex(root_fd, tar.get(), stream, cancel);
    UnpackResult res;
    res.entries = ex.run();
    res.file_bytes = ex.file_bytes();
    // The tar reader stops at the end-of-archive blocks: hash whatever follows too.
    const void* buf = nullptr;
    while (read_decompressed(nullptr, &stream, &buf) > 0) {
    }
    if (stream.error) std::rethrow_exception(stream.error);
    res.tar_bytes = stream.total;
    res.diff_id = stream.diff.digest();
    return res;
}

}  // namespace husk::image
