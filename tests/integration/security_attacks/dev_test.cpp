// CVE-2025-31133 class: /dev/null of the rootfs replaced (by a symlink to a procfs file,
// a plain file, another device) before the runtime bind-mounts it over the masked
// paths. CVE-2025-52565 class: the /dev/console bind target swapped for a symlink.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "attack_util.h"

using namespace husk::test;
using namespace husk::test::attack;
using nlohmann::json;

namespace {

// /dev comes from a directory of the bundle (a bind mount) instead of a fresh tmpfs,
// so the "image" decides what /dev/null is.
std::string dev_from_image(Bundle& b) {
    std::string dev = b.dir() + "/imagedev";
    ::mkdir(dev.c_str(), 0755);
    for (auto& m : b.config["mounts"])
        if (m["destination"] == "/dev")
            m = {{"destination", "/dev"},
                 {"type", "bind"},
                 {"source", dev},
                 {"options", {"rbind", "rw"}}};
    b.save();
    return dev;
}

// Either create refuses, or the masked paths really are masked (empty): never a
// procfs file (or anything else) bound over them.
void expect_masked_safely(Bundle& b, const std::string& what) {
    b.args({"/bin/husk-probe", "cat", "/proc/timer_list"});
    std::string id = b.id();
    Result r = b.runtime({"run", "--bundle", b.dir(), id});
    if (r.status != 0) {
        EXPECT_NE(r.err.find("/dev/null"), std::string::npos)
            << what << ": unclear error: " << r.err;
    } else {
        EXPECT_EQ(r.out, "") << what << ": a masked path shows another file's content";
    }
    EXPECT_EQ(b.runtime({"state", id}).status, 1);
}

}  // namespace

TEST(SecurityAttackCVE_2025_31133, DevNullSymlinkToAProcfsFileIsNotUsedForMasking) {
    Bundle b("sectests-nullsym");
    std::string dev = dev_from_image(b);
    ASSERT_EQ(::symlink("/proc/sys/kernel/core_pattern", (dev + "/null").c_str()), 0);
    expect_masked_safely(b, "/dev/null -> /proc/sys/kernel/core_pattern");
    // And the relative spelling.
    ::unlink((dev + "/null").c_str());
    ASSERT_EQ(::symlink("../proc/sys/kernel/core_pattern", (dev + "/null").c_str()), 0);
    expect_masked_safely(b, "/dev/null -> ../proc/sys/kernel/core_pattern");
}

TEST(SecurityAttackCVE_2025_31133, DevNullThatIsNotTheNullDeviceIsNotUsedForMasking) {
    Bundle b("sectests-nullfake");
    std::string dev = dev_from_image(b);
    std::string null = dev + "/null";
    write_file(null, "not the null device\n");
    expect_masked_safely(b, "/dev/null a regular file");
    ::unlink(null.c_str());
    ASSERT_EQ(::mknod(null.c_str(), S_IFCHR | 0666, makedev(1, 5)), 0);  // /dev/zero's numbers
    expect_masked_safely(b, "/dev/null a char device 1:5");
    ::unlink(null.c_str());
    ASSERT_EQ(::mkdir(null.c_str(), 0755), 0);
    expect_masked_safely(b, "/dev/null a directory");
}

TEST(SecurityAttackCVE_2025_31133, RealDevNullMasks) {
    // Control: with the real device in the image, masking works and the paths read empty.
    Bundle b("sectests-nullok");
    std::string dev = dev_from_image(b);
    ASSERT_EQ(::mknod((dev + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    b.args({"/bin/husk-probe", "cat", "/proc/timer_list"});
    Result r = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "");
}

namespace {

// A console socket: accepts one connection and keeps the pty master it receives.
struct ConsoleSocket {
    std::string path;
    int listener = -1;
    int master = -1;
    std::thread t;
    explicit ConsoleSocket(const std::string& p) : path(p) {
        listener = listen_unix(path);
        t = std::thread([this] {
            std::string data;
            master = accept_fd(listener, &data);
        });
    }
    ~ConsoleSocket() {
        ::shutdown(listener, SHUT_RDWR);
        ::close(listener);
        if (t.joinable()) t.join();
        if (master >= 0) ::close(master);
    }
};

}  // namespace

namespace {

// create + start with a terminal; returns create's result and, when it worked, what the
// container printed on its console.
Result run_with_console(Bundle& b, std::string* console) {
    b.config["process"]["terminal"] = true;
    b.args({"/bin/stat", "-L", "-c", "%F %t", "/dev/console"});
    ConsoleSocket sock(b.dir() + "/console.sock");
    std::string id = b.id();
    Result r = b.runtime({"create", "--bundle", b.dir(), "--console-socket", sock.path, id});
    if (r.status != 0) return r;
    for (int i = 0; i < 250 && sock.master < 0; ++i) ::usleep(20000);
    EXPECT_EQ(b.runtime({"start", id}).status, 0);
    for (int i = 0; i < 100 && sock.master >= 0; ++i) {
        char buf[256];
        ssize_t n = ::read(sock.master, buf, sizeof buf);
        if (n <= 0) break;
        console->append(buf, static_cast<size_t>(n));
        if (console->find('\n') != std::string::npos) break;
    }
    b.runtime({"delete", "--force", id});
    return r;
}

}  // namespace

TEST(SecurityAttackCVE_2025_52565, DevConsoleSwappedForASymlinkIsNotBound) {
    Bundle b("sectests-console");
    std::string dev = dev_from_image(b);
    ASSERT_EQ(::mknod((dev + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    ASSERT_EQ(::symlink("pts/ptmx", (dev + "/ptmx").c_str()), 0);
    // The image's /dev/console points at a procfs file the container could then write.
    ASSERT_EQ(::symlink("/proc/sys/kernel/core_pattern", (dev + "/console").c_str()), 0);
    std::string core_before = read_file("/proc/sys/kernel/core_pattern");
    std::string console;
    Result r = run_with_console(b, &console);
    if (r.status != 0 && not_supported(r))
        GTEST_SKIP() << "husk-runtime does not implement terminals (/dev/console) yet: " << r.err;
    if (r.status != 0) {
        EXPECT_NE(r.err.find("/dev/console"), std::string::npos) << r.err;
    } else {
        // /dev/console must be the pty (char major 136 = 0x88), never the symlink's target.
        EXPECT_NE(console.find("character special file 88"), std::string::npos) << console;
    }
    EXPECT_EQ(read_file("/proc/sys/kernel/core_pattern"), core_before);
    EXPECT_TRUE(list_dir(b.rootfs() + "/proc").empty());
}

TEST(SecurityAttackCVE_2025_52565, DevConsoleIsThePty) {
    // Control: with the runtime's own /dev the console works and is the pty.
    Bundle b("sectests-consoleok");
    std::string console;
    Result r = run_with_console(b, &console);
    if (r.status != 0 && not_supported(r)) GTEST_SKIP() << "no terminals yet: " << r.err;
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(console.find("character special file 88"), std::string::npos) << console;
}
