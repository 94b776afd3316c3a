#include "image/digest.h"

#include <openssl/evp.h>

#include <utility>

#include <fmt/format.h>

#include "sys/error.h"

namespace husk::image {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1)
        throw Error("sha256: cannot initialise an OpenSSL digest context");
}

Sha256::~Sha256() {
    if (ctx_ != nullptr) EVP_MD_CTX_free(ctx_);
}

Sha256::Sha256(Sha256&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)) {}

Sha256& Sha256::operator=(Sha256&& o) noexcept {
    if (this != &o) {
        if (ctx_ != nullptr) EVP_MD_CTX_free(ctx_);
        ctx_ = std::exchange(o.ctx_, nullptr);
    }
    return *this;
}

void Sha256::update(const void* data, size_t len) {
    EVP_DigestUpdate(ctx_, data, len);
}

std::string Sha256::digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, md, &n);
    static const char* hex = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned i = 0; i < n; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

std::string sha256_digest(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.digest();
}

std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids) {
    std::vector<std::string> out;
    out.reserve(diff_ids.size());
    for (auto& d : diff_ids) out.push_back(out.empty() ? d : sha256_digest(out.back() + " " + d));
    return out;
}

std::string base64_encode(std::string_view in) {
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::string base64_decode(std::string_view in) {
    std::string s(in);
    while (s.size() % 4 != 0) s += '=';  // accept unpadded input
    std::string out(s.size() / 4 * 3 + 1, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(s.data()),
                            static_cast<int>(s.size()));
    if (n < 0) throw Error("invalid base64 data");
    size_t pad = 0;
    for (size_t i = s.size(); i > 0 && s[i - 1] == '='; --i) ++pad;
    out.resize(static_cast<size_t>(n) - std::min<size_t>(pad, 2));
    return out;
}

}  // namespace husk::image
