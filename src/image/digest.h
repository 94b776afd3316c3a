// sha256 through OpenSSL's EVP interface, and the digests built from it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct evp_md_ctx_st;

namespace husk::image {

class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;
    void update(const void* data, size_t len);
    void update(std::string_view s) { update(s.data(), s.size()); }
    // "sha256:<hex>"; the object cannot be updated afterwards.
    std::string digest();

  private:
    evp_md_ctx_st* ctx_;
};

std::string sha256_digest(std::string_view data);

// The chain ids of a layer stack (OCI image spec): chain[0] = diff_ids[0],
// chain[n] = sha256(chain[n-1] + " " + diff_ids[n]).
std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids);

std::string base64_encode(std::string_view in);
// Throws husk::Error on malformed input.
std::string base64_decode(std::string_view in);

}  // namespace husk::image
