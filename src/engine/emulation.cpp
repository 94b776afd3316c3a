#include "engine/emulation.h"

#include <array>
#include <charconv>
#include <cstdint>

#include <sys/personality.h>

#include <fmt/format.h>

#include "sys/error.h"
#include "sys/fileutil.h"

namespace husk::engine {
namespace {

namespace oi = oci::image;

// "7f454c46..." -> bytes; throws on an odd length or a non-hex digit.
std::string unhex(std::string_view s, std::string_view field) {
    auto digit = [&](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        throw Error(fmt::format("binfmt_misc {}: \"{}\" is not hex", field, s));
    };
    if (s.size() % 2 != 0) throw Error(fmt::format("binfmt_misc {}: odd length", field));
    std::string out;
    for (size_t i = 0; i < s.size(); i += 2)
        out.push_back(static_cast<char>(digit(s[i]) * 16 + digit(s[i + 1])));
    return out;
}

struct ElfMachine {
    std::string_view arch;  // GOARCH name
    uint8_t elf_class;      // 1: 32-bit, 2: 64-bit
    bool big_endian;
    uint16_t machine;  // e_machine
};

// The ELF machine of each architecture an image may name (GOARCH names, as the image
// spec's platform.architecture).
constexpr std::array<ElfMachine, 12> kMachines{{
    {"amd64", 2, false, 62},
    {"386", 1, false, 3},
    {"arm64", 2, false, 183},
    {"arm", 1, false, 40},
    {"ppc64le", 2, false, 21},
    {"ppc64", 2, true, 21},
    {"s390x", 2, true, 22},
    {"riscv64", 2, false, 243},
    {"mips64le", 2, false, 8},
    {"mips64", 2, true, 8},
    {"mipsle", 1, false, 8},
    {"loong64", 2, false, 258},
}};

}  // namespace

BinfmtEntry parse_binfmt_entry(std::string_view name, std::string_view text) {
    BinfmtEntry e;
    e.name = name;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view l = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (l == "enabled") {
            e.enabled = true;
        } else if (l.starts_with("interpreter ")) {
            e.interpreter = l.substr(12);
        } else if (l.starts_with("flags: ")) {
            e.flags = l.substr(7);
        } else if (l.starts_with("offset ")) {
            std::string_view v = l.substr(7);
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), e.offset);
            if (ec != std::errc() || end != v.data() + v.size() || v.empty())
                throw Error(fmt::format("binfmt_misc {}: offset \"{}\" is not a number", name, v));
        } else if (l.starts_with("magic ")) {
            e.magic = unhex(l.substr(6), "magic");
        } else if (l.starts_with("mask ")) {
            e.mask = unhex(l.substr(5), "mask");
        }
    }
    if (e.mask.empty()) e.mask.assign(e.magic.size(), '\xff');
    return e;
}

std::optional<std::string> elf_header(const oi::Platform& p) {
    for (auto& m : kMachines) {
        if (m.arch != p.architecture) continue;
        std::string h(20, '\0');
        h[0] = '\x7f';
        h[1] = 'E';
        h[2] = 'L';
        h[3] = 'F';
        h[4] = static_cast<char>(m.elf_class);
        h[5] = static_cast<char>(m.big_endian ? 2 : 1);
        h[6] = 1;  // EV_CURRENT
        auto put16 = [&](size_t at, uint16_t v) {
            h[at + (m.big_endian ? 1 : 0)] = static_cast<char>(v & 0xff);
            h[at + (m.big_endian ? 0 : 1)] = static_cast<char>(v >> 8);
        };
        put16(16, 2);  // ET_EXEC
        put16(18, m.machine);
        return h;
    }
    return std::nullopt;
}

bool binfmt_takes(const BinfmtEntry& e, std::string_view header) {
    if (e.magic.empty() || e.offset + e.magic.size() > header.size()) return false;
    for (size_t i = 0; i < e.magic.size(); ++i)
        if ((header[e.offset + i] & e.mask[i]) != (e.magic[i] & e.mask[i])) return false;
    return true;
}

bool runs_natively(const oi::Platform& p, const oi::Platform& host) {
    // os and architecture only: a variant names the CPU features a program may use (amd64
    // v3, arm v6), which this machine's own architecture runs or faults on, as docker runs it
    oi::Platform want{
        p.os.empty() ? "linux" : p.os, oi::normalise_arch(p.architecture), {}, {}, {}};
    if (oi::platform_matches(want, host)) return true;
    if (want.os != host.os || want.architecture.empty()) return false;
    // the 32-bit companion the kernel runs itself: i386 programs on amd64 (IA32 emulation,
    // which a kernel may lack: the exec then fails), arm ones on arm64 when the kernel has
    // its 32-bit compat (PER_LINUX32 is accepted then)
    if (host.architecture == "amd64") return want.architecture == "386";
    if (host.architecture != "arm64" || want.architecture != "arm") return false;
    int current = ::personality(0xffffffff);
    if (current < 0 || ::personality(PER_LINUX32) < 0) return false;
    ::personality(static_cast<unsigned long>(current));
    return true;
}

void require_runnable(const oi::Platform& p, std::string_view what, std::string_view binfmt_dir) {
    oi::Platform host = oi::host_platform();
    if (runs_natively(p, host)) return;
    std::string dir(binfmt_dir);
    auto refuse = [&](const std::string& why) {
        throw Error(fmt::format("{} cannot run on this {} machine: {}", what, host.str(), why));
    };
    std::optional<std::string> header = elf_header(p);
    if (!header)
        refuse(fmt::format("husk knows no ELF machine for architecture {}", p.architecture));
    auto status = sys::read_file_if_exists(dir + "/status");
    if (!status)
        refuse(
            fmt::format("{} is not mounted (mount -t binfmt_misc binfmt_misc {}, then install "
                        "qemu-user-static and binfmt-support)",
                        dir, dir));
    if (!status->starts_with("enabled"))
        refuse(fmt::format("binfmt_misc is disabled ({}/status)", dir));
    std::optional<BinfmtEntry> disabled, no_f;
    for (auto& name : sys::list_dir(dir)) {
        if (name == "status" || name == "register") continue;
        auto text = sys::read_file_if_exists(fmt::format("{}/{}", dir, name));
        if (!text) continue;  // unregistered meanwhile
        BinfmtEntry e = parse_binfmt_entry(name, *text);
        if (!binfmt_takes(e, *header)) continue;
        if (!e.enabled) {
            disabled = e;
            continue;
        }
        if (e.flags.find('F') == std::string::npos) {
            no_f = e;  // another handler may have it
            continue;
        }
        return;
    }
    if (no_f)
        refuse(fmt::format(
            "the binfmt_misc handler {} has no F flag, so its interpreter {} is looked for "
            "inside the container (register it with F: Debian's qemu-user-static does)",
            no_f->name, no_f->interpreter));
    if (disabled)
        refuse(
            fmt::format("the binfmt_misc handler {} for {} programs is disabled "
                        "(update-binfmts --enable {})",
                        disabled->name, p.str(), disabled->name));
    refuse(
        fmt::format("no binfmt_misc handler runs {} programs (install qemu-user-static and "
                    "binfmt-support)",
                    p.str()));
}

}  // namespace husk::engine
