// linux.seccomp <-> JSON through the oci module's parser and dumper, so a
// profile file (a bare linux.seccomp object) gets exactly the validation and
// error paths of a config.json.
#include <nlohmann/json.hpp>

#include "runtime/security/seccomp.h"
#include "sys/error.h"

namespace husk::runtime::security {

oci::Seccomp parse_seccomp_json(const std::string& json_text) {
    nlohmann::json profile;
    try {
        profile = nlohmann::json::parse(json_text);
    } catch (const nlohmann::json::parse_error& e) {
        throw Error(std::string("linux.seccomp: invalid JSON: ") + e.what());
    }
    nlohmann::json wrapper = {{"ociVersion", "1.0.0"},
                              {"linux", {{"seccomp", std::move(profile)}}}};
    oci::Spec spec = oci::parse_spec(wrapper.dump());
    return *spec.linux_->seccomp;
}

std::string dump_seccomp_json(const oci::Seccomp& profile) {
    oci::Spec spec;
    spec.oci_version = "1.0.0";
    spec.linux_.emplace().seccomp = profile;
    return oci::dump_spec(spec);
}

}  // namespace husk::runtime::security
