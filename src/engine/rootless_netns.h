// A user's own networks (rootless `husk network create`, issue 17), as podman's "rootless
// netns": two containers each in a user namespace of its own have network namespaces with
// sibling owners, and no unprivileged process holds CAP_NET_ADMIN over both, which a veth
// between them needs. So each user gets one long-lived holder process in a user namespace
// with the user's container maps (newuidmap/newgidmap) and a network and mount namespace of
// its own. Containers on a user's network join that user namespace (the spec's user
// namespace path: DIR/userns), so the network namespaces they are born with belong to it.
// The root code connects them unchanged, run in a child that enters the holder's
// namespaces (in_user_netns): bridges, veths, leases, nftables rules and the networks' DNS
// responders all live in the holder's network namespace, their files under the user's
// state (network/statepath.h). slirp4netns (network/slirp.h) joins the holder's namespace
// to the host: outbound traffic (the host's 127.0.0.1 as 10.0.2.2) and published ports,
// added and removed through its API as containers come and go, then DNATed to the
// container by husk's nftables rules there. The holder holds slirp4netns's exit pipe: a
// killed holder takes it along. The holder goes with the last container connected through
// it; a killed one is replaced by the next container that needs it.
// Its directory, DIR = <state root>/.netns-holder:
//   lock         flock'ed while the holder is started, checked or stopped
//   pid          "PID START_TIME" of the holder
//   userns       a symlink to /proc/PID/ns/user: what containers join
//   slirp4netns  slirp4netns's directory (network/usernet.h)
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "network/ports.h"
#include "oci/spec.h"
#include "sys/fd.h"

namespace husk::engine {

struct EngineContext;

// The path a container on a user's network joins as its user namespace.
std::string user_netns_userns(const EngineContext& ctx);

// The running holder: its pid and a pidfd of it, opened and then checked against the
// holder's recorded start time (a process that took a dead holder's pid is never entered).
struct NetnsHolder {
    pid_t pid = 0;
    sys::UniqueFd pidfd;
};

// The holder when it runs.
std::optional<NetnsHolder> user_netns_holder(const EngineContext& ctx);

// The holder's pid, started first unless it runs (with these maps: a container's). What a
// killed holder left (slirp4netns, DNS responders, leases) is removed first, with a note on
// stderr. Throws naming the step (newuidmap, slirp4netns), nothing left running.
pid_t ensure_user_netns(const EngineContext& ctx, const std::vector<oci::IdMapping>& uids,
                        const std::vector<oci::IdMapping>& gids);

// Stops the holder (its slirp4netns and DNS responders too) and removes what it kept, when
// `still_needed` (asked under the holder's lock) says no.
void stop_user_netns(const EngineContext& ctx, const std::function<bool()>& still_needed);

// `fn` in a child process that entered the holder's user, network and mount namespaces
// (root there, as the user is over its container ids); its exception comes back as an
// Error with its message.
void in_user_netns(const NetnsHolder& holder, const std::function<void()>& fn);

// Publishes `ports` (host ports resolved) from the host to the holder's namespace, the
// same port there (husk's DNAT rules take it on to the container); unpublish undoes it
// (never throws: warns).
void publish_user_netns(const EngineContext& ctx, const std::vector<network::PortMapping>& ports);
void unpublish_user_netns(const EngineContext& ctx, const std::vector<network::PortMapping>& ports);

}  // namespace husk::engine
