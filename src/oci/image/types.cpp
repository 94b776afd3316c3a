#include "oci/image/types.h"

#include <sys/utsname.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "oci/image/reference.h"
#include "sys/error.h"

namespace husk::oci::image {
namespace {

using json = nlohmann::json;

[[noreturn]] void field_error(std::string_view path, std::string_view what) {
    throw Error(fmt::format("{}: {}", path, what));
}

const char* type_name(const json& j) {
    return j.type_name();
}

std::string get_string(const json& j, const char* key, const std::string& path,
                       bool required = false) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        if (required) field_error(path + "." + key, "missing");
        return {};
    }
    if (!it->is_string())
        field_error(path + "." + key, fmt::format("expected string, got {}", type_name(*it)));
    return it->get<std::string>();
}

std::vector<std::string> get_strings(const json& j, const char* key, const std::string& path) {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_array())
        field_error(path + "." + key, fmt::format("expected array, got {}", type_name(*it)));
    for (size_t i = 0; i < it->size(); ++i) {
        const json& e = (*it)[i];
        if (!e.is_string())
            field_error(fmt::format("{}.{}[{}]", path, key, i),
                        fmt::format("expected string, got {}", type_name(e)));
        out.push_back(e.get<std::string>());
    }
    return out;
}

std::map<std::string, std::string> get_string_map(const json& j, const char* key,
                                                  const std::string& path) {
    std::map<std::string, std::string> out;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_object())
        field_error(path + "." + key, fmt::format("expected object, got {}", type_name(*it)));
    for (auto& [k, v] : it->items()) {
        if (!v.is_string())
            field_error(fmt::format("{}.{}.{}", path, key, k),
                        fmt::format("expected string, got {}", type_name(v)));
        out[k] = v.get<std::string>();
    }
    return out;
}

// Keys of an object used as a set ({"80/tcp": {}}).
std::vector<std::string> get_keys(const json& j, const char* key, const std::string& path) {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_object())
        field_error(path + "." + key, fmt::format("expected object, got {}", type_name(*it)));
    for (auto& [k, v] : it->items()) out.push_back(k);
    return out;
}

json parse_json(std::string_view text, std::string_view what) {
    try {
        json j = json::parse(text);
        if (!j.is_object())
            field_error(what, fmt::format("expected object, got {}", j.type_name()));
        return j;
    } catch (const json::parse_error& e) {
        throw Error(fmt::format("{}: invalid JSON: {}", what, e.what()));
    }
}

Platform platform_from_json(const json& j, const std::string& path) {
    if (!j.is_object()) field_error(path, "expected object");
    Platform p;
    p.os = get_string(j, "os", path, true);
    p.architecture = get_string(j, "architecture", path, true);
    p.variant = get_string(j, "variant", path);
    p.os_version = get_string(j, "os.version", path);
    p.os_features = get_strings(j, "os.features", path);
    return p;
}

Descriptor descriptor_from_json(const json& j, const std::string& path) {
    if (!j.is_object()) field_error(path, fmt::format("expected object, got {}", j.type_name()));
    Descriptor d;
    d.media_type = get_string(j, "mediaType", path);
    d.digest = get_string(j, "digest", path, true);
    if (!is_valid_digest(d.digest))
        field_error(path + ".digest", fmt::format("invalid digest \"{}\"", d.digest));
    auto it = j.find("size");
    if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() < 0)
        field_error(path + ".size", "expected a non-negative integer");
    d.size = it->get<int64_t>();
    d.urls = get_strings(j, "urls", path);
    d.annotations = get_string_map(j, "annotations", path);
    if (auto p = j.find("platform"); p != j.end() && !p->is_null())
        d.platform = platform_from_json(*p, path + ".platform");
    return d;
}

json descriptor_to_json(const Descriptor& d) {
    json j = {{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
    if (!d.urls.empty()) j["urls"] = d.urls;
    if (!d.annotations.empty()) j["annotations"] = d.annotations;
    if (d.platform) {
        json p = {{"architecture", d.platform->architecture}, {"os", d.platform->os}};
        if (!d.platform->variant.empty()) p["variant"] = d.platform->variant;
        if (!d.platform->os_version.empty()) p["os.version"] = d.platform->os_version;
        if (!d.platform->os_features.empty()) p["os.features"] = d.platform->os_features;
        j["platform"] = p;
    }
    return j;
}

int schema_version2(const json& j, std::string_view path) {
    auto it = j.find("schemaVersion");
    if (it == j.end() || !it->is_number_integer())
        field_error(fmt::format("{}.schemaVersion", path), "expected an integer");
    if (it->get<int>() != 2)
        field_error(fmt::format("{}.schemaVersion", path),
                    fmt::format("unsupported {}", it->get<int>()));
    return 2;
}

std::vector<Descriptor> get_descriptors(const json& j, const char* key, const std::string& path) {
    std::vector<Descriptor> out;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_array()) field_error(path + "." + key, "expected array");
    for (size_t i = 0; i < it->size(); ++i)
        out.push_back(descriptor_from_json((*it)[i], fmt::format("{}.{}[{}]", path, key, i)));
    return out;
}

}  // namespace

std::string normalise_arch(std::string a) {
    if (a == "x86_64" || a == "x86-64") return "amd64";
    if (a == "aarch64") return "arm64";
    if (a == "armhf" || a == "armel") return "arm";
    if (a == "i386" || a == "i686") return "386";
    return a;
}

std::string Platform::str() const {
    std::string s = os + "/" + architecture;
    if (!variant.empty()) s += "/" + variant;
    return s;
}

Platform parse_platform(std::string_view s) {
    Platform p;
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        size_t slash = s.find('/', start);
        parts.emplace_back(
            s.substr(start, slash == std::string_view::npos ? slash : slash - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty())
        throw Error(fmt::format("invalid platform \"{}\": expected os/arch[/variant]", s));
    p.os = parts[0];
    p.architecture = normalise_arch(parts[1]);
    if (parts.size() == 3) p.variant = parts[2];
    return p;
}

Platform host_platform() {
    Platform p;
    p.os = "linux";
    struct utsname u {};
    ::uname(&u);
    std::string m = u.machine;
    if (m == "armv7l") {
        p.architecture = "arm";
        p.variant = "v7";
    } else if (m == "armv6l") {
        p.architecture = "arm";
        p.variant = "v6";
    } else {
        p.architecture = normalise_arch(m);
    }
    return p;
}

bool platform_matches(const Platform& want, const Platform& c) {
    if (want.os != c.os || normalise_arch(want.architecture) != normalise_arch(c.architecture))
        return false;
    if (want.variant.empty()) return true;
    auto variant = [&](const Platform& p) {
        if (p.variant.empty() && normalise_arch(p.architecture) == "arm64")
            return std::string("v8");
        return p.variant;
    };
    return variant(want) == variant(c);
}

ManifestKind classify_manifest(std::string_view content_type, std::string_view body) {
    std::string mt(content_type.substr(0, content_type.find(';')));
    json j;
    try {
        j = json::parse(body);
    } catch (const json::parse_error& e) {
        throw Error(fmt::format("manifest: invalid JSON: {}", e.what()));
    }
    if (j.is_object() && j.contains("mediaType") && j["mediaType"].is_string())
        mt = j["mediaType"].get<std::string>();
    if (mt == media::kDockerSchema1 || mt == media::kDockerSchema1Signed ||
        (j.is_object() && j.value("schemaVersion", 0) == 1))
        throw Error(
            "Docker schema1 manifests are deprecated and not supported: the image must be "
            "pushed again with a current client");
    if (mt == media::kOciIndex || mt == media::kDockerList) return ManifestKind::index;
    if (mt == media::kOciManifest || mt == media::kDockerManifest) return ManifestKind::manifest;
    // An OCI document without mediaType: decide from its shape.
    if (j.is_object() && j.contains("manifests")) return ManifestKind::index;
    if (j.is_object() && j.contains("layers") && j.contains("config"))
        return ManifestKind::manifest;
    throw Error(fmt::format("unsupported manifest media type \"{}\"", mt));
}

Index parse_index(std::string_view text) {
    json j = parse_json(text, "index");
    Index idx;
    idx.schema_version = schema_version2(j, "index");
    idx.media_type = get_string(j, "mediaType", "index");
    idx.manifests = get_descriptors(j, "manifests", "index");
    idx.annotations = get_string_map(j, "annotations", "index");
    return idx;
}

Manifest parse_manifest(std::string_view text) {
    json j = parse_json(text, "manifest");
    Manifest m;
    m.schema_version = schema_version2(j, "manifest");
    m.media_type = get_string(j, "mediaType", "manifest");
    auto c = j.find("config");
    if (c == j.end()) field_error("manifest.config", "missing");
    m.config = descriptor_from_json(*c, "manifest.config");
    m.layers = get_descriptors(j, "layers", "manifest");
    for (size_t i = 0; i < m.layers.size(); ++i)
        if (!is_layer_media_type(m.layers[i].media_type))
            field_error(fmt::format("manifest.layers[{}].mediaType", i),
                        fmt::format("unsupported layer type \"{}\"", m.layers[i].media_type));
    m.annotations = get_string_map(j, "annotations", "manifest");
    return m;
}

ImageConfig parse_image_config(std::string_view text) {
    json j = parse_json(text, "image config");
    const std::string p = "image config";
    ImageConfig c;
    c.created = get_string(j, "created", p);
    c.author = get_string(j, "author", p);
    c.architecture = get_string(j, "architecture", p);
    c.os = get_string(j, "os", p);
    c.variant = get_string(j, "variant", p);
    if (auto it = j.find("config"); it != j.end() && it->is_object()) {
        const std::string cp = p + ".config";
        c.user = get_string(*it, "User", cp);
        c.env = get_strings(*it, "Env", cp);
        c.entrypoint = get_strings(*it, "Entrypoint", cp);
        c.cmd = get_strings(*it, "Cmd", cp);
        c.working_dir = get_string(*it, "WorkingDir", cp);
        c.labels = get_string_map(*it, "Labels", cp);
        c.exposed_ports = get_keys(*it, "ExposedPorts", cp);
        c.volumes = get_keys(*it, "Volumes", cp);
        c.stop_signal = get_string(*it, "StopSignal", cp);
        if (auto h = it->find("Healthcheck"); h != it->end() && h->is_object()) {
            const std::string hp = cp + ".Healthcheck";
            ImageHealthcheck hc;
            hc.test = get_strings(*h, "Test", hp);
            auto num = [&](const char* k) -> int64_t {
                auto v = h->find(k);
                if (v == h->end() || v->is_null()) return 0;
                if (!v->is_number_integer() || v->get<int64_t>() < 0)
                    field_error(hp + "." + k, "expected a non-negative integer");
                return v->get<int64_t>();
            };
            hc.interval = num("Interval");
            hc.timeout = num("Timeout");
            hc.start_period = num("StartPeriod");
            hc.start_interval = num("StartInterval");
            hc.retries = static_cast<int>(num("Retries"));
            c.healthcheck = std::move(hc);
        }
    }
    auto rootfs = j.find("rootfs");
    if (rootfs == j.end() || !rootfs->is_object()) field_error(p + ".rootfs", "missing");
    std::string type = get_string(*rootfs, "type", p + ".rootfs", true);
    if (type != "layers") field_error(p + ".rootfs.type", fmt::format("unsupported \"{}\"", type));
    c.diff_ids = get_strings(*rootfs, "diff_ids", p + ".rootfs");
    for (size_t i = 0; i < c.diff_ids.size(); ++i)
        if (!is_valid_digest(c.diff_ids[i]))
            field_error(fmt::format("{}.rootfs.diff_ids[{}]", p, i),
                        fmt::format("invalid digest \"{}\"", c.diff_ids[i]));
    return c;
}

std::string dump_index(const Index& idx) {
    json j = {{"schemaVersion", idx.schema_version}};
    if (!idx.media_type.empty()) j["mediaType"] = idx.media_type;
    j["manifests"] = json::array();
    for (auto& d : idx.manifests) j["manifests"].push_back(descriptor_to_json(d));
    if (!idx.annotations.empty()) j["annotations"] = idx.annotations;
    return j.dump();
}

std::string dump_manifest(const Manifest& m) {
    json j = {{"schemaVersion", m.schema_version}};
    if (!m.media_type.empty()) j["mediaType"] = m.media_type;
    j["config"] = descriptor_to_json(m.config);
    j["layers"] = json::array();
    for (auto& d : m.layers) j["layers"].push_back(descriptor_to_json(d));
    if (!m.annotations.empty()) j["annotations"] = m.annotations;
    return j.dump();
}

const Descriptor& select_platform(const Index& idx, const Platform& want) {
    // Exact variant first, then any variant when none was asked for (the first listed wins,
    // as in containerd's default matcher).
    for (auto& d : idx.manifests)
        if (d.platform && platform_matches(want, *d.platform)) return d;
    std::string have;
    for (auto& d : idx.manifests)
        if (d.platform) have += (have.empty() ? "" : ", ") + d.platform->str();
    throw Error(fmt::format("no image for platform {} (the index has: {})", want.str(),
                            have.empty() ? "no platforms" : have));
}

Compression layer_compression(std::string_view mt) {
    if (mt.ends_with("+zstd")) return Compression::zstd;
    if (mt.ends_with("+gzip") || mt.ends_with(".tar.gzip")) return Compression::gzip;
    return Compression::none;
}

bool is_layer_media_type(std::string_view mt) {
    return mt.starts_with("application/vnd.oci.image.layer.") ||
           mt.starts_with("application/vnd.docker.image.rootfs.");
}

}  // namespace husk::oci::image
