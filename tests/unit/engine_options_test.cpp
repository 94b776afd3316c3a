// husk run's flag values: docker's units and messages.
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>

#include "engine/bundle.h"
#include "engine/idrange.h"
#include "engine/options.h"
#include "engine/user.h"
#include "error_of.h"
#include "sys/error.h"
#include "sys/fileutil.h"

using namespace husk;
using namespace husk::engine;

TEST(EngineSize, DockerUnits) {
    EXPECT_EQ(parse_size("100"), 100);
    EXPECT_EQ(parse_size("32m"), 32 << 20);
    EXPECT_EQ(parse_size("32M"), 32 << 20);
    EXPECT_EQ(parse_size("1g"), int64_t{1} << 30);
    EXPECT_EQ(parse_size("1.5k"), 1536);
    EXPECT_EQ(parse_size("64mb"), 64 << 20);
    EXPECT_EQ(parse_size("64MiB"), 64 << 20);
    EXPECT_EQ(error_of([] { parse_size("12q"); }), "invalid size: '12q'");
    EXPECT_EQ(error_of([] { parse_size(""); }), "invalid size: ''");
    EXPECT_EQ(error_of([] { parse_size("m"); }), "invalid size: 'm'");
    EXPECT_EQ(error_of([] { parse_size("-1"); }), "invalid size: '-1'");
}

TEST(EngineCpus, Range) {
    EXPECT_DOUBLE_EQ(parse_cpus("1.5", 2), 1.5);
    EXPECT_EQ(error_of([] { parse_cpus("-1", 2); }),
              "range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available");
    EXPECT_EQ(error_of([] { parse_cpus("3", 2); }),
              "range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available");
    EXPECT_NE(error_of([] { parse_cpus("abc", 2); }).find("invalid argument \"abc\""),
              std::string::npos);
}

TEST(EngineFlags, Volumes) {
    auto m = parse_volume("/a:/b:ro");
    EXPECT_EQ(m.source, "/a");
    EXPECT_EQ(m.target, "/b");
    EXPECT_TRUE(m.readonly);
    EXPECT_FALSE(parse_volume("/a:/b").readonly);
    auto named = parse_volume("data:/b:ro");
    EXPECT_EQ(named.type, "volume");
    EXPECT_EQ(named.source, "data");
    EXPECT_TRUE(named.readonly);
    auto anonymous = parse_volume("/scratch");
    EXPECT_EQ(anonymous.type, "volume");
    EXPECT_EQ(anonymous.source, "");
    EXPECT_EQ(anonymous.target, "/scratch");
    EXPECT_EQ(parse_volume("/a:/b").type, "bind");
    EXPECT_NE(error_of([] { parse_volume("bad name:/b"); }).find("invalid characters"),
              std::string::npos);
    EXPECT_NE(error_of([] { parse_volume("x:/b"); }).find("invalid characters"),
              std::string::npos);  // docker: at least two characters
    EXPECT_EQ(parse_mount("type=volume,source=v1,target=/x").source, "v1");
    EXPECT_EQ(parse_mount("type=volume,target=/x").source, "");
    EXPECT_NE(error_of([] { parse_volume("/a:b"); }).find("absolute"), std::string::npos);
    EXPECT_NE(error_of([] { parse_volume("/a:/b:xx"); }).find("invalid mode"), std::string::npos);
    auto t = parse_mount("type=tmpfs,target=/t,tmpfs-size=1m");
    EXPECT_EQ(t.type, "tmpfs");
    EXPECT_EQ(t.options, std::vector<std::string>{"size=1048576"});
    auto b = parse_mount("type=bind,src=/x,dst=/y,readonly");
    EXPECT_TRUE(b.readonly);
    EXPECT_NE(error_of([] { parse_mount("type=npipe,target=/x"); }).find("not supported"),
              std::string::npos);
}

TEST(EngineFlags, UlimitsDevicesKeyValues) {
    auto r = parse_ulimit("nofile=1024:2048");
    EXPECT_EQ(r.type, "RLIMIT_NOFILE");
    EXPECT_EQ(r.soft, 1024u);
    EXPECT_EQ(r.hard, 2048u);
    EXPECT_EQ(parse_ulimit("nproc=10").hard, 10u);
    EXPECT_FALSE(error_of([] { parse_ulimit("nofile=2:1"); }).empty());
    EXPECT_FALSE(error_of([] { parse_ulimit("bogus=1"); }).empty());
    auto d = parse_device("/dev/fuse:/dev/f:r");
    EXPECT_EQ(d.container_path, "/dev/f");
    EXPECT_EQ(d.permissions, "r");
    EXPECT_EQ(parse_device("/dev/fuse:rw").container_path, "/dev/fuse");
    EXPECT_EQ(parse_key_value("a=b=c"), (std::pair<std::string, std::string>{"a", "b=c"}));
}

TEST(EngineArgs, EntrypointAndCmdAsDocker) {
    oci::image::ImageConfig img;
    img.entrypoint = {"/ep"};
    img.cmd = {"a", "b"};
    RunOptions o;
    EXPECT_EQ(container_args(o, &img), (std::vector<std::string>{"/ep", "a", "b"}));
    o.command = {"x"};
    EXPECT_EQ(container_args(o, &img), (std::vector<std::string>{"/ep", "x"}));
    o.command.clear();
    o.entrypoint = "/other";  // --entrypoint drops the image's Cmd
    EXPECT_EQ(container_args(o, &img), (std::vector<std::string>{"/other"}));
    o.entrypoint = "";
    EXPECT_EQ(error_of([&] { container_args(o, &img); }), "no command specified");
}

TEST(EngineUser, FromTheContainersFiles) {
    std::string passwd = "root:x:0:0:root:/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n";
    std::string group = "root:x:0:\nbob:x:1000:\nwheel:x:10:bob,alice\naudio:x:29:bob\n";
    auto u = resolve_user_in(passwd, group, "bob");
    EXPECT_EQ(u.uid, 1000u);
    EXPECT_EQ(u.gid, 1000u);
    EXPECT_EQ(u.home, "/home/bob");
    EXPECT_EQ(u.additional_gids, (std::vector<uint32_t>{10, 29}));
    auto g = resolve_user_in(passwd, group, "bob:wheel");
    EXPECT_EQ(g.gid, 10u);
    EXPECT_TRUE(g.additional_gids.empty());
    auto n = resolve_user_in(passwd, group, "4242:4343");
    EXPECT_EQ(n.uid, 4242u);
    EXPECT_EQ(n.gid, 4343u);
    EXPECT_EQ(resolve_user_in(passwd, group, "").home, "/root");
    EXPECT_EQ(error_of([&] { resolve_user_in(passwd, group, "carol"); }),
              "unable to find user carol: no matching entries in passwd file");
    EXPECT_EQ(error_of([&] { resolve_user_in(passwd, group, "bob:nogroup"); }),
              "unable to find group nogroup: no matching entries in group file");
}

TEST(EngineIdRange, NeverOverlap) {
    auto r = subid_ranges("alice:100000:65536\ncontainers:200000:131072\n", "containers");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].host_id, 200000u);
    EXPECT_EQ(r[0].size, 131072u);
    std::vector<oci::IdMapping> avail{{0, 200000, 131072}};
    EXPECT_EQ(pick_range(avail, {}, 65536), 200000u);
    EXPECT_EQ(pick_range(avail, {{0, 200000, 65536}}, 65536), 265536u);
    EXPECT_EQ(pick_range(avail, {{0, 265536, 65536}}, 65536), 200000u);
    // other containers' maps count by their host side, whatever their container ids
    EXPECT_EQ(pick_range(avail, {{1000, 200000, 65536}}, 65536), 265536u);
    EXPECT_FALSE(error_of([&] {
                     pick_range(avail, {{0, 200000, 65536}, {0, 265536, 65536}}, 65536);
                 }).empty());
}

// Bad flag values that were accepted (issue 14, §5): each refused with one line.
TEST(EngineBadFlags, StopSignalIsADockerSignal) {
    EXPECT_EQ(parse_stop_signal("SIGUSR1"), SIGUSR1);
    EXPECT_EQ(parse_stop_signal("9"), 9);
    EXPECT_EQ(error_of([] { parse_stop_signal("BOGUS"); }), "invalid signal: BOGUS");
}

TEST(EngineBadFlags, EnvFileThatIsADirectoryOrHoldsANul) {
    char dir[] = "/tmp/husk-envfile-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    std::string d = dir;
    EXPECT_EQ(error_of([&] { parse_env_file(d); }),
              "--env-file: read \"" + d + "\": EISDIR (Is a directory)");
    EXPECT_EQ(error_of([&] { parse_env_file(d + "/missing"); }),
              "--env-file: open \"" + d + "/missing\": ENOENT (No such file or directory)");
    std::string f = d + "/env";
    sys::write_file(f, std::string("A=1\r\n# note\n  B=2\nC=x") + '\0' + "y\n");
    EXPECT_EQ(error_of([&] { parse_env_file(f); }),
              "--env-file " + f + ": line 4 contains a NUL byte");
    sys::write_file(f, "A=1\r\n# note\n  B=2\nHUSK_TEST_UNSET_VAR");
    EXPECT_EQ(parse_env_file(f), (std::vector<std::string>{"A=1", "B=2"}));
    sys::remove_all(d);
}

TEST(EngineBadFlags, SecurityOptsAreAppliedOrRefusedNeverIgnored) {
    RunOptions o;
    apply_security_opt("no-new-privileges", o);
    EXPECT_TRUE(o.no_new_privileges);
    apply_security_opt("no-new-privileges=false", o);
    EXPECT_FALSE(o.no_new_privileges);
    apply_security_opt("seccomp=unconfined", o);
    EXPECT_EQ(o.seccomp, "unconfined");
    apply_security_opt("seccomp:/p.json", o);  // docker's deprecated separator
    EXPECT_EQ(o.seccomp, "/p.json");
    // nothing to switch off: husk applies no LSM profile or label
    EXPECT_EQ(error_of([&] { apply_security_opt("apparmor=unconfined", o); }), "");
    EXPECT_EQ(error_of([&] { apply_security_opt("label=disable", o); }), "");
    // confinement asked for and not given: refused, whether or not the host has the LSM
    EXPECT_EQ(error_of([&] {
                  apply_security_opt("apparmor=my-profile", o);
              }).rfind("--security-opt apparmor \"my-profile\": ", 0),
              0u);
    EXPECT_EQ(error_of([&] {
                  apply_security_opt("label=type:svirt_t", o);
              }).rfind("--security-opt label \"type:svirt_t\": ", 0),
              0u);
    EXPECT_EQ(error_of([&] { apply_security_opt("bogus", o); }),
              "invalid --security-opt 1: \"bogus\"");
    EXPECT_EQ(error_of([&] { apply_security_opt("no-new-privileges=maybe", o); }),
              "invalid --security-opt 2: \"no-new-privileges=maybe\"");
    EXPECT_EQ(error_of([&] { apply_security_opt("x=y", o); }), "invalid --security-opt 2: \"x=y\"");
}

// docker: `--mount type=bind` never creates its source (`-v` does).
TEST(EngineBadFlags, BindMountSourceMustExist) {
    EXPECT_TRUE(parse_mount("type=bind,src=/nonexistent-husk-src,dst=/x").must_exist);
    EXPECT_FALSE(parse_volume("/nonexistent-husk-src:/x").must_exist);
    EXPECT_EQ(error_of([] {
                  check_bind_sources({parse_mount("type=bind,src=/nonexistent-husk-src,dst=/x")});
              }),
              "invalid mount config for type \"bind\": bind source path does not exist: "
              "/nonexistent-husk-src");
    EXPECT_EQ(error_of([] { check_bind_sources({parse_mount("type=bind,src=/,dst=/x")}); }), "");
    EXPECT_EQ(error_of([] { check_bind_sources({parse_volume("/nonexistent-husk-src:/x")}); }), "");
}

// A flag value of any length makes one short line.
TEST(EngineBadFlags, LongValuesAreCutInMessages) {
    std::string v(10000, '1');
    std::string err = error_of([&] { parse_size(v + "q"); });
    EXPECT_LT(err.size(), 2 * kShownMax) << err;
    EXPECT_EQ(err.rfind("invalid size: '1111", 0), 0u) << err;
    err = error_of([&] { bad_flag("-h, --hostname", v, "too long"); });
    EXPECT_LT(err.size(), 2 * kShownMax) << err;
    EXPECT_TRUE(err.ends_with("1111\" for \"-h, --hostname\" flag: too long")) << err;
}

TEST(EngineFlags, NetworksModesAndDockersConflicts) {
    using husk::engine::NetworkAttachment;
    using husk::engine::NetworkMode;
    using husk::engine::parse_networks;
    std::vector<NetworkAttachment> atts;
    EXPECT_EQ(parse_networks({}, {}, "", atts), NetworkMode::bridge);
    EXPECT_EQ(parse_networks({"none"}, {}, "", atts), NetworkMode::none);
    EXPECT_TRUE(atts.empty());
    EXPECT_EQ(parse_networks({"front", "back", "front"}, {"db"}, "10.67.0.9", atts),
              NetworkMode::user);
    EXPECT_EQ(atts,
              (std::vector<NetworkAttachment>{{"front", {"db"}, "10.67.0.9"}, {"back", {}, ""}}));
    auto error_of = [](const std::vector<std::string>& v, const std::vector<std::string>& aliases,
                       const std::string& ip) {
        std::vector<NetworkAttachment> out;
        try {
            parse_networks(v, aliases, ip, out);
        } catch (const husk::Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_EQ(error_of({"front", "host"}, {}, ""),
              "conflicting options: cannot attach both user-defined and non-user-defined "
              "network-modes");
    EXPECT_EQ(error_of({"bridge"}, {}, "10.0.0.1"),
              "user specified IP address is supported on user defined networks only");
    EXPECT_EQ(error_of({}, {"db"}, ""),
              "network-scoped alias is supported only for containers in user defined networks");
}

TEST(EngineFlags, Slirp4netnsIsAModeWithPodmansOptions) {
    using husk::engine::NetworkAttachment;
    using husk::engine::NetworkMode;
    using husk::engine::parse_networks;
    using husk::engine::slirp_options_of;
    std::vector<NetworkAttachment> atts;
    EXPECT_EQ(parse_networks({"slirp4netns"}, {}, "", atts), NetworkMode::slirp4netns);
    EXPECT_EQ(parse_networks({"slirp4netns:allow_host_loopback=true"}, {}, "", atts),
              NetworkMode::slirp4netns);
    EXPECT_TRUE(atts.empty());
    EXPECT_EQ(slirp_options_of({"slirp4netns"}), "");
    EXPECT_EQ(slirp_options_of({"slirp4netns:allow_host_loopback=true", "slirp4netns:mtu=1500"}),
              "allow_host_loopback=true,mtu=1500");
    EXPECT_THROW(slirp_options_of({"slirp4netns:cidr=10.1.0.0/24"}), husk::Error);
    EXPECT_EQ(husk::engine::parse_network_mode("slirp4netns"), NetworkMode::slirp4netns);
    try {
        parse_networks({"host", "slirp4netns:mtu=1500"}, {}, "", atts);
        ADD_FAILURE() << "host and slirp4netns taken together";
    } catch (const husk::Error& e) {
        EXPECT_STREQ(e.what(), "conflicting options: network modes host and slirp4netns");
    }
}
