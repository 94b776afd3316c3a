#include "image/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstring>
#include <exception>
#include <memory>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "image/copy_up.h"
#include "image/digest.h"
#include "image/owner_shift.h"
#include "image/store.h"
#include "image/unpack_pool.h"
#include "sys/archive_ptr.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/scope_guard.h"
#include "sys/user_dirs.h"

namespace husk::image {
namespace {

using sys::UniqueFd;

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kWhiteoutMeta = ".wh..wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";
constexpr uint64_t kDiskCheckEvery = 32ULL << 20;
// The decompressed stream in flight between the inflating and the reading thread.
constexpr size_t kPipeBlocks = 4;
constexpr size_t kPipeBlockSize = size_t{256} << 10;
constexpr size_t kInflateIn = size_t{256} << 10;  // compressed bytes read at a time
// Files handed to the writer threads: each at most kPooledFileMax bytes (larger ones are
// written by the reading thread as they stream), at most kQueueBytes of data and
// kQueueFiles open files queued at once.
constexpr int64_t kPooledFileMax = int64_t{1} << 20;
constexpr size_t kQueueBytes = size_t{4} << 20;
constexpr size_t kQueueFiles = 256;
// A file of at least this size has its writeback started as soon as it is written
// (sync_file_range, which does not wait): the disk writes it while the rest of the layer
// unpacks, and a pull's syncfs at the end waits for less. Not for smaller files: a call
// per small file costs more CPU than the wait it saves.
constexpr int64_t kEarlyWritebackMin = int64_t{256} << 10;

int openat2_fd(int dirfd, const std::string& path, uint64_t flags, uint64_t resolve) {
    open_how how{};
    how.flags = flags;
    how.resolve = resolve;
    return static_cast<int>(
        ::syscall(SYS_openat2, dirfd, path.empty() ? "." : path.c_str(), &how, sizeof how));
}

constexpr uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
// Lookups in lower layers follow no symlink at all (as overlayfs does not across layers).
constexpr uint64_t kInRootNoLinks = kInRoot | RESOLVE_NO_SYMLINKS;

// A directory fd shared by the cache that found it and the entry that uses it, so that
// dropping the cache never closes an fd an entry is still working in.
using DirFd = std::shared_ptr<const UniqueFd>;

DirFd share(UniqueFd fd) {
    return std::make_shared<const UniqueFd>(std::move(fd));
}

bool all_zero(const char* p, size_t n) {
    return n == 0 || (p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0);
}

using Node = LayerNode;

}  // namespace

LayerNode probe_layer(int root, const std::string& path) {
    UniqueFd fd(openat2_fd(root, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, kInRootNoLinks));
    if (!fd) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return Node::absent;
        throw_sys("open", path);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_sys("stat", path);
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) return Node::whiteout;
    if (!S_ISDIR(st.st_mode)) return Node::other;
    UniqueFd dir(::openat(fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir) throw_sys("open", path);
    return is_opaque_dir(dir.get()) ? Node::opaque_dir : Node::dir;
}

const char* opaque_xattr() {
    static const bool rootless = sys::rootless();
    return rootless ? "user.overlay.opaque" : "trusted.overlay.opaque";
}

bool is_opaque_dir(int dirfd) {
    for (const char* name :
         {"trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque"}) {
        char v[2];
        if (::fgetxattr(dirfd, name, v, sizeof v) == 1 && v[0] == 'y') return true;
    }
    return false;
}

bool is_overlay_xattr(std::string_view name) {
    return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.") ||
           name.starts_with("user.fuseoverlayfs.");
}

std::optional<OverrideStat> parse_override_stat(std::string_view value) {
    // UID:GID:MODE[:TYPE], the mode in octal
    std::array<std::string_view, 3> f;
    for (size_t i = 0; i < f.size(); ++i) {
        size_t colon = value.find(':');
        if (i + 1 < f.size() && colon == std::string_view::npos) return std::nullopt;
        f[i] = value.substr(0, colon);
        value = colon == std::string_view::npos ? std::string_view() : value.substr(colon + 1);
    }
    auto number = [](std::string_view s, int base, uint32_t& out) {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
        return !s.empty() && ec == std::errc() && p == s.data() + s.size();
    };
    OverrideStat o;
    uint32_t mode = 0;
    if (!number(f[0], 10, o.uid) || !number(f[1], 10, o.gid) || !number(f[2], 8, mode) ||
        mode > 07777)
        return std::nullopt;
    o.perm = static_cast<mode_t>(mode);
    return o;
}

namespace {

// Rootless (not root on the host), a layer's owners cannot be set: every file stays the
// user's, who is root in the container's user namespace; device nodes cannot be made and
// privileged xattrs (security.capability, trusted.*) cannot be set: skipped, as podman
// does without a range of ids.
bool keeps_owners() {
    static const bool rootless = sys::rootless();
    return rootless;
}

// Rootless, the owner a layer gives a file or directory, when not root (which the user is
// in the container): kept in user.containers.override_stat as "UID:GID:0MODE", as
// fuse-overlayfs and containers/storage keep them (symlinks and fifos take no user.* xattrs).
void record_owner(int fd, const std::string& path, uid_t uid, gid_t gid, mode_t perm) {
    if (!keeps_owners() || (uid == 0 && gid == 0)) return;
    std::string v = fmt::format("{}:{}:0{:o}", uid, gid, perm & 07777);
    if (::fsetxattr(fd, kOverrideStatXattr, v.data(), v.size(), 0) != 0)
        throw_sys(fmt::format("setxattr {}", kOverrideStatXattr), path);
}

std::string archive_error(archive* a) {
    const char* e = archive_error_string(a);
    return e != nullptr ? e : "unknown libarchive error";
}

// Reads up to `n` bytes; fewer only at the end of the stream.
size_t read_upto(int fd, char* buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = ::read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw_sys("read", "layer stream");
        if (r == 0) break;
        got += static_cast<size_t>(r);
    }
    return got;
}

// The layer's first bytes, read to tell gzip (inflated with ISA-L, a few times faster
// than zlib) from the rest (libarchive's filters), then served to whichever reads on.
struct LayerHead {
    int fd = -1;
    std::unique_ptr<char[]> buf;
    size_t len = 0;
    bool served = false;
    bool gzip() const {
        return len >= 2 && static_cast<unsigned char>(buf[0]) == 0x1f &&
               static_cast<unsigned char>(buf[1]) == 0x8b;
    }
};

// libarchive's read callback over the head, then the fd.
la_ssize_t read_head_then_fd(archive* a, void* ud, const void** out) {
    auto* h = static_cast<LayerHead*>(ud);
    *out = h->buf.get();
    if (!h->served) {
        h->served = true;
        return static_cast<la_ssize_t>(h->len);
    }
    ssize_t r = 0;
    do {
        r = ::read(h->fd, h->buf.get(), kInflateIn);
    } while (r < 0 && errno == EINTR);
    if (r < 0) archive_set_error(a, errno, "read layer stream: %s", std::strerror(errno));
    return r;
}

const char* isal_error(int rc) {
    switch (rc) {
        case ISAL_INVALID_BLOCK:
            return "invalid block";
        case ISAL_INVALID_SYMBOL:
            return "invalid symbol";
        case ISAL_INVALID_LOOKBACK:
            return "invalid distance";
        case ISAL_INVALID_WRAPPER:
            return "invalid gzip header";
        case ISAL_UNSUPPORTED_METHOD:
            return "unsupported compression method";
        case ISAL_INCORRECT_CHECKSUM:
            return "incorrect checksum";
        default:
            return "error";
    }
}

// The inflating thread: decompresses the layer, hashes the uncompressed stream, checks
// the limits, and hands the stream on through the pipe.
struct Inflater {
    LayerHead* head = nullptr;  // gzip: inflated here from the head and the fd
    archive* raw = nullptr;     // otherwise: libarchive's filters
    const UnpackLimits* limits = nullptr;
    int root_fd = -1;
    Sha256 diff;
    uint64_t total = 0;
    uint64_t next_disk_check = kDiskCheckEvery;

    void run(BlockPipe& pipe) noexcept {
        try {
            if (raw == nullptr) {
                if (inflate_gzip(pipe)) pipe.close();
                return;
            }
            while (true) {
                const void* buf = nullptr;
                size_t size = 0;
                la_int64_t offset = 0;
                int rc = archive_read_data_block(raw, &buf, &size, &offset);
                if (rc == ARCHIVE_EOF) break;
                if (rc < ARCHIVE_WARN)
                    throw Error(fmt::format("decompress layer: {}", archive_error(raw)));
                account(buf, size);
                if (!pipe.write(static_cast<const char*>(buf), size)) return;  // reader gone
            }
            pipe.close();
        } catch (...) {
            pipe.close(std::current_exception());
        }
    }

    // A gzip stream of one or more members (what follows the last one that is not a
    // gzip header is ignored, as libarchive does). False when the reader went away.
    bool inflate_gzip(BlockPipe& pipe) {
        auto st = std::make_unique<inflate_state>();
        auto out = std::make_unique<uint8_t[]>(kPipeBlockSize);
        char* in = head->buf.get();
        size_t have = head->len;
        bool eof = false;
        // moves what is left of the input to the front and reads more behind it
        auto refill = [&] {
            size_t left = st->avail_in;
            std::memmove(in, st->next_in, left);
            size_t n = read_upto(head->fd, in + left, kInflateIn - left);
            eof = left + n < kInflateIn;
            st->next_in = reinterpret_cast<uint8_t*>(in);
            st->avail_in = static_cast<uint32_t>(left + n);
        };
        isal_inflate_init(st.get());
        st->crc_flag = ISAL_GZIP;
        st->next_in = reinterpret_cast<uint8_t*>(in);
        st->avail_in = static_cast<uint32_t>(have);
        eof = have < kInflateIn;
        while (true) {
            if (st->avail_in == 0 && !eof) refill();
            st->next_out = out.get();
            st->avail_out = static_cast<uint32_t>(kPipeBlockSize);
            const uint32_t before = st->avail_in;
            int rc = isal_inflate(st.get());
            if (rc < 0)
                throw Error(fmt::format("decompress layer: invalid gzip data: {}", isal_error(rc)));
            size_t produced = kPipeBlockSize - st->avail_out;
            if (produced > 0) {
                account(out.get(), produced);
                if (!pipe.write(reinterpret_cast<const char*>(out.get()), produced)) return false;
            }
            if (st->block_state == ISAL_BLOCK_FINISH) {
                if (st->avail_in < 2 && !eof) refill();
                if (st->avail_in < 2 || st->next_in[0] != 0x1f || st->next_in[1] != 0x8b) {
                    // what follows is read off (a download's writer must not block on it)
                    while (!eof) eof = read_upto(head->fd, in, kInflateIn) < kInflateIn;
                    return true;
                }
                uint8_t* next = st->next_in;
                uint32_t left = st->avail_in;
                isal_inflate_reset(st.get());
                st->crc_flag = ISAL_GZIP;
                st->next_in = next;
                st->avail_in = left;
            } else if (produced == 0 && st->avail_in == before) {
                // no progress: it needs input from behind what it has (a member's header
                // across the buffer's end), and there is none
                if (eof || before == kInflateIn)
                    throw Error("decompress layer: the gzip stream ends early");
                refill();
            }
        }
    }

    void account(const void* buf, size_t size) {
        diff.update(buf, size);
        total += size;
        if (limits->max_layer_bytes != 0 && total > limits->max_layer_bytes)
            throw Error(fmt::format(
                "layer is larger than the limit of {} bytes uncompressed (a decompression bomb?)",
                limits->max_layer_bytes));
        if (total >= next_disk_check) {
            next_disk_check = total + kDiskCheckEvery;
            struct statvfs sv {};
            if (::fstatvfs(root_fd, &sv) == 0 &&
                static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize < limits->disk_reserve_bytes)
                throw Error(fmt::format(
                    "unpacking the layer would leave less than {} bytes free on the disk",
                    limits->disk_reserve_bytes));
        }
    }
};

// The tar reader's side of the pipe; `error` is the inflater's (limits, decompression).
struct TarFeed {
    BlockPipe* pipe = nullptr;
    const UnpackLimits* limits = nullptr;
    std::exception_ptr error;
};

la_ssize_t read_block(archive*, void* ud, const void** buf) {
    auto* s = static_cast<TarFeed*>(ud);
    try {
        auto [p, n] = s->pipe->read();
        *buf = p;
        return static_cast<la_ssize_t>(n);
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
    Extractor(int root_fd, archive* tar, TarFeed& raw, const std::atomic<bool>* cancel,
              const LowerLayers& lowers, uint64_t budget, size_t writers)
        : root_(share(UniqueFd(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0)))),
          tar_(tar),
          raw_(raw),
          cancel_(cancel),
          lowers_(lowers),
          budget_(budget) {
        if (!*root_) throw_sys("dup", "layer root");
        if (writers > 0)
            pool_ = std::make_unique<WriterPool>(writers, kQueueBytes, kQueueFiles,
                                                 [](FileJob& job) { write_job(job); });
    }

    // A libarchive failure: the stream's own error (limits, decompression) when there is one.
    [[noreturn]] void fail(std::string_view what) {
        if (raw_.error) std::rethrow_exception(raw_.error);
        throw Error(fmt::format("{}: {}", what, archive_error(tar_)));
    }

    uint64_t file_bytes() const { return file_bytes_; }

    uint64_t run() {
        TarFeed& raw = raw_;
        archive_entry* e = nullptr;
        uint64_t entries = 0;
        while (true) {
            if (cancel_ != nullptr && cancel_->load()) throw Error("cancelled", ECANCELED);
            int rc = archive_read_next_header(tar_, &e);
            if (rc == ARCHIVE_EOF) break;
            if (raw.error) std::rethrow_exception(raw.error);
            if (rc < ARCHIVE_WARN) fail("read layer");
            const char* name = archive_entry_pathname(e);
            if (name == nullptr) name = archive_entry_pathname_utf8(e);
            if (name == nullptr) throw Error("read layer: an entry without a name");
            try {
                with_context(fmt::format("layer entry \"{}\"", name), [&] { entry(e, name); });
            } catch (...) {
                // a writer's failure, met by this entry waiting for it, is about its own file
                if (auto werr = pool_ ? pool_->error() : nullptr) std::rethrow_exception(werr);
                throw;
            }
            if (raw.error) std::rethrow_exception(raw.error);
            ++entries;
        }
        if (raw.error) std::rethrow_exception(raw.error);
        barrier();
        finish_dirs();
        return entries;
    }

  private:
    void entry(archive_entry* e, const char* raw_name) {
        std::string path = clean_entry_path(raw_name);
        Whiteout wo = classify_whiteout(path);
        if (wo.kind == WhiteoutKind::meta) return;
        if (wo.kind == WhiteoutKind::opaque) {
            DirFd dir = parent(wo.dir, true);
            UniqueFd d(openat2_fd(dir->get(), "", O_RDONLY | O_DIRECTORY | O_CLOEXEC, kInRoot));
            if (!d) throw_sys("open", wo.dir);
            if (::fsetxattr(d.get(), opaque_xattr(), "y", 1, 0) != 0)
                throw_sys(fmt::format("setxattr {}", opaque_xattr()), wo.dir);
            return;
        }
        settle(path);
        if (wo.kind == WhiteoutKind::whiteout) {
            const std::string hidden =
                wo.dir.empty() ? wo.name : fmt::format("{}/{}", wo.dir, wo.name);
            settle(hidden);
            note_made(hidden);
            DirFd dir = parent(wo.dir, true);
            make_replacing(dir->get(), wo.name.c_str(), false, wo.name, "mknod whiteout", [&] {
                return ::mknodat(dir->get(), wo.name.c_str(), S_IFCHR | 0, makedev(0, 0)) == 0;
            });
            return;
        }
        const char* hardlink = archive_entry_hardlink(e);
        mode_t type = archive_entry_filetype(e);
        if (path.empty()) {  // the root itself
            if (hardlink != nullptr || type != AE_IFDIR)
                throw Error("the entry would replace the root of the layer");
            apply_dir_meta(root_->get(), "", e);
            return;
        }
        size_t slash = path.rfind('/');
        std::string dir_path = slash == std::string::npos ? std::string() : path.substr(0, slash);
        std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
        DirFd dir_fd = parent(dir_path, true);
        const int dir = dir_fd->get();
        const char* n = base.c_str();
        if (hardlink != nullptr || type != AE_IFREG) note_made(path);

        if (hardlink != nullptr) {
            std::string target = clean_entry_path(hardlink);
            if (target.empty()) throw Error("hardlink to the root of the layer");
            settle(target);
            UniqueFd t(openat2_fd(root_->get(), target, O_PATH | O_NOFOLLOW | O_CLOEXEC, kInRoot));
            if (!t && errno == ENOENT && !pending_.empty()) {
                barrier();  // a directory on the way may still be queued as a file
                t.reset(openat2_fd(root_->get(), target, O_PATH | O_NOFOLLOW | O_CLOEXEC, kInRoot));
            }
            if (!t && errno == ENOENT && lowers_) t = copy_up(target);
            if (!t) throw_sys("hardlink target", target);
            struct stat st {};
            if (::fstat(t.get(), &st) != 0) throw_sys("stat", target);
            if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))  // deleted in this layer
                throw_sys("hardlink target", target, ENOENT);
            if (S_ISDIR(st.st_mode))
                throw Error(fmt::format("hardlink to directory \"{}\"", target));
            make_replacing(dir, n, false, target, "link", [&] {
                if (::linkat(t.get(), "", dir, n, AT_EMPTY_PATH) == 0) return true;
                if (errno == EEXIST) return false;
                // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH: the fd's /proc link then
                std::string proc = fmt::format("/proc/self/fd/{}", t.get());
                return ::linkat(AT_FDCWD, proc.c_str(), dir, n, AT_SYMLINK_FOLLOW) == 0;
            });
            return;
        }
        const mode_t perm = archive_entry_perm(e) & 07777;
        const uid_t uid = static_cast<uid_t>(archive_entry_uid(e));
        const gid_t gid = static_cast<gid_t>(archive_entry_gid(e));
        timespec ts[2] = {entry_atime(e), entry_mtime(e)};
        switch (type) {
            case AE_IFDIR: {
                make_replacing(dir, n, true, path, "mkdir",
                               [&] { return ::mkdirat(dir, n, 0700) == 0; });
                UniqueFd d(::openat(dir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                if (!d) throw_sys("open", path);
                apply_dir_meta(d.get(), path, e);
                return;
            }
            case AE_IFREG: {
                claim_space(archive_entry_size(e));
                const int64_t size = std::max<int64_t>(archive_entry_size(e), 0);
                file_bytes_ += static_cast<uint64_t>(size);
                FileJob job;
                job.path = path;
                job.size = size;
                job.uid = uid;
                job.gid = gid;
                job.perm = perm;
                job.times[0] = ts[0];
                job.times[1] = ts[1];
                job.xattrs = xattrs_of(e);
                // A new name goes to a writer, which creates it; one that replaces what
                // the layer made before is made here, in the stream's order.
                const bool fresh = pool_ && !through_link_ && made_.insert(hash_path(path)).second;
                if (fresh && size <= kPooledFileMax) {
                    job.dir = dir_fd;
                    job.name = base;
                    read_data(job);
                    pending_.insert(hash_path(path));
                    pool_->submit(std::move(job));
                    return;
                }
                make_replacing(dir, n, false, path, "create", [&] {
                    job.fd.reset(::openat(
                        dir, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
                    return static_cast<bool>(job.fd);
                });
                finish_file(job, write_data(job.fd.get(), path));
                return;
            }
            case AE_IFLNK: {
                const char* target = archive_entry_symlink(e);
                if (target == nullptr) target = archive_entry_symlink_utf8(e);
                if (target == nullptr) throw Error("symlink without a target");
                make_replacing(dir, n, false, path, "symlink",
                               [&] { return ::symlinkat(target, dir, n) == 0; });
                if (!keeps_owners() && ::fchownat(dir, n, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
                    throw_sys("chown", path);
                if (::utimensat(dir, n, ts, AT_SYMLINK_NOFOLLOW) != 0) throw_sys("utimens", path);
                return;
            }
            case AE_IFCHR:
            case AE_IFBLK:
            case AE_IFIFO: {
                if (type != AE_IFIFO && keeps_owners()) {
                    log::debug("rootless: skipping device node \"{}\"", path);
                    return;
                }
                dev_t dev = type == AE_IFIFO ? 0 : archive_entry_rdev(e);
                make_replacing(dir, n, false, path, "mknod",
                               [&] { return ::mknodat(dir, n, type | perm, dev) == 0; });
                if (!keeps_owners() && ::fchownat(dir, n, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
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
        if (!keeps_owners() && ::fchown(fd, static_cast<uid_t>(archive_entry_uid(e)),
                                        static_cast<gid_t>(archive_entry_gid(e))) != 0)
            throw_sys("chown", path);
        record_owner(fd, path, static_cast<uid_t>(archive_entry_uid(e)),
                     static_cast<gid_t>(archive_entry_gid(e)), archive_entry_perm(e));
        if (::fchmod(fd, archive_entry_perm(e) & 07777) != 0) throw_sys("chmod", path);
        set_xattrs(fd, path, e);
        dirs_.push_back(DeferredTimes{path, {entry_atime(e), entry_mtime(e)}});
    }

    // A file of `size` bytes is about to be written: the layer's files may not add up to
    // more than the space that was free above the reserve when the unpack started.
    void claim_space(int64_t size) {
        expanded_ += static_cast<uint64_t>(std::max<int64_t>(size, 0));
        if (expanded_ > budget_)
            throw Error(fmt::format("the layer's files need more than the {} bytes free on the "
                                    "disk above the reserve of {} bytes",
                                    budget_, raw_.limits->disk_reserve_bytes),
                        ENOSPC);
    }

    // Data of a regular file, as it streams; returns where the data written ends.
    la_int64_t write_data(int fd, const std::string& path) {
        const void* buf = nullptr;
        size_t len = 0;
        la_int64_t off = 0, end_written = 0;
        while (true) {
            int rc = archive_read_data_block(tar_, &buf, &len, &off);
            if (rc == ARCHIVE_EOF) break;
            if (rc < ARCHIVE_WARN) fail("read data");
            end_written =
                write_span(fd, path, static_cast<const char*>(buf), len, off, end_written);
        }
        return end_written;
    }

    // A file's data read whole into its job (sparse blocks at their offsets, the rest
    // zeros), for a writer thread.
    void read_data(FileJob& job) {
        job.data.assign(static_cast<size_t>(job.size), 0);
        const void* buf = nullptr;
        size_t len = 0;
        la_int64_t off = 0;
        while (true) {
            int rc = archive_read_data_block(tar_, &buf, &len, &off);
            if (rc == ARCHIVE_EOF) break;
            if (rc < ARCHIVE_WARN) fail("read data");
            if (off < 0 || off > job.size || len > static_cast<size_t>(job.size - off))
                throw Error(fmt::format("data beyond the {} bytes of the file", job.size));
            std::memcpy(job.data.data() + off, buf, len);
        }
    }

    // In a writer thread: a new file created, its data and its metadata written.
    static void write_job(FileJob& job) {
        with_context(fmt::format("layer entry \"{}\"", job.path), [&] {
            job.fd.reset(::openat(job.dir->get(), job.name.c_str(),
                                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!job.fd) throw_sys("create", job.path);
            finish_file(job,
                        write_span(job.fd.get(), job.path, job.data.data(), job.data.size(), 0, 0));
        });
    }

    // Writes `len` bytes of a new file at `off`, runs of zeros left as holes (the file is
    // new, so what is not written reads as zeros). Returns where the data written ends,
    // given where it ended before.
    static la_int64_t write_span(int fd, const std::string& path, const char* p, size_t len,
                                 la_int64_t off, la_int64_t end_written) {
        constexpr size_t kChunk = 4096;
        const char* end = p + len;
        while (p < end) {
            // up to the next chunk boundary of the file, then whole chunks
            size_t step = kChunk - static_cast<size_t>(off) % kChunk;
            size_t n = std::min(step, static_cast<size_t>(end - p));
            bool zero = all_zero(p, n);
            while (p + n < end) {  // extend the run while chunks stay of one kind
                size_t m = std::min(kChunk, static_cast<size_t>(end - p - n));
                if (all_zero(p + n, m) != zero) break;
                n += m;
            }
            if (!zero) {
                pwrite_all(fd, p, n, off, path);
                end_written = off + static_cast<la_int64_t>(n);
            }
            p += n;
            off += static_cast<la_int64_t>(n);
        }
        return end_written;
    }

    // A written file's size (when it ends in a hole), owner, mode, xattrs and times.
    static void finish_file(const FileJob& job, la_int64_t end_written) {
        const int fd = job.fd.get();
        const std::string& path = job.path;
        if (end_written < job.size && ::ftruncate(fd, job.size) != 0) throw_sys("truncate", path);
        if (!keeps_owners() && ::fchown(fd, job.uid, job.gid) != 0) throw_sys("chown", path);
        record_owner(fd, path, job.uid, job.gid, job.perm);
        if (::fchmod(fd, job.perm) != 0) throw_sys("chmod", path);
        set_all_xattrs(job.xattrs, path, [&](const char* n, const void* v, size_t s) {
            return ::fsetxattr(fd, n, v, s, 0);
        });
        if (::futimens(fd, job.times) != 0) throw_sys("utimens", path);
        // a hint only: what makes the layer durable is the caller's syncfs
        if (job.size >= kEarlyWritebackMin) ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    }

    static void pwrite_all(int fd, const char* p, size_t len, la_int64_t off,
                           const std::string& path) {
        while (len > 0) {
            ssize_t w = ::pwrite(fd, p, len, off);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) throw_sys("write", path);
            p += w;
            len -= static_cast<size_t>(w);
            off += w;
        }
    }

    // An entry's xattrs, but overlayfs' own (they would turn files into whiteouts or
    // redirects, for root's overlay or a user's) and the store's record of a rootless
    // owner (record_owner writes it; a layer's would overwrite it).
    static std::vector<std::pair<std::string, std::string>> xattrs_of(archive_entry* e) {
        std::vector<std::pair<std::string, std::string>> out;
        archive_entry_xattr_reset(e);
        const char* name = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
            if (is_overlay_xattr(name) || std::string_view(name) == kOverrideStatXattr) continue;
            out.emplace_back(name, std::string(static_cast<const char*>(value), size));
        }
        return out;
    }
    template <class SetFn>
    static void set_all_xattrs(const std::vector<std::pair<std::string, std::string>>& xattrs,
                               const std::string& path, SetFn&& set) {
        for (const auto& [name, value] : xattrs) {
            if (set(name.c_str(), value.data(), value.size()) != 0) {
                if (errno == ENOTSUP || (errno == EPERM && keeps_owners())) {
                    log::debug("xattr {} on \"{}\" not supported here", name, path);
                    continue;
                }
                throw_sys(fmt::format("setxattr {}", name), path);
            }
        }
    }
    void set_xattrs(int fd, const std::string& path, archive_entry* e) {
        set_all_xattrs(xattrs_of(e), path, [&](const char* n, const void* v, size_t s) {
            return ::fsetxattr(fd, n, v, s, 0);
        });
    }
    void set_xattrs_path(const std::string& proc, const std::string& path, archive_entry* e) {
        set_all_xattrs(xattrs_of(e), path, [&](const char* n, const void* v, size_t s) {
            return ::setxattr(proc.c_str(), n, v, s, 0);
        });
    }

    // Makes dir/name with `make` (true when made, errno set when not). What the layer
    // already has there (from an earlier entry) shows as EEXIST: it goes as
    // replace_existing says and `make` is tried again, so an entry that replaces nothing,
    // nearly every one, costs no probe. Returns false when an existing directory is kept
    // (a directory over a directory).
    template <class Make>
    bool make_replacing(int dir, const char* name, bool new_is_dir, const std::string& path,
                        std::string_view op, Make&& make) {
        if (make()) return true;
        if (errno != EEXIST) throw_sys(op, path);
        if (remove_existing(dir, name, new_is_dir)) return false;
        if (!make()) throw_sys(op, path);
        return true;
    }

    // Removes what is at dir/name unless both it and the new entry are directories.
    // Returns true when an existing directory is kept.
    bool remove_existing(int dir, const char* name, bool new_is_dir) {
        struct stat st {};
        if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT) throw_sys("stat", name);
            st.st_mode = 0;
        }
        switch (replace_existing(st.st_mode, new_is_dir)) {
            case Replace::nothing:
                return false;
            case Replace::keep_dir:
                return true;
            case Replace::remove_tree:
                barrier();  // files still queued may be in the tree
                invalidate();
                sys::remove_all_at(dir, name);
                return false;
            case Replace::unlink:
                invalidate();
                if (::unlinkat(dir, name, 0) != 0) throw_sys("unlink", name);
                return false;
        }
        return false;
    }

    static uint64_t hash_path(std::string_view path) { return std::hash<std::string_view>{}(path); }
    // `path` is made by the reader: a regular file there later replaces it, in order.
    void note_made(std::string_view path) {
        if (pool_) made_.insert(hash_path(path));
    }

    // Waits for the files still queued when `path` is one of them: what the entry does
    // there must come after it.
    void settle(std::string_view path) {
        if (!pending_.empty() && pending_.count(hash_path(path)) != 0) barrier();
    }
    // Waits until every queued file is written.
    void barrier() {
        if (pending_.empty()) return;
        pool_->finish();
        pending_.clear();
    }

    void invalidate() {
        cached_path_.clear();
        cached_.reset();
    }

    // An O_PATH fd of the directory `dir` (relative to the root, resolved in it),
    // created with mode 0755 when missing. Shared with the cache: the caller's reference
    // stays open when an entry's removal drops the cache.
    //
    // With writers, a directory reached through a symlink of the tree (`l -> real`, then
    // `l/f`) holds files the writers know under another path (`real/f`): the queue is
    // emptied, and the reader makes every file of the layer from then on, in the stream's
    // order (through_link_; a layer writing through its own symlinks is rare).
    DirFd parent(const std::string& dir, bool create) {
        if (dir.empty()) return root_;
        if (cached_ && cached_path_ == dir) return cached_;
        UniqueFd fd(openat2_fd(root_->get(), dir, O_PATH | O_DIRECTORY | O_CLOEXEC,
                               pool_ && !through_link_ ? kInRootNoLinks : kInRoot));
        if (!fd && errno == ELOOP && pool_ && !through_link_) {
            barrier();
            through_link_ = true;
            fd.reset(openat2_fd(root_->get(), dir, O_PATH | O_DIRECTORY | O_CLOEXEC, kInRoot));
        }
        if (!fd && errno == ENOENT && create) {
            barrier();  // a name on the way may still be queued as a file
            fd = make_dirs(dir);
        }
        if (!fd) throw_sys("open parent directory", dir);
        cached_ = share(std::move(fd));
        cached_path_ = dir;
        return cached_;
    }

    // The lower layers' roots, asked for once.
    const std::vector<UniqueFd>& lower_roots() {
        if (!have_lowers_) {
            lower_roots_ = lowers_();
            have_lowers_ = true;
        }
        return lower_roots_;
    }

    // Where `path` is below this layer as overlayfs would merge the layers: this layer's
    // own whiteouts, non-directories and opaque directories on the way hide the layers
    // below, and so do those of each lower layer for the ones under it. Returns the root
    // of the lower layer that holds it, or -1.
    int find_below(const std::string& path, Node* node) {
        std::vector<int> roots = {root_->get()};
        for (auto& l : lower_roots()) roots.push_back(l.get());
        auto hit = find_in_layers(
            path_components(path), roots.size(),
            [&](size_t layer, const std::string& p) { return probe_layer(roots[layer], p); });
        if (!hit) return -1;
        *node = hit->node;
        return hit->layer == 0 ? -1 : roots[hit->layer];
    }

    // The directory `dir` of this layer, each missing component copied up (owner, mode,
    // times, xattrs; not the contents) from the lower layer that shows it.
    DirFd copy_up_dirs(const std::string& dir) {
        DirFd cur = root_;
        std::string p;
        for (auto& comp : path_components(dir)) {
            p += (p.empty() ? "" : "/") + comp;
            Node here = probe_layer(root_->get(), p);
            if (here == Node::absent) {
                Node n = Node::absent;
                int lower = find_below(p, &n);
                if (lower < 0 || (n != Node::dir && n != Node::opaque_dir))
                    throw_sys("hardlink target directory", p, ENOENT);
                UniqueFd sdir(openat2_fd(lower, parent_of(p), O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                                         kInRootNoLinks));
                if (!sdir) throw_sys("open", parent_of(p));
                struct stat st {};
                if (::fstatat(sdir.get(), comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
                    throw_sys("stat", p);
                copy_node(sdir.get(), cur->get(), comp.c_str(), p);
                note_made(p);
                dirs_.push_back(DeferredTimes{p, {st.st_atim, st.st_mtim}});
            } else if (here != Node::dir && here != Node::opaque_dir) {
                throw_sys("hardlink target directory", p, ENOTDIR);
            }
            UniqueFd next(
                openat2_fd(root_->get(), p, O_PATH | O_DIRECTORY | O_CLOEXEC, kInRootNoLinks));
            if (!next) throw_sys("open", p);
            cur = share(std::move(next));
        }
        return cur;
    }

    static std::string parent_of(const std::string& path) {
        size_t slash = path.rfind('/');
        return slash == std::string::npos ? std::string() : path.substr(0, slash);
    }

    // A hardlink's target that only a lower layer has: copied up into this layer (as
    // overlayfs does when a link is made on the merged tree), so that the link and the
    // target are one file. Returns an O_PATH fd of the copy; empty with errno = ENOENT
    // when no lower layer shows the target.
    UniqueFd copy_up(const std::string& target) {
        if (keeps_owners()) return copy_up_as_user(target);
        Node n = Node::absent;
        int lower = find_below(target, &n);
        if (lower < 0) {
            errno = ENOENT;
            return {};
        }
        if (n == Node::dir || n == Node::opaque_dir)
            throw Error(fmt::format("hardlink to directory \"{}\"", target));
        const std::string dir = parent_of(target);
        const std::string base = target.substr(dir.empty() ? 0 : dir.size() + 1);
        DirFd to = copy_up_dirs(dir);
        UniqueFd from(openat2_fd(lower, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, kInRootNoLinks));
        if (!from) throw_sys("open", dir);
        struct stat st {};
        if (::fstatat(from.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            throw_sys("stat", target);
        if (S_ISREG(st.st_mode)) claim_space(st.st_size);
        copy_node(from.get(), to->get(), base.c_str(), target);
        note_made(target);
        return UniqueFd(
            openat2_fd(root_->get(), target, O_PATH | O_NOFOLLOW | O_CLOEXEC, kInRootNoLinks));
    }

    // copy_up as a user (image/copy_up.h): the copies are the user's, their owners in
    // records, made where every lower file is readable whatever its owner, from a child in
    // a user namespace with the user's maps (a user with a range: the lower layers hold
    // files of the range's ids), else (none, or the maps refused) by this process.
    UniqueFd copy_up_as_user(const std::string& target) {
        barrier();  // the copy is made beside the writers' files
        const int top = root_->get();
        std::vector<std::string> made;  // the directories on the way the layer lacks
        std::string p;
        for (auto& comp : path_components(parent_of(target))) {
            p += (p.empty() ? "" : "/") + comp;
            if (!made.empty() || probe_layer(top, p) == Node::absent) made.push_back(p);
        }
        std::vector<int> roots;
        for (auto& l : lower_roots()) roots.push_back(l.get());
        const auto& shift = owner_shift();
        auto copy = [&](sys::RawError& e) {
            return copy_up_raw(top, roots.data(), roots.size(), target.c_str(), nullptr, e);
        };
        bool copied = shift && shift->run(shift->ranges, copy);
        if (!copied) {
            // as the user, who sees the host's ids: the lower layers' files of the range
            // (shifted with the user's ranges) recorded as the image's owners, not the host's
            sys::RawError e;
            if (!copy_up_raw(top, roots.data(), roots.size(), target.c_str(),
                             shift ? &shift->ranges : nullptr, e))
                throw_sys(e.step.data(), e.path.data(), e.err);
        }
        for (auto& d : made) {
            note_made(d);
            struct stat st {};  // times the copy gave, kept against what the layer adds
            if (::fstatat(top, d.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
                dirs_.push_back(DeferredTimes{d, {st.st_atim, st.st_mtim}});
        }
        note_made(target);
        UniqueFd t(openat2_fd(top, target, O_PATH | O_NOFOLLOW | O_CLOEXEC, kInRootNoLinks));
        if (!t) throw_sys("open", target);
        struct stat st {};
        if (::fstat(t.get(), &st) != 0) throw_sys("stat", target);
        if (S_ISREG(st.st_mode)) claim_space(st.st_size);
        return t;
    }

    UniqueFd make_dirs(const std::string& dir) {
        UniqueFd cur(::fcntl(root_->get(), F_DUPFD_CLOEXEC, 0));
        std::string sofar;
        for (auto& comp : path_components(dir)) {
            sofar += (sofar.empty() ? "" : "/") + comp;
            UniqueFd next(
                openat2_fd(root_->get(), sofar, O_PATH | O_DIRECTORY | O_CLOEXEC, kInRoot));
            if (!next && errno == ENOENT) {
                note_made(sofar);
                if (::mkdirat(cur.get(), comp.c_str(), 0755) != 0) {
                    if (errno != EEXIST) throw_sys("mkdir", sofar);
                    // there, yet not found: a symlink to what the layer does not have
                    // (an absolute one is not followed out of the layer)
                    throw Error(fmt::format("parent directory \"{}\" is a symlink to a "
                                            "directory the layer does not have",
                                            sofar),
                                ENOENT);
                }
                next.reset(
                    openat2_fd(root_->get(), sofar, O_PATH | O_DIRECTORY | O_CLOEXEC, kInRoot));
            }
            if (!next) throw_sys("open", sofar);
            cur = std::move(next);
        }
        return cur;
    }

    void finish_dirs() {
        invalidate();
        for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
            UniqueFd d(openat2_fd(root_->get(), it->path,
                                  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                                  kInRoot | RESOLVE_NO_SYMLINKS));
            if (!d) continue;  // replaced later in the layer
            if (::futimens(d.get(), it->times) != 0) throw_sys("utimens", it->path);
        }
    }

    DirFd root_;
    archive* tar_;
    TarFeed& raw_;
    const std::atomic<bool>* cancel_;
    const LowerLayers& lowers_;
    std::vector<UniqueFd> lower_roots_;
    bool have_lowers_ = false;
    std::vector<DeferredTimes> dirs_;
    uint64_t file_bytes_ = 0;
    uint64_t budget_;
    uint64_t expanded_ = 0;
    DirFd cached_;
    std::string cached_path_;
    bool through_link_ = false;  // a parent was reached through a symlink: no more writers
    // Hashes of the paths of the regular files given to the writers (made_), and of those
    // not known to be written yet (pending_): an entry at a path of the layer's own
    // earlier files is made by the reader, after the writers when it may still be queued.
    std::unordered_set<uint64_t> made_;
    std::unordered_set<uint64_t> pending_;
    std::unique_ptr<WriterPool> pool_;  // last: its threads stop before the rest goes
};

// The space a layer may fill: what is free above the reserve when it starts.
uint64_t space_budget(int root_fd, const UnpackLimits& limits) {
    struct statvfs sv {};
    if (::fstatvfs(root_fd, &sv) != 0) throw_sys("statfs", "layer root");
    uint64_t free = static_cast<uint64_t>(sv.f_bavail) * sv.f_frsize;
    if (free < limits.disk_reserve_bytes)
        throw Error(
            fmt::format("unpacking the layer would leave less than {} bytes free on the disk",
                        limits.disk_reserve_bytes),
            ENOSPC);
    return free - limits.disk_reserve_bytes;
}

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

std::vector<std::string> path_components(const std::string& path) {
    std::vector<std::string> comps;
    for (size_t b = 0; b <= path.size();) {
        size_t e = path.find('/', b);
        if (e == std::string::npos) e = path.size();
        if (e > b) comps.push_back(path.substr(b, e - b));
        b = e + 1;
    }
    return comps;
}

std::optional<LayerHit> find_in_layers(
    const std::vector<std::string>& comps, size_t layers,
    const std::function<LayerNode(size_t, const std::string&)>& probe) {
    std::vector<std::string> prefixes;
    prefixes.reserve(comps.size());
    for (const auto& c : comps)
        prefixes.push_back(prefixes.empty() ? c : fmt::format("{}/{}", prefixes.back(), c));
    return find_in_layers_by(comps.size(), layers,
                             [&](size_t li, size_t i) { return probe(li, prefixes[i]); });
}

Replace replace_existing(mode_t existing, bool new_is_dir) {
    if (existing == 0) return Replace::nothing;
    if (S_ISDIR(existing) && new_is_dir) return Replace::keep_dir;
    return S_ISDIR(existing) ? Replace::remove_tree : Replace::unlink;
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
                          const std::atomic<bool>* cancel, const LowerLayers& lowers) {
    const uint64_t budget = space_budget(root_fd, limits);
    LayerHead head;
    head.fd = fd;
    head.buf = std::make_unique<char[]>(kInflateIn);
    head.len = read_upto(fd, head.buf.get(), kInflateIn);
    sys::ArchiveReader raw;
    if (!head.gzip()) {
        raw.reset(archive_read_new());
        archive_read_support_filter_zstd(raw.get());
        archive_read_support_filter_xz(raw.get());
        archive_read_support_filter_bzip2(raw.get());
        archive_read_support_format_raw(raw.get());
        archive_read_support_format_empty(raw.get());
        if (archive_read_open(raw.get(), &head, nullptr, read_head_then_fd, nullptr) != ARCHIVE_OK)
            throw Error(fmt::format("open layer stream: {}", archive_error(raw.get())));
        archive_entry* re = nullptr;
        int rc = archive_read_next_header(raw.get(), &re);
        if (rc == ARCHIVE_EOF) throw Error("the layer is empty");
        if (rc < ARCHIVE_WARN) throw Error(fmt::format("read layer: {}", archive_error(raw.get())));
    }

    // Inflating (and hashing) in a thread of its own overlaps creating the files.
    Inflater inflater;
    inflater.head = &head;
    inflater.raw = raw.get();
    inflater.limits = &limits;
    inflater.root_fd = root_fd;
    BlockPipe pipe(kPipeBlocks, kPipeBlockSize);
    std::thread inflating([&] { inflater.run(pipe); });
    sys::ScopeGuard stop_inflating([&]() noexcept {
        pipe.abandon();
        if (inflating.joinable()) inflating.join();
    });
    TarFeed feed{&pipe, &limits, nullptr};

    sys::ArchiveReader tar(archive_read_new());
    archive_read_support_format_tar(tar.get());
    archive_read_support_format_gnutar(tar.get());
    if (archive_read_open(tar.get(), &feed, nullptr, read_block, nullptr) != ARCHIVE_OK) {
        if (feed.error) std::rethrow_exception(feed.error);
        throw Error(fmt::format("read layer: {}", archive_error(tar.get())));
    }
    UnpackResult res;
    {
        // Writers create names they take to be new: only in a root that starts empty (a
        // pull's, a snapshot's), not in one a layer is added to (a build's ADD of a tar).
        Extractor ex(root_fd, tar.get(), feed, cancel, lowers, budget,
                     sys::list_dir_entries(".", root_fd).empty() ? unpack_writer_threads() : 0);
        res.entries = ex.run();
        res.file_bytes = ex.file_bytes();
    }
    // The tar reader stops at the end-of-archive blocks: the inflater hashes whatever
    // follows too.
    while (pipe.read().second > 0) {
    }
    inflating.join();
    res.tar_bytes = inflater.total;
    res.diff_id = inflater.diff.digest();
    return res;
}

}  // namespace husk::image
