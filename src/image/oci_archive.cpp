#include "image/oci_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "image/archive_load.h"
#include "image/digest.h"
#include "image/platforms.h"
#include "oci/image/reference.h"
#include "sys/archive_ptr.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/scope_guard.h"

namespace husk::image {
namespace {

using sys::UniqueFd;
namespace oi = oci::image;

void add_bytes(archive* a, const std::string& name, std::string_view data) {
    sys::ArchiveEntry e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
    if (archive_write_header(a, e.get()) != ARCHIVE_OK ||
        archive_write_data(a, data.data(), data.size()) != static_cast<la_ssize_t>(data.size()))
        throw Error(fmt::format("write \"{}\" to the archive: {}", name, archive_error_string(a)));
}

void add_dir(archive* a, const std::string& name) {
    sys::ArchiveEntry e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFDIR);
    archive_entry_set_perm(e.get(), 0755);
    if (archive_write_header(a, e.get()) != ARCHIVE_OK)
        throw Error(fmt::format("write \"{}\" to the archive: {}", name, archive_error_string(a)));
}

void add_file(archive* a, const std::string& name, const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_sys("open", path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_sys("stat", path);
    sys::ArchiveEntry e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_size(e.get(), st.st_size);
    if (archive_write_header(a, e.get()) != ARCHIVE_OK)
        throw Error(fmt::format("write \"{}\" to the archive: {}", name, archive_error_string(a)));
    char buf[1 << 16];
    while (true) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_sys("read", path);
        if (n == 0) break;
        if (archive_write_data(a, buf, static_cast<size_t>(n)) != n)
            throw Error(
                fmt::format("write \"{}\" to the archive: {}", name, archive_error_string(a)));
    }
}

// An index in an archive may be sparse (saved from one platform's pull): this machine's
// platform when its manifest came along, else the one platform that did.
oi::Descriptor platform_in_archive(const Store& store, const oi::Index& idx) {
    std::vector<const oi::Descriptor*> present;
    for (auto& m : idx.manifests)
        if (store.has_blob(m.digest)) present.push_back(&m);
    try {
        const oi::Descriptor& host = oi::select_platform(idx, oi::host_platform());
        if (store.has_blob(host.digest) || present.size() != 1) return host;
    } catch (const Error&) {
        if (present.size() != 1) throw;
    }
    return *present.front();
}

}  // namespace

void save_oci_archive(const Store& store, const std::vector<std::string>& refs,
                      const std::string& path) {
    std::vector<Image> imgs;
    imgs.reserve(refs.size());
    for (auto& r : refs) imgs.push_back(store.resolve(r));
    sys::ArchiveWriter a(archive_write_new());
    archive_write_set_format_pax_restricted(a.get());
    int rc = path == "-" ? archive_write_open_fd(a.get(), STDOUT_FILENO)
                         : archive_write_open_filename(a.get(), path.c_str());
    if (rc != ARCHIVE_OK)
        throw Error(fmt::format("open \"{}\": {}", path, archive_error_string(a.get())));
    oi::Index idx;
    idx.media_type = std::string(oi::media::kOciIndex);
    std::set<std::string> blobs;
    std::vector<std::string> order;
    auto want = [&](const std::string& d) {
        if (blobs.insert(d).second) order.push_back(d);
    };
    for (size_t i = 0; i < imgs.size(); ++i) {
        const Image& img = imgs[i];
        // An image pulled from an index is saved as that index (sparse: only the platforms
        // the store holds, this one's or a multi-platform build's, come along, as containerd
        // exports).
        oi::Descriptor d;
        if (!img.index_digest.empty()) {
            d.media_type = img.index_media_type;
            d.digest = img.index_digest;
        } else {
            d.media_type = img.manifest.media_type.empty() ? std::string(oi::media::kOciManifest)
                                                           : img.manifest.media_type;
            d.digest = img.manifest_digest;
        }
        d.size = static_cast<int64_t>(sys::read_file(store.blob_path(d.digest)).size());
        // the name asked for, or every name of the image when given by id
        std::string name;
        try {
            std::string full = oi::parse_reference(refs[i]).str();
            for (auto& n : img.names)
                if (n == full) name = full;
        } catch (const Error&) {
        }
        std::vector<std::string> names = name.empty() ? img.names : std::vector<std::string>{name};
        if (names.empty()) names.emplace_back();
        for (auto& n : names) {
            oi::Descriptor nd = d;
            if (!n.empty()) nd.annotations[std::string(oi::kRefNameAnnotation)] = n;
            idx.manifests.push_back(nd);
        }
        if (!img.index_digest.empty()) want(img.index_digest);
        for (auto& held : held_platforms(store, img)) {
            want(held.manifest_digest);
            want(held.id);
            for (auto& l : held.manifest.layers) want(l.digest);
        }
    }
    add_bytes(a.get(), "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    add_dir(a.get(), "blobs");
    add_dir(a.get(), "blobs/sha256");
    for (auto& d : order)
        add_file(a.get(), "blobs/sha256/" + oi::digest_hex(d), store.blob_path(d));
    add_bytes(a.get(), "index.json", oi::dump_index(idx));
    if (archive_write_close(a.get()) != ARCHIVE_OK)
        throw Error(fmt::format("write \"{}\": {}", path, archive_error_string(a.get())));
}

namespace {

// Copies the current entry's data to a new file in `dir`; returns its sha256 and size.
ArchiveFiles::File stage_entry(archive* a, const std::string& dir) {
    ArchiveFiles::File f;
    f.path = dir + "/" + sys::unique_name("f-");
    UniqueFd out(::open(f.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!out) throw_sys("create", f.path);
    Sha256 h;
    const void* buf = nullptr;
    size_t len = 0;
    la_int64_t off = 0;
    int rc;
    while ((rc = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
        h.update(buf, len);
        if (::pwrite(out.get(), buf, len, off) != static_cast<ssize_t>(len))
            throw_sys("write", f.path);
        f.size = std::max<int64_t>(f.size, off + static_cast<int64_t>(len));
    }
    if (rc != ARCHIVE_EOF) throw Error(archive_error_string(a));
    f.digest = h.digest();
    return f;
}

// The images an OCI archive's index.json names (its blobs are in the store already).
std::vector<ImageRecord> oci_archive_records(Store& store, const std::string& index_json,
                                             LoadUndo& undo,
                                             const std::optional<std::string>& tag) {
    oi::Index idx = with_context("index.json", [&] { return oi::parse_index(index_json); });
    std::vector<ImageRecord> recs;
    for (auto& d : idx.manifests) {
        oi::Descriptor md = d;
        ImageRecord rec;
        if (oi::classify_manifest(d.media_type, store.read_blob(d.digest)) ==
            oi::ManifestKind::index) {
            md = platform_in_archive(store, oi::parse_index(store.read_blob(d.digest)));
            rec.repo_digest = d.digest;  // keeps the index (inspect, save, prune)
        }
        rec.manifest.media_type = md.media_type;
        rec.manifest.digest = md.digest;
        rec.manifest.size = md.size;
        // docker save (25+) and ctr export put the full name in io.containerd.image.name
        // and only the tag in ref.name; skopeo and husk put the full name in ref.name.
        std::string n;
        if (tag) {
            n = *tag;
        } else if (auto it = d.annotations.find("io.containerd.image.name");
                   it != d.annotations.end()) {
            n = it->second;
        } else if (auto it2 = d.annotations.find(std::string(oi::kRefNameAnnotation));
                   it2 != d.annotations.end()) {
            n = it2->second;
        }
        if (!n.empty()) rec.name = oi::parse_reference(n).str();
        undo.ensure_snapshots(store.load_image(rec));
        recs.push_back(rec);
    }
    return recs;
}

}  // namespace

std::vector<std::string> load_archive(Store& store, const std::string& path,
                                      const std::optional<std::string>& tag) {
    return with_context(fmt::format("load \"{}\"", path), [&] {
        auto lock = store.lock_shared();
        sys::ArchiveReader a(archive_read_new());
        archive_read_support_filter_gzip(a.get());
        archive_read_support_filter_zstd(a.get());
        archive_read_support_filter_xz(a.get());
        archive_read_support_format_tar(a.get());
        int rc = path == "-" ? archive_read_open_fd(a.get(), STDIN_FILENO, 1 << 16)
                             : archive_read_open_filename(a.get(), path.c_str(), 1 << 16);
        if (rc != ARCHIVE_OK) throw Error(archive_error_string(a.get()));
        std::string staging = store.tmp_dir() + "/" + sys::unique_name("load-");
        if (::mkdir(staging.c_str(), 0700) != 0) throw_sys("mkdir", staging);
        sys::ScopeGuard remove_staging([&]() noexcept {
            try {
                sys::remove_all(staging);
            } catch (const std::exception& e) {
                log::warn("{}", e.what());
            }
        });
        LoadUndo undo(store);
        std::optional<std::string> index_json;
        ArchiveFiles files;
        archive_entry* e = nullptr;
        while ((rc = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK) {
            std::string name = clean_entry_path(archive_entry_pathname(e));
            if (archive_entry_filetype(e) == AE_IFLNK) {
                files.symlinks[name] = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
                continue;
            }
            if (archive_entry_filetype(e) != AE_IFREG) continue;
            if (name.starts_with("blobs/sha256/") && store.has_blob("sha256:" + name.substr(13)))
                continue;
            auto f = stage_entry(a.get(), staging);
            if (name == "index.json") {
                if (f.size > (8 << 20)) throw Error("index.json is too large");
                index_json = sys::read_file(f.path);
            } else if (name.starts_with("blobs/sha256/")) {
                std::string digest = "sha256:" + name.substr(13);
                oi::digest_hex(digest);  // validates
                if (f.digest != digest)
                    throw Error(fmt::format("blob {}: content has digest {}", digest, f.digest));
                undo.commit_blob(f.path, digest);
                ::unlink(f.path.c_str());
            } else {
                files.files[name] = f;
            }
        }
        if (rc != ARCHIVE_EOF) throw Error(archive_error_string(a.get()));
        auto recs = index_json ? oci_archive_records(store, *index_json, undo, tag)
                               : load_docker_archive(store, files, undo, tag);
        store.add_records(recs);
        undo.commit();
        std::vector<std::string> names;
        names.reserve(recs.size());
        for (auto& r : recs) names.push_back(r.name.empty() ? store.load_image(r).id : r.name);
        return names;
    });
}

}  // namespace husk::image
