// -p/--publish in docker's forms, and what makes two published ports collide.
#include <gtest/gtest.h>

#include "network/ports.h"
#include "sys/error.h"

using husk::network::parse_publish;
using husk::network::PortMapping;

TEST(NetworkPorts, DockerForms) {
    EXPECT_EQ(parse_publish("80"), (PortMapping{"", 0, 80, "tcp"}));
    EXPECT_EQ(parse_publish("8080:80"), (PortMapping{"", 8080, 80, "tcp"}));
    EXPECT_EQ(parse_publish("127.0.0.1:8080:80"), (PortMapping{"127.0.0.1", 8080, 80, "tcp"}));
    EXPECT_EQ(parse_publish("127.0.0.1::80"), (PortMapping{"127.0.0.1", 0, 80, "tcp"}));
    EXPECT_EQ(parse_publish("5353:53/udp"), (PortMapping{"", 5353, 53, "udp"}));
    EXPECT_EQ(parse_publish("80/tcp"), (PortMapping{"", 0, 80, "tcp"}));
    EXPECT_EQ(parse_publish("0.0.0.0:8080:80"), (PortMapping{"", 8080, 80, "tcp"}));
    EXPECT_EQ(parse_publish(":8080:80"), (PortMapping{"", 8080, 80, "tcp"}));
}

TEST(NetworkPorts, Ipv6HostAddressesInBrackets) {
    EXPECT_EQ(parse_publish("[::1]:8080:80"), (PortMapping{"::1", 8080, 80, "tcp"}));
    EXPECT_EQ(parse_publish("[::]::80/udp"), (PortMapping{"::", 0, 80, "udp"}));
    EXPECT_EQ(parse_publish("[fd00:0::1]:53:53"), (PortMapping{"fd00::1", 53, 53, "tcp"}));
    EXPECT_EQ(husk::network::to_string(parse_publish("[::1]:8080:80")), "[::1]:8080:80/tcp");
    EXPECT_EQ(husk::network::describe({"::1", 8080, 80, "tcp"}), "[::1]:8080->80/tcp");
    EXPECT_EQ(husk::network::parse_publish_ranges("[::1]:9000-9001:80-81").size(), 2U);
    EXPECT_EQ(husk::network::parse_publish_ranges("[::1]:9000-9001:80-81")[1],
              (PortMapping{"::1", 9001, 81, "tcp"}));
    for (const char* bad : {"[::1]:80", "[::1]8080:80", "[nope]:8080:80", "[::1:8080:80"})
        EXPECT_THROW(parse_publish(bad), husk::Error) << bad;
}

TEST(NetworkPorts, BadValuesSayWhatIsWrong) {
    auto msg = [](const char* s) {
        try {
            parse_publish(s);
        } catch (const husk::Error& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    EXPECT_EQ(msg("abc"), "invalid containerPort: abc");
    EXPECT_EQ(msg("0"), "invalid containerPort: 0");
    EXPECT_EQ(msg("70000"), "invalid containerPort: 70000");
    EXPECT_EQ(msg("x:80"), "invalid hostPort: x");
    EXPECT_EQ(msg("1.2.3:8080:80"), "invalid IP address: 1.2.3");
    EXPECT_EQ(msg("80/sctp"), "invalid proto: sctp");
    EXPECT_EQ(msg("1:2:3:4"), "invalid port format: 1:2:3:4");
    EXPECT_EQ(msg("8000-8001:80-81"), "port ranges are not supported: 8000-8001:80-81");
}

TEST(NetworkPorts, ToStringParsesBack) {
    for (const char* s : {"80", "8080:80", "127.0.0.1:8080:80", "127.0.0.1::80/udp", "53/udp"}) {
        auto p = parse_publish(s);
        EXPECT_EQ(parse_publish(husk::network::to_string(p)), p) << s;
    }
    EXPECT_EQ(husk::network::to_string(parse_publish("127.0.0.1::80")), "127.0.0.1::80/tcp");
}

TEST(NetworkPorts, DescribedAsDockerPs) {
    EXPECT_EQ(husk::network::describe({"127.0.0.1", 8080, 80, "tcp"}), "127.0.0.1:8080->80/tcp");
    EXPECT_EQ(husk::network::describe({"", 5353, 53, "udp"}), "0.0.0.0:5353->53/udp");
}

TEST(NetworkPorts, Collisions) {
    using husk::network::collides;
    EXPECT_TRUE(collides({"", 8080, 80, "tcp"}, {"127.0.0.1", 8080, 81, "tcp"}));
    EXPECT_TRUE(collides({"127.0.0.1", 8080, 80, "tcp"}, {"127.0.0.1", 8080, 80, "tcp"}));
    EXPECT_FALSE(collides({"127.0.0.1", 8080, 80, "tcp"}, {"127.0.0.2", 8080, 80, "tcp"}));
    EXPECT_FALSE(collides({"", 8080, 80, "tcp"}, {"", 8080, 80, "udp"}));
    EXPECT_FALSE(collides({"", 0, 80, "tcp"}, {"", 0, 80, "tcp"}));  // not chosen yet
    EXPECT_TRUE(collides({"::", 8080, 80, "tcp"}, {"::1", 8080, 81, "tcp"}));
    EXPECT_TRUE(collides({"", 8080, 80, "tcp"}, {"::1", 8080, 81, "tcp"}));
    EXPECT_FALSE(collides({"::", 8080, 80, "tcp"}, {"127.0.0.1", 8080, 81, "tcp"}));
}

TEST(NetworkPorts, RangesExpandOneMappingPerPort) {
    using husk::network::parse_publish_ranges;
    EXPECT_EQ(parse_publish_ranges("8000-8002:9000-9002"),
              (std::vector<PortMapping>{
                  {"", 8000, 9000, "tcp"}, {"", 8001, 9001, "tcp"}, {"", 8002, 9002, "tcp"}}));
    EXPECT_EQ(
        parse_publish_ranges("127.0.0.1:5000-5001:80-81/udp"),
        (std::vector<PortMapping>{{"127.0.0.1", 5000, 80, "udp"}, {"127.0.0.1", 5001, 81, "udp"}}));
    EXPECT_EQ(parse_publish_ranges("80-81"),
              (std::vector<PortMapping>{{"", 0, 80, "tcp"}, {"", 0, 81, "tcp"}}));
    EXPECT_EQ(parse_publish_ranges("8080:80"), (std::vector<PortMapping>{{"", 8080, 80, "tcp"}}));
    try {
        parse_publish_ranges("90-92:80-81");
        FAIL();
    } catch (const husk::Error& e) {
        EXPECT_STREQ(e.what(),
                     "invalid ranges specified for container and host Ports: 80-81 and 90-92");
    }
    EXPECT_THROW(parse_publish_ranges("81-80"), husk::Error);
    EXPECT_THROW(parse_publish_ranges("a-b"), husk::Error);
}
