// The bundle of a container: the OCI config.json built from the image config
// and docker-style flags, plus the files bind-mounted into it (/etc/hostname,
// /etc/hosts, /etc/resolv.conf), in <data root>/containers/<id>/.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "engine/idrange.h"
#include "engine/options.h"
#include "engine/record.h"
#include "image/store.h"
#include "oci/image/types.h"
#include "oci/spec.h"

namespace husk::engine {

struct BundleInputs {
    const oci::image::ImageConfig* image = nullptr;  // null with --rootfs
    std::string rootfs;                              // absolute
    std::string id;
    std::string hostname;
    std::string bundle_dir;                // where hostname, hosts, resolv.conf are written
    std::optional<image::IdShift> userns;  // container ids 0..size-1 -> host uid/gid starts
    // a user namespace to join (with userns's maps: engine/rootless_netns.h), else a new one
    std::string userns_join;
    std::string init_path;  // husk-init on the host, with --init
    // On a user-defined network: its DNS responder (the first network's gateway), the
    // container's one nameserver instead of the host's; --dns servers are the
    // responder's upstreams for this container then (ContainerRecord::dns), as docker's.
    std::string nameserver;
    int host_cpus = 1;
    // Rootless: the options of the overlay the container's init mounts on "/" inside its
    // user namespace (image::Store::prepare_userns_rootfs); empty: `rootfs` is the root.
    std::vector<std::string> root_overlay;
    std::string root_type = "overlay";  // or fuse-overlayfs (where the kernel refuses)
    // The root as this process reaches it before the container runs, when not at `rootfs`
    // (the overlay above is mounted only in the container): a path to it, made on first use.
    std::function<std::string()> host_root;
    std::string root_for_host() const { return host_root ? host_root() : rootfs; }
    // Does the memory controller limit swap (docker's default swap limit)? Empty: asked of
    // the host's cgroup layout.
    std::function<bool()> swap_limit_supported;
};

// docker's Config of the container: the image's defaults (none with --rootfs) changed by
// --entrypoint, the command, -e, -u and -w; throws "no command specified" when there is
// nothing to run.
ContainerConfig container_config(const RunOptions& o, const oci::image::ImageConfig* image);

// Entrypoint + Cmd as docker combines them with --entrypoint and the command given;
// throws "no command specified" when nothing is left.
std::vector<std::string> container_args(const RunOptions& o, const oci::image::ImageConfig* image);

// The config.json of the container: docker's defaults (capabilities, seccomp profile,
// masked and read-only paths, namespaces, mounts) changed by the flags.
oci::Spec build_spec(const RunOptions& o, const BundleInputs& in);

// Writes config.json, hostname, hosts and resolv.conf into in.bundle_dir.
void write_bundle(const oci::Spec& spec, const RunOptions& o, const BundleInputs& in);

// Whether the host's memory controller limits memory+swap (cgroup v1 without swap
// accounting does not); docker only sets its default swap limit where it does.
bool host_swap_limit_supported();

}  // namespace husk::engine
