// Shared pieces of the attack-class tests: running a container to completion and
// reading the probe's report, small file helpers, capability lists.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness.h"

namespace husk::test::attack {

std::string attacker_bin();

// `run` the bundle's container (fresh id) and return the last JSON line it printed; fails
// the test (ADD_FAILURE) and returns null when there is none.
nlohmann::json run_probe(Bundle& b, int timeout_s = 30);
// `create` (fresh id in *id); returns the runtime's result.
Result create(const Bundle& b, std::string* id);

void write_file(const std::string& path, const std::string& data, int mode = 0644);

// Every capability the running kernel knows and this process holds, by OCI name.
std::vector<std::string> all_capabilities();
// Set all five capability sets of process.capabilities to `names`.
void set_all_caps(nlohmann::json& config, const std::vector<std::string>& names);
// Drop a namespace from linux.namespaces.
void drop_namespace(nlohmann::json& config, const std::string& type);
// Capability mask as /proc/PID/status prints it ("00000000a80425fb").
std::string cap_hex(const std::vector<int>& caps);

// A listening unix stream socket at `path` (-1 on failure).
int listen_unix(const std::string& path);
// Accept one connection on `listener` and receive one message carrying an fd (SCM_RIGHTS):
// returns the fd (-1 if none) and stores the message's bytes in *data.
int accept_fd(int listener, std::string* data);

// Does the runtime's error output say the feature is not implemented yet?
bool not_supported(const Result& r);

}  // namespace husk::test::attack
