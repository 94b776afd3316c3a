// docker-archive loading (`docker save`, `skopeo copy ... docker-archive:`): each
// manifest.json entry becomes an OCI manifest over the archive's config and layer
// files, so the store holds it like any pulled image.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "image/archive_load.h"
#include "image/digest.h"
#include "image/unpack.h"
#include "oci/image/reference.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"

namespace husk::image {
namespace {

using json = nlohmann::json;
namespace oi = oci::image;

constexpr int64_t kDocMax = 8 << 20;  // manifest.json, configs

std::string_view sniff_layer_media_type(const std::string& path) {
    sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_sys("open", path);
    unsigned char m[4] = {0, 0, 0, 0};
    ssize_t n = ::read(fd.get(), m, sizeof m);
    if (n < 0) throw_sys("read", path);
    if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) return oi::media::kOciLayerGzip;
    if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
        return oi::media::kOciLayerZstd;
    return oi::media::kOciLayer;
}

// sha256 of the decompressed content of the file at `path`.
std::string uncompressed_digest(const std::string& path) {
    std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
    archive_read_support_filter_gzip(a.get());
    archive_read_support_filter_zstd(a.get());
    archive_read_support_format_raw(a.get());
    archive_entry* e = nullptr;
    if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK ||
        archive_read_next_header(a.get(), &e) != ARCHIVE_OK)
        throw Error(fmt::format("decompress: {}", archive_error_string(a.get())));
    Sha256 h;
    const void* buf = nullptr;
    size_t len = 0;
    la_int64_t off = 0;
    int rc;
    while ((rc = archive_read_data_block(a.get(), &buf, &len, &off)) == ARCHIVE_OK)
        h.update(buf, len);
    if (rc != ARCHIVE_EOF)
        throw Error(fmt::format("decompress: {}", archive_error_string(a.get())));
    return h.digest();
}

std::string read_doc(const ArchiveFiles::File& f, const std::string& name) {
    if (f.size > kDocMax) throw Error(fmt::format("\"{}\" is too large ({} bytes)", name, f.size));
    return sys::read_file(f.path);
}

// One manifest.json entry -> the OCI manifest's descriptor (blobs committed via `undo`).
oi::Descriptor store_entry(const ArchiveFiles& files, LoadUndo& undo, const json& e,
                           const std::string& field) {
    if (!e.is_object()) throw Error(fmt::format("{}: expected an object", field));
    if (!e.contains("Config") || !e["Config"].is_string())
        throw Error(fmt::format("{}.Config: expected a file name", field));
    if (!e.contains("Layers") || !e["Layers"].is_array())
        throw Error(fmt::format("{}.Layers: expected an array of file names", field));
    auto need = [&](const json& name, const std::string& f) {
        if (!name.is_string()) throw Error(fmt::format("{}: expected a file name", f));
        const ArchiveFiles::File* file = files.find(name.get<std::string>());
        if (file == nullptr)
            throw Error(
                fmt::format("{}: \"{}\" is not in the archive", f, name.get<std::string>()));
        return file;
    };
    const auto* cfg = need(e["Config"], field + ".Config");
    std::string config_json = read_doc(*cfg, e["Config"].get<std::string>());
    oi::ImageConfig config =
        with_context(field + ".Config", [&] { return oi::parse_image_config(config_json); });
    const json& layers = e["Layers"];
    if (layers.size() != config.diff_ids.size())
        throw Error(fmt::format("{}: {} layers, but the image config lists {}", field,
                                layers.size(), config.diff_ids.size()));
    std::vector<const ArchiveFiles::File*> layer_files;
    oi::Manifest m;
    m.media_type = std::string(oi::media::kOciManifest);
    m.config = {std::string(oi::media::kOciConfig), cfg->digest, cfg->size, {}, {}, {}};
    for (size_t k = 0; k < layers.size(); ++k) {
        std::string f = fmt::format("{}.Layers[{}]", field, k);
        const auto* l = need(layers[k], f);
        std::string_view mt = sniff_layer_media_type(l->path);
        // Nothing but the config vouches for a layer of a docker-archive: check its diff id
        // now (an existing snapshot of that chain would not unpack it again).
        std::string diff_id = mt == oi::media::kOciLayer
                                  ? l->digest
                                  : with_context(f, [&] { return uncompressed_digest(l->path); });
        if (diff_id != config.diff_ids[k])
            throw Error(fmt::format("{}: \"{}\" has {}digest {}, the image config says {}", f,
                                    layers[k].get<std::string>(),
                                    mt == oi::media::kOciLayer ? "" : "uncompressed ", diff_id,
                                    config.diff_ids[k]));
        m.layers.push_back({std::string(mt), l->digest, l->size, {}, {}, {}});
        layer_files.push_back(l);
    }
    for (const auto* l : layer_files) undo.commit_blob(l->path, l->digest);
    undo.commit_blob(cfg->path, cfg->digest);
    std::string body = oi::dump_manifest(m);
    undo.write_blob(body);
    return {std::string(oi::media::kOciManifest),
            sha256_digest(body),
            static_cast<int64_t>(body.size()),
            {},
            {},
            {}};
}

}  // namespace

const ArchiveFiles::File* ArchiveFiles::find(const std::string& name) const {
    std::string n = clean_entry_path(name);
    for (int hops = 0; hops < 16; ++hops) {
        if (auto it = files.find(n); it != files.end()) return &it->second;
        auto s = symlinks.find(n);
        if (s == symlinks.end()) return nullptr;
        size_t slash = n.rfind('/');
        std::string dir = slash == std::string::npos ? "" : n.substr(0, slash + 1);
        n = clean_entry_path(s->second.starts_with("/") ? s->second : dir + s->second);
    }
    return nullptr;
}

LoadUndo::~LoadUndo() {
    if (done_) return;
    for (auto& s : snapshots_) {
        try {
            store_.remove_tree(store_.snapshot_dir(s));
        } catch (const std::exception& e) {
            log::warn("{}", e.what());
        }
    }
    for (auto& b : blobs_) ::unlink(store_.blob_path(b).c_str());
}

void LoadUndo::commit_blob(const std::string& tmp_path, const std::string& digest) {
    if (store_.has_blob(digest)) return;
    std::string dst = store_.blob_path(digest);
    if (::link(tmp_path.c_str(), dst.c_str()) != 0) {
        if (errno == EEXIST) return;  // another pull or load was first
        throw_sys("link", tmp_path);
    }
    blobs_.push_back(digest);
}

void LoadUndo::write_blob(const std::string& data) {
    std::string d = sha256_digest(data);
    if (store_.has_blob(d)) return;
    store_.write_blob(data);
    blobs_.push_back(d);
}

void LoadUndo::ensure_snapshots(const Image& img) {
    std::vector<std::string> missing;
    for (auto& c : img.chain_ids)
        if (!store_.has_snapshot(c)) missing.push_back(c);
    try {
        store_.ensure_snapshots(img);
    } catch (...) {
        for (auto& c : missing)
            if (store_.has_snapshot(c)) snapshots_.push_back(c);
        throw;
    }
    snapshots_.insert(snapshots_.end(), missing.begin(), missing.end());
}

std::vector<ImageRecord> load_docker_archive(Store& store, const ArchiveFiles& files,
                                             LoadUndo& undo,
                                             const std::optional<std::string>& tag) {
    const ArchiveFiles::File* mf = files.find("manifest.json");
    if (mf == nullptr)
        throw Error("neither index.json nor manifest.json: not an OCI archive or a docker-archive");
    json j;
    try {
        j = json::parse(read_doc(*mf, "manifest.json"));
    } catch (const json::exception& e) {
        throw Error(fmt::format("manifest.json: {}", e.what()));
    }
    if (!j.is_array() || j.empty())
        throw Error("manifest.json: expected a non-empty array of images");
    if (tag && j.size() != 1)
        throw Error(fmt::format("--tag names one image; the archive holds {}", j.size()));
    std::vector<ImageRecord> recs;
    for (size_t i = 0; i < j.size(); ++i) {
        std::string field = fmt::format("manifest.json[{}]", i);
        ImageRecord rec;
        rec.manifest = store_entry(files, undo, j[i], field);
        std::vector<std::string> names;
        if (tag) {
            names.push_back(oi::parse_reference(*tag).str());
        } else if (j[i].contains("RepoTags") && j[i]["RepoTags"].is_array()) {
            for (auto& t : j[i]["RepoTags"]) {
                if (!t.is_string())
                    throw Error(fmt::format("{}.RepoTags: expected strings", field));
                names.push_back(with_context(field + ".RepoTags", [&] {
                    return oi::parse_reference(t.get<std::string>()).str();
                }));
            }
        }
        undo.ensure_snapshots(store.load_image(rec));
        if (names.empty()) recs.push_back(rec);
        for (auto& n : names) {
            rec.name = n;
            recs.push_back(rec);
        }
    }
    return recs;
}

}  // namespace husk::image
