// Programs of another platform run through the kernel's binfmt_misc, as docker buildx and
// podman run them: when a handler (Debian's qemu-user-static registers one per CPU, with
// the F flag so the kernel opens its interpreter at registration and it works inside a
// container's root) takes the platform's ELF executables, a container of that platform just
// runs; the runtime core needs nothing of its own (the emulator makes the host's syscalls,
// which the host arch's seccomp filter sees).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "oci/image/types.h"

namespace husk::engine {

inline constexpr std::string_view kBinfmtDir = "/proc/sys/fs/binfmt_misc";

// One handler as /proc/sys/fs/binfmt_misc/NAME shows it (a magic-number one; extension
// handlers have no magic).
struct BinfmtEntry {
    std::string name;
    bool enabled = false;
    std::string interpreter;
    std::string flags;  // "PF", "OCF", ...
    size_t offset = 0;
    std::string magic;  // bytes
    std::string mask;   // bytes, as long as magic (all 0xff when the entry has none)
};

BinfmtEntry parse_binfmt_entry(std::string_view name, std::string_view text);

// The first bytes of an ELF executable of `p` (identification, e_type, e_machine); nullopt
// for an architecture husk has no ELF machine for.
std::optional<std::string> elf_header(const oci::image::Platform& p);

// Does the handler take `header` (the kernel's test: magic at offset under the mask)?
bool binfmt_takes(const BinfmtEntry& e, std::string_view header);

// Does this machine run programs of `p` itself? Its os (empty: linux) and architecture,
// whatever the variant, or the 32-bit architecture its kernel runs beside its own (386 on
// amd64, arm on arm64 with the kernel's 32-bit compat). `host`: this machine's platform.
bool runs_natively(const oci::image::Platform& p,
                   const oci::image::Platform& host = oci::image::host_platform());

// Throws one line when programs of `p` cannot run on this machine: `what` starts it ("RUN
// for linux/arm64", "image \"x\" (linux/arm64)"), then why and what to install or mount.
// What runs_natively takes always passes; a handler without the F flag is refused only
// when no other handler of the platform has it.
void require_runnable(const oci::image::Platform& p, std::string_view what,
                      std::string_view binfmt_dir = kBinfmtDir);

}  // namespace husk::engine
