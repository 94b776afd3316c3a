#include "build/builder.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "build/cache.h"
#include "build/changes.h"
#include "build/context.h"
#include "build/dockerfile.h"
#include "build/progress.h"
#include "engine/commit.h"
#include "engine/diff.h"
#include "engine/emulation.h"
#include "engine/lifecycle.h"
#include "engine/rootless.h"
#include "engine/user.h"
#include "image/digest.h"
#include "image/platforms.h"
#include "image/store.h"
#include "image/unpack.h"
#include "oci/image/reference.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/fileutil.h"
#include "sys/log.h"
#include "sys/scope_guard.h"
#include "sys/text.h"
#include "sys/user_dirs.h"

namespace husk::build {
namespace {

using json = nlohmann::json;
namespace oi = oci::image;
using sys::UniqueFd;

constexpr std::string_view kStepContainerPrefix = "husk-build-";
constexpr std::string_view kStepRootPrefix = "build-";

std::string short_id(const std::string& digest) {
    return digest.substr(digest.find(':') + 1, 12);
}

std::string random_hex() {
    return short_id(image::sha256_digest(sys::unique_name("build")));
}

// The lock a build holds while a step container or step root of its own exists: a later
// build removes only those whose lock is free (their build was killed), never a live one's.
std::string owner_lock_path(const image::Store& store, std::string_view id) {
    return fmt::format("{}/{}.lock", store.tmp_dir(), id);
}

// A build stage as it goes: the image its last step made.
// (The implicit move of its nlohmann::json member is noexcept; clang-tidy follows that move
// into json's assertion helper, which cannot throw.)
// NOLINTNEXTLINE(bugprone-exception-escape)
struct Stage {
    std::string name;  // AS name, lower case
    json config;       // the image config (set by FROM; null before)
    std::vector<oi::Descriptor> layers;
    std::string manifest;  // the current image's manifest digest ("" before any image)
    std::string id;        // its config digest ("" for scratch)
    std::map<std::string, std::string> args;  // ARGs declared in the stage, with a value
    StageConfigState cfg;
    oi::Platform platform;  // FROM --platform, else the build's

    // The parent in a cache key: the image, or scratch of this platform.
    std::string parent_key() const {
        return id.empty() ? fmt::format("scratch {}", platform.str()) : id;
    }

    void adopt(const image::Image& img) {
        config = json::parse(img.config_json);
        layers = img.manifest.layers;
        manifest = img.manifest_digest;
        id = img.id;
    }
};

// The maps of a user's build step roots: the user's own (engine::rootless_maps); none as
// root.
engine::RootlessMaps step_root_maps() {
    return sys::rootless() ? engine::rootless_maps() : engine::RootlessMaps{};
}

// A step root's staging directory (a stage with no layers yet): a user's may hold files of
// the container's other ids (COPY --chown), removed from a namespace with the user's maps.
void remove_staging(const std::string& dir, const engine::RootlessMaps& maps) {
    engine::as_user_or_container_root(maps.uids, maps.gids, [&](bool) {
        sys::remove_all(dir);
        return std::string();
    });
}

// As a user where a container's root would be a copy of the layers (the kernel refuses
// overlayfs in a user namespace): a copy keeps no changes apart for the step's layer.
[[noreturn]] void refuse_copied_root(const std::string& why) {
    throw Error(fmt::format(
        "rootless: COPY, ADD and WORKDIR on a base image need overlayfs in a user namespace, "
        "refused here ({}): a copied root keeps no changes apart for the step's layer",
        why));
}

// A writable root over a stage's image for COPY/ADD/WORKDIR: overlayfs (its upper dir
// becomes the layer), or a plain staging directory for a stage with no layers yet.
// As a user, the overlay is made as a rootless container's root (Store::
// prepare_userns_rootfs) and never mounted on the host: write_in writes it from a user
// namespace with the user's maps, where the owners are the container's (COPY --chown to
// one of its ids), and the layer maps them back with the same maps, as a RUN step's.
// Removed (unmounted) when done; a killed build's is found by its free lock.
class StepRoot {
  public:
    StepRoot(image::Store& store, const Stage& st)
        : store_(store),
          id_(fmt::format("{}{}", kStepRootPrefix, random_hex())),
          lock_(owner_lock_path(store, id_), sys::FileLock::exclusive),
          maps_(step_root_maps()) {
        filter.uid_maps = maps_.uids;
        filter.gid_maps = maps_.gids;
        if (st.layers.empty()) {
            staging_ = fmt::format("{}/{}", store.tmp_dir(), id_);
            sys::mkdir_all(staging_, 0755);
            merged = upper = staging_;
            return;
        }
        try {
            if (sys::rootless()) {
                std::string why;
                if (store.userns_overlay(&why) == image::UsernsOverlay::refused)
                    refuse_copied_root(why);
                image::Store::UsernsRoot r = store.prepare_userns_rootfs(st.manifest, id_);
                prepared_ = true;
                if (r.overlay.empty()) {  // the note: "... refused here (WHY): ..."
                    size_t from = r.note.find(" here (");
                    size_t to = r.note.rfind("): ");
                    refuse_copied_root(from < to && to != std::string::npos
                                           ? r.note.substr(from + 7, to - from - 7)
                                           : r.note);
                }
                userns_ = true;
                engine::RootLayers rl = engine::root_layers(store, id_, maps_.uids, maps_.gids);
                upper = rl.upper;
                filter = rl.filter;
                return;
            }
            merged = store.prepare_rootfs(st.manifest, id_);
            prepared_ = true;
            engine::RootLayers rl = engine::root_layers(store, id_);
            upper = rl.upper;
            filter = rl.filter;
        } catch (...) {
            release();
            throw;
        }
    }
    ~StepRoot() { release(); }
    StepRoot(const StepRoot&) = delete;
    StepRoot& operator=(const StepRoot&) = delete;

    // The root for reading (a --from source): as a user, the overlay as a detached mount
    // of a user namespace of its own (Store::open_userns_rootfs).
    UniqueFd open_root() const {
        if (userns_) return store_.open_userns_rootfs(id_);
        UniqueFd fd(::open(merged.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd) throw_sys("open", merged);
        return fd;
    }

    // The root for reading from a process that is root in a user namespace with the user's
    // maps (in_container_userns' child): the overlay mounted by that process itself, whose
    // reads may then reach what the maps' other ids keep from the user (a 0600 file of the
    // stage's uid 1000: the detached mount of open_root maps the user alone).
    UniqueFd open_root_here() const {
        return userns_ ? store_.open_userns_rootfs(id_, true) : open_root();
    }

    const engine::RootlessMaps& maps() const { return maps_; }

    // `fn` on the root's directory fd where what it makes is owned as in the container: as
    // root here; as a user in a user namespace with the user's maps (a fork; newuidmap and
    // newgidmap where the user has a range), the overlay mounted there by that process.
    void write_in(const std::function<void(int root_fd)>& fn) const {
        if (!sys::rootless()) {
            fn(open_root().get());
            return;
        }
        auto done = engine::in_container_userns(maps_.uids, maps_.gids, [&] {
            if (userns_) {
                fn(store_.open_userns_rootfs(id_, true).get());
            } else {
                fn(open_root().get());
            }
            return std::string();
        });
        if (!done)
            throw Error(
                "rootless: a user namespace with the user's maps (/etc/subuid, /etc/subgid) "
                "could not be made to write the step's root (husk --debug says why)");
    }

    std::string merged;  // empty as a user (nothing is mounted on the host)
    std::string upper;
    image::ChangeFilter filter;

  private:
    void release() noexcept {
        try {
            if (prepared_) engine::release_userns_rootfs(store_, id_, maps_.uids, maps_.gids);
            prepared_ = false;
            if (!staging_.empty()) remove_staging(staging_, maps_);
            staging_.clear();
            ::unlink(owner_lock_path(store_, id_).c_str());
        } catch (const std::exception& e) {
            log::warn("build root {}: {}", id_, e.what());
        }
    }

    image::Store& store_;
    std::string id_;
    sys::FileLock lock_;
    engine::RootlessMaps maps_;
    std::string staging_;
    bool prepared_ = false;
    bool userns_ = false;
};

// A copy plan as text, for a namespace child to hand back (engine::in_container_userns).
std::string plan_json(const CopyPlan& plan) {
    json entries = json::array();
    for (auto& e : plan.entries) entries.push_back({e.src, e.dst, e.mode, e.extract, e.top});
    return json{{"digest", plan.digest}, {"entries", entries}}.dump();
}

CopyPlan plan_from_json(const std::string& text) {
    json j = json::parse(text);
    CopyPlan plan;
    plan.digest = j.at("digest").get<std::string>();
    for (auto& e : j.at("entries"))
        plan.entries.push_back({e[0].get<std::string>(), e[1].get<std::string>(),
                                e[2].get<mode_t>(), e[3].get<bool>(), e[4].get<bool>()});
    return plan;
}

// What one COPY/ADD copies from one source: the build context (or --from), or the files
// its heredocs make.
struct CopyJob {
    CopySource source;
    CopyPlan plan;
};

// A staging directory holding heredoc bodies as files named after their delimiters:
// COPY's inline files (0644) and RUN's script with a #! line (0755).
void write_heredocs(const std::string& dir, const std::vector<const Heredoc*>& docs,
                    const Lookup& lookup, char escape, int mode) {
    for (auto* h : docs) {
        if (h->name.find('/') != std::string::npos || h->name == "." || h->name == "..")
            throw Error(
                fmt::format("heredoc <<{}: the name of an inline file can not hold '/'", h->name));
        std::string data =
            h->expand && mode != 0755 ? expand_vars(h->content, lookup, escape) : h->content;
        sys::write_file(fmt::format("{}/{}", dir, h->name), data, mode);
    }
}

// As a user, --chown gives only ids the user's namespace maps (the container's root alone
// without a /etc/subuid range): any other is refused in one line saying why.
void require_mapped(const image::ChangeFilter& maps, const CopyOwner& owner,
                    const std::string& spec) {
    auto mapped = [](const std::vector<oci::IdMapping>& m, uint32_t id) {
        return m.empty() || std::any_of(m.begin(), m.end(), [&](const oci::IdMapping& r) {
                   return id >= r.container_id && id - r.container_id < r.size;
               });
    };
    if (mapped(maps.uid_maps, owner.uid) && mapped(maps.gid_maps, owner.gid)) return;
    bool bare = maps.uid_maps.size() == 1 && maps.uid_maps[0].size == 1;
    throw Error(fmt::format(
        "--chown={}: {}:{} is not an id of the user's containers ({}): a build as a user gives "
        "files only to the container's ids",
        spec, owner.uid, owner.gid,
        bare ? "the user has no range in /etc/subuid and /etc/subgid: root (0) alone"
             : "the user's /etc/subuid and /etc/subgid ranges map fewer"));
}

class Builder {
  public:
    // `part`: one platform of several, its image left unnamed and hidden (the index names it)
    Builder(engine::EngineContext& ctx, const BuildOptions& o, bool part = false)
        : part_(part),
          ctx_(ctx),
          store_(*ctx.store),
          o_(o),
          cache_(store_),
          progress_(o.quiet          ? plain_progress(nullptr)
                    : o.tty_progress ? tty_progress(o.out, terminal_size(::fileno(o.out)))
                                     : plain_progress(o.out)) {}

    BuildResult run();

  private:
    void say(std::string_view text) const { progress_->note(text); }

    Lookup stage_lookup(const Stage& st) const {
        return [&st](std::string_view n) -> std::optional<std::string> {
            if (auto v = env_value(st.config, n)) return v;
            if (auto it = st.args.find(std::string(n)); it != st.args.end()) return it->second;
            return std::nullopt;
        };
    }

    void from(Stage& st, const Instruction& ins);
    image::Image base_image(const std::string& base, const oi::Platform& want);
    void step(Stage& st, const Instruction& ins);
    image::Image execute(Stage& st, const Instruction& ins, const std::vector<CopyJob>& jobs);
    image::Image commit(const Stage& st, const json& config, const Instruction& ins,
                        const std::optional<std::string>& upper, const image::ChangeFilter& filter);
    image::Image run_step(Stage& st, const Instruction& ins);
    void declare_arg(std::map<std::string, std::string>& into, const Instruction& ins,
                     const Lookup& lookup, const std::map<std::string, std::string>* globals);
    CopySource copy_source(const Instruction& ins, std::optional<StepRoot>& from_root);
    void copy_jobs(const Stage& st, const Instruction& ins, std::vector<CopyJob>& jobs,
                   std::optional<StepRoot>& from_root, std::optional<StepRoot>& doc_root);
    bool dir_in_image(const Stage& st, const std::string& abs);
    void name_result(const Stage& st, BuildResult& res);

    bool part_;
    engine::EngineContext& ctx_;
    image::Store& store_;
    const BuildOptions& o_;
    BuildCache cache_;
    std::unique_ptr<Progress> progress_;
    Dockerfile df_;
    std::string df_name_ = "Dockerfile";
    UniqueFd context_;
    IgnoreRules ignore_;
    std::map<std::string, std::string> global_args_;
    std::vector<Stage> stages_;
    int step_ = 0;
    int steps_ = 0;
};

void Builder::declare_arg(std::map<std::string, std::string>& into, const Instruction& ins,
                          const Lookup& lookup, const std::map<std::string, std::string>* globals) {
    for (auto& w : shell_words(ins.args, lookup, df_.escape)) {
        size_t eq = w.find('=');
        std::string name = w.substr(0, eq);
        if (name.empty()) throw Error(fmt::format("ARG \"{}\": names can not be blank", w));
        if (auto it = o_.build_args.find(name); it != o_.build_args.end()) {
            into[name] = it->second;
        } else if (eq != std::string::npos) {
            into[name] = w.substr(eq + 1);
        } else if (globals != nullptr && globals->contains(name)) {
            into[name] = globals->at(name);
        }
    }
}

void Builder::from(Stage& st, const Instruction& ins) {
    Lookup globals = [&](std::string_view n) -> std::optional<std::string> {
        if (auto it = global_args_.find(std::string(n)); it != global_args_.end())
            return it->second;
        return std::nullopt;
    };
    auto words = shell_words(ins.args, globals, df_.escape);
    if (words.size() == 3 && sys::ascii_lower(words[1]) == "as") {
        st.name = sys::ascii_lower(words[2]);
    } else if (words.size() != 1) {
        throw Error("FROM requires either one or three arguments (IMAGE [AS NAME])");
    }
    st.platform = o_.platform;
    if (auto p = ins.flag("platform"))
        st.platform = oi::parse_platform(expand_word(*p, globals, df_.escape));
    const std::string& base = words[0];
    if (sys::ascii_lower(base) == "scratch") {
        st.config = engine::scratch_config();
        st.config["os"] = st.platform.os;
        st.config["architecture"] = st.platform.architecture;
        if (st.platform.variant.empty())
            st.config.erase("variant");
        else
            st.config["variant"] = st.platform.variant;
        progress_->done("scratch");
        return;
    }
    for (auto& earlier : stages_)
        if (!earlier.name.empty() && earlier.name == sys::ascii_lower(base) && &earlier != &st) {
            std::string name = st.name;
            st = earlier;
            st.name = name;
            st.args.clear();
            st.cfg = {};
            progress_->done(short_id(st.id.empty() ? "scratch" : st.id));
            return;
        }
    std::optional<image::Image> img = base_image(base, st.platform);
    store_.ensure_snapshots(*img);
    st.adopt(*img);
    progress_->done(short_id(st.id));
    // ONBUILD triggers of the base run now, then are not inherited
    json& cfg = st.config["config"];
    if (cfg.is_object() && cfg.contains("OnBuild") && cfg["OnBuild"].is_array() &&
        !cfg["OnBuild"].empty()) {
        auto triggers = cfg["OnBuild"].get<std::vector<std::string>>();
        cfg.erase("OnBuild");
        say(fmt::format("# Executing {} build trigger{}", triggers.size(),
                        triggers.size() == 1 ? "" : "s"));
        for (auto& t : triggers) {
            Dockerfile trig = parse_dockerfile(t, "ONBUILD");
            for (auto& tins : trig.instructions) {
                tins.line = ins.line;
                if (tins.keyword == "FROM" || tins.keyword == "ONBUILD")
                    throw Error(
                        fmt::format("{} isn't allowed as an ONBUILD trigger", tins.keyword));
                --step_;  // a trigger is part of the FROM step
                step(st, tins);
            }
        }
    }
}

// FROM's image for `want`: the store's of that platform (and no --pull), else pulled for it.
image::Image Builder::base_image(const std::string& base, const oi::Platform& want) {
    return image::image_for_platform(store_, base, want, o_.pull_platform, o_.pull);
}

CopySource Builder::copy_source(const Instruction& ins, std::optional<StepRoot>& from_root) {
    CopySource src;
    auto from = ins.flag("from");
    if (!from) {
        src.root = UniqueFd(::dup(context_.get()));
        src.ignore = &ignore_;
        src.what = "the build context";
        return src;
    }
    Stage other;
    bool found = false;
    for (size_t i = 0; i < stages_.size() - 1; ++i)
        if (stages_[i].name == sys::ascii_lower(*from) || std::to_string(i) == *from) {
            other = stages_[i];
            found = true;
        }
    if (!found) {
        std::optional<image::Image> img;
        try {
            img = store_.resolve(*from);
        } catch (const Error&) {
            if (!ctx_.pull) throw;
            ctx_.pull(*from);
            img = store_.resolve(*from);
        }
        store_.ensure_snapshots(*img);
        other.adopt(*img);
    }
    from_root.emplace(store_, other);
    src.root = from_root->open_root();
    src.what = fmt::format("--from={}", *from);
    if (sys::rootless()) src.reopen = [r = &*from_root] { return r->open_root_here(); };
    return src;
}

image::Image Builder::commit(const Stage& st, const json& config, const Instruction& ins,
                             const std::optional<std::string>& upper,
                             const image::ChangeFilter& filter) {
    engine::Step s{upper, filter, ins.original, "", ""};
    engine::CommitTarget t{{}, true, o_.layer};
    return engine::commit_image(store_, st.layers, config, s, t);
}

image::Image Builder::run_step(Stage& st, const Instruction& ins) {
    // another platform's RUN runs through the kernel's binfmt_misc emulator, when it has one
    engine::require_runnable(st.platform, fmt::format("RUN for {}", st.platform.str()));
    if (st.layers.empty())
        throw Error("RUN needs a base image with a shell (this stage is FROM scratch)");
    engine::RunOptions ro;
    ro.image = st.manifest;
    ro.entrypoint = "";
    ro.network = o_.network;
    ro.name = fmt::format("{}{}", kStepContainerPrefix, random_hex());
    auto shell = shell_of(st.config);
    std::optional<StepRoot> script_dir;  // a #! heredoc's file, until the step is done
    if (ins.exec_form) {
        ro.command = ins.argv;
    } else {
        // As BuildKit: `RUN <<EOF` alone runs the body by the shell, or, when it starts
        // with "#!", as a program mounted at /dev/pipes/EOF; any other heredoc is the
        // shell's own (`RUN python3 <<EOF`, several, `<<-`, quoted), the bodies put back
        // under the command line.
        std::string script = ins.args;
        bool alone = ins.heredocs.size() == 1 && ins.args == ins.heredocs[0].word;
        if (alone && ins.heredocs[0].content.starts_with("#!")) {
            script_dir.emplace(store_, Stage{});
            write_heredocs(script_dir->merged, {&ins.heredocs[0]}, stage_lookup(st), df_.escape,
                           0755);
            std::string target = fmt::format("/dev/pipes/{}", ins.heredocs[0].name);
            ro.mounts.push_back({"bind",
                                 fmt::format("{}/{}", script_dir->merged, ins.heredocs[0].name),
                                 target,
                                 true,
                                 {},
                                 true});
            script = target;
        } else if (alone) {
            script = ins.heredocs[0].content;
        } else {
            for (auto& h : ins.heredocs) script += fmt::format("\n{}{}", h.content, h.name);
        }
        ro.command = shell;
        ro.command.push_back(script);
    }
    for (auto& [k, v] : st.args)
        if (!env_value(st.config, k)) ro.env.push_back(fmt::format("{}={}", k, v));
    std::fflush(o_.out);
    std::fflush(stdout);
    std::fflush(stderr);
    // the step's output is the build's; -q keeps it out; the tty display reads it from a
    // pipe (joined after the descriptors are restored: the guards run in reverse order)
    UniqueFd saved_out, saved_err;
    std::thread reader;
    sys::ScopeGuard join_reader([&]() noexcept {
        if (reader.joinable()) reader.join();
    });
    if (o_.quiet || o_.out != stdout || progress_->captures_output()) {
        UniqueFd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
        saved_out.reset(::fcntl(1, F_DUPFD_CLOEXEC, 3));
        saved_err.reset(::fcntl(2, F_DUPFD_CLOEXEC, 3));
        if (!o_.quiet && progress_->captures_output()) {
            std::array<int, 2> p{};
            if (::pipe2(p.data(), O_CLOEXEC) != 0) throw_sys("pipe", "RUN output");
            UniqueFd read_end(p[0]);
            UniqueFd write_end(p[1]);
            ::dup2(write_end.get(), 1);
            ::dup2(write_end.get(), 2);
            reader = std::thread([this, fd = std::move(read_end)] {
                std::array<char, 4096> buf{};
                while (true) {
                    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
                    if (n < 0 && errno == EINTR) continue;
                    if (n <= 0) return;
                    progress_->output({buf.data(), static_cast<size_t>(n)});
                }
            });
        } else {
            ::dup2(o_.quiet ? null.get() : ::fileno(o_.out), 1);
            ::dup2(null.get(), 2);
            if (!o_.quiet) ::dup2(::fileno(o_.out), 2);
        }
    }
    auto restore = [&]() noexcept {
        if (saved_out) ::dup2(saved_out.get(), 1);
        if (saved_err) ::dup2(saved_err.get(), 2);
        saved_out.reset();
        saved_err.reset();
    };
    sys::ScopeGuard restore_fds(restore);
    // held until the container is removed (the guards run in reverse order)
    std::string lock_path = owner_lock_path(store_, ro.name);
    sys::FileLock owned(lock_path, sys::FileLock::exclusive);
    sys::ScopeGuard unlink_lock([&]() noexcept { ::unlink(lock_path.c_str()); });
    std::optional<engine::ContainerRecord> rec;
    sys::ScopeGuard remove([&]() noexcept {
        try {
            if (!rec) rec = engine::lookup(ctx_, ro.name);
            engine::remove_container(ctx_, *rec, true);
        } catch (const std::exception& e) {
            log::debug("remove build container {}: {}", ro.name, e.what());
        }
    });
    int code = engine::run_foreground(ctx_, ro);
    restore();
    rec = engine::lookup(ctx_, ro.name);
    if (code != 0) throw Error(fmt::format("RUN returned exit code {}", code));
    engine::RootLayers root = engine::root_layers(store_, *rec);
    return commit(st, st.config, ins, root.upper, root.filter);
}

image::Image Builder::execute(Stage& st, const Instruction& ins, const std::vector<CopyJob>& jobs) {
    const std::string& k = ins.keyword;
    if (k == "RUN") return run_step(st, ins);
    if (k == "ARG") return commit(st, st.config, ins, std::nullopt, {});
    if (k == "COPY" || k == "ADD" || k == "WORKDIR") {
        StepRoot root(store_, st);
        json config = st.config;
        if (k == "WORKDIR") {
            apply_config_instruction(ins, config, stage_lookup(st), df_.escape, st.cfg);
            std::string dir = config["config"]["WorkingDir"].get<std::string>();
            root.write_in([&](int root_fd) { make_dir_in_root(root_fd, dir); });
        } else {
            CopyOwner owner;
            if (auto m = ins.flag("chmod")) {
                size_t used = 0;
                unsigned long v = 0;
                try {
                    v = std::stoul(*m, &used, 8);
                } catch (const std::exception&) {
                    used = 0;
                }
                if (used != m->size() || m->empty() || v > 07777)
                    throw Error(fmt::format("--chmod={}: expected an octal mode", *m));
                owner.chmod = static_cast<mode_t>(v);
            }
            std::optional<std::string> chown;
            if (auto c = ins.flag("chown")) chown = expand_word(*c, stage_lookup(st), df_.escape);
            root.write_in([&](int root_fd) {
                if (chown) {  // a name is the root's own /etc/passwd's
                    size_t colon = chown->find(':');
                    auto u = engine::resolve_user(fmt::format("/proc/self/fd/{}", root_fd), *chown);
                    owner.uid = u.uid;
                    owner.gid = colon == std::string::npos ? u.uid : u.gid;
                    require_mapped(root.filter, owner, *chown);
                }
                for (auto& job : jobs) {
                    if (!sys::rootless()) {
                        apply_copy(job.source, job.plan, root_fd, owner);
                        continue;
                    }
                    // a forked child as a user: a --from root mounted again by it
                    apply_copy(job.source.in_userns(), job.plan, root_fd, owner);
                }
            });
        }
        return commit(st, config, ins, root.upper, root.filter);
    }
    json config = st.config;
    apply_config_instruction(ins, config, stage_lookup(st), df_.escape, st.cfg);
    return commit(st, config, ins, std::nullopt, {});
}

void Builder::copy_jobs(const Stage& st, const Instruction& ins, std::vector<CopyJob>& jobs,
                        std::optional<StepRoot>& from_root, std::optional<StepRoot>& doc_root) {
    // sources and the destination; a heredoc word stands for an inline file
    std::vector<std::string> words;
    std::vector<const Heredoc*> docs;
    bool dest_is_doc = false;
    if (ins.exec_form) {
        words = ins.argv;
    } else if (ins.heredocs.empty()) {
        words = shell_words(ins.args, stage_lookup(st), df_.escape);
    } else {
        for (auto& w : raw_words(ins.args, df_.escape)) {
            auto h = heredoc_word(w);
            dest_is_doc = h.has_value();
            if (!h) {
                words.push_back(expand_word(w, stage_lookup(st), df_.escape));
                continue;
            }
            for (auto& d : ins.heredocs)
                if (d.word == h->word) docs.push_back(&d);
        }
    }
    if (words.size() + docs.size() < 2)
        throw Error(fmt::format("{} requires at least two arguments", ins.keyword));
    if (dest_is_doc)
        throw Error(fmt::format("{} cannot accept a heredoc as a destination", ins.keyword));
    for (auto& w : words)
        if (w.starts_with("http://") || w.starts_with("https://") || w.starts_with("git@"))
            throw Error(
                fmt::format("{} of a URL (\"{}\") is not supported: download it "
                            "in a RUN step or into the build context",
                            ins.keyword, w));
    std::string dest = words.back();
    words.pop_back();
    std::string workdir = "/";
    if (st.config.contains("config") && st.config["config"].is_object() &&
        st.config["config"].contains("WorkingDir") &&
        st.config["config"]["WorkingDir"].is_string() &&
        !st.config["config"]["WorkingDir"].get<std::string>().empty())
        workdir = st.config["config"]["WorkingDir"].get<std::string>();
    std::string abs = dest.starts_with('/') ? dest : fmt::format("{}/{}", workdir, dest);
    bool dest_dir = dest.ends_with('/') || dest == "." || dest.ends_with("/.");
    if (!dest_dir && !st.layers.empty()) dest_dir = dir_in_image(st, abs);
    if (words.size() + docs.size() > 1 && !dest_dir)
        throw Error(
            "When using COPY with more than one source file, the destination must be a "
            "directory and end with a /");
    if (!words.empty()) {
        CopySource source = copy_source(ins, from_root);
        bool add = ins.keyword == "ADD";
        CopyPlan plan;
        if (!source.reopen) {
            plan = plan_copy(source, words, abs, dest_dir, add);
        } else {
            // a user's --from root: as the user, else (a 0600 file of the stage's uid
            // 1000, a subordinate id on the host) from a user namespace with the user's maps
            const engine::RootlessMaps& m = from_root->maps();
            std::string got = engine::as_user_or_container_root(m.uids, m.gids, [&](bool ns) {
                if (!ns) {
                    plan = plan_copy(source, words, abs, dest_dir, add);
                    return std::string();
                }
                return plan_json(plan_copy(source.in_userns(), words, abs, dest_dir, add));
            });
            if (!got.empty()) plan = plan_from_json(got);
        }
        jobs.push_back({std::move(source), std::move(plan)});
    }
    if (!docs.empty()) {
        doc_root.emplace(store_, Stage{});
        write_heredocs(doc_root->merged, docs, stage_lookup(st), df_.escape, 0644);
        CopySource source;
        source.root = doc_root->open_root();
        source.what = "the heredocs";
        std::vector<std::string> names(docs.size());
        std::transform(docs.begin(), docs.end(), names.begin(),
                       [](const Heredoc* d) { return d->name; });
        CopyPlan plan = plan_copy(source, names, abs, dest_dir || docs.size() > 1, false);
        jobs.push_back({std::move(source), std::move(plan)});
    }
}

// Is `abs` a directory in the stage's image (COPY then copies into it)?
bool Builder::dir_in_image(const Stage& st, const std::string& abs) {
    std::vector<UniqueFd> fds;
    image::Image cur = store_.resolve(st.manifest);
    for (auto c = cur.chain_ids.rbegin(); c != cur.chain_ids.rend(); ++c) {
        std::string d = store_.snapshot_dir(*c) + "/fs";
        fds.emplace_back(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fds.back()) throw_sys("open", d);
    }
    std::vector<std::string> comps = image::path_components(abs);
    std::erase(comps, ".");
    auto hit = image::find_in_layers(comps, fds.size(), [&](size_t l, const std::string& p) {
        return image::probe_layer(fds[l].get(), p);
    });
    return hit && (hit->node == image::LayerNode::dir || hit->node == image::LayerNode::opaque_dir);
}

void Builder::step(Stage& st, const Instruction& ins) {
    ++step_;
    progress_->step(step_, steps_, ins.original);
    with_context(fmt::format("{}:{}", df_name_, ins.line), [&] {
        if (ins.keyword == "FROM") {
            from(st, ins);
            return;
        }
        if (ins.keyword == "ADD" || ins.keyword == "COPY") {
            for (auto& f : ins.flags) {
                std::string n = f.substr(
                    2, f.find('=') == std::string::npos ? std::string::npos : f.find('=') - 2);
                if (n != "from" && n != "chown" && n != "chmod" && n != "link")
                    throw Error(fmt::format("{}: unknown flag {}", ins.keyword, f));
            }
        }
        if (ins.keyword == "ARG") declare_arg(st.args, ins, stage_lookup(st), &global_args_);
        // what COPY/ADD copies, for the cache key
        std::vector<CopyJob> jobs;
        std::optional<StepRoot> from_root, doc_root;
        std::string content;
        if (ins.keyword == "COPY" || ins.keyword == "ADD") {
            copy_jobs(st, ins, jobs, from_root, doc_root);
            for (auto& job : jobs) content += job.plan.digest;
        } else if (ins.keyword == "RUN" || ins.keyword == "ONBUILD") {
            for (auto& h : ins.heredocs) content += fmt::format("<<{}\n{}", h.word, h.content);
        }
        std::map<std::string, std::string> args_in_effect = st.args;
        std::string key = cache_key(st.parent_key(), ins.original, args_in_effect, content);
        if (!o_.no_cache) {
            if (auto img = cache_.find(key)) {
                if (ins.keyword == "CMD") st.cfg.cmd_set = true;
                st.adopt(*img);
                progress_->cached();
                progress_->done(short_id(st.id));
                return;
            }
        }
        image::Image img = execute(st, ins, jobs);
        cache_.put(key, img.manifest_digest);
        st.adopt(img);
        progress_->done(short_id(st.id));
    });
}

void Builder::name_result(const Stage& st, BuildResult& res) {
    std::vector<image::ImageRecord> recs;
    oi::Descriptor desc;
    for (auto& r : store_.records())
        if (r.manifest.digest == st.manifest) desc = r.manifest;
    if (desc.digest.empty())  // a platform of an index no record names (loaded, say)
        desc = image::manifest_descriptor(store_, store_.resolve(st.manifest));
    else if (part_)  // one platform of several: its step's entry stands until the index's
        return;
    desc.annotations.clear();
    for (auto& t : o_.tags) {
        image::ImageRecord r;
        r.name = oi::parse_reference(t).str();
        r.manifest = desc;
        res.names.push_back(r.name);
        recs.push_back(std::move(r));
    }
    if (recs.empty()) recs.push_back({"", desc, ""});  // shown as <none> by `husk images`
    if (part_) desc.annotations[std::string(image::kIntermediateAnnotation)] = "true";
    if (part_) recs.assign(1, image::ImageRecord{"", desc, ""});
    store_.add_records(recs);
}

BuildResult Builder::run() {
    std::string df_path = o_.dockerfile.empty() ? o_.context + "/Dockerfile" : o_.dockerfile;
    df_name_ = df_path.substr(df_path.rfind('/') + 1);
    context_ = UniqueFd(::open(o_.context.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!context_) throw_sys("open build context", o_.context);
    std::string text = with_context("read the Dockerfile", [&] { return sys::read_file(df_path); });
    df_ = parse_dockerfile(text, df_name_);
    if (!df_.syntax.empty())
        say(fmt::format("# syntax={} noted: husk builds with its own Dockerfile frontend",
                        df_.syntax));
    if (auto ig = sys::read_file_if_exists(o_.context + "/.dockerignore"))
        ignore_ = IgnoreRules(*ig);
    for (auto& t : o_.tags) oi::parse_reference(t);  // bad names fail before any step

    // BuildKit's predefined platform ARGs: in the global scope, and in a stage once declared
    // (`ARG TARGETARCH`)
    auto platform_args = [&](const char* prefix, const oi::Platform& p) {
        global_args_[fmt::format("{}PLATFORM", prefix)] = p.str();
        global_args_[fmt::format("{}OS", prefix)] = p.os;
        global_args_[fmt::format("{}ARCH", prefix)] = p.architecture;
        global_args_[fmt::format("{}VARIANT", prefix)] = p.variant;
    };
    platform_args("TARGET", o_.platform);
    platform_args("BUILD", oi::host_platform());

    // ARGs before the first FROM, the stages, the steps up to --target
    size_t first_from = 0;
    while (first_from < df_.instructions.size() && df_.instructions[first_from].keyword != "FROM") {
        auto& ins = df_.instructions[first_from];
        if (ins.keyword != "ARG")
            throw Error(
                fmt::format("{}:{}: no build stage in current context (the first "
                            "instruction must be FROM or ARG)",
                            df_name_, ins.line));
        Lookup globals = [&](std::string_view n) -> std::optional<std::string> {
            if (auto it = global_args_.find(std::string(n)); it != global_args_.end())
                return it->second;
            return std::nullopt;
        };
        with_context(fmt::format("{}:{}", df_name_, ins.line),
                     [&] { declare_arg(global_args_, ins, globals, nullptr); });
        ++first_from;
    }
    if (first_from == df_.instructions.size())
        throw Error(fmt::format("{}: no FROM instruction", df_name_));
    std::vector<std::pair<size_t, size_t>> ranges;  // [begin, end) per stage
    for (size_t i = first_from; i < df_.instructions.size(); ++i) {
        if (df_.instructions[i].keyword == "FROM") ranges.emplace_back(i, i);
        ranges.back().second = i + 1;
    }
    size_t last = ranges.size() - 1;
    if (!o_.target.empty()) {
        bool found = false;
        for (size_t s = 0; s < ranges.size() && !found; ++s) {
            auto words = shell_words(
                df_.instructions[ranges[s].first].args,
                [](std::string_view) { return std::nullopt; }, df_.escape);
            if (words.size() == 3 && sys::ascii_lower(words[2]) == sys::ascii_lower(o_.target)) {
                last = s;
                found = true;
            }
        }
        if (!found)
            throw Error(fmt::format("failed to reach build target {} in Dockerfile", o_.target));
    }
    for (size_t s = 0; s <= last; ++s)
        steps_ += static_cast<int>(ranges[s].second - ranges[s].first);

    try {
        for (size_t s = 0; s <= last; ++s) {
            stages_.emplace_back();
            for (size_t i = ranges[s].first; i < ranges[s].second; ++i)
                step(stages_.back(), df_.instructions[i]);
        }
    } catch (...) {
        progress_->finish(false);
        throw;
    }
    progress_->finish(true);
    Stage& final_stage = stages_.back();
    if (!o_.labels.empty() || final_stage.manifest.empty()) {
        json config = final_stage.config;
        for (auto& [k, v] : o_.labels) config["config"]["Labels"][k] = v;
        Instruction label;
        label.keyword = "LABEL";
        label.original = o_.labels.empty() ? "FROM scratch" : "LABEL (--label)";
        final_stage.adopt(commit(final_stage, config, label, std::nullopt, {}));
    }
    BuildResult res;
    res.id = final_stage.id;
    res.manifest_digest = final_stage.manifest;
    name_result(final_stage, res);
    if (part_) return res;
    if (o_.quiet) {
        fmt::print(o_.out, "{}\n", res.id);
    } else {
        say(fmt::format("Successfully built {}", short_id(res.id)));
        for (auto& n : res.names)
            say(fmt::format("Successfully tagged {}", oi::parse_reference(n).familiar_name()));
    }
    return res;
}

}  // namespace

void remove_stale_build_state(engine::EngineContext& ctx) {
    image::Store& store = *ctx.store;
    // Each is removed only when its build's lock is free: that build was killed.
    auto if_orphan = [&](const std::string& id, const char* what, const auto& remove) {
        auto lk = sys::FileLock::try_lock(owner_lock_path(store, id), sys::FileLock::exclusive);
        if (!lk) return;  // a live build's (created, running or being committed)
        try {
            remove();
        } catch (const std::exception& e) {
            log::warn("stale build {} {}: {}", what, id, e.what());
        }
        ::unlink(owner_lock_path(store, id).c_str());
    };
    for (auto& rec : engine::list_containers(ctx))
        if (rec.name.starts_with(kStepContainerPrefix))
            if_orphan(rec.name, "container", [&] { engine::remove_container(ctx, rec, true); });
    // a user's step roots hold files of the container's other ids (COPY --chown): removed
    // from a namespace with the user's maps where the user may not (with the maps of now:
    // a build's are the user's own at the time)
    std::optional<engine::RootlessMaps> maps;
    auto user_maps = [&]() -> const engine::RootlessMaps& {
        if (!maps) maps = step_root_maps();
        return *maps;
    };
    for (auto& name : sys::list_dir(store.root() + "/rootfs"))
        if (name.starts_with(kStepRootPrefix))
            if_orphan(name, "root", [&] {
                engine::release_userns_rootfs(store, name, user_maps().uids, user_maps().gids);
            });
    // in tmp/: step roots' staging directories, and locks a build was killed holding
    // before its container or root existed
    for (auto& name : sys::list_dir(store.tmp_dir())) {
        std::string id = name.ends_with(".lock") ? name.substr(0, name.size() - 5) : name;
        if (id.starts_with(kStepRootPrefix) || (id.starts_with(kStepContainerPrefix) && id != name))
            if_orphan(id, "staging", [&] {
                if (id == name)
                    remove_staging(fmt::format("{}/{}", store.tmp_dir(), name), user_maps());
            });
    }
}

BuildResult build_image(engine::EngineContext& ctx, const BuildOptions& opts) {
    if (ctx.store == nullptr) throw Error("build: no image store");
    auto lock = ctx.store->lock_shared();  // no prune while steps are being made
    remove_stale_build_state(ctx);
    if (opts.platforms.size() < 2) {
        BuildOptions o = opts;
        if (!opts.platforms.empty()) o.platform = opts.platforms.front();
        Builder b(ctx, o);
        return b.run();
    }
    for (auto& t : opts.tags) oi::parse_reference(t);  // bad names fail before any step
    std::vector<image::Image> images;
    for (auto& p : opts.platforms) {
        BuildOptions o = opts;
        o.platform = p;
        if (!opts.quiet) fmt::print(opts.out, "# {}\n", p.str());
        Builder b(ctx, o, true);
        images.push_back(ctx.store->resolve(b.run().manifest_digest));
    }
    std::vector<std::string> names;
    for (auto& t : opts.tags) names.push_back(oi::parse_reference(t).str());
    image::Image img = image::add_index_image(*ctx.store, images, names);
    BuildResult res{img.id, img.manifest_digest, img.index_digest, names};
    if (opts.quiet) {
        fmt::print(opts.out, "{}\n", res.index_digest);
    } else {
        std::vector<std::string> built;
        for (auto& p : opts.platforms) built.push_back(p.str());
        fmt::print(opts.out, "Successfully built index {} ({})\n", short_id(res.index_digest),
                   fmt::join(built, ", "));
        for (auto& n : res.names)
            fmt::print(opts.out, "Successfully tagged {}\n",
                       oi::parse_reference(n).familiar_name());
    }
    return res;
}

}  // namespace husk::build
