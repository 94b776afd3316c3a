// The cgroup v2 device controller is an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE)
// attached to the cgroup. We generate its instructions ourselves (no libbpf).
#pragma once

#include <linux/bpf.h>

#include <string>
#include <vector>

#include "oci/spec.h"
#include "sys/fd.h"

namespace husk::runtime::cgroup::v2 {

// The program for `rules`, OCI semantics: the last matching rule decides; a device no
// rule matches is allowed (as in a new v1 devices cgroup). An allow rule matches when it
// grants every access asked for; a deny rule when it names any of them.
std::vector<bpf_insn> device_program(const std::vector<oci::DeviceRule>& rules);

// BPF_PROG_LOAD; errors carry the verifier's log.
sys::UniqueFd load_device_program(const std::vector<bpf_insn>& prog);
// Attach `prog_fd` to the cgroup `cgroup_fd` (BPF_F_ALLOW_MULTI) and detach the device
// programs attached before, so exactly one of ours is in effect.
void replace_device_program(int cgroup_fd, int prog_fd, const std::string& dir);

}  // namespace husk::runtime::cgroup::v2
