// The state of a container as the OCI runtime spec defines it (and runc's extras).
#pragma once

#include <map>
#include <string>

namespace husk::oci {

struct State {
    std::string oci_version;
    std::string id;
    std::string status;  // creating, created, running, stopped, paused
    int pid = 0;
    std::string bundle;
    std::map<std::string, std::string> annotations;
    // runc extras for `husk-runtime state`
    std::string rootfs;
    std::string created;  // RFC 3339
    std::string owner;
};

// The JSON the spec gives to hooks on stdin (ociVersion, id, status, pid, bundle, annotations).
std::string dump_hook_state(const State& s);
// The JSON `state` prints (indented), with runc's extra fields.
std::string dump_state(const State& s);

}  // namespace husk::oci
