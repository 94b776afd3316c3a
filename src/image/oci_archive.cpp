#include "image/oci_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "image/digest.h"
#include "image/fsutil.h"
#include "oci/image/reference.h"
#include "sys/error.h"
#include "sys/fd.h"

namespace husk::image {
namespace {

using sys::UniqueFd;
namespace oi = oci::image;

struct WriteDeleter {
    void operator()(archive* a) const { archive_write_free(a); }
};
struct ReadDeleter {
    void operator()(archive* a) const { archive_read_free(a); }
};

void add_bytes(archive* a, const std::string& name, std::string_view data) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                               archive_entry_free);
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
    if (archive_write_header(a, e.get()) != ARCHIVE_OK ||
        archive_write_data(a, data.data(), data.size()) != static_cast<la_ssize_t>(data.size()))
        throw Error(fmt::format("write \"{}\" to the archive: {}", name, archive_error_string(a)));
}

void add_dir(archive* a, const std::string& name) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                               archive_entry_free);
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
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                               archive_entry_free);
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

}  // namespace

void save_oci_archive(const Store& store, const std::vector<std::string>& refs,
                      const std::string& path) {
    std::vector<Image> imgs;
    for (auto& r : refs) imgs.push_back(store.resolve(r));
    std::unique_ptr<archive, WriteDeleter> a(archive_write_new());
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
        oi::Descriptor d;
        d.media_type = img.manifest.media_type.empty() ? std::string(oi::media::kOciManifest)
                                                       : img.manifest.media_type;
        d.digest = img.manifest_digest;
        d.size = static_cast<int64_t>(read_file(store.blob_path(img.manifest_digest)).size());
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
        want(img.manifest_digest);
        want(img.id);
        for (auto& l : img.manifest.layers) want(l.digest);
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

std::vector<std::string> load_oci_archive(Store& store, const std::string& path,
                                          const std::optional<std::string>& tag) {
    return with_context(fmt::format("load \"{}\"", path), [&] {
        auto lock = store.lock_shared();
        std::unique_ptr<archive, ReadDeleter> a(archive_read_new());
        archive_read_support_filter_gzip(a.get());
        archive_read_support_filter_zstd(a.get());
        archive_read_support_filter_xz(a.get());
        archive_read_support_format_tar(a.get());
        int rc = path == "-" ? archive_read_open_fd(a.get(), STDIN_FILENO, 1 << 16)
                             : archive_read_open_filename(a.get(), path.c_str(), 1 << 16);
        if (rc != ARCHIVE_OK) throw Error(archive_error_string(a.get()));
        std::optional<std::string> index_json;
        bool docker_archive = false;
        archive_entry* e = nullptr;
        while ((rc = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK) {
            std::string name = clean_entry_path(archive_entry_pathname(e));
            if (archive_entry_filetype(e) != AE_IFREG) continue;
            if (name == "index.json") {
                std::string data;
                char buf[1 << 16];
                la_ssize_t n;
                while ((n = archive_read_data(a.get(), buf, sizeof buf)) > 0)
                    data.append(buf, static_cast<size_t>(n));
                if (n < 0) throw Error(archive_error_string(a.get()));
                index_json = std::move(data);
            } else if (name.starts_with("blobs/sha256/")) {
                std::string digest = "sha256:" + name.substr(13);
                oi::digest_hex(digest);  // validates
                if (store.has_blob(digest)) continue;
                std::string tmp = store.tmp_dir() + "/" + unique_name("load-");
                UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
                if (!out) throw_sys("create", tmp);
                Sha256 h;
                try {
                    const void* buf = nullptr;
                    size_t len = 0;
                    la_int64_t off = 0;
                    while ((rc = archive_read_data_block(a.get(), &buf, &len, &off)) ==
                           ARCHIVE_OK) {
                        h.update(buf, len);
                        if (::pwrite(out.get(), buf, len, off) != static_cast<ssize_t>(len))
                            throw_sys("write", tmp);
                    }
                    if (rc != ARCHIVE_EOF) throw Error(archive_error_string(a.get()));
                    std::string got = h.digest();
                    if (got != digest)
                        throw Error(fmt::format("blob {}: content has digest {}", digest, got));
                    store.commit_blob(tmp, digest);
                } catch (...) {
                    ::unlink(tmp.c_str());
                    throw;
                }
            } else if (name == "manifest.json" || name == "repositories") {
                docker_archive = true;
            }
        }
        if (rc != ARCHIVE_EOF) throw Error(archive_error_string(a.get()));
        if (!index_json) {
            if (docker_archive)
                throw Error("this is a docker-archive (docker save); husk loads OCI archives");
            throw Error("no index.json: not an OCI archive");
        }
        oi::Index idx = oi::parse_index(*index_json);
        std::vector<ImageRecord> recs;
        std::vector<std::string> names;
        for (auto& d : idx.manifests) {
            oi::Descriptor md = d;
            if (oi::classify_manifest(d.media_type, store.read_blob(d.digest)) ==
                oi::ManifestKind::index) {
                oi::Index inner = oi::parse_index(store.read_blob(d.digest));
                md = oi::select_platform(inner, oi::host_platform());
            }
            ImageRecord rec;
            rec.manifest.media_type = md.media_type;
            rec.manifest.digest = md.digest;
            rec.manifest.size = md.size;
            std::string n;
            if (tag) {
                n = *tag;
            } else if (auto it = d.annotations.find(std::string(oi::kRefNameAnnotation));
                       it != d.annotations.end()) {
                n = it->second;
            }
            if (!n.empty()) rec.name = oi::parse_reference(n).str();
            Image img = store.load_image(rec);
            store.ensure_snapshots(img);
            recs.push_back(rec);
            names.push_back(rec.name.empty() ? img.id : rec.name);
        }
        store.add_records(recs);
        return names;
    });
}

}  // namespace husk::image
