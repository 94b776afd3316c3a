// pasta's command line for a rootless container's network (network/pasta.cpp): what the
// user's -p becomes, and nothing forwarded that the user did not publish.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "network/pasta.h"

namespace husk {
namespace {

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (auto& a : v) s += (s.empty() ? "" : " ") + a;
    return s;
}

TEST(NetworkPasta, NoPortsForwardsNothingEitherWay) {
    auto args =
        network::pasta_args("/usr/bin/pasta", "/d", "/proc/7/ns/user", "/proc/7/ns/net", {});
    EXPECT_EQ(
        joined(args),
        "/usr/bin/pasta --config-net --foreground --quiet -t none -u none -T none -U none "
        "--dns-forward 169.254.1.1 --pid /d/ready --netns /proc/7/ns/net --userns /proc/7/ns/user");
}

TEST(NetworkPasta, EachPublishedPortIsOneForwardOfItsProtocol) {
    std::vector<network::PortMapping> ports{
        {"127.0.0.1", 8080, 80, "tcp"}, {"", 5353, 53, "udp"}, {"::1", 8443, 443, "tcp"}};
    auto args = network::pasta_args("pasta", "/d", "U", "N", ports);
    EXPECT_EQ(joined(args),
              "pasta --config-net --foreground --quiet -t 127.0.0.1/8080:80 -t ::1/8443:443 "
              "-u 5353:53 -T none -U none --dns-forward 169.254.1.1 --pid /d/ready --netns N "
              "--userns U");
}

}  // namespace
}  // namespace husk
