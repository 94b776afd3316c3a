// What `husk system df`, `husk info` and `husk version` report, as the JSON objects docker's
// API returns (GET /system/df, /info, /version), so the CLI and an API front end print
// the same facts.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/run.h"
#include "image/owner_shift.h"

namespace husk::image {
class Store;
struct Image;
}  // namespace husk::image

namespace husk::engine {

// Unpacked size of an image (its snapshots), else the compressed size of its blobs.
uint64_t image_size(image::Store& store, const image::Image& img);

// {"Images":[{Id, RepoTags, Created, Size, Containers}], "Containers":[{Id, Names, Image,
//  Command, Created, State, Status, SizeRw}], "Volumes":[{Name, Size, RefCount}],
//  "LayersSize": bytes of every snapshot once}
nlohmann::json disk_usage(const EngineContext& ctx, image::Store& store);

// Cgroup version as the host mounts it: "2", "1", or "hybrid" (v1 controllers and cgroup2).
std::string cgroup_version();
// "overlay" where the kernel has overlayfs (container roots are overlay mounts), else
// "copy" (each root a copy of its layers).
std::string storage_driver();

// docker's /info keys: Containers, ContainersRunning, ContainersPaused, ContainersStopped,
// Images, Driver, CgroupDriver, CgroupVersion, KernelVersion, OperatingSystem, OSType,
// Architecture, NCPU, MemTotal, Name, DockerRootDir, ServerVersion, DefaultRuntime.
nlohmann::json system_info(const EngineContext& ctx, image::Store& store);

// `husk system migrate` (rootless): a store whose files were given the owners of the
// user's old /etc/subuid and /etc/subgid ranges (owner-ranges) given those of the ranges
// the files give now (podman's `system migrate` is run after those files change; it
// re-creates its pause process, the layers' owners stay). From one user namespace holding
// both ranges (newuidmap allows it only while both are the user's): the layers, the
// container and build-step roots and the volumes, each file of the old range's id k
// given the new range's k, and the owner records of layers unpacked while the ranges
// differed applied (as a pull applies them); then the maps of the containers made with the old
// ranges (record and config.json), then owner-ranges. Refused in one line when newuidmap refuses
// the old range, the user has no range now, or a container to migrate is running. Idempotent:
// killed at any moment, the next run finishes it.
struct MigrateReport {
    size_t containers = 0;  // whose maps were changed
    bool migrated = false;  // false: nothing to do
};
MigrateReport migrate_store(const EngineContext& ctx, image::Store& store);

// {"Client":{Version, Os, Arch, Compiler}, "Server":{Version, KernelVersion, CgroupVersion,
//  StorageDriver, Runtime:{Name, Version, OciVersion}}}
nlohmann::json version_info();

}  // namespace husk::engine
