// cgroup v2 devices: our generated eBPF program, attached to the cgroup directory.
#include <fcntl.h>

#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/v2/bpf.h"
#include "sys/error.h"

namespace husk::runtime::cgroup::v2 {

void devices(const std::string& dir, const std::vector<oci::DeviceRule>& rules) {
    sys::UniqueFd cg(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cg) throw_sys("open", dir);
    auto prog = load_device_program(device_program(rules));
    replace_device_program(cg.get(), prog.get(), dir);
}

}  // namespace husk::runtime::cgroup::v2
