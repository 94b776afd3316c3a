// A client of the OCI distribution API (v2) on libcurl: manifests, blobs with
// redirects and Range resume, bearer-token and basic auth, retries with backoff.
// Errors name the registry, the repository and what the server answered:
//   registry 127.0.0.1:5000, repository "library/nope": manifest "latest": 404 MANIFEST_UNKNOWN:
//   manifest unknown
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "image/auth.h"
#include "image/registries_config.h"

namespace husk::image {

struct RegistryOptions {
    bool tls_verify = true;  // false: every registry is treated as insecure
    RegistriesConfig config;
    std::optional<Credentials> credentials;  // overrides the credential store
    const CredentialStore* credential_store = nullptr;
    int retries = 3;  // extra attempts after a 5xx, 429, timeout or broken connection
    long connect_timeout_s = 30;
    const std::atomic<bool>* interrupt = nullptr;  // when set, transfers abort
    bool push = false;  // tokens are asked for "pull,push" on the repository
};

class RegistryClient {
  public:
    RegistryClient(std::string registry, std::string repository, RegistryOptions opts);
    ~RegistryClient();

    struct Response {
        std::string body;
        std::string content_type;
        std::string docker_digest;  // Docker-Content-Digest
    };
    // GET /v2/<repo>/manifests/<tag or digest> with every manifest type accepted.
    Response get_manifest(const std::string& reference);
    // GET /v2/<repo>/blobs/<digest> into memory (configs); the size is bounded by `max_size`.
    std::string get_blob(const std::string& digest, int64_t max_size);
    // Streams the blob from `offset` into `sink` (called with consecutive chunks). A broken
    // transfer is resumed with a Range request. `sink` may throw to abort.
    void stream_blob(const std::string& digest, int64_t offset,
                     const std::function<void(const char*, size_t)>& sink);
    // GET /v2/: checks that the registry answers and that the credentials are accepted.
    void ping();

    // The upload half (`husk push`).
    // HEAD /v2/<repo>/blobs/<digest>: true when the registry has the blob.
    bool has_blob(const std::string& digest);
    // Uploads `size` bytes of the open file `fd` as blob `digest`: POST then one PUT when
    // `size` <= `chunk`, else PATCH chunks of `chunk` bytes and a closing PUT. With
    // `mount_from` (a repository on this registry that has the blob) the POST asks for a
    // cross-repository mount first (`?mount=<digest>&from=<repo>`); returns true when the
    // registry mounted it (nothing was uploaded). `progress` is called after each chunk with
    // the bytes sent so far.
    bool upload_blob(int fd, int64_t size, const std::string& digest, int64_t chunk,
                     const std::string& mount_from = {},
                     const std::function<void(int64_t)>& progress = {});
    // PUT /v2/<repo>/manifests/<reference> with the manifest's own media type; returns
    // the digest the registry reports (Docker-Content-Digest), or "" when it sends none.
    std::string put_manifest(const std::string& reference, const std::string& media_type,
                             const std::string& body);

    // Extra attempts after a transient failure (RegistryOptions::retries); not thread-safe.
    void set_retries(int n) { opts_.retries = n; }
    const std::string& registry() const { return registry_; }
    const std::string& repository() const { return repository_; }

  private:
    struct Request;
    struct Result;
    std::string endpoint();
    // Does `host` answer plain HTTP on its port (what a failed TLS handshake hides)?
    bool speaks_plain_http(const std::string& host);
    Result perform(Request& req);
    Result perform_with_auth(Request& req);
    void authenticate(const std::string& www_authenticate);
    std::string describe(std::string_view what) const;
    std::string absolute(const std::string& location);
    // One upload session of upload_blob: true when mounted, false when uploaded, nullopt
    // (with `failed`) when a PATCH or the closing PUT failed in a way worth a new session.
    std::optional<bool> upload_session(int fd, int64_t size, const std::string& digest,
                                       int64_t chunk, const std::string& mount_from,
                                       const std::function<void(int64_t)>& progress,
                                       Result& failed);
    bool verify_tls() const;
    std::optional<Credentials> credentials() const;

    std::string registry_;
    std::string repository_;
    RegistryOptions opts_;
    std::mutex mu_;
    std::string base_;           // "https://host" once known
    std::string authorization_;  // "Bearer x" / "Basic x"
};

}  // namespace husk::image
