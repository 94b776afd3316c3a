// Rootless with a range of ids (/etc/subuid and /etc/subgid): a user's snapshots get the
// owners their layers give, as the user's containers see them (container uid 1000 is the
// range's 1000th id on the host), as podman gets them by unpacking in a user namespace.
// Layers are unpacked as the user with each owner in a record (kOverrideStatXattr, as
// without a range); before a staged snapshot is synced and renamed, one child in a user
// namespace with the user's maps, where the user is root over the range, applies the
// records: chown to the recorded container ids, the mode again, the record removed. The
// maps come from the engine (image/ makes no namespaces through newuidmap); the store
// keeps the ones it shifted for in <data root>/owner-ranges.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "oci/spec.h"
#include "sys/raw_tree.h"

namespace husk::image {

// Container -> host, as a user's container's maps: 0 the user, 1..N the range.
struct UserRanges {
    std::vector<oci::IdMapping> uids, gids;
    bool operator==(const UserRanges& o) const;
};

// How the ranges `now` of a user's maps stand to the ranges `before` a store's files were
// given (the ranges past the user's own id, container ids 1..N, of uids and of gids):
//   same     equal
//   grown    each new range starts where the old one did and holds it: every file's owner
//            is already right, only the record changes
//   moved    apart on the host: the files' owners move from the old ranges to the new
//   overlap  neither: the ranges share host ids at other offsets, an id of both could not
//            be told apart (refused by `husk system migrate`)
enum class RangeChange { same, grown, moved, overlap };
RangeChange range_change(const UserRanges& before, const UserRanges& now);

// "1000000-1065535" for each host range of `m` past the user's own id; "none" without one.
std::string host_ranges(const std::vector<oci::IdMapping>& m);

// `fn` run in a child in a user namespace with the maps `r`, where the user is root over
// the ids they map; `fn` runs between fork and _exit (system calls only, sys/raw_tree.h),
// for a pull is threaded. False, `fn` not run, when the namespace cannot have those maps
// (newuidmap refuses a range /etc/subuid no longer gives the user); throws fn's failure.
using InUserns =
    std::function<bool(const UserRanges& r, const std::function<bool(sys::RawError&)>& fn)>;

struct OwnerShift {
    UserRanges ranges;  // the user's, now
    InUserns run;
};

// Given once by a program that may run as a user (the husk CLI: the engine's rootless
// maps). Without it, or when it answers nothing (root, a user without a range), layers
// stay the user's with their records.
void set_owner_shift(std::function<std::optional<OwnerShift>()> provider);
// The provider's answer, asked once per process.
const std::optional<OwnerShift>& owner_shift();

// The records below the directory `fsfd` applied (in the namespace): each file and
// directory with one is chowned to the recorded ids, its mode set again (chown clears the
// set-id bits) and the record removed. A record naming a uid above `max_uid` or a gid
// above `max_gid` (ids the range does not hold) is kept: that file stays the user's.
bool apply_owner_records_raw(int fsfd, uint32_t max_uid, uint32_t max_gid,
                             sys::RawError& e) noexcept;

// The highest container id of `maps`.
uint32_t max_container_id(const std::vector<oci::IdMapping>& maps);

// The ranges as the store records them ("uid 0 1000 1" lines...), and back (nullopt:
// malformed).
std::string ranges_text(const UserRanges& r);
std::optional<UserRanges> parse_ranges(const std::string& text);

}  // namespace husk::image
