#include "engine/export.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "engine/lifecycle.h"
#include "engine/rootless.h"
#include "image/store.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/safe_path.h"

namespace husk::engine {
namespace {

using ArchivePtr = std::unique_ptr<archive, int (*)(archive*)>;

[[noreturn]] void fail(archive* a, std::string_view what, const std::string& path) {
    int err = archive_errno(a);
    throw Error(error_format("export: {} \"{}\": {}", what, path, archive_error_string(a)),
                err > 0 ? err : 0);
}

// The tree under `root` as a pax tar, paths relative to it, symlinks not followed, one
// filesystem (the merged overlay; nothing mounted below it), owners as numbers only (the
// host's user names mean nothing in the container), hardlinks kept. `ids`: the host ids
// read given as the container's (a user-namespaced container's files, read from outside it).
void write_tree(const std::string& root, int out_fd, const std::optional<image::IdShift>& ids) {
    ArchivePtr disk(archive_read_disk_new(), archive_read_free);
    archive_read_disk_set_symlink_physical(disk.get());
    archive_read_disk_set_behavior(disk.get(), ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS |
                                                   ARCHIVE_READDISK_NO_ACL |
                                                   ARCHIVE_READDISK_NO_FFLAGS);
    sys::UniqueFd rootfd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!rootfd) throw_sys("open", root);
    if (archive_read_disk_open(disk.get(), root.c_str()) != ARCHIVE_OK)
        fail(disk.get(), "open", root);
    ArchivePtr out(archive_write_new(), archive_write_free);
    archive_write_set_format_pax_restricted(out.get());
    if (archive_write_open_fd(out.get(), out_fd) != ARCHIVE_OK) fail(out.get(), "write", "-");
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                               archive_entry_free);
    std::unique_ptr<archive_entry_linkresolver, void (*)(archive_entry_linkresolver*)> links(
        archive_entry_linkresolver_new(), archive_entry_linkresolver_free);
    archive_entry_linkresolver_set_strategy(links.get(), archive_format(out.get()));
    std::vector<char> buf(1 << 16);
    for (;;) {
        archive_entry_clear(e.get());
        int rc = archive_read_next_header2(disk.get(), e.get());
        if (rc == ARCHIVE_EOF) break;
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) fail(disk.get(), "read", root);
        std::string path = archive_entry_pathname(e.get());
        archive_read_disk_descend(disk.get());
        if (path == root) continue;  // the root itself: docker's tars have no "./" entry
        path = path.substr(root.size() + 1);
        archive_entry_set_pathname(e.get(), path.c_str());
        if (ids) {
            archive_entry_set_uid(e.get(), ids->container_uid(archive_entry_uid(e.get())));
            archive_entry_set_gid(e.get(), ids->container_gid(archive_entry_gid(e.get())));
        }
        // The second and later names of a file become hardlink entries (no data).
        archive_entry* entry = e.get();
        archive_entry* spare = nullptr;
        archive_entry_linkify(links.get(), &entry, &spare);
        if (entry == nullptr) continue;
        if (archive_write_header(out.get(), entry) < ARCHIVE_WARN) fail(out.get(), "write", path);
        if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_size(entry) == 0 ||
            archive_entry_hardlink(entry) != nullptr)
            continue;
        // Opened inside the root (a running container can swap a directory for a symlink
        // meanwhile: it still cannot lead out); a file that shrank is padded to its size.
        std::string src = fmt::format("{}/{}", root, path);
        int raw = sys::open_in_root(rootfd.get(), path.c_str(), O_RDONLY | O_NOFOLLOW);
        if (raw < 0) throw_sys("open", src, -raw);
        sys::UniqueFd fd(raw);
        int64_t left = archive_entry_size(entry);
        while (left > 0) {
            ssize_t n = ::read(fd.get(), buf.data(),
                               static_cast<size_t>(std::min<int64_t>(left, buf.size())));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_sys("read", src);
            if (n == 0) break;  // shrank meanwhile: libarchive pads the entry
            if (archive_write_data(out.get(), buf.data(), static_cast<size_t>(n)) < 0)
                fail(out.get(), "write", path);
            left -= n;
        }
    }
    if (archive_write_close(out.get()) != ARCHIVE_OK) fail(out.get(), "write", "-");
}

}  // namespace

void export_container(const EngineContext& ctx, const std::string& key, int out_fd) {
    ContainerRecord rec = lookup(ctx, key);
    Containers db(ctx.data_root);
    auto lk = db.lock(rec.id);  // not removed while we read it
    std::optional<image::Store> own;
    image::Store* store = nullptr;
    if (!rec.image_id.empty())
        store = ctx.store != nullptr ? ctx.store : &own.emplace(ctx.data_root);
    auto write = [&](const std::string& root, const std::optional<image::IdShift>& ids) {
        if (!sys::exists_follow(root))
            throw Error(
                fmt::format("the root filesystem of container {} is gone: {}", rec.id, rec.rootfs));
        with_context(fmt::format("export container {}", rec.name),
                     [&] { write_tree(root, out_fd, ids); });
    };
    // (a root as a directory fd: the "/." makes libarchive take the magic link as the
    // directory it names)
    auto fd_root = [](const sys::UniqueFd& fd) {
        return fmt::format("/proc/self/fd/{}/.", fd.get());
    };
    if (store != nullptr && ::geteuid() != 0 && rec.uid_maps.size() > 1) {
        // A user's container with the user's range: what the range's ids keep from the user
        // (a 0700 directory of its uid 1000) is read as the root of a user namespace with
        // the container's maps, which mounts the container's overlay root itself and sees
        // the container's own ids. All of it there: the tar, once written, is not redone.
        auto done = in_container_userns(rec.uid_maps, rec.gid_maps, [&] {
            sys::UniqueFd here = store->open_userns_rootfs(rec.id, true);
            write(here ? fd_root(here) : rec.rootfs, std::nullopt);
            return std::string();
        });
        if (done) return;
        // newuidmap refused the maps (the range moved): as the user, below
    }
    std::string root = rec.rootfs;
    sys::UniqueFd userns_root;
    if (store != nullptr) {  // its overlay is gone after a reboot: mount it again
        // a rootless overlay root, mounted only in the container: our own mount of it
        if ((userns_root = store->open_userns_rootfs(rec.id)))
            root = fd_root(userns_root);
        else
            store->remount_rootfs(rec.id);
    }
    write(root, rec.id_shift());
}

}  // namespace husk::engine
