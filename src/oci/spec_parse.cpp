// config.json -> Spec: the top level, process, root, mounts and hooks.
// The "linux" object is parsed in spec_parse_linux.cpp.
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <functional>
#include <set>

#include "oci/parse_parts.h"
#include "sys/fd.h"

namespace husk::oci {

namespace detail {

namespace {

// Where a callback parse is in the document: a JSON path such as
// "linux.resources.memory.limit", for the errors nlohmann reports without one.
class PathTracker {
  public:
    bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
        switch (event) {
            case json::parse_event_t::object_start:
                frames_.push_back({false, {}, 0});
                break;
            case json::parse_event_t::array_start:
                frames_.push_back({true, {}, 0});
                break;
            case json::parse_event_t::key:
                frames_.back().key = parsed.get<std::string>();
                break;
            case json::parse_event_t::object_end:
            case json::parse_event_t::array_end:
                frames_.pop_back();
                next_element();
                break;
            case json::parse_event_t::value:
                next_element();
                break;
        }
        return true;
    }
    std::string path() const {
        std::string p;
        for (const auto& f : frames_) p = f.array ? at_index(p, f.index) : child(p, f.key);
        return p;
    }

  private:
    struct Frame {
        bool array;
        std::string key;
        size_t index;
    };
    void next_element() {
        if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    }
    std::vector<Frame> frames_;
};

// nlohmann's message without its "[json.exception.parse_error.101] " prefix, and with the
// text it last read (a whole unterminated string, it may be) shown as a value.
std::string nlohmann_message(const json::exception& e) {
    std::string msg = e.what();
    if (auto pos = msg.find("] "); pos != std::string::npos) msg.erase(0, pos + 2);
    static constexpr std::string_view kLastRead = "; last read: '";
    auto lr = msg.find(kLastRead);
    if (lr == std::string::npos) return msg;
    size_t from = lr + kLastRead.size();
    auto to = msg.find("'; expected ", from);
    if (to == std::string::npos) to = msg.size() - 1;
    if (to < from) return msg;
    return msg.substr(0, from) + shown(std::string_view(msg).substr(from, to - from)) +
           msg.substr(to);
}

}  // namespace

json parse_json(const std::string& text) {
    try {
        return json::parse(text);
    } catch (const json::parse_error& e) {
        // "parse error at line 1, column 2: syntax error while parsing ..."
        throw Error("invalid JSON: " + nlohmann_message(e));
    } catch (const json::out_of_range& e) {
        // 406 "number overflow parsing '1e400'": a number beyond a double. Parse again,
        // on this rare path only, to say which field holds it.
        std::string msg = nlohmann_message(e);
        auto q = msg.find('\'');
        std::string number = q == std::string::npos ? msg : msg.substr(q + 1, msg.size() - q - 2);
        PathTracker where;
        try {
            [[maybe_unused]] json never = json::parse(text, std::ref(where));
        } catch (const json::exception&) {
        }
        fail(where.path(), "number {} is out of range", number);
    }
}

void check_name(NameList list, const std::string& value, const std::string& path,
                std::string_view what) {
    if (!contains(list, value)) fail(path, "unknown {} \"{}\"", what, value);
}

std::string required_name(const Obj& o, std::string_view key, NameList list,
                          std::string_view what) {
    std::string v = o.required_str(key);
    check_name(list, v, o.path(key), what);
    return v;
}

std::vector<std::string> name_list(const Obj& o, std::string_view key, NameList list,
                                   std::string_view what) {
    auto names = o.str_list(key);
    for (size_t i = 0; i < names.size(); ++i)
        check_name(list, names[i], at_index(o.path(key), i), what);
    return names;
}

void check_absolute(const std::string& value, const std::string& path) {
    if (value.empty() || value[0] != '/') fail(path, "must be an absolute path, got \"{}\"", value);
}

void check_cpu_list(const std::string& value, const std::string& path) {
    // item := N | N-M (N <= M); list := item (',' item)*
    auto bad = [&] { fail(path, "invalid CPU list \"{}\"", value); };
    size_t i = 0, n = value.size();
    auto number = [&](uint64_t& out) {
        if (i >= n || !std::isdigit(static_cast<unsigned char>(value[i]))) bad();
        out = 0;
        while (i < n && std::isdigit(static_cast<unsigned char>(value[i]))) {
            out = out * 10 + static_cast<uint64_t>(value[i++] - '0');
            if (out > 1'000'000) bad();
        }
    };
    if (value.empty()) bad();
    while (true) {
        uint64_t lo = 0, hi = 0;
        number(lo);
        if (i < n && value[i] == '-') {
            ++i;
            number(hi);
            if (hi < lo) bad();
        }
        if (i == n) return;
        if (value[i++] != ',') bad();
    }
}

namespace {

void parse_user(const Obj& o, User& u) {
    u.uid = o.int_or<uint32_t>("uid", 0);
    u.gid = o.int_or<uint32_t>("gid", 0);
    u.umask = o.opt_int<uint32_t>("umask");
    if (u.umask && *u.umask > 0777)
        fail(o.path("umask"), "{:#o} is not a file mode mask (max 0777)", *u.umask);
    u.additional_gids = o.int_list<uint32_t>("additionalGids");
    u.username = o.str("username");
}

std::vector<std::string> parse_cap_set(const Obj& o, std::string_view key) {
    return name_list(o, key, capability_names(), "capability");
}

Capabilities parse_capabilities(const Obj& o) {
    Capabilities c;
    c.bounding = parse_cap_set(o, "bounding");
    c.effective = parse_cap_set(o, "effective");
    c.inheritable = parse_cap_set(o, "inheritable");
    c.permitted = parse_cap_set(o, "permitted");
    c.ambient = parse_cap_set(o, "ambient");
    return c;
}

std::vector<Rlimit> parse_rlimits(const Obj& o) {
    std::vector<Rlimit> out;
    std::set<std::string> seen;
    o.each("rlimits", [&](const json& e, const std::string& p) {
        Obj r(e, p);
        Rlimit rl;
        rl.type = required_name(r, "type", rlimit_names(), "rlimit type");
        if (!seen.insert(rl.type).second)
            fail(r.path("type"), "duplicate rlimit type \"{}\"", rl.type);
        rl.hard = r.int_or<uint64_t>("hard", 0);
        rl.soft = r.int_or<uint64_t>("soft", 0);
        if (rl.soft > rl.hard) fail(p, "soft limit {} is above hard limit {}", rl.soft, rl.hard);
        out.push_back(std::move(rl));
    });
    return out;
}

Scheduler parse_scheduler(const Obj& o) {
    Scheduler s;
    s.policy = required_name(o, "policy", scheduler_policies(), "scheduler policy");
    s.nice = o.int_or<int32_t>("nice", 0);
    if (s.nice < -20 || s.nice > 19) fail(o.path("nice"), "{} is out of range -20..19", s.nice);
    s.priority = o.int_or<int32_t>("priority", 0);
    s.flags = name_list(o, "flags", scheduler_flags(), "scheduler flag");
    s.runtime = o.int_or<uint64_t>("runtime", 0);
    s.deadline = o.int_or<uint64_t>("deadline", 0);
    s.period = o.int_or<uint64_t>("period", 0);
    return s;
}

IoPriority parse_io_priority(const Obj& o) {
    IoPriority io;
    io.io_class = required_name(o, "class", ioprio_classes(), "ioPriority class");
    io.priority = o.int_or<int32_t>("priority", 0);
    if (io.priority < 0 || io.priority > 7)
        fail(o.path("priority"), "{} is out of range 0..7", io.priority);
    return io;
}

CpuAffinity parse_cpu_affinity(const Obj& o) {
    CpuAffinity a;
    a.initial = o.str("initial");
    if (!a.initial.empty()) check_cpu_list(a.initial, o.path("initial"));
    a.final_ = o.str("final");
    if (!a.final_.empty()) check_cpu_list(a.final_, o.path("final"));
    return a;
}

void check_env(const std::vector<std::string>& env, const std::string& path) {
    for (size_t i = 0; i < env.size(); ++i) {
        auto eq = env[i].find('=');
        if (eq == std::string::npos)
            fail(at_index(path, i), "\"{}\" is not in KEY=VALUE form", env[i]);
        if (eq == 0) fail(at_index(path, i), "\"{}\" has an empty name", env[i]);
    }
}

Mount parse_mount(const Obj& o) {
    Mount m;
    m.destination = o.required_str("destination");
    check_absolute(m.destination, o.path("destination"));
    m.type = o.str("type");
    m.source = o.str("source");
    m.options = o.str_list("options");
    m.uid_mappings = parse_id_mappings(o, "uidMappings");
    m.gid_mappings = parse_id_mappings(o, "gidMappings");
    return m;
}

std::vector<Hook> parse_hook_list(const Obj& hooks, std::string_view key) {
    std::vector<Hook> out;
    hooks.each(key, [&](const json& e, const std::string& p) {
        Obj o(e, p);
        Hook h;
        h.path = o.required_str("path");
        check_absolute(h.path, o.path("path"));
        h.args = o.str_list("args");
        h.env = o.str_list("env");
        check_env(h.env, o.path("env"));
        h.timeout = o.opt_int<int>("timeout");
        if (h.timeout && *h.timeout <= 0)
            fail(o.path("timeout"), "must be > 0, got {}", *h.timeout);
        out.push_back(std::move(h));
    });
    return out;
}

Hooks parse_hooks(const Obj& o) {
    Hooks h;
    h.prestart = parse_hook_list(o, "prestart");
    h.create_runtime = parse_hook_list(o, "createRuntime");
    h.create_container = parse_hook_list(o, "createContainer");
    h.start_container = parse_hook_list(o, "startContainer");
    h.poststart = parse_hook_list(o, "poststart");
    h.poststop = parse_hook_list(o, "poststop");
    return h;
}

void check_oci_version(const Obj& o, const std::string& v) {
    // "1.0.0", "1.0.2-dev", "1.2.0", "1.3.0"; a 2.x config is not ours to guess at.
    if (v.size() < 3 || v[0] != '1' || v[1] != '.' ||
        !std::isdigit(static_cast<unsigned char>(v[2])))
        fail(o.path("ociVersion"), "unsupported version \"{}\" (want 1.x)", v);
}

}  // namespace

Process parse_process_obj(const Obj& o) {
    Process p;
    p.terminal = o.boolean("terminal");
    if (o.has("consoleSize")) {
        Obj c = o.obj("consoleSize");
        p.console_size =
            ConsoleSize{c.int_or<uint32_t>("height", 0), c.int_or<uint32_t>("width", 0)};
    }
    if (o.has("user")) parse_user(o.obj("user"), p.user);
    p.args = o.str_list("args");
    if (p.args.empty()) fail(o.path("args"), "required (the program to run)");
    p.env = o.str_list("env");
    check_env(p.env, o.path("env"));
    if (auto cwd = o.opt_str("cwd")) {
        check_absolute(*cwd, o.path("cwd"));
        p.cwd = *cwd;
    }
    if (o.has("capabilities")) p.capabilities = parse_capabilities(o.obj("capabilities"));
    p.rlimits = parse_rlimits(o);
    p.no_new_privileges = o.boolean("noNewPrivileges");
    p.apparmor_profile = o.str("apparmorProfile");
    p.oom_score_adj = o.opt_int<int>("oomScoreAdj");
    if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000))
        fail(o.path("oomScoreAdj"), "{} is out of range -1000..1000", *p.oom_score_adj);
    p.selinux_label = o.str("selinuxLabel");
    if (o.has("scheduler")) p.scheduler = parse_scheduler(o.obj("scheduler"));
    if (o.has("ioPriority")) p.io_priority = parse_io_priority(o.obj("ioPriority"));
    if (o.has("execCPUAffinity"))
        p.exec_cpu_affinity = parse_cpu_affinity(o.obj("execCPUAffinity"));
    return p;
}

}  // namespace detail

using namespace detail;

Spec parse_spec(const std::string& json_text) {
    json doc = parse_json(json_text);
    Obj o(doc, "");
    Spec s;
    s.oci_version = o.required_str("ociVersion");
    check_oci_version(o, s.oci_version);
    if (o.has("process")) s.process = parse_process_obj(o.obj("process"));
    if (o.has("root")) {
        Obj r = o.obj("root");
        s.root = Root{r.required_str("path"), r.boolean("readonly")};
        if (s.root->path.empty()) fail(r.path("path"), "must not be empty");
    }
    auto uts_name = [&](const char* key) {
        auto v = o.opt_str(key);
        if (v && v->size() > kUtsNameMax)
            fail(o.path(key), "\"{}\" is longer than the kernel's {} bytes", *v, kUtsNameMax);
        return v;
    };
    s.hostname = uts_name("hostname");
    s.domainname = uts_name("domainname");
    o.each("mounts", [&](const json& e, const std::string& p) {
        s.mounts.push_back(parse_mount(Obj(e, p)));
    });
    if (o.has("hooks")) s.hooks = parse_hooks(o.obj("hooks"));
    s.annotations = o.str_map("annotations");
    if (o.has("linux")) s.linux_ = parse_linux(o.obj("linux"));
    return s;
}

Process parse_process(const std::string& json_text) {
    json doc = parse_json(json_text);
    return parse_process_obj(Obj(doc, ""));
}

Spec load_spec(const std::string& path) {
    sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_sys("open", path);
    std::string text;
    char buf[65536];
    while (true) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_sys("read", path);
        }
        if (n == 0) break;
        text.append(buf, static_cast<size_t>(n));
    }
    return with_context(path, [&] { return parse_spec(text); });
}

}  // namespace husk::oci
