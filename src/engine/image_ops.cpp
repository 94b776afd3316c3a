#include "engine/image_ops.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/system.h"
#include "image/archive_load.h"
#include "image/digest.h"
#include "oci/image/reference.h"
#include "oci/image/types.h"
#include "runtime/state.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/scope_guard.h"

namespace husk::engine {
namespace {

using json = nlohmann::json;
namespace oi = oci::image;

// The input of `husk import`, decompressed (gzip, zstd, xz, bzip2 or plain), written
// to `out` as a gzip stream; returns the uncompressed stream's digest.
std::string gzip_layer(const std::string& source, int out, image::Sha256& compressed) {
    std::unique_ptr<archive, int (*)(archive*)> in(archive_read_new(), archive_read_free);
    archive_read_support_filter_all(in.get());
    archive_read_support_format_raw(in.get());
    int rc = source == "-" ? archive_read_open_fd(in.get(), STDIN_FILENO, 1 << 16)
                           : archive_read_open_filename(in.get(), source.c_str(), 1 << 16);
    archive_entry* e = nullptr;
    if (rc != ARCHIVE_OK || archive_read_next_header(in.get(), &e) != ARCHIVE_OK)
        throw Error(error_format("read \"{}\": {}", source, archive_error_string(in.get())));
    struct Sink {
        int fd;
        image::Sha256* h;
    } sink{out, &compressed};
    std::unique_ptr<archive, int (*)(archive*)> w(archive_write_new(), archive_write_free);
    archive_write_add_filter_gzip(w.get());
    archive_write_set_format_raw(w.get());
    archive_write_set_bytes_in_last_block(w.get(), 1);
    auto on_write = [](archive*, void* ud, const void* buf, size_t len) -> la_ssize_t {
        auto* s = static_cast<Sink*>(ud);
        const char* p = static_cast<const char*>(buf);
        size_t left = len;
        while (left > 0) {
            ssize_t n = ::write(s->fd, p, left);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return -1;
            p += n;
            left -= static_cast<size_t>(n);
        }
        s->h->update(buf, len);
        return static_cast<la_ssize_t>(len);
    };
    if (archive_write_open(w.get(), &sink, nullptr, on_write, nullptr) != ARCHIVE_OK)
        throw Error(fmt::format("gzip: {}", archive_error_string(w.get())));
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> we(archive_entry_new(),
                                                                archive_entry_free);
    archive_entry_set_pathname(we.get(), "layer.tar");
    archive_entry_set_filetype(we.get(), AE_IFREG);
    archive_entry_set_perm(we.get(), 0644);
    if (archive_write_header(w.get(), we.get()) != ARCHIVE_OK)
        throw Error(fmt::format("gzip: {}", archive_error_string(w.get())));
    image::Sha256 plain;
    const void* buf = nullptr;
    size_t len = 0;
    la_int64_t off = 0;
    int64_t total = 0;
    while ((rc = archive_read_data_block(in.get(), &buf, &len, &off)) == ARCHIVE_OK) {
        plain.update(buf, len);
        total += static_cast<int64_t>(len);
        if (archive_write_data(w.get(), buf, len) < 0)
            throw Error(fmt::format("gzip: {}", archive_error_string(w.get())));
    }
    if (rc != ARCHIVE_EOF)
        throw Error(error_format("read \"{}\": {}", source, archive_error_string(in.get())));
    if (total == 0) throw Error(error_format("import \"{}\": the input is empty", source));
    if (archive_write_close(w.get()) != ARCHIVE_OK)
        throw Error(fmt::format("gzip: {}", archive_error_string(w.get())));
    return plain.digest();
}

}  // namespace

std::string tag_image(image::Store& store, std::string_view source, std::string_view target) {
    oi::Reference to = oi::parse_reference(target);
    if (!to.digest.empty())
        throw Error(
            error_format("refusing to create a tag with a digest reference: \"{}\"", target));
    image::Image img = store.resolve(source);
    auto recs = store.records();
    // the source name's own entry (what it was pulled as: its repo digest, an index), else
    // any entry of the image (given by id)
    std::string by_name;
    try {
        by_name = oi::parse_reference(source).str();
    } catch (const Error&) {
    }
    auto rec = std::find_if(recs.begin(), recs.end(), [&](const image::ImageRecord& r) {
        return r.name == by_name && r.manifest.digest == img.manifest_digest;
    });
    if (rec == recs.end())
        rec = std::find_if(recs.begin(), recs.end(), [&](const image::ImageRecord& r) {
            return r.manifest.digest == img.manifest_digest;
        });
    if (rec == recs.end()) throw Error(error_format("image \"{}\" not known", source));
    std::vector<image::ImageRecord> add;
    // The image the name leaves keeps an unnamed entry when this was its last name.
    auto old = std::find_if(recs.begin(), recs.end(),
                            [&](const image::ImageRecord& r) { return r.name == to.str(); });
    if (old != recs.end() && old->manifest.digest != img.manifest_digest &&
        std::count_if(recs.begin(), recs.end(), [&](const image::ImageRecord& r) {
            return r.manifest.digest == old->manifest.digest;
        }) == 1) {
        image::ImageRecord orphan = *old;
        orphan.name.clear();
        add.push_back(orphan);
    }
    image::ImageRecord named = *rec;
    named.name = to.str();
    add.push_back(named);
    store.add_records(add);
    return named.name;
}

nlohmann::json image_inspect(image::Store& store, const image::Image& img) {
    using json = nlohmann::json;
    json layers = json::array();
    for (auto& l : img.manifest.layers)
        layers.push_back({{"Digest", l.digest}, {"MediaType", l.media_type}, {"Size", l.size}});
    json snaps = json::array();
    for (auto& c : img.chain_ids) snaps.push_back(store.snapshot_dir(c) + "/fs");
    // the whole index as pulled: every platform's descriptor, not only the one stored
    json index =
        img.index_digest.empty() ? json(nullptr) : json::parse(store.read_blob(img.index_digest));
    json config = json::parse(img.config_json);
    // as docker shows them: "alpine:3", "alpine@sha256:..."
    json repo_tags = json::array();
    json repo_digests = json::array();
    for (auto& n : img.names) {
        oi::Reference ref = oi::parse_reference(n);
        repo_tags.push_back(ref.familiar_name());
        ref.tag.clear();
        if (!img.repo_digest.empty())
            repo_digests.push_back(fmt::format("{}@{}", ref.familiar_name(), img.repo_digest));
    }
    return {{"Id", img.id},
            {"RepoTags", repo_tags},
            {"RepoDigests", repo_digests},
            {"Created", img.config.created},
            {"Author", img.config.author},
            {"Architecture", img.config.architecture},
            {"Os", img.config.os},
            {"Config", config.value("config", json::object())},
            {"RootFS", {{"Type", "layers"}, {"Layers", img.config.diff_ids}}},
            {"History", config.value("history", json::array())},
            {"Size", image_size(store, img)},
            {"Digest", img.manifest_digest},
            {"RepoDigest", img.repo_digest},
            {"Names", img.names},
            {"ImageConfig", config},
            {"Manifest", json::parse(store.read_blob(img.manifest_digest))},
            {"IndexDigest", img.index_digest},
            {"Index", index},
            {"Layers", layers},
            {"ChainIds", img.chain_ids},
            {"Snapshots", snaps}};
}

uint64_t layer_size(const image::Store& store, const image::Image& img, size_t i) {
    if (i < img.chain_ids.size()) {
        auto sz = sys::read_file_if_exists(store.snapshot_dir(img.chain_ids[i]) + "/size");
        if (sz) {
            try {
                return std::stoull(*sz);
            } catch (const std::exception&) {
            }
        }
    }
    return static_cast<uint64_t>(img.manifest.layers.at(i).size);
}

std::vector<HistoryEntry> image_history(const image::Store& store, std::string_view name) {
    image::Image img = store.resolve(name);
    json cfg = json::parse(img.config_json);
    std::vector<HistoryEntry> rows;
    size_t layer = 0;
    auto str = [](const json& o, const char* k) {
        return o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : std::string();
    };
    if (cfg.contains("history") && cfg["history"].is_array()) {
        for (auto& h : cfg["history"]) {
            if (!h.is_object()) continue;
            HistoryEntry e;
            e.created = str(h, "created");
            e.created_by = str(h, "created_by");
            e.comment = str(h, "comment");
            bool empty = h.contains("empty_layer") && h["empty_layer"].is_boolean() &&
                         h["empty_layer"].get<bool>();
            if (!empty && layer < img.manifest.layers.size())
                e.size = layer_size(store, img, layer++);
            rows.push_back(std::move(e));
        }
    }
    // Layers the history does not account for (or no history at all): one row each.
    for (; layer < img.manifest.layers.size(); ++layer) {
        HistoryEntry e;
        e.created = img.config.created;
        e.size = layer_size(store, img, layer);
        rows.push_back(std::move(e));
    }
    std::reverse(rows.begin(), rows.end());
    for (size_t i = 0; i < rows.size(); ++i) rows[i].id = i == 0 ? img.id : "<missing>";
    return rows;
}

std::string import_image(image::Store& store, const ImportOptions& opts) {
    std::string name;
    if (!opts.name.empty()) {
        oi::Reference ref = oi::parse_reference(opts.name);
        if (!ref.digest.empty())
            throw Error(error_format("import: \"{}\": give a tag, not a digest", opts.name));
        name = ref.str();
    }
    oi::Platform p = oi::host_platform();
    std::string created = opts.created.empty() ? runtime::now_rfc3339() : opts.created;
    json cfg = {{"architecture", p.architecture}, {"os", p.os}, {"config", json::object()}};
    if (!p.variant.empty()) cfg["variant"] = p.variant;
    if (opts.changes) opts.changes(cfg);  // bad changes fail before anything is read
    auto lk = store.lock_shared();        // staging in tmp/ (see Store)
    std::string tmp = store.tmp_dir() + "/" + sys::unique_name("import-");
    sys::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd) throw_sys("open", tmp);
    sys::ScopeGuard rm_tmp([&]() noexcept { ::unlink(tmp.c_str()); });
    image::Sha256 compressed;
    std::string diff_id = gzip_layer(opts.source, fd.get(), compressed);
    std::string layer_digest = compressed.digest();
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_sys("stat", tmp);
    fd.reset();

    cfg["created"] = created;
    cfg["rootfs"] = {{"type", "layers"}, {"diff_ids", json::array({diff_id})}};
    cfg["history"] = json::array(
        {{{"created", created},
          {"comment",
           opts.message.empty() ? fmt::format("Imported from {}", opts.source) : opts.message}}});
    std::string config_json = cfg.dump();
    oi::Manifest m;
    m.media_type = std::string(oi::media::kOciManifest);
    m.config = {std::string(oi::media::kOciConfig),
                image::sha256_digest(config_json),
                static_cast<int64_t>(config_json.size()),
                {},
                {},
                {}};
    m.layers.push_back(
        {std::string(oi::media::kOciLayerGzip), layer_digest, st.st_size, {}, {}, {}});
    std::string manifest = oi::dump_manifest(m);

    image::LoadUndo undo(store);  // a tar that does not unpack leaves nothing behind
    undo.commit_blob(tmp, layer_digest);
    undo.write_blob(config_json);
    undo.write_blob(manifest);
    image::ImageRecord rec;
    rec.name = name;
    rec.manifest = {std::string(oi::media::kOciManifest),
                    image::sha256_digest(manifest),
                    static_cast<int64_t>(manifest.size()),
                    {},
                    {},
                    {}};
    with_context(error_format("import \"{}\"", opts.source),
                 [&] { undo.ensure_snapshots(store.load_image(rec)); });
    store.add_records({rec});
    undo.commit();
    return m.config.digest;
}

}  // namespace husk::engine
