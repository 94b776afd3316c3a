// Registry authentication: WWW-Authenticate challenges, and credentials from
// husk's own auth file (written by `husk login`) and ~/.docker/config.json.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace husk::image {

struct Challenge {
    std::string scheme;                         // lowercase: "bearer", "basic"
    std::map<std::string, std::string> params;  // keys lowercase: realm, service, scope
};

// Parses a WWW-Authenticate header value (RFC 7235): one or more challenges,
// parameters as token=token or token="quoted \"string\"". Throws on garbage.
std::vector<Challenge> parse_www_authenticate(std::string_view header);

struct Credentials {
    std::string username;
    std::string password;
    std::string identity_token;  // docker's "identitytoken" (OAuth refresh token)
};

// The key docker uses for a registry in config.json ("https://index.docker.io/v1/" for docker.io).
std::string docker_config_key(std::string_view registry);

// Credentials in docker's config.json format ({"auths": {"host": {"auth": base64}}}).
class AuthFile {
  public:
    explicit AuthFile(std::string path) : path_(std::move(path)) {}
    const std::string& path() const { return path_; }
    std::optional<Credentials> find(std::string_view registry) const;
    void store(std::string_view registry, const Credentials& c);  // atomic, mode 0600
    bool erase(std::string_view registry);                        // false if absent

  private:
    std::string path_;
};

// Looks in husk's auth file first, then in $DOCKER_CONFIG/config.json or ~/.docker/config.json.
class CredentialStore {
  public:
    explicit CredentialStore(std::string husk_auth_file);
    std::optional<Credentials> find(std::string_view registry) const;
    AuthFile& husk_file() { return husk_; }

  private:
    AuthFile husk_;
    std::optional<AuthFile> docker_;
};

}  // namespace husk::image
