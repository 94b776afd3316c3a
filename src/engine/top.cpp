#include "engine/top.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

#include "runtime/container.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/spawn.h"

extern char** environ;

namespace husk::engine {

namespace {

std::vector<std::string> ps_words(const std::string& line) {
    std::vector<std::string> out;
    std::istringstream in(line);
    for (std::string f; in >> f;) out.push_back(f);
    return out;
}

// Where `name` is on $PATH (docker runs "ps" the same way).
std::string find_program(const std::string& name) {
    std::string p = sys::find_on_path(name);
    if (p.empty())
        throw Error(fmt::format("top: {} not found on PATH (install procps)", name), ENOENT);
    return p;
}

}  // namespace

TopResult parse_ps_output(const std::string& text, const std::vector<pid_t>& pids) {
    std::istringstream in(text);
    std::string header;
    std::getline(in, header);
    TopResult r;
    r.titles = ps_words(header);
    auto pid_col = std::find(r.titles.begin(), r.titles.end(), "PID");
    if (pid_col == r.titles.end()) throw Error("Couldn't find PID field in ps output");
    size_t col = static_cast<size_t>(pid_col - r.titles.begin());
    for (std::string line; std::getline(in, line);) {
        auto f = ps_words(line);
        if (f.size() <= col) continue;
        if (f.size() > r.titles.size()) {  // the command's own spaces
            std::string cmd = f[r.titles.size() - 1];
            for (size_t i = r.titles.size(); i < f.size(); ++i) cmd += " " + f[i];
            f.resize(r.titles.size());
            f.back() = cmd;
        }
        char* end = nullptr;
        long pid = std::strtol(f[col].c_str(), &end, 10);
        if (end == f[col].c_str() || *end != '\0')
            throw Error(error_format("unexpected pid \"{}\" in ps output", f[col]));
        if (std::find(pids.begin(), pids.end(), static_cast<pid_t>(pid)) != pids.end())
            r.processes.push_back(std::move(f));
    }
    return r;
}

TopResult top(const EngineContext& ctx, const ContainerRecord& rec,
              const std::vector<std::string>& ps_args) {
    if (rec.status != ContainerStatus::running)
        throw Error(fmt::format("Container {} is not running", rec.id), ExitCode{1});
    std::vector<pid_t> pids = runtime::processes(ctx.state_root(), rec.id);
    std::vector<std::string> argv{"ps"};
    if (ps_args.empty())
        argv.emplace_back("-ef");
    else
        argv.insert(argv.end(), ps_args.begin(), ps_args.end());
    std::string ps = find_program("ps");
    sys::UniqueFd out(::memfd_create("husk-top", MFD_CLOEXEC));
    sys::UniqueFd err(::memfd_create("husk-top-err", MFD_CLOEXEC));
    if (!out || !err) throw_sys("memfd_create");
    auto cargv = sys::c_strings(argv);
    auto res = sys::spawn_and_wait(ps.c_str(), cargv.data(), environ, 30, nullptr, 0, out.get(),
                                   err.get());
    auto slurp = [](int fd) {
        std::string s;
        char buf[65536];
        for (off_t off = 0;;) {
            ssize_t n = ::pread(fd, buf, sizeof buf, off);
            if (n <= 0) break;
            s.append(buf, static_cast<size_t>(n));
            off += n;
        }
        return s;
    };
    if (!res.ok()) {
        std::string msg = slurp(err.get());
        while (!msg.empty() && msg.back() == '\n') msg.pop_back();
        size_t nl = msg.find('\n');
        if (nl != std::string::npos) msg.resize(nl);
        throw Error(error_format("ps: {}: {}", sys::describe_spawn_result(res), msg), ExitCode{1});
    }
    return parse_ps_output(slurp(out.get()), pids);
}

}  // namespace husk::engine
