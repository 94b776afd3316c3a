#include "image/auth.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "image/digest.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/text.h"

namespace husk::image {
namespace {

using json = nlohmann::json;

bool is_tchar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::optional<json> read_json_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    try {
        return json::parse(ss.str());
    } catch (const json::exception& e) {
        throw Error(fmt::format("auth file \"{}\": {}", path, e.what()));
    }
}

}  // namespace

std::vector<Challenge> parse_www_authenticate(std::string_view h) {
    std::vector<Challenge> out;
    size_t i = 0;
    auto skip_ws = [&] {
        while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) ++i;
    };
    auto token = [&] {
        size_t s = i;
        while (i < h.size() && is_tchar(h[i])) ++i;
        return std::string(h.substr(s, i - s));
    };
    auto fail = [&](std::string_view why) {
        throw Error(fmt::format("invalid WWW-Authenticate header \"{}\": {}", h, why));
    };
    while (true) {
        skip_ws();
        while (i < h.size() && h[i] == ',') {
            ++i;
            skip_ws();
        }
        if (i >= h.size()) break;
        Challenge c;
        c.scheme = sys::ascii_lower(token());
        if (c.scheme.empty()) fail("expected an auth scheme");
        // parameters: name=value, separated by commas, until the next scheme
        while (true) {
            skip_ws();
            size_t save = i;
            std::string name = token();
            skip_ws();
            if (name.empty() || i >= h.size() || h[i] != '=') {
                i = save;  // a new challenge (or token68, which registries do not use)
                break;
            }
            ++i;
            skip_ws();
            std::string value;
            if (i < h.size() && h[i] == '"') {
                ++i;
                bool closed = false;
                while (i < h.size()) {
                    char ch = h[i++];
                    if (ch == '\\' && i < h.size()) {
                        value += h[i++];
                    } else if (ch == '"') {
                        closed = true;
                        break;
                    } else {
                        value += ch;
                    }
                }
                if (!closed) fail("unterminated quoted string");
            } else {  // a token; be lenient with unquoted URLs
                size_t s = i;
                while (i < h.size() && h[i] != ',' && h[i] != ' ' && h[i] != '\t') ++i;
                value = std::string(h.substr(s, i - s));
            }
            c.params[sys::ascii_lower(name)] = value;
            skip_ws();
            if (i < h.size() && h[i] == ',') {
                ++i;
                continue;
            }
            break;
        }
        out.push_back(std::move(c));
        skip_ws();
        if (i < h.size() && !is_tchar(h[i]) && h[i] != ',') fail("unexpected character");
    }
    return out;
}

std::string docker_config_key(std::string_view registry) {
    if (registry == "docker.io") return "https://index.docker.io/v1/";
    return std::string(registry);
}

std::optional<Credentials> AuthFile::find(std::string_view registry) const {
    auto j = read_json_file(path_);
    if (!j || !j->is_object() || !j->contains("auths") || !(*j)["auths"].is_object())
        return std::nullopt;
    const json& auths = (*j)["auths"];
    // Keys may be "host", "https://host", "http://host/v1/"...
    for (auto& [key, val] : auths.items()) {
        std::string k = key;
        for (std::string_view p : {"https://", "http://"})
            if (k.starts_with(p)) k = k.substr(p.size());
        k = k.substr(0, k.find('/'));
        std::string want = registry == "docker.io" ? "index.docker.io" : std::string(registry);
        if (k != want && !(registry == "docker.io" && k == "docker.io")) continue;
        if (!val.is_object()) continue;
        Credentials c;
        if (val.contains("auth") && val["auth"].is_string()) {
            std::string dec = base64_decode(val["auth"].get<std::string>());
            size_t colon = dec.find(':');
            if (colon == std::string::npos)
                throw Error(fmt::format("auth file \"{}\": entry \"{}\": auth is not user:password",
                                        path_, key));
            c.username = dec.substr(0, colon);
            c.password = dec.substr(colon + 1);
        }
        if (val.contains("identitytoken") && val["identitytoken"].is_string())
            c.identity_token = val["identitytoken"].get<std::string>();
        if (c.username.empty() && c.identity_token.empty()) continue;
        return c;
    }
    return std::nullopt;
}

void AuthFile::store(std::string_view registry, const Credentials& c) {
    json j = read_json_file(path_).value_or(json::object());
    if (!j.is_object()) j = json::object();
    if (!j.contains("auths") || !j["auths"].is_object()) j["auths"] = json::object();
    j["auths"][docker_config_key(registry)] = {
        {"auth", base64_encode(c.username + ":" + c.password)}};
    sys::write_file_atomic(path_, j.dump(1, '\t') + "\n", 0600, true);
}

bool AuthFile::erase(std::string_view registry) {
    auto j = read_json_file(path_);
    if (!j || !j->contains("auths")) return false;
    auto& auths = (*j)["auths"];
    bool found = false;
    for (const std::string& key :
         {docker_config_key(registry), std::string(registry), "https://" + std::string(registry)}) {
        if (auths.contains(key)) {
            auths.erase(key);
            found = true;
        }
    }
    if (found) sys::write_file_atomic(path_, j->dump(1, '\t') + "\n", 0600, true);
    return found;
}

CredentialStore::CredentialStore(std::string husk_auth_file) : husk_(std::move(husk_auth_file)) {
    if (const char* dc = std::getenv("DOCKER_CONFIG"); dc && *dc)
        docker_.emplace(std::string(dc) + "/config.json");
    else if (const char* home = std::getenv("HOME"); home && *home)
        docker_.emplace(std::string(home) + "/.docker/config.json");
}

std::optional<Credentials> CredentialStore::find(std::string_view registry) const {
    if (auto c = husk_.find(registry)) return c;
    if (docker_) return docker_->find(registry);
    return std::nullopt;
}

}  // namespace husk::image
