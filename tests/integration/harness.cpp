#include "harness.h"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace husk::test {

namespace {

std::string env_or(const char* name, const char* dflt) {
    const char* v = std::getenv(name);
    return v && *v ? v : dflt;
}

void write_all(const std::string& path, const std::string& data) {
    std::ofstream f(path);
    f << data;
    if (!f) throw std::runtime_error("write " + path);
}

void sh(const std::string& cmd) {
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("command failed: " + cmd);
}

}  // namespace

std::string runtime_bin() {
    return env_or("HUSK_RUNTIME", HUSK_RUNTIME_BIN);
}
std::string probe_bin() {
    return env_or("HUSK_PROBE", HUSK_PROBE_BIN);
}

Result run(const std::vector<std::string>& argv, int timeout_s) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe");
    // argv for execv, made before fork: the child of a threaded test allocates nothing.
    std::vector<char*> a;
    a.reserve(argv.size() + 1);
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
        int devnull = ::open("/dev/null", O_RDONLY);
        ::dup2(devnull, 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        ::execv(a[0], a.data());
        ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    Result r;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    // The child's pidfd turns readable when it exits: its end is seen at once even when a
    // detached container holds the pipes (without pidfds, a waitpid every 200 ms).
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {pidfd, POLLIN, 0}};
    int open_fds = 2;
    bool killed = false, exited = false;
    auto reap = [&] {
        int st = 0;
        ::waitpid(pid, &st, 0);
        r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        pid = -1;
        exited = true;
    };
    // Read until both pipes hit EOF. A detached container may inherit the pipes: stop
    // reading once the child itself has exited and nothing more is buffered.
    while (open_fds > 0) {
        int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        deadline - std::chrono::steady_clock::now())
                                        .count());
        if (left <= 0) {
            if (!killed && !exited) ::kill(pid, SIGKILL);
            killed = !exited;
            break;
        }
        int n = ::poll(fds, 3, exited ? 0 : std::min(left, 200));
        if (n == 0) {
            if (exited) break;
            int st;
            if (::waitpid(pid, &st, WNOHANG) == pid) {
                r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                pid = -1;
                break;
            }
            continue;
        }
        if (fds[2].fd >= 0 && (fds[2].revents & POLLIN)) {
            reap();
            fds[2].fd = -1;
        }
        for (int i = 0; i < 2; ++i) {
            auto& p = fds[i];
            if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP))) continue;
            char buf[4096];
            ssize_t k = ::read(p.fd, buf, sizeof buf);
            if (k <= 0) {
                p.fd = -1;
                --open_fds;
            } else {
                (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(k));
            }
        }
    }
    if (pidfd >= 0) ::close(pidfd);
    ::close(out[0]);
    ::close(err[0]);
    if (pid > 0) {
        int st = 0;
        ::waitpid(pid, &st, 0);
        r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    if (killed) {
        r.status = Result::kTimedOut;
        r.err += "\n[harness: timed out after " + std::to_string(timeout_s) + "s]";
    }
    return r;
}

TempDir::TempDir(const std::string& tag) {
    std::string tmpl = "/tmp/husk-it-" + tag + "-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp");
    path_ = buf.data();
}

TempDir::~TempDir() {
    // Anything still mounted below (a failed test) is detached first.
    for (const auto& line : mounts_under(path_)) {
        std::istringstream in(line);
        std::string f[5];
        for (auto& x : f) in >> x;
        ::umount2(f[4].c_str(), MNT_DETACH);
    }
    std::string cmd = "rm -rf --one-file-system '" + path_ + "'";
    (void)std::system(cmd.c_str());
}

static std::atomic<int> g_counter{0};

Bundle::Bundle(const std::string& tag) : tmp_(tag), tag_(tag) {
    std::string r = rootfs();
    sh("mkdir -p '" + r + "/bin' '" + r + "/proc' '" + r + "/dev' '" + r + "/sys' '" + r +
       "/tmp' '" + r + "/etc' '" + r + "/root'");
    sh("cp /bin/busybox '" + r + "/bin/busybox'");
    sh("cp '" + probe_bin() + "' '" + r + "/bin/husk-probe'");
    for (const char* app :
         {"sh", "ls", "cat", "echo", "sleep", "true", "false", "mkdir", "ps", "mount", "hostname",
          "id", "uname", "env", "kill", "touch", "stat", "readlink"})
        ::symlink("busybox", (r + "/bin/" + app).c_str());
    write_all(r + "/etc/passwd",
              "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
    write_all(r + "/etc/group", "root:x:0:\nnobody:x:65534:\n");
    Result spec = run({runtime_bin(), "spec", "--bundle", dir()});
    if (spec.status != 0) throw std::runtime_error("husk-runtime spec failed: " + spec.err);
    std::ifstream f(dir() + "/config.json");
    config = nlohmann::json::parse(f);
    config["process"]["terminal"] = false;
    config["root"]["readonly"] = false;
    config["process"]["args"] = {"/bin/husk-probe"};
    save();
}

Bundle::~Bundle() {
    // Kill and delete whatever the test left.
    try {
        Result l = runtime({"list", "-q"}, 10);
        std::istringstream in(l.out);
        std::string id;
        while (std::getline(in, id))
            if (!id.empty()) runtime({"delete", "--force", id}, 15);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "cleaning up the bundle's containers: " << e.what();
    }
}

void Bundle::save() const {
    write_all(dir() + "/config.json", config.dump(2));
}

void Bundle::args(const std::vector<std::string>& a) {
    config["process"]["args"] = a;
    save();
}

std::string Bundle::id(const std::string& suffix) const {
    return tag_ + "-" + std::to_string(::getpid()) + "-" + std::to_string(g_counter++) + suffix;
}

Result Bundle::runtime(const std::vector<std::string>& args, int timeout_s) const {
    std::vector<std::string> a{runtime_bin(), "--root", state_root()};
    a.insert(a.end(), args.begin(), args.end());
    return run(a, timeout_s);
}

Result Bundle::runtime_json(const std::vector<std::string>& args) const {
    std::vector<std::string> a{"--log", log_path(), "--log-format", "json"};
    a.insert(a.end(), args.begin(), args.end());
    return runtime(a);
}

nlohmann::json run_probe_json(Bundle& b, const std::vector<std::string>& run_flags) {
    std::vector<std::string> a{"run"};
    a.insert(a.end(), run_flags.begin(), run_flags.end());
    a.insert(a.end(), {"--bundle", b.dir(), b.id()});
    Result r = b.runtime(a);
    if (r.timed_out())
        ADD_FAILURE() << "husk-runtime run hung: " << r.err;
    else if (r.status != 0)
        ADD_FAILURE() << "husk-runtime run: exit " << r.status << ": " << r.err;
    if (r.out.empty()) return nlohmann::json::object();
    return last_json_line(r.out);
}

std::vector<std::string> mounts_under(const std::string& prefix) {
    std::ifstream f("/proc/self/mountinfo");
    std::vector<std::string> out;
    std::string line;
    while (std::getline(f, line)) {
        std::istringstream in(line);
        std::string fields[5];
        for (auto& x : fields) in >> x;
        if (fields[4].rfind(prefix, 0) == 0) out.push_back(line);
    }
    return out;
}

namespace {

struct CgroupFs {
    std::string mountpoint;
    bool v2 = false;
    std::vector<std::string> options;  // the super options: a v1 hierarchy's controllers
};

std::vector<CgroupFs> cgroup_filesystems() {
    std::ifstream f("/proc/self/mountinfo");
    std::vector<CgroupFs> out;
    std::string line;
    while (std::getline(f, line)) {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
        auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream left(line.substr(0, dash)), right(line.substr(dash + 3));
        std::string fields[5], fstype, source, super;
        for (auto& x : fields) left >> x;
        right >> fstype >> source >> super;
        if (fstype != "cgroup" && fstype != "cgroup2") continue;
        CgroupFs fs{fields[4], fstype == "cgroup2", {}};
        std::istringstream opts(super);
        for (std::string o; std::getline(opts, o, ',');) fs.options.push_back(o);
        out.push_back(std::move(fs));
    }
    return out;
}

}  // namespace

std::vector<std::string> cgroup_mounts() {
    std::vector<std::string> out;
    for (const auto& fs : cgroup_filesystems()) out.push_back(fs.mountpoint);
    return out;
}

std::string cgroup_dir(const std::string& name, const std::string& controller) {
    const CgroupFs* v1 = nullptr;
    const CgroupFs* v2 = nullptr;
    auto all = cgroup_filesystems();
    for (const auto& fs : all) {
        if (fs.v2 && !v2) v2 = &fs;
        if (!fs.v2 &&
            std::find(fs.options.begin(), fs.options.end(), controller) != fs.options.end())
            v1 = &fs;
    }
    const CgroupFs* in = v1 ? v1 : v2;
    if (!in) return "";
    for (const auto& d : cgroups_named("/" + name))
        if (d.rfind(in->mountpoint + "/", 0) == 0 && d.substr(d.rfind('/') + 1) == name) return d;
    return "";
}

namespace {

// Directories below `dir` (at most `depth` levels) whose path contains `needle`.
void find_cgroups(const std::string& dir, const std::string& needle, int depth,
                  std::vector<std::string>& out) {
    for (const auto& name : list_dir(dir)) {
        std::string path = dir;
        path += '/';
        path += name;
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        if (path.find(needle) != std::string::npos) out.push_back(path);
        if (depth > 1) find_cgroups(path, needle, depth - 1, out);
    }
}

}  // namespace

std::vector<std::string> cgroups_named(const std::string& needle) {
    std::vector<std::string> out;
    for (const auto& m : cgroup_mounts()) find_cgroups(m, needle, 4, out);
    return out;
}

nlohmann::json last_json_line(const std::string& s) {
    std::istringstream in(s);
    std::string line, last;
    while (std::getline(in, line))
        if (!line.empty()) last = line;
    return nlohmann::json::parse(last);
}

bool alive(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string s;
    if (!std::getline(f, s)) return false;
    auto p = s.rfind(')');
    return p != std::string::npos && p + 2 < s.size() && s[p + 2] != 'Z';
}

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

bool wait_for_file(const std::string& path, int seconds) {
    for (int i = 0; i < seconds * 50; ++i) {
        if (exists(path)) return true;
        ::usleep(20000);
    }
    return exists(path);
}

std::vector<std::string> list_dir(const std::string& path) {
    std::vector<std::string> out;
    DIR* d = ::opendir(path.c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace husk::test
