#include "image/layer_diff.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "image/digest.h"
#include "image/idshift.h"
#include "image/unpack.h"
#include "sys/archive_ptr.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"

namespace husk::image {
namespace {

namespace oi = oci::image;
using sys::UniqueFd;

// An opaque directory's entry in a layer; fuse-overlayfs also writes it in its upper
// directory (with a whiteout named ".wh..opq"), beside user.fuseoverlayfs.opaque.
constexpr const char* kOpaqueMarker = ".wh..wh..opq";

bool is_whiteout(const struct stat& st) {
    return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

class Lowers {
  public:
    explicit Lowers(const std::vector<std::string>& dirs) {
        for (auto& l : dirs) {
            fds_.emplace_back(::open(l.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!fds_.back()) throw_sys("open", l);
        }
    }
    bool has(const std::string& path) const {
        return find_in_layers(
                   path_components(path), fds_.size(),
                   [&](size_t l, const std::string& p) { return probe_layer(fds_[l].get(), p); })
            .has_value();
    }

  private:
    std::vector<UniqueFd> fds_;
};

// The paths (relative) of the upper dir that ChangeFilter leaves out.
std::set<std::string> filtered_out(int upper, const Lowers& lowers, const ChangeFilter& filter) {
    std::set<std::string> out;
    for (auto& stub : filter.stubs) {
        struct stat st {};
        if (::fstatat(upper, stub.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        bool empty = (S_ISREG(st.st_mode) && st.st_size == 0) ||
                     (S_ISDIR(st.st_mode) && sys::list_dir(stub, upper).empty());
        if (!empty || lowers.has(stub)) continue;
        out.insert(stub);
        // the directories above, copied up only to hold it
        for (std::string dir = stub; dir.find('/') != std::string::npos;) {
            dir = dir.substr(0, dir.rfind('/'));
            UniqueFd d(
                ::openat(upper, dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!d || is_opaque_dir(d.get()) || !lowers.has(dir)) break;
            bool only_stubs = true;
            for (auto& n : sys::list_dir(".", d.get()))
                only_stubs = only_stubs && out.contains(fmt::format("{}/{}", dir, n));
            if (!only_stubs) break;
            out.insert(dir);
        }
    }
    return out;
}

// Every entry below the directory `dirfd` (at `rel`, "" for the top), each directory's
// entries in byte order, a directory before its contents.
// Paths in `skip` (and what is below them) are left out.
void walk(int dirfd, const std::string& rel, const std::set<std::string>& skip,
          const std::function<void(int dirfd, const std::string& name, const std::string& path,
                                   const struct stat& st)>& each) {
    for (auto& name : sys::list_dir(".", dirfd)) {
        std::string path = rel.empty() ? name : fmt::format("{}/{}", rel, name);
        if (skip.contains(path)) continue;
        struct stat st {};
        if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) throw_sys("stat", path);
        // fuse-overlayfs' opaque markers beside its xattr (the directory's own marker is
        // written for it, from either): not entries of the layer
        if (name == kOpaqueMarker || (name == ".wh..opq" && is_whiteout(st))) continue;
        each(dirfd, name, path, st);
        if (S_ISDIR(st.st_mode)) {
            UniqueFd sub(
                ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub) throw_sys("open", path);
            walk(sub.get(), path, skip, each);
        }
    }
}

using sys::ArchiveEntry;

void check(archive* a, int r, const char* what) {
    if (r < ARCHIVE_WARN)
        throw Error(fmt::format("write layer: {}: {}", what, archive_error_string(a)));
}

// The blob file: its digest and size.
struct FileSink {
    int fd = -1;
    Sha256 sha;
    int64_t size = 0;
    std::string path;

    static la_ssize_t write(archive* a, void* self, const void* buf, size_t len) {
        auto* s = static_cast<FileSink*>(self);
        const char* p = static_cast<const char*>(buf);
        for (size_t done = 0; done < len;) {
            ssize_t n = ::write(s->fd, p + done, len - done);
            if (n < 0) {
                if (errno == EINTR) continue;
                archive_set_error(a, errno, "write %s", s->path.c_str());
                return -1;
            }
            done += static_cast<size_t>(n);
        }
        s->sha.update(buf, len);
        s->size += static_cast<int64_t>(len);
        return static_cast<la_ssize_t>(len);
    }
};

// The uncompressed tar stream: hashed (the diff id) and handed to a libarchive "raw"
// writer that compresses it into the blob file.
class Compressor {
  public:
    Compressor(FileSink& file, oi::Compression c) : a_(archive_write_new()) {
        if (!a_) throw Error("archive_write_new: out of memory");
        check(a_.get(), archive_write_set_format_raw(a_.get()), "raw format");
        switch (c) {
            case oi::Compression::gzip:
                check(a_.get(), archive_write_add_filter_gzip(a_.get()), "gzip");
                // no timestamp in the gzip header: the same tree gives the same blob
                check(a_.get(),
                      archive_write_set_filter_option(a_.get(), "gzip", "timestamp", nullptr),
                      "gzip options");
                break;
            case oi::Compression::zstd:
                check(a_.get(), archive_write_add_filter_zstd(a_.get()), "zstd");
                break;
            case oi::Compression::none:
                break;
        }
        check(a_.get(), archive_write_set_bytes_per_block(a_.get(), 0), "block size");
        check(a_.get(), archive_write_open(a_.get(), &file, nullptr, &FileSink::write, nullptr),
              "open");
        ArchiveEntry e(archive_entry_new());
        archive_entry_set_pathname(e.get(), "layer.tar");
        archive_entry_set_filetype(e.get(), AE_IFREG);
        check(a_.get(), archive_write_header(a_.get(), e.get()), "raw header");
    }

    static la_ssize_t write(archive* a, void* self, const void* buf, size_t len) {
        auto* c = static_cast<Compressor*>(self);
        c->diff.update(buf, len);
        if (archive_write_data(c->a_.get(), buf, len) < 0) {
            archive_set_error(a, EIO, "%s", archive_error_string(c->a_.get()));
            return -1;
        }
        return static_cast<la_ssize_t>(len);
    }

    void close() { check(a_.get(), archive_write_close(a_.get()), "close"); }

    Sha256 diff;

  private:
    sys::ArchiveWriter a_;
};

// The container's id of host id `id` under `maps` (container -> host); as it is without
// maps, the overflow id (65534) for an id the container does not have.
uint32_t container_owner(uint32_t id, const std::vector<oci::IdMapping>& maps) {
    return maps.empty() ? id : container_id_of(maps, id);
}

class TarWriter {
  public:
    TarWriter(Compressor& out, const LayerWriteOptions& opts)
        : a_(archive_write_new()), opts_(opts) {
        if (!a_) throw Error("archive_write_new: out of memory");
        check(a_.get(), archive_write_set_format_pax_restricted(a_.get()), "tar format");
        check(a_.get(), archive_write_open(a_.get(), &out, nullptr, &Compressor::write, nullptr),
              "open");
    }

    void add(int dirfd, const std::string& name, const std::string& path, const struct stat& st) {
        if (is_whiteout(st)) {
            std::string parent = path.substr(0, path.size() - name.size());
            marker(fmt::format("{}.wh.{}", parent, name), st);
            return;
        }
        ArchiveEntry e(archive_entry_new());
        archive_entry_set_pathname(e.get(), path.c_str());
        archive_entry_set_mode(e.get(), st.st_mode);
        archive_entry_set_uid(e.get(), st.st_uid);
        archive_entry_set_gid(e.get(), st.st_gid);
        archive_entry_set_mtime(e.get(), mtime(st), 0);
        UniqueFd fd;
        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
            auto [it, first] = links_.try_emplace({st.st_dev, st.st_ino}, path);
            if (!first) {
                archive_entry_set_hardlink(e.get(), it->second.c_str());
                archive_entry_set_size(e.get(), 0);
                header(e.get(), path);
                return;
            }
        }
        if (S_ISLNK(st.st_mode)) {
            std::array<char, PATH_MAX> target{};
            ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size() - 1);
            if (n < 0) throw_sys("readlink", path);
            archive_entry_set_symlink(e.get(), target.data());
        } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
            archive_entry_set_rdev(e.get(), st.st_rdev);
        } else if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
            int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0);
            fd = UniqueFd(::openat(dirfd, name.c_str(), flags));
            if (!fd) throw_sys("open", path);
            std::optional<OverrideStat> record = xattrs(fd.get(), e.get(), path);
            // The owner a rootless unpack could not give the file (it left it the
            // container's root's): the layer gets the owner it had. An owner the container
            // gave the file since stays (the kernel's overlayfs does not update the record,
            // unlike fuse-overlayfs). The mode is the file's own: the unpack set it to the
            // record's, and a chmod in the container changes the file alone.
            if (record && st.st_uid == 0) archive_entry_set_uid(e.get(), record->uid);
            if (record && st.st_gid == 0) archive_entry_set_gid(e.get(), record->gid);
            if (S_ISREG(st.st_mode)) archive_entry_set_size(e.get(), st.st_size);
        }
        header(e.get(), path);
        if (S_ISREG(st.st_mode)) data(fd.get(), st.st_size, path);
        if (S_ISDIR(st.st_mode) &&
            (is_opaque_dir(fd.get()) ||
             ::faccessat(fd.get(), kOpaqueMarker, F_OK, AT_SYMLINK_NOFOLLOW) == 0))
            marker(fmt::format("{}/{}", path, kOpaqueMarker), st);
    }

    void close() { check(a_.get(), archive_write_close(a_.get()), "close"); }

  private:
    int64_t mtime(const struct stat& st) const {
        int64_t t = st.st_mtim.tv_sec;
        return opts_.epoch && t > *opts_.epoch ? *opts_.epoch : t;
    }

    void header(archive_entry* e, const std::string& path) {
        if (archive_write_header(a_.get(), e) < ARCHIVE_WARN)
            throw Error(
                fmt::format("write layer: entry \"{}\": {}", path, archive_error_string(a_.get())));
    }

    // A whiteout or opaque marker: an empty file owned by root, mode 0.
    void marker(const std::string& path, const struct stat& st) {
        ArchiveEntry e(archive_entry_new());
        archive_entry_set_pathname(e.get(), path.c_str());
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_perm(e.get(), 0);
        archive_entry_set_size(e.get(), 0);
        archive_entry_set_mtime(e.get(), mtime(st), 0);
        header(e.get(), path);
    }

    // The file's xattrs into the entry, but overlayfs' own (an opaque directory is the
    // `.wh..wh..opq` marker; the others say how the overlay merges, and would act on the
    // overlay of whoever unpacks the layer) and the rootless owner record, returned.
    static std::optional<OverrideStat> xattrs(int fd, archive_entry* e, const std::string& path) {
        std::array<char, 65536> names{};
        ssize_t len = ::flistxattr(fd, names.data(), names.size());
        if (len < 0) {
            if (errno == ENOTSUP) return std::nullopt;
            throw_sys("listxattr", path);
        }
        std::optional<OverrideStat> record;
        std::vector<char> val(65536);
        for (const char* n = names.data(); n < names.data() + len; n += strlen(n) + 1) {
            if (is_overlay_xattr(n)) continue;
            ssize_t vl = ::fgetxattr(fd, n, val.data(), val.size());
            if (vl < 0) throw_sys(fmt::format("getxattr {}", n), path);
            std::string_view v(val.data(), static_cast<size_t>(vl));
            if (std::string_view(n) == kOverrideStatXattr) {
                // a container may write any user.* xattr on its files: a record it broke is
                // not one (the file's own owner stands) and must not stop its commit
                record = parse_override_stat(v);
                if (!record)
                    log::warn("\"{}\": {} \"{}\" is not UID:GID:MODE: ignored", path,
                              kOverrideStatXattr, shown(v));
                continue;
            }
            archive_entry_xattr_add_entry(e, n, v.data(), v.size());
        }
        return record;
    }

    void data(int fd, int64_t size, const std::string& path) {
        std::vector<char> buf(1 << 16);
        for (int64_t left = size; left > 0;) {
            ssize_t n = ::read(fd, buf.data(), buf.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_sys("read", path);
            if (n == 0)
                throw Error(fmt::format("read \"{}\": file shrank while writing the layer", path));
            if (archive_write_data(a_.get(), buf.data(), static_cast<size_t>(n)) < 0)
                throw Error(
                    fmt::format("write layer: \"{}\": {}", path, archive_error_string(a_.get())));
            left -= n;
        }
    }

    sys::ArchiveWriter a_;
    const LayerWriteOptions& opts_;
    std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace

LayerBlob write_layer(const std::string& upper, const std::string& out_path,
                      const LayerWriteOptions& opts, const ChangeFilter& filter) {
    return with_context(fmt::format("write layer of \"{}\"", upper), [&] {
        UniqueFd root(::open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!root) throw_sys("open", upper);
        UniqueFd out(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        if (!out) throw_sys("create", out_path);
        FileSink sink;
        sink.fd = out.get();
        sink.path = out_path;
        Compressor comp(sink, opts.compression);
        TarWriter w(comp, opts);
        std::set<std::string> skip = filtered_out(root.get(), Lowers(filter.lowers), filter);
        walk(root.get(), "", skip,
             [&](int dirfd, const std::string& name, const std::string& path,
                 const struct stat& st) {
                 struct stat owned = st;
                 owned.st_uid = container_owner(st.st_uid, filter.uid_maps);
                 owned.st_gid = container_owner(st.st_gid, filter.gid_maps);
                 w.add(dirfd, name, path, owned);
             });
        w.close();
        comp.close();
        LayerBlob b;
        switch (opts.compression) {
            case oi::Compression::gzip:
                b.media_type = oi::media::kOciLayerGzip;
                break;
            case oi::Compression::zstd:
                b.media_type = oi::media::kOciLayerZstd;
                break;
            case oi::Compression::none:
                b.media_type = oi::media::kOciLayer;
                break;
        }
        b.digest = sink.sha.digest();
        b.diff_id = comp.diff.digest();
        b.size = sink.size;
        b.path = out_path;
        return b;
    });
}

char change_letter(ChangeKind k) {
    switch (k) {
        case ChangeKind::added:
            return 'A';
        case ChangeKind::changed:
            return 'C';
        case ChangeKind::deleted:
            return 'D';
    }
    return '?';
}

std::vector<Change> list_changes(const std::string& upper, const ChangeFilter& filter) {
    return with_context(fmt::format("list changes of \"{}\"", upper), [&] {
        UniqueFd root(::open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!root) throw_sys("open", upper);
        Lowers lowers(filter.lowers);
        std::vector<Change> out;
        walk(root.get(), "", filtered_out(root.get(), lowers, filter),
             [&](int, const std::string&, const std::string& path, const struct stat& st) {
                 ChangeKind k = is_whiteout(st)    ? ChangeKind::deleted
                                : lowers.has(path) ? ChangeKind::changed
                                                   : ChangeKind::added;
                 out.push_back({k, "/" + path});
             });
        return out;
    });
}

std::optional<int64_t> source_date_epoch() {
    const char* v = std::getenv("SOURCE_DATE_EPOCH");
    if (v == nullptr || *v == '\0') return std::nullopt;
    int64_t t = 0;
    std::string_view s(v);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), t);
    if (ec != std::errc() || p != s.data() + s.size() || t < 0)
        throw Error(fmt::format("SOURCE_DATE_EPOCH=\"{}\": not a number of seconds", s));
    return t;
}

}  // namespace husk::image
