// slirp4netns for --network slirp4netns (network/slirp.cpp): podman's options that husk
// does and the one-line refusals of the others, its command line, and the API request that
// publishes a port.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "network/slirp.h"
#include "sys/error.h"

namespace husk {
namespace {

std::string joined(const std::vector<std::string>& v) {
    return fmt::format("{}", fmt::join(v, " "));
}

std::string refusal(const std::string& options) {
    try {
        network::parse_slirp_options(options);
    } catch (const Error& e) {
        return e.what();
    }
    return "accepted";
}

TEST(NetworkSlirp, OptionsHuskDoes) {
    EXPECT_EQ(network::parse_slirp_options(""), network::SlirpOptions{});
    auto o = network::parse_slirp_options("allow_host_loopback=true,mtu=1500,enable_ipv6=true");
    EXPECT_TRUE(o.allow_host_loopback);
    EXPECT_EQ(o.mtu, 1500);
    EXPECT_TRUE(o.enable_ipv6);
    EXPECT_FALSE(network::parse_slirp_options("allow_host_loopback=false").allow_host_loopback);
    EXPECT_FALSE(network::parse_slirp_options("enable_ipv6=false").enable_ipv6);
    EXPECT_EQ(network::parse_slirp_options("port_handler=slirp4netns"), network::SlirpOptions{});
}

TEST(NetworkSlirp, OtherOptionsAreRefusedNamingThem) {
    EXPECT_EQ(refusal("port_handler=rootlesskit"),
              "slirp4netns option port_handler=rootlesskit is not supported: husk publishes "
              "ports through slirp4netns's API only (port_handler=slirp4netns)");
    EXPECT_EQ(refusal("cidr=10.5.0.0/24"),
              "slirp4netns option cidr is not supported by husk (allow_host_loopback, "
              "enable_ipv6, mtu, port_handler=slirp4netns are)");
    for (auto* o : {"outbound_addr=eth0", "outbound_addr6=::1"})
        EXPECT_NE(refusal(o).find("is not supported by husk"), std::string::npos) << o;
    EXPECT_EQ(refusal("allow_host_loopback=yes"),
              "slirp4netns option allow_host_loopback: expected true or false, got \"yes\"");
    EXPECT_EQ(refusal("enable_ipv6=1"),
              "slirp4netns option enable_ipv6: expected true or false, got \"1\"");
    EXPECT_EQ(refusal("mtu=67"),
              "slirp4netns option mtu: expected a number from 68 to 65521, got \"67\"");
    EXPECT_NE(refusal("mtu=1500x"), "accepted");
    EXPECT_EQ(refusal("nosuch=1"),
              "unknown slirp4netns option \"nosuch=1\" (allow_host_loopback, enable_ipv6, mtu, "
              "port_handler)");
}

TEST(NetworkSlirp, CommandLineJoinsTheInitsNamespacesThroughItsDirectory) {
    network::SlirpLaunch l{"/d", 5, 6, 7, true, false, false};
    EXPECT_EQ(joined(network::slirp_args("/usr/bin/slirp4netns", l, {})),
              "/usr/bin/slirp4netns --configure --mtu=65520 --ready-fd=6 "
              "--api-socket=/proc/self/fd/5/api.sock --exit-fd=7 --disable-host-loopback "
              "--userns-path=/d/userns --netns-type=path /d/netns tap0");
    network::SlirpOptions o;
    o.allow_host_loopback = true;
    o.mtu = 1500;
    o.enable_ipv6 = true;
    // in its sandbox it is started inside the user namespace: no --userns-path
    network::SlirpLaunch in{"/d", 5, 6, -1, false, true, true};
    EXPECT_EQ(joined(network::slirp_args("slirp4netns", in, o)),
              "slirp4netns --configure --mtu=1500 --ready-fd=6 "
              "--api-socket=/proc/self/fd/5/api.sock --enable-ipv6 --enable-sandbox "
              "--enable-seccomp --netns-type=path /d/netns tap0");
}

TEST(NetworkSlirp, FeaturesAreReadFromItsHelp) {
    auto f = network::slirp_features_of(
        "-e, --exit-fd=FD  specify the FD for terminating slirp4netns\n"
        "-6, --enable-ipv6  enable IPv6 (experimental)\n"
        "--enable-sandbox  create a new mount namespace\n");
    EXPECT_TRUE(f.exit_fd);
    EXPECT_TRUE(f.ipv6);
    EXPECT_TRUE(f.sandbox);
    EXPECT_FALSE(f.seccomp);
    auto old = network::slirp_features_of("-c, --configure  bring up the interface\n");
    EXPECT_FALSE(old.exit_fd || old.ipv6 || old.sandbox || old.seccomp);
}

TEST(NetworkSlirp, FeaturesCacheHoldsForThatBinaryOnly) {
    struct stat st {};
    st.st_dev = 65024;
    st.st_ino = 42;
    st.st_size = 77648;
    st.st_mtim = {1657867125, 5};
    network::SlirpFeatures f{true, false, true, true};
    std::string cache = network::slirp_features_cache(f, "/usr/bin/slirp4netns", st);
    auto read = network::read_slirp_features_cache(cache, "/usr/bin/slirp4netns", st);
    ASSERT_TRUE(read);
    EXPECT_TRUE(read->exit_fd && !read->sandbox && read->seccomp && read->ipv6);
    // another path, or the binary replaced (inode, size, mtime, device): probed again
    EXPECT_FALSE(network::read_slirp_features_cache(cache, "/usr/local/bin/slirp4netns", st));
    for (auto change :
         {+[](struct stat& s) { s.st_ino = 43; }, +[](struct stat& s) { s.st_size = 1; },
          +[](struct stat& s) { s.st_mtim.tv_nsec = 6; }, +[](struct stat& s) { s.st_dev = 1; }}) {
        struct stat other = st;
        change(other);
        EXPECT_FALSE(network::read_slirp_features_cache(cache, "/usr/bin/slirp4netns", other));
    }
    // a file that is not one (cut short, another shape, empty)
    EXPECT_FALSE(network::read_slirp_features_cache(cache.substr(0, cache.size() / 2),
                                                    "/usr/bin/slirp4netns", st));
    EXPECT_FALSE(network::read_slirp_features_cache(R"({"binary":1})", "/usr/bin/slirp4netns", st));
    EXPECT_FALSE(network::read_slirp_features_cache("", "/usr/bin/slirp4netns", st));
}

TEST(NetworkSlirp, EachPortIsOneAddHostfwd) {
    EXPECT_EQ(network::add_hostfwd_request({"127.0.0.1", 8080, 80, "tcp"}).dump(),
              R"({"arguments":{"guest_addr":"10.0.2.100","guest_port":80,)"
              R"("host_addr":"127.0.0.1","host_port":8080,"proto":"tcp"},)"
              R"("execute":"add_hostfwd"})");
    EXPECT_EQ(network::add_hostfwd_request({"", 5353, 53, "udp"}).dump(),
              R"({"arguments":{"guest_addr":"10.0.2.100","guest_port":53,)"
              R"("host_addr":"0.0.0.0","host_port":5353,"proto":"udp"},)"
              R"("execute":"add_hostfwd"})");
}

}  // namespace
}  // namespace husk
