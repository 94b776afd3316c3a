// The OCI image specification (and the Docker schema2 equivalents): descriptors,
// platforms, image indexes / manifest lists, image manifests and image configs.
// Parsing validates and names the offending field:
//   manifest: layers[2].digest: invalid digest "sha256:abc"
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace husk::oci::image {

namespace media {
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerForeignLayerGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}  // namespace media

inline constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";

struct Platform {
    std::string os;            // "linux"
    std::string architecture;  // "amd64"
    std::string variant;       // "v8", "v7"; may be empty
    std::string os_version;
    std::vector<std::string> os_features;

    std::string str() const;  // "linux/arm64/v8"
};

// "os/arch[/variant]" -> Platform; throws on a malformed string.
Platform parse_platform(std::string_view s);
// An architecture by its GOARCH name (x86_64 -> amd64, aarch64 -> arm64, i686 -> 386,
// armhf -> arm); others as given.
std::string normalise_arch(std::string a);
// The platform of the running machine (GOARCH names: amd64, arm64, arm/v7, ...).
Platform host_platform();
// Does `candidate` satisfy `want`? os and architecture must be equal; a variant
// is compared when `want` has one (arm64's empty variant means v8).
bool platform_matches(const Platform& want, const Platform& candidate);

struct Descriptor {
    std::string media_type;
    std::string digest;
    int64_t size = 0;
    std::vector<std::string> urls;
    std::map<std::string, std::string> annotations;
    std::optional<Platform> platform;
};

struct Index {  // OCI image index or Docker manifest list
    int schema_version = 2;
    std::string media_type;
    std::vector<Descriptor> manifests;
    std::map<std::string, std::string> annotations;
};

struct Manifest {  // OCI image manifest or Docker schema2 manifest
    int schema_version = 2;
    std::string media_type;
    Descriptor config;
    std::vector<Descriptor> layers;
    std::map<std::string, std::string> annotations;
};

// config.Healthcheck (docker's image extension): durations in nanoseconds, 0: the default.
struct ImageHealthcheck {
    std::vector<std::string> test;  // ["CMD-SHELL", "cmd"], ["CMD", args...], ["NONE"]
    int64_t interval = 0, timeout = 0, start_period = 0, start_interval = 0;
    int retries = 0;
};

struct ImageConfig {
    std::string created;  // RFC 3339, may be empty
    std::string author;
    std::string architecture;
    std::string os;
    std::string variant;
    // "config" of the image: what a container runs by default
    std::string user;
    std::vector<std::string> env;
    std::vector<std::string> entrypoint;
    std::vector<std::string> cmd;
    std::string working_dir;
    std::map<std::string, std::string> labels;
    std::vector<std::string> exposed_ports;
    std::vector<std::string> volumes;
    std::string stop_signal;
    std::optional<ImageHealthcheck> healthcheck;
    // rootfs
    std::vector<std::string> diff_ids;
};

enum class ManifestKind { index, manifest };

// Which kind of document `body` is, from the Content-Type (may be empty) and the
// body's own mediaType / shape. Throws for schema1 ("Docker schema1 manifests are
// deprecated and not supported; the image must be pushed again") and unknown types.
ManifestKind classify_manifest(std::string_view content_type, std::string_view body);

Index parse_index(std::string_view json);
Manifest parse_manifest(std::string_view json);
ImageConfig parse_image_config(std::string_view json);
std::string dump_index(const Index& idx);      // compact JSON
std::string dump_manifest(const Manifest& m);  // compact JSON

// The manifest descriptor of `idx` for `want`, or throws naming the platforms available.
const Descriptor& select_platform(const Index& idx, const Platform& want);

// Layer compression from the media type.
enum class Compression { none, gzip, zstd };
Compression layer_compression(std::string_view media_type);
bool is_layer_media_type(std::string_view media_type);

}  // namespace husk::oci::image
