// Container state as JSON: what hooks read on stdin, and what `state` prints.
#include "oci/state.h"

#include <nlohmann/json.hpp>

namespace husk::oci {

std::string dump_hook_state(const State& s) {
    nlohmann::ordered_json o{{"ociVersion", s.oci_version}, {"id", s.id}, {"status", s.status}};
    if (s.pid != 0) o["pid"] = s.pid;
    o["bundle"] = s.bundle;
    if (!s.annotations.empty()) o["annotations"] = s.annotations;
    return o.dump();
}

std::string dump_state(const State& s) {
    // runc's field order and 2-space indentation; pid is always present (0 when none).
    nlohmann::ordered_json o{
        {"ociVersion", s.oci_version}, {"id", s.id},         {"pid", s.pid},
        {"status", s.status},          {"bundle", s.bundle}, {"rootfs", s.rootfs},
        {"created", s.created},        {"owner", s.owner}};
    if (!s.annotations.empty()) o["annotations"] = s.annotations;
    return o.dump(2) + "\n";
}

}  // namespace husk::oci
