// User namespaces as the container sees them: id maps of several ranges, file
// ownership through them, and idmapped bind mounts (options idmap/ridmap).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "../harness.h"

using namespace husk::test;
using nlohmann::json;

namespace {

json range(uint32_t container, uint32_t host, uint32_t size) {
    return {{"containerID", container}, {"hostID", host}, {"size", size}};
}

// A user namespace with these maps (uids and gids alike); cgroup v1 hierarchies cannot be
// mounted from a user namespace, so the cgroup mount goes.
void use_user_namespace(Bundle& b, const json& maps) {
    ::chmod(b.dir().c_str(), 0755);  // the container's root (a mapped host uid) passes through
    b.config["linux"]["namespaces"].push_back({{"type", "user"}});
    b.config["linux"]["uidMappings"] = maps;
    b.config["linux"]["gidMappings"] = maps;
    auto& m = b.config["mounts"];
    for (auto it = m.begin(); it != m.end();) it = (*it)["type"] == "cgroup" ? m.erase(it) : it + 1;
    b.save();
}

// A host directory <bundle>/data with files owned by the given host ids, bound at /data.
void data_dir(Bundle& b, const std::vector<std::pair<std::string, uid_t>>& files,
              std::vector<std::string> options = {"bind"}, const json& mount_maps = nullptr) {
    std::string dir = b.dir() + "/data";
    ::mkdir(dir.c_str(), 0755);
    ::mkdir((b.rootfs() + "/data").c_str(), 0755);  // a mapped root cannot make it in "/"
    for (const auto& [name, id] : files) {
        std::ofstream(dir + "/" + name) << name;
        EXPECT_EQ(::chown((dir + "/" + name).c_str(), id, id), 0);
    }
    json m = {{"destination", "/data"}, {"type", "bind"}, {"source", dir}, {"options", options}};
    if (!mount_maps.is_null()) m["uidMappings"] = m["gidMappings"] = mount_maps;
    b.config["mounts"].push_back(m);
    b.save();
}

// `husk-probe stat PATH` in the container: {"uid","gid","mode"}.
json stat_in(Bundle& b, const std::string& path) {
    b.args({"/bin/husk-probe", "stat", path});
    return run_probe_json(b);
}

}  // namespace

TEST(UserNs, SeveralRangesInTheMapsAndFileOwnership) {
    Bundle b("rt2-maps");
    // root → 200000, 1..999 → 200001.., 1000 → host 1000 itself, 1001.. → 201001..
    json maps = {range(0, 200000, 1000), range(1000, 1000, 1), range(1001, 201001, 64535)};
    use_user_namespace(b, maps);
    data_dir(
        b, {{"by-1000", 1000}, {"by-200005", 200005}, {"by-201500", 201500}, {"by-host-root", 0}});
    json r = run_probe_json(b);
    EXPECT_EQ(r["uid"], 0);
    std::string want = "0 200000 1000\n1000 1000 1\n1001 201001 64535\n";
    auto squeeze = [](std::string s) {  // the kernel pads the columns
        std::string out;
        bool space = false;
        for (char c : s) {
            if (c == ' ') {
                space = !out.empty() && out.back() != '\n';
                continue;
            }
            if (space && c != '\n') out += ' ';
            space = false;
            out += c;
        }
        return out;
    };
    EXPECT_EQ(squeeze(r["uid_map"].get<std::string>()), want) << r["uid_map"];
    EXPECT_EQ(squeeze(r["gid_map"].get<std::string>()), want) << r["gid_map"];
    EXPECT_EQ(stat_in(b, "/data/by-1000")["uid"], 1000);
    EXPECT_EQ(stat_in(b, "/data/by-200005")["uid"], 5);
    EXPECT_EQ(stat_in(b, "/data/by-201500")["gid"], 1500);
    EXPECT_EQ(stat_in(b, "/data/by-host-root")["uid"], 65534) << "unmapped: the overflow id";
}

TEST(UserNs, IdmappedBindWithTheMountsOwnMappings) {
    Bundle b("rt2-idmap");
    data_dir(b, {{"by-root", 0}, {"by-1000", 1000}}, {"bind", "idmap"}, json{range(0, 1234, 1)});
    auto r = stat_in(b, "/data/by-root");
    EXPECT_EQ(r["uid"], 1234);
    EXPECT_EQ(r["gid"], 1234);
    EXPECT_EQ(stat_in(b, "/data/by-1000")["uid"], 65534) << "outside the mount's mapping";
    struct stat st {};
    ASSERT_EQ(::stat((b.dir() + "/data/by-root").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u) << "the host's view is unchanged";
}

TEST(UserNs, IdmapOptionUsesTheContainersMappings) {
    Bundle b("rt2-idmap-userns");
    use_user_namespace(b, json{range(0, 300000, 65536)});
    data_dir(b, {{"by-root", 0}, {"by-7", 7}}, {"rbind", "ridmap"});
    // Host root's files are the container root's; what it writes is host root's.
    EXPECT_EQ(stat_in(b, "/data/by-root")["uid"], 0);
    EXPECT_EQ(stat_in(b, "/data/by-7")["gid"], 7);
    b.args({"/bin/husk-probe", "write", "/data/new", "x"});
    EXPECT_EQ(run_probe_json(b)["ok"], true);
    struct stat st {};
    ASSERT_EQ(::stat((b.dir() + "/data/new").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
}

TEST(UserNs, IdmapWithoutAnyMappingsNamesTheMount) {
    Bundle b("rt2-idmap-bad");
    data_dir(b, {}, {"bind", "idmap"});
    auto r = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("mounts["), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("uidMappings"), std::string::npos) << r.err;
}

// podman pods: a container joins the pod's user namespace by path and still gets a PID
// namespace of its own (owned by that user namespace, so it can mount its /proc).
TEST(UserNs, JoinUserNamespaceByPathWithANewPidNamespace) {
    Bundle pod("rt2-pod");
    use_user_namespace(pod, json{range(0, 400000, 65536)});
    pod.args({"/bin/sleep", "100"});
    std::string pod_id = pod.id();
    ASSERT_EQ(pod.runtime({"run", "--detach", "--bundle", pod.dir(), pod_id}).status, 0);
    json st = json::parse(pod.runtime({"state", pod_id}).out);
    std::string userns = "/proc/" + std::to_string(st["pid"].get<int>()) + "/ns/user";

    Bundle b("rt2-joinuser");
    ::chmod(b.dir().c_str(), 0755);
    b.config["linux"]["namespaces"].push_back({{"type", "user"}, {"path", userns}});
    // An idmap mount without mappings of its own takes the joined namespace's.
    data_dir(b, {{"by-root", 0}}, {"bind", "idmap"});
    auto& m = b.config["mounts"];
    for (auto it = m.begin(); it != m.end();) it = (*it)["type"] == "cgroup" ? m.erase(it) : it + 1;
    b.save();
    json r = run_probe_json(b);
    json owner = stat_in(b, "/data/by-root")["uid"];
    char link[64] = {};
    ssize_t n = ::readlink(userns.c_str(), link, sizeof link - 1);
    pod.runtime({"delete", "--force", pod_id});
    ASSERT_GT(n, 0);
    EXPECT_EQ(r["namespaces"]["user"], std::string(link, static_cast<size_t>(n)));
    EXPECT_EQ(r["pid"], 1) << "a PID namespace of its own";
    EXPECT_EQ(r["uid"], 0);
    EXPECT_NE(r["uid_map"].get<std::string>().find("400000"), std::string::npos) << r["uid_map"];
    EXPECT_EQ(owner, 0) << "host root's file is the joined namespace's root's";
}

// sysfs belongs to the network namespace's owner: without a network namespace of its
// own, a container in a user namespace gets the host's /sys bound read-only (runc).
TEST(UserNs, SysfsWithoutOwnNetworkNamespaceIsAReadOnlyBind) {
    Bundle b("rt2-usersys");
    use_user_namespace(b, json{range(0, 500000, 65536)});
    auto& ns = b.config["linux"]["namespaces"];
    for (auto it = ns.begin(); it != ns.end();)
        it = (*it)["type"] == "network" ? ns.erase(it) : it + 1;
    b.save();
    json r = run_probe_json(b);
    const json* sys = nullptr;
    for (const auto& m : r["mounts"])
        if (m["target"] == "/sys") sys = &m;
    ASSERT_NE(sys, nullptr) << r["mounts"];
    std::string opts = "," + (*sys)["options"].get<std::string>() + ",";
    EXPECT_NE(opts.find(",ro,"), std::string::npos) << *sys;
    b.args({"/bin/husk-probe", "write", "/sys/kernel/rt2-test", "x"});
    auto w = b.runtime({"run", "--bundle", b.dir(), b.id()});
    EXPECT_EQ(w.status, 1) << "the probe's write must fail: " << w.out << w.err;
    EXPECT_EQ(last_json_line(w.out)["ok"], false);
}
