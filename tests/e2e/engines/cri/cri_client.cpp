// husk-cri-client: a small CRI client (gRPC, runtime.v1) that asks a CRI server (containerd's
// built-in CRI plugin) to run a pod sandbox and a container in it with a given runtime
// handler, as the kubelet would, and checks what it gets back. One line per step:
// "ok STEP" or "FAIL STEP: why". Exit status 0 when every step passed.
//
// usage: husk-cri-client SOCKET HANDLER IMAGE LOG_DIR [CGROUP_PARENT [SHARED_DIR]]
// With SHARED_DIR (a shared mount on the host) the pod is privileged and a container with a
// Bidirectional volume of SHARED_DIR checks mount propagation both ways.
#include <grpcpp/grpcpp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "cri.grpc.pb.h"

namespace cri = runtime::v1;

namespace {

class Client {
  public:
    explicit Client(const std::string& socket)
        : stub_(cri::RuntimeService::NewStub(
              grpc::CreateChannel("unix://" + socket, grpc::InsecureChannelCredentials()))) {}

    // Calls `rpc` with a 60 s deadline; prints the step's line; false on failure.
    template <typename Req, typename Resp>
    bool call(const char* step,
              grpc::Status (cri::RuntimeService::Stub::*rpc)(grpc::ClientContext*, const Req&,
                                                             Resp*),
              const Req& req, Resp& resp) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
        grpc::Status st = (stub_.get()->*rpc)(&ctx, req, &resp);
        if (!st.ok()) return fail(step, st.error_message());
        return true;
    }

    bool fail(const char* step, const std::string& why) {
        std::printf("FAIL %s: %s\n", step, why.c_str());
        failed_ = true;
        return false;
    }
    void ok(const char* step, const std::string& what = "") {
        std::printf("ok   %s%s%s\n", step, what.empty() ? "" : ": ", what.c_str());
    }
    bool failed() const { return failed_; }

    cri::RuntimeService::Stub& stub() { return *stub_; }

  private:
    std::unique_ptr<cri::RuntimeService::Stub> stub_;
    bool failed_ = false;
};

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

cri::PodSandboxConfig sandbox_config(const std::string& log_dir, const std::string& cgroup_parent,
                                     bool privileged) {
    cri::PodSandboxConfig cfg;
    auto* md = cfg.mutable_metadata();
    md->set_name("husk-cri-" + std::to_string(::getpid()));
    md->set_uid("husk-cri-uid-" + std::to_string(::getpid()));
    md->set_namespace_("default");
    cfg.set_log_directory(log_dir);
    // The node's network (this test gives containerd no CNI network), and a PID namespace
    // per container, as the kubelet asks unless a pod sets shareProcessNamespace.
    if (!cgroup_parent.empty()) cfg.mutable_linux()->set_cgroup_parent(cgroup_parent);
    auto* ns = cfg.mutable_linux()->mutable_security_context()->mutable_namespace_options();
    ns->set_network(cri::NODE);
    ns->set_pid(cri::CONTAINER);
    cfg.mutable_linux()->mutable_security_context()->set_privileged(privileged);
    return cfg;
}

// Exec `cmd` in the container; returns false (with the step's FAIL line) on an RPC error.
bool exec_sync(Client& c, const std::string& id, const std::vector<std::string>& cmd,
               cri::ExecSyncResponse& resp) {
    cri::ExecSyncRequest req;
    req.set_container_id(id);
    for (auto& a : cmd) req.add_cmd(a);
    req.set_timeout(30);
    return c.call("ExecSync", &cri::RuntimeService::Stub::ExecSync, req, resp);
}

// Create and start a `sleep 300` container named `name` in the pod, its config completed by
// `configure`. Returns its id, or "" after a FAIL line.
std::string start_sleeper(Client& c, const std::string& pod, const cri::PodSandboxConfig& sb,
                          const std::string& image, const std::string& name,
                          const std::function<void(cri::ContainerConfig&)>& configure) {
    cri::CreateContainerRequest req;
    req.set_pod_sandbox_id(pod);
    *req.mutable_sandbox_config() = sb;
    auto* cfg = req.mutable_config();
    cfg->mutable_metadata()->set_name(name);
    cfg->mutable_image()->set_image(image);
    for (const char* a : {"/bin/sleep", "300"}) cfg->add_command(a);
    *cfg->mutable_linux()->mutable_security_context()->mutable_namespace_options() =
        sb.linux().security_context().namespace_options();
    configure(*cfg);
    cri::CreateContainerResponse resp;
    if (!c.call(("CreateContainer (" + name + ")").c_str(),
                &cri::RuntimeService::Stub::CreateContainer, req, resp))
        return "";
    cri::StartContainerRequest sreq;
    sreq.set_container_id(resp.container_id());
    cri::StartContainerResponse sresp;
    if (!c.call(("StartContainer (" + name + ")").c_str(),
                &cri::RuntimeService::Stub::StartContainer, sreq, sresp))
        return "";
    return resp.container_id();
}

bool stop_and_remove(Client& c, const std::string& id) {
    cri::StopContainerRequest stop;
    stop.set_container_id(id);
    cri::StopContainerResponse stopped;
    cri::RemoveContainerRequest rm;
    rm.set_container_id(id);
    cri::RemoveContainerResponse removed;
    return c.call("StopContainer", &cri::RuntimeService::Stub::StopContainer, stop, stopped) &&
           c.call("RemoveContainer", &cri::RuntimeService::Stub::RemoveContainer, rm, removed);
}

// A second container in the pod's PID namespace (pid POD, as for shareProcessNamespace):
// it sees the sandbox's process (the pause image's sleep) as PID 1. Removed at the end;
// RemovePodSandbox removes it too if a step fails first.
bool shared_pid_container(Client& c, const std::string& pod, const cri::PodSandboxConfig& sb,
                          const std::string& image) {
    std::string id = start_sleeper(c, pod, sb, image, "shared-pid", [](cri::ContainerConfig& cfg) {
        cfg.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
            cri::POD);
    });
    if (id.empty()) return false;
    cri::ExecSyncResponse resp;
    if (!exec_sync(c, id, {"/bin/cat", "/proc/1/cmdline"}, resp)) return false;
    std::string cmdline = resp.stdout();
    for (auto& ch : cmdline)
        if (ch == '\0') ch = ' ';
    while (!cmdline.empty() && cmdline.back() == ' ') cmdline.pop_back();
    if (trim(cmdline).find("sleep infinity") == std::string::npos)
        return c.fail("pod PID namespace", "PID 1 is \"" + cmdline + "\", not the sandbox's sleep");
    c.ok("pod PID namespace", "PID 1 is the sandbox's " + trim(cmdline));
    return stop_and_remove(c, id);
}

// Is `path` a mount point in our (the host's) mount namespace?
bool host_mount_point(const std::string& path) {
    std::ifstream f("/proc/self/mountinfo");
    std::string line;
    while (std::getline(f, line)) {
        std::istringstream in(line);
        std::string field[5];
        for (auto& x : field) in >> x;
        if (field[4] == path) return true;
    }
    return false;
}

// What Kubernetes' mountPropagation: Bidirectional asks: containerd gives the container an
// rshared bind of `shared_dir` (a shared mount of the host) and rootfsPropagation rshared. A
// tmpfs mounted in the container must show on the host, one mounted on the host must show in
// the container (as runc does it).
bool bidirectional_volume(Client& c, const std::string& pod, const cri::PodSandboxConfig& sb,
                          const std::string& image, const std::string& shared_dir) {
    std::string id =
        start_sleeper(c, pod, sb, image, "bidirectional", [&](cri::ContainerConfig& cfg) {
            auto* m = cfg.add_mounts();
            m->set_container_path("/mnt/shared");
            m->set_host_path(shared_dir);
            m->set_propagation(cri::PROPAGATION_BIDIRECTIONAL);
            // To mount in the container.
            cfg.mutable_linux()->mutable_security_context()->set_privileged(true);
        });
    if (id.empty()) return false;
    const std::string c2h = shared_dir + "/c2h", h2c = shared_dir + "/h2c";
    bool ok = true;
    cri::ExecSyncResponse resp;
    if (!exec_sync(
            c, id,
            {"/bin/sh", "-c", "mkdir -p /mnt/shared/c2h && mount -t tmpfs c2h /mnt/shared/c2h"},
            resp))
        return false;
    if (resp.exit_code() != 0)
        ok = c.fail("container-to-host propagation",
                    "mount in the container: " + trim(resp.stderr()));
    else if (!host_mount_point(c2h))
        ok = c.fail("container-to-host propagation", "the container's mount is not on the host");
    else
        c.ok("container-to-host propagation", c2h);
    ::mkdir(h2c.c_str(), 0755);
    if (::mount("h2c", h2c.c_str(), "tmpfs", 0, nullptr) != 0)
        return c.fail("host-to-container propagation", "mount " + h2c + " on the host failed");
    std::ofstream(h2c + "/marker") << "from-host";
    if (!exec_sync(c, id, {"/bin/cat", "/mnt/shared/h2c/marker"}, resp)) return false;
    if (resp.exit_code() != 0 || resp.stdout() != "from-host")
        ok = c.fail("host-to-container propagation",
                    "the host's mount is not in the container: " + trim(resp.stderr()));
    else
        c.ok("host-to-container propagation", "/mnt/shared/h2c");
    ::umount2(c2h.c_str(), MNT_DETACH);
    ::umount2(h2c.c_str(), MNT_DETACH);
    return stop_and_remove(c, id) && ok;
}

bool run(Client& c, const std::string& handler, const std::string& image,
         const std::string& log_dir, const std::string& cgroup_parent,
         const std::string& shared_dir, std::string& pod, std::string& ctr) {
    {
        cri::VersionRequest req;
        cri::VersionResponse resp;
        if (!c.call("Version", &cri::RuntimeService::Stub::Version, req, resp)) return false;
        c.ok("Version", resp.runtime_name() + " " + resp.runtime_version() + ", CRI " +
                            resp.runtime_api_version());
    }
    cri::PodSandboxConfig sb = sandbox_config(log_dir, cgroup_parent, !shared_dir.empty());
    {
        cri::RunPodSandboxRequest req;
        *req.mutable_config() = sb;
        req.set_runtime_handler(handler);
        cri::RunPodSandboxResponse resp;
        if (!c.call("RunPodSandbox", &cri::RuntimeService::Stub::RunPodSandbox, req, resp))
            return false;
        pod = resp.pod_sandbox_id();
        c.ok("RunPodSandbox", "handler " + handler);
    }
    {
        cri::PodSandboxStatusRequest req;
        req.set_pod_sandbox_id(pod);
        cri::PodSandboxStatusResponse resp;
        if (!c.call("PodSandboxStatus", &cri::RuntimeService::Stub::PodSandboxStatus, req, resp))
            return false;
        if (resp.status().state() != cri::SANDBOX_READY)
            return c.fail("PodSandboxStatus", "sandbox not ready");
        c.ok("PodSandboxStatus", "ready, handler " + resp.status().runtime_handler());
    }
    {
        cri::CreateContainerRequest req;
        req.set_pod_sandbox_id(pod);
        *req.mutable_sandbox_config() = sb;
        auto* cfg = req.mutable_config();
        cfg->mutable_metadata()->set_name("main");
        cfg->mutable_image()->set_image(image);
        for (const char* a : {"/bin/sh", "-c", "echo hello-from-cri; exec sleep 300"})
            cfg->add_command(a);
        cfg->set_log_path("main.log");
        cfg->mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(32 << 20);
        *cfg->mutable_linux()->mutable_security_context()->mutable_namespace_options() =
            sb.linux().security_context().namespace_options();
        cri::CreateContainerResponse resp;
        if (!c.call("CreateContainer", &cri::RuntimeService::Stub::CreateContainer, req, resp))
            return false;
        ctr = resp.container_id();
        c.ok("CreateContainer");
    }
    {
        cri::StartContainerRequest req;
        req.set_container_id(ctr);
        cri::StartContainerResponse resp;
        if (!c.call("StartContainer", &cri::RuntimeService::Stub::StartContainer, req, resp))
            return false;
        c.ok("StartContainer");
    }
    auto status = [&](cri::ContainerStatus& out) {
        cri::ContainerStatusRequest req;
        req.set_container_id(ctr);
        cri::ContainerStatusResponse resp;
        if (!c.call("ContainerStatus", &cri::RuntimeService::Stub::ContainerStatus, req, resp))
            return false;
        out = resp.status();
        return true;
    };
    cri::ContainerStatus st;
    if (!status(st)) return false;
    if (st.state() != cri::CONTAINER_RUNNING)
        return c.fail("ContainerStatus", "not running: " + cri::ContainerState_Name(st.state()));
    c.ok("ContainerStatus", "running");
    {
        cri::ExecSyncResponse resp;
        if (!exec_sync(c, ctr,
                       {"/bin/sh", "-c",
                        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || "
                        "cat /sys/fs/cgroup/memory.max"},
                       resp))
            return false;
        if (resp.exit_code() != 0 || trim(resp.stdout()) != std::to_string(32 << 20))
            return c.fail("ExecSync (memory limit)",
                          "exit " + std::to_string(resp.exit_code()) + ", stdout \"" +
                              trim(resp.stdout()) + "\", stderr \"" + trim(resp.stderr()) + "\"");
        c.ok("ExecSync (memory limit)", trim(resp.stdout()));
    }
    {
        cri::ExecSyncResponse resp;
        if (!exec_sync(c, ctr, {"/bin/sh", "-c", "exit 3"}, resp)) return false;
        if (resp.exit_code() != 3)
            return c.fail("ExecSync (exit code)", "got " + std::to_string(resp.exit_code()));
        c.ok("ExecSync (exit code)", "3");
    }
    {
        cri::StopContainerRequest req;
        req.set_container_id(ctr);
        req.set_timeout(1);
        cri::StopContainerResponse resp;
        if (!c.call("StopContainer", &cri::RuntimeService::Stub::StopContainer, req, resp))
            return false;
        if (!status(st)) return false;
        // sleep as PID 1 ignores SIGTERM: killed after the timeout.
        if (st.state() != cri::CONTAINER_EXITED || st.exit_code() != 137)
            return c.fail("StopContainer", cri::ContainerState_Name(st.state()) + ", exit code " +
                                               std::to_string(st.exit_code()));
        c.ok("StopContainer", "exited 137");
    }
    {
        std::ifstream f(log_dir + "/main.log");
        std::stringstream s;
        s << f.rdbuf();
        if (s.str().find("hello-from-cri") == std::string::npos)
            return c.fail("container log", "no hello-from-cri in " + log_dir + "/main.log");
        c.ok("container log", "hello-from-cri");
    }
    if (!shared_pid_container(c, pod, sb, image)) return false;
    return shared_dir.empty() || bidirectional_volume(c, pod, sb, image, shared_dir);
}

void teardown(Client& c, std::string& pod, std::string& ctr) {
    if (!ctr.empty()) {
        cri::RemoveContainerRequest req;
        req.set_container_id(ctr);
        cri::RemoveContainerResponse resp;
        if (c.call("RemoveContainer", &cri::RuntimeService::Stub::RemoveContainer, req, resp))
            c.ok("RemoveContainer");
    }
    if (!pod.empty()) {
        cri::StopPodSandboxRequest sreq;
        sreq.set_pod_sandbox_id(pod);
        cri::StopPodSandboxResponse sresp;
        if (c.call("StopPodSandbox", &cri::RuntimeService::Stub::StopPodSandbox, sreq, sresp))
            c.ok("StopPodSandbox");
        cri::RemovePodSandboxRequest req;
        req.set_pod_sandbox_id(pod);
        cri::RemovePodSandboxResponse resp;
        if (c.call("RemovePodSandbox", &cri::RuntimeService::Stub::RemovePodSandbox, req, resp))
            c.ok("RemovePodSandbox");
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5 || argc > 7) {
        std::fprintf(stderr,
                     "usage: %s SOCKET HANDLER IMAGE LOG_DIR [CGROUP_PARENT [SHARED_DIR]]\n",
                     argv[0]);
        return 2;
    }
    Client c(argv[1]);
    std::string pod, ctr;
    run(c, argv[2], argv[3], argv[4], argc >= 6 ? argv[5] : "", argc == 7 ? argv[6] : "", pod, ctr);
    teardown(c, pod, ctr);
    return c.failed() ? 1 : 0;
}
