// linux.resources.unified: raw cgroup v2 "file": "value" settings (names validated before).
#include <fmt/format.h>

#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/file.h"
#include "sys/error.h"

namespace husk::runtime::cgroup::v2 {

void unified(const std::string& dir, const std::map<std::string, std::string>& values) {
    for (const auto& kv : values) {
        const std::string& key = kv.first;  // (no structured binding: captured below)
        if (!file_exists(dir, key))
            throw Error(
                fmt::format("linux.resources.unified \"{}\": no such file in \"{}\" (is its "
                            "controller available in cgroup v2?)",
                            key, dir),
                ENOENT);
        with_context(fmt::format("linux.resources.unified \"{}\"", key),
                     [&] { write_file(dir, key, kv.second); });
    }
}

}  // namespace husk::runtime::cgroup::v2
