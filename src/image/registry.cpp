#include "image/registry.h"

#include <curl/curl.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "image/digest.h"
#include "oci/image/types.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/text.h"

namespace husk::image {
namespace {

using json = nlohmann::json;
namespace media = oci::image::media;

constexpr int64_t kManifestMax = 4 << 20;  // the distribution spec's limit
constexpr int64_t kErrorBodyMax = 64 << 10;

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' '))
        s.remove_suffix(1);
    return std::string(s);
}

// "404 MANIFEST_UNKNOWN: manifest unknown" from a distribution error body.
std::string server_said(long status, const std::string& body) {
    std::string out = fmt::format("{}", status);
    switch (status) {
        case 401:
            out += " Unauthorized";
            break;
        case 403:
            out += " Forbidden";
            break;
        case 404:
            out += " Not Found";
            break;
        case 429:
            out += " Too Many Requests (rate limit)";
            break;
        default:
            break;
    }
    try {
        json j = json::parse(body);
        if (j.contains("errors") && j["errors"].is_array()) {
            for (auto& e : j["errors"]) {
                out += fmt::format(": {}", e.value("code", std::string("UNKNOWN")));
                if (e.contains("message") && e["message"].is_string())
                    out += ": " + e["message"].get<std::string>();
            }
            return out;
        }
    } catch (const json::exception&) {
    }
    std::string b = trim(body.substr(0, 200));
    if (!b.empty() && b.find('<') == std::string::npos) out += ": " + b;
    return out;
}

bool transient(CURLcode c) {
    switch (c) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_GOT_NOTHING:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_COULDNT_RESOLVE_HOST:
            return true;
        default:
            return false;
    }
}

void backoff(int attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250 << attempt));
}

}  // namespace

struct RegistryClient::Request {
    std::string method = "GET";  // GET, HEAD, POST, PUT, PATCH, DELETE
    std::string url;
    // Request body (POST, PUT, PATCH): `body_len` bytes of `body_fd` from `body_off`, or
    // `body_text`.
    int body_fd = -1;
    int64_t body_off = 0;
    int64_t body_len = 0;
    const std::string* body_text = nullptr;
    std::vector<std::string> headers;
    int64_t range_from = 0;                         // Range: bytes=N- when > 0
    std::function<void(const char*, size_t)> sink;  // 2xx body goes here when set
    int64_t max_body = kManifestMax;                // else collected up to this size
    bool authorize = true;                          // send our Authorization header
    std::string basic;                              // explicit "Basic x" (token requests)
    bool verify = true;
    // false: a transient failure is returned, not sent again as is (an upload session's
    // PATCH or closing PUT: the registry may have kept part of the body)
    bool resend = true;
};

struct RegistryClient::Result {
    CURLcode code = CURLE_OK;
    std::string curl_error;
    long status = 0;
    std::string body;
    std::string content_type;
    std::string docker_digest;
    std::string www_authenticate;
    std::string location;
    int64_t delivered = 0;  // bytes handed to the sink
    std::exception_ptr sink_error;
    bool too_big = false;
};

namespace {

struct Transfer {
    CURL* curl;
    const std::function<void(const char*, size_t)>* sink;
    int64_t max_body;
    int64_t skip;  // bytes to drop (a server ignoring our Range)
    bool range;
    long status = 0;
    std::string* body;
    int64_t* delivered;
    std::exception_ptr* sink_error;
    bool* too_big;
};

size_t on_data(char* ptr, size_t size, size_t n, void* ud) {
    auto* t = static_cast<Transfer*>(ud);
    size_t len = size * n;
    if (t->status == 0) curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->status);
    bool ok = t->status == 200 || t->status == 206;
    if (ok && t->sink != nullptr && *t->sink) {
        const char* p = ptr;
        size_t l = len;
        if (t->status == 200 && t->range && t->skip > 0) {
            size_t drop = std::min<size_t>(l, static_cast<size_t>(t->skip));
            t->skip -= static_cast<int64_t>(drop);
            p += drop;
            l -= drop;
        }
        if (l == 0) return len;
        try {
            (*t->sink)(p, l);
        } catch (...) {
            *t->sink_error = std::current_exception();
            return 0;
        }
        *t->delivered += static_cast<int64_t>(l);
        return len;
    }
    int64_t limit = ok ? t->max_body : kErrorBodyMax;
    if (static_cast<int64_t>(t->body->size() + len) > limit) {
        if (ok) {
            *t->too_big = true;
            return 0;
        }
        return len;  // keep the start of an error body only
    }
    t->body->append(ptr, len);
    return len;
}

// Aborts a transfer (even a stalled one) once the interrupt flag is set.
int on_progress(void* ud, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<const std::atomic<bool>*>(ud)->load() ? 1 : 0;
}

struct HeaderCapture {
    RegistryClient* self;
    std::string* content_type;
    std::string* docker_digest;
    std::string* www_authenticate;
    std::string* location;
};

// A request body read by libcurl: from a file (pread at an offset) or from memory.
struct Body {
    int fd;
    int64_t off;
    int64_t len;
    const std::string* text;
    int64_t pos = 0;
};

size_t on_read(char* buf, size_t size, size_t n, void* ud) {
    auto* b = static_cast<Body*>(ud);
    size_t want = std::min<size_t>(size * n, static_cast<size_t>(b->len - b->pos));
    if (want == 0) return 0;
    if (b->text != nullptr) {
        std::memcpy(buf, b->text->data() + b->pos, want);
        b->pos += static_cast<int64_t>(want);
        return want;
    }
    ssize_t got;
    do {
        got = ::pread(b->fd, buf, want, b->off + b->pos);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) return CURL_READFUNC_ABORT;  // the file shrank or failed: fail the request
    b->pos += got;
    return static_cast<size_t>(got);
}

size_t on_header(char* ptr, size_t size, size_t n, void* ud) {
    auto* h = static_cast<HeaderCapture*>(ud);
    std::string_view line(ptr, size * n);
    if (line.starts_with("HTTP/")) {  // a new response (after a redirect): forget the old
        h->content_type->clear();
        h->docker_digest->clear();
        h->www_authenticate->clear();
        h->location->clear();
        return size * n;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return size * n;
    std::string name = sys::ascii_lower(std::string(line.substr(0, colon)));
    std::string value = trim(line.substr(colon + 1));
    if (name == "content-type") *h->content_type = value;
    if (name == "docker-content-digest") *h->docker_digest = value;
    if (name == "www-authenticate" && h->www_authenticate->empty()) *h->www_authenticate = value;
    if (name == "location") *h->location = value;
    return size * n;
}

}  // namespace

RegistryClient::RegistryClient(std::string registry, std::string repository, RegistryOptions opts)
    : registry_(std::move(registry)), repository_(std::move(repository)), opts_(std::move(opts)) {
    global_init();
}

RegistryClient::~RegistryClient() = default;

std::string RegistryClient::describe(std::string_view what) const {
    return fmt::format("registry {}, repository \"{}\": {}", registry_, repository_, what);
}

std::optional<Credentials> RegistryClient::credentials() const {
    if (opts_.credentials) return opts_.credentials;
    if (opts_.credential_store) return opts_.credential_store->find(registry_);
    return std::nullopt;
}

RegistryClient::Result RegistryClient::perform(Request& req) {
    Result r;
    CURL* c = curl_easy_init();
    if (c == nullptr) throw Error("curl_easy_init failed");
    std::unique_ptr<CURL, void (*)(CURL*)> guard(c, curl_easy_cleanup);
    curl_slist* hdrs = nullptr;
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> hguard(nullptr, curl_slist_free_all);
    for (auto& h : req.headers) hdrs = curl_slist_append(hdrs, h.c_str());
    std::string auth;
    if (!req.basic.empty()) {
        auth = "Authorization: " + req.basic;
    } else if (req.authorize) {
        std::lock_guard lk(mu_);
        if (!authorization_.empty()) auth = "Authorization: " + authorization_;
    }
    if (!auth.empty()) hdrs = curl_slist_append(hdrs, auth.c_str());
    hguard.reset(hdrs);

    char errbuf[CURL_ERROR_SIZE] = {0};
    Transfer t{c, &req.sink, req.max_body, req.range_from, req.range_from > 0,
               0, &r.body,   &r.delivered, &r.sink_error,  &r.too_big};
    HeaderCapture hc{this, &r.content_type, &r.docker_digest, &r.www_authenticate, &r.location};
    Body body{req.body_fd, req.body_off,
              req.body_text != nullptr ? static_cast<int64_t>(req.body_text->size()) : req.body_len,
              req.body_text};
    std::string range = fmt::format("{}-", req.range_from);
    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hc);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "husk/" HUSK_VERSION);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, opts_.connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (req.range_from > 0) curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
    if (req.method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (req.method == "PUT" || req.method == "PATCH" ||
               (req.method == "POST" && body.len > 0)) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &body);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.len));
        if (req.method != "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    } else if (req.method == "POST") {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    } else if (req.method != "GET") {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }
    if (opts_.interrupt != nullptr) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, opts_.interrupt);
    }
    if (!req.verify) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    r.code = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    if (r.code != CURLE_OK) r.curl_error = errbuf[0] ? errbuf : curl_easy_strerror(r.code);
    return r;
}

std::string RegistryClient::endpoint() {
    {
        std::lock_guard lk(mu_);
        if (!base_.empty()) return base_;
    }
    std::string host = registry_ == "docker.io" ? "registry-1.docker.io" : registry_;
    bool insecure = !opts_.tls_verify || opts_.config.is_insecure(registry_);
    std::vector<std::string> schemes = {"https://"};
    if (insecure) schemes.push_back("http://");
    std::string last_error;
    CURLcode last_code = CURLE_OK;
    for (auto& scheme : schemes) {
        for (int attempt = 0;; ++attempt) {
            Request req;
            req.url = scheme + host + "/v2/";
            req.verify = !insecure;
            req.authorize = false;
            Result r = perform(req);
            if (r.code == CURLE_OK && r.status < 500 && r.status != 429) {
                bool need_auth;
                {
                    std::lock_guard lk(mu_);
                    base_ = scheme + host;
                    need_auth = authorization_.empty();
                }
                if (r.status == 401 && need_auth) authenticate(r.www_authenticate);
                return scheme + host;
            }
            last_error = r.code != CURLE_OK ? r.curl_error : server_said(r.status, r.body);
            last_code = r.code;
            // Over TLS to a plain-HTTP server: try the next scheme at once.
            bool next_scheme = r.code == CURLE_SSL_CONNECT_ERROR || r.code == CURLE_RECV_ERROR ||
                               r.code == CURLE_PEER_FAILED_VERIFICATION;
            if (insecure && scheme == "https://" && next_scheme) break;
            bool retry = (r.code != CURLE_OK && transient(r.code)) ||
                         (r.code == CURLE_OK && (r.status >= 500 || r.status == 429));
            if (!retry || attempt >= opts_.retries) break;
            backoff(attempt);
        }
    }
    if (!insecure && last_code == CURLE_SSL_CONNECT_ERROR && speaks_plain_http(host))
        throw Error(describe(
            fmt::format("{} answers over plain HTTP, not HTTPS: add \"{}\" to \"insecure\" in "
                        "registries.json, or pass --tls-verify=false",
                        host, registry_)));
    throw Error(describe(fmt::format("cannot reach {}: {}", host, last_error)));
}

bool RegistryClient::speaks_plain_http(const std::string& host) {
    Request req;
    req.url = fmt::format("http://{}/v2/", host);
    req.authorize = false;
    Result r = perform(req);
    return r.code == CURLE_OK && r.status > 0;
}

void RegistryClient::authenticate(const std::string& header) {
    if (header.empty())
        throw Error(describe("401 Unauthorized without a WWW-Authenticate challenge"));
    auto challenges = parse_www_authenticate(header);
    auto creds = credentials();
    for (auto& ch : challenges) {
        if (ch.scheme == "bearer") {
            auto realm = ch.params.find("realm");
            if (realm == ch.params.end()) throw Error(describe("bearer challenge without a realm"));
            CURL* c = curl_easy_init();
            auto esc = [&](const std::string& s) {
                char* e = curl_easy_escape(c, s.c_str(), static_cast<int>(s.size()));
                std::string out = e;
                curl_free(e);
                return out;
            };
            std::string url = realm->second;
            url += url.find('?') == std::string::npos ? "?" : "&";
            std::string scope = ch.params.count("scope") ? ch.params["scope"] : std::string();
            if (scope.empty() && !repository_.empty())
                scope =
                    fmt::format("repository:{}:{}", repository_, opts_.push ? "pull,push" : "pull");
            if (ch.params.count("service")) url += "service=" + esc(ch.params["service"]) + "&";
            // Several scopes (a cross-repository mount) are space-separated in the challenge
            // and one parameter each in the token request.
            for (size_t pos = 0; pos < scope.size();) {
                size_t sp = scope.find(' ', pos);
                if (sp == std::string::npos) sp = scope.size();
                if (sp > pos) url += "scope=" + esc(scope.substr(pos, sp - pos)) + "&";
                pos = sp + 1;
            }
            if (url.back() == '&') url.pop_back();
            curl_easy_cleanup(c);
            Request req;
            req.url = url;
            req.authorize = false;
            req.verify = verify_tls();
            req.max_body = 1 << 20;
            if (creds && !creds->username.empty())
                req.basic = "Basic " + base64_encode(creds->username + ":" + creds->password);
            Result r;
            for (int attempt = 0;; ++attempt) {
                r = perform(req);
                bool retry = (r.code != CURLE_OK && transient(r.code)) ||
                             (r.code == CURLE_OK && (r.status >= 500 || r.status == 429));
                if (!retry || attempt >= opts_.retries) break;
                backoff(attempt);
            }
            if (r.code != CURLE_OK)
                throw Error(
                    describe(fmt::format("token server {}: {}", realm->second, r.curl_error)));
            if (r.status != 200)
                throw Error(describe(fmt::format("token server {}: {}", realm->second,
                                                 server_said(r.status, r.body))));
            std::string token;
            try {
                json j = json::parse(r.body);
                token = j.value("token", std::string());
                if (token.empty()) token = j.value("access_token", std::string());
            } catch (const json::exception& e) {
                throw Error(describe(fmt::format("token server {}: {}", realm->second, e.what())));
            }
            if (token.empty())
                throw Error(
                    describe(fmt::format("token server {} returned no token", realm->second)));
            std::lock_guard lk(mu_);
            authorization_ = "Bearer " + token;
            return;
        }
        if (ch.scheme == "basic") {
            if (!creds || creds->username.empty())
                throw Error(describe(fmt::format(
                    "401 Unauthorized: the registry requires a login (husk login {})", registry_)));
            std::lock_guard lk(mu_);
            authorization_ = "Basic " + base64_encode(creds->username + ":" + creds->password);
            return;
        }
    }
    throw Error(describe(fmt::format("unsupported authentication challenge \"{}\"", header)));
}

RegistryClient::Result RegistryClient::perform_with_auth(Request& req) {
    bool reauthenticated = false;
    for (int attempt = 0;; ++attempt) {
        Result r = perform(req);
        if (r.sink_error) std::rethrow_exception(r.sink_error);
        if (opts_.interrupt != nullptr && opts_.interrupt->load()) throw Error("interrupted");
        if (r.code != CURLE_OK) {
            if (r.too_big) throw Error(describe(fmt::format("{}: response too large", req.url)));
            if (transient(r.code) && !req.resend) return r;
            if (transient(r.code) && attempt < opts_.retries) {
                if (req.sink && r.delivered > 0) {
                    req.range_from += r.delivered;  // resume where the transfer broke
                    log::debug("resuming {} at byte {}", req.url, req.range_from);
                }
                backoff(attempt);
                continue;
            }
            throw Error(describe(r.curl_error));
        }
        if (r.status == 401 && !reauthenticated) {
            authenticate(r.www_authenticate);
            reauthenticated = true;
            --attempt;
            continue;
        }
        if ((r.status >= 500 || r.status == 429) && req.resend && attempt < opts_.retries) {
            backoff(attempt);
            continue;
        }
        return r;
    }
}

RegistryClient::Response RegistryClient::get_manifest(const std::string& reference) {
    Request req;
    req.url = fmt::format("{}/v2/{}/manifests/{}", endpoint(), repository_, reference);
    req.headers.push_back(fmt::format("Accept: {}, {}, {}, {}", media::kOciIndex,
                                      media::kOciManifest, media::kDockerList,
                                      media::kDockerManifest));
    req.verify = verify_tls();
    Result r = perform_with_auth(req);
    if (r.status != 200)
        throw Error(
            describe(fmt::format("manifest \"{}\": {}", reference, server_said(r.status, r.body))));
    return Response{std::move(r.body), std::move(r.content_type), std::move(r.docker_digest)};
}

std::string RegistryClient::get_blob(const std::string& digest, int64_t max_size) {
    Request req;
    req.url = fmt::format("{}/v2/{}/blobs/{}", endpoint(), repository_, digest);
    req.verify = verify_tls();
    req.max_body = max_size;
    Result r = perform_with_auth(req);
    if (r.status != 200)
        throw Error(describe(fmt::format("blob {}: {}", digest, server_said(r.status, r.body))));
    return std::move(r.body);
}

void RegistryClient::stream_blob(const std::string& digest, int64_t offset,
                                 const std::function<void(const char*, size_t)>& sink) {
    Request req;
    req.url = fmt::format("{}/v2/{}/blobs/{}", endpoint(), repository_, digest);
    req.verify = verify_tls();
    req.range_from = offset;
    req.sink = sink;
    Result r = perform_with_auth(req);
    if (r.status != 200 && r.status != 206)
        throw Error(describe(fmt::format("blob {}: {}", digest, server_said(r.status, r.body))));
}

void RegistryClient::ping() {
    endpoint();
    Request req;
    req.url = endpoint() + "/v2/";
    req.verify = verify_tls();
    Result r = perform_with_auth(req);
    if (r.status != 200) throw Error(describe(server_said(r.status, r.body)));
}

// --- the upload half (`husk push`) ---

bool RegistryClient::verify_tls() const {
    return opts_.tls_verify && !opts_.config.is_insecure(registry_);
}

// An upload session's Location may be relative to the registry or a full URL.
std::string RegistryClient::absolute(const std::string& location) {
    if (location.empty()) throw Error(describe("upload session without a Location header"));
    if (location.starts_with("http://") || location.starts_with("https://")) return location;
    return endpoint() + (location.starts_with("/") ? "" : "/") + location;
}

bool RegistryClient::has_blob(const std::string& digest) {
    Request req;
    req.method = "HEAD";
    req.url = fmt::format("{}/v2/{}/blobs/{}", endpoint(), repository_, digest);
    req.verify = verify_tls();
    Result r = perform_with_auth(req);
    if (r.status == 200) return true;
    if (r.status == 404) return false;
    throw Error(describe(fmt::format("blob {}: {}", digest, server_said(r.status, r.body))));
}

bool RegistryClient::upload_blob(int fd, int64_t size, const std::string& digest, int64_t chunk,
                                 const std::string& mount_from,
                                 const std::function<void(int64_t)>& progress) {
    if (chunk <= 0) throw Error(fmt::format("upload chunk size {}: must be positive", chunk));
    // A PATCH or closing PUT that broke cannot be sent again in its session (the registry
    // may have appended part of it: 416 or DIGEST_INVALID): the blob starts over in a new one.
    for (int attempt = 0;; ++attempt) {
        Result failed;
        if (auto mounted = upload_session(fd, size, digest, chunk, mount_from, progress, failed))
            return *mounted;
        std::string why =
            failed.code != CURLE_OK ? failed.curl_error : server_said(failed.status, failed.body);
        if (attempt >= opts_.retries)
            throw Error(describe(fmt::format("upload blob {}: {}", digest, why)));
        log::debug("upload blob {}: {}; starting a new upload session", digest, why);
        backoff(attempt);
    }
}

std::optional<bool> RegistryClient::upload_session(int fd, int64_t size, const std::string& digest,
                                                   int64_t chunk, const std::string& mount_from,
                                                   const std::function<void(int64_t)>& progress,
                                                   Result& failed) {
    auto what = [&](const Result& r) {
        return describe(fmt::format("upload blob {}: {}", digest, server_said(r.status, r.body)));
    };
    // A transient failure of a request that carried part of the blob.
    auto broke = [](const Result& r) {
        return r.code != CURLE_OK || r.status >= 500 || r.status == 429;
    };
    Request post;
    post.method = "POST";
    post.url = fmt::format("{}/v2/{}/blobs/uploads/", endpoint(), repository_);
    if (!mount_from.empty()) post.url += fmt::format("?mount={}&from={}", digest, mount_from);
    post.verify = verify_tls();
    Result r = perform_with_auth(post);
    if (r.status == 201 && !mount_from.empty()) return true;
    if (r.status != 202) throw Error(what(r));
    std::string location = absolute(r.location);
    auto with_digest = [&](const std::string& loc) {
        return fmt::format("{}{}digest={}", loc, loc.find('?') == std::string::npos ? '?' : '&',
                           digest);
    };
    Request put;
    put.method = "PUT";
    put.verify = verify_tls();
    put.resend = false;
    put.headers = {"Content-Type: application/octet-stream", "Expect:"};
    put.body_fd = fd;
    if (size <= chunk) {  // monolithic: the whole blob in the closing PUT
        put.body_len = size;
    } else {
        for (int64_t off = 0; off < size; off += chunk) {
            Request patch;
            patch.method = "PATCH";
            patch.url = location;
            patch.verify = verify_tls();
            patch.resend = false;
            patch.body_fd = fd;
            patch.body_off = off;
            patch.body_len = std::min(chunk, size - off);
            patch.headers = {"Content-Type: application/octet-stream", "Expect:",
                             fmt::format("Content-Range: {}-{}", off, off + patch.body_len - 1)};
            patch.max_body = kErrorBodyMax;
            r = perform_with_auth(patch);
            if (broke(r)) {
                failed = std::move(r);
                return std::nullopt;
            }
            if (r.status != 202) throw Error(what(r));
            location = absolute(r.location);
            if (progress) progress(off + patch.body_len);
        }
    }
    put.url = with_digest(location);
    put.max_body = kErrorBodyMax;
    r = perform_with_auth(put);
    if (broke(r)) {
        failed = std::move(r);
        return std::nullopt;
    }
    if (r.status != 201) throw Error(what(r));
    if (!r.docker_digest.empty() && r.docker_digest != digest)
        throw Error(describe(
            fmt::format("upload blob {}: the registry stored it as {}", digest, r.docker_digest)));
    if (progress) progress(size);
    return false;
}

std::string RegistryClient::put_manifest(const std::string& reference,
                                         const std::string& media_type, const std::string& body) {
    Request req;
    req.method = "PUT";
    req.url = fmt::format("{}/v2/{}/manifests/{}", endpoint(), repository_, reference);
    req.verify = verify_tls();
    req.headers = {fmt::format("Content-Type: {}", media_type), "Expect:"};
    req.body_text = &body;
    req.max_body = kErrorBodyMax;
    Result r = perform_with_auth(req);
    if (r.status != 201)
        throw Error(
            describe(fmt::format("manifest \"{}\": {}", reference, server_said(r.status, r.body))));
    return r.docker_digest;
}

}  // namespace husk::image
