// --proc-virtualize: the files, their mounts, the time offset, the sysinfo filter and
// the per-container server (procvirt.h explains the design).
#include "runtime/procvirt.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "runtime/cgroup/backends.h"
#include "runtime/cgroup/file.h"
#include "runtime/init.h"
#include "runtime/plan.h"
#include "runtime/procvirt_render.h"
#include "runtime/sync.h"
#include "sys/error.h"
#include "sys/fileutil.h"
#include "sys/proc.h"
#include "sys/syscalls.h"
#include "sys/unix_socket.h"

namespace husk::runtime::procvirt {
namespace {

using sys::UniqueFd;

enum class Kind : uint8_t { meminfo, cpuinfo, stat, loadavg, diskstats, swaps, cpu_list };

struct FileInfo {
    const char* name;    // in the procvirt directory
    const char* target;  // in the container
    const char* host;    // what it is rendered from
    Kind kind;
};

constexpr FileInfo kFiles[] = {
    {"meminfo", "/proc/meminfo", "/proc/meminfo", Kind::meminfo},
    {"cpuinfo", "/proc/cpuinfo", "/proc/cpuinfo", Kind::cpuinfo},
    {"stat", "/proc/stat", "/proc/stat", Kind::stat},
    {"loadavg", "/proc/loadavg", "/proc/loadavg", Kind::loadavg},
    {"diskstats", "/proc/diskstats", "/proc/diskstats", Kind::diskstats},
    {"swaps", "/proc/swaps", "/proc/swaps", Kind::swaps},
    {"cpu-online", "/sys/devices/system/cpu/online", "/sys/devices/system/cpu/online",
     Kind::cpu_list},
    {"cpu-possible", "/sys/devices/system/cpu/possible", "/sys/devices/system/cpu/online",
     Kind::cpu_list},
};

long boottime_secs() {
    timespec ts{};
    ::clock_gettime(CLOCK_BOOTTIME, &ts);
    return ts.tv_sec;
}

// The container's cgroup directories, and how to read each controller's numbers.
class Source {
  public:
    explicit Source(const cgroup::Manager& cg) {
        auto take = [&](const char* v2_name, const char* v1_name, std::string& dir, bool& v2) {
            v2 = cg.is_v2(v2_name);
            dir = cg.dir_of(v2 ? v2_name : v1_name);
        };
        take("memory", "memory", mem_, mem_v2_);
        take("cpu", "cpu", cpu_, cpu_v2_);
        take("cpu", "cpuacct", acct_, acct_v2_);
        take("cpuset", "cpuset", cpuset_, cpuset_v2_);
        take("io", "blkio", io_, io_v2_);
        bool v2 = false;
        take("pids", "pids", pids_, v2);
        procs_ = !pids_.empty() ? pids_ : !mem_.empty() ? mem_ : cpu_;
    }

    CgroupView view(Kind k) const {
        CgroupView v;
        memory(v);  // every file needs the limits (to know whether to rewrite)
        cpu_limits(v);
        if (k == Kind::stat) cpu_usage(v);
        if (k == Kind::stat || k == Kind::loadavg) tasks(v, true);
        if (k == Kind::diskstats) disks(v);
        return v;
    }
    CgroupView cpu_view() const {
        CgroupView v;
        cpu_limits(v);
        return v;
    }
    const std::string& procs_dir() const { return procs_; }
    CgroupView sysinfo_view() const {
        CgroupView v;
        memory(v);
        tasks(v, false);  // sysinfo has procs, not how many run
        return v;
    }

  private:
    void memory(CgroupView& v) const {
        if (mem_.empty()) return;
        using cgroup::read_u64;
        v.v1_memory = !mem_v2_;
        v.mem_stat = cgroup::read_flat(mem_, "memory.stat");
        if (mem_v2_) {
            v.mem_limit = read_u64(mem_, "memory.max");
            v.mem_usage = read_u64(mem_, "memory.current");
            v.swap_known = cgroup::file_exists(mem_, "memory.swap.max");
            if (v.swap_known) {
                v.swap_limit = read_u64(mem_, "memory.swap.max");
                v.swap_usage = read_u64(mem_, "memory.swap.current");
            }
            if (v.mem_limit == 0) v.mem_limit = kUnlimited;
            return;
        }
        v.mem_limit = read_u64(mem_, "memory.limit_in_bytes");
        v.mem_usage = read_u64(mem_, "memory.usage_in_bytes");
        // v1 accounts memory+swap together: swap is the difference.
        v.swap_known = cgroup::file_exists(mem_, "memory.memsw.limit_in_bytes");
        if (v.swap_known) {
            uint64_t sw_limit = read_u64(mem_, "memory.memsw.limit_in_bytes");
            uint64_t sw_usage = read_u64(mem_, "memory.memsw.usage_in_bytes");
            v.swap_limit = sw_limit >= (1ULL << 62) || sw_limit < v.mem_limit
                               ? kUnlimited
                               : sw_limit - v.mem_limit;
            v.swap_usage = sw_usage > v.mem_usage ? sw_usage - v.mem_usage : 0;
        }
        // "no limit" on v1 is a huge page-aligned number
        if (v.mem_limit == 0 || v.mem_limit >= (1ULL << 62)) v.mem_limit = kUnlimited;
    }

    void cpu_limits(CgroupView& v) const {
        std::string text;
        if (!cpu_.empty() && cpu_v2_ && cgroup::try_read_file(cpu_ + "/cpu.max", text)) {
            unsigned long long q = 0, p = 0;
            if (std::sscanf(text.c_str(), "%llu %llu", &q, &p) == 2) {
                v.cpu_quota_us = q;
                v.cpu_period_us = p;
            }
        } else if (!cpu_.empty() && !cpu_v2_ &&
                   cgroup::try_read_file(cpu_ + "/cpu.cfs_quota_us", text)) {
            long long q = std::strtoll(text.c_str(), nullptr, 10);
            if (q > 0) {
                v.cpu_quota_us = static_cast<uint64_t>(q);
                v.cpu_period_us = cgroup::read_u64(cpu_, "cpu.cfs_period_us");
            }
        }
        if (!cpuset_.empty() &&
            (cgroup::try_read_file(
                 cpuset_ + (cpuset_v2_ ? "/cpuset.cpus.effective" : "/cpuset.effective_cpus"),
                 text) ||
             cgroup::try_read_file(cpuset_ + "/cpuset.cpus", text)))
            v.cpuset = parse_cpu_list(text);
    }

    void cpu_usage(CgroupView& v) const {
        if (acct_.empty()) return;
        if (acct_v2_) {
            auto st = cgroup::read_flat(acct_, "cpu.stat");
            v.cpu_user_us = st["user_usec"];
            v.cpu_system_us = st["system_usec"];
            return;
        }
        v.cpu_user_us = cgroup::read_u64(acct_, "cpuacct.usage_user") / 1000;
        v.cpu_system_us = cgroup::read_u64(acct_, "cpuacct.usage_sys") / 1000;
    }

    void tasks(CgroupView& v, bool count_running) const {
        if (procs_.empty()) return;
        std::vector<pid_t> pids = cgroup::read_procs(procs_, /*recursive=*/true);
        v.tasks = pids.size();
        if (!count_running) return;
        for (pid_t pid : pids) {
            std::string st;
            if (!cgroup::try_read_file(fmt::format("/proc/{}/stat", pid), st)) continue;
            size_t paren = st.rfind(')');
            if (paren != std::string::npos && paren + 2 < st.size() && st[paren + 2] == 'R')
                ++v.running;
        }
        // The reader of the file waits for us (asleep) but is runnable as the kernel counts.
        if (v.running == 0 && v.tasks > 0) v.running = 1;
    }

    void disks(CgroupView& v) const {
        if (io_.empty()) return;
        cgroup::Stats s;
        if (io_v2_)
            cgroup::v2::io_stats(io_, s);
        else
            cgroup::v1::blkio_stats(io_, s);
        auto disk = [&](const cgroup::BlkioEntry& e) -> DiskIo& {
            for (auto& d : v.disks)
                if (d.major == e.major && d.minor == e.minor) return d;
            return v.disks.emplace_back(DiskIo{e.major, e.minor, 0, 0, 0, 0});
        };
        for (const auto& e : s.io_service_bytes) {
            if (e.op == "Read") disk(e).read_bytes = e.value;
            if (e.op == "Write") disk(e).write_bytes = e.value;
        }
        for (const auto& e : s.io_serviced) {
            if (e.op == "Read") disk(e).reads = e.value;
            if (e.op == "Write") disk(e).writes = e.value;
        }
    }

    std::string mem_, cpu_, acct_, cpuset_, io_, pids_, procs_;
    bool mem_v2_ = false, cpu_v2_ = false, acct_v2_ = false, cpuset_v2_ = false, io_v2_ = false;
};

std::string render(const FileInfo& f, const Source& src, LoadAverage& load) {
    std::string host = sys::read_file(f.host);
    CgroupView v = src.view(f.kind);
    switch (f.kind) {
        case Kind::meminfo:
            return render_meminfo(host, v);
        case Kind::swaps:
            return render_swaps(host, v);
        case Kind::diskstats:
            return render_diskstats(host, v);
        case Kind::loadavg:
            load.sample(static_cast<double>(boottime_secs()), v.running);
            return render_loadavg(host, load.avg, v);
        case Kind::cpuinfo:
        case Kind::stat:
        case Kind::cpu_list:
            break;
    }
    std::vector<unsigned> online = parse_cpu_list(sys::read_file("/sys/devices/system/cpu/online"));
    std::vector<unsigned> cpus = visible_cpus(v, online);
    if (f.kind == Kind::cpuinfo) return render_cpuinfo(host, cpus);
    if (f.kind == Kind::stat) return render_stat(host, v, cpus, ::sysconf(_SC_CLK_TCK));
    return render_cpu_range(cpus.size());
}

// Replace the content of the open file `fd` by `text`.
void put(int fd, const std::string& text) {
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::pwrite(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<size_t>(n);
    }
    (void)!::ftruncate(fd, static_cast<off_t>(text.size()));
}

bool mounts_at(const oci::Spec& spec, const char* dest, const char* type) {
    for (const auto& m : spec.mounts)
        if (m.destination == dest && (m.type == type || m.type == "bind" || m.type.empty()))
            return true;
    return false;
}

bool has_user_notify(const oci::Spec& spec) {
    if (!spec.linux_ || !spec.linux_->seccomp) return false;
    const auto& sc = *spec.linux_->seccomp;
    if (!sc.listener_path.empty() || sc.default_action == "SCMP_ACT_NOTIFY") return true;
    for (const auto& s : sc.syscalls)
        if (s.action == "SCMP_ACT_NOTIFY") return true;
    return false;
}

// ---- the server ---------------------------------------------------------------------

struct Server {
    std::string dir;
    Source src;
    long start_boottime = 0;
    // seccomp notify fds: the init's (if any), then each exec'd process's, with the tag
    // its runtime sent it under (pass_listener; empty for the init's)
    struct Listener {
        UniqueFd fd;
        std::string tag;
    };
    std::vector<Listener> listeners;
    int init_pidfd = -1;
    int inbox = -1;  // notify.sock: exec'd processes' listeners arrive there (SCM_RIGHTS)
    // the server passes each of them on to its standby through it; the standby receives
    // them on its end
    sys::UniqueFd handoff;
    int standbys = 0;  // standbys this server started (a bound, should they crash)
    LoadAverage load;
    // Each file, opened for writing before any mark exists (an open of ours after
    // would wait for ourselves). fanotify's own event fds are read-only: the container
    // opens through a read-only bind, and an event whose fd cannot be opened is denied.
    struct Marked {
        const FileInfo* file;
        ino_t ino;
        int fd;
        // after a render its mark is off until then (CLOCK_MONOTONIC ns; 0: marked);
        // notify_only: no render before then
        int64_t fresh_until = 0;
        // notify_only: read since its last render, which is due at fresh_until
        bool pending = false;
        // notify_only: the file's handle as fanotify reports it (FAN_REPORT_FID)
        std::string handle;
    };
    std::vector<Marked> marked;
    // Without permission events (rootless: they take CAP_SYS_ADMIN on the host),
    // FAN_CLOSE_NOWRITE notifications: an open does not wait; the server re-renders the
    // file once a reader has closed it, so the next reader reads numbers as old as the
    // last read (procvirt.h).
    bool notify_only = false;
};

// How long a rendered file is read as it is: opens in that time are not held for a new
// render (their values are at most this old), so a program polling a file pays the
// server's round trip once per window instead of on every open.
constexpr int64_t kFreshNs = 5'000'000;

int64_t monotonic_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

#ifndef AT_HANDLE_FID
#define AT_HANDLE_FID 0x200  // Linux 6.5: the handle fanotify reports (linux/fcntl.h)
#endif

// handle_type and f_handle of the open file `fd`, encoded as FAN_REPORT_FID encodes it
// (AT_HANDLE_FID; older kernels: the ordinary handle, the same on most filesystems).
// Empty when the filesystem has no handles: its events then re-render every file.
std::string file_handle_of(int fd) {
    struct {
        file_handle h;
        unsigned char bytes[MAX_HANDLE_SZ];
    } buf{};
    int mount_id = 0;
    for (int flags : {AT_EMPTY_PATH | AT_HANDLE_FID, AT_EMPTY_PATH}) {
        buf.h.handle_bytes = MAX_HANDLE_SZ;
        if (::name_to_handle_at(fd, "", &buf.h, &mount_id, flags) == 0)
            return {reinterpret_cast<const char*>(&buf.h.handle_type),
                    sizeof buf.h.handle_type + buf.h.handle_bytes};
    }
    return {};
}

// The files this container has (those mounted), opened for writing; owned by `fds`.
void open_files(Server& s, std::vector<UniqueFd>& fds) {
    for (const auto& f : kFiles) {
        std::string path = fmt::format("{}/{}", s.dir, f.name);
        UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
        if (!fd) {
            if (errno == ENOENT) continue;  // not mounted in this container
            throw_sys("open", path);
        }
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) throw_sys("stat", path);
        s.marked.push_back(
            {&f, st.st_ino, fd.get(), 0, false, s.notify_only ? file_handle_of(fd.get()) : ""});
        fds.push_back(std::move(fd));
    }
}

// A fanotify group with a FAN_OPEN_PERM mark on each file; with s.notify_only (rootless:
// permission events take CAP_SYS_ADMIN on the host) one of FAN_CLOSE_NOWRITE
// notifications by file handle, which an unprivileged user may have. After the close
// rather than the open: a render right after an open would rewrite the file while its
// reader reads it.
UniqueFd make_group(Server& s) {
    auto init = [&s] {
        return UniqueFd(::fanotify_init(
            FAN_CLOEXEC | FAN_NONBLOCK |
                (s.notify_only ? FAN_CLASS_NOTIF | FAN_REPORT_FID : FAN_CLASS_CONTENT),
            O_RDONLY | O_CLOEXEC | O_LARGEFILE));
    };
    UniqueFd fan = init();
    if (!fan && errno == EPERM && !s.notify_only) {
        // refused after all (root of a user namespace nobody told us of): notifications
        s.notify_only = true;
        for (auto& m : s.marked) m.handle = file_handle_of(m.fd);
        fan = init();
    }
    const bool n = s.notify_only;
    if (!fan)
        throw_sys(n ? "fanotify_init (FAN_CLASS_NOTIF, FAN_REPORT_FID)"
                    : "fanotify_init (FAN_CLASS_CONTENT)");
    const uint64_t mask = n ? FAN_CLOSE_NOWRITE : FAN_OPEN_PERM;
    for (const auto& m : s.marked) {
        std::string path = fmt::format("{}/{}", s.dir, m.file->name);
        if (::fanotify_mark(fan.get(), FAN_MARK_ADD, mask, AT_FDCWD, path.c_str()) != 0)
            throw_sys(n ? "fanotify_mark FAN_CLOSE_NOWRITE" : "fanotify_mark FAN_OPEN_PERM", path);
    }
    return fan;
}

// The file an event (notify_only) names by its handle; nullptr when none of ours is
// (or the event has no handle: a queue overflow).
Server::Marked* event_file(Server& s, const fanotify_event_metadata* ev) {
    const char* p = reinterpret_cast<const char*>(ev) + ev->metadata_len;
    const char* end = reinterpret_cast<const char*>(ev) + ev->event_len;
    while (p + sizeof(fanotify_event_info_header) <= end) {
        fanotify_event_info_header hdr{};
        std::memcpy(&hdr, p, sizeof hdr);
        if (hdr.len < sizeof hdr || p + hdr.len > end) break;
        size_t at = offsetof(fanotify_event_info_fid, handle);
        if (hdr.info_type == FAN_EVENT_INFO_TYPE_FID && hdr.len >= at + sizeof(file_handle)) {
            file_handle fh{};
            std::memcpy(&fh, p + at, sizeof fh);
            size_t n = std::min<size_t>(fh.handle_bytes, hdr.len - at - sizeof fh);
            std::string h(reinterpret_cast<const char*>(&fh.handle_type), sizeof fh.handle_type);
            h.append(p + at + sizeof fh, n);
            for (auto& m : s.marked)
                if (!m.handle.empty() && m.handle == h) return &m;
            return nullptr;
        }
        p += hdr.len;
    }
    return nullptr;
}

void render_into(Server& s, Server::Marked& m) {
    try {
        put(m.fd, render(*m.file, s.src, s.load));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "husk-procvirt: %s: %s\n", m.file->name, e.what());
    }
}

// notify_only: each file read (closed) since we last looked is due for a render (every
// file for an event we cannot place: an overflow), done by render_due.
void answer_open_notifications(Server& s, int fan) {
    alignas(fanotify_event_metadata) char buf[4096];
    for (;;) {
        ssize_t n = ::read(fan, buf, sizeof buf);
        if (n <= 0) break;
        auto* ev = reinterpret_cast<fanotify_event_metadata*>(buf);
        for (; FAN_EVENT_OK(ev, n); ev = FAN_EVENT_NEXT(ev, n)) {
            if (ev->fd >= 0) ::close(ev->fd);  // none with FAN_REPORT_FID; should one come
            if (Server::Marked* m = event_file(s, ev))
                m->pending = true;
            else
                for (auto& each : s.marked) each.pending = true;
        }
    }
}

// notify_only: renders the files due (read since their last render, which was at least
// kFreshNs ago: a program polling a file costs one render per window, as with
// permission events); returns poll's timeout until the next one is due (-1: none).
int render_due(Server& s) {
    int64_t now = monotonic_ns(), next = -1;
    for (auto& m : s.marked) {
        if (!m.pending) continue;
        if (m.fresh_until <= now) {
            render_into(s, m);
            m.pending = false;
            m.fresh_until = now + kFreshNs;
        } else if (next < 0 || m.fresh_until < next) {
            next = m.fresh_until;
        }
    }
    return next < 0 ? -1 : static_cast<int>((next - now + 999'999) / 1'000'000);
}

// Renders each file an open waits for (once, however many opens of it are queued) and
// allows the opens; then takes the file's mark off for kFreshNs (events already queued
// still come, and are allowed without a render while the file is fresh).
void answer_opens(Server& s, int fan) {
    alignas(fanotify_event_metadata) char buf[4096];
    std::vector<Server::Marked*> rendered;
    for (;;) {
        ssize_t n = ::read(fan, buf, sizeof buf);
        if (n <= 0) break;
        auto* ev = reinterpret_cast<fanotify_event_metadata*>(buf);
        for (; FAN_EVENT_OK(ev, n); ev = FAN_EVENT_NEXT(ev, n)) {
            if (ev->fd < 0) continue;
            UniqueFd file(ev->fd);
            struct stat st {};
            auto m = ::fstat(file.get(), &st) != 0
                         ? s.marked.end()
                         : std::find_if(s.marked.begin(), s.marked.end(),
                                        [&](const auto& f) { return f.ino == st.st_ino; });
            if (m != s.marked.end() && m->fresh_until == 0) {
                render_into(s, *m);
                m->fresh_until = -1;  // rendered: its window starts once the opens are allowed
                rendered.push_back(&*m);
            }
            fanotify_response r{};
            r.fd = ev->fd;
            r.response = FAN_ALLOW;
            (void)!::write(fan, &r, sizeof r);
        }
    }
    int64_t until = monotonic_ns() + kFreshNs;
    for (auto* m : rendered) {
        // the mark by the file's inode (our fd); should it fail, the file stays marked
        if (::fanotify_mark(fan, FAN_MARK_REMOVE, FAN_OPEN_PERM, m->fd, nullptr) == 0)
            m->fresh_until = until;
        else
            m->fresh_until = 0;
    }
}

// Marks again the files whose window is over; returns poll's timeout until the next
// one ends (-1: none is fresh).
int mark_stale(Server& s, int fan) {
    int64_t now = monotonic_ns(), next = -1;
    for (auto& m : s.marked) {
        if (m.fresh_until <= 0) continue;
        if (m.fresh_until <= now) {
            if (::fanotify_mark(fan, FAN_MARK_ADD, FAN_OPEN_PERM, m.fd, nullptr) != 0)
                std::fprintf(stderr, "husk-procvirt: fanotify_mark %s: %s\n", m.file->name,
                             std::strerror(errno));
            m.fresh_until = 0;
        } else if (next < 0 || m.fresh_until < next) {
            next = m.fresh_until;
        }
    }
    return next < 0 ? -1 : static_cast<int>((next - now + 999'999) / 1'000'000);
}

// `len` bytes of `data` into the caller's memory at `addr`; false when not all went or
// the call on `listener` is no longer waiting. seccomp_unotify(2)'s order: open the
// caller's memory, then check the call still waits (so the pid is still the caller's and
// the open reached its memory, not that of a process that reused the pid), then write.
bool write_caller(int listener, const seccomp_notif& req, uint64_t addr, const void* data,
                  size_t len) {
    UniqueFd mem(::open(fmt::format("/proc/{}/mem", req.pid).c_str(), O_WRONLY | O_CLOEXEC));
    if (!mem) return false;
    uint64_t id = req.id;
    if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0) return false;
    return ::pwrite(mem.get(), data, len, static_cast<off_t>(addr)) == static_cast<ssize_t>(len);
}

// sysinfo(2): the container's numbers into the caller's struct.
void answer_sysinfo(Server& s, int listener, const seccomp_notif& req, seccomp_notif_resp& resp) {
    struct sysinfo si {};
    try {
        si = render_sysinfo(s.src.sysinfo_view(), sys::read_file("/proc/meminfo"), s.load,
                            boottime_secs() - s.start_boottime);
    } catch (const std::exception&) {
        ::sysinfo(&si);  // our own host numbers rather than nothing
    }
    if (!write_caller(listener, req, req.data.args[0], &si, sizeof si)) {
        resp.error = -EFAULT;
    }
}

// The largest mask the kernel copies out (CONFIG_NR_CPUS is at most 8192).
constexpr size_t kMaskBytes = 1024;

// The host id of the task (process or thread) the caller, host task `caller`, names
// `pid` in its own PID namespace; 0 when it is not one of the container's tasks.
pid_t host_task(const Server& s, pid_t caller, pid_t pid) {
    if (pid == 0) return caller;
    std::vector<pid_t> mine = sys::ns_pids(caller);
    if (mine.empty()) return 0;
    size_t level = mine.size() - 1;
    if (mine[level] == pid) return caller;
    for (pid_t proc : cgroup::read_procs(s.src.procs_dir(), /*recursive=*/true)) {
        std::error_code ec;
        std::filesystem::directory_iterator it(fmt::format("/proc/{}/task", proc), ec), end;
        for (; !ec && it != end; it.increment(ec)) {
            auto tid = static_cast<pid_t>(std::strtol(it->path().filename().c_str(), nullptr, 10));
            std::vector<pid_t> ids = sys::ns_pids(tid);
            if (ids.size() > level && ids[level] == pid) return tid;
        }
    }
    return 0;
}

// sched_getaffinity(pid, len, mask): the task's real mask cut to the first
// ceil(quota/period) CPUs, with the kernel's return value (the size copied) and errors.
// Without a quota, for a task not of the container, or when the mask is no wider, the
// kernel answers (CONTINUE: it decides nothing about security here). The real affinity
// is left alone.
void answer_affinity(const Server& s, int listener, const seccomp_notif& req,
                     seccomp_notif_resp& resp) {
    size_t keep = quota_cpus(s.src.cpu_view());
    auto caller = static_cast<pid_t>(req.pid);
    pid_t target = keep > 0 ? host_task(s, caller, static_cast<pid_t>(req.data.args[0])) : 0;
    if (target == 0) {
        resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        return;
    }
    auto len = static_cast<unsigned>(req.data.args[1]);
    if (len > kMaskBytes && len % sizeof(long) != 0) {  // the kernel's own check
        resp.error = -EINVAL;
        return;
    }
    unsigned char mask[kMaskBytes] = {};
    long n = ::syscall(SYS_sched_getaffinity, target, std::min<size_t>(len, kMaskBytes), mask);
    if (n < 0) {
        resp.error = -errno;
        return;
    }
    if (!narrow_affinity(mask, static_cast<size_t>(n), keep)) {
        resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        return;
    }
    if (!write_caller(listener, req, req.data.args[2], mask, static_cast<size_t>(n))) {
        resp.error = -EFAULT;
        return;
    }
    resp.val = n;
}

// One notification on `listener`. False when the listener is of no more use.
bool answer_call(Server& s, int listener) {
    seccomp_notif req{};
    if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0)
        return errno == ENOENT || errno == EINTR;  // the caller went away
    seccomp_notif_resp resp{};
    resp.id = req.id;
    try {
        if (req.data.nr == SYS_sysinfo)
            answer_sysinfo(s, listener, req, resp);
        else if (req.data.nr == SYS_sched_getaffinity)
            answer_affinity(s, listener, req, resp);
        else
            resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "husk-procvirt: syscall %d: %s\n", req.data.nr, e.what());
        resp = seccomp_notif_resp{req.id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE};
    }
    (void)::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    return true;
}

void replace_standby(Server& s);

// A listener we hold already: passed to us (a standby) by a server that died before it
// took the datagram off the inbox.
bool holds(const Server& s, const std::string& tag) {
    return !tag.empty() && std::any_of(s.listeners.begin(), s.listeners.end(),
                                       [&](const Server::Listener& l) { return l.tag == tag; });
}

// An exec'd process's listener from the inbox: a copy to the standby first (peeked: the
// datagram stays queued), then taken off the inbox and kept. A server that dies at any
// point leaves the listener with its standby, queued or passed (then known by its tag).
void take_listener(Server& s) {
    UniqueFd fd;
    std::string tag;
    try {
        if (s.handoff) {
            UniqueFd peeked;
            try {
                peeked.reset(sys::recv_fd(s.inbox, &tag, MSG_PEEK));
            } catch (const std::exception&) {
                // a datagram without a listener: the receive below takes it off and says
                // why (left there, it would stay first on the inbox for ever)
            }
            // a standby gone (EPIPE) is replaced by serve() when it sees the hang-up: the
            // new one has every listener, this one too; another failure keeps the
            // standby without it
            if (peeked && !holds(s, tag) &&
                sys::send_fd(s.handoff.get(), peeked.get(), tag.data(), tag.size()) < 0)
                std::fprintf(stderr, "husk-procvirt: pass a listener to the standby: %s\n",
                             std::strerror(errno));
        }
        fd.reset(sys::recv_fd(s.inbox, &tag));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "husk-procvirt: %s\n", e.what());
        return;
    }
    if (!holds(s, tag)) s.listeners.push_back({std::move(fd), std::move(tag)});
}

// Drop the listeners whose poll entry (from `first` on in `p`, one each, in order)
// says hung up: no task carries their filter any more.
void drop_unused(Server& s, const std::vector<pollfd>& p, size_t first) {
    for (size_t i = s.listeners.size(); i-- > 0;) {
        short ev = p[first + i].revents;
        if ((ev & (POLLHUP | POLLERR | POLLNVAL)) && !(ev & POLLIN))
            s.listeners.erase(s.listeners.begin() + static_cast<std::ptrdiff_t>(i));
    }
}

[[noreturn]] void serve(Server& s, UniqueFd fan) {
    std::vector<pollfd> p;
    for (;;) {
        p.assign({{fan.get(), POLLIN, 0}, {s.init_pidfd, POLLIN, 0}, {s.inbox, POLLIN, 0}});
        for (const auto& l : s.listeners) p.push_back({l.fd.get(), POLLIN, 0});
        if (s.handoff) p.push_back({s.handoff.get(), 0, 0});  // the standby's end: hang-ups
        int timeout = s.notify_only ? render_due(s) : mark_stale(s, fan.get());
        if (::poll(p.data(), p.size(), timeout) < 0) {
            if (errno == EINTR) continue;
            ::_exit(1);
        }
        if (p[1].revents) ::_exit(0);  // the container's init is gone
        if ((p[0].revents & POLLIN) && s.notify_only)
            answer_open_notifications(s, fan.get());  // rendered by render_due, next round
        else if (p[0].revents & POLLIN)
            answer_opens(s, fan.get());
        for (size_t i = s.listeners.size(); i-- > 0;) {
            if ((p[3 + i].revents & POLLIN) && !answer_call(s, s.listeners[i].fd.get()))
                p[3 + i].revents = POLLERR;
        }
        bool standby_gone = s.handoff && p.back().fd == s.handoff.get() && p.back().revents;
        drop_unused(s, p, 3);
        if (standby_gone) replace_standby(s);
        if (p[2].revents & POLLIN) take_listener(s);
    }
}

void detach(const char* name, int log, const std::vector<int>& keep);
[[noreturn]] void standby(Server& s, UniqueFd server, UniqueFd handoff);

// A standby for the server `s` that we are (a standby that took over): a grandchild, so
// that it goes to the subreaper as the first one did, and names itself in standby.pid.
// Returns our end of its hand-off socket (the server's s.handoff); an empty fd when it
// could not be started (we serve on without one).
UniqueFd spawn_standby(Server& s) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return {};
    UniqueFd to_standby(sv[0]), from_server(sv[1]);
    UniqueFd me(sys::pidfd_open(::getpid()));
    if (!me) return {};
    std::vector<int> keep = {s.init_pidfd, s.inbox, me.get(), from_server.get()};
    for (const auto& l : s.listeners) keep.push_back(l.fd.get());
    for (const auto& m : s.marked) keep.push_back(m.fd);
    std::fflush(nullptr);
    pid_t mid = ::fork();
    if (mid < 0) return {};
    if (mid == 0) {  // we are one-threaded: the child may allocate
        pid_t pid = ::fork();
        if (pid != 0) ::_exit(pid < 0 ? 1 : 0);
        (void)s.handoff.release();  // our server's end, closed by detach: not ours to close
        s.standbys = 0;
        try {
            sys::write_file_atomic(fmt::format("{}/standby.pid", s.dir), std::to_string(::getpid()),
                                   0644);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "husk-procvirt standby: %s\n", e.what());
        }
        detach("husk-procv-sby", STDERR_FILENO, keep);
        standby(s, std::move(me), std::move(from_server));
    }
    int status = 0;
    while (::waitpid(mid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {};
    return to_standby;
}

// At most this many standbys started by one server (one that keeps dying at once must
// not make its server fork for ever).
constexpr int kMaxStandbys = 16;

// Our standby is gone (or we are one that took over): start another.
void replace_standby(Server& s) {
    s.handoff.reset();
    if (s.standbys++ >= kMaxStandbys) return;
    s.handoff = spawn_standby(s);
}

// The standby: keeps a copy of every listener the server takes (and lets go of those
// hung up) and sleeps until the server (`server`, a pidfd) or the container's init is
// gone; in the first case it becomes the server, and starts a standby of its own.
[[noreturn]] void standby(Server& s, UniqueFd server, UniqueFd handoff) {
    s.handoff = std::move(handoff);
    auto take = [&] {
        try {
            std::string tag;
            UniqueFd fd(sys::recv_fd(s.handoff.get(), &tag));
            if (!holds(s, tag)) s.listeners.push_back({std::move(fd), std::move(tag)});
        } catch (const std::exception&) {
            s.handoff.reset();  // the server's end is closed
        }
    };
    std::vector<pollfd> p;
    for (;;) {
        p.assign(
            {{server.get(), POLLIN, 0}, {s.init_pidfd, POLLIN, 0}, {s.handoff.get(), POLLIN, 0}});
        for (const auto& l : s.listeners) p.push_back({l.fd.get(), 0, 0});  // hangups only
        if (::poll(p.data(), p.size(), -1) < 0) {
            if (errno == EINTR) continue;
            ::_exit(1);
        }
        if (p[1].revents) ::_exit(0);
        if (p[0].revents) break;
        drop_unused(s, p, 3);
        if (p[2].revents & POLLIN) take();
    }
    // what the server passed on before it died is still queued
    for (;;) {
        pollfd h{s.handoff.get(), POLLIN, 0};
        if (!s.handoff || ::poll(&h, 1, 0) != 1 || !(h.revents & POLLIN)) break;
        take();
    }
    s.handoff.reset();
    try {
        UniqueFd fan = make_group(s);
        // server.pid names us once our marks are in place: from then on opens wait for us
        sys::write_file_atomic(fmt::format("{}/server.pid", s.dir), std::to_string(::getpid()),
                               0644);
        // the listeners we hold from here on go to our own standby, as the first server's
        replace_standby(s);
        serve(s, std::move(fan));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "husk-procvirt standby: %s\n", e.what());
    }
    ::_exit(1);
}

// notify.sock in the directory `dirfd` (its path may be longer than sun_path allows).
sockaddr_un inbox_address(int dirfd) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d/notify.sock", dirfd);
    return a;
}

UniqueFd open_dir(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw_sys("open", dir);
    return fd;
}

// A child of start_server on its way to serve: named, away from the caller's terminal
// and signals, stdout and stdin on /dev/null, stderr to `log`, and no fd but `keep` (no
// pipe a test reads to EOF, no lock of the caller's lives on in it).
void detach(const char* name, int log, const std::vector<int>& keep) {
    ::prctl(PR_SET_NAME, name, 0, 0, 0);
    ::setsid();
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(log >= 0 ? log : null, 2);
    sys::close_fds_except(3, keep);
    ::signal(SIGPIPE, SIG_IGN);
}

}  // namespace

bool requested(const oci::Spec& spec) {
    auto it = spec.annotations.find(kAnnotation);
    return it != spec.annotations.end() && it->second == "true";
}

void prepare(oci::Spec& spec, const std::string& dir, const cgroup::Manager& cg,
             long& start_boottime) {
    with_context("proc-virtualize", [&] {
        sys::mkdir_all(dir, 0755);
        Source src(cg);
        LoadAverage load;
        bool proc = mounts_at(spec, "/proc", "proc"), sys_fs = mounts_at(spec, "/sys", "sysfs");
        for (const auto& f : kFiles) {
            bool in_proc = std::string_view(f.target).starts_with("/proc/");
            if (!(in_proc ? proc : sys_fs) || mounts_at(spec, f.target, "bind")) continue;
            std::string path = fmt::format("{}/{}", dir, f.name);
            // writable by the server, which rootless is the user who owns it (the
            // container's root is that user too: the bind mount, not the mode, keeps
            // the container from writing)
            sys::write_file(path, render(f, src, load), ::geteuid() == 0 ? 0444 : 0644);
            spec.mounts.push_back(
                {f.target, "bind", path, {"bind", "ro", "nosuid", "nodev", "noexec"}, {}, {}});
        }
        start_boottime = boottime_secs();
        if (!spec.linux_) spec.linux_ = oci::Linux{};
        auto& ns = spec.linux_->namespaces;
        bool has_time = std::any_of(ns.begin(), ns.end(),
                                    [](const oci::Namespace& n) { return n.type == "time"; });
        if (!has_time && ::access("/proc/self/ns/time", F_OK) == 0) {
            ns.push_back({"time", ""});
            spec.linux_->time_offsets["boottime"] = oci::TimeOffset{-start_boottime, 0};
        }
    });
}

bool sysinfo_filter_possible(const oci::Spec& spec) {
#if defined(__x86_64__) || defined(__aarch64__)
    return !has_user_notify(spec);
#else
    (void)spec;
    return false;
#endif
}

pid_t start_server(const std::string& dir, const cgroup::Manager& cg, pid_t init,
                   long start_boottime, UniqueFd listener, bool rootless) {
    return with_context("proc-virtualize: start the server", [&] {
        Server s{dir, Source(cg), start_boottime, {}, -1, -1, {}, 0, {}, {}, rootless};
        if (listener) s.listeners.push_back({std::move(listener), {}});
        UniqueFd init_fd(sys::pidfd_open(init));
        if (!init_fd) throw_sys("pidfd_open", std::to_string(init));
        s.init_pidfd = init_fd.get();
        std::vector<UniqueFd> files;
        open_files(s, files);
        UniqueFd fan = make_group(s);
        // Everything the server and its standby write in `dir` exists before we return
        // (the log, the inbox, both pid files): a `delete` right after create removes all.
        std::string log = fmt::format("{}/server.log", dir);
        UniqueFd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
        if (!log_fd) throw_sys("open", log);
        UniqueFd inbox(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (!inbox) throw_sys("socket");
        {
            UniqueFd d = open_dir(dir);
            sockaddr_un a = inbox_address(d.get());
            if (::bind(inbox.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
                throw_sys("bind", dir + "/notify.sock");
        }
        s.inbox = inbox.get();
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
            throw_sys("socketpair");
        UniqueFd to_standby(sv[0]), from_server(sv[1]);
        std::vector<int> keep = {s.init_pidfd, s.inbox};
        for (const auto& l : s.listeners) keep.push_back(l.fd.get());
        for (const auto& m : s.marked) keep.push_back(m.fd);
        std::fflush(nullptr);
        pid_t pid = ::fork();
        if (pid < 0) throw_sys("fork");
        if (pid == 0) {
            keep.push_back(fan.get());
            keep.push_back(to_standby.get());
            detach("husk-procvirt", log_fd.get(), keep);
            s.handoff = std::move(to_standby);
            serve(s, std::move(fan));
        }
        fan.reset();  // the standby makes a group of its own when it takes over
        to_standby.reset();
        sys::write_file_atomic(fmt::format("{}/server.pid", dir), std::to_string(pid), 0644);
        // Our child, not reaped yet: the pid is the server's even if it has died already.
        UniqueFd server(sys::pidfd_open(pid));
        if (!server) throw_sys("pidfd_open", std::to_string(pid));
        pid_t standby_pid = ::fork();
        if (standby_pid < 0) throw_sys("fork");
        if (standby_pid == 0) {
            keep.push_back(server.get());
            keep.push_back(from_server.get());
            detach("husk-procv-sby", log_fd.get(), keep);
            standby(s, std::move(server), std::move(from_server));
        }
        sys::write_file_atomic(fmt::format("{}/standby.pid", dir), std::to_string(standby_pid),
                               0644);
        return pid;
    });
}

UniqueFd connect_server(const std::string& dir) {
    UniqueFd d(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!d) return {};  // no --proc-virtualize for this container
    UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) throw_sys("socket");
    sockaddr_un a = inbox_address(d.get());
    // ENOENT: created before the inbox existed; ECONNREFUSED: nobody serves any more
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return {};
    return sock;
}

bool pass_listener(int sock, int listener) noexcept {
    // the tag names this listener for the server and its standby (take_listener): our
    // pid and the time, unique among the container's exec'd processes
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    char tag[64];
    int n = std::snprintf(tag, sizeof tag, "%d.%lld.%ld", static_cast<int>(::getpid()),
                          static_cast<long long>(now.tv_sec), now.tv_nsec);
    return sys::send_fd(sock, listener, tag, static_cast<size_t>(n)) == 0;
}

// --- child side: runs between clone and execve ---

void install_sysinfo_filter(const Plan& p) noexcept {
    if (!p.sysinfo_notify) return;
#if defined(__x86_64__)
    constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
    constexpr uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
    constexpr uint32_t kArch = 0;
#endif
    // sysinfo and sched_getaffinity of the native ABI go to the listener; everything
    // else passes.
    static const sock_filter kProgram[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sysinfo, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sched_getaffinity, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{sizeof kProgram / sizeof kProgram[0], const_cast<sock_filter*>(kProgram)};
    long fd =
        ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (fd < 0) init_fail(p, "seccomp: load the sysinfo notify filter", "", errno);
    sync_send(p.sync_fd, SyncType::procvirt_fd);
    char one = 1;
    if (int r = sys::send_fd(p.sync_fd, static_cast<int>(fd), &one, 1); r < 0)
        init_fail(p, "send the sysinfo listener fd", "", -r);
    ::close(static_cast<int>(fd));
}

// --- end child side ---

}  // namespace husk::runtime::procvirt
