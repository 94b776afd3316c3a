// Image references as docker parses them: "alpine" is
// docker.io/library/alpine:latest, "host:port/ns/name:tag", "name@sha256:…",
// "name:tag@sha256:…". parse_reference() normalises and validates; a
// malformed reference is one Error naming the input and what is wrong.
#pragma once

#include <string>
#include <string_view>

namespace husk::oci::image {

struct Reference {
    std::string domain;  // "docker.io", "localhost:5000"
    std::string path;    // "library/alpine"
    std::string tag;     // "latest"; empty when only a digest was given
    std::string digest;  // "sha256:<64 hex>" or empty

    // domain/path
    std::string name() const;
    // domain/path[:tag][@digest]: the canonical form
    std::string str() const;
    // What docker shows: "alpine:latest", "user/app:1", "host:5000/app:1".
    std::string familiar_name() const;
    // The tag or else the digest: what is asked of the registry.
    std::string tag_or_digest() const { return digest.empty() ? tag : digest; }
};

// Parses and normalises `s`. When neither tag nor digest is given the tag is "latest".
// Throws husk::Error: `invalid reference "Foo": repository name must be lowercase`.
Reference parse_reference(std::string_view s);

// True when `s` is "sha256:" followed by 64 lowercase hex digits (or another
// algorithm:hex digest with at least 32 hex digits).
bool is_valid_digest(std::string_view s);

// Throws unless `s` is a sha256 digest; returns the hex part.
std::string digest_hex(std::string_view s);

}  // namespace husk::oci::image
