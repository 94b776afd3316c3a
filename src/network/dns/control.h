// The DNS responder of a user-defined network (husk-dns, dns/main.cpp) as the engine
// drives it: started with the network's first running container, killed with its last
// (and by `network rm`). Its files are host-wide, as the network's gateway is, under
// /run/husk-dns/<network id>/: a helper's directory (network/daemon.h: lock, pid, log)
// and
//   names  what it answers (names.h), written by the engine whenever a container comes
//          or goes; the responder re-reads it when it changes
#pragma once

#include <string>
#include <vector>

#include "network/dns/names.h"

namespace husk::network::dns {

std::string responder_dir(const std::string& network_id);

// The names of the network and where other names go, atomically (the responder never
// reads half a file).
void write_names(const std::string& network_id, const std::vector<NameEntry>& entries,
                 const Upstreams& upstreams = {});

// Starts `helper` (husk-dns) on `gateway`:53 unless a responder runs; returns once it
// answers, to clients of `subnet` only. On an --internal network (`forward` false) it forwards
// nothing out: other names get SERVFAIL; with `loopback_via` the host's resolvers on its
// loopback are asked at that address (dns/main.cpp). Throws, nothing left running:
//   start the DNS responder of network NAME on 10.89.0.1:53: bind "10.89.0.1:53": ...
void ensure_responder(const std::string& network_id, const std::string& network_name,
                      const std::string& gateway, const std::string& subnet, bool forward,
                      const std::string& helper, const std::string& loopback_via = {});

// Kills the network's responder if one runs, waits for its end and removes its files.
void stop_responder(const std::string& network_id);

}  // namespace husk::network::dns
