// husk's CNI conflist and the configuration each plugin reads on stdin (CNI spec 1.0:
// name and cniVersion of the list, runtimeConfig for declared capabilities, prevResult).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "network/conflist.h"
#include "network/endpoint.h"
#include "network/result.h"

using nlohmann::json;
namespace net = husk::network;

TEST(NetworkConflist, BridgePortmapFirewallInOrder) {
    std::string list = net::conflist({});
    auto j = json::parse(list);
    EXPECT_EQ(j["cniVersion"], "1.0.0");
    EXPECT_EQ(j["name"], "husk");
    EXPECT_EQ(net::plugin_types(list), (std::vector<std::string>{"bridge", "portmap", "firewall"}));
    auto& bridge = j["plugins"][0];
    EXPECT_EQ(bridge["bridge"], "husk0");
    EXPECT_EQ(bridge["isGateway"], true);
    EXPECT_EQ(bridge["ipMasq"], false);  // one rule for the subnet: masquerade.h
    EXPECT_EQ(bridge["ipam"]["type"], "host-local");
    EXPECT_EQ(bridge["ipam"]["ranges"][0][0]["subnet"], "10.66.0.0/16");
    EXPECT_EQ(bridge["ipam"]["routes"][0]["dst"], "0.0.0.0/0");
    EXPECT_EQ(j["plugins"][1]["capabilities"]["portMappings"], true);
}

TEST(NetworkConflist, SubnetStaysClearOfPodmanAndDocker) {
    net::Network n;
    EXPECT_NE(n.subnet.rfind("10.88.", 0), 0u);
    EXPECT_NE(n.subnet.rfind("172.17.", 0), 0u);
}

TEST(NetworkConflist, PluginConfigCarriesNameVersionAndPrevResult) {
    std::string list = net::conflist({});
    auto first = json::parse(net::plugin_config(list, 0, {}, ""));
    EXPECT_EQ(first["name"], "husk");
    EXPECT_EQ(first["cniVersion"], "1.0.0");
    EXPECT_EQ(first["type"], "bridge");
    EXPECT_FALSE(first.contains("prevResult"));
    EXPECT_FALSE(first.contains("runtimeConfig"));  // bridge declares no capability
    auto fw = json::parse(net::plugin_config(list, 2, {}, R"({"cniVersion":"1.0.0","ips":[]})"));
    EXPECT_EQ(fw["prevResult"]["cniVersion"], "1.0.0");
}

TEST(NetworkConflist, PortMappingsGoToPortmapAsRuntimeConfig) {
    std::string list = net::conflist({});
    auto pm = json::parse(
        net::plugin_config(list, 1, {{"127.0.0.1", 8080, 80, "tcp"}, {"", 5353, 53, "udp"}}, "{}"));
    auto& maps = pm["runtimeConfig"]["portMappings"];
    ASSERT_EQ(maps.size(), 2u);
    EXPECT_EQ(maps[0], json({{"hostIP", "127.0.0.1"},
                             {"hostPort", 8080},
                             {"containerPort", 80},
                             {"protocol", "tcp"}}));
    EXPECT_FALSE(maps[1].contains("hostIP"));
    EXPECT_EQ(maps[1]["protocol"], "udp");
}

TEST(NetworkResult, AddressAndMacOfTheSandboxInterface) {
    const char* r = R"({"cniVersion":"1.0.0",
      "interfaces":[{"name":"husk0","mac":"aa:aa:aa:aa:aa:aa"},
                    {"name":"veth1","mac":"bb:bb:bb:bb:bb:bb"},
                    {"name":"eth0","mac":"cc:cc:cc:cc:cc:cc","sandbox":"/run/x"}],
      "ips":[{"interface":2,"address":"10.66.0.5/16","gateway":"10.66.0.1"}]})";
    auto a = net::parse_result(r);
    EXPECT_EQ(a.ip, "10.66.0.5");
    EXPECT_EQ(a.prefix_len, 16);
    EXPECT_EQ(a.gateway, "10.66.0.1");
    EXPECT_EQ(a.mac, "cc:cc:cc:cc:cc:cc");
}

TEST(NetworkEndpoint, JsonRoundTrip) {
    net::Endpoint ep;
    ep.kind = net::EndpointKind::cni;
    ep.container_id = "abc";
    ep.netns_pin = "/run/husk/netns/abc";
    ep.ports = {{"127.0.0.1", 8080, 80, "tcp"}};
    ep.conflist = net::conflist({.name = "other"});
    ep.result =
        R"({"cniVersion":"1.0.0","ips":[{"address":"10.66.0.7/16","gateway":"10.66.0.1"}]})";
    auto back = net::endpoint_from_json(net::to_json(ep));
    EXPECT_EQ(back.container_id, "abc");
    EXPECT_EQ(back.netns_pin, ep.netns_pin);
    EXPECT_EQ(back.ports, ep.ports);
    EXPECT_EQ(back.address.ip, "10.66.0.7");
    EXPECT_EQ(back.kind, net::EndpointKind::cni);
    EXPECT_EQ(json::parse(back.conflist)["name"], "other");  // DEL runs what ADD ran
}
