// bench/startup/driver: times OCI runtimes side by side, without a shell in the loop.
//
//   driver measure --case NAME --n N --bundle DIR --root-base DIR --id-prefix P --out FILE
//                  --log-dir DIR RUNTIME_NAME=PATH...
//     For each of N iterations and each runtime (the order rotates every iteration so no
//     runtime always runs right after another): `run` of the bundle, then `create`,
//     `start`, wait for the container's init, `delete`. Every runtime invocation is a
//     fork + execve + wait4 from here: wall time with CLOCK_MONOTONIC around it, CPU time
//     (user+sys) and peak RSS from wait4's rusage (the runtime and every descendant it
//     reaped, the container's /bin/true included). Appends one TSV summary line per
//     (runtime, verb) to --out.
//   driver parallel --n N --width W --bundle DIR --root-base DIR --id-prefix P --out FILE
//                   --log-dir DIR RUNTIME_NAME=PATH...
//     For each of N rounds and each runtime (rotating as above): W `run`s of the bundle
//     started at once, each its own id; the wall time from the first fork to the last
//     exit, and the CPU time and the largest peak RSS of the W. One TSV line per runtime,
//     case "parallelW", verb "run": the numbers are of the whole batch, not per container.
//   driver overhead --n N --out FILE
//     The cost of the harness itself: fork + execve + wait4 of /bin/true.
//   driver report FILE [FILE...]
//     Markdown tables: medians per case and verb, the ratios of every husk* runtime to
//     crun and runc, CPU time and peak RSS.
//
// Built by run.sh with g++ (no dependency on the husk libraries).
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Sample {
    double wall_ms;
    double cpu_ms;
    long rss_kb;
};

struct Outcome {
    int status;
    Sample s;
};

double now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double tv_ms(const timeval& tv) {
    return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
}

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "driver: %s\n", msg.c_str());
    std::exit(2);
}

// fork + execve, not waiting; stdout to /dev/null, stderr appended to err_path.
pid_t start_async(const std::vector<std::string>& argv, const std::string& err_path) {
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) die(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (null < 0 || err < 0) _exit(126);
        dup2(null, 0);
        dup2(null, 1);
        dup2(err, 2);
        execv(cargv[0], cargv.data());
        _exit(127);
    }
    return pid;
}

// fork + execve + wait4. stdout goes to /dev/null, stderr is appended to err_path.
Outcome spawn(const std::vector<std::string>& argv, const std::string& err_path) {
    double t0 = now_ms();
    pid_t pid = start_async(argv, err_path);
    int status = 0;
    rusage ru{};
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) die(std::string("wait4: ") + std::strerror(errno));
    }
    double t1 = now_ms();
    return {status, {t1 - t0, tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime), ru.ru_maxrss}};
}

// Waits for a container init that was re-parented to us (we are a subreaper).
void wait_container(const std::string& pid_file) {
    std::ifstream in(pid_file);
    long pid = 0;
    if (!(in >> pid) || pid <= 0) die("no pid in " + pid_file);
    int status = 0;
    while (waitpid(static_cast<pid_t>(pid), &status, 0) < 0) {
        if (errno == EINTR) continue;
        if (errno != ECHILD) die(std::string("waitpid: ") + std::strerror(errno));
        // Not our child (should not happen with a subreaper): poll until it is gone.
        while (kill(static_cast<pid_t>(pid), 0) == 0) usleep(200);
        return;
    }
}

// Reaps any other orphan that ended up with us.
void reap_orphans() {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

struct Stats {
    size_t n = 0;
    double med = 0, p90 = 0, mean = 0, cpu_med = 0, cpu_mean = 0;
    long rss_med = 0, rss_max = 0;
};

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    // Nearest rank.
    size_t rank = static_cast<size_t>(p * static_cast<double>(v.size()) + 0.999999);
    rank = std::clamp<size_t>(rank, 1, v.size());
    return v[rank - 1];
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

Stats stats(const std::vector<Sample>& ss) {
    Stats st;
    st.n = ss.size();
    if (ss.empty()) return st;
    std::vector<double> w, c, r;
    for (const auto& s : ss) {
        w.push_back(s.wall_ms);
        c.push_back(s.cpu_ms);
        r.push_back(static_cast<double>(s.rss_kb));
        st.rss_max = std::max(st.rss_max, s.rss_kb);
    }
    st.med = median(w);
    st.p90 = percentile(w, 0.9);
    st.mean = std::accumulate(w.begin(), w.end(), 0.0) / static_cast<double>(w.size());
    st.cpu_med = median(c);
    st.cpu_mean = std::accumulate(c.begin(), c.end(), 0.0) / static_cast<double>(c.size());
    st.rss_med = static_cast<long>(median(r));
    return st;
}

struct Args {
    std::string kase, bundle, root_base, prefix, out, log_dir;
    int n = 100, warmup = 3, width = 10;
    std::vector<std::pair<std::string, std::string>> runtimes;
};

Args parse(int argc, char** argv, int from) {
    Args a;
    for (int i = from; i < argc; ++i) {
        std::string s = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) die("missing value for " + s);
            return argv[++i];
        };
        if (s == "--case")
            a.kase = next();
        else if (s == "--n")
            a.n = std::atoi(next().c_str());
        else if (s == "--width")
            a.width = std::atoi(next().c_str());
        else if (s == "--warmup")
            a.warmup = std::atoi(next().c_str());
        else if (s == "--bundle")
            a.bundle = next();
        else if (s == "--root-base")
            a.root_base = next();
        else if (s == "--id-prefix")
            a.prefix = next();
        else if (s == "--out")
            a.out = next();
        else if (s == "--log-dir")
            a.log_dir = next();
        else if (auto eq = s.find('='); eq != std::string::npos && s[0] != '-')
            a.runtimes.emplace_back(s.substr(0, eq), s.substr(eq + 1));
        else
            die("unknown argument " + s);
    }
    return a;
}

const char* kVerbs[] = {"run", "create", "start", "delete"};

void write_line(const std::string& out, const std::string& kase, const std::string& rt,
                const std::string& verb, const Stats& st, int failures) {
    std::ofstream o(out, std::ios::app);
    char buf[512];
    std::snprintf(buf, sizeof buf, "%s\t%s\t%s\t%zu\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%ld\t%ld\t%d\n",
                  kase.c_str(), rt.c_str(), verb.c_str(), st.n, st.med, st.p90, st.mean, st.cpu_med,
                  st.cpu_mean, st.rss_med, st.rss_max, failures);
    o << buf;
}

int measure(const Args& a) {
    if (a.runtimes.empty()) die("no runtimes");
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) die("PR_SET_CHILD_SUBREAPER failed");
    size_t nrt = a.runtimes.size();
    std::vector<std::map<std::string, std::vector<Sample>>> samples(nrt);
    std::vector<int> failures(nrt, 0);
    std::vector<bool> broken(nrt, false);
    int seq = 0;
    for (int it = 0; it < a.warmup + a.n; ++it) {
        bool record = it >= a.warmup;
        for (size_t k = 0; k < nrt; ++k) {
            size_t r = (k + static_cast<size_t>(it)) % nrt;
            if (broken[r]) continue;
            const auto& [name, path] = a.runtimes[r];
            std::string root = a.root_base + "/" + name;
            std::string err = a.log_dir + "/" + a.kase + "-" + name + ".stderr";
            auto check = [&](const Outcome& o, const char* verb, const std::string& id) {
                if (WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0) return true;
                std::fprintf(stderr, "driver: %s %s %s failed (status %d); see %s\n", name.c_str(),
                             verb, id.c_str(), o.status, err.c_str());
                // Best effort: remove what is left so the next iteration starts clean.
                spawn({path, "--root", root, "delete", "--force", id}, err);
                if (++failures[r] >= 3) {
                    std::fprintf(stderr, "driver: %s: too many failures, dropped from case %s\n",
                                 name.c_str(), a.kase.c_str());
                    broken[r] = true;
                }
                return false;
            };
            std::string id = a.prefix + "-" + name + "-r" + std::to_string(seq);
            Outcome o = spawn({path, "--root", root, "run", "--bundle", a.bundle, id}, err);
            if (check(o, "run", id) && record) samples[r]["run"].push_back(o.s);

            id = a.prefix + "-" + name + "-c" + std::to_string(seq);
            std::string pid_file = a.root_base + "/" + id + ".pid";
            Outcome c = spawn(
                {path, "--root", root, "create", "--bundle", a.bundle, "--pid-file", pid_file, id},
                err);
            if (!check(c, "create", id)) continue;
            Outcome s = spawn({path, "--root", root, "start", id}, err);
            if (!check(s, "start", id)) continue;
            wait_container(pid_file);
            unlink(pid_file.c_str());
            Outcome d = spawn({path, "--root", root, "delete", id}, err);
            if (!check(d, "delete", id)) continue;
            reap_orphans();
            if (record) {
                samples[r]["create"].push_back(c.s);
                samples[r]["start"].push_back(s.s);
                samples[r]["delete"].push_back(d.s);
            }
        }
        ++seq;
    }
    for (size_t r = 0; r < nrt; ++r)
        for (const char* v : kVerbs)
            write_line(a.out, a.kase, a.runtimes[r].first, v, stats(samples[r][v]), failures[r]);
    return 0;
}

int parallel(const Args& a) {
    if (a.runtimes.empty() || a.width < 1) die("no runtimes, or --width below 1");
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) die("PR_SET_CHILD_SUBREAPER failed");
    size_t nrt = a.runtimes.size();
    std::vector<std::vector<Sample>> samples(nrt);
    std::vector<int> failures(nrt, 0);
    std::string kase = "parallel" + std::to_string(a.width);
    for (int it = 0; it < a.warmup + a.n; ++it) {
        for (size_t k = 0; k < nrt; ++k) {
            size_t r = (k + static_cast<size_t>(it)) % nrt;
            const auto& [name, path] = a.runtimes[r];
            std::string root = a.root_base + "/" + name;
            std::string err = a.log_dir + "/" + kase + "-" + name + ".stderr";
            std::map<pid_t, std::string> ids;
            double t0 = now_ms();
            for (int w = 0; w < a.width; ++w) {
                std::string id =
                    a.prefix + "-" + name + "-p" + std::to_string(it) + "-" + std::to_string(w);
                ids[start_async({path, "--root", root, "run", "--bundle", a.bundle, id}, err)] = id;
            }
            Sample batch{0, 0, 0};
            bool ok = true;
            while (!ids.empty()) {
                int status = 0;
                rusage ru{};
                pid_t pid = wait4(-1, &status, 0, &ru);
                if (pid < 0) {
                    if (errno == EINTR) continue;
                    die(std::string("wait4: ") + std::strerror(errno));
                }
                auto found = ids.find(pid);
                if (found == ids.end()) continue;  // an orphan re-parented to us
                batch.cpu_ms += tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
                batch.rss_kb = std::max(batch.rss_kb, ru.ru_maxrss);
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                    ok = false;
                    std::fprintf(stderr, "driver: %s run %s failed (status %d); see %s\n",
                                 name.c_str(), found->second.c_str(), status, err.c_str());
                    spawn({path, "--root", root, "delete", "--force", found->second}, err);
                }
                ids.erase(found);
            }
            batch.wall_ms = now_ms() - t0;
            reap_orphans();
            if (!ok) ++failures[r];
            if (ok && it >= a.warmup) samples[r].push_back(batch);
        }
    }
    for (size_t r = 0; r < nrt; ++r)
        write_line(a.out, kase, a.runtimes[r].first, "run", stats(samples[r]), failures[r]);
    return 0;
}

int overhead(const Args& a) {
    std::vector<Sample> ss;
    for (int i = 0; i < a.warmup + a.n; ++i) {
        Outcome o = spawn({"/bin/true"}, "/dev/null");
        if (i >= a.warmup) ss.push_back(o.s);
    }
    write_line(a.out, "harness", "fork+exec /bin/true", "-", stats(ss), 0);
    return 0;
}

// ---- report ----

struct Row {
    std::string kase, rt, verb;
    Stats st;
    int failures = 0;
};

std::vector<Row> read_rows(const std::vector<std::string>& files) {
    std::vector<Row> rows;
    for (const auto& f : files) {
        std::ifstream in(f);
        if (!in) die("cannot read " + f);
        std::string line;
        while (std::getline(in, line)) {
            std::istringstream ls(line);
            std::vector<std::string> c;
            std::string cell;
            while (std::getline(ls, cell, '\t')) c.push_back(cell);
            if (c.size() != 12) continue;
            Row r;
            r.kase = c[0];
            r.rt = c[1];
            r.verb = c[2];
            r.st.n = std::stoul(c[3]);
            r.st.med = std::stod(c[4]);
            r.st.p90 = std::stod(c[5]);
            r.st.mean = std::stod(c[6]);
            r.st.cpu_med = std::stod(c[7]);
            r.st.cpu_mean = std::stod(c[8]);
            r.st.rss_med = std::stol(c[9]);
            r.st.rss_max = std::stol(c[10]);
            r.failures = std::stoi(c[11]);
            rows.push_back(r);
        }
    }
    return rows;
}

std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

template <typename T>
void push_unique(std::vector<T>& v, const T& x) {
    if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

int report(const std::vector<std::string>& files) {
    auto rows = read_rows(files);
    std::vector<std::string> cases, rts;
    for (const auto& r : rows) {
        if (r.kase == "harness") continue;
        push_unique(cases, r.kase);
        push_unique(rts, r.rt);
    }
    for (const auto& r : rows)
        if (r.kase == "harness")
            std::printf(
                "Harness overhead (fork + execve + wait4 of /bin/true, no runtime): median "
                "%.2f ms wall, p90 %.2f ms, %.2f ms CPU, n=%zu.\n\n",
                r.st.med, r.st.p90, r.st.cpu_med, r.st.n);
    auto find = [&](const std::string& k, const std::string& rt,
                    const std::string& v) -> const Row* {
        for (const auto& r : rows)
            if (r.kase == k && r.rt == rt && r.verb == v && r.st.n > 0) return &r;
        return nullptr;
    };
    std::vector<std::string> husks, peers;
    for (const auto& rt : rts) (rt.rfind("husk", 0) == 0 ? husks : peers).push_back(rt);

    // One table per metric; `ratio` (null: no ratio columns) gives the number the ratios of
    // every husk* runtime to every peer are taken of.
    using Metric = double (*)(const Row&);
    auto table = [&](const char* title, auto value, const char* unit, Metric ratio) {
        bool ratios = ratio != nullptr;
        std::printf("%s\n\n| case | verb |", title);
        for (const auto& rt : rts) std::printf(" %s |", rt.c_str());
        if (ratios)
            for (const auto& h : husks)
                for (const auto& p : peers) std::printf(" %s/%s |", h.c_str(), p.c_str());
        std::printf("\n|---|---|");
        for (size_t i = 0; i < rts.size(); ++i) std::printf("---:|");
        if (ratios)
            for (size_t i = 0; i < husks.size() * peers.size(); ++i) std::printf("---:|");
        std::printf("\n");
        for (const auto& k : cases)
            for (const char* v : kVerbs) {
                bool any = false;
                for (const auto& rt : rts) any = any || find(k, rt, v);
                if (!any) continue;
                std::printf("| %s | %s |", k.c_str(), v);
                for (const auto& rt : rts) {
                    const Row* r = find(k, rt, v);
                    std::printf(" %s |", r ? (value(*r) + unit).c_str() : "n/a");
                }
                if (ratios)
                    for (const auto& h : husks)
                        for (const auto& p : peers) {
                            const Row* a = find(k, h, v);
                            const Row* b = find(k, p, v);
                            std::printf(" %s |", a && b && ratio(*b) > 0
                                                     ? fmt("%.2f", ratio(*a) / ratio(*b)).c_str()
                                                     : "n/a");
                        }
                std::printf("\n");
            }
        std::printf("\n");
    };
    table(
        "Wall time per container, median (ratios are of medians; below 1.0 means husk is faster)",
        [](const Row& r) { return fmt("%.1f", r.st.med); }, " ms",
        [](const Row& r) { return r.st.med; });
    table(
        "Wall time, p90 / mean",
        [](const Row& r) { return fmt("%.1f", r.st.p90) + " / " + fmt("%.1f", r.st.mean); }, " ms",
        nullptr);
    table(
        "CPU time (user+sys of the runtime and the descendants it reaped), median; ratios of "
        "medians",
        [](const Row& r) { return fmt("%.1f", r.st.cpu_med); }, " ms",
        [](const Row& r) { return r.st.cpu_med; });
    table(
        "Peak RSS of the runtime process tree (wait4 ru_maxrss), median / max; ratios of medians",
        [](const Row& r) {
            return fmt("%.1f", static_cast<double>(r.st.rss_med) / 1024) + " / " +
                   fmt("%.1f", static_cast<double>(r.st.rss_max) / 1024);
        },
        " MiB", [](const Row& r) { return static_cast<double>(r.st.rss_med); });
    int fails = 0;
    for (const auto& r : rows) fails += r.verb == std::string("run") ? r.failures : 0;
    if (fails) std::printf("Failures: %d (see the driver's stderr).\n", fails);
    for (const auto& r : rows)
        if (r.verb == std::string("run") && r.failures)
            std::printf("- %s / %s: %d failed invocations\n", r.kase.c_str(), r.rt.c_str(),
                        r.failures);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) die("usage: driver measure|parallel|overhead|report ...");
    std::string mode = argv[1];
    if (mode == "measure") return measure(parse(argc, argv, 2));
    if (mode == "parallel") return parallel(parse(argc, argv, 2));
    if (mode == "overhead") return overhead(parse(argc, argv, 2));
    if (mode == "report") return report(std::vector<std::string>(argv + 2, argv + argc));
    die("unknown mode " + mode);
}
