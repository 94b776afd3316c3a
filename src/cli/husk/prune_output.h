// What the prune commands (container, image, system) and info share: docker's
// confirmation prompt, its "Deleted ...:" lists, and the info page.
#pragma once

#include <string>

#include "cli/husk/command.h"
#include "engine/prune.h"

namespace husk::cli {

// Asks "Are you sure you want to continue? [y/N]" after `warning` unless `force`.
bool confirmed(const std::string& warning, bool force);
// "Deleted Containers:" (or Images, Volumes) with one line each, then, with `total`,
// "Total reclaimed space: 1.2MB".
void print_prune(const char* what, const engine::PruneReport& r, bool total);
// `husk info` / `husk system info`.
int print_info(Context& ctx, const std::string& format);

}  // namespace husk::cli
