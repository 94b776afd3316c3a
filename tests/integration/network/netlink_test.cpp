// The netlink layer of the bridge network (network/netlink, bridge, veth) against the
// real kernel, inside two network namespaces the test makes: a "host" one with the
// bridge and a "container" one that gets the veth's other end, its address and its
// default route. Root; SKIPs where network namespaces cannot be made.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "network/bridge.h"
#include "network/netlink.h"
#include "network/veth.h"
#include "sys/error.h"
#include "sys/fd.h"

namespace net = husk::network;
using husk::sys::UniqueFd;

namespace {

// The test's thread in a fresh "host" namespace, with a "container" namespace beside
// it (open as a path under /proc/self/fd); the original namespace back at the end.
class NetlinkInNamespaces : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
        original_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        ASSERT_TRUE(original_);
        if (::unshare(CLONE_NEWNET) != 0) GTEST_SKIP() << "unshare(CLONE_NEWNET): " << errno;
        container_ns();
        host_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        ASSERT_TRUE(host_);
    }
    void TearDown() override {
        if (original_) ::setns(original_.get(), CLONE_NEWNET);
    }
    void container_ns() {
        UniqueFd here(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        ASSERT_EQ(::unshare(CLONE_NEWNET), 0);
        container_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
        ASSERT_EQ(::setns(here.get(), CLONE_NEWNET), 0);
    }
    std::string container_path() const {
        return "/proc/self/fd/" + std::to_string(container_.get());
    }

    // Runs `fn` inside the container namespace.
    template <class Fn>
    auto inside(Fn fn) {
        EXPECT_EQ(::setns(container_.get(), CLONE_NEWNET), 0);
        auto out = fn();
        EXPECT_EQ(::setns(host_.get(), CLONE_NEWNET), 0);
        return out;
    }

    UniqueFd original_, host_, container_;
};

// "eth0 10.99.0.5/24" lines of the IPv4 addresses of the current namespace.
std::string ipv4_addresses() {
    std::string out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return "getifaddrs failed";
    for (ifaddrs* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
        char buf[INET_ADDRSTRLEN] = {};
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf,
                    sizeof buf);
        out += std::string(a->ifa_name) + " " + buf + "\n";
    }
    ::freeifaddrs(list);
    return out;
}

std::string read_all(const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

// The MAC of link `name` of the current namespace (sysfs shows its mounter's namespace).
std::string mac_of_link(const char* name) {
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq ifr{};
    std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (!s || ::ioctl(s.get(), SIOCGIFHWADDR, &ifr) != 0) return "none";
    const auto* m = reinterpret_cast<const unsigned char*>(ifr.ifr_hwaddr.sa_data);
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                  m[5]);
    return buf;
}

net::Network test_network() {
    net::Network n;
    n.name = "nltest";
    n.bridge = "husknltest";
    n.subnet = "10.99.0.0/24";
    n.gateway = "10.99.0.1";
    return n;
}

}  // namespace

TEST_F(NetlinkInNamespaces, BridgeMadeOnceWithItsGateway) {
    net::nl::Socket host;
    unsigned index = net::ensure_bridge(host, test_network());
    ASSERT_GT(index, 0U);
    EXPECT_EQ(net::ensure_bridge(host, test_network()), index);  // again: the same one
    EXPECT_EQ(::if_nametoindex("husknltest"), index);
    EXPECT_NE(ipv4_addresses().find("husknltest 10.99.0.1\n"), std::string::npos)
        << ipv4_addresses();
    EXPECT_EQ(read_all("/proc/sys/net/ipv4/conf/husknltest/route_localnet"),
              "1\n");  // procfs: ours
}

TEST_F(NetlinkInNamespaces, VethEndInTheContainerWithAddressAndDefaultRoute) {
    net::nl::Socket host;
    unsigned bridge = net::ensure_bridge(host, test_network());
    std::vector<net::Lease> leases = {{"10.99.0.5", 24, "10.99.0.1"}};
    std::string veth = net::host_veth_name("c1", "nltest", "eth0");
    net::add_veth(host, bridge, veth, container_path(), "eth0", leases, true);
    EXPECT_GT(host.link_index(veth), 0U);
    std::string addrs = inside([] { return ipv4_addresses(); });
    EXPECT_NE(addrs.find("eth0 10.99.0.5\n"), std::string::npos) << addrs;
    std::string routes = inside([] { return read_all("/proc/thread-self/net/route"); });
    // the default route: destination 0, gateway 10.99.0.1 (little-endian hex)
    EXPECT_NE(routes.find("eth0\t00000000\t0100630A"), std::string::npos) << routes;
    std::string mac = inside([] { return mac_of_link("eth0"); });
    EXPECT_EQ(mac, net::mac_of("10.99.0.5"));

    // a run killed half-way left the host end: made again over it
    net::add_veth(host, bridge, veth, container_path(), "eth1", leases, false);
    EXPECT_EQ(inside([] { return ::if_nametoindex("eth0"); }), 0U);  // went with the old pair

    net::delete_veth(host, veth);
    EXPECT_EQ(host.link_index(veth), 0U);
    EXPECT_EQ(inside([] { return ::if_nametoindex("eth1"); }), 0U);
    net::delete_veth(host, veth);  // gone already: no error
}

TEST_F(NetlinkInNamespaces, ErrorsNameTheOperationAndTheLink) {
    net::nl::Socket host;
    try {
        net::nl::check(host.set_up(999999), "bring up", "nosuch");
        FAIL() << "no error";
    } catch (const husk::Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("bring up \"nosuch\": ENODEV", 0), 0U) << e.what();
    }
}
