// Address leases of husk's networks (network/ipam): concurrent runs never share an
// address, --ip is honoured or refused with one line, a killed run's lease is reclaimed
// by its container id, and host-local's own lease files are respected. A temporary
// directory only (no privileges).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "network/endpoint.h"
#include "network/ipam.h"
#include "sys/error.h"
#include "sys/fileutil.h"

namespace net = husk::network;

namespace {

class NetworkIpam : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/ipam-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        net_.name = "t";
        net_.subnet = "10.123.0.0/29";  // .1 the gateway, .2 .. .6 to hand out
        net_.gateway = "10.123.0.1";
        net_.ipam_dir = dir_;
    }
    void TearDown() override { husk::sys::remove_all(dir_); }

    std::set<std::string> leased() const {
        std::set<std::string> out;
        for (auto& f : husk::sys::list_dir(net::lease_dir(net_)))
            if (f.starts_with("10.")) out.insert(f);
        return out;
    }

    std::string dir_;
    net::Network net_;
};

}  // namespace

TEST_F(NetworkIpam, HandsOutEachAddressOnceAndNeverTheGateway) {
    std::set<std::string> got;
    for (int i = 0; i < 5; ++i) {
        auto l = net::lease_addresses(net_, "c" + std::to_string(i), "eth0");
        ASSERT_EQ(l.size(), 1U);
        EXPECT_EQ(l[0].prefix, 29);
        EXPECT_EQ(l[0].gateway, "10.123.0.1");
        EXPECT_NE(l[0].ip, "10.123.0.1");
        EXPECT_TRUE(got.insert(l[0].ip).second) << l[0].ip;
    }
    EXPECT_EQ(got, (std::set<std::string>{"10.123.0.2", "10.123.0.3", "10.123.0.4", "10.123.0.5",
                                          "10.123.0.6"}));
    try {
        net::lease_addresses(net_, "c5", "eth0");
        FAIL() << "a full subnet leased again";
    } catch (const husk::Error& e) {
        EXPECT_STREQ(e.what(), "network t: no IP addresses available in 10.123.0.0/29");
    }
    EXPECT_EQ(leased().size(), 5U);
}

TEST_F(NetworkIpam, TheSameInterfaceGetsItsLeaseAgain) {
    auto a = net::lease_addresses(net_, "c1", "eth0");
    auto b = net::lease_addresses(net_, "c1", "eth0");
    EXPECT_EQ(a[0].ip, b[0].ip);
    auto c = net::lease_addresses(net_, "c1", "eth1");
    EXPECT_NE(a[0].ip, c[0].ip);
    EXPECT_EQ(net::leased_address(net_, "c1", "eth1"), c[0].ip);
}

TEST_F(NetworkIpam, RequestedAddressHonouredOrRefused) {
    auto l = net::lease_addresses(net_, "c1", "eth0", "10.123.0.5/29");
    EXPECT_EQ(l[0].ip, "10.123.0.5");
    for (const char* bad : {"10.123.0.5", "10.123.0.1", "10.123.0.0", "10.123.0.7", "10.9.9.9"}) {
        try {
            net::lease_addresses(net_, "c2", "eth0", bad);
            FAIL() << bad << " was leased";
        } catch (const husk::Error& e) {
            EXPECT_EQ(std::string(e.what()), std::string("requested IP address ") + bad +
                                                 " is not available in network t");
        }
    }
    EXPECT_EQ(leased(), (std::set<std::string>{"10.123.0.5"}));
}

TEST_F(NetworkIpam, ReleaseByContainerIdReclaimsAKilledRunsLease) {
    auto a = net::lease_addresses(net_, "killed", "eth0");
    auto b = net::lease_addresses(net_, "alive", "eth0");
    // what disconnect() does for a reservation whose run died after leasing
    net::release_addresses(net_, "killed", "eth0");
    EXPECT_EQ(leased(), (std::set<std::string>{b[0].ip}));
    EXPECT_EQ(net::leased_address(net_, "killed", "eth0"), "");
    net::release_addresses(net_, "killed");  // nothing left: no error
}

TEST_F(NetworkIpam, HostLocalLeasesAreRespected) {
    husk::sys::mkdir_all(net::lease_dir(net_), 0755);
    std::ofstream(net::lease_dir(net_) + "/10.123.0.2") << "cni-container\r\neth0";
    auto l = net::lease_addresses(net_, "c1", "eth0", "");
    EXPECT_NE(l[0].ip, "10.123.0.2");
    EXPECT_THROW(net::lease_addresses(net_, "c2", "eth0", "10.123.0.2"), husk::Error);
    net::release_addresses(net_, "cni-container", "eth0");
    EXPECT_EQ(leased(), (std::set<std::string>{l[0].ip}));
}

TEST_F(NetworkIpam, Ipv6SubnetLeasedBeside) {
    net_.subnet6 = "fd00:123::/64";
    net_.gateway6 = "fd00:123::1";
    auto l = net::lease_addresses(net_, "c1", "eth0");
    ASSERT_EQ(l.size(), 2U);
    EXPECT_EQ(l[1].ip, "fd00:123::2");
    EXPECT_EQ(l[1].prefix, 64);
    net::release_addresses(net_, "c1");
    EXPECT_TRUE(husk::sys::list_dir(net::lease_dir(net_)).size() <= 3U);  // lock, last_reserved
}

// Processes leasing at once (the flock across runs): every one gets its own address.
TEST_F(NetworkIpam, ConcurrentLeasesNeverShareAnAddress) {
    net_.subnet = "10.123.0.0/24";
    constexpr int kProcs = 8;
    constexpr int kEach = 6;
    for (int p = 0; p < kProcs; ++p) {
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            int rc = 0;
            for (int i = 0; i < kEach; ++i) {
                try {
                    net::lease_addresses(net_, "p" + std::to_string(p) + "-" + std::to_string(i),
                                         "eth0");
                } catch (...) {
                    rc = 1;
                }
            }
            ::_exit(rc);
        }
    }
    for (int p = 0; p < kProcs; ++p) {
        int status = 0;
        ASSERT_GT(::wait(&status), 0);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    EXPECT_EQ(leased().size(), static_cast<size_t>(kProcs * kEach));
}

// An endpoint the CNI path recorded (a container running when husk was upgraded) is
// read back as one: its teardown goes through the plugins.
TEST(NetworkEndpoint, KindReadBack) {
    auto cni = net::endpoint_from_json(
        R"({"container_id":"x","netns":"/p","conflist":{"name":"husk","plugins":[]},"result":null})");
    EXPECT_EQ(cni.kind, net::EndpointKind::cni);
    net::Network n;
    auto native = net::reserve(n, "abc", "/pin", {}, "eth0", {});
    native.address.ip = "10.66.0.9";
    auto back = net::endpoint_from_json(net::to_json(native));
    EXPECT_EQ(back.kind, net::EndpointKind::native);
    EXPECT_EQ(back.address.ip, "10.66.0.9");
    EXPECT_EQ(back.network.bridge, "husk0");
    EXPECT_EQ(back.host_veth, native.host_veth);
    EXPECT_EQ(back.host_veth.size(), 12U);
}
