// husk.conf (engine/config_file.cpp): containers.conf's default_rootless_network_cmd, its
// lines as podman writes them, and the one-line refusals naming the file and the line.
#include <gtest/gtest.h>

#include <string>

#include "engine/config_file.h"
#include "sys/error.h"

namespace husk {
namespace {

std::string refusal(const std::string& text) {
    try {
        engine::parse_engine_config(text, "/h/husk.conf");
    } catch (const Error& e) {
        return e.what();
    }
    return "accepted";
}

TEST(EngineConfigFile, DefaultRootlessNetworkCmd) {
    EXPECT_FALSE(engine::parse_engine_config("", "f").default_rootless_network);
    EXPECT_FALSE(engine::parse_engine_config("# nothing\n\n  \n", "f").default_rootless_network);
    EXPECT_EQ(engine::parse_engine_config("default_rootless_network_cmd = slirp4netns\n", "f")
                  .default_rootless_network,
              engine::NetworkMode::slirp4netns);
    // containers.conf's own lines: a section, quotes, a comment after the value
    EXPECT_EQ(engine::parse_engine_config(
                  "[network]\n  default_rootless_network_cmd=\"pasta\"  # the default\n", "f")
                  .default_rootless_network,
              engine::NetworkMode::bridge);
    // the last line wins
    EXPECT_EQ(engine::parse_engine_config("default_rootless_network_cmd = pasta\r\n"
                                          "default_rootless_network_cmd = \"slirp4netns\"",
                                          "f")
                  .default_rootless_network,
              engine::NetworkMode::slirp4netns);
}

TEST(EngineConfigFile, RefusalsNameTheFileAndLine) {
    EXPECT_EQ(refusal("\ndefault_rootless_network_cmd = vde\n"),
              "/h/husk.conf:2: default_rootless_network_cmd: expected \"pasta\" or "
              "\"slirp4netns\", got \"vde\"");
    EXPECT_EQ(refusal("default_rootless_network_cmd = \"\""),
              "/h/husk.conf:1: default_rootless_network_cmd: expected \"pasta\" or "
              "\"slirp4netns\", got \"\"");
    EXPECT_EQ(refusal("# x\n[engine]\n"),
              "/h/husk.conf:2: unknown section [engine] (husk.conf knows [network])");
    EXPECT_EQ(refusal("default_network = host"),
              "/h/husk.conf:1: unknown key \"default_network\" (husk.conf knows "
              "default_rootless_network_cmd)");
    EXPECT_EQ(refusal("slirp4netns"), "/h/husk.conf:1: expected key = value, got \"slirp4netns\"");
}

}  // namespace
}  // namespace husk
