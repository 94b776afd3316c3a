#include "network/isolation.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/sockios.h>

#include <cstring>
#include <vector>

#include "network/iptables.h"
#include "network/masquerade.h"
#include "sys/error.h"
#include "sys/fd.h"

namespace husk::network {

namespace {

const char* kStage1 = "HUSK-ISOLATION";
const char* kStage2 = "HUSK-ISOLATION-2";

std::vector<std::string> to_stage2(const std::string& bridge) {
    return {"-i", bridge, "!", "-o", bridge, "-j", kStage2};
}
std::vector<std::string> drop_out(const std::string& bridge) {
    return {"-i", bridge, "!", "-o", bridge, "-j", "DROP"};
}
std::vector<std::string> drop_in(const std::string& bridge) {
    return {"-o", bridge, "!", "-i", bridge, "-j", "DROP"};
}

}  // namespace

void remove_isolation(const Network& net) {
    delete_rule("filter", kStage1, to_stage2(net.bridge));
    delete_rule("filter", kStage1, drop_out(net.bridge));
    delete_rule("filter", kStage1, drop_in(net.bridge));
}

void remove_cni_era_rules() {
    if (!has_iptables()) return;
    remove_all_masquerades();
    delete_rule("filter", "CNI-ADMIN", {"-j", kStage1});
    delete_chain("filter", kStage1);
    delete_chain("filter", kStage2);
}

void delete_bridge(const std::string& name) {
    sys::UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!s) throw_sys("socket", name);
    struct ifreq ifr {};
    if (name.size() >= sizeof ifr.ifr_name) throw Error("bridge name too long: " + name);
    std::memcpy(ifr.ifr_name, name.c_str(), name.size() + 1);
    if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) {
        if (errno == ENODEV) return;
        throw_sys("get the flags of", name);
    }
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags & ~IFF_UP);
    if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) throw_sys("take down", name);
    char buf[IFNAMSIZ] = {};
    std::memcpy(buf, name.c_str(), name.size() + 1);
    if (::ioctl(s.get(), SIOCBRDELBR, buf) != 0 && errno != ENXIO && errno != ENODEV)
        throw_sys("delete the bridge", name);
}

}  // namespace husk::network
