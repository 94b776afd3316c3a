// Helpers shared by the image subcommands.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/husk/command.h"
#include "cli/template/template.h"
#include "image/registry.h"

namespace husk::cli {

// Flags every registry-talking command takes.
struct RegistryFlags {
    bool tls_verify = true;
    CLI::Option* tls_verify_flag = nullptr;  // given explicitly: loopback registries verified too
    std::string creds;                       // "user:password"
    void add(CLI::App* sub);
    image::RegistryOptions options(Context& ctx, image::CredentialStore& creds_store) const;
};

std::string human_size(uint64_t bytes);            // docker's SI units: "4.26MB"
std::string binary_size(uint64_t bytes);           // docker's binary units: "1.523MiB"
std::string time_ago(const std::string& rfc3339);  // "3 days ago"; "" -> "N/A"
long seconds_since(const std::string& rfc3339);    // -1 when it does not parse
// docker's durations: "Less than a second", "5 seconds", "About a minute", "3 hours".
std::string human_duration(long seconds);
std::string short_id(const std::string& digest);  // 12 hex digits
bool stdout_is_tty();

using Labels = std::map<std::string, std::string>;
// docker's LABELS column: "a=1,b=2" in key order.
std::string labels_text(const Labels& labels);
// docker's `{{.Label "KEY"}}` on the rows of a listing whose row i has labels[i]: the
// value, "" when the row has no such label. `labels` must outlive the formatting.
tmpl::Methods label_methods(const std::vector<Labels>& labels);

}  // namespace husk::cli
