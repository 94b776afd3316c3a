// CVE-2019-5736 class, the runtime's side: see sys/self_exe.h for the attack and the
// defence. Here: deciding, from the container's config, whether the container could
// write the runtime binary at all, and if so re-executing `create` from a read-only
// mount of it before anything is made. `exec` into a container must call it too.
#pragma once

#include "oci/spec.h"

namespace husk::runtime {

// Could a process of this container open the host's runtime binary for writing, given
// the chance? False only with a new user namespace that does not map the binary's owner.
bool container_may_write_runtime(const oci::Spec& spec);

// When container_may_write_runtime(spec), re-execute from a read-only mount of our own
// binary (returns only if already there, or if that is impossible: logged at debug level).
// Costs one execve of husk-runtime; call it before anything has been created.
// It re-runs the *calling program* with its argv: right for husk-runtime create/run,
// which call it before doing anything. A program using create() in-process after other
// work (the engine) must instead run from a read-only mount already (then this is a
// no-op: sys::self_exe_readonly()), or re-exec at its own start.
void protect_runtime_binary(const oci::Spec& spec);

}  // namespace husk::runtime
