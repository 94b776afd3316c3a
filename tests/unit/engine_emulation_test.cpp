// Another platform's programs through binfmt_misc: which handler takes which platform's ELF
// executables, and the one line that says what is missing.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fmt/format.h>

#include "engine/emulation.h"
#include "error_of.h"
#include "sys/fileutil.h"

using namespace husk;
using namespace husk::engine;
namespace oi = husk::oci::image;

namespace {

// As Debian's qemu-user-static registers qemu-aarch64 (bookworm).
constexpr std::string_view kAarch64 =
    "enabled\n"
    "interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n"
    "flags: PF\n"
    "offset 0\n"
    "magic 7f454c460201010000000000000000000200b700\n"
    "mask ffffffffffffff00fffffffffffffffffeffffff\n";

oi::Platform other_platform() {
    return oi::parse_platform(oi::host_platform().architecture == "arm64" ? "linux/amd64"
                                                                          : "linux/arm64");
}

std::string other_entry() {
    if (oi::host_platform().architecture != "arm64") return std::string(kAarch64);
    return "enabled\ninterpreter /usr/libexec/qemu-binfmt/x86_64-binfmt-P\nflags: PF\noffset 0\n"
           "magic 7f454c4602010100000000000000000002003e00\n"
           "mask fffffffffffefefcfffffffffffffffffeffffff\n";
}

struct BinfmtDir {
    std::string path;
    BinfmtDir() {
        std::string t = "/tmp/husk-binfmt-XXXXXX";
        path = ::mkdtemp(t.data());
    }
    ~BinfmtDir() { sys::remove_all(path); }
    BinfmtDir(const BinfmtDir&) = delete;
    BinfmtDir& operator=(const BinfmtDir&) = delete;
    void put(const std::string& name, std::string_view text) const {
        sys::write_file(path + "/" + name, std::string(text));
    }
};

}  // namespace

TEST(Emulation, ParsesQemuEntry) {
    BinfmtEntry e = parse_binfmt_entry("qemu-aarch64", kAarch64);
    EXPECT_TRUE(e.enabled);
    EXPECT_EQ(e.interpreter, "/usr/libexec/qemu-binfmt/aarch64-binfmt-P");
    EXPECT_EQ(e.flags, "PF");
    EXPECT_EQ(e.offset, 0U);
    EXPECT_EQ(e.magic.size(), 20U);
    EXPECT_EQ(e.mask.size(), 20U);
}

TEST(Emulation, HandlerTakesItsMachineOnly) {
    BinfmtEntry e = parse_binfmt_entry("qemu-aarch64", kAarch64);
    EXPECT_TRUE(binfmt_takes(e, *elf_header(oi::parse_platform("linux/arm64"))));
    EXPECT_TRUE(binfmt_takes(e, *elf_header(oi::parse_platform("linux/arm64/v8"))));
    EXPECT_FALSE(binfmt_takes(e, *elf_header(oi::parse_platform("linux/amd64"))));
    EXPECT_FALSE(binfmt_takes(e, *elf_header(oi::parse_platform("linux/arm/v7"))));
    EXPECT_FALSE(binfmt_takes(e, *elf_header(oi::parse_platform("linux/s390x"))));
    EXPECT_FALSE(elf_header(oi::parse_platform("linux/wasm")));
    // an extension handler (no magic) takes nothing
    EXPECT_FALSE(binfmt_takes(parse_binfmt_entry("jar", "enabled\nextension .jar\n"),
                              *elf_header(oi::parse_platform("linux/arm64"))));
}

TEST(Emulation, BigEndianMachine) {
    std::string h = *elf_header(oi::parse_platform("linux/s390x"));
    EXPECT_EQ(h[5], 2);  // ELFDATA2MSB
    EXPECT_EQ(h[18], 0);
    EXPECT_EQ(h[19], 22);
}

TEST(Emulation, HostPlatformNeedsNothing) {
    EXPECT_EQ(error_of([] { require_runnable(oi::host_platform(), "RUN", "/nonexistent"); }), "");
}

TEST(Emulation, SaysWhatIsMissing) {
    oi::Platform p = other_platform();
    std::string head = fmt::format("RUN for {} cannot run on this {} machine: ", p.str(),
                                   oi::host_platform().str());
    std::string what = fmt::format("RUN for {}", p.str());
    EXPECT_EQ(error_of([&] { require_runnable(p, what, "/nonexistent"); }),
              head +
                  "/nonexistent is not mounted (mount -t binfmt_misc binfmt_misc /nonexistent, "
                  "then install qemu-user-static and binfmt-support)");
    BinfmtDir d;
    d.put("status", "enabled\n");
    d.put("register", "");
    EXPECT_EQ(error_of([&] { require_runnable(p, what, d.path); }),
              head + fmt::format("no binfmt_misc handler runs {} programs (install "
                                 "qemu-user-static and binfmt-support)",
                                 p.str()));
    std::string entry = other_entry();
    d.put("qemu-x", "disabled\n" + entry.substr(entry.find('\n') + 1));
    EXPECT_EQ(error_of([&] { require_runnable(p, what, d.path); }),
              head + fmt::format("the binfmt_misc handler qemu-x for {} programs is disabled "
                                 "(update-binfmts --enable qemu-x)",
                                 p.str()));
    std::string no_f = entry;
    no_f.replace(no_f.find("flags: PF"), 9, "flags: P");
    d.put("qemu-x", no_f);
    EXPECT_NE(error_of([&] { require_runnable(p, what, d.path); }).find("has no F flag"),
              std::string::npos);
    d.put("qemu-x", entry);
    EXPECT_EQ(error_of([&] { require_runnable(p, what, d.path); }), "");
    d.put("status", "disabled\n");
    EXPECT_EQ(error_of([&] { require_runnable(p, what, d.path); }),
              head + fmt::format("binfmt_misc is disabled ({}/status)", d.path));
}

// What this machine runs itself needs no handler: its architecture whatever the variant,
// an image config without an os, and the 32-bit architecture its kernel runs beside its own.
TEST(Emulation, NativeNeedsNoHandler) {
    oi::Platform host = oi::host_platform();
    auto runs = [](const oi::Platform& p) {
        return error_of([&] { require_runnable(p, "RUN", "/nonexistent"); });
    };
    EXPECT_EQ(runs({host.os, host.architecture, "v3", {}, {}}), "");
    EXPECT_EQ(runs({host.os, host.architecture, "v6", {}, {}}), "");
    EXPECT_EQ(runs({"", host.architecture, {}, {}, {}}), "");
    EXPECT_NE(runs({"windows", host.architecture, {}, {}, {}}), "");
    EXPECT_NE(runs(other_platform()), "");
}

TEST(Emulation, NativeCompanion) {
    oi::Platform host = oi::host_platform();
    if (host.architecture == "amd64") {
        EXPECT_TRUE(runs_natively(oi::parse_platform("linux/386")));
        EXPECT_EQ(error_of([] { require_runnable(oi::parse_platform("linux/386"), "RUN", "/x"); }),
                  "");
    } else if (host.architecture == "arm64") {
        // arm runs natively exactly when the kernel takes PER_LINUX32 (its 32-bit compat)
        EXPECT_NO_THROW(runs_natively(oi::parse_platform("linux/arm/v7")));
    } else {
        GTEST_SKIP() << "no 32-bit companion known for " << host.str();
    }
    EXPECT_FALSE(runs_natively(
        oi::parse_platform(host.architecture == "amd64" ? "linux/arm" : "linux/386")));
}

// Several handlers for one machine: one with the F flag is enough, whichever comes first.
TEST(Emulation, LaterHandlerWithFlagF) {
    oi::Platform p = other_platform();
    BinfmtDir d;
    d.put("status", "enabled\n");
    std::string entry = other_entry();
    std::string no_f = entry;
    no_f.replace(no_f.find("flags: PF"), 9, "flags: P");
    d.put("a-no-f", no_f);
    d.put("z-with-f", entry);
    EXPECT_EQ(error_of([&] { require_runnable(p, "RUN", d.path); }), "");
    d.put("0-no-f", no_f);
    EXPECT_EQ(error_of([&] { require_runnable(p, "RUN", d.path); }), "");
}

TEST(Emulation, BadOffsetIsOneError) {
    EXPECT_EQ(error_of([] { parse_binfmt_entry("q", "enabled\noffset x\n"); }),
              "binfmt_misc q: offset \"x\" is not a number");
    EXPECT_EQ(error_of([] { parse_binfmt_entry("q", "enabled\noffset 3x\n"); }),
              "binfmt_misc q: offset \"3x\" is not a number");
}
