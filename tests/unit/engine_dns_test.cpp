// --dns, --dns-search, --dns-option and --add-host as they reach /etc/resolv.conf and /etc/hosts.
#include <gtest/gtest.h>

#include "engine/network.h"
#include "sys/error.h"

using namespace husk::engine;

TEST(EngineDns, EachGivenKindReplacesItsLines) {
    std::string host =
        "# from the host\nnameserver 10.0.0.1\nnameserver 10.0.0.2\nsearch a.b\n"
        "options rotate\n";
    EXPECT_EQ(with_dns(host, {}, {}, {}), host);
    EXPECT_EQ(with_dns(host, {"192.0.2.53"}, {}, {}),
              "# from the host\nsearch a.b\noptions rotate\nnameserver 192.0.2.53\n");
    EXPECT_EQ(with_dns(host, {}, {"x.test", "y.test"}, {"ndots:2"}),
              "# from the host\nnameserver 10.0.0.1\nnameserver 10.0.0.2\nsearch x.test y.test\n"
              "options ndots:2\n");
}

TEST(EngineDns, AddHostLines) {
    EXPECT_EQ(add_host_line("db:10.1.2.3", ""), "10.1.2.3\tdb\n");
    EXPECT_EQ(add_host_line("db=10.1.2.3", ""), "10.1.2.3\tdb\n");
    EXPECT_EQ(add_host_line("v6:2001:db8::1", ""), "2001:db8::1\tv6\n");
    EXPECT_EQ(add_host_line("gw:host-gateway", "10.66.0.1"), "10.66.0.1\tgw\n");
    EXPECT_THROW(add_host_line("db:notanip", ""), husk::Error);
    EXPECT_THROW(add_host_line("db", ""), husk::Error);
    EXPECT_THROW(add_host_line(":10.1.2.3", ""), husk::Error);
    // host-gateway is the host as the network mode reaches it: slirp4netns's 10.0.2.2
    EXPECT_EQ(add_host_lines({"db:10.1.2.3", "gw:host-gateway"}, NetworkMode::slirp4netns),
              "10.1.2.3\tdb\n10.0.2.2\tgw\n");
    EXPECT_EQ(host_gateway(NetworkMode::slirp4netns), "10.0.2.2");
}
